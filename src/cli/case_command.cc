// `ritma case create|freeze|list|show|export`: legal-hold style freezes of sealed evidence
// (docs/FORMAT.md §13). Every command that reads or changes a case appends a signed record to
// its access log, so the node key is needed (run as the sensor's user).
#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/event_json.h"
#include "cli/time_text.h"
#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "seal/cases.h"
#include "seal/proofpack.h"
#include "seal/seal_format.h"
#include "store/node_keys.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct CaseCliOptions {
  std::string base_dir;
  std::string case_id;
  std::string title, description;
  std::string from, to, reason;
  std::string out;
  bool json = false;
  bool verify = false;
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "ritma case: " << message << "\n";
  throw CLI::RuntimeError(code);
}

int64_t time_or_fail(const char* option, const std::string& text) {
  const auto t = parse_time(text);
  if (!t) fail(std::string("invalid ") + option + " \"" + text + "\": " + kTimeFormats, kExitUsage);
  return *t;
}

store::StorePaths paths_of(const CaseCliOptions& o) {
  return store::resolve_store_paths(
      o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
}

NamedSigningKey key_or_fail(const store::StorePaths& paths) {
  auto key = store::load_node_signing_key(paths);
  if (!key)
    fail("cases and their access log are signed with the node key, which cannot be read (" +
             key.error().message + "); run as the user that runs the sensor (root)",
         kExitUsage);
  return std::move(key).value();
}

seal::CaseActor actor_now() {
  seal::CaseActor a;
  const uid_t uid = ::getuid();
  a.actor = "uid " + std::to_string(uid);
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::string buf(4096, '\0');
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr)
    a.actor += " (" + std::string(found->pw_name) + ")";
  a.now_ns = now_ns();
  return a;
}

void check_id_or_fail(const std::string& id) {
  if (auto st = seal::check_case_id(id); !st.ok()) fail(st.error().message, kExitUsage);
}

// An existing case: its id is valid and its directory exists (else usage).
void existing_case_or_fail(const store::StorePaths& paths, const std::string& id) {
  check_id_or_fail(id);
  std::error_code ec;
  if (!std::filesystem::is_directory(paths.out_dir / seal::kCasesDir / id, ec))
    fail("no case \"" + id + "\" under " + (paths.out_dir / seal::kCasesDir).string() +
             " (`ritma case list` lists them)",
         kExitUsage);
}

