// The control plane's audit log (src/api/audit_log.h) on both database backends: canonical
// records, appends inside the caller's transaction (rollback, two connections, two threads,
// two processes), every kind of tampering named by verify, checkpoint cadence, proofs checked
// with core/merkle.h, and the checkpoint signature checked by PyNaCl with no project code.
// Like db_test.cc, the same cases run on SQLite files (api_tests) and on a real PostgreSQL 15
// (api_pg_tests, built with RITMA_DB_TEST_POSTGRES): appends as the server's role, tampering
// as the tables' owner.
#include "api/audit_log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#include "api/db.h"
#include "api/schema.h"
#include "core/blake3_hasher.h"
#include "core/signed_note.h"
#include "test_util.h"
#ifdef RITMA_DB_TEST_POSTGRES
#include "api/pg_cluster.h"
#endif

namespace ritma::api {
namespace {

using Where = AuditProblem::Where;

const std::string kScripts = RITMA_API_TEST_SCRIPTS_DIR;
const std::string kOrigin = "requiem-audit/test-log";
constexpr int kBusyTimeoutMs = 20000;

NamedSigningKey test_key(const std::string& name = "requiem-audit-test") {
  auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  return NamedSigningKey{name, SigningKey::from_seed(*seed).value()};
}

NamedPublicKey public_of(const NamedSigningKey& k) {
  return NamedPublicKey{k.name, k.key.public_key(), note_key_id(k.name, k.key.public_key())};
}

AuditRecord sample(int i) {
  AuditRecord r;
  r.time_ns = 1'780'000'000'000'000'000 + int64_t{i} * 1000;
  r.tenant = "tenant-" + std::to_string(i % 3);
  r.actor = "user:alice@example.com";
  r.action = "exec";
  r.decision = i % 4 == 3 ? Decision::kDeny : Decision::kAllow;
  r.reason = r.decision == Decision::kDeny ? "budget exhausted" : "";
  r.tool = "python3";
  r.input_digest = blake3(as_bytes("input " + std::to_string(i)));
  r.budget_before = {{"cpu_ms", 10000 - i}, {"runs", 100}};
  r.budget_after = {{"cpu_ms", 9000 - i}, {"runs", 99}};
  r.latency_ns = 1'500'000 + static_cast<uint64_t>(i);
  if (r.decision == Decision::kAllow) r.result_digest = blake3(as_bytes(std::to_string(i)));
  return r;
}

std::string BackendName(const ::testing::TestParamInfo<DbBackend>& p) {
  return std::string(db_backend_name(p.param));
}

std::unique_ptr<Db> open_or_die(const std::string& url) {
  auto db = Db::open(url, kBusyTimeoutMs);
  EXPECT_TRUE(db.ok()) << db.error().message;
  return db.ok() ? std::move(db).value() : nullptr;
}

// A migrated database: the owner's URL (tampering) and the server's (the writer's role).
struct TestDatabase {
  std::string owner_url;
  std::string server_url;
};

class AuditLogTest : public ::testing::TestWithParam<DbBackend> {
 protected:
  void SetUp() override {
#ifdef RITMA_DB_TEST_POSTGRES
    RITMA_PG_CLUSTER_OR_SKIP(pg);
    pg_ = pg;
#else
    if (GetParam() == DbBackend::kPostgres) GTEST_SKIP() << "PostgreSQL cases run in api_pg_tests";
#endif
    ASSERT_NO_FATAL_FAILURE(urls_ = new_database());
    db_ = open_or_die(urls_.server_url);
    owner_ = open_or_die(urls_.owner_url);
    ASSERT_TRUE(db_ != nullptr && owner_ != nullptr);
  }

