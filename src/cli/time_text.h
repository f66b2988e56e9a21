// Times and durations typed on the command line (--since, --from, --to, --at).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ritma::cli {

inline constexpr const char* kTimeFormats =
    "expected RFC 3339 (2026-11-22T03:12:00Z, 2026-11-22T04:12:00.250+01:00), Unix epoch "
    "seconds (1795316000, 1795316000.25), Unix nanoseconds, \"now\", or a duration before now "
    "(10m, 1h30m)";

// A duration such as 30s, 10m, 1h, 2d or 1h30m, in nanoseconds.
std::optional<int64_t> parse_duration(std::string_view s);

// A time as Unix nanoseconds: RFC 3339 date-time (2026-11-22T03:12:00Z, ...+01:00; 't', 'z'
// and a space for 'T' as RFC 3339 §5.6 allows), Unix seconds with an optional fraction,
// Unix nanoseconds (more than 10 digits), "now", or a duration before now (10m, 1h30m).
std::optional<int64_t> parse_time(std::string_view s);

int64_t now_ns();

}  // namespace ritma::cli
