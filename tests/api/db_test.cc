// The control plane's database layer (src/api/db.h, schema.h). The same cases run on SQLite
// (api_tests, label unit) and on a real PostgreSQL 15 started by the test (api_pg_tests,
// built with RITMA_DB_TEST_POSTGRES), which also checks row-level security as the server's
// role.
#include "api/db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/schema.h"
#include "test_util.h"
#ifdef RITMA_DB_TEST_POSTGRES
#include "api/pg_cluster.h"
#endif

namespace ritma::api {

// Test names and ctest entries say "sqlite" / "postgresql" rather than a byte dump.
// (Found by ADL: outside the anonymous namespace.)
void PrintTo(DbBackend b, std::ostream* os) {
  *os << db_backend_name(b);
}

namespace {

std::string describe(const DbError& e) {
  return std::string(db_error_kind_name(e.kind)) + ": " + e.message;
}

#define ASSERT_DB_OK(expr)                                              \
  do {                                                                  \
    auto&& assert_db_ok_ = (expr);                                      \
    ASSERT_TRUE(assert_db_ok_.ok()) << describe(assert_db_ok_.error()); \
  } while (0)

// Declares `lhs` from a DbResult, failing the test with the error otherwise.
#define ASSERT_DB_ASSIGN(lhs, expr) \
  ASSERT_DB_ASSIGN_IMPL_(RITMA_CONCAT_(db_assign_, __LINE__), lhs, expr)
#define ASSERT_DB_ASSIGN_IMPL_(tmp, lhs, expr)    \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << describe(tmp.error()); \
  lhs = std::move(tmp).value()

DbResult<DbRows> insert_execution(Txn& txn, const std::string& id,
                                  const std::string& status = "queued") {
  return txn.query(
      "INSERT INTO executions (tenant, id, tool, status, request_digest, created_ns, "
      "updated_ns) VALUES ($1, $2, $3, $4, $5, $6, $6)",
      {DbValue(id), DbValue(std::string("echo")), DbValue(status), DbValue(Bytes(32, 0xab)),
       DbValue(int64_t{1700000000000000000})});
}

DbResult<int64_t> count_executions(Txn& txn) {
  RITMA_ASSIGN_OR_RETURN(DbRows rows,
                         txn.query("SELECT count(*) FROM executions WHERE tenant = $1"));
  RITMA_ASSIGN_OR_RETURN(const DbRow* row, rows.one());
  return row->get_int(0);
}

// The audit log's tables (migration 2, src/api/audit_log.h): they have a `tenant` column but
// hold one chain across tenants, so no RLS; the server's role may only SELECT and INSERT.
const std::set<std::string> kAuditTables = {"audit_checkpoints", "audit_records"};

std::string BackendName(const ::testing::TestParamInfo<DbBackend>& p) {
  return std::string(db_backend_name(p.param));
}

class DbTest : public ::testing::TestWithParam<DbBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == DbBackend::kSqlite) {
      owner_url_ = "sqlite:" + (tmp_ / "api.db").string();
      server_url_ = owner_url_;
      return;
    }
#ifdef RITMA_DB_TEST_POSTGRES
    RITMA_PG_CLUSTER_OR_SKIP(pg);
    auto d = pg->create_database(/*migrate=*/false);
    ASSERT_TRUE(d.ok()) << d.error().message;
    owner_url_ = d->owner_url;
    server_url_ = d->server_url;
    superuser_url_ = d->superuser_url;
#else
    GTEST_SKIP() << "PostgreSQL cases run in api_pg_tests";
#endif
  }

  DbResult<std::unique_ptr<Db>> open_owner() {
    return Db::open(owner_url_);
  }
  DbResult<std::unique_ptr<Db>> open_server() {
    return Db::open(server_url_);
  }

  DbStatus migrate() {
    RITMA_ASSIGN_OR_RETURN(auto owner, open_owner());
    RITMA_TRY(apply_migrations(*owner));
    return {};
  }

  test::TempDir tmp_;
  std::string owner_url_;
  std::string server_url_;
  std::string superuser_url_;
};

