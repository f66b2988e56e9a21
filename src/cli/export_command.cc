// `ritma export-proof --at T | --from T1 --to T2 [--out PATH]`: a ProofPack (docs/FORMAT.md
// §12) of the sealed windows covering a time range, as a directory or one .tar.zst file, that
// `ritma verify BUNDLE` checks offline.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/event_json.h"
#include "cli/time_text.h"
#include "seal/proofpack.h"
#include "seal/seal_format.h"
#include "store/node_keys.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct ExportCliOptions {
  std::string base_dir;
  std::string at, from, to;
  std::string out;
  bool json = false;
  bool quiet = false;
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "ritma export-proof: " << message << "\n";
  throw CLI::RuntimeError(code);
}

int64_t time_or_fail(const char* option, const std::string& text) {
  const auto t = parse_time(text);
  if (!t) fail(std::string("invalid ") + option + " \"" + text + "\": " + kTimeFormats, kExitUsage);
  return *t;
}

// 20261130T151200Z, for file names.
std::string compact_time(int64_t ns) {
  std::string s = seal::utc_rfc3339(ns, 0);
  std::string out;
  for (char c : s) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

void run_export(const ExportCliOptions& o) {
  seal::ExportOptions eo;
  if (!o.at.empty()) {
    if (!o.from.empty() || !o.to.empty()) fail("--at excludes --from and --to", kExitUsage);
    eo.at_ns = time_or_fail("--at", o.at);
  } else if (!o.from.empty() && !o.to.empty()) {
    eo.from_ns = time_or_fail("--from", o.from);
    eo.to_ns = time_or_fail("--to", o.to);
    if (*eo.from_ns >= *eo.to_ns) fail("--from must be before --to", kExitUsage);
  } else {
    fail("say what to export: --at T, or --from T1 --to T2", kExitUsage);
  }
  const store::StorePaths paths = store::resolve_store_paths(
      o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
  auto key = store::load_node_signing_key(paths);
  if (!key)
    fail("the manifest is signed with the node key, which cannot be read (" + key.error().message +
             "); run as the user that runs the sensor (root)",
         kExitUsage);
  eo.signing_key = std::move(key).value();
  const int64_t start = eo.at_ns ? *eo.at_ns : *eo.from_ns;
  eo.out = o.out.empty() ? std::filesystem::path("proofpack-" + compact_time(start) + ".tar.zst")
                         : std::filesystem::path(o.out);
  eo.event_json = [](const capture::Event& e, uint64_t log_index, uint64_t leaf_index) {
    nlohmann::json j = event_to_json(e);
    j["log_index"] = log_index;
    j["leaf_index"] = leaf_index;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (!o.quiet)
    eo.progress = [](const std::string& line) {
      std::cerr << "ritma export-proof: " << line << "\n";
    };
  const seal::ExportOutcome r = seal::export_pack(paths.out_dir, eo);
  using F = seal::ExportOutcome::Failure;
  if (r.failure == F::kNoWindow) {
    std::cerr << "ritma export-proof: " << r.message << "\n";
    if (!r.nearest.empty()) std::cerr << "the nearest sealed windows:\n";
    for (const auto& w : r.nearest) {
      const int64_t end = w.slot_start_ns + static_cast<int64_t>(w.window_ns);
      std::cerr << "  " << w.window << " (log index " << w.log_index
                << "): " << seal::utc_rfc3339(w.slot_start_ns, 0) << " .. "
                << seal::utc_rfc3339(end, 0) << ", " << w.event_count << " events\n"
                << "    ritma export-proof"
                << (o.base_dir.empty() ? "" : " --base-dir " + o.base_dir) << " --from "
                << seal::utc_rfc3339(w.slot_start_ns, 0) << " --to " << seal::utc_rfc3339(end, 0)
                << "\n";
    }
    throw CLI::RuntimeError(kExitFailed);
  }
  if (r.failure == F::kUsage || r.failure == F::kUnreadable) fail(r.message, kExitUsage);
  if (r.failure != F::kNone) fail(r.message, kExitFailed);
  if (o.json) {
    nlohmann::json j{{"written", r.written.string()},
                     {"from_ns", r.from_ns},
                     {"to_ns", r.to_ns},
                     {"windows", r.windows},
                     {"context_windows", r.context_windows},
                     {"events", r.events},
                     {"events_in_range", r.events_in_range},
                     {"hours", r.hours},
                     {"files", r.files},
                     {"bytes", r.bytes}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::error_code ec;
  const auto on_disk = std::filesystem::is_regular_file(r.written, ec)
                           ? std::filesystem::file_size(r.written, ec)
                           : r.bytes;
  std::cout << "wrote " << r.written.string() << ": " << r.events << " events in " << r.windows
            << " window(s)";
  if (eo.at_ns) {
    std::cout << " holding " << seal::utc_rfc3339(*eo.at_ns, 3);
  } else {
    std::cout << " (" << r.events_in_range << " of them in " << seal::utc_rfc3339(r.from_ns, 3)
              << " .. " << seal::utc_rfc3339(r.to_ns, 3) << ")";
  }
  if (r.hours != 0)
    std::cout << ", " << r.hours << " complete hour(s) with their roots and " << r.context_windows
              << " more window records";
  std::cout << "; " << r.files << " files, " << r.bytes << " bytes"
            << (on_disk != r.bytes ? " (" + std::to_string(on_disk) + " compressed)" : "")
            << "\ncheck it anywhere with: ritma verify " << r.written.string()
            << " --key <fingerprint from `ritma keys show` on a trusted copy>\n";
}

}  // namespace

void register_export_command(CLI::App& app) {
  auto opts = std::make_shared<ExportCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export-proof",
      "Export the sealed windows covering a time range as a ProofPack (a directory, or one "
      ".tar.zst file) that `ritma verify BUNDLE` checks offline. Exit 0 written, 1 no sealed "
      "window there (the nearest are listed) or the store's evidence does not hold, 2 usage");
  cmd->add_option("--at", opts->at,
                  "The window(s) holding this instant: RFC 3339, Unix seconds or ns, or 10m/1h "
                  "ago");
  cmd->add_option("--from", opts->from, "Start of the range (same formats)");
  cmd->add_option("--to", opts->to, "End of the range, excluded (same formats)");
  cmd->add_option("--out", opts->out,
                  "Where to write: a new directory, or a file ending in .tar.zst (default "
                  "proofpack-<start>.tar.zst here)");
  cmd->add_option("--base-dir", opts->base_dir,
                  "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  cmd->add_flag("--json", opts->json, "Print what was written as one JSON object");
  cmd->add_flag("-q,--quiet", opts->quiet, "No progress lines");
  cmd->callback([opts] { run_export(*opts); });
}

}  // namespace ritma::cli
