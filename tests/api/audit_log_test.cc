// The control plane's audit log (src/api/audit_log.h) on real SQLite files: canonical records,
// appends inside the caller's transaction (rollback, two connections, two threads), every
// kind of tampering named by verify, checkpoint cadence, proofs checked with core/merkle.h, and
// the checkpoint signature checked by PyNaCl with no project code.
#include "api/audit_log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/blake3_hasher.h"
#include "core/signed_note.h"
#include "store/sqlite_handles.h"
#include "test_util.h"

namespace ritma::api {
namespace {

using store::DbPtr;
using Where = AuditProblem::Where;

const std::string kScripts = RITMA_API_TEST_SCRIPTS_DIR;
const std::string kOrigin = "requiem-audit/test-log";

NamedSigningKey test_key(const std::string& name = "requiem-audit-test") {
  auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  return NamedSigningKey{name, SigningKey::from_seed(*seed).value()};
}

NamedPublicKey public_of(const NamedSigningKey& k) {
  return NamedPublicKey{k.name, k.key.public_key(), note_key_id(k.name, k.key.public_key())};
}

DbPtr open_db(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr),
      SQLITE_OK);
  DbPtr db(raw);
  sqlite3_busy_timeout(raw, 20000);
  EXPECT_EQ(sqlite3_exec(raw, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  return db;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
}

int64_t query_int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
  store::StmtPtr owner(s);
  EXPECT_EQ(sqlite3_step(s), SQLITE_ROW) << sql;
  return sqlite3_column_int64(s, 0);
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

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = open_db(dir_ / "control.db");
    exec(db_.get(), "CREATE TABLE budgets(tenant TEXT PRIMARY KEY, cpu_ms INTEGER NOT NULL)");
  }

  AuditWriter writer(sqlite3* db, uint64_t every = 1000,
                     int64_t interval_ns = int64_t{3600} * 1'000'000'000) {
    AuditLogConfig c;
    c.origin = kOrigin;
    c.signer = &key_;
    c.checkpoint_every = every;
    c.checkpoint_interval_ns = interval_ns;
    auto w = AuditWriter::open(db, c);
    EXPECT_TRUE(w.ok()) << w.error().message;
    return std::move(w).value();
  }

  // Appends records first..first+n-1 (sample data), `batch` per committed transaction.
  void append_committed(sqlite3* db, AuditWriter& w, int first, int n, int batch = 1) {
    for (int i = first; i < first + n; i += batch) {
      exec(db, "BEGIN IMMEDIATE");
      std::vector<AuditRecord> rs;
      for (int j = i; j < std::min(first + n, i + batch); ++j) rs.push_back(sample(j));
      auto r = w.append(rs);
      ASSERT_TRUE(r.ok()) << r.error().message;
      exec(db, "COMMIT");
    }
  }

  void force_checkpoint(sqlite3* db, AuditWriter& w) {
    exec(db, "BEGIN IMMEDIATE");
    auto r = w.checkpoint(1'790'000'000'000'000'000);
    ASSERT_TRUE(r.ok()) << r.error().message;
    exec(db, "COMMIT");
  }

  AuditVerifyReport verify(sqlite3* db, const NamedPublicKey* key = nullptr) {
    AuditVerifyOptions o;
    o.key = key != nullptr ? *key : public_of(key_);
    o.origin = kOrigin;
    auto r = verify_audit_log(db, o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r).value() : AuditVerifyReport{};
  }

  // A log of `n` records with a checkpoint covering all of them.
  void build_log(int n, uint64_t every = 4) {
    AuditWriter w = writer(db_.get(), every);
    append_committed(db_.get(), w, 0, n);
    force_checkpoint(db_.get(), w);
    const AuditVerifyReport rep = verify(db_.get());
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
  DbPtr db_;
};

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

TEST_F(AuditLogTest, AppendOutsideATransactionIsRefused) {
  AuditWriter w = writer(db_.get());
  AuditRecord r = sample(0);
  auto res = w.append(r);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("BEGIN IMMEDIATE"), std::string::npos);
  EXPECT_EQ(query_int(db_.get(), "SELECT count(*) FROM audit_records"), 0);
}