TEST_P(DbTest, MigrationsApplyOnceAndReapplyAsNoOp) {
  ASSERT_DB_ASSIGN(auto owner, open_owner());
  ASSERT_DB_ASSIGN(int64_t before, schema_version(*owner));
  EXPECT_EQ(before, 0);
  ASSERT_DB_ASSIGN(MigrateReport first, apply_migrations(*owner));
  EXPECT_EQ(first.applied, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(first.version, builtin_migrations().back().version);
  ASSERT_DB_ASSIGN(MigrateReport again, apply_migrations(*owner));
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.version, first.version);
  // A restart: a new connection applies nothing either.
  owner.reset();
  ASSERT_DB_ASSIGN(auto reopened, open_owner());
  ASSERT_DB_ASSIGN(MigrateReport third, apply_migrations(*reopened));
  EXPECT_TRUE(third.applied.empty());

  // The server's connection sees the tables (empty) and the version.
  ASSERT_DB_ASSIGN(auto server, open_server());
  ASSERT_DB_ASSIGN(int64_t v, schema_version(*server));
  EXPECT_EQ(v, first.version);
  ASSERT_DB_ASSIGN(Txn txn, server->begin("acme", TxnMode::kRead));
  for (const std::string& table : tenant_tables()) {
    ASSERT_DB_ASSIGN(DbRows rows,
                     txn.query("SELECT count(*) FROM " + table + " WHERE tenant = $1"));
    EXPECT_EQ(*rows[0].get_int(0), 0) << table;
  }
  for (const std::string& table : kAuditTables) {
    ASSERT_DB_ASSIGN(DbRows rows, txn.query_global("SELECT count(*) FROM " + table));
    EXPECT_EQ(*rows[0].get_int(0), 0) << table;
  }
}

// query_global: statements on tables without tenant scoping, in tenant and admin
// transactions; its parameters start at $1 and no tenant is bound.
TEST_P(DbTest, QueryGlobalBindsNoTenant) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  {
    ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
    ASSERT_DB_ASSIGN(
        DbRows ins,
        txn.query_global("INSERT INTO audit_checkpoints (tree_size, root, note, "
                         "time_ns, frontier) VALUES ($1, $2, $3, $4, $5)",
                         {DbValue(int64_t{1}), DbValue(Bytes(32, 7)), DbValue(std::string("note")),
                          DbValue(int64_t{5}), DbValue(Bytes(32, 7))}));
    EXPECT_EQ(ins.affected, 1);
    // The parameter count must match: $1 is the caller's, not the tenant.
    auto extra =
        txn.query_global("SELECT count(*) FROM audit_checkpoints", {DbValue(std::string("acme"))});
    ASSERT_FALSE(extra.ok());
    EXPECT_EQ(extra.error().kind, DbErrorKind::kUsage);
    ASSERT_DB_ASSIGN(DbRows one, txn.query_global("SELECT note FROM audit_checkpoints WHERE "
                                                  "tree_size = $1",
                                                  {DbValue(int64_t{1})}));
    EXPECT_EQ(*one[0].get_text(0), "note");
    ASSERT_DB_OK(txn.commit());
    EXPECT_FALSE(txn.query_global("SELECT 1").ok());  // closed
  }
  ASSERT_DB_ASSIGN(Txn admin, db->begin_admin(TxnMode::kRead));
  EXPECT_EQ(admin.backend(), GetParam());
  ASSERT_DB_ASSIGN(DbRows rows, admin.query_global("SELECT count(*) FROM audit_checkpoints"));
  EXPECT_EQ(*rows[0].get_int(0), 1);
}

TEST_P(DbTest, MigrationsRefuseANewerSchemaAndBadLists) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto owner, open_owner());
  {
    ASSERT_DB_ASSIGN(Txn txn, owner->begin_admin());
    ASSERT_DB_OK(
        txn.query("INSERT INTO schema_migrations (version, name, applied_ns) "
                  "VALUES ($1, $2, $3)",
                  {DbValue(int64_t{99}), DbValue(std::string("future")), DbValue(int64_t{0})}));
    ASSERT_DB_OK(txn.commit());
  }
  auto r = apply_migrations(*owner);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, DbErrorKind::kUsage);
  EXPECT_NE(r.error().message.find("newer than this program"), std::string::npos)
      << r.error().message;

  std::vector<Migration> bad = {builtin_migrations()[0], builtin_migrations()[0]};
  auto r2 = apply_migrations(*owner, bad);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().kind, DbErrorKind::kUsage);
}

TEST_P(DbTest, AFailingMigrationLeavesNothing) {
  ASSERT_DB_ASSIGN(auto owner, open_owner());
  std::vector<Migration> list = builtin_migrations();
  Migration broken;
  broken.version = list.back().version + 1;
  broken.name = "broken";
  broken.sqlite_sql = "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;";
  broken.postgres_sql = "CREATE TABLE half_done (x bigint); SELECT * FROM no_such_table;";
  list.push_back(broken);
  auto r = apply_migrations(*owner, list);
  ASSERT_FALSE(r.ok());
  const std::string failed = "migration " + std::to_string(broken.version) + " (broken)";
  EXPECT_NE(r.error().message.find(failed), std::string::npos) << r.error().message;
  ASSERT_DB_ASSIGN(int64_t v, schema_version(*owner));
  EXPECT_EQ(v, builtin_migrations().back().version);
  ASSERT_DB_ASSIGN(Txn txn, owner->begin_admin(TxnMode::kRead));
  auto q = txn.query("SELECT count(*) FROM half_done");
  EXPECT_FALSE(q.ok()) << "the broken migration's table survived";
}

