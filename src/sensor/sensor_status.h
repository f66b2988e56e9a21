// The sensor's status file: a small JSON document the running sensor rewrites atomically every
// two seconds (and once more when it stops), read by `ritma status`. Liveness is not taken
// from it: `ritma status` asks the single-writer lock who holds it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.h"
#include "store/store_layout.h"

namespace ritma::sensor {

struct SensorStatus {
  pid_t pid = 0;  // 0 once the sensor has stopped
  int64_t run_id = 0;
  std::string node_id;
  uint64_t events = 0;
  double events_per_second = 0;
  uint64_t lost = 0;
  uint64_t filtered = 0;
  uint64_t undecodable = 0;
  uint64_t next_seq = 0;
  int64_t updated_wall_ns = 0;  // set by write_status
};

std::filesystem::path status_file_path(const store::StorePaths& paths);
Status write_status(const std::filesystem::path& path, SensorStatus status);
Result<SensorStatus> read_status(const std::filesystem::path& path);

}  // namespace ritma::sensor