TEST_F(AuditLogTest, RolledBackTransactionLeavesNoRecord) {
  AuditWriter w = writer(db_.get(), 1);
  exec(db_.get(), "BEGIN IMMEDIATE");
  exec(db_.get(), "INSERT INTO budgets VALUES ('acme', 1000)");
  AuditRecord r = sample(0);
  auto res = w.append(r);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->checkpoint_size, std::optional<uint64_t>(1));
  exec(db_.get(), "ROLLBACK");
  EXPECT_EQ(query_int(db_.get(), "SELECT count(*) FROM audit_records"), 0);
  EXPECT_EQ(query_int(db_.get(), "SELECT count(*) FROM audit_checkpoints"), 0);
  EXPECT_EQ(query_int(db_.get(), "SELECT count(*) FROM budgets"), 0);

  // The state change and its record commit together; the chain starts at seq 0.
  exec(db_.get(), "BEGIN IMMEDIATE");
  exec(db_.get(), "INSERT INTO budgets VALUES ('acme', 1000)");
  AuditRecord again = sample(0);
  ASSERT_TRUE(w.append(again).ok());
  exec(db_.get(), "COMMIT");
  EXPECT_EQ(again.seq, 0u);
  EXPECT_EQ(again.prev, Hash32{});
  EXPECT_EQ(query_int(db_.get(), "SELECT count(*) FROM audit_records"), 1);
  EXPECT_EQ(query_int(db_.get(), "SELECT count(*) FROM budgets"), 1);
  EXPECT_TRUE(verify(db_.get()).ok());
}

TEST_F(AuditLogTest, TwoConnectionsAppendingAlternatelyKeepOneChain) {
  DbPtr other = open_db(dir_ / "control.db");
  AuditWriter a = writer(db_.get(), 7);
  AuditWriter b = writer(other.get(), 7);
  for (int i = 0; i < 60; ++i) {
    sqlite3* db = i % 2 == 0 ? db_.get() : other.get();
    AuditWriter& w = i % 2 == 0 ? a : b;
    exec(db, "BEGIN IMMEDIATE");
    AuditRecord r = sample(i);
    ASSERT_TRUE(w.append(r).ok());
    exec(db, "COMMIT");
    EXPECT_EQ(r.seq, static_cast<uint64_t>(i));
  }
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 60u);
  EXPECT_EQ(rep.checkpoints, 9u);  // sizes 1, 8, 15, ..., 57
}

TEST_F(AuditLogTest, ConcurrentWritersOnSeparateConnectionsKeepOneChain) {
  writer(db_.get());  // creates the schema before the threads race
  auto worker = [&](int id) {
    DbPtr db = open_db(dir_ / "control.db");
    AuditWriter w = writer(db.get(), 50);
    for (int i = 0; i < 100; ++i) {
      exec(db.get(), "BEGIN IMMEDIATE");
      std::vector<AuditRecord> rs = {sample(id * 1000 + i), sample(id * 1000 + i)};
      auto r = w.append(rs);
      ASSERT_TRUE(r.ok()) << r.error().message;
      exec(db.get(), "COMMIT");
    }
  };
  std::thread t1(worker, 1);
  std::thread t2(worker, 2);
  t1.join();
  t2.join();
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 400u);
}

// Two server processes sharing one database file: each reads the tail inside its own
// BEGIN IMMEDIATE transaction, so the chain never forks.
TEST_F(AuditLogTest, TwoProcessesSharingTheDatabaseKeepOneChain) {
  writer(db_.get());
  std::vector<pid_t> children;
  for (int id = 1; id <= 2; ++id) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      DbPtr db = open_db(dir_ / "control.db");
      AuditLogConfig c;
      c.origin = kOrigin;
      c.signer = &key_;
      c.checkpoint_every = 16;
      auto w = AuditWriter::open(db.get(), c);
      if (!w.ok()) _exit(10);
      for (int i = 0; i < 150; ++i) {
        if (sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
          _exit(11);
        }
        AuditRecord r = sample(id * 1000 + i);
        if (!w->append(r).ok()) _exit(12);
        if (sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) _exit(13);
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
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 300u);
}

TEST_F(AuditLogTest, CheckpointsEveryNRecordsOrTMs) {
  {
    AuditWriter w = writer(db_.get(), 10, int64_t{3600} * 1'000'000'000);
    append_committed(db_.get(), w, 0, 35, 3);
    // The first append checkpoints (no checkpoint yet), then each call that reaches +10.
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db_.get(), "SELECT tree_size FROM audit_checkpoints ORDER BY tree_size",
                           -1, &s, nullptr),
        SQLITE_OK);
    store::StmtPtr owner(s);
    std::vector<int64_t> sizes;
    while (sqlite3_step(s) == SQLITE_ROW) sizes.push_back(sqlite3_column_int64(s, 0));
    EXPECT_EQ(sizes, (std::vector<int64_t>{3, 15, 27}));
  }
  // By time: sample(i) is i µs after sample(0); with a 5 µs interval the first record
  // checkpoints, then records 5 and 10 (5 µs after the last checkpoint's record).
  test::TempDir d2;
  DbPtr db2 = open_db(d2 / "t.db");
  AuditWriter w = writer(db2.get(), 1000, 5'000);
  append_committed(db2.get(), w, 0, 13);
  EXPECT_EQ(query_int(db2.get(), "SELECT count(*) FROM audit_checkpoints"), 3);  // 1, 6, 11
  EXPECT_EQ(query_int(db2.get(), "SELECT max(tree_size) FROM audit_checkpoints"), 11);
  EXPECT_TRUE(verify(db2.get()).ok());
}

