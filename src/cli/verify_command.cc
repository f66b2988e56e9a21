// `ritma verify --store`: recompute every hash and check every signature of the sealed store
// (docs/FORMAT.md §10.14) and say what, if anything, does not match, naming the file, the
// window and the event.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/number_text.h"
#include "cli/time_text.h"
#include "cli/verify_json.h"
#include "seal/proofpack.h"
#include "seal/seal_format.h"
#include "seal/store_verifier.h"
#include "seal/unsealed_tail.h"
#include "store/hot_index.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotPinned = 3;

struct VerifyCliOptions {
  bool store = false;
  std::string bundle;
  std::string base_dir;
  std::string key;
  std::string from;
  std::string to;
  bool json = false;
  bool quiet = false;
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "ritma verify: " << message << "\n";
  throw CLI::RuntimeError(code);
}

int64_t parse_time_or_fail(const char* option, const std::string& text) {
  const auto t = parse_time(text);
  if (!t) fail(std::string("invalid ") + option + " \"" + text + "\": " + kTimeFormats, kExitUsage);
  return *t;
}

// `pack`: the report is of a ProofPack (its windows linked to the newest checkpoint by paths).
void print_human(const seal::VerifyReport& r, bool pack = false) {
  const uint64_t total_problems = r.problems.size() + r.problems_omitted;
  std::cout << (pack ? "evidence:     node " : "store:        " + r.out_dir.string() + " (node ")
            << r.node_id << ", store " << r.store_id << (pack ? "\n" : ")\n");
  std::cout << "result:       "
            << (r.ok() ? "VERIFIED" : "INVALID: " + std::to_string(total_problems) + " problem(s)")
            << "\n";
  if (r.pinned) {
    std::cout << "key:          " << r.signer_name << " " << r.signer_fingerprint
              << " (pinned with --key)\n";
  } else if (!r.pinned_fingerprint.empty()) {
    std::cout << "key:          the pinned key " << r.pinned_fingerprint
              << " is not one of the store's keys\n";
  } else {
    std::cout << "key:          " << r.signer_name << " " << r.signer_fingerprint
              << " NOT pinned: this proves consistency, not origin; pass --key FINGERPRINT "
                 "(from `ritma keys show` on a trusted copy)\n";
  }
  if (r.keys.size() > 1) {
    for (const auto& k : r.keys)
      std::cout << "              " << k.name << " " << k.fingerprint << " from "
                << seal::utc_rfc3339(k.valid_from_ns, 3)
                << (k.valid_until_ns ? " until " + seal::utc_rfc3339(*k.valid_until_ns, 3)
                                     : " (current)")
                << (k.trusted ? "" : " NOT trusted") << "\n";
  }
  if (r.range_limited) {
    std::cout << "range:        " << (r.from_ns ? seal::utc_rfc3339(*r.from_ns, 3) : "start")
              << " .. " << (r.to_ns ? seal::utc_rfc3339(*r.to_ns, 3) : "end") << "\n";
  }
  std::cout << "windows:      " << with_commas(r.windows) << " verified ("
            << with_commas(r.empty_windows) << " empty) of " << with_commas(r.log_records)
            << (pack ? " windows in the log at the newest checkpoint, " : " in the window log, ")
            << with_commas(r.blocks) << " blocks\n";
  std::cout << "events:       " << with_commas(r.events);
  if (r.first_seq) std::cout << " (seq " << *r.first_seq << ".." << *r.last_seq << ")";
  std::cout << "; " << with_commas(r.loss_events) << " loss events recording "
            << with_commas(r.lost_records) << " lost records; " << with_commas(r.filtered_records)
            << " filtered\n";
  if (r.min_wall_ns)
    std::cout << "time:         " << seal::utc_rfc3339(*r.min_wall_ns, 3) << " .. "
              << seal::utc_rfc3339(*r.max_wall_ns, 3) << "\n";
  std::cout << "checkpoints:  " << with_commas(r.checkpoints)
            << (!r.checkpoints_consistent ? ""
                : pack ? " signed, each consistent with the next (RFC 9162 proofs), every "
                         "window included in the newest"
                       : ", every one the root of the one recomputed window-log tree (so each "
                         "is consistent with the next)")
            << "\n";
  std::cout << "hours closed: " << with_commas(r.hours_closed)
            << " (hour roots and chain links recomputed)\n";
  for (const auto& x : r.pruned) {
    std::cout << "pruned:       range pruned by retention at " << seal::utc_rfc3339(x.time_ns, 3)
              << " (" << x.record << ", " << x.policy << "): " << with_commas(x.windows)
              << " window(s), log index " << x.first_log_index << ".." << x.last_log_index << ", "
              << with_commas(x.events) << " events";
    if (x.from_ns)
      std::cout << ", " << seal::utc_rfc3339(*x.from_ns, 3) << " .. "
                << seal::utc_rfc3339(*x.to_ns, 3);
    std::cout << "; their micro records still verify in the window log\n";
  }
  char speed[128];
  std::snprintf(speed, sizeof speed, "%.2f s, %s events/s", r.elapsed_seconds,
                with_commas(static_cast<uint64_t>(r.events_per_second)).c_str());
  std::cout << "elapsed:      " << speed << "\n";
  for (const auto& u : r.unsealed) {
    std::cout << "unsealed:     ";
    if (!u.file.empty()) std::cout << u.file << ": ";
    std::cout << u.message << "\n";
  }
  for (const auto& n : r.notes) std::cout << "note:         " << n << "\n";
}