  TestDatabase new_database() {
    TestDatabase d;
    if (GetParam() == DbBackend::kSqlite) {
      d.owner_url =
          "sqlite:" + (dir_ / ("control-" + std::to_string(++databases_) + ".db")).string();
      d.server_url = d.owner_url;
      auto owner = open_or_die(d.owner_url);
      EXPECT_TRUE(owner != nullptr);
      if (owner == nullptr) return d;
      auto m = apply_migrations(*owner);
      EXPECT_TRUE(m.ok()) << m.error().message;
      return d;
    }
#ifdef RITMA_DB_TEST_POSTGRES
    auto pd = pg_->create_database(/*migrate=*/true);
    EXPECT_TRUE(pd.ok()) << pd.error().message;
    if (pd.ok()) {
      d.owner_url = pd->owner_url;
      d.server_url = pd->server_url;
    }
#endif
    return d;
  }

  AuditWriter writer(uint64_t every = 1000, int64_t interval_ns = int64_t{3600} * 1'000'000'000) {
    AuditLogConfig c;
    c.origin = kOrigin;
    c.signer = &key_;
    c.checkpoint_every = every;
    c.checkpoint_interval_ns = interval_ns;
    auto w = AuditWriter::create(c);
    EXPECT_TRUE(w.ok()) << w.error().message;
    return std::move(w).value();
  }

  // Appends records first..first+n-1 (sample data), `batch` per committed tenant transaction.
  static void append_committed(Db& db, AuditWriter& w, int first, int n, int batch = 1) {
    for (int i = first; i < first + n; i += batch) {
      auto txn = db.begin("acme");
      ASSERT_TRUE(txn.ok()) << txn.error().message;
      std::vector<AuditRecord> rs;
      for (int j = i; j < std::min(first + n, i + batch); ++j) rs.push_back(sample(j));
      auto r = w.append(*txn, rs);
      ASSERT_TRUE(r.ok()) << r.error().message;
      auto c = txn->commit();
      ASSERT_TRUE(c.ok()) << c.error().message;
    }
  }

  static void force_checkpoint(Db& db, AuditWriter& w) {
    auto txn = db.begin_admin();
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    auto r = w.checkpoint(*txn, 1'790'000'000'000'000'000);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(txn->commit().ok());
  }

  AuditVerifyReport verify(Db* db = nullptr, const NamedPublicKey* key = nullptr) {
    AuditVerifyOptions o;
    o.key = key != nullptr ? *key : public_of(key_);
    o.origin = kOrigin;
    auto r = verify_audit_log(db != nullptr ? *db : *db_, o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r).value() : AuditVerifyReport{};
  }

  // One statement as the tables' owner, committed: what an attacker with the database's
  // credentials (or file) could do.
  void tamper(const std::string& sql, std::initializer_list<DbValue> params = {}) {
    auto txn = owner_->begin_admin();
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    auto r = txn->query(sql, params);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error().message;
    ASSERT_TRUE(txn->commit().ok());
  }

