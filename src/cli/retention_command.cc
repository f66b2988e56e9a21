// `ritma retention run [--apply]`: what the store may forget, and (with --apply) forgetting it
// safely. Sealed windows older than --max-age lose their files (a signed retention record lists
// them first, FORMAT.md §14); the hot index is rotated by UTC day and by size and its oldest
// rotated files beyond --keep are deleted. A dry run (the default) prints exactly what --apply
// would delete, each file with its bytes.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/number_text.h"
#include "cli/time_text.h"
#include "seal/index_rotation.h"
#include "seal/retention.h"
#include "seal/seal_format.h"
#include "store/node_keys.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct RetentionCliOptions {
  std::string base_dir;
  bool apply = false;
  std::string max_age;
  std::optional<uint64_t> max_size_mb;
  std::optional<uint32_t> keep;
  bool no_daily = false;
  bool json = false;
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "ritma retention run: " << message << "\n";
  throw CLI::RuntimeError(code);
}

void run_retention(const RetentionCliOptions& o) {
  const store::StorePaths paths = store::resolve_store_paths(
      o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
  seal::RetentionOptions ro;
  ro.now_ns = now_ns();
  if (!o.max_age.empty()) {
    const auto age = o.max_age == "0" ? std::optional<int64_t>(0) : parse_duration(o.max_age);
    if (!age || *age < 0)
      fail("invalid --max-age \"" + o.max_age + "\": expected a duration such as 0, 12h, 30d",
           kExitUsage);
    ro.max_age_ns = *age;
    ro.policy = "max-age " + o.max_age;
  }
  if (o.max_size_mb && *o.max_size_mb > (uint64_t{1} << 40))
    fail("--max-size-mb is too large", kExitUsage);
  std::error_code ec;
  if (!std::filesystem::exists(paths.out_dir / seal::kStoreFile, ec))
    fail("no sealed store at " + paths.out_dir.string() + " (" + seal::kStoreFile +
             " missing); pass --base-dir or set RITMA_BASE_DIR",
         kExitUsage);

  auto plan = seal::plan_retention(paths.out_dir, ro);
  if (!plan) fail("nothing was deleted: " + plan.error().message, kExitFailed);

  std::optional<NamedSigningKey> key;
  if (o.apply && !plan->prune.empty()) {
    auto k = store::load_node_signing_key(paths);
    if (!k)
      fail("a retention record is signed with the node key, which cannot be read (" +
               k.error().message + "); run as the user that runs the sensor (root)",
           kExitUsage);
    key = std::move(k).value();
  }
  std::optional<seal::RetentionRecord> written;
  if (o.apply) {
    auto r = seal::apply_retention(paths.out_dir, *plan, ro, *key);
    if (!r) fail(r.error().message, kExitFailed);
    written = std::move(*r);
  }

  // The hot index: optional (a store may be kept without one).
  std::vector<seal::IndexRetentionAction> index_actions;
  std::string index_note;
  if (std::filesystem::exists(paths.index_db, ec)) {
    seal::IndexRetentionOptions io;
    if (o.max_size_mb) io.max_size_bytes = *o.max_size_mb * 1024 * 1024;
    io.rotate_daily = !o.no_daily;
    io.keep = o.keep;
    io.apply = o.apply;
    io.now_ns = ro.now_ns;
    auto r = seal::run_index_retention(paths, io);
    if (!r) fail("hot index: " + r.error().message, kExitFailed);
    index_actions = std::move(*r);
  } else {
    index_note = "no hot index at " + paths.index_db.string() + ": nothing to rotate";
  }

  const char* verb = o.apply ? "deleted" : "would delete";
  if (o.json) {
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& p : plan->prune) {
      nlohmann::json files = nlohmann::json::array();
      for (const auto& f : p.files) files.push_back({{"file", f.rel}, {"bytes", f.bytes}});
      windows.push_back({{"log_index", p.window.log_index},
                         {"window", p.window.stem_path},
                         {"events", p.window.event_count},
                         {"min_wall_ns", p.window.min_wall_ns},
                         {"max_wall_ns", p.window.max_wall_ns},
                         {"bytes", p.window.deleted_bytes},
                         {"files", files}});
    }
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& k : plan->kept)
      kept.push_back({{"log_index", k.log_index}, {"window", k.stem_path}, {"why", k.why}});
    nlohmann::json leftovers = nlohmann::json::array();
    for (const auto& f : plan->leftovers)
      leftovers.push_back({{"file", f.rel}, {"bytes", f.bytes}});
    nlohmann::json index = nlohmann::json::array();
    for (const auto& a : index_actions)
      index.push_back({{"kind", a.kind},
                       {"path", a.path.string()},
                       {"bytes", a.bytes},
                       {"events", a.events},
                       {"reason", a.reason},
                       {"done", a.done}});
    nlohmann::json j{
        {"applied", o.apply},
        {"policy", ro.policy},
        {"checkpoint_size", plan->checkpoint.tree_size},
        {"log_records", plan->log_records},
        {"already_pruned", plan->already_pruned},
        {"windows", windows},
        {"leftovers", leftovers},
        {"kept", kept},
        {"window_bytes", plan->bytes()},
        {"retention_record",
         written ? nlohmann::json(seal::retention_path(written->index)) : nlohmann::json(nullptr)},
        {"index", index}};
    if (!index_note.empty()) j["index_note"] = index_note;
    std::cout << j.dump(2) << "\n";
    return;
  }

  std::cout << (o.apply ? "retention run" : "retention dry run (nothing is deleted; --apply acts)")
            << " on " << paths.out_dir.string() << "\n";
  if (!ro.max_age_ns) {
    std::cout << "windows: no --max-age given, no sealed window expires\n";
  } else {
    std::cout << "windows: " << ro.policy << ", older than "
              << seal::utc_rfc3339(ro.now_ns - *ro.max_age_ns, 0) << "; "
              << with_commas(plan->log_records) << " in the window log, "
              << with_commas(plan->checkpoint.tree_size) << " sealed (checkpoint), "
              << with_commas(plan->already_pruned) << " pruned before\n";
  }
  for (const auto& p : plan->prune) {
    std::cout << verb << " window " << p.window.stem_path << " (log index " << p.window.log_index
              << ", " << with_commas(p.window.event_count) << " events, "
              << with_commas(p.window.deleted_bytes) << " bytes)\n";
    for (const auto& f : p.files)
      std::cout << "  " << verb << " " << f.rel << " " << with_commas(f.bytes) << " bytes\n";
  }
  for (const auto& f : plan->leftovers)
    std::cout << verb << " " << f.rel << " " << with_commas(f.bytes)
              << " bytes (left by an interrupted run; its retention record exists)\n";
  for (const auto& k : plan->kept)
    std::cout << "kept " << k.stem_path << " (log index " << k.log_index << "): " << k.why << "\n";
  std::cout << "windows total: " << with_commas(plan->prune.size()) << " window(s), "
            << with_commas(plan->bytes()) << " bytes " << (o.apply ? "deleted" : "to delete")
            << "\n";
  if (written)
    std::cout << "retention record: " << seal::retention_path(written->index)
              << " (signed; `ritma verify --store` reports the range as pruned by retention)\n";
  if (!index_note.empty()) std::cout << "hot index: " << index_note << "\n";
  for (const auto& a : index_actions) {
    if (a.kind == "rotate") {
      std::cout << "hot index: " << (a.done ? "rotated " : "would rotate ") << with_commas(a.events)
                << " sealed events (" << with_commas(a.bytes) << " bytes) into " << a.path.string()
                << ": " << a.reason << "\n";
    } else {
      std::cout << "hot index: " << (a.done ? "deleted " : "would delete ") << a.path.string()
                << " " << with_commas(a.bytes) << " bytes (" << with_commas(a.events)
                << " events, all sealed): " << a.reason << "\n";
    }
  }
  if (index_actions.empty() && index_note.empty())
    std::cout << "hot index: nothing to rotate or delete\n";
}

}  // namespace

