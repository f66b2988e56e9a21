// `requiem migrate --db URL`: applies the control plane's schema migrations (docs/API.md
// "Database"). On PostgreSQL, run it as the database's owner role: the server's role may not
// create tables.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/db.h"
#include "api/schema.h"
#include "cli/commands.h"

namespace ritma::cli {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& cmd, const std::string& message, int code) {
  std::cerr << "requiem " << cmd << ": " << message << "\n";
  throw CLI::RuntimeError(code);
}

struct MigrateCliOptions {
  std::string db;
  bool json = false;
};

void run_migrate(const MigrateCliOptions& o) {
  auto db = api::Db::open(o.db);
  if (!db) fail("migrate", db.error().message, 1);
  auto r = api::apply_migrations(**db);
  if (!r) fail("migrate", r.error().message, 1);
  if (o.json) {
    std::cout << json{{"applied", r->applied}, {"version", r->version}}.dump() << "\n";
  } else {
    std::cout << "requiem migrate: " << (*db)->url() << ": schema version " << r->version << " ("
              << r->applied.size() << " migration(s) applied now)\n";
  }
}

}  // namespace

void register_requiem_migrate_command(CLI::App& app) {
  auto m = std::make_shared<MigrateCliOptions>();
  CLI::App* migrate = app.add_subcommand(
      "migrate", "Apply the control plane's schema migrations (as the database's owner role)");
  migrate->add_option("--db", m->db, "sqlite:PATH or postgresql://...")->required();
  migrate->add_flag("--json", m->json, "Print the result as JSON");
  migrate->callback([m] { run_migrate(*m); });
}

}  // namespace ritma::cli