  // Rows of a query as the owner.
  DbRows owner_rows(const std::string& sql, std::initializer_list<DbValue> params = {}) {
    auto txn = owner_->begin_admin(TxnMode::kRead);
    EXPECT_TRUE(txn.ok()) << txn.error().message;
    if (!txn.ok()) return {};
    auto r = txn->query(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.error().message;
    return r.ok() ? std::move(r).value() : DbRows{};
  }
  int64_t query_int(const std::string& sql, Db* db = nullptr) {
    Db& on = db != nullptr ? *db : *owner_;
    auto txn = on.begin_admin(TxnMode::kRead);
    EXPECT_TRUE(txn.ok()) << txn.error().message;
    if (!txn.ok()) return -1;
    auto r = txn->query(sql);
    EXPECT_TRUE(r.ok() && !r->empty()) << sql;
    if (!r.ok() || r->empty()) return -1;
    return (*r)[0].get_int(0).value();
  }

  // A log of `n` records with a checkpoint covering all of them.
  void build_log(int n, uint64_t every = 4) {
    AuditWriter w = writer(every);
    ASSERT_NO_FATAL_FAILURE(append_committed(*db_, w, 0, n));
    ASSERT_NO_FATAL_FAILURE(force_checkpoint(*db_, w));
    const AuditVerifyReport rep = verify();
    ASSERT_TRUE(rep.ok()) << dump(rep);
  }

  static std::string dump(const AuditVerifyReport& rep) {
    std::string out;
    for (const AuditProblem& p : rep.problems) out += describe(p) + "\n";
    return out;
  }

  static bool has(const AuditVerifyReport& rep, Where where, uint64_t seq,
                  const std::string& field) {
    return std::any_of(rep.problems.begin(), rep.problems.end(), [&](const AuditProblem& p) {
      return p.where == where && p.seq == seq && p.field == field;
    });
  }

  test::TempDir dir_;
  NamedSigningKey key_ = test_key();
  TestDatabase urls_;
  std::unique_ptr<Db> db_;     // the server's role
  std::unique_ptr<Db> owner_;  // the tables' owner
  int databases_ = 0;
#ifdef RITMA_DB_TEST_POSTGRES
  test::PgCluster* pg_ = nullptr;
#endif
};

#ifndef RITMA_DB_TEST_POSTGRES
// The encoding does not depend on the database: these run once, in api_tests.
TEST(AuditRecordEncoding, RoundTripsAndIsStrict) {
  AuditRecord r = sample(3);
  r.seq = 7;
  r.prev = blake3(as_bytes("previous"));
  auto bytes = encode_record(r);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto back = decode_record(*bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, r);

  // Trailing bytes, a truncated record, a wrong tag: all refused.
  Bytes trailing = *bytes;
  trailing.push_back(0);
  EXPECT_FALSE(decode_record(trailing).ok());
  EXPECT_FALSE(decode_record(ByteSpan(*bytes).first(bytes->size() - 1)).ok());
  Bytes wrong_tag = *bytes;
  wrong_tag[2] = 'R';  // 0x8f, 0x6f, then "requiem-audit@1"
  EXPECT_FALSE(decode_record(wrong_tag).ok());

  // Budgets must be in strictly ascending name order, on both sides.
  AuditRecord bad = r;
  bad.budget_after = {{"runs", 1}, {"cpu_ms", 2}};
  EXPECT_FALSE(encode_record(bad).ok());
  bad.budget_after = {{"runs", 1}, {"runs", 2}};
  EXPECT_FALSE(encode_record(bad).ok());
  bad.budget_after = {};
  bad.tenant = std::string("\xff", 1);
  EXPECT_FALSE(encode_record(bad).ok());
}

// The known-answer vector of docs/FORMAT.md §15.1.
TEST(AuditRecordEncoding, MatchesTheSpecVector) {
  AuditRecord r;
  r.seq = 0;
  r.time_ns = 1'780'000'000'000'000'000;
  r.tenant = "acme";
  r.actor = "user:alice";
  r.action = "exec";
  r.decision = Decision::kAllow;
  r.reason = "";
  r.tool = "python3";
  r.input_digest = Hash32{};
  r.input_digest->fill(0x11);
  r.budget_before = {{"cpu_ms", 1000}};
  r.budget_after = {{"cpu_ms", 750}};
  r.latency_ns = 250;
  r.result_digest = std::nullopt;
  auto bytes = encode_record(r);
  ASSERT_TRUE(bytes.ok());
  // Checked against cbor2 (canonical=True), b3sum and sha256sum when the vector was written.
  EXPECT_EQ(to_hex(*bytes),
            "8f6f7265717569656d2d61756469744031001b18b3d491b43200006461636d656a757365723a616c"
            "696365646578656365616c6c6f776067707974686f6e335820111111111111111111111111111111"
            "11111111111111111111111111111111118182666370755f6d731903e88182666370755f6d731902"
            "ee18faf658200000000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(to_hex(record_chain_hash(*bytes)),
            "658715e9cbf6a460cfd68fd463cbbdab8b568c3733b058c5d94a22c46edb1c0c");
  EXPECT_EQ(to_hex(record_leaf_hash(*bytes)),
            "361fefd17eddadc6ea1eb8ef26d91f537584f6331dac94266d2261e26bc1014b");
}

#endif

TEST_P(AuditLogTest, AppendOutsideAnOpenTransactionIsRefused) {
  AuditWriter w = writer();
  auto txn = db_->begin("acme");
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(txn->commit().ok());
  AuditRecord r = sample(0);
  auto res = w.append(*txn, r);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().kind, DbErrorKind::kUsage);
  EXPECT_NE(res.error().message.find("open write transaction"), std::string::npos)
      << res.error().message;
  EXPECT_EQ(query_int("SELECT count(*) FROM audit_records"), 0);
  // The configuration is checked up front.
  AuditLogConfig no_signer;
  no_signer.origin = kOrigin;
  EXPECT_FALSE(AuditWriter::create(no_signer).ok());
  AuditLogConfig bad_origin;
  bad_origin.origin = "two\nlines";
  bad_origin.signer = &key_;
  EXPECT_FALSE(AuditWriter::create(bad_origin).ok());
}

TEST_P(AuditLogTest, RolledBackTransactionLeavesNoRecord) {
  AuditWriter w = writer(1);
  const std::string debit =
      "INSERT INTO budgets (tenant, window_start_ns, window_ns, updated_ns) VALUES ($1, 0, 60, 0)";
  {
    auto txn = db_->begin("acme");
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(txn->query(debit).ok());
    AuditRecord r = sample(0);
    auto res = w.append(*txn, r);
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res->checkpoint_size, std::optional<uint64_t>(1));
    ASSERT_TRUE(txn->rollback().ok());
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM audit_records"), 0);
  EXPECT_EQ(query_int("SELECT count(*) FROM audit_checkpoints"), 0);
  {
    auto txn = db_->begin("acme", TxnMode::kRead);
    ASSERT_TRUE(txn.ok());
    EXPECT_EQ((*txn->query("SELECT count(*) FROM budgets WHERE tenant = $1"))[0].get_int(0).value(),
              0);
  }

  // The state change and its record commit together; the chain starts at seq 0.
  auto txn = db_->begin("acme");
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(txn->query(debit).ok());
  AuditRecord again = sample(0);
  ASSERT_TRUE(w.append(*txn, again).ok());
  ASSERT_TRUE(txn->commit().ok());
  EXPECT_EQ(again.seq, 0u);
  EXPECT_EQ(again.prev, Hash32{});
  EXPECT_EQ(query_int("SELECT count(*) FROM audit_records"), 1);
  {
    auto t = db_->begin("acme", TxnMode::kRead);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ((*t->query("SELECT count(*) FROM budgets WHERE tenant = $1"))[0].get_int(0).value(),
              1);
  }
  EXPECT_TRUE(verify().ok());
}

TEST_P(AuditLogTest, TwoConnectionsAppendingAlternatelyKeepOneChain) {
  auto other = open_or_die(urls_.server_url);
  ASSERT_TRUE(other != nullptr);
  AuditWriter a = writer(7);
  AuditWriter b = writer(7);
  for (int i = 0; i < 60; ++i) {
    Db& db = i % 2 == 0 ? *db_ : *other;
    AuditWriter& w = i % 2 == 0 ? a : b;
    auto txn = db.begin(i % 3 == 0 ? "acme" : "globex");
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    AuditRecord r = sample(i);
    auto res = w.append(*txn, r);
    ASSERT_TRUE(res.ok()) << res.error().message;
    ASSERT_TRUE(txn->commit().ok());
    EXPECT_EQ(r.seq, static_cast<uint64_t>(i));
  }
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 60u);
  EXPECT_EQ(rep.checkpoints, 9u);  // sizes 1, 8, 15, ..., 57
}

TEST_P(AuditLogTest, ConcurrentWritersOnSeparateConnectionsKeepOneChain) {
  auto worker = [&](int id) {
    auto db = open_or_die(urls_.server_url);
    ASSERT_TRUE(db != nullptr);
    AuditWriter w = writer(50);
    for (int i = 0; i < 100; ++i) {
      auto txn = db->begin("acme");
      ASSERT_TRUE(txn.ok()) << txn.error().message;
      std::vector<AuditRecord> rs = {sample(id * 1000 + i), sample(id * 1000 + i)};
      auto r = w.append(*txn, rs);
      ASSERT_TRUE(r.ok()) << r.error().message;
      auto c = txn->commit();
      ASSERT_TRUE(c.ok()) << c.error().message;
    }
  };
  std::thread t1(worker, 1);
  std::thread t2(worker, 2);
  t1.join();
  t2.join();
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 400u);
}

