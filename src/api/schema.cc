#include "api/schema.h"

#include <chrono>

namespace ritma::api {
namespace {

// Column types are written as %INT% %REAL% %TEXT% %BLOB% and replaced per backend.
struct TableDef {
  std::string name;
  std::string body;            // columns and constraints, inside CREATE TABLE name ( ... )
  std::string app_privileges;  // what requiem_app may do on PostgreSQL
};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

std::string with_types(std::string body, DbBackend b) {
  bool pg = b == DbBackend::kPostgres;
  body = replace_all(std::move(body), "%INT%", pg ? "bigint" : "INTEGER");
  body = replace_all(std::move(body), "%REAL%", pg ? "double precision" : "REAL");
  body = replace_all(std::move(body), "%TEXT%", pg ? "text" : "TEXT");
  body = replace_all(std::move(body), "%BLOB%", pg ? "bytea" : "BLOB");
  return body;
}

// The tenant column every tenant table starts with.
constexpr std::string_view kTenantColumn = "tenant %TEXT% NOT NULL CHECK (tenant <> ''),\n";

const std::vector<TableDef>& v1_tables() {
  static const std::vector<TableDef> tables = {
      {"executions",
       std::string(kTenantColumn) + "id %TEXT% NOT NULL,\n"
                                    "tool %TEXT% NOT NULL,\n"
                                    "status %TEXT% NOT NULL,\n"
                                    "request_digest %BLOB% NOT NULL,\n"
                                    "result_digest %BLOB%,\n"
                                    "bundle_location %TEXT%,\n"
                                    "exit_code %INT%,\n"
                                    "created_ns %INT% NOT NULL,\n"
                                    "started_ns %INT%,\n"
                                    "finished_ns %INT%,\n"
                                    "updated_ns %INT% NOT NULL,\n"
                                    "PRIMARY KEY (tenant, id)",
       "SELECT, INSERT, UPDATE"},
      {"idempotency_keys",
       std::string(kTenantColumn) + "key %TEXT% NOT NULL,\n"
                                    "request_hash %BLOB% NOT NULL,\n"
                                    "execution_id %TEXT%,\n"
                                    "response_status %INT%,\n"
                                    "response_body %BLOB%,\n"
                                    "created_ns %INT% NOT NULL,\n"
                                    "expires_ns %INT% NOT NULL,\n"
                                    "PRIMARY KEY (tenant, key)",
       "SELECT, INSERT, UPDATE, DELETE"},
      {"budgets",
       std::string(kTenantColumn) +
           "window_start_ns %INT% NOT NULL,\n"
           "window_ns %INT% NOT NULL CHECK (window_ns > 0),\n"
           "executions %INT% NOT NULL DEFAULT 0 CHECK (executions >= 0),\n"
           "cpu_ms %INT% NOT NULL DEFAULT 0 CHECK (cpu_ms >= 0),\n"
           "wall_ms %INT% NOT NULL DEFAULT 0 CHECK (wall_ms >= 0),\n"
           "output_bytes %INT% NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),\n"
           "max_executions %INT%,\n"
           "max_cpu_ms %INT%,\n"
           "max_wall_ms %INT%,\n"
           "max_output_bytes %INT%,\n"
           "updated_ns %INT% NOT NULL,\n"
           "PRIMARY KEY (tenant, window_start_ns)",
       "SELECT, INSERT, UPDATE"},
      {"rate_buckets",
       std::string(kTenantColumn) + "tokens %REAL% NOT NULL,\n"
                                    "updated_ns %INT% NOT NULL,\n"
                                    "PRIMARY KEY (tenant)",
       "SELECT, INSERT, UPDATE"},
  };
  return tables;
}

std::string create_tables(const std::vector<TableDef>& tables, DbBackend b) {
  std::string sql;
  for (const TableDef& t : tables) {
    sql += "CREATE TABLE " + t.name + " (\n" + with_types(t.body, b) + "\n)";
    sql += b == DbBackend::kSqlite ? " STRICT;\n" : ";\n";
    if (b == DbBackend::kPostgres) {
      sql += "ALTER TABLE " + t.name + " ENABLE ROW LEVEL SECURITY;\n";
      sql += "ALTER TABLE " + t.name + " FORCE ROW LEVEL SECURITY;\n";
      sql += "CREATE POLICY tenant_isolation ON " + t.name + " USING (" +
             std::string(kTenantPolicyExpr) + ") WITH CHECK (" + std::string(kTenantPolicyExpr) +
             ");\n";
      sql += "REVOKE ALL ON " + t.name + " FROM PUBLIC;\n";
      sql += "GRANT " + t.app_privileges + " ON " + t.name + " TO " + std::string(kAppRole) + ";\n";
    }
  }
  return sql;
}

Migration make_v1() {
  Migration m;
  m.version = 1;
  m.name = "control plane: executions, idempotency keys, budgets, rate buckets";
  m.sqlite_sql = create_tables(v1_tables(), DbBackend::kSqlite) +
                 "CREATE INDEX executions_by_time ON executions (tenant, created_ns);\n"
                 "CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_ns);\n";
  m.postgres_sql = create_tables(v1_tables(), DbBackend::kPostgres) +
                   "CREATE INDEX executions_by_time ON executions (tenant, created_ns);\n"
                   "CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (tenant, "
                   "expires_ns);\n"
                   "REVOKE ALL ON schema_migrations FROM PUBLIC;\n"
                   "GRANT SELECT ON schema_migrations TO " +
                   std::string(kAppRole) + ";\n";
  return m;
}

// The audit log (audit_log.h, docs/FORMAT.md §15): one chain across tenants, so no RLS. The
// server's role may read and append, never change or remove: no UPDATE, DELETE or TRUNCATE.
// Integers that are uint64 in a record (seq, latency_ns) hold their int64 bit pattern.
const std::vector<TableDef>& v2_tables() {
  static const std::vector<TableDef> tables = {
      {"audit_records",
       "seq %INT% PRIMARY KEY,\n"
       "time_ns %INT% NOT NULL,\n"
       "tenant %TEXT% NOT NULL,\n"
       "actor %TEXT% NOT NULL,\n"
       "action %TEXT% NOT NULL,\n"
       "decision %TEXT% NOT NULL,\n"
       "tool %TEXT% NOT NULL,\n"
       "input_digest %BLOB%,\n"
       "latency_ns %INT% NOT NULL,\n"
       "result_digest %BLOB%,\n"
       "leaf_hash %BLOB% NOT NULL,\n"
       "canonical %BLOB% NOT NULL",
       "SELECT, INSERT"},
      {"audit_checkpoints",
       "tree_size %INT% PRIMARY KEY,\n"
       "root %BLOB% NOT NULL,\n"
       "note %TEXT% NOT NULL,\n"
       "time_ns %INT% NOT NULL,\n"
       "frontier %BLOB% NOT NULL",
       "SELECT, INSERT"},
  };
  return tables;
}

std::string create_global_tables(const std::vector<TableDef>& tables, DbBackend b) {
  std::string sql;
  for (const TableDef& t : tables) {
    sql += "CREATE TABLE " + t.name + " (\n" + with_types(t.body, b) + "\n)";
    sql += b == DbBackend::kSqlite ? " STRICT;\n" : ";\n";
    if (b == DbBackend::kPostgres) {
      sql += "REVOKE ALL ON " + t.name + " FROM PUBLIC;\n";
      sql += "GRANT " + t.app_privileges + " ON " + t.name + " TO " + std::string(kAppRole) + ";\n";
    }
  }
  return sql;
}

Migration make_v2() {
  Migration m;
  m.version = 2;
  m.name = "audit log: records and checkpoints";
  const std::string index =
      "CREATE INDEX audit_records_by_tenant ON audit_records (tenant, time_ns);\n";
  m.sqlite_sql = create_global_tables(v2_tables(), DbBackend::kSqlite) + index;
  m.postgres_sql = create_global_tables(v2_tables(), DbBackend::kPostgres) + index;
  return m;
}

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
    "version %INT% PRIMARY KEY,\n"
    "name %TEXT% NOT NULL,\n"
    "applied_ns %INT% NOT NULL\n"
    ")";

// A constant key for pg_advisory_xact_lock: "requiem" in ASCII.
constexpr int64_t kMigrationLockKey = 0x72657175696580;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes the migration lock (PostgreSQL) inside an admin transaction.
DbStatus lock_migrations(Db& db, Txn& txn) {
  if (db.backend() != DbBackend::kPostgres) return {};
  auto r = txn.query("SELECT pg_advisory_xact_lock($1)", {DbValue(kMigrationLockKey)});
  if (!r.ok()) return r.error();
  return {};
}

DbResult<int64_t> max_version(Txn& txn) {
  RITMA_ASSIGN_OR_RETURN(DbRows rows,
                         txn.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  RITMA_ASSIGN_OR_RETURN(const DbRow* row, rows.one());
  return row->get_int(0);
}

}  // namespace

const std::vector<Migration>& builtin_migrations() {
  static const std::vector<Migration> list = {make_v1(), make_v2()};
  return list;
}

const std::vector<std::string>& tenant_tables() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const TableDef& t : v1_tables()) n.push_back(t.name);
    return n;
  }();
  return names;
}