TEST_P(DbTest, RolledBackTransactionLeavesNothing) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  {
    ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
    ASSERT_DB_OK(insert_execution(txn, "e1"));
    ASSERT_DB_ASSIGN(int64_t inside, count_executions(txn));
    EXPECT_EQ(inside, 1);
    ASSERT_DB_OK(txn.rollback());
    EXPECT_FALSE(txn.open());
    EXPECT_FALSE(txn.query("SELECT 1 WHERE $1 = $1").ok());
  }
  {
    ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
    ASSERT_DB_OK(insert_execution(txn, "e2"));
    // Destroyed without commit: rolled back.
  }
  ASSERT_DB_ASSIGN(Txn txn, db->begin("acme", TxnMode::kRead));
  ASSERT_DB_ASSIGN(int64_t after, count_executions(txn));
  EXPECT_EQ(after, 0);
}

TEST_P(DbTest, CommittedRowsReadBackWithTheirTypes) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  Bytes digest = {0x00, 0x01, 0xff, 0x00, 0x7f};
  {
    ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
    ASSERT_DB_ASSIGN(
        DbRows ins,
        txn.query("INSERT INTO executions (tenant, id, tool, status, "
                  "request_digest, result_digest, bundle_location, exit_code, "
                  "created_ns, updated_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                  "$8, $9, $9)",
                  {DbValue(std::string("e-1")), DbValue(std::string("tööl ✓")),
                   DbValue(std::string("succeeded")), DbValue(digest), DbValue(Bytes{}),
                   DbValue(DbNull{}), DbValue(int64_t{-3}), DbValue(int64_t{INT64_MAX})}));
    EXPECT_EQ(ins.affected, 1);
    ASSERT_DB_OK(
        txn.query("INSERT INTO rate_buckets (tenant, tokens, updated_ns) VALUES "
                  "($1, $2, $3)",
                  {DbValue(2.5), DbValue(int64_t{7})}));
    ASSERT_DB_OK(txn.commit());
  }
  ASSERT_DB_ASSIGN(Txn txn, db->begin("acme", TxnMode::kRead));
  ASSERT_DB_ASSIGN(DbRows rows,
                   txn.query("SELECT id, tool, request_digest, result_digest, bundle_location, "
                             "exit_code, created_ns FROM executions WHERE tenant = $1 AND id = $2",
                             {DbValue(std::string("e-1"))}));
  ASSERT_DB_ASSIGN(const DbRow* row, rows.one());
  EXPECT_EQ(rows.columns[2], "request_digest");
  EXPECT_EQ(*row->get_text(0), "e-1");
  EXPECT_EQ(*row->get_text(1), "tööl ✓");
  EXPECT_EQ(*row->get_bytes(2), digest);
  EXPECT_EQ(*row->get_bytes(3), Bytes{});  // empty, not NULL
  EXPECT_TRUE(row->is_null(4));
  EXPECT_EQ(*row->get_opt_text(4), std::nullopt);
  EXPECT_EQ(*row->get_int(5), -3);
  EXPECT_EQ(*row->get_int(6), INT64_MAX);
  EXPECT_EQ(row->get_text(5).error().kind, DbErrorKind::kType);
  EXPECT_EQ(row->get_int(4).error().kind, DbErrorKind::kType);  // NULL
  EXPECT_EQ(row->get_int(7).error().kind, DbErrorKind::kNotFound);
  ASSERT_DB_ASSIGN(DbRows b, txn.query("SELECT tokens, updated_ns FROM rate_buckets WHERE "
                                       "tenant = $1"));
  EXPECT_DOUBLE_EQ(*b[0].get_double(0), 2.5);
  EXPECT_EQ(*b[0].get_int(1), 7);
  ASSERT_DB_ASSIGN(DbRows none, txn.query("SELECT id FROM executions WHERE tenant = $1 AND "
                                          "id = $2",
                                          {DbValue(std::string("nope"))}));
  EXPECT_EQ(none.one().error().kind, DbErrorKind::kNotFound);
}

TEST_P(DbTest, UniqueViolationIsClassified) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  {
    ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
    ASSERT_DB_OK(insert_execution(txn, "dup"));
    ASSERT_DB_OK(txn.commit());
  }
  ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
  auto r = insert_execution(txn, "dup");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, DbErrorKind::kUniqueViolation) << describe(r.error());
  EXPECT_FALSE(r.error().retryable());
  if (GetParam() == DbBackend::kPostgres) {
    EXPECT_EQ(r.error().sqlstate, "23505");
  }
  ASSERT_DB_OK(txn.rollback());
  // The same id under another tenant is a different row.
  ASSERT_DB_ASSIGN(Txn other, db->begin("globex"));
  ASSERT_DB_OK(insert_execution(other, "dup"));
  ASSERT_DB_OK(other.commit());
  // A CHECK constraint is another kind.
  ASSERT_DB_ASSIGN(Txn t3, db->begin("acme"));
  auto neg = t3.query(
      "INSERT INTO budgets (tenant, window_start_ns, window_ns, executions, "
      "updated_ns) VALUES ($1, 0, 60, $2, 0)",
      {DbValue(int64_t{-1})});
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.error().kind, DbErrorKind::kConstraint) << describe(neg.error());
}