void register_retention_command(CLI::App& app) {
  auto opts = std::make_shared<RetentionCliOptions>();
  CLI::App* ret = app.add_subcommand(
      "retention", "What the store may forget: sealed windows by age, hot index files by size");
  ret->require_subcommand(1);
  CLI::App* cmd = ret->add_subcommand(
      "run",
      "Expire sealed windows older than --max-age (never one a case froze, never one not yet "
      "sealed; a signed retention record lists them first, so `ritma verify --store` still "
      "passes), rotate the hot index by UTC day and --max-size-mb, keep --keep rotated index "
      "files. A dry run unless --apply. Exit 0 done, 1 refused (nothing deleted) or failed, 2 "
      "usage");
  cmd->add_flag("--apply", opts->apply, "Delete (default: only print what would be deleted)");
  cmd->add_option("--max-age", opts->max_age,
                  "Expire sealed windows that ended longer ago than this (0, 12h, 30d); "
                  "default: none expire");
  cmd->add_option("--max-size-mb", opts->max_size_mb,
                  "Rotate the hot index when its used pages exceed this many MiB");
  cmd->add_option("--keep", opts->keep, "Rotated hot index files to keep (the oldest go)");
  cmd->add_flag("--no-daily", opts->no_daily,
                "Do not rotate the hot index's completed UTC days into their own files");
  cmd->add_option("--base-dir", opts->base_dir,
                  "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  cmd->add_flag("--json", opts->json, "Print the plan (or what was done) as one JSON object");
  cmd->callback([opts] { run_retention(*opts); });
}

}  // namespace ritma::cli
