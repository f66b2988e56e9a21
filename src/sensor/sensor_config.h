// ritma-sensor's configuration: defaults, an optional JSON config file, then the deployment
// environment (RITMA_NODE_ID, RITMA_BASE_DIR, INDEX_DB_PATH, RITMA_SIDECAR_LOCK_DIR), then
// command-line flags, each overriding the one before. The effective configuration has a
// digest that the run record carries, so a verifier knows what the sensor was told to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace ritma::sensor {

struct SensorConfig {
  std::string node_id;                        // empty: from the environment or /etc/machine-id
  std::filesystem::path base_dir;             // empty: RITMA_BASE_DIR or /var/lib/ritma
  uint32_t ringbuf_mb = 16;                   // BPF ring buffer size (MiB, power of two)
  std::string readonly_opens = "skip-noisy";  // "none" | "all" | "skip-noisy"
  std::vector<std::string> readonly_skip_prefixes = {
      "/proc/",           "/sys/",      "/dev/", "/usr/lib/", "/lib/", "/usr/share/",
      "/etc/ld.so.cache", "/usr/lib64/"};
  uint32_t flush_interval_ms = 200;     // hot-index batch interval
  uint32_t status_interval_s = 10;      // progress line on stderr; 0 = quiet
  uint64_t ringbuf_bytes_override = 0;  // tests only: exact ring buffer bytes (power of two)
  uint32_t window_s = 10;               // sealing micro-window; divides 3600 (new stores only)
  std::string privacy = "raw";          // "raw" | "hash-only" (strings keyed-hashed)
  uint32_t zstd_level = 3;              // block compression: higher is smaller and slower
};

// Reads a JSON object whose keys are SensorConfig's fields; unknown keys, wrong types and
// out-of-range values are errors naming the key.
Status apply_config_file(const std::filesystem::path& path, SensorConfig& config);
Status validate(const SensorConfig& config);
nlohmann::json to_json(const SensorConfig& config);
// BLAKE3 of the canonical JSON of the effective configuration, hex.
std::string config_digest(const SensorConfig& config);

}  // namespace ritma::sensor