TEST_P(DbTest, ATenantSeesOnlyItsOwnRows) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  for (const char* tenant : {"acme", "globex"}) {
    ASSERT_DB_ASSIGN(Txn txn, db->begin(tenant));
    for (int i = 0; i < 3; ++i) {
      ASSERT_DB_OK(insert_execution(txn, std::string(tenant) + "-" + std::to_string(i)));
    }
    ASSERT_DB_OK(txn.commit());
  }
  ASSERT_DB_ASSIGN(Txn txn, db->begin("globex"));
  ASSERT_DB_ASSIGN(DbRows rows,
                   txn.query("SELECT id FROM executions WHERE tenant = $1 ORDER BY id"));
  ASSERT_EQ(rows.size(), 3u);
  for (const DbRow& r : rows.rows) EXPECT_TRUE(r.get_text(0)->starts_with("globex-"));
  // Another tenant's row by id: not found, not updatable.
  ASSERT_DB_ASSIGN(DbRows one, txn.query("SELECT id FROM executions WHERE tenant = $1 AND "
                                         "id = $2",
                                         {DbValue(std::string("acme-0"))}));
  EXPECT_TRUE(one.empty());
  ASSERT_DB_ASSIGN(DbRows upd,
                   txn.query("UPDATE executions SET status = $3 WHERE tenant = $1 "
                             "AND id = $2",
                             {DbValue(std::string("acme-0")), DbValue(std::string("failed"))}));
  EXPECT_EQ(upd.affected, 0);
  if (GetParam() == DbBackend::kPostgres) {
    // A statement that mentions the tenant but does not filter by it: RLS still scopes it.
    ASSERT_DB_ASSIGN(DbRows all, txn.query("SELECT count(*) FROM executions WHERE $1 = $1"));
    EXPECT_EQ(*all[0].get_int(0), 3);
  }
}

TEST_P(DbTest, TenantTransactionsMustUseTheTenantParameter) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
  auto r = txn.query("SELECT count(*) FROM executions");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, DbErrorKind::kUsage);
  auto r10 = txn.query("SELECT $10 + 0");  // $10 is not $1
  ASSERT_FALSE(r10.ok());
  EXPECT_EQ(r10.error().kind, DbErrorKind::kUsage);
  EXPECT_FALSE(txn.run_script("SELECT 1").ok());
  // As many parameters as the statement uses, on both backends.
  auto extra = txn.query("SELECT count(*) FROM executions WHERE tenant = $1",
                         {DbValue(std::string("unused"))});
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().kind, DbErrorKind::kUsage);
  auto missing = txn.query("SELECT count(*) FROM executions WHERE tenant = $1 AND id = $2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, DbErrorKind::kUsage);
  // Values stay values: a tenant-like string with SQL in it is just text.
  ASSERT_DB_ASSIGN(DbRows rows, txn.query("SELECT count(*) FROM executions WHERE tenant = $1 "
                                          "OR id = $2",
                                          {DbValue(std::string("x' OR '1'='1"))}));
  EXPECT_EQ(*rows[0].get_int(0), 0);
  // Invalid tenants and nested transactions are refused.
  EXPECT_EQ(db->begin("a b").error().kind, DbErrorKind::kUsage);
  EXPECT_EQ(db->begin("..").error().kind, DbErrorKind::kUsage);
  EXPECT_EQ(db->begin("").error().kind, DbErrorKind::kUsage);
  EXPECT_EQ(db->begin("acme").error().kind, DbErrorKind::kUsage);  // one open already
}

TEST_P(DbTest, WithRetryCommitsAndPropagatesErrors) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto db, open_server());
  int calls = 0;
  auto ok = db->with_retry("acme", 3, [&](Txn& txn) -> DbResult<int64_t> {
    ++calls;
    RITMA_TRY(insert_execution(txn, "r1"));
    return count_executions(txn);
  });
  ASSERT_DB_OK(ok);
  EXPECT_EQ(*ok, 1);
  EXPECT_EQ(calls, 1);
  calls = 0;
  auto dup = db->with_retry("acme", 3, [&](Txn& txn) -> DbResult<int64_t> {
    ++calls;
    RITMA_TRY(insert_execution(txn, "r1"));
    return int64_t{0};
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().kind, DbErrorKind::kUniqueViolation);
  EXPECT_EQ(calls, 1);  // not retryable
}