// Two server processes sharing one database: each reads the tail under the write lock (SQLite
// BEGIN IMMEDIATE, PostgreSQL the advisory lock), so the chain never forks.
TEST_P(AuditLogTest, TwoProcessesSharingTheDatabaseKeepOneChain) {
  std::vector<pid_t> children;
  for (int id = 1; id <= 2; ++id) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto db = Db::open(urls_.server_url, kBusyTimeoutMs);
      if (!db.ok()) _exit(10);
      AuditLogConfig c;
      c.origin = kOrigin;
      c.signer = &key_;
      c.checkpoint_every = 16;
      auto w = AuditWriter::create(c);
      if (!w.ok()) _exit(11);
      for (int i = 0; i < 150; ++i) {
        auto txn = (*db)->begin("acme");
        if (!txn.ok()) _exit(12);
        AuditRecord r = sample(id * 1000 + i);
        if (!w->append(*txn, r).ok()) _exit(13);
        if (!txn->commit().ok()) _exit(14);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 300u);
}

TEST_P(AuditLogTest, CheckpointsEveryNRecordsOrTMs) {
  {
    AuditWriter w = writer(10, int64_t{3600} * 1'000'000'000);
    ASSERT_NO_FATAL_FAILURE(append_committed(*db_, w, 0, 35, 3));
    // The first append checkpoints (no checkpoint yet), then each call that reaches +10.
    const DbRows rows = owner_rows("SELECT tree_size FROM audit_checkpoints ORDER BY tree_size");
    std::vector<int64_t> sizes;
    for (const DbRow& row : rows.rows) sizes.push_back(row.get_int(0).value());
    EXPECT_EQ(sizes, (std::vector<int64_t>{3, 15, 27}));
  }
  // By time: sample(i) is i µs after sample(0); with a 5 µs interval the first record
  // checkpoints, then records 5 and 10 (5 µs after the last checkpoint's record).
  TestDatabase d2;
  ASSERT_NO_FATAL_FAILURE(d2 = new_database());
  auto db2 = open_or_die(d2.server_url);
  ASSERT_TRUE(db2 != nullptr);
  AuditWriter w = writer(1000, 5'000);
  ASSERT_NO_FATAL_FAILURE(append_committed(*db2, w, 0, 13));
  EXPECT_EQ(query_int("SELECT count(*) FROM audit_checkpoints", db2.get()), 3);  // 1, 6, 11
  EXPECT_EQ(query_int("SELECT max(tree_size) FROM audit_checkpoints", db2.get()), 11);
  EXPECT_TRUE(verify(db2.get()).ok());
}

// Every column of one record, changed by SQL, is named with the record's seq and the column.
TEST_P(AuditLogTest, UpdateOfAnyColumnIsNamed) {
  const DbValue zeros(Bytes(32, 0));
  const std::vector<std::tuple<std::string, std::string, std::vector<DbValue>>> updates = {
      {"time_ns", "time_ns = time_ns + 1", {}},
      {"tenant", "tenant = 'evil'", {}},
      {"actor", "actor = 'mallory'", {}},
      {"action", "action = 'delete'", {}},
      {"decision", "decision = 'deny'", {}},
      {"tool", "tool = 'bash'", {}},
      {"input_digest", "input_digest = NULL", {}},
      {"latency_ns", "latency_ns = 1", {}},
      {"result_digest", "result_digest = $1", {zeros}},
      {"leaf_hash", "leaf_hash = $1", {zeros}},
  };
  build_log(10);
  // Record 5 as written, to put back after each change.
  const std::string columns =
      "time_ns, tenant, actor, action, decision, tool, input_digest, latency_ns, result_digest, "
      "leaf_hash";
  const DbRows saved = owner_rows("SELECT " + columns + " FROM audit_records WHERE seq = 5");
  ASSERT_EQ(saved.size(), 1u);
  const DbRow original = saved[0];
  for (const auto& [column, set, params] : updates) {
    SCOPED_TRACE(column);
    {
      auto txn = owner_->begin_admin();
      ASSERT_TRUE(txn.ok());
      auto r = txn->query("UPDATE audit_records SET " + set + " WHERE seq = 5", params);
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_EQ(r->affected, 1);
      ASSERT_TRUE(txn->commit().ok());
    }
    const AuditVerifyReport rep = verify();
    EXPECT_FALSE(rep.ok());
    EXPECT_TRUE(has(rep, Where::kRecord, 5, column)) << dump(rep);
    {
      std::vector<DbValue> back;
      for (size_t i = 0; i < original.size(); ++i) back.push_back(original[i]);
      auto txn = owner_->begin_admin();
      ASSERT_TRUE(txn.ok());
      auto r = txn->query(
          "UPDATE audit_records SET time_ns = $1, tenant = $2, actor = $3, action = $4, "
          "decision = $5, tool = $6, input_digest = $7, latency_ns = $8, result_digest = $9, "
          "leaf_hash = $10 WHERE seq = 5",
          back);
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_TRUE(txn->commit().ok());
    }
    const AuditVerifyReport restored = verify();
    ASSERT_TRUE(restored.ok()) << dump(restored);
  }
}

TEST_P(AuditLogTest, UpdateOfTheCanonicalBytesIsNamed) {
  build_log(10);
  // Re-encoded with a different tenant: the record's own columns, the next record's prev and
  // the checkpoint's root all disagree.
  const DbRows rows = owner_rows("SELECT canonical FROM audit_records WHERE seq = 5");
  ASSERT_EQ(rows.size(), 1u);
  AuditRecord r = decode_record(rows[0].get_bytes(0).value()).value();
  r.tenant = "evil";
  const Bytes forged = encode_record(r).value();
  tamper("UPDATE audit_records SET canonical = $1 WHERE seq = 5", {DbValue(forged)});
  AuditVerifyReport rep = verify();
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "tenant")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "leaf_hash")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 6, "prev")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "root")) << dump(rep);

  // Bytes that are not a record at all.
  tamper("UPDATE audit_records SET canonical = $1 WHERE seq = 5", {DbValue(Bytes{0x8f, 0x00})});
  rep = verify();
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "canonical")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 6, "prev")) << dump(rep);
}