DbResult<int64_t> schema_version(Db& db) {
  RITMA_ASSIGN_OR_RETURN(Txn txn, db.begin_admin(TxnMode::kRead));
  const char* exists_sql =
      db.backend() == DbBackend::kPostgres
          ? "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'schema_migrations'"
          : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
            "'schema_migrations'";
  RITMA_ASSIGN_OR_RETURN(DbRows rows, txn.query(exists_sql));
  RITMA_ASSIGN_OR_RETURN(const DbRow* row, rows.one());
  RITMA_ASSIGN_OR_RETURN(int64_t exists, row->get_int(0));
  if (exists == 0) return int64_t{0};
  return max_version(txn);
}

DbResult<MigrateReport> apply_migrations(Db& db, std::span<const Migration> migrations) {
  int64_t newest = 0;
  for (const Migration& m : migrations) {
    if (m.version <= newest) {
      return make_db_error(DbErrorKind::kUsage, "migrations: version " + std::to_string(m.version) +
                                                    " is not greater than the one before");
    }
    newest = m.version;
  }
  {
    RITMA_ASSIGN_OR_RETURN(Txn txn, db.begin_admin());
    RITMA_TRY(lock_migrations(db, txn));
    RITMA_TRY(txn.run_script(with_types(std::string(kCreateMigrationsTable), db.backend())));
    RITMA_TRY(txn.commit());
  }
  MigrateReport report;
  for (const Migration& m : migrations) {
    RITMA_ASSIGN_OR_RETURN(Txn txn, db.begin_admin());
    RITMA_TRY(lock_migrations(db, txn));
    RITMA_ASSIGN_OR_RETURN(int64_t current, max_version(txn));
    if (current > newest) {
      return make_db_error(DbErrorKind::kUsage,
                           "database schema version " + std::to_string(current) +
                               " is newer than this program's (" + std::to_string(newest) +
                               "): upgrade the program");
    }
    RITMA_ASSIGN_OR_RETURN(DbRows have, txn.query("SELECT version FROM schema_migrations "
                                                  "WHERE version = $1",
                                                  {DbValue(m.version)}));
    if (!have.empty()) continue;  // the destructor rolls back
    const std::string& script =
        db.backend() == DbBackend::kPostgres ? m.postgres_sql : m.sqlite_sql;
    auto run = txn.run_script(script);
    if (!run.ok()) {
      DbError e = run.error();
      e.message = "migration " + std::to_string(m.version) + " (" + m.name + "): " + e.message;
      return e;
    }
    RITMA_TRY(
        txn.query("INSERT INTO schema_migrations (version, name, applied_ns) "
                  "VALUES ($1, $2, $3)",
                  {DbValue(m.version), DbValue(m.name), DbValue(now_ns())}));
    RITMA_TRY(txn.commit());
    report.applied.push_back(m.version);
  }
  RITMA_ASSIGN_OR_RETURN(report.version, schema_version(db));
  return report;
}

}  // namespace ritma::api