TEST_P(DbTest, LockConflictIsRetryable) {
  ASSERT_DB_OK(migrate());
  ASSERT_DB_ASSIGN(auto a, Db::open(server_url_, /*busy_timeout_ms=*/0));
  ASSERT_DB_ASSIGN(auto b, Db::open(server_url_, /*busy_timeout_ms=*/0));
  {
    ASSERT_DB_ASSIGN(Txn t, a->begin("acme"));
    ASSERT_DB_OK(insert_execution(t, "locked"));
    ASSERT_DB_OK(t.commit());
  }
  ASSERT_DB_ASSIGN(Txn holder, a->begin("acme"));
  ASSERT_DB_OK(holder.query("UPDATE executions SET status = $2 WHERE tenant = $1",
                            {DbValue(std::string("running"))}));
  DbError err;
  if (GetParam() == DbBackend::kSqlite) {
    auto t = b->begin("acme");  // BEGIN IMMEDIATE while `a` holds the write lock
    ASSERT_FALSE(t.ok());
    err = t.error();
  } else {
    ASSERT_DB_ASSIGN(Txn t, b->begin("acme"));
    auto r = t.query("SELECT id FROM executions WHERE tenant = $1 FOR UPDATE NOWAIT");
    ASSERT_FALSE(r.ok());
    err = r.error();
  }
  EXPECT_EQ(err.kind, DbErrorKind::kSerialization) << describe(err);
  EXPECT_TRUE(err.retryable());
}

// The budget debit pattern: a conditional UPDATE from several connections at once debits
// exactly up to the limit, never past it.
TEST_P(DbTest, ConcurrentConditionalDebitsStopExactlyAtTheLimit) {
  ASSERT_DB_OK(migrate());
  {
    ASSERT_DB_ASSIGN(auto db, open_server());
    ASSERT_DB_ASSIGN(Txn txn, db->begin("acme"));
    ASSERT_DB_OK(
        txn.query("INSERT INTO budgets (tenant, window_start_ns, window_ns, "
                  "max_executions, updated_ns) VALUES ($1, 0, 60, $2, 0)",
                  {DbValue(int64_t{30})}));
    ASSERT_DB_OK(txn.commit());
  }
  constexpr int kThreads = 4;
  constexpr int kEach = 12;
  std::atomic<int> granted{0};
  std::atomic<int> refused{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto db = open_server();
      if (!db.ok()) {
        failed += kEach;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        auto r = (*db)->with_retry("acme", 20, [](Txn& txn) -> DbResult<int64_t> {
          RITMA_ASSIGN_OR_RETURN(
              DbRows rows,
              txn.query("UPDATE budgets SET executions = executions + 1 WHERE tenant = $1 "
                        "AND window_start_ns = 0 AND (max_executions IS NULL OR "
                        "executions + 1 <= max_executions)"));
          return rows.affected;
        });
        if (!r.ok()) {
          ++failed;
        } else if (*r == 1) {
          ++granted;
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(granted.load(), 30);
  EXPECT_EQ(refused.load(), kThreads * kEach - 30);
  ASSERT_DB_ASSIGN(auto db, open_server());
  ASSERT_DB_ASSIGN(Txn txn, db->begin("acme", TxnMode::kRead));
  ASSERT_DB_ASSIGN(DbRows rows, txn.query("SELECT executions FROM budgets WHERE tenant = $1"));
  EXPECT_EQ(*rows[0].get_int(0), 30);
}

TEST(DbUrlTest, ParsesStrictly) {
  auto s = parse_db_url("sqlite:/var/lib/requiem/api.db");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->backend, DbBackend::kSqlite);
  EXPECT_EQ(s->sqlite_path, "/var/lib/requiem/api.db");
  EXPECT_EQ(parse_db_url("sqlite:api.db")->sqlite_path, "api.db");

  auto p = parse_db_url("postgresql://requiem_server:s3cret@db.internal:5432/requiem");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->backend, DbBackend::kPostgres);
  EXPECT_EQ(p->redacted, "postgresql://requiem_server:***@db.internal:5432/requiem");
  EXPECT_TRUE(parse_db_url("postgres://u@127.0.0.1/db?sslmode=disable").ok());
  EXPECT_EQ(parse_db_url("postgres://u@h/db?password=zz&sslmode=require")->redacted,
            "postgres://u@h/db?password=***&sslmode=require");

  for (const char* bad : {"", "sqlite:", "sqlite://x.db", "sqlite:/x.db?mode=ro", "sqlite:/tmp/",
                          "mysql://u@h/db", "/var/lib/api.db", "SQLITE:/x", "postgresql:/x",
                          "postgresql://u@h:notaport/db", "postgresql://h/db?nosuchoption=1"}) {
    auto r = parse_db_url(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, DbErrorKind::kUsage) << bad;
    EXPECT_NE(r.error().message.find("database URL"), std::string::npos) << r.error().message;
  }
  // The password never appears in an error.
  auto e = parse_db_url("postgresql://u:hunter2@h:badport/db");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.find("hunter2"), std::string::npos) << e.error().message;
  auto c = Db::open("postgresql://u:hunter2@127.0.0.1:1/db?connect_timeout=2");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, DbErrorKind::kConnection);
  EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos) << c.error().message;
}