TEST_P(AuditLogTest, UpdateOfTheSeqIsNamed) {
  build_log(10);
  tamper("UPDATE audit_records SET seq = 100 WHERE seq = 5");
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "missing")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 100, "seq")) << dump(rep);
}

TEST_P(AuditLogTest, DeleteOfAMiddleRecordIsNamed) {
  build_log(10);
  tamper("DELETE FROM audit_records WHERE seq = 4");
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(has(rep, Where::kRecord, 4, "missing")) << dump(rep);
  // Checkpoints at 1, 5, 9 and 10: the tree of the rows left differs from size 5 on.
  EXPECT_FALSE(has(rep, Where::kCheckpoint, 1, "root")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 5, "root")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "tree_size")) << dump(rep);
}

TEST_P(AuditLogTest, DeleteOfTheLastRecordIsNamedThroughTheCheckpoint) {
  build_log(10);
  tamper("DELETE FROM audit_records WHERE seq = 9");
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(has(rep, Where::kRecord, 9, "missing")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "tree_size")) << dump(rep);

  // The writer refuses to extend a log shorter than its newest checkpoint (it would sign a
  // tree inconsistent with one it signed).
  AuditWriter w = writer();
  auto txn = db_->begin("acme");
  ASSERT_TRUE(txn.ok());
  AuditRecord r = sample(10);
  auto res = w.append(*txn, r);
  ASSERT_TRUE(txn->rollback().ok());
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("records were deleted"), std::string::npos);
}

