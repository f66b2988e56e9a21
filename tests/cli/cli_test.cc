// The programs' help, version and `ritma keys`, run as a user would.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace ritma {
namespace {

using test::run_program;

TEST(Cli, RitmaHelpListsCommands) {
  auto r = run_program({RITMA_BIN, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("keys"), std::string::npos);
  EXPECT_NE(r.out.find("doctor"), std::string::npos);
  EXPECT_NE(r.out.find("RITMA_BASE_DIR"), std::string::npos);
}

TEST(Cli, VersionFlags) {
  auto r = run_program({RITMA_BIN, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("ritma ", 0), 0u) << r.out;
  r = run_program({REQUIEM_BIN, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("requiem ", 0), 0u) << r.out;
}

TEST(Cli, RequiemHelpSaysWhatExists) {
  auto r = run_program({REQUIEM_BIN, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"exec", "verify", "replay", "audit", "migrate", "serve", "doctor"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
  }
  EXPECT_EQ(r.out.find("Not yet built"), std::string::npos);
  // `requiem serve --help` is the help of the requiem-serve program it runs.
  auto serve = run_program({REQUIEM_BIN, "serve", "--help"});
  EXPECT_EQ(serve.exit_code, 0) << serve.err;
  EXPECT_NE(serve.out.find("--client-ca"), std::string::npos) << serve.out;
}

TEST(Cli, BadUsageFailsWithMessage) {
  auto r = run_program({RITMA_BIN, "--no-such-flag"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
  r = run_program({RITMA_BIN});
  EXPECT_NE(r.exit_code, 0);
  r = run_program({RITMA_BIN, "keys", "frobnicate"});
  EXPECT_NE(r.exit_code, 0);
}

TEST(Cli, KeysInitThenShow) {
  test::TempDir dir;
  const std::string base = (dir / "base").string();
  auto r = run_program({RITMA_BIN, "keys", "init", "--base-dir", base, "--json"},
                       {"RITMA_NODE_ID=node-a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto created = nlohmann::json::parse(r.out);
  EXPECT_EQ(created["name"], "ritma-node-node-a");
  EXPECT_EQ(created["created"], true);
  const std::string key_path = base + "/RITMA_OUT/_meta/keys/node.key";
  EXPECT_EQ(created["private_key_path"], key_path);
  struct stat st;
  ASSERT_EQ(stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((base + "/RITMA_OUT/_meta/keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  r = run_program({RITMA_BIN, "keys", "show", "--json"}, {"RITMA_BASE_DIR=" + base});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto shown = nlohmann::json::parse(r.out);
  EXPECT_EQ(shown["fingerprint"], created["fingerprint"]);
  EXPECT_EQ(shown["public_key"], created["public_key"]);

  r = run_program({RITMA_BIN, "keys", "show", "--base-dir", base});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find(created["fingerprint"].get<std::string>()), std::string::npos);

  r = run_program({RITMA_BIN, "keys", "init", "--base-dir", base}, {"RITMA_NODE_ID=node-a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
}

TEST(Cli, KeysShowWithoutKeySaysHowToCreate) {
  test::TempDir dir;
  auto r = run_program({RITMA_BIN, "keys", "show", "--base-dir", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ritma keys init"), std::string::npos) << r.err;
}

TEST(Cli, KeysInitRejectsBadNodeId) {
  test::TempDir dir;
  auto r = run_program(
      {RITMA_BIN, "keys", "init", "--base-dir", dir.path().string(), "--node-id", "bad id+"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("node id"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ritma
