// Helpers shared by the tests: temporary directories, running programs, reading files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/bytes.h"

namespace ritma::test {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv[0] with argv (no shell), with extra environment entries "K=V" added, and
// captures stdout and stderr.
RunResult run_program(const std::vector<std::string>& argv,
                      const std::vector<std::string>& env = {});

Bytes read_file_bytes(const std::filesystem::path& p);
void write_file_bytes(const std::filesystem::path& p, ByteSpan b);

// True when tests must not skip for missing privileges (CI=true).
bool in_ci();

}  // namespace ritma::test