TEST_P(AuditLogTest, ForgedCheckpointsAreNamed) {
  build_log(10);
  // A note re-signed by another key under the same name, over a forged root.
  const NamedSigningKey forger{"requiem-audit-test", SigningKey::generate()};
  note::Checkpoint cp{kOrigin, 10, blake3(as_bytes("forged")), {}};
  const std::string forged = note::sign(note::checkpoint_body(cp), {&forger}).value();
  tamper("UPDATE audit_checkpoints SET note = $1, root = $2 WHERE tree_size = 10",
         {DbValue(forged), DbValue(Bytes(cp.root.begin(), cp.root.end()))});
  AuditVerifyReport rep = verify();
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "signature")) << dump(rep);

  // A flipped signature byte in a genuine note (checkpoints are at sizes 1, 5, 9 and 10).
  const DbRows rows = owner_rows("SELECT note FROM audit_checkpoints WHERE tree_size = 5");
  ASSERT_EQ(rows.size(), 1u);
  std::string note = rows[0].get_text(0).value();
  const size_t sig = note.rfind(' ') + 12;  // inside the signature's base64, past the key id
  note[sig] = note[sig] == 'A' ? 'B' : 'A';
  tamper("UPDATE audit_checkpoints SET note = $1 WHERE tree_size = 5", {DbValue(note)});
  rep = verify();
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 5, "signature")) << dump(rep);

  // The pinned key decides: the genuine log under an unexpected key fails everywhere.
  const NamedPublicKey other = public_of(forger);
  rep = verify(nullptr, &other);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 1, "signature")) << dump(rep);
}

