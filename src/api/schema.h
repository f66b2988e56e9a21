// The control plane's schema and its migrations, for both database backends (db.h).
//
// `schema_migrations(version, name, applied_ns)` lists what was applied. Each migration runs
// in one transaction together with its row in that table, so a crash leaves it either applied
// or not; applying again skips what is there (idempotent on restart). On PostgreSQL a
// transaction-scoped advisory lock serializes servers migrating at once; on SQLite BEGIN
// IMMEDIATE does.
//
// PostgreSQL roles (docs/API.md "Database"): migrations run as the owner role, which owns
// every table; the server connects as a login role that is a member of the NOLOGIN group
// role `requiem_app` (kAppRole), which the migrations grant only SELECT/INSERT/UPDATE (and
// DELETE where rows expire). Every tenant table has `tenant text NOT NULL`, ENABLE and FORCE
// ROW LEVEL SECURITY and the policy kTenantPolicy. The role `requiem_app` must exist before
// the first migration.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/db.h"

namespace ritma::api {

inline constexpr std::string_view kAppRole = "requiem_app";
// The USING and WITH CHECK expression of every tenant table's policy.
inline constexpr std::string_view kTenantPolicyExpr =
    "tenant = current_setting('requiem.tenant', true)";

struct Migration {
  int64_t version = 0;  // > 0, strictly increasing in a list
  std::string name;
  std::string sqlite_sql;    // a script of statements, no values
  std::string postgres_sql;  // same schema, plus RLS and grants
};

// The control plane's migrations, in order. Other modules (e.g. the audit log) add theirs
// by appending to this list in schema.cc with the next version numbers.
const std::vector<Migration>& builtin_migrations();

// The tenant tables: those row-level security covers on PostgreSQL. (The audit tables have a
// `tenant` column too, but are one log across tenants: no RLS, SELECT and INSERT only.)
const std::vector<std::string>& tenant_tables();

struct MigrateReport {
  std::vector<int64_t> applied;  // versions applied by this call
  int64_t version = 0;           // the schema version now
};

// Applies the migrations not yet applied, each in its own transaction. Fails (kUsage) when
// the database has a version newer than the newest one given (an older program), or when
// `migrations` is not strictly increasing.
DbResult<MigrateReport> apply_migrations(
    Db& db, std::span<const Migration> migrations = builtin_migrations());

// The newest applied version, 0 when none (or no schema_migrations table yet).
DbResult<int64_t> schema_version(Db& db);

}  // namespace ritma::api