#ifdef RITMA_DB_TEST_POSTGRES
INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::Values(DbBackend::kPostgres), BackendName);

// Row-level security, as the server's role (requiem_server) on a migrated database.
class PgRlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RITMA_PG_CLUSTER_OR_SKIP(pg);
    auto d = pg->create_database(/*migrate=*/true);
    ASSERT_TRUE(d.ok()) << d.error().message;
    db_ = *d;
  }
  // Rows for two tenants in every tenant table, through the API.
  void seed(Db& server) {
    for (const char* tenant : {"acme", "globex"}) {
      ASSERT_DB_ASSIGN(Txn txn, server.begin(tenant));
      ASSERT_DB_OK(insert_execution(txn, "e1"));
      ASSERT_DB_OK(
          txn.query("INSERT INTO idempotency_keys (tenant, key, request_hash, "
                    "created_ns, expires_ns) VALUES ($1, $2, $3, 0, 1)",
                    {DbValue(std::string("k1")), DbValue(Bytes(32, 1))}));
      ASSERT_DB_OK(
          txn.query("INSERT INTO budgets (tenant, window_start_ns, window_ns, "
                    "updated_ns) VALUES ($1, 0, 60, 0)"));
      ASSERT_DB_OK(
          txn.query("INSERT INTO rate_buckets (tenant, tokens, updated_ns) VALUES "
                    "($1, 50, 0)"));
      ASSERT_DB_OK(txn.commit());
    }
  }
  // Every table of the public schema with a `tenant` column, from the catalog.
  std::vector<std::string> catalog_tenant_tables(Db& db) {
    std::vector<std::string> out;
    auto txn = db.begin_admin(TxnMode::kRead);
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return out;
    auto rows = txn->query(
        "SELECT c.relname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant' "
        "AND NOT a.attisdropped WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "ORDER BY 1");
    EXPECT_TRUE(rows.ok()) << describe(rows.error());
    if (!rows.ok()) return out;
    for (const DbRow& r : rows->rows) out.push_back(*r.get_text(0));
    return out;
  }
  test::PgDatabase db_;
};