TEST_P(AuditLogTest, ProofsVerifyWithCoreMerkle) {
  AuditWriter w = writer(5);
  ASSERT_NO_FATAL_FAILURE(append_committed(*db_, w, 0, 23, 2));
  ASSERT_NO_FATAL_FAILURE(force_checkpoint(*db_, w));
  // The readers run in any transaction, a tenant's read transaction included.
  auto txn = db_->begin("acme", TxnMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto cp = latest_checkpoint(*txn);
  ASSERT_TRUE(cp.ok() && cp->has_value());
  const auto opened = note::open((*cp)->note, {public_of(key_)});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const note::Checkpoint body = note::parse_checkpoint_body(opened->body).value();
  EXPECT_EQ(body.size, 23u);
  for (uint64_t seq = 0; seq < 23; ++seq) {
    auto p = audit_inclusion_proof(*txn, seq);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(decode_record(p->canonical).value().seq, seq);
    EXPECT_TRUE(merkle::verify_inclusion(record_leaf_hash(p->canonical), seq, p->tree_size, p->path,
                                         body.root))
        << seq;
  }
  // Between every pair of checkpointed sizes.
  std::vector<std::pair<uint64_t, Hash32>> roots;
  for (const DbRow& row : owner_rows("SELECT tree_size, root FROM audit_checkpoints").rows) {
    Hash32 h;
    const Bytes b = row.get_bytes(1).value();
    ASSERT_EQ(b.size(), 32u);
    std::memcpy(h.data(), b.data(), 32);
    roots.emplace_back(static_cast<uint64_t>(row.get_int(0).value()), h);
  }
  ASSERT_GE(roots.size(), 4u);
  for (const auto& [old_size, old_root] : roots) {
    for (const auto& [new_size, new_root] : roots) {
      if (old_size > new_size) continue;
      auto p = audit_consistency_proof(*txn, old_size, new_size);
      ASSERT_TRUE(p.ok()) << p.error().message;
      EXPECT_FALSE(p->old_checkpoint.empty());
      EXPECT_TRUE(merkle::verify_consistency(old_size, new_size, old_root, new_root, p->path))
          << old_size << " -> " << new_size;
    }
  }
  EXPECT_FALSE(audit_inclusion_proof(*txn, 23).ok());  // not covered yet
}

// PyNaCl and hashlib alone (no project code) verify the checkpoint's C2SP signature, key id
// and RFC 9162 root over the records' canonical bytes.
TEST_P(AuditLogTest, CheckpointVerifiesWithPyNaClAlone) {
  build_log(13);
  StoredCheckpoint cp;
  {
    auto txn = db_->begin_admin(TxnMode::kRead);
    ASSERT_TRUE(txn.ok());
    cp = latest_checkpoint(*txn).value().value();
  }
  const std::string script = kScripts + "/checkpoint_verify.py";
  {
    std::ofstream(dir_ / "checkpoint") << cp.note;
    std::ofstream(dir_ / "key.pub") << format_public_key(key_.name, key_.key.public_key()) << "\n";
    std::ofstream leaves(dir_ / "leaves.hex");
    for (const DbRow& row : owner_rows("SELECT canonical FROM audit_records ORDER BY seq").rows) {
      leaves << to_hex(row.get_bytes(0).value()) << "\n";
    }
  }
  const std::vector<std::string> args = {
      "/usr/bin/python3",          script,  (dir_ / "checkpoint").string(),
      (dir_ / "key.pub").string(), kOrigin, (dir_ / "leaves.hex").string()};
  auto r = test::run_program(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK " + kOrigin + " 13"), std::string::npos) << r.out;

  // A changed root line fails the signature there too.
  std::string tampered = cp.note;
  const size_t root_at = tampered.find("\n13\n") + 4;
  tampered[root_at] = tampered[root_at] == 'A' ? 'B' : 'A';
  std::ofstream(dir_ / "checkpoint", std::ios::trunc) << tampered;
  r = test::run_program(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

// A load run: many appends in batches, with checkpoints by count; verify passes (and pages
// through the rows).
TEST_P(AuditLogTest, LoadRunVerifies) {
  AuditWriter w = writer(1000);
  ASSERT_NO_FATAL_FAILURE(append_committed(*db_, w, 0, 20000, 250));
  ASSERT_NO_FATAL_FAILURE(force_checkpoint(*db_, w));
  const AuditVerifyReport rep = verify();
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 20000u);
  EXPECT_EQ(rep.checkpoints, 21u);
}

#ifdef REQUIEM_BIN
// `requiem audit verify --db postgresql://...` (its SQLite cases are in
// tests/cli/requiem_audit_test.cc): as the server's role, a clean log verifies, a changed
// record is named.
TEST_P(AuditLogTest, RequiemAuditVerifyReadsTheDatabase) {
  build_log(10);
  const std::string pub = (dir_ / "audit.pub").string();
  std::ofstream(pub) << format_public_key(key_.name, key_.key.public_key()) << "\n";
  const std::vector<std::string> argv = {REQUIEM_BIN,      "audit", "verify", "--db",
                                         urls_.server_url, "--key", pub};
  auto r = test::run_program(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("records:     10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result:      VERIFIED"), std::string::npos) << r.out;
  tamper("UPDATE audit_records SET actor = 'mallory' WHERE seq = 3");
  r = test::run_program(argv);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("problem:     record 3: actor"), std::string::npos) << r.out;
  // The password is never printed.
  const size_t colon = urls_.server_url.find(':', std::string("postgresql://").size());
  const size_t at = urls_.server_url.find('@');
  if (colon != std::string::npos && at != std::string::npos && at > colon + 1) {
    const std::string password = urls_.server_url.substr(colon + 1, at - colon - 1);
    EXPECT_EQ(r.out.find(password), std::string::npos) << r.out;
  }
}
#endif

#ifdef RITMA_DB_TEST_POSTGRES
INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::Values(DbBackend::kPostgres),
                         BackendName);
#else
INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::Values(DbBackend::kSqlite),
                         BackendName);
#endif

}  // namespace
}  // namespace ritma::api
