// `requiem audit verify` against a real audit log (src/api/audit_log.h) in a SQLite file: a
// clean log verifies (exit 0), an UPDATE of one record's column and a DELETE of a record are
// each named (exit 1), a wrong key is reported, an unreadable database is exit 2.
#include <gtest/gtest.h>

#include <string>

#include "api/audit_log.h"
#include "api/db.h"
#include "api/schema.h"
#include "core/blake3_hasher.h"
#include "core/key_file.h"
#include "test_util.h"

namespace ritma::cli {
namespace {

namespace fs = std::filesystem;
using test::run_program;

const std::string kRequiem = REQUIEM_BIN;

// Runs one statement as the database's owner (tampering, as an attacker with file access).
void exec_sql(api::Db& db, const std::string& sql) {
  auto txn = db.begin_admin();
  ASSERT_TRUE(txn.ok()) << txn.error().message;
  auto r = txn->query(sql);
  ASSERT_TRUE(r.ok()) << sql << ": " << r.error().message;
  ASSERT_TRUE(txn->commit().ok());
}

class RequiemAuditCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_ / "control.db";
    auto db = api::Db::open("sqlite:" + db_path_.string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    auto migrated = api::apply_migrations(*db_);
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    api::AuditLogConfig config;
    config.origin = api::audit_origin("cli-test");
    config.signer = &key_;
    config.checkpoint_every = 10;
    auto writer = api::AuditWriter::create(config);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    for (int i = 0; i < 25; ++i) {
      api::AuditRecord r;
      r.time_ns = 1'780'000'000'000'000'000 + int64_t{i};
      r.tenant = i % 2 == 0 ? "acme" : "globex";
      r.actor = "user:" + std::to_string(i);
      r.action = "exec";
      r.decision = api::Decision::kAllow;
      r.tool = "sort";
      r.input_digest = blake3(as_bytes("in" + std::to_string(i)));
      auto txn = db_->begin(r.tenant);
      ASSERT_TRUE(txn.ok()) << txn.error().message;
      auto appended = writer->append(*txn, r);
      ASSERT_TRUE(appended.ok()) << appended.error().message;
      ASSERT_TRUE(txn->commit().ok());
    }
    auto txn = db_->begin_admin();
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    ASSERT_TRUE(writer->checkpoint(*txn, 1'780'000'001'000'000'000).ok());
    ASSERT_TRUE(txn->commit().ok());
    pub_path_ = dir_ / "audit.pub";
    const std::string pub = format_public_key(key_.name, key_.key.public_key()) + "\n";
    test::write_file_bytes(pub_path_, as_bytes(pub));
  }

  test::RunResult verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{
        kRequiem, "audit",           "verify", "--db", "sqlite:" + db_path_.string(),
        "--key",  pub_path_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_program(argv);
  }

  test::TempDir dir_;
  fs::path db_path_, pub_path_;
  std::unique_ptr<api::Db> db_;
  NamedSigningKey key_{"requiem-audit-cli-test", SigningKey::generate()};
};

TEST_F(RequiemAuditCli, ACleanLogVerifies) {
  const auto r = verify();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("records:     25"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result:      VERIFIED"), std::string::npos) << r.out;

  const auto j = verify({"--json", "--origin", api::audit_origin("cli-test")});
  EXPECT_EQ(j.exit_code, 0) << j.out << j.err;
  EXPECT_NE(j.out.find("\"ok\": true"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"records\": 25"), std::string::npos) << j.out;
}

TEST_F(RequiemAuditCli, AnUpdatedRecordIsNamed) {
  exec_sql(*db_, "UPDATE audit_records SET tenant = 'globex' WHERE seq = 12");
  const auto r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("result:      INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("problem:     record 12: tenant"), std::string::npos) << r.out;
}

TEST_F(RequiemAuditCli, ADeletedRecordIsNamed) {
  exec_sql(*db_, "DELETE FROM audit_records WHERE seq = 7");
  const auto r = verify({"--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("\"ok\": false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"seq\": 7"), std::string::npos) << r.out;
}

TEST_F(RequiemAuditCli, AnotherKeyFailsTheCheckpoints) {
  const NamedSigningKey other{"requiem-audit-cli-test", SigningKey::generate()};
  test::write_file_bytes(pub_path_,
                         as_bytes(format_public_key(other.name, other.key.public_key()) + "\n"));
  const auto r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("checkpoint at tree size"), std::string::npos) << r.out;
}

TEST_F(RequiemAuditCli, UnreadableInputIsExitTwo) {
  auto r = run_program({kRequiem, "audit", "verify", "--db",
                        "sqlite:" + (dir_ / "none.db").string(), "--key", pub_path_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  // A PostgreSQL URL is accepted; nothing listens there.
  r = run_program({kRequiem, "audit", "verify", "--db",
                   "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2", "--key",
                   pub_path_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  r = run_program(
      {kRequiem, "audit", "verify", "--db", "mysql://h/x", "--key", pub_path_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  r = run_program({kRequiem, "audit", "verify", "--db", "sqlite:" + db_path_.string(), "--key",
                   (dir_ / "missing.pub").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace ritma::cli