TEST_F(PgRlsTest, EveryTableButTheMigrationListAndAuditLogIsATenantTableWithForcedRls) {
  ASSERT_DB_ASSIGN(auto su, Db::open(db_.superuser_url));
  ASSERT_DB_ASSIGN(Txn txn, su->begin_admin(TxnMode::kRead));
  ASSERT_DB_ASSIGN(DbRows rows,
                   txn.query("SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                             "pg_get_userbyid(c.relowner), EXISTS (SELECT 1 FROM "
                             "pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND "
                             "a.attname = 'tenant' AND a.attnotnull AND NOT a.attisdropped) "
                             "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON "
                             "n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind "
                             "IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1"));
  std::set<std::string> tenant;
  for (const DbRow& r : rows.rows) {
    std::string name = *r.get_text(0);
    EXPECT_EQ(*r.get_text(3), "requiem_owner") << name;
    if (name == "schema_migrations") continue;
    if (kAuditTables.contains(name)) {
      EXPECT_EQ(*r.get_int(1), 0) << name << ": the audit log is one chain, not a tenant table";
      ASSERT_DB_ASSIGN(DbRows priv,
                       txn.query("SELECT p, has_table_privilege('requiem_app', $1, p) FROM "
                                 "unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', "
                                 "'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p ORDER BY 1",
                                 {DbValue(name)}));
      std::set<std::string> granted;
      for (const DbRow& p : priv.rows) {
        if (*p.get_int(1) == 1) granted.insert(*p.get_text(0));
      }
      EXPECT_EQ(granted, (std::set<std::string>{"INSERT", "SELECT"})) << name;
      continue;
    }
    EXPECT_EQ(*r.get_int(4), 1) << name << " has no `tenant text NOT NULL` column";
    EXPECT_EQ(*r.get_int(1), 1) << name << ": ROW LEVEL SECURITY not enabled";
    EXPECT_EQ(*r.get_int(2), 1) << name << ": ROW LEVEL SECURITY not forced";
    tenant.insert(name);
    ASSERT_DB_ASSIGN(DbRows pol, txn.query("SELECT qual, with_check, cmd, roles::text FROM "
                                           "pg_catalog.pg_policies WHERE schemaname = 'public' "
                                           "AND tablename = $1",
                                           {DbValue(name)}));
    ASSERT_EQ(pol.size(), 1u) << name;
    std::string want = "(tenant = current_setting('requiem.tenant'::text, true))";
    EXPECT_EQ(*pol[0].get_text(0), want) << name;
    EXPECT_EQ(*pol[0].get_text(1), want) << name;
    EXPECT_EQ(*pol[0].get_text(2), "ALL") << name;
    EXPECT_EQ(*pol[0].get_text(3), "{public}") << name;
  }
  std::set<std::string> declared(tenant_tables().begin(), tenant_tables().end());
  EXPECT_EQ(tenant, declared);
}

TEST_F(PgRlsTest, WithoutTheTenantSettingTheServerRoleSeesNoRows) {
  ASSERT_DB_ASSIGN(auto server, Db::open(db_.server_url));
  seed(*server);
  if (HasFatalFailure()) return;
  ASSERT_DB_ASSIGN(auto su, Db::open(db_.superuser_url));
  ASSERT_DB_ASSIGN(auto owner, Db::open(db_.owner_url));
  // The tables with a tenant column, less the audit log's (no RLS; see below).
  std::vector<std::string> tables;
  for (const std::string& t : catalog_tenant_tables(*su)) {
    if (!kAuditTables.contains(t)) tables.push_back(t);
  }
  ASSERT_EQ(tables.size(), tenant_tables().size());
  for (const std::string& table : tables) {
    std::string sql = "SELECT count(*) FROM \"" + table + "\"";
    // The rows exist (the superuser bypasses RLS) ...
    {
      ASSERT_DB_ASSIGN(Txn t, su->begin_admin(TxnMode::kRead));
      ASSERT_DB_ASSIGN(DbRows r, t.query(sql));
      EXPECT_EQ(*r[0].get_int(0), 2) << table << ": seed() must fill every tenant table";
    }
    // ... but a direct query without requiem.tenant sees none of them, as the server role
    // and as the owner (FORCE).
    for (Db* db : {server.get(), owner.get()}) {
      ASSERT_DB_ASSIGN(Txn t, db->begin_admin(TxnMode::kRead));
      ASSERT_DB_ASSIGN(DbRows r, t.query(sql));
      EXPECT_EQ(*r[0].get_int(0), 0) << table << " as " << db->url();
      ASSERT_DB_ASSIGN(DbRows s, t.query("SELECT current_setting('requiem.tenant', true)"));
      EXPECT_TRUE(s[0].is_null(0) || *s[0].get_text(0) == "") << "setting leaked";
    }
    // With the setting, exactly that tenant's row.
    ASSERT_DB_ASSIGN(Txn t, server->begin("acme", TxnMode::kRead));
    ASSERT_DB_ASSIGN(DbRows r, t.query(sql + " WHERE $1 = $1"));
    EXPECT_EQ(*r[0].get_int(0), 1) << table;
  }
  // The setting is transaction-local: after a tenant transaction, none again.
  {
    ASSERT_DB_ASSIGN(Txn t, server->begin("acme"));
    ASSERT_DB_OK(t.commit());
  }
  ASSERT_DB_ASSIGN(Txn t, server->begin_admin(TxnMode::kRead));
  ASSERT_DB_ASSIGN(DbRows r, t.query("SELECT count(*) FROM executions"));
  EXPECT_EQ(*r[0].get_int(0), 0);
}

TEST_F(PgRlsTest, WithCheckRefusesAnotherTenantsRows) {
  ASSERT_DB_ASSIGN(auto server, Db::open(db_.server_url));
  seed(*server);
  if (HasFatalFailure()) return;
  {
    // Direct SQL as the server role: the setting says acme, the row says globex.
    ASSERT_DB_ASSIGN(Txn t, server->begin_admin());
    ASSERT_DB_OK(
        t.query("SELECT set_config('requiem.tenant', $1, true)", {DbValue(std::string("acme"))}));
    auto r = t.query("INSERT INTO rate_buckets (tenant, tokens, updated_ns) VALUES ($1, 1, 0)",
                     {DbValue(std::string("initech"))});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DbErrorKind::kPermissionDenied) << describe(r.error());
    EXPECT_EQ(r.error().sqlstate, "42501");
  }
  {
    // No setting at all: nothing may be inserted.
    ASSERT_DB_ASSIGN(Txn t, server->begin_admin());
    auto r = t.query("INSERT INTO rate_buckets (tenant, tokens, updated_ns) VALUES ($1, 1, 0)",
                     {DbValue(std::string("initech"))});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, "42501") << describe(r.error());
  }
  {
    // Moving one's own row to another tenant.
    ASSERT_DB_ASSIGN(Txn t, server->begin("acme"));
    auto r = t.query("UPDATE executions SET tenant = $2 WHERE tenant = $1",
                     {DbValue(std::string("globex"))});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, "42501") << describe(r.error());
  }
  ASSERT_DB_ASSIGN(Txn t, server->begin("globex", TxnMode::kRead));
  ASSERT_DB_ASSIGN(int64_t n, count_executions(t));
  EXPECT_EQ(n, 1);
}

