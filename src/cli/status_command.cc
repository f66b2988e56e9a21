// `ritma status`: whether the sensor is running (asked of its lock, not guessed from a file),
// how fast it records, what it lost, and how big the hot index is.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/unique_fd.h"
#include "sensor/sensor_status.h"
#include "store/hot_index.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

struct StatusOptions {
  std::string base_dir;
  std::string node_id;
  bool json = false;
};

// The pid holding the sensor's lock, or 0 when nobody holds it (or it cannot be read).
pid_t lock_holder(const std::filesystem::path& lock_file) {
  UniqueFd fd(open(lock_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  if (flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return 0;  // free: nobody is writing
  char buf[32] = {};
  if (pread(fd.get(), buf, sizeof buf - 1, 0) <= 0) return -1;
  return static_cast<pid_t>(std::strtol(buf, nullptr, 10));
}

}  // namespace

void register_status_command(CLI::App& app) {
  auto opts = std::make_shared<StatusOptions>();
  CLI::App* cmd =
      app.add_subcommand("status", "Is the sensor running, its event rate, losses, index size");
  cmd->add_option("--base-dir", opts->base_dir,
                  "Store base directory (default $RITMA_BASE_DIR or /var/lib/ritma)");
  cmd->add_option("--node-id", opts->node_id, "Node id (default $RITMA_NODE_ID or derived)");
  cmd->add_flag("--json", opts->json, "Print JSON");
  cmd->callback([opts] {
    const store::StorePaths paths = store::resolve_store_paths(
        opts->base_dir.empty() ? std::nullopt
                               : std::optional<std::filesystem::path>(opts->base_dir));
    auto node = store::resolve_node_id(
        opts->node_id.empty() ? std::nullopt : std::optional<std::string>(opts->node_id));
    nlohmann::json j;
    pid_t holder = 0;
    if (node.ok()) {
      j["node_id"] = node->id;
      holder = lock_holder(paths.lock_dir / ("ritma-sensor." + node->id + ".lock"));
    }
    j["running"] = holder != 0;
    if (holder > 0) j["pid"] = holder;
    auto status = sensor::read_status(sensor::status_file_path(paths));
    if (status.ok()) {
      j["run_id"] = status->run_id;
      j["events"] = status->events;
      j["events_per_second"] = holder != 0 ? status->events_per_second : 0.0;
      j["lost"] = status->lost;
      j["filtered"] = status->filtered;
      j["undecodable"] = status->undecodable;
      j["status_updated_wall_ns"] = status->updated_wall_ns;
    }
    auto index = store::HotIndex::open_reader(paths.index_db);
    j["index_path"] = paths.index_db.string();
    if (index.ok()) {
      auto st = index->stats();
      if (st.ok()) {
        j["index_rows"] = st->rows;
        j["index_bytes"] = st->db_bytes + st->wal_bytes;
      }
    }
    if (opts->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    if (holder > 0) {
      std::cout << "sensor:       running (pid " << holder << ")\n";
    } else if (holder < 0) {
      std::cout << "sensor:       running (pid unknown)\n";
    } else {
      std::cout << "sensor:       not running\n";
    }
    if (j.contains("node_id"))
      std::cout << "node:         " << j["node_id"].get<std::string>() << "\n";
    if (status.ok()) {
      char line[256];
      std::snprintf(line, sizeof line,
                    "events:       %llu recorded in run %lld (%.0f/s)\nlosses:       %llu lost "
                    "(each sealed as a loss event), %llu filtered by policy, %llu undecodable\n",
                    static_cast<unsigned long long>(status->events),
                    static_cast<long long>(status->run_id),
                    holder != 0 ? status->events_per_second : 0.0,
                    static_cast<unsigned long long>(status->lost),
                    static_cast<unsigned long long>(status->filtered),
                    static_cast<unsigned long long>(status->undecodable));
      std::cout << line;
    }
    if (j.contains("index_rows")) {
      std::cout << "hot index:    " << paths.index_db.string() << ", "
                << j["index_rows"].get<int64_t>() << " events, "
                << j["index_bytes"].get<int64_t>() / 1024 << " KiB\n";
    } else {
      std::cout << "hot index:    none at " << paths.index_db.string()
                << " (start the sensor: ritma-sensor)\n";
    }
  });
}

}  // namespace ritma::cli