std::string compact_time(int64_t ns) {
  std::string out;
  for (char c : seal::utc_rfc3339(ns, 0)) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

nlohmann::json freeze_json(const seal::Freeze& z) {
  nlohmann::json ws = nlohmann::json::array();
  for (const auto& w : z.windows)
    ws.push_back({{"log_index", w.log_index},
                  {"stem_path", w.stem_path},
                  {"micro_root", to_hex(w.micro_root)}});
  return {{"from_ns", z.from_ns},
          {"to_ns", z.to_ns},
          {"from", seal::utc_rfc3339(z.from_ns)},
          {"to", seal::utc_rfc3339(z.to_ns)},
          {"reason", z.reason},
          {"frozen_ns", z.frozen_ns},
          {"actor", z.actor},
          {"windows", ws}};
}

void run_create(const CaseCliOptions& o) {
  if (o.title.empty()) fail("--title is required and must not be empty", kExitUsage);
  const store::StorePaths paths = paths_of(o);
  const NamedSigningKey key = key_or_fail(paths);
  auto h = seal::create_case(paths.out_dir, key, actor_now(), o.title, o.description);
  if (!h) fail(h.error().message, kExitFailed);
  if (o.json) {
    std::cout << nlohmann::json{{"case_id", h->case_id},
                                {"title", h->title},
                                {"created_ns", h->created_ns},
                                {"dir", (paths.out_dir / seal::kCasesDir / h->case_id).string()}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << h->case_id << "\n";
}

void run_freeze(const CaseCliOptions& o) {
  const store::StorePaths paths = paths_of(o);
  existing_case_or_fail(paths, o.case_id);
  if (o.from.empty() || o.to.empty()) fail("say what to freeze: --from T1 --to T2", kExitUsage);
  const int64_t from = time_or_fail("--from", o.from);
  const int64_t to = time_or_fail("--to", o.to);
  if (from >= to) fail("--from must be before --to", kExitUsage);
  if (o.reason.empty()) fail("--reason is required and must not be empty", kExitUsage);
  const NamedSigningKey key = key_or_fail(paths);
  auto r = seal::freeze_case(paths.out_dir, key, actor_now(), o.case_id, from, to, o.reason);
  if (!r) fail(r.error().message, kExitFailed);
  if (o.json) {
    nlohmann::json j = freeze_json(r->freeze);
    j["case_id"] = o.case_id;
    j["catalogs_rewritten"] = r->catalogs_rewritten;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "froze " << r->freeze.windows.size() << " sealed window(s) of "
            << seal::utc_rfc3339(from, 3) << " .. " << seal::utc_rfc3339(to, 3) << " (log index "
            << r->freeze.windows.front().log_index << ".." << r->freeze.windows.back().log_index
            << ") in case " << o.case_id
            << "; windows sealed later in the range are protected too\n";
}

void run_list(const CaseCliOptions& o) {
  const store::StorePaths paths = paths_of(o);
  auto ids = seal::list_case_ids(paths.out_dir);
  if (!ids) fail(ids.error().message, kExitFailed);
  nlohmann::json arr = nlohmann::json::array();
  bool bad = false;
  for (const std::string& id : *ids) {
    auto c = seal::read_case(paths.out_dir, id);
    if (!c) {
      bad = true;
      if (o.json) {
        arr.push_back({{"case_id", id}, {"error", c.error().message}});
      } else {
        std::cerr << "ritma case: " << c.error().message << "\n";
      }
      continue;
    }
    size_t windows = 0;
    for (const auto& z : c->freezes.freezes) windows += z.windows.size();
    if (o.json) {
      arr.push_back({{"case_id", id},
                     {"title", c->header.title},
                     {"created_ns", c->header.created_ns},
                     {"freezes", c->freezes.freezes.size()},
                     {"windows", windows},
                     {"access_records", c->access.size()}});
    } else {
      std::cout << id << "  " << seal::utc_rfc3339(c->header.created_ns, 0) << "  "
                << c->freezes.freezes.size() << " freeze(s), " << windows << " window(s)  "
                << c->header.title << "\n";
    }
  }
  if (o.json) std::cout << arr.dump(2) << "\n";
  if (bad) throw CLI::RuntimeError(kExitFailed);
}

void run_show(const CaseCliOptions& o) {
  const store::StorePaths paths = paths_of(o);
  existing_case_or_fail(paths, o.case_id);
  const NamedSigningKey key = key_or_fail(paths);
  std::vector<std::string> problems;
  if (o.verify) problems = seal::verify_case(paths.out_dir, o.case_id);
  const std::string detail =
      o.verify ? "verify: " + (problems.empty() ? std::string("ok")
                                                : std::to_string(problems.size()) + " problem(s)")
               : std::string();
  auto rec = seal::append_access(paths.out_dir, key, actor_now(), o.case_id, "show", detail);
  if (!rec) fail("cannot log this read: " + rec.error().message, kExitFailed);
  auto c = seal::read_case(paths.out_dir, o.case_id);
  if (o.json) {
    nlohmann::json j{{"case_id", o.case_id}};
    if (c) {
      j["title"] = c->header.title;
      j["description"] = c->header.description;
      j["created_ns"] = c->header.created_ns;
      j["created"] = seal::utc_rfc3339(c->header.created_ns);
      j["created_by"] = c->header.created_by;
      j["node_id"] = c->header.node_id;
      j["store_id"] = to_hex(c->header.store_id);
      nlohmann::json fz = nlohmann::json::array();
      for (const auto& z : c->freezes.freezes) fz.push_back(freeze_json(z));
      j["freezes"] = fz;
      nlohmann::json acc = nlohmann::json::array();
      for (const auto& a : c->access)
        acc.push_back({{"seq", a.record.seq},
                       {"time_ns", a.record.time_ns},
                       {"action", a.record.action},
                       {"actor", a.record.actor},
                       {"detail", a.record.detail}});
      j["access"] = acc;
    } else {
      j["error"] = c.error().message;
    }
    if (o.verify) {
      j["verified"] = problems.empty();
      j["problems"] = problems;
    }
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (c) {
    std::cout << "case " << o.case_id << ": " << c->header.title << "\n";
    if (!c->header.description.empty()) std::cout << "  " << c->header.description << "\n";
    std::cout << "created " << seal::utc_rfc3339(c->header.created_ns, 3) << " by "
              << c->header.created_by << " on node " << c->header.node_id << "\n";
    for (size_t k = 0; k < c->freezes.freezes.size(); ++k) {
      const auto& z = c->freezes.freezes[k];
      std::cout << "freeze " << k << ": " << seal::utc_rfc3339(z.from_ns, 3) << " .. "
                << seal::utc_rfc3339(z.to_ns, 3) << ", " << z.windows.size() << " window(s), by "
                << z.actor << " at " << seal::utc_rfc3339(z.frozen_ns, 0) << ": " << z.reason
                << "\n";
      for (const auto& w : z.windows)
        std::cout << "  " << w.stem_path << " (log index " << w.log_index << ")\n";
    }
    std::cout << "access log: " << c->access.size() << " record(s)\n";
    for (const auto& a : c->access)
      std::cout << "  " << a.record.seq << " " << seal::utc_rfc3339(a.record.time_ns, 3) << " "
                << a.record.action << " by " << a.record.actor
                << (a.record.detail.empty() ? "" : ": " + a.record.detail) << "\n";
  } else {
    std::cerr << "ritma case: " << c.error().message << "\n";
  }
  if (o.verify) {
    for (const std::string& p : problems) std::cerr << "ritma case: FAILED: " << p << "\n";
    if (!o.json)
      std::cout << (problems.empty()
                        ? "verified: manifest signature and digests, access-log "
                          "chain and signatures, frozen windows\n"
                        : "NOT verified: " + std::to_string(problems.size()) + " problem(s)\n");
    if (!problems.empty()) throw CLI::RuntimeError(kExitFailed);
  }
  if (!c) throw CLI::RuntimeError(kExitFailed);
}

void run_case_export(const CaseCliOptions& o) {
  const store::StorePaths paths = paths_of(o);
  existing_case_or_fail(paths, o.case_id);
  const NamedSigningKey key = key_or_fail(paths);
  auto c = seal::read_case(paths.out_dir, o.case_id);
  if (!c) fail(c.error().message, kExitFailed);
  if (c->freezes.freezes.empty())
    fail("case " + o.case_id + " has no freeze; nothing to export (`ritma case freeze`)",
         kExitFailed);
  const seal::CaseActor who = actor_now();
  const std::filesystem::path base =
      o.out.empty() ? paths.out_dir / "exports" / (o.case_id + "_" + compact_time(who.now_ns))
                    : std::filesystem::path(o.out);
  std::error_code ec;
  if (std::filesystem::exists(base, ec)) fail(base.string() + " already exists", kExitUsage);
  if (auto st = make_directories(base); !st.ok()) fail(st.error().message, kExitFailed);
  const std::string fp = key_fingerprint(key.key.public_key());
  nlohmann::json packs = nlohmann::json::array();
  std::string detail;
  for (size_t k = 0; k < c->freezes.freezes.size(); ++k) {
    const auto& z = c->freezes.freezes[k];
    seal::ExportOptions eo;
    eo.from_ns = z.from_ns;
    eo.to_ns = z.to_ns;
    eo.out = base / ("freeze-" + std::to_string(k));
    auto copy = SigningKey::from_seed(key.key.seed());
    if (!copy) fail(copy.error().message, kExitFailed);
    eo.signing_key = NamedSigningKey{key.name, std::move(copy).value()};
    eo.event_json = [](const capture::Event& e, uint64_t log_index, uint64_t leaf_index) {
      nlohmann::json j = event_to_json(e);
      j["log_index"] = log_index;
      j["leaf_index"] = leaf_index;
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    const seal::ExportOutcome r = seal::export_pack(paths.out_dir, eo);
    if (r.failure != seal::ExportOutcome::Failure::kNone)
      fail("freeze " + std::to_string(k) + ": " + r.message, kExitFailed);
    auto mb = blake3_file(r.written / seal::kManifestFile);
    if (!mb) fail(mb.error().message, kExitFailed);
    packs.push_back({{"freeze", k},
                     {"path", r.written.string()},
                     {"manifest_b3", to_hex(*mb)},
                     {"windows", r.windows},
                     {"events", r.events},
                     {"from_ns", r.from_ns},
                     {"to_ns", r.to_ns}});
    if (!detail.empty()) detail += "; ";
    detail += r.written.string() + " MANIFEST.cbor b3 " + to_hex(*mb);
  }
  auto rec = seal::append_access(paths.out_dir, key, who, o.case_id, "export", detail);
  if (!rec)
    fail("the packs were written but the export cannot be logged: " + rec.error().message,
         kExitFailed);
  if (o.json) {
    std::cout << nlohmann::json{{"case_id", o.case_id},
                                {"dir", base.string()},
                                {"key", fp},
                                {"packs", packs}}
                     .dump(2)
              << "\n";
    return;
  }
  for (const auto& p : packs)
    std::cout << "wrote " << p["path"].get<std::string>() << " (freeze "
              << p["freeze"].get<size_t>() << ", " << p["windows"].get<uint64_t>() << " window(s), "
              << p["events"].get<uint64_t>() << " events)\n";
  std::cout << "check each anywhere with: ritma verify <pack> --key " << fp << "\n";
}

void add_base_dir(CLI::App* cmd, CaseCliOptions& o) {
  cmd->add_option("--base-dir", o.base_dir,
                  "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
}

}  // namespace

void register_case_command(CLI::App& app) {
  auto opts = std::make_shared<CaseCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "case",
      "Cases: legal-hold freezes of sealed windows that retention keeps, with a signed, "
      "hash-chained access log (FORMAT.md §13). Exit 0 ok, 1 failed or not verified, 2 usage");
  cmd->require_subcommand(1);

  CLI::App* create = cmd->add_subcommand("create", "Open a case; prints its id");
  create->add_option("--title", opts->title, "What the case is about")->required();
  create->add_option("--description", opts->description, "More words");
  add_base_dir(create, *opts);
  create->add_flag("--json", opts->json, "Print the case as JSON");
  create->callback([opts] { run_create(*opts); });

  CLI::App* freeze = cmd->add_subcommand(
      "freeze",
      "Freeze the sealed windows overlapping [--from, --to); windows sealed later in the range "
      "are protected too");
  freeze->add_option("case", opts->case_id, "Case id")->required();
  freeze->add_option("--from", opts->from, "Start: RFC 3339, Unix seconds or ns, or 10m/1h ago")
      ->required();
  freeze->add_option("--to", opts->to, "End, excluded (same formats)")->required();
  freeze->add_option("--reason", opts->reason, "Why (kept in the case)")->required();
  add_base_dir(freeze, *opts);
  freeze->add_flag("--json", opts->json, "Print the freeze as JSON");
  freeze->callback([opts] { run_freeze(*opts); });

  CLI::App* list = cmd->add_subcommand("list", "List the cases");
  add_base_dir(list, *opts);
  list->add_flag("--json", opts->json, "Print JSON");
  list->callback([opts] { run_list(*opts); });

  CLI::App* show = cmd->add_subcommand("show", "Show a case (logged in its access log)");
  show->add_option("case", opts->case_id, "Case id")->required();
  show->add_flag("--verify", opts->verify,
                 "Check the manifest signature and digests, the access log's chain and "
                 "signatures, and the frozen windows; exit 1 naming what is broken");
  add_base_dir(show, *opts);
  show->add_flag("--json", opts->json, "Print JSON");
  show->callback([opts] { run_show(*opts); });

  CLI::App* exp = cmd->add_subcommand(
      "export",
      "Export one ProofPack per freeze (a directory each) that `ritma verify PACK --key FP` "
      "checks offline (logged in the access log)");
  exp->add_option("case", opts->case_id, "Case id")->required();
  exp->add_option("--out", opts->out,
                  "A new directory for the packs (default RITMA_OUT/exports/<case>_<UTC>)");
  add_base_dir(exp, *opts);
  exp->add_flag("--json", opts->json, "Print what was written as JSON");
  exp->callback([opts] { run_case_export(*opts); });
}

}  // namespace ritma::cli
