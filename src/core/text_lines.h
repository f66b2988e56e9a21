// Small text helpers for reading kernel interfaces (/proc, /sys) line by line.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ritma {

// `s` without leading spaces/tabs and trailing spaces/tabs/newlines.
inline std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

// The first line of a file, trimmed; "" when it cannot be read.
inline std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return trim(line);
}

inline bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

inline std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace ritma