// Events the hot index holds that no window sealed: per run, those after the last window the
// run sealed (after a crash, the window in flight; while a sensor runs, its open window). Not
// sealed evidence; named so nobody takes the store for complete. The hot index is optional:
// without it there is nothing to compare.
void compare_hot_index(const store::StorePaths& paths, seal::VerifyReport& r) {
  std::error_code ec;
  if (!std::filesystem::exists(paths.index_db, ec)) return;
  auto index = store::HotIndex::open_reader(paths.index_db);
  if (!index.ok()) return;
  auto ranges = index->run_seq_ranges();
  auto sealed = seal::sealed_extent_by_run(paths.out_dir);
  if (!ranges.ok() || !sealed.ok()) return;
  std::map<uint64_t, seal::RunSealed> by_run;
  for (const auto& s : *sealed) by_run[s.run_id] = s;
  for (const auto& h : *ranges) {
    const auto run_id = static_cast<uint64_t>(h.run_id);
    const auto it = by_run.find(run_id);
    const uint64_t from =
        it != by_run.end() && it->second.any ? std::max(it->second.end_seq, h.min_seq) : h.min_seq;
    if (h.max_seq < from) continue;
    // Already named from the sealed store (the next run's gap event)?
    bool named = false;
    for (const auto& u : r.unsealed) {
      named = named || (u.kind == "events" && u.run_id == run_id && u.first_seq == from &&
                        u.last_seq == h.max_seq);
    }
    if (named) continue;
    seal::UnsealedRange range;
    range.run_id = run_id;
    range.first_seq = from;
    range.last_seq = h.max_seq;
    range.events = h.max_seq - from + 1;
    range.run_ended_cleanly = h.ended;
    seal::UnsealedItem u;
    u.kind = "events";
    u.run_id = run_id;
    u.first_seq = from;
    u.last_seq = h.max_seq;
    u.message = range.describe();
    r.unsealed.push_back(std::move(u));
  }
}

void print_problems(const seal::VerifyReport& r, bool quiet) {
  // Problems go to stdout with the summary (they are the result), even with --quiet.
  for (const auto& p : r.problems) std::cout << "problem: " << p.to_string() << "\n";
  if (r.problems_omitted != 0) std::cout << "problem: ... and " << r.problems_omitted << " more\n";
  if (quiet && !r.ok())
    std::cout << "INVALID: " << r.problems.size() + r.problems_omitted << " problem(s)\n";
}

// What a verified pack proves, in one sentence (§12.3).
std::string pack_summary(const seal::PackReport& p) {
  const seal::VerifyReport& r = p.store;
  std::string s = with_commas(r.events) + " events in " + with_commas(r.windows) + " windows";
  if (r.min_wall_ns)
    s += " from " + seal::utc_rfc3339(*r.min_wall_ns, 3) + " to " +
         seal::utc_rfc3339(*r.max_wall_ns, 3);
  s += " (" + with_commas(p.events_in_range) + " in the range " + seal::utc_rfc3339(p.from_ns, 3) +
       " .. " + seal::utc_rfc3339(p.to_ns, 3) + ")";
  s += ", signed by key " + r.signer_name + " " + r.signer_fingerprint;
  s += r.pinned ? ", pinned" : ", NOT pinned";
  return s;
}