// Every column of one record, changed by SQL, is named with the record's seq and the column.
TEST_F(AuditLogTest, UpdateOfAnyColumnIsNamed) {
  const std::vector<std::pair<std::string, std::string>> updates = {
      {"time_ns", "time_ns = time_ns + 1"},
      {"tenant", "tenant = 'evil'"},
      {"actor", "actor = 'mallory'"},
      {"action", "action = 'delete'"},
      {"decision", "decision = 'deny'"},
      {"tool", "tool = 'bash'"},
      {"input_digest", "input_digest = NULL"},
      {"latency_ns", "latency_ns = 1"},
      {"result_digest", "result_digest = zeroblob(32)"},
      {"leaf_hash", "leaf_hash = zeroblob(32)"},
  };
  build_log(10);
  exec(db_.get(), "VACUUM INTO '" + (dir_ / "pristine.db").string() + "'");
  for (const auto& [column, set] : updates) {
    SCOPED_TRACE(column);
    std::filesystem::copy_file(dir_ / "pristine.db", dir_ / "t.db",
                               std::filesystem::copy_options::overwrite_existing);
    DbPtr db = open_db(dir_ / "t.db");
    exec(db.get(), "UPDATE audit_records SET " + set + " WHERE seq = 5");
    const AuditVerifyReport rep = verify(db.get());
    EXPECT_FALSE(rep.ok());
    EXPECT_TRUE(has(rep, Where::kRecord, 5, column)) << dump(rep);
  }
}

TEST_F(AuditLogTest, UpdateOfTheCanonicalBytesIsNamed) {
  build_log(10);
  // Re-encoded with a different tenant: the record's own columns, the next record's prev and
  // the checkpoint's root all disagree.
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT canonical FROM audit_records WHERE seq = 5", -1,
                               &s, nullptr),
            SQLITE_OK);
  store::StmtPtr owner(s);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, 0));
  AuditRecord r =
      decode_record(ByteSpan(p, static_cast<size_t>(sqlite3_column_bytes(s, 0)))).value();
  owner.reset();
  r.tenant = "evil";
  const Bytes forged = encode_record(r).value();
  exec(db_.get(), "UPDATE audit_records SET canonical = x'" + to_hex(forged) + "' WHERE seq = 5");
  AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "tenant")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "leaf_hash")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 6, "prev")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "root")) << dump(rep);

  // Bytes that are not a record at all.
  exec(db_.get(), "UPDATE audit_records SET canonical = x'8f00' WHERE seq = 5");
  rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "canonical")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 6, "prev")) << dump(rep);
}

TEST_F(AuditLogTest, UpdateOfTheSeqIsNamed) {
  build_log(10);
  exec(db_.get(), "UPDATE audit_records SET seq = 100 WHERE seq = 5");
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kRecord, 5, "missing")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kRecord, 100, "seq")) << dump(rep);
}

TEST_F(AuditLogTest, DeleteOfAMiddleRecordIsNamed) {
  build_log(10);
  exec(db_.get(), "DELETE FROM audit_records WHERE seq = 4");
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kRecord, 4, "missing")) << dump(rep);
  // Checkpoints at 1, 5, 9 and 10: the tree of the rows left differs from size 5 on.
  EXPECT_FALSE(has(rep, Where::kCheckpoint, 1, "root")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 5, "root")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "tree_size")) << dump(rep);
}

TEST_F(AuditLogTest, DeleteOfTheLastRecordIsNamedThroughTheCheckpoint) {
  build_log(10);
  exec(db_.get(), "DELETE FROM audit_records WHERE seq = 9");
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kRecord, 9, "missing")) << dump(rep);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "tree_size")) << dump(rep);

  // The writer refuses to extend a log shorter than its newest checkpoint (it would sign a
  // tree inconsistent with one it signed).
  AuditWriter w = writer(db_.get());
  exec(db_.get(), "BEGIN IMMEDIATE");
  AuditRecord r = sample(10);
  auto res = w.append(r);
  exec(db_.get(), "ROLLBACK");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("records were deleted"), std::string::npos);
}

