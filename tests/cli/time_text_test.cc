#include "cli/time_text.h"

#include <gtest/gtest.h>

namespace ritma::cli {
namespace {

TEST(TimeText, UnixNanosecondsOfToday) {
  // 19 digits: every instant since 2001-09-09 in ns.
  EXPECT_EQ(parse_time("1796052835496194216"), 1796052835496194216);
  EXPECT_EQ(parse_time("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_time("9223372036854775808"), std::nullopt);  // beyond int64
  EXPECT_EQ(parse_time("99999999999999999999"), std::nullopt);
}

TEST(TimeText, SecondsAndRfc3339) {
  EXPECT_EQ(parse_time("1795316000"), 1795316000LL * 1'000'000'000);
  EXPECT_EQ(parse_time("1795316000.25"), 1795316000LL * 1'000'000'000 + 250'000'000);
  EXPECT_EQ(parse_time("2026-11-22T03:12:00Z"), 1795317120LL * 1'000'000'000);
  EXPECT_EQ(parse_time("not a time"), std::nullopt);
  EXPECT_EQ(parse_time(""), std::nullopt);
}

}  // namespace
}  // namespace ritma::cli
