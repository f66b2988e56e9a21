// Sensor configuration parsing and digest.
#include "sensor/sensor_config.h"

#include <bit>

#include "core/blake3_hasher.h"
#include "core/durable_file.h"

namespace ritma::sensor {

Status apply_config_file(const std::filesystem::path& path, SensorConfig& c) {
  RITMA_ASSIGN_OR_RETURN(Bytes text, read_file(path, 1 << 20));
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return make_error(path.string() + ": not valid JSON");
  if (!j.is_object()) return make_error(path.string() + ": expected a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    auto bad = [&](const char* want) {
      return make_error(path.string() + ": \"" + key + "\" must be " + want);
    };
    auto uint_in = [&](uint64_t lo, uint64_t hi, uint64_t& out) -> Status {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) {
        return bad(("an integer from " + std::to_string(lo) + " to " + std::to_string(hi)).c_str());
      }
      out = v.get<uint64_t>();
      return {};
    };
    uint64_t n = 0;
    if (key == "node_id") {
      if (!v.is_string()) return bad("a string");
      c.node_id = v.get<std::string>();
    } else if (key == "base_dir") {
      if (!v.is_string()) return bad("a string");
      c.base_dir = v.get<std::string>();
    } else if (key == "ringbuf_mb") {
      RITMA_TRY(uint_in(1, 1024, n));
      c.ringbuf_mb = static_cast<uint32_t>(n);
    } else if (key == "readonly_opens") {
      if (!v.is_string()) return bad("a string");
      c.readonly_opens = v.get<std::string>();
    } else if (key == "readonly_skip_prefixes") {
      if (!v.is_array()) return bad("an array of strings");
      c.readonly_skip_prefixes.clear();
      for (const auto& p : v) {
        if (!p.is_string()) return bad("an array of strings");
        c.readonly_skip_prefixes.push_back(p.get<std::string>());
      }
    } else if (key == "flush_interval_ms") {
      RITMA_TRY(uint_in(10, 60000, n));
      c.flush_interval_ms = static_cast<uint32_t>(n);
    } else if (key == "status_interval_s") {
      RITMA_TRY(uint_in(0, 3600, n));
      c.status_interval_s = static_cast<uint32_t>(n);
    } else if (key == "window_s") {
      RITMA_TRY(uint_in(1, 3600, n));
      c.window_s = static_cast<uint32_t>(n);
    } else if (key == "zstd_level") {
      RITMA_TRY(uint_in(1, 19, n));
      c.zstd_level = static_cast<uint32_t>(n);
    } else if (key == "privacy") {
      if (!v.is_string()) return bad("a string");
      c.privacy = v.get<std::string>();
    } else {
      return make_error(path.string() + ": unknown key \"" + key + "\"");
    }
  }
  return validate(c);
}

Status validate(const SensorConfig& c) {
  if (c.readonly_opens != "none" && c.readonly_opens != "all" && c.readonly_opens != "skip-noisy") {
    return make_error("readonly_opens must be none, all or skip-noisy (got \"" + c.readonly_opens +
                      "\")");
  }
  if (!std::has_single_bit(c.ringbuf_mb)) {
    return make_error("ringbuf_mb must be a power of two (got " + std::to_string(c.ringbuf_mb) +
                      ")");
  }
  if (c.ringbuf_bytes_override != 0 &&
      (!std::has_single_bit(c.ringbuf_bytes_override) || c.ringbuf_bytes_override < 4096)) {
    return make_error("ring buffer bytes must be a power of two of at least 4096");
  }
  if (c.window_s == 0 || 3600 % c.window_s != 0)
    return make_error("window_s must divide 3600 (e.g. 5, 10, 30, 60; got " +
                      std::to_string(c.window_s) + ")");
  if (c.privacy != "raw" && c.privacy != "hash-only")
    return make_error("privacy must be raw or hash-only (got \"" + c.privacy + "\")");
  if (c.readonly_skip_prefixes.size() > 8) return make_error("at most 8 readonly_skip_prefixes");
  for (const auto& p : c.readonly_skip_prefixes) {
    if (p.empty() || p.size() > 32)
      return make_error("a readonly skip prefix must be 1 to 32 bytes");
  }
  return {};
}

nlohmann::json to_json(const SensorConfig& c) {
  return nlohmann::json{{"node_id", c.node_id},
                        {"base_dir", c.base_dir.string()},
                        {"ringbuf_mb", c.ringbuf_mb},
                        {"ringbuf_bytes_override", c.ringbuf_bytes_override},
                        {"readonly_opens", c.readonly_opens},
                        {"readonly_skip_prefixes", c.readonly_skip_prefixes},
                        {"flush_interval_ms", c.flush_interval_ms},
                        {"status_interval_s", c.status_interval_s},
                        {"window_s", c.window_s},
                        {"privacy", c.privacy},
                        {"zstd_level", c.zstd_level}};
}

std::string config_digest(const SensorConfig& c) {
  // nlohmann's objects keep keys sorted, so dump() is a canonical text for these values.
  const std::string text = "ritma-sensor-config@1\n" + to_json(c).dump();
  return to_hex(blake3(as_bytes(text)));
}

}  // namespace ritma::sensor
