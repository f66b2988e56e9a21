// Sensor status file.
#include "sensor/sensor_status.h"

#include <time.h>

#include <nlohmann/json.hpp>

#include "core/durable_file.h"

namespace ritma::sensor {

std::filesystem::path status_file_path(const store::StorePaths& paths) {
  return paths.base_dir / "sensor.status.json";
}

Status write_status(const std::filesystem::path& path, SensorStatus s) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  s.updated_wall_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  const nlohmann::json j = {{"pid", s.pid},
                            {"run_id", s.run_id},
                            {"node_id", s.node_id},
                            {"events", s.events},
                            {"events_per_second", s.events_per_second},
                            {"lost", s.lost},
                            {"filtered", s.filtered},
                            {"undecodable", s.undecodable},
                            {"next_seq", s.next_seq},
                            {"updated_wall_ns", s.updated_wall_ns}};
  const std::string text = j.dump(2) + "\n";
  return atomic_write_file(path, as_bytes(text), 0644);
}

Result<SensorStatus> read_status(const std::filesystem::path& path) {
  RITMA_ASSIGN_OR_RETURN(Bytes text, read_file(path, 1 << 16));
  const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(path.string() + ": not a status file");
  SensorStatus s;
  try {
    s.pid = j.at("pid").get<pid_t>();
    s.run_id = j.at("run_id").get<int64_t>();
    s.node_id = j.at("node_id").get<std::string>();
    s.events = j.at("events").get<uint64_t>();
    s.events_per_second = j.at("events_per_second").get<double>();
    s.lost = j.at("lost").get<uint64_t>();
    s.filtered = j.at("filtered").get<uint64_t>();
    s.undecodable = j.at("undecodable").get<uint64_t>();
    s.next_seq = j.at("next_seq").get<uint64_t>();
    s.updated_wall_ns = j.at("updated_wall_ns").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(path.string() + ": malformed status file: " + e.what());
  }
  return s;
}

}  // namespace ritma::sensor
