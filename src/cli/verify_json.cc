// The verification report as JSON: what `ritma verify --json` prints and the viewer serves.
#include "cli/verify_json.h"

#include "seal/seal_format.h"

namespace ritma::cli {

namespace {

template <typename T>
nlohmann::json opt_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json verify_report_to_json(const seal::VerifyReport& r) {
  nlohmann::json j;
  j["ok"] = r.ok();
  j["result"] = r.ok() ? "verified" : "invalid";
  j["store"] = r.out_dir.string();
  j["node_id"] = r.node_id;
  j["store_id"] = r.store_id;
  j["window_ns"] = r.window_ns;
  j["pinned"] = r.pinned;
  j["pinned_fingerprint"] =
      r.pinned_fingerprint.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.pinned_fingerprint);
  j["signer"] = {{"name", r.signer_name}, {"fingerprint", r.signer_fingerprint}};
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : r.keys) {
    keys.push_back({{"name", k.name},
                    {"fingerprint", k.fingerprint},
                    {"valid_from_ns", k.valid_from_ns},
                    {"valid_until_ns", opt_json(k.valid_until_ns)},
                    {"trusted", k.trusted},
                    {"pinned", k.pinned},
                    {"signatures", k.signatures}});
  }
  j["keys"] = keys;
  j["range"] = r.range_limited
                   ? nlohmann::json{{"from_ns", opt_json(r.from_ns)}, {"to_ns", opt_json(r.to_ns)}}
                   : nlohmann::json(nullptr);
  j["log_records"] = r.log_records;
  j["windows"] = r.windows;
  j["empty_windows"] = r.empty_windows;
  j["blocks"] = r.blocks;
  j["zstd_bytes"] = r.zstd_bytes;
  j["raw_bytes"] = r.raw_bytes;
  j["events"] = r.events;
  j["loss_events"] = r.loss_events;
  j["lost_records"] = r.lost_records;
  j["filtered_records"] = r.filtered_records;
  j["first_seq"] = opt_json(r.first_seq);
  j["last_seq"] = opt_json(r.last_seq);
  j["min_wall_ns"] = opt_json(r.min_wall_ns);
  j["max_wall_ns"] = opt_json(r.max_wall_ns);
  j["checkpoints"] = r.checkpoints;
  j["checkpoints_consistent"] = r.checkpoints_consistent;
  j["hours_closed"] = r.hours_closed;
  j["unsealed_tail"] = r.unsealed_tail;
  nlohmann::json unsealed = nlohmann::json::array();
  for (const auto& u : r.unsealed) {
    unsealed.push_back(
        {{"kind", u.kind},
         {"file", u.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.file)},
         {"window", u.window.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.window)},
         {"run_id", opt_json(u.run_id)},
         {"first_seq", opt_json(u.first_seq)},
         {"last_seq", opt_json(u.last_seq)},
         {"message", u.message}});
  }
  j["unsealed"] = unsealed;
  j["pruned_windows"] = r.pruned_windows;
  j["pruned_events"] = r.pruned_events;
  nlohmann::json pruned = nlohmann::json::array();
  for (const auto& x : r.pruned) {
    pruned.push_back(
        {{"record", x.record},
         {"time_ns", x.time_ns},
         {"time", seal::utc_rfc3339(x.time_ns, 9)},
         {"policy", x.policy},
         {"windows", x.windows},
         {"events", x.events},
         {"first_log_index", x.first_log_index},
         {"last_log_index", x.last_log_index},
         {"from_ns", opt_json(x.from_ns)},
         {"to_ns", opt_json(x.to_ns)},
         {"deleted_bytes", x.deleted_bytes},
         {"message", "range pruned by retention at " + seal::utc_rfc3339(x.time_ns, 3)}});
  }
  j["pruned"] = pruned;
  j["last_run_id"] = opt_json(r.last_run_id);
  j["sealed_end_seq"] = opt_json(r.sealed_end_seq);
  j["elapsed_seconds"] = r.elapsed_seconds;
  j["events_per_second"] = r.events_per_second;
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : r.problems) {
    problems.push_back(
        {{"file", p.file},
         {"window", p.window.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.window)},
         {"log_index", opt_json(p.log_index)},
         {"seq", opt_json(p.seq)},
         {"message", p.message},
         {"text", p.to_string()}});
  }
  j["problems"] = problems;
  j["problems_omitted"] = r.problems_omitted;
  j["notes"] = r.notes;
  return j;
}

}  // namespace ritma::cli