TEST_F(AuditLogTest, ForgedCheckpointsAreNamed) {
  build_log(10);
  // A note re-signed by another key under the same name, over a forged root.
  const NamedSigningKey forger{"requiem-audit-test", SigningKey::generate()};
  note::Checkpoint cp{kOrigin, 10, blake3(as_bytes("forged")), {}};
  const std::string forged = note::sign(note::checkpoint_body(cp), {&forger}).value();
  exec(db_.get(), "UPDATE audit_checkpoints SET note = '" + forged + "', root = x'" +
                      to_hex(cp.root) + "' WHERE tree_size = 10");
  AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 10, "signature")) << dump(rep);

  // A flipped signature byte in a genuine note (checkpoints are at sizes 1, 5, 9 and 10).
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT note FROM audit_checkpoints WHERE tree_size = 5",
                               -1, &s, nullptr),
            SQLITE_OK);
  store::StmtPtr owner(s);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  std::string note(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  owner.reset();
  const size_t sig = note.rfind(' ') + 12;  // inside the signature's base64, past the key id
  note[sig] = note[sig] == 'A' ? 'B' : 'A';
  exec(db_.get(), "UPDATE audit_checkpoints SET note = '" + note + "' WHERE tree_size = 5");
  rep = verify(db_.get());
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 5, "signature")) << dump(rep);

  // The pinned key decides: the genuine log under an unexpected key fails everywhere.
  const NamedPublicKey other = public_of(forger);
  rep = verify(db_.get(), &other);
  EXPECT_TRUE(has(rep, Where::kCheckpoint, 1, "signature")) << dump(rep);
}

TEST_F(AuditLogTest, ProofsVerifyWithCoreMerkle) {
  AuditWriter w = writer(db_.get(), 5);
  append_committed(db_.get(), w, 0, 23, 2);
  force_checkpoint(db_.get(), w);
  auto cp = latest_checkpoint(db_.get());
  ASSERT_TRUE(cp.ok() && cp->has_value());
  const auto opened = note::open((*cp)->note, {public_of(key_)});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const note::Checkpoint body = note::parse_checkpoint_body(opened->body).value();
  EXPECT_EQ(body.size, 23u);
  for (uint64_t seq = 0; seq < 23; ++seq) {
    auto p = audit_inclusion_proof(db_.get(), seq);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(decode_record(p->canonical).value().seq, seq);
    EXPECT_TRUE(merkle::verify_inclusion(record_leaf_hash(p->canonical), seq, p->tree_size, p->path,
                                         body.root))
        << seq;
  }
  // Between every pair of checkpointed sizes.
  std::vector<std::pair<uint64_t, Hash32>> roots;
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT tree_size, root FROM audit_checkpoints", -1, &s,
                               nullptr),
            SQLITE_OK);
  store::StmtPtr owner(s);
  while (sqlite3_step(s) == SQLITE_ROW) {
    Hash32 h;
    std::memcpy(h.data(), sqlite3_column_blob(s, 1), 32);
    roots.emplace_back(static_cast<uint64_t>(sqlite3_column_int64(s, 0)), h);
  }
  ASSERT_GE(roots.size(), 4u);
  for (const auto& [old_size, old_root] : roots) {
    for (const auto& [new_size, new_root] : roots) {
      if (old_size > new_size) continue;
      auto p = audit_consistency_proof(db_.get(), old_size, new_size);
      ASSERT_TRUE(p.ok()) << p.error().message;
      EXPECT_FALSE(p->old_checkpoint.empty());
      EXPECT_TRUE(merkle::verify_consistency(old_size, new_size, old_root, new_root, p->path))
          << old_size << " -> " << new_size;
    }
  }
  EXPECT_FALSE(audit_inclusion_proof(db_.get(), 23).ok());  // not covered yet
}

// PyNaCl and hashlib alone (no project code) verify the checkpoint's C2SP signature, key id
// and RFC 9162 root over the records' canonical bytes.
TEST_F(AuditLogTest, CheckpointVerifiesWithPyNaClAlone) {
  build_log(13);
  const auto cp = latest_checkpoint(db_.get()).value().value();
  const std::string script = kScripts + "/checkpoint_verify.py";
  {
    std::ofstream(dir_ / "checkpoint") << cp.note;
    std::ofstream(dir_ / "key.pub") << format_public_key(key_.name, key_.key.public_key()) << "\n";
    std::ofstream leaves(dir_ / "leaves.hex");
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT hex(canonical) FROM audit_records ORDER BY seq",
                                 -1, &s, nullptr),
              SQLITE_OK);
    store::StmtPtr owner(s);
    while (sqlite3_step(s) == SQLITE_ROW) {
      leaves << reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) << "\n";
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

// A load run: many appends in batches, with checkpoints by count, verify passes.
TEST_F(AuditLogTest, LoadRunVerifies) {
  AuditWriter w = writer(db_.get(), 1000);
  append_committed(db_.get(), w, 0, 20000, 250);
  force_checkpoint(db_.get(), w);
  const AuditVerifyReport rep = verify(db_.get());
  EXPECT_TRUE(rep.ok()) << dump(rep);
  EXPECT_EQ(rep.records, 20000u);
  EXPECT_EQ(rep.checkpoints, 21u);
}

}  // namespace
}  // namespace ritma::api