void run_verify_bundle(const VerifyCliOptions& o) {
  if (!o.from.empty() || !o.to.empty() || !o.base_dir.empty())
    fail("--from, --to and --base-dir apply to --store, not to a bundle", kExitUsage);
  bool damaged = false;
  auto pack = seal::load_pack(o.bundle, &damaged);
  if (!pack) {
    if (!damaged) fail(pack.error().message, kExitUsage);
    // A pack that was read but is not well formed (a truncated archive, say): tampered.
    if (o.json) {
      nlohmann::json j{
          {"ok", false},
          {"result", "invalid"},
          {"bundle", o.bundle},
          {"problems",
           nlohmann::json::array({{{"file", o.bundle}, {"message", pack.error().message}}})}};
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << "bundle:       " << o.bundle << "\nresult:       INVALID: 1 problem(s)\n"
                << "problem: " << pack.error().message << "\n";
    }
    throw CLI::RuntimeError(kExitInvalid);
  }
  auto report = seal::verify_pack(*pack, o.key);
  if (!report) fail(report.error().message, kExitUsage);
  const seal::PackReport& p = *report;
  const seal::VerifyReport& r = p.store;
  const bool ok = r.ok();
  if (o.json) {
    nlohmann::json j = verify_report_to_json(r);
    j.erase("store");
    j["bundle"] = p.source;
    j["archive"] = p.archive;
    j["result"] = !ok ? "invalid" : (r.pinned ? "verified" : "consistent, NOT pinned");
    j["summary"] = pack_summary(p);
    j["created_ns"] = p.created_ns;
    j["range"] = {{"from_ns", p.from_ns}, {"to_ns", p.to_ns}};
    j["events_in_range"] = p.events_in_range;
    j["manifest_files"] = p.manifest_files;
    j["first_log_index"] = p.first_log_index;
    j["last_log_index"] = p.last_log_index;
    j["newest_checkpoint"] = {{"size", p.newest_size}, {"root", p.newest_root}};
    std::cout << j.dump(2) << "\n";
  } else if (!o.quiet) {
    std::cout << "bundle:       " << p.source << (p.archive ? " (archive)" : " (directory)")
              << ", made " << seal::utc_rfc3339(p.created_ns, 3) << "\n";
    std::cout << "manifest:     " << with_commas(p.manifest_files)
              << " files, each checked against its size and BLAKE3\n";
    std::cout << "newest:       checkpoint of " << with_commas(p.newest_size) << " windows, root "
              << p.newest_root << "\n";
    print_human(r, true);
    if (ok) std::cout << "proven:       " << pack_summary(p) << "\n";
  }
  if (!o.json) print_problems(r, o.quiet);
  if (!ok) throw CLI::RuntimeError(kExitInvalid);
  if (!r.pinned) throw CLI::RuntimeError(kExitNotPinned);
}

void run_verify(const VerifyCliOptions& o) {
  if (!o.bundle.empty()) {
    if (o.store) fail("give either --store or a BUNDLE, not both", kExitUsage);
    run_verify_bundle(o);
    return;
  }
  if (!o.store)
    fail("say what to verify: --store (the sealed store RITMA_OUT) or a BUNDLE (a ProofPack)",
         kExitUsage);
  const store::StorePaths paths = store::resolve_store_paths(
      o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
  seal::VerifyOptions vo;
  vo.pinned_key = o.key;
  if (!o.from.empty()) vo.from_ns = parse_time_or_fail("--from", o.from);
  if (!o.to.empty()) vo.to_ns = parse_time_or_fail("--to", o.to);
  if (vo.from_ns && vo.to_ns && *vo.from_ns >= *vo.to_ns)
    fail("--from must be before --to", kExitUsage);
  if (!o.quiet) {
    vo.progress = [](const seal::VerifyProgress& p) {
      std::cerr << "ritma verify: verified " << with_commas(p.windows) << " windows, "
                << with_commas(p.events) << " events\n";
    };
  }
  auto report = seal::verify_store(paths.out_dir, vo);
  if (!report) fail(report.error().message, kExitUsage);
  if (!vo.to_ns) compare_hot_index(paths, *report);
  const seal::VerifyReport& r = *report;
  if (o.json) {
    std::cout << verify_report_to_json(r).dump(2) << "\n";
  } else if (!o.quiet) {
    print_human(r);
  }
  if (!o.json) print_problems(r, o.quiet);
  if (!r.ok()) throw CLI::RuntimeError(kExitInvalid);
}

}  // namespace

void register_verify_command(CLI::App& app) {
  auto opts = std::make_shared<VerifyCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Recompute and check every hash and signature of the sealed store (--store) or of a "
      "ProofPack (BUNDLE, offline). Exit 0 verified (a bundle: with a pinned key), 1 invalid or "
      "tampered, 2 usage or unreadable input, 3 a bundle internally consistent but its signing "
      "key not pinned (--key)");
  cmd->add_option("bundle", opts->bundle,
                  "A ProofPack from `ritma export-proof`: its directory or .tar.zst file");
  cmd->add_flag("--store", opts->store, "Verify the sealed store RITMA_OUT");
  cmd->add_option("--base-dir", opts->base_dir,
                  "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  cmd->add_option("--key", opts->key,
                  "Pin the signing key: its fingerprint (64 hex, `ritma keys show`), its verifier "
                  "key string, or a public key file");
  cmd->add_option("--from", opts->from,
                  "Only windows from time T: RFC 3339, Unix seconds, Unix ns, or 10m/1h ago");
  cmd->add_option("--to", opts->to, "Only windows before time T (same formats as --from)");
  cmd->add_flag("--json", opts->json, "Print the report as one JSON object");
  cmd->add_flag("-q,--quiet", opts->quiet, "Print only problems (and no progress)");
  cmd->callback([opts] { run_verify(*opts); });
}

}  // namespace ritma::cli
