#include "cli/time_text.h"

#include <chrono>
#include <cstdint>

namespace ritma::cli {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits of a fraction of a second ("25" of ".25") as nanoseconds; at most 9 digits.
std::optional<int64_t> fraction_ns(std::string_view digits) {
  if (!all_digits(digits) || digits.size() > 9) return std::nullopt;
  int64_t ns = 0;
  for (size_t i = 0; i < 9; ++i) ns = ns * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  return ns;
}

std::optional<int64_t> parse_uint(std::string_view s, size_t max_digits) {
  if (!all_digits(s) || s.size() > max_digits) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::optional<int64_t> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i || j == s.size()) return std::nullopt;
    const auto n = parse_uint(s.substr(i, j - i), 9);
    if (!n) return std::nullopt;
    int64_t unit = 0;
    switch (s[j]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return std::nullopt;
    }
    total += *n * unit;
    if (total > 100LL * 365 * 86400) return std::nullopt;  // beyond any index's reach
    i = j + 1;
  }
  return total * 1000000000LL;
}

std::optional<int64_t> parse_time(std::string_view s) {
  if (s == "now") return now_ns();
  // Unix nanoseconds: more digits than epoch seconds have until the year 2286.
  if (all_digits(s) && s.size() > 10) return parse_uint(s, 19);
  // Epoch seconds with an optional fraction.
  const size_t dot = s.find('.');
  if (all_digits(s.substr(0, dot)) && s.substr(0, dot).size() <= 10) {
    const auto secs = parse_uint(s.substr(0, dot), 10);
    std::optional<int64_t> frac = 0;
    if (dot != std::string_view::npos) frac = fraction_ns(s.substr(dot + 1));
    if (!secs || !frac) return std::nullopt;
    return *secs * 1000000000LL + *frac;
  }
  // A duration before now.
  if (const auto d = parse_duration(s)) return now_ns() - *d;
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); RFC 3339 §5.6 also allows 't', 'z' and a
  // space for 'T'.
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  const auto year = parse_uint(s.substr(0, 4), 4);
  const auto month = parse_uint(s.substr(5, 2), 2);
  const auto day = parse_uint(s.substr(8, 2), 2);
  const auto hour = parse_uint(s.substr(11, 2), 2);
  const auto minute = parse_uint(s.substr(14, 2), 2);
  const auto second = parse_uint(s.substr(17, 2), 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    const auto f = fraction_ns(s.substr(i + 1, j - i - 1));
    if (!f) return std::nullopt;
    frac = *f;
    i = j;
  }
  int64_t offset = 0;
  const std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const auto oh = parse_uint(zone.substr(1, 2), 2);
    const auto om = parse_uint(zone.substr(4, 2), 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset = (*oh * 3600 + *om * 60) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(*year)),
                                        std::chrono::month(static_cast<unsigned>(*month)),
                                        std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  const int64_t secs = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
  // Unix nanoseconds in int64 reach from 1677 to 2262.
  if (secs <= -9223372036LL || secs >= 9223372035LL) return std::nullopt;
  return secs * 1000000000LL + frac;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace ritma::cli
