// `requiem audit verify --db URL --key PUBKEY`: walks the control plane's audit log
// (docs/FORMAT.md §15) in its SQLite or PostgreSQL database and names every broken record or
// checkpoint.
//
// Exit codes: 0 every record and checkpoint verified under the pinned key; 1 problems found
// (each one listed: the seq or checkpoint size, the field, what is wrong); 2 the database or
// the key could not be read, or the arguments are wrong.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/audit_log.h"
#include "api/db.h"
#include "cli/commands.h"
#include "cli/number_text.h"
#include "core/key_file.h"

namespace ritma::cli {
namespace {

using nlohmann::json;

struct AuditVerifyCliOptions {
  std::string db;
  std::string key;
  std::string origin;
  bool json = false;
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "requiem audit verify: " << message << "\n";
  throw CLI::RuntimeError(code);
}

// The database URL as db.h parses it; a bare path is read as sqlite:PATH.
std::string db_url_of(const std::string& db) {
  if (db.empty()) fail("--db wants sqlite:PATH or postgresql://...", 2);
  if (db.find(':') == std::string::npos || db.starts_with("/") || db.starts_with(".")) {
    return "sqlite:" + db;
  }
  return db;
}

void run_audit_verify(const AuditVerifyCliOptions& o) {
  const std::string url = db_url_of(o.db);
  auto parsed = api::parse_db_url(url);
  if (!parsed) fail(parsed.error().message, 2);
  auto key = load_public_key_file(o.key);
  if (!key) fail(key.error().message, 2);
  // A SQLite file must exist: opening would otherwise create an empty database.
  if (parsed->backend == api::DbBackend::kSqlite && !std::filesystem::exists(parsed->sqlite_path)) {
    fail("cannot open " + parsed->sqlite_path + ": no such file", 2);
  }
  auto db = api::Db::open(url);
  if (!db) fail(db.error().message, 2);
  const std::string& shown = (*db)->url();

  api::AuditVerifyOptions vo;
  vo.key = *key;
  vo.origin = o.origin;
  auto report = api::verify_audit_log(**db, vo);
  if (!report) fail(shown + ": " + report.error().message, 2);

  if (o.json) {
    json problems = json::array();
    for (const api::AuditProblem& p : report->problems) {
      problems.push_back(
          {{"where", p.where == api::AuditProblem::Where::kRecord ? "record" : "checkpoint"},
           {"seq", p.seq},
           {"field", p.field},
           {"message", p.message}});
    }
    std::cout << json{{"ok", report->ok()},
                      {"records", report->records},
                      {"checkpoints", report->checkpoints},
                      {"key", key_fingerprint(key->key)},
                      {"problems", problems},
                      {"truncated", report->truncated}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "audit log:   " << shown << "\n";
    std::cout << "records:     " << with_commas(report->records) << "\n";
    std::cout << "checkpoints: " << with_commas(report->checkpoints) << " (key "
              << key_fingerprint(key->key) << ")\n";
    std::cout << "result:      " << (report->ok() ? "VERIFIED" : "INVALID") << "\n";
    for (const api::AuditProblem& p : report->problems) {
      std::cout << "problem:     " << api::describe(p) << "\n";
    }
    if (report->truncated) std::cout << "problem:     (more problems not listed)\n";
  }
  if (!report->ok()) throw CLI::RuntimeError(1);
}

}  // namespace

void register_requiem_audit_command(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "The control plane's audit log");
  audit->require_subcommand(1);
  auto o = std::make_shared<AuditVerifyCliOptions>();
  CLI::App* ver = audit->add_subcommand(
      "verify",
      "Walk every audit record and checkpoint: strict decoding, seq continuity, the prev chain, "
      "the stored columns against the signed bytes, each checkpoint's signature and Merkle "
      "root. Exit 0 verified, 1 problems (each named), 2 unreadable");
  ver->add_option("--db", o->db, "The control plane's database: sqlite:PATH or postgresql://...")
      ->required();
  ver->add_option("--key", o->key, "The checkpoint signer's public key file")->required();
  ver->add_option("--origin", o->origin,
                  "The expected checkpoint origin line (requiem-audit/<name>); default: any");
  ver->add_flag("--json", o->json, "Print the result as JSON");
  ver->callback([o] { run_audit_verify(*o); });
}

}  // namespace ritma::cli