TEST_F(PgRlsTest, TheServerRoleCannotBypassRls) {
  ASSERT_DB_ASSIGN(auto server, Db::open(db_.server_url));
  seed(*server);
  if (HasFatalFailure()) return;
  {
    ASSERT_DB_ASSIGN(Txn t, server->begin_admin(TxnMode::kRead));
    ASSERT_DB_ASSIGN(DbRows r, t.query("SELECT rolsuper, rolbypassrls, rolcreaterole, "
                                       "rolcreatedb FROM pg_catalog.pg_roles WHERE rolname = "
                                       "current_user"));
    ASSERT_DB_ASSIGN(const DbRow* row, r.one());
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(*row->get_int(i), 0) << r.columns[i];
  }
  // row_security = off may be set by anyone, but then a query that RLS would filter fails
  // instead of returning unfiltered rows.
  {
    ASSERT_DB_ASSIGN(Txn t, server->begin_admin(TxnMode::kRead));
    ASSERT_DB_OK(t.query("SET LOCAL row_security = off"));
    auto r = t.query("SELECT count(*) FROM executions");
    ASSERT_FALSE(r.ok()) << "row_security=off returned rows";
    EXPECT_EQ(r.error().sqlstate, "42501") << describe(r.error());
    EXPECT_NE(r.error().message.find("row-level security"), std::string::npos) << r.error().message;
  }
  // Neither becoming the owner or the superuser, nor switching RLS off on a table, nor
  // deleting executions (never granted) is allowed.
  for (const char* sql :
       {"SET LOCAL ROLE requiem_owner", "SET LOCAL SESSION AUTHORIZATION postgres",
        "ALTER TABLE executions DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE executions NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON executions", "DELETE FROM executions",
        "CREATE TABLE sneaky (x bigint)", "TRUNCATE executions"}) {
    ASSERT_DB_ASSIGN(Txn t, server->begin_admin());
    auto r = t.query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error().sqlstate, "42501") << sql << ": " << describe(r.error());
  }
}

// The audit log is append-only for the server's role: SELECT and INSERT, never UPDATE,
// DELETE or TRUNCATE (tampering needs the owner's credentials, and verify names it).
TEST_F(PgRlsTest, TheServerRoleCannotChangeOrRemoveAuditRecords) {
  ASSERT_DB_ASSIGN(auto server, Db::open(db_.server_url));
  {
    ASSERT_DB_ASSIGN(Txn t, server->begin("acme"));
    ASSERT_DB_OK(t.query_global(
        "INSERT INTO audit_records (seq, time_ns, tenant, actor, action, decision, tool, "
        "latency_ns, leaf_hash, canonical) VALUES (0, 1, 'acme', 'a', 'exec', 'allow', 't', 0, "
        "$1, $2)",
        {DbValue(Bytes(32, 1)), DbValue(Bytes{0x80})}));
    ASSERT_DB_OK(t.query_global(
        "INSERT INTO audit_checkpoints (tree_size, root, note, time_ns, frontier) VALUES (1, "
        "$1, 'n', 1, $1)",
        {DbValue(Bytes(32, 1))}));
    ASSERT_DB_OK(t.commit());
  }
  for (const char* sql :
       {"UPDATE audit_records SET tenant = 'evil' WHERE seq = 0",
        "UPDATE audit_records SET canonical = canonical", "DELETE FROM audit_records WHERE seq = 0",
        "DELETE FROM audit_records", "TRUNCATE audit_records",
        "UPDATE audit_checkpoints SET note = 'forged'", "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints", "ALTER TABLE audit_records ADD COLUMN x bigint",
        "DROP TABLE audit_records"}) {
    for (bool as_tenant : {false, true}) {
      auto txn = as_tenant ? server->begin("acme") : server->begin_admin();
      ASSERT_DB_OK(txn);
      auto r = txn->query_global(sql);
      ASSERT_FALSE(r.ok()) << sql;
      EXPECT_EQ(r.error().sqlstate, "42501") << sql << ": " << describe(r.error());
    }
  }
  ASSERT_DB_ASSIGN(Txn t, server->begin_admin(TxnMode::kRead));
  ASSERT_DB_ASSIGN(DbRows rows, t.query("SELECT count(*) FROM audit_records WHERE tenant = "
                                        "'acme'"));
  EXPECT_EQ(*rows[0].get_int(0), 1);
}

TEST_F(PgRlsTest, PasswordsAreRequiredOverTcp) {
  std::string url = db_.server_url;
  size_t colon = url.find(':', std::string("postgresql://").size());
  size_t at = url.find('@');
  ASSERT_NE(colon, std::string::npos);
  std::string wrong = url.substr(0, colon + 1) + "wrong" + url.substr(at);
  auto r = Db::open(wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, DbErrorKind::kConnection);
  EXPECT_EQ(r.error().message.find("wrong@"), std::string::npos) << r.error().message;
}
#else
INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::Values(DbBackend::kSqlite), BackendName);
#endif

}  // namespace
}  // namespace ritma::api
