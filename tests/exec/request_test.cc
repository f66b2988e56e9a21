// Requiem's request model: every execution-affecting field moves the digest (table-driven, with
// a check that the table covers every field), the environment is built from nothing (secrets
// dropped and reported, deny beats allow), the parser refuses hostile or wrong input naming
// the field, inputs are checked before the run, and the canonical bytes match the spec.
#include "exec/request.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "core/cbor.h"
#include "exec/seccomp_policy.h"
#include "test_util.h"

namespace ritma::exec {

// ---- counting the fields of an aggregate (so a new field cannot miss the digest table) ----

// Converts to anything; declared only, for unevaluated aggregate initialization (outside the
// anonymous namespace, so clang does not ask for a definition).
struct AnyField {
  template <typename T>
  operator T() const&&;
};

namespace {

using nlohmann::json;
using Env = std::vector<std::string>;  // a caller's environment, "K=V" each

template <typename T, size_t... I>
constexpr bool aggregate_takes(std::index_sequence<I...>) {
  return requires {
    T{(static_cast<void>(I), AnyField{})...};
  };
}

template <typename T, size_t N = 0>
constexpr size_t aggregate_field_count() {
  if constexpr (aggregate_takes<T>(std::make_index_sequence<N + 1>{})) {
    return aggregate_field_count<T, N + 1>();
  } else {
    return N;
  }
}

// When one of these fails, a field was added or removed: update the digest table below
// (field_mutators()), canonical_request(), to_json(), request_from_json(), the fuzzer's seeds
// and docs/REQUIEM.md Part B, then the count here.
static_assert(aggregate_field_count<Request>() == 17);
static_assert(aggregate_field_count<Limits>() == 6);
static_assert(aggregate_field_count<InputSpec>() == 3);
static_assert(aggregate_field_count<Bind>() == 3);
static_assert(aggregate_field_count<DeterministicTime>() == 1);

Hash32 hash_of(std::string_view hex) {
  auto h = hash32_from_hex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash32{};
}

// BLAKE3 and SHA-256 of "abc" (published test vectors, not computed here).
const char kAbcBlake3[] = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85";
const char kAbcSha256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

const std::vector<std::string> kCallerEnv = {"PATH=/usr/bin:/bin",
                                             "LC_CTYPE=C.UTF-8",
                                             "LC_ALL=C",
                                             "LC_TIME=en_GB.UTF-8",
                                             "HOME=/root",
                                             "USER=ci",
                                             "GITHUB_TOKEN=ghp_leak1",
                                             "AWS_SECRET_ACCESS_KEY=leak2"};

// Every field set, every optional present: the base of the digest table.
Request full_request() {
  Request r;
  r.command = "/usr/bin/sort";
  r.args = {"-o", "out/sorted.txt", "in.txt"};
  r.env = {{"LANG", "C.UTF-8"}, {"MODE", "fast"}};
  r.env_allow = {"PATH", "LC_*"};
  r.env_deny = {"LC_ALL"};
  r.workspace = "/srv/job";
  r.cwd = "src";
  r.inputs = {{"in.txt", hash_of(kAbcBlake3), hash_of(kAbcSha256)},
              {"data/b.bin", hash_of(kAbcBlake3), std::nullopt}};
  r.outputs = {"out/sorted.txt", "out/log"};
  r.limits.wall_timeout_ms = 5000;
  r.network = NetworkMode::kNone;
  r.view = ViewMode::kBindsOnly;
  r.binds = {{"/usr", "/usr", false}, {"/srv/cache", "/cache", true}};
  r.seccomp_profile = "default";
  r.deterministic_time = DeterministicTime{1'700'000'000};
  r.allow_degraded = false;
  r.label = "nightly sort";
  return r;
}

std::string digest_hex(const Request& r, const std::vector<std::string>& caller = kCallerEnv) {
  EXPECT_TRUE(validate(r).ok()) << validate(r).error().message;
  auto env = resolve_environment(r, caller);
  EXPECT_TRUE(env.ok());
  if (!env.ok()) return "";
  const RequestDigest d = request_digest(r, *env);
  return to_hex(d.blake3) + "/" + to_hex(d.sha256);
}

struct FieldMutator {
  std::string field;  // the leaf path in to_json()
  std::string what;
  std::function<void(Request&)> mutate;
};

void flip(std::optional<Hash32>& h) {
  (*h)[0] ^= 1;
}

const std::vector<FieldMutator>& field_mutators() {
  static const std::vector<FieldMutator> table = {
      {"command", "other program", [](Request& r) { r.command = "/bin/sort"; }},
      {"args", "other argument", [](Request& r) { r.args[2] = "in2.txt"; }},
      {"args", "one more argument", [](Request& r) { r.args.push_back("-u"); }},
      {"args", "one argument less", [](Request& r) { r.args.pop_back(); }},
      {"args", "argument moved into the command",
       [](Request& r) {
         r.command += " -o";
         r.args.erase(r.args.begin());
       }},
      {"env", "other value", [](Request& r) { r.env["MODE"] = "slow"; }},
      {"env", "one more variable", [](Request& r) { r.env["EXTRA"] = "1"; }},
      {"env", "one variable less", [](Request& r) { r.env.erase("MODE"); }},
      {"env", "empty value", [](Request& r) { r.env["MODE"] = ""; }},
      {"env_allow", "allow HOME", [](Request& r) { r.env_allow.push_back("HOME"); }},
      {"env_allow", "allow no LC_*", [](Request& r) { r.env_allow = {"PATH"}; }},
      {"env_deny", "deny an explicit variable", [](Request& r) { r.env_deny.push_back("LANG"); }},
      {"env_deny", "deny nothing", [](Request& r) { r.env_deny.clear(); }},
      {"workspace", "other workspace", [](Request& r) { r.workspace = "/srv/job2"; }},
      {"cwd", "workspace root", [](Request& r) { r.cwd = "."; }},
      {"cwd", "deeper", [](Request& r) { r.cwd = "src/sub"; }},
      {"inputs[].path", "renamed", [](Request& r) { r.inputs[0].path = "in2.txt"; }},
      {"inputs[].path", "one input less", [](Request& r) { r.inputs.pop_back(); }},
      {"inputs[].path", "one more input",
       [](Request& r) {
         r.inputs.push_back({"c", hash_of(kAbcBlake3), std::nullopt});
       }},
      {"inputs[].blake3", "other digest", [](Request& r) { flip(r.inputs[0].blake3); }},
      {"inputs[].blake3", "absent", [](Request& r) { r.inputs[0].blake3.reset(); }},
      {"inputs[].sha256", "other digest", [](Request& r) { flip(r.inputs[0].sha256); }},
      {"inputs[].sha256", "absent", [](Request& r) { r.inputs[0].sha256.reset(); }},
      {"inputs[].sha256", "present", [](Request& r) { r.inputs[1].sha256 = hash_of(kAbcSha256); }},
      {"outputs", "renamed", [](Request& r) { r.outputs[1] = "out/log2"; }},
      {"outputs", "one more", [](Request& r) { r.outputs.push_back("out/extra"); }},
      {"outputs", "one less", [](Request& r) { r.outputs.pop_back(); }},
      {"limits.wall_timeout_ms", "+1", [](Request& r) { r.limits.wall_timeout_ms += 1; }},
      {"limits.cpu_seconds", "+1", [](Request& r) { r.limits.cpu_seconds += 1; }},
      {"limits.memory_bytes", "+1", [](Request& r) { r.limits.memory_bytes += 1; }},
      {"limits.pids", "+1", [](Request& r) { r.limits.pids += 1; }},
      {"limits.open_files", "+1", [](Request& r) { r.limits.open_files += 1; }},
      {"limits.output_bytes", "+1", [](Request& r) { r.limits.output_bytes += 1; }},
      {"network", "loopback", [](Request& r) { r.network = NetworkMode::kLoopback; }},
      {"network", "host", [](Request& r) { r.network = NetworkMode::kHost; }},
      {"filesystem.view", "rootfs-ro+workspace",
       [](Request& r) {
         r.view = ViewMode::kHostReadOnly;
         r.binds.clear();
       }},
      {"filesystem.binds[].src", "other source", [](Request& r) { r.binds[1].src = "/srv/c2"; }},
      {"filesystem.binds[].dst", "other target", [](Request& r) { r.binds[1].dst = "/c2"; }},
      {"filesystem.binds[].rw", "read-only", [](Request& r) { r.binds[1].rw = false; }},
      {"filesystem.binds[].rw", "read-write", [](Request& r) { r.binds[0].rw = true; }},
      {"filesystem.binds[].src", "order", [](Request& r) { std::swap(r.binds[0], r.binds[1]); }},
      {"filesystem.binds[].src", "one less", [](Request& r) { r.binds.pop_back(); }},
      {"seccomp_profile", "strict", [](Request& r) { r.seccomp_profile = "strict"; }},
      {"seccomp_profile", "none", [](Request& r) { r.seccomp_profile = "none"; }},
      {"seccomp_profile", "compat", [](Request& r) { r.seccomp_profile = "compat"; }},
      {"deterministic_time.source_date_epoch", "+1",
       [](Request& r) { r.deterministic_time->source_date_epoch += 1; }},
      {"deterministic_time.source_date_epoch", "0",
       [](Request& r) { r.deterministic_time->source_date_epoch = 0; }},
      {"deterministic_time.source_date_epoch", "off",
       [](Request& r) { r.deterministic_time.reset(); }},
      {"allow_degraded", "true", [](Request& r) { r.allow_degraded = true; }},
  };
  return table;
}

// Fields that do not affect execution, so not the digest.
const std::set<std::string> kNotInDigest = {"label"};

// The leaf paths of to_json(): objects that are part of the schema are walked ("limits.pids"),
// the entries of lists of objects as "inputs[].path"; `env` (a dictionary) is one leaf.
void collect_leaves(const json& v, const std::string& path, std::set<std::string>& out) {
  if (v.is_object() && path != "env") {
    for (auto it = v.begin(); it != v.end(); ++it) {
      collect_leaves(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    }
  } else if (v.is_array() && !v.empty() && v[0].is_object()) {
    for (const auto& e : v) collect_leaves(e, path + "[]", out);
  } else {
    out.insert(path);
  }
}

TEST(RequestDigest, EveryFieldIsInTheTable) {
  std::set<std::string> leaves;
  collect_leaves(to_json(full_request()), "", leaves);
  std::set<std::string> covered(kNotInDigest);
  for (const auto& m : field_mutators()) covered.insert(m.field);
  EXPECT_EQ(leaves, covered) << "to_json() and the digest table disagree on the fields";
  EXPECT_EQ(leaves.size(), 26u);
}

TEST(RequestDigest, ChangingAnyExecutionFieldChangesTheDigest) {
  const Request base = full_request();
  const std::string base_digest = digest_hex(base);
  std::map<std::string, std::string> seen = {{base_digest, "base"}};
  for (const auto& m : field_mutators()) {
    Request changed = base;
    m.mutate(changed);
    ASSERT_TRUE(validate(changed).ok())
        << m.field << " (" << m.what << "): " << validate(changed).error().message;
    const std::string d = digest_hex(changed);
    EXPECT_NE(d, base_digest) << m.field << " (" << m.what << ") did not change the digest";
    auto [it, fresh] = seen.emplace(d, m.field + " (" + m.what + ")");
    EXPECT_TRUE(fresh) << m.field << " (" << m.what << ") gives the digest of " << it->second;
  }
}

TEST(RequestDigest, FieldsThatDoNotAffectExecutionDoNot) {
  const Request base = full_request();
  const std::string d = digest_hex(base);
  Request r = base;
  r.label = "another label";
  EXPECT_EQ(digest_hex(r), d) << "label";
  r = base;
  std::reverse(r.inputs.begin(), r.inputs.end());
  EXPECT_EQ(digest_hex(r), d) << "input order";
  r = base;
  std::reverse(r.outputs.begin(), r.outputs.end());
  EXPECT_EQ(digest_hex(r), d) << "output order";
  r = base;
  r.env_allow = {"LC_*", "PATH", "PATH"};
  EXPECT_EQ(digest_hex(r), d) << "allow list order";
  r = base;
  r.env_allow.push_back("NOT_IN_CALLER_ENV");
  EXPECT_EQ(digest_hex(r), d) << "allowing a variable the caller does not have";
  // Variables the request did not allow, and secrets, leave no trace in the digest.
  std::vector<std::string> caller = kCallerEnv;
  caller.push_back("UNRELATED=1");
  caller.push_back("NPM_TOKEN=other");
  caller.push_back("GITHUB_TOKEN=ghp_other");
  EXPECT_EQ(digest_hex(base, caller), d) << "unallowed caller variables";
  // Only the resolved environment counts: denying a variable is not setting it.
  Request denied = base;
  denied.env_deny.push_back("MODE");
  Request unset = base;
  unset.env.erase("MODE");
  EXPECT_EQ(digest_hex(denied), digest_hex(unset));
}

TEST(RequestDigest, RecordedRequestReplaysToTheSameDigest) {
  const Request base = full_request();
  auto env = resolve_environment(base, kCallerEnv);
  ASSERT_TRUE(env.ok());
  const Request recorded = recorded_request(base, *env);
  ASSERT_TRUE(validate(recorded).ok()) << validate(recorded).error().message;
  EXPECT_TRUE(recorded.env_allow.empty());
  EXPECT_TRUE(recorded.env_deny.empty());
  // Replayed by another caller with another environment: the same variables, the same digest.
  const std::vector<std::string> other_caller = {"PATH=/opt/evil", "LC_CTYPE=xx", "HOME=/x"};
  auto again = resolve_environment(recorded, other_caller);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->vars, env->vars);
  EXPECT_TRUE(again->dropped.empty());
  EXPECT_EQ(digest_hex(recorded, other_caller), digest_hex(base));
  // And it survives the bundle's JSON.
  auto parsed = parse_request(to_json(recorded).dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, recorded);
}

// The canonical bytes of docs/REQUIEM.md Part B's examples, written by an independent
// 20-line CBOR encoder (Python) and hashed by b3sum and sha256sum.
TEST(RequestDigest, CanonicalBytesMatchTheSpec) {
  Request minimal;
  minimal.command = "/bin/true";
  minimal.workspace = "/w";
  auto env = resolve_environment(minimal, kCallerEnv);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(to_hex(canonical_request(minimal, *env)),
            "8f717265717569656d2d726571756573744031692f62696e2f747275658080622f77612e808086"
            "19ea60183c1a200000001901001904001a04000000646e6f6e6573726f6f7466732d726f2b776f72"
            "6b7370616365806764656661756c74f6f4");
  RequestDigest d = request_digest(minimal, *env);
  EXPECT_EQ(to_hex(d.blake3), "89974d302ebcd0bb65d567174723d380c44d640ef3d3f34e3ab958a1e76bf645");
  EXPECT_EQ(to_hex(d.sha256), "165c88ca2cba6e32d4e0cb8933a8a08718e7e6d16a3d93befa5c95c763d47300");

  Request r;
  r.command = "/usr/bin/sort";
  r.args = {"-o", "out.txt", "in.txt"};
  r.env = {{"LANG", "C.UTF-8"}};
  r.workspace = "/srv/job";
  r.inputs = {{"in.txt", hash_of(kAbcBlake3), hash_of(kAbcSha256)}};
  r.outputs = {"out.txt"};
  r.limits = {5000, 10, 256 << 20, 64, 256, 1 << 20};
  r.network = NetworkMode::kLoopback;
  r.view = ViewMode::kBindsOnly;
  r.binds = {{"/usr", "/usr", false}, {"/srv/cache", "/cache", true}};
  r.seccomp_profile = "strict";
  r.deterministic_time = DeterministicTime{1'700'000'000};
  r.allow_degraded = true;
  r.label = "not hashed";
  auto env2 = resolve_environment(r, kCallerEnv);
  ASSERT_TRUE(env2.ok());
  const Bytes bytes = canonical_request(r, *env2);
  EXPECT_EQ(to_hex(request_digest(r, *env2).blake3),
            "d10db92fa615a7827e62dded53a7b9bcee1b2a4c9a2cb4a12344c883c8ffc757");
  EXPECT_EQ(to_hex(request_digest(r, *env2).sha256),
            "caff270cd32a2f317129067faa54909ed3a82177d42cc390db40b45c7aeb6c82");
  // The project's strict decoder accepts it: canonical, no maps, 15 elements, tag first.
  auto decoded = cbor::decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->as_array().size(), 15u);
  EXPECT_EQ(decoded->as_array()[0].as_text(), kRequestDigestTag);
}

// ---- the environment ----

std::map<std::string, std::string> vars_of(const ResolvedEnvironment& env) {
  return {env.vars.begin(), env.vars.end()};
}

const DroppedEnv* find_dropped(const ResolvedEnvironment& env, std::string_view name) {
  for (const auto& d : env.dropped) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Request env_request() {
  Request r;
  r.command = "/usr/bin/env";
  r.workspace = "/srv/job";
  return r;
}

TEST(RequestEnvironment, NothingFromTheCallerUnlessAllowed) {
  auto env = resolve_environment(env_request(), kCallerEnv);
  ASSERT_TRUE(env.ok());
  EXPECT_TRUE(env->vars.empty());
  EXPECT_TRUE(env->dropped.empty()) << "not asking is not dropping";

  Request r = env_request();
  r.env = {{"A", "1"}};
  r.env_allow = {"PATH", "LC_C*"};
  env = resolve_environment(r, kCallerEnv);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env), (std::map<std::string, std::string>{
                               {"A", "1"}, {"LC_CTYPE", "C.UTF-8"}, {"PATH", "/usr/bin:/bin"}}));
  EXPECT_EQ(to_envp(*env),
            (std::vector<std::string>{"A=1", "LC_CTYPE=C.UTF-8", "PATH=/usr/bin:/bin"}));
}

TEST(RequestEnvironment, ExplicitBeatsCallerAndFirstCallerEntryWins) {
  Request r = env_request();
  r.env = {{"PATH", "/sandbox/bin"}};
  r.env_allow = {"PATH", "DUP"};
  auto env = resolve_environment(r, Env{"DUP=first", "DUP=second", "NOEQUALS", "=x", "PATH=/host"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env),
            (std::map<std::string, std::string>{{"DUP", "first"}, {"PATH", "/sandbox/bin"}}));
}

TEST(RequestEnvironment, SecretsAreDroppedEvenWhenAllowedAndReportedByNameOnly) {
  Request r = env_request();
  r.env_allow = {"GITHUB_TOKEN", "AWS_*", "PATH"};
  r.env = {{"NPM_TOKEN", "npm_leak3"}, {"DB_PASSWORD", "leak4"}, {"OK", "fine"}};
  auto env = resolve_environment(r, kCallerEnv);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env),
            (std::map<std::string, std::string>{{"OK", "fine"}, {"PATH", "/usr/bin:/bin"}}));
  ASSERT_EQ(env->dropped.size(), 4u);
  for (const auto& [name, from_caller] : {std::pair{"GITHUB_TOKEN", true},
                                          {"AWS_SECRET_ACCESS_KEY", true},
                                          {"NPM_TOKEN", false},
                                          {"DB_PASSWORD", false}}) {
    const DroppedEnv* d = find_dropped(*env, name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(d->reason, DropReason::kSecret) << name;
    EXPECT_EQ(d->from_caller, from_caller) << name;
  }
  EXPECT_TRUE(std::is_sorted(env->dropped.begin(), env->dropped.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
  // No value appears anywhere in the report.
  for (const auto& d : env->dropped) {
    for (const char* leak : {"ghp_leak1", "leak2", "npm_leak3", "leak4"}) {
      EXPECT_EQ(d.name.find(leak), std::string::npos);
      EXPECT_EQ(d.rule.find(leak), std::string::npos);
    }
  }
  // Nor in the recorded request or its digest input.
  const Request recorded = recorded_request(r, *env);
  const std::string text = to_json(recorded).dump();
  const Bytes canonical = canonical_request(recorded, *env);
  const std::string canonical_text(canonical.begin(), canonical.end());
  for (const char* leak : {"ghp_leak1", "leak2", "npm_leak3", "leak4"}) {
    EXPECT_EQ(text.find(leak), std::string::npos) << leak;
    EXPECT_EQ(canonical_text.find(leak), std::string::npos) << leak;
  }
}

TEST(RequestEnvironment, DenyBeatsAllowAndExplicit) {
  Request r = env_request();
  r.env_allow = {"LC_*", "PATH"};
  r.env_deny = {"LC_ALL", "LC_T*", "MODE"};
  r.env = {{"MODE", "x"}, {"KEEP", "y"}};
  auto env = resolve_environment(r, kCallerEnv);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env), (std::map<std::string, std::string>{
                               {"KEEP", "y"}, {"LC_CTYPE", "C.UTF-8"}, {"PATH", "/usr/bin:/bin"}}));
  ASSERT_EQ(env->dropped.size(), 3u);
  EXPECT_EQ(env->dropped[0], (DroppedEnv{"LC_ALL", DropReason::kDenied, "env_deny LC_ALL", true}));
  EXPECT_EQ(env->dropped[1], (DroppedEnv{"LC_TIME", DropReason::kDenied, "env_deny LC_T*", true}));
  EXPECT_EQ(env->dropped[2], (DroppedEnv{"MODE", DropReason::kDenied, "env_deny MODE", false}));
  EXPECT_EQ(dropped_env_json(env->dropped).dump(),
            R"([{"from":"caller","name":"LC_ALL","reason":"denied","rule":"env_deny LC_ALL"},)"
            R"({"from":"caller","name":"LC_TIME","reason":"denied","rule":"env_deny LC_T*"},)"
            R"({"from":"env","name":"MODE","reason":"denied","rule":"env_deny MODE"}])");
}

TEST(RequestEnvironment, UnusableCallerVariablesAreDroppedAsInvalid) {
  Request r = env_request();
  r.env_allow = {"FOO*"};
  auto env = resolve_environment(
      r, Env{"FOO.BAR=1", std::string("FOO_BIN=\xff\xfe"), "FOO_OK=1", "FOO_URL=https://u:p@h/"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env), (std::map<std::string, std::string>{{"FOO_OK", "1"}}));
  ASSERT_EQ(env->dropped.size(), 3u);
  EXPECT_EQ(find_dropped(*env, "FOO.BAR")->reason, DropReason::kInvalid);
  EXPECT_EQ(find_dropped(*env, "FOO_BIN")->reason, DropReason::kInvalid);
  EXPECT_EQ(find_dropped(*env, "FOO_URL")->reason, DropReason::kSecret);
  // A name that is not text is reported printably.
  env = resolve_environment(r, Env{std::string("FOO\x01\xff=1")});
  ASSERT_TRUE(env.ok());
  ASSERT_EQ(env->dropped.size(), 1u);
  EXPECT_EQ(env->dropped[0].name, "FOO\\x01\\xff");
}

TEST(RequestEnvironment, SecretNameRules) {
  for (const char* secret : {"GITHUB_TOKEN",
                             "GH_TOKEN",
                             "github_token",
                             "CI_JOB_TOKEN",
                             "HF_TOKEN",
                             "ACCESSTOKEN",
                             "AWS_REGION",
                             "AWS_SECRET_ACCESS_KEY",
                             "aws_profile",
                             "OPENAI_API_KEY",
                             "APIKEY",
                             "STRIPE_SECRET",
                             "CLIENT_SECRETS",
                             "DB_PASSWORD",
                             "PGPASSWORD",
                             "MYSQL_PWD",
                             "DB_PASS",
                             "LDAP_PASSWD",
                             "GPG_PASSPHRASE",
                             "GOOGLE_APPLICATION_CREDENTIALS",
                             "CREDENTIALS_DIRECTORY",
                             "SSH_AUTH_SOCK",
                             "GPG_AGENT_INFO",
                             "KRB5CCNAME",
                             "DATABASE_URL",
                             "NPM_CONFIG__AUTH",
                             "npm_config__auth",
                             "DOCKER_AUTH_CONFIG",
                             "HTTP_AUTHORIZATION",
                             "GH_PAT",
                             "AZURE_DEVOPS_EXT_PAT",
                             "SESSION_COOKIE",
                             "SSH_KEYS",
                             "PRIVATE_KEY",
                             "KEY",
                             "SIGNING_KEY_FILE",
                             "REQUIEM_SIGNING_KEY",
                             "GNOME_KEYRING_CONTROL",
                             "MY_JWT"}) {
    EXPECT_TRUE(secret_name_rule(secret).has_value()) << secret;
  }
  for (const char* plain : {"PATH",
                            "HOME",
                            "USER",
                            "LANG",
                            "LC_ALL",
                            "TERM",
                            "PWD",
                            "OLDPWD",
                            "SHELL",
                            "TZ",
                            "KEYBOARD",
                            "XKB_DEFAULT_KEYMAP",
                            "TOKENIZERS_PARALLELISM",
                            "GIT_AUTHOR_NAME",
                            "AUTHOR",
                            "PATTERN",
                            "PAT",
                            "PASSAGE",
                            "SOURCE_DATE_EPOCH",
                            "MAKEFLAGS",
                            "CC",
                            "TMPDIR",
                            "DISPLAY",
                            "XDG_RUNTIME_DIR",
                            "HOSTNAME",
                            "LD_LIBRARY_PATH"}) {
    EXPECT_FALSE(secret_name_rule(plain).has_value())
        << plain << ": " << secret_name_rule(plain).value_or("");
  }
}

TEST(RequestEnvironment, UrlCredentialsInValuesAreSecrets) {
  Request r = env_request();
  r.env = {{"http_proxy", "http://user:pw@proxy:3128"},
           {"https_proxy", "http://proxy:3128"},
           {"GIT_REMOTE", "https://ghp_x@github.com/o/r"},
           {"NOTE", "mail me at a@b.c"}};
  auto env = resolve_environment(r, {});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env),
            (std::map<std::string, std::string>{{"NOTE", "mail me at a@b.c"},
                                                {"https_proxy", "http://proxy:3128"}}));
  EXPECT_EQ(env->dropped.size(), 2u);
}

TEST(RequestEnvironment, DeterministicTimeSetsEpochAndUtc) {
  Request r = env_request();
  r.env_allow = {"TZ"};
  r.deterministic_time = DeterministicTime{1'234'567'890};
  auto env = resolve_environment(r, Env{"TZ=Europe/Paris", "SOURCE_DATE_EPOCH=1"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(vars_of(*env), (std::map<std::string, std::string>{{"SOURCE_DATE_EPOCH", "1234567890"},
                                                               {"TZ", "UTC"}}));
  // An explicit conflicting value is an error, not a silent override.
  r.env = {{"TZ", "Asia/Tokyo"}};
  ASSERT_FALSE(validate(r).ok());
  EXPECT_NE(validate(r).error().message.find("$.env.TZ"), std::string::npos);
  r.env = {{"TZ", "UTC"}, {"SOURCE_DATE_EPOCH", "1234567890"}};
  EXPECT_TRUE(validate(r).ok());
}

TEST(RequestEnvironment, TooLargeEnvironmentFails) {
  Request r = env_request();
  r.env_allow = {"BIG*"};
  std::vector<std::string> caller;
  for (int i = 0; i < 20; ++i)
    caller.push_back("BIG" + std::to_string(i) + "=" + std::string(100'000, 'x'));
  auto env = resolve_environment(r, caller);
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("more than the limit"), std::string::npos);
}

// ---- parsing ----

const char kFullJson[] = R"({
  "command": "/usr/bin/sort",
  "args": ["-o", "out/sorted.txt", "in.txt"],
  "env": {"LANG": "C.UTF-8", "MODE": "fast"},
  "env_allow": ["PATH", "LC_*"],
  "env_deny": ["LC_ALL"],
  "workspace": "/srv/job",
  "cwd": "src",
  "inputs": [
    {"path": "in.txt",
     "blake3": "6437B3AC38465133FFB63B75273A8DB548C558465D79DB03FD359C6CD5BD9D85",
     "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"path": "data/b.bin",
     "blake3": "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"}
  ],
  "outputs": ["out/sorted.txt", "out/log"],
  "limits": {"wall_timeout_ms": 5000},
  "network": "none",
  "filesystem": {"view": "binds",
                 "binds": [{"src": "/usr", "dst": "/usr"},
                           {"src": "/srv/cache", "dst": "/cache", "rw": true}]},
  "seccomp_profile": "default",
  "deterministic_time": {"source_date_epoch": 1700000000},
  "allow_degraded": false,
  "label": "nightly sort"
})";

TEST(RequestParse, FullRequestParsesToTheStructAndRoundTrips) {
  auto r = parse_request(kFullJson);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, full_request());
  auto again = parse_request(to_json(*r).dump());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *r);
  auto from_value = request_from_json(to_json(*r));
  ASSERT_TRUE(from_value.ok());
  EXPECT_EQ(*from_value, *r);
}

TEST(RequestParse, MinimalRequestTakesTheDefaults) {
  auto r = parse_request(R"({"command": "/bin/true", "workspace": "/w"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->args.empty());
  EXPECT_EQ(r->cwd, ".");
  EXPECT_EQ(r->limits, Limits{});
  EXPECT_EQ(r->network, NetworkMode::kNone);
  EXPECT_EQ(r->view, ViewMode::kHostReadOnly);
  EXPECT_EQ(r->seccomp_profile, "default");
  EXPECT_FALSE(r->deterministic_time.has_value());
  EXPECT_FALSE(r->allow_degraded);
  EXPECT_TRUE(r->env.empty() && r->env_allow.empty() && r->inputs.empty());
  auto with_null =
      parse_request(R"({"command": "/bin/true", "workspace": "/w", "deterministic_time": null})");
  ASSERT_TRUE(with_null.ok());
  EXPECT_EQ(*with_null, *r);
}

// The error for `json_text` contains every one of `needles`.
void expect_error(const std::string& json_text, std::initializer_list<std::string_view> needles) {
  auto r = parse_request(json_text);
  ASSERT_FALSE(r.ok()) << "accepted: " << json_text;
  for (std::string_view n : needles) {
    EXPECT_NE(r.error().message.find(n), std::string::npos)
        << "error \"" << r.error().message << "\" lacks \"" << n << "\"";
  }
}

// A minimal request with `extra` members added at the top level.
std::string with(const std::string& extra) {
  return R"({"command": "/bin/true", "workspace": "/w")" + (extra.empty() ? "" : ", " + extra) +
         "}";
}

TEST(RequestParse, UnknownFieldsAreNamedWithTheirPath) {
  expect_error(with(R"("comand": "x")"), {"unknown field \"comand\"", "$.comand"});
  expect_error(with(R"("limits": {"pidz": 3})"), {"\"pidz\"", "$.limits.pidz", "pids"});
  expect_error(with(R"("filesystem": {"view": "binds", "binds": [{"src": "/", "dst": "/",
                                       "mode": "rw"}]})"),
               {"\"mode\"", "$.filesystem.binds[0].mode"});
  expect_error(with(R"("inputs": [{"path": "a", "blake3": ")" + std::string(kAbcBlake3) +
                    R"(", "md5": "x"}])"),
               {"\"md5\"", "$.inputs[0].md5"});
  expect_error(with(R"("deterministic_time": {"source_date_epoch": 1, "faketime": true})"),
               {"\"faketime\"", "$.deterministic_time.faketime"});
}

TEST(RequestParse, WrongTypesAreNamed) {
  expect_error(R"({"command": 7, "workspace": "/w"})",
               {"$.command", "expected a string", "got an integer"});
  expect_error(with(R"("args": "-v")"), {"$.args", "an array of strings", "got a string"});
  expect_error(with(R"("args": ["-v", 1])"), {"$.args[1]", "expected a string"});
  expect_error(with(R"("argv": ["true"])"), {"unknown field \"argv\"", "$.argv"});
  expect_error(with(R"("env": {"A": 1})"), {"$.env.A", "expected a string"});
  expect_error(with(R"("env": ["A=1"])"), {"$.env", "an object of strings"});
  expect_error(with(R"("limits": {"pids": "10"})"), {"$.limits.pids", "non-negative integer"});
  expect_error(with(R"("limits": {"pids": -1})"), {"$.limits.pids", "got a negative integer"});
  expect_error(with(R"("limits": {"pids": 1.5})"), {"$.limits.pids", "a fraction or an exponent"});
  expect_error(with(R"("limits": {"pids": 1e2})"), {"$.limits.pids"});
  expect_error(with(R"("limits": {"pids": 99999999999999999999999})"), {"$.limits.pids"});
  expect_error(with(R"("limits": [])"), {"$.limits", "expected an object"});
  expect_error(with(R"("allow_degraded": "yes")"), {"$.allow_degraded", "true or false"});
  expect_error(with(R"("allow_degraded": 1)"), {"$.allow_degraded"});
  expect_error(with(R"("network": null)"), {"$.network", "got null"});
  expect_error(with(R"("deterministic_time": 1700000000)"), {"$.deterministic_time"});
  expect_error(with(R"("deterministic_time": {})"),
               {"$.deterministic_time.source_date_epoch", "required"});
  expect_error(with(R"("inputs": {"path": "a"})"), {"$.inputs", "an array of objects"});
  expect_error(with(R"("filesystem": "binds")"), {"$.filesystem", "expected an object"});
  expect_error(R"(["/bin/true"])", {"$", "expected an object"});
  expect_error(R"({"workspace": "/w"})", {"$.command", "required"});
  expect_error(R"({"command": "/bin/true"})", {"$.workspace", "required"});
}

TEST(RequestParse, BadValuesAreNamed) {
  expect_error(with(R"("network": "internet")"), {"$.network", "\"internet\"", "none"});
  expect_error(with(R"("network": "None")"), {"$.network"});
  expect_error(with(R"("filesystem": {"view": "rw"})"), {"$.filesystem.view", "\"rw\""});
  expect_error(with(R"("filesystem": {"view": "binds"})"), {"$.filesystem.binds", "at least one"});
  expect_error(with(R"("filesystem": {"binds": [{"src": "/a", "dst": "/a"}]})"),
               {"$.filesystem.binds", "only for the \"binds\" view"});
  expect_error(with(R"("filesystem": {"view": "binds", "binds": [{"src": "/a", "dst": "/b"},
                                       {"src": "/c", "dst": "/b"}]})"),
               {"$.filesystem.binds[1].dst", "two binds"});
  expect_error(with(R"("filesystem": {"view": "binds", "binds": [{"src": "/a"}]})"),
               {"$.filesystem.binds[0].dst", "required"});
  expect_error(with(R"("seccomp_profile": "permissive")"),
               {"$.seccomp_profile", "\"permissive\"", "default, strict, compat, none"});
  expect_error(with(R"("limits": {"memory_bytes": 0})"), {"$.limits.memory_bytes", "outside"});
  expect_error(with(R"("limits": {"wall_timeout_ms": 0})"), {"$.limits.wall_timeout_ms"});
  expect_error(with(R"("limits": {"pids": 1000000})"), {"$.limits.pids", "65536"});
  expect_error(with(R"("limits": {"output_bytes": 18446744073709551615})"),
               {"$.limits.output_bytes"});
  expect_error(with(R"("deterministic_time": {"source_date_epoch": 253402300800})"),
               {"$.deterministic_time.source_date_epoch", "9999"});
  expect_error(R"({"command": "", "workspace": "/w"})", {"$.command", "empty"});
  expect_error(R"({"command": "a\u0000b", "workspace": "/w"})", {"$.command", "NUL"});
  expect_error(with(R"("args": ["a\u0000b"])"), {"$.args[0]", "NUL"});
  expect_error(with(R"("env": {"A=B": "1"})"), {"$.env[\"A=B\"]", "not a variable name"});
  expect_error(with(R"("env": {"1A": "1"})"), {"not a variable name"});
  expect_error(with(R"("env": {"": "1"})"), {"not a variable name"});
  expect_error(with(R"("env": {"A": "x\u0000y"})"), {"$.env.A", "NUL"});
  expect_error(with(R"("env_allow": ["*"])"), {"$.env_allow[0]", "every variable"});
  expect_error(with(R"("env_allow": ["PA*TH"])"), {"$.env_allow[0]"});
  expect_error(with(R"("env_deny": ["A", "B-C"])"), {"$.env_deny[1]"});
  expect_error(with(R"("inputs": [{"path": "a"}])"), {"$.inputs[0]", "expected digest"});
  expect_error(with(R"("inputs": [{"blake3": ")" + std::string(kAbcBlake3) + R"("}])"),
               {"$.inputs[0].path", "required"});
  expect_error(with(R"("inputs": [{"path": "a", "blake3": "abcd"}])"),
               {"$.inputs[0].blake3", "64 hex"});
  expect_error(
      with(R"("inputs": [{"path": "a", "sha256": ")" + std::string(63, 'a') + "g" + R"("}])"),
      {"$.inputs[0].sha256", "64 hex"});
  const std::string digest = R"(, "blake3": ")" + std::string(kAbcBlake3) + R"("})";
  expect_error(with(R"("inputs": [{"path": "a")" + digest + R"(, {"path": "a")" + digest + "]"),
               {"$.inputs[1].path", "twice"});
  expect_error(with(R"("outputs": ["o", "o"])"), {"$.outputs[1]", "twice"});
  expect_error(with(R"("label": ")" + std::string(300, 'x') + R"(")"), {"$.label", "256"});
}

TEST(RequestParse, PathsMayNotEscape) {
  expect_error(with(R"("cwd": "../x")"), {"$.cwd", "\"..\""});
  expect_error(with(R"("cwd": "a/../../b")"), {"$.cwd", "\"..\""});
  expect_error(with(R"("cwd": "/etc")"), {"$.cwd", "relative"});
  expect_error(with(R"("cwd": "")"), {"$.cwd", "empty"});
  expect_error(with(R"("cwd": "a//b")"), {"$.cwd", "empty component"});
  expect_error(with(R"("cwd": "a/")"), {"$.cwd", "empty component"});
  expect_error(with(R"("cwd": "./a")"), {"$.cwd", "\".\""});
  expect_error(with(R"("cwd": "a\u0000b")"), {"$.cwd", "NUL"});
  expect_error(with(R"("outputs": ["out/../../etc/passwd"])"), {"$.outputs[0]", "\"..\""});
  expect_error(with(R"("outputs": ["."])"), {"$.outputs[0]"});
  expect_error(with(R"("outputs": ["/tmp/x"])"), {"$.outputs[0]", "relative"});
  expect_error(with(R"("inputs": [{"path": "../secret")" +
                    (R"(, "blake3": ")" + std::string(kAbcBlake3) + R"("}])")),
               {"$.inputs[0].path", "\"..\""});
  expect_error(R"({"command": "/bin/true", "workspace": "w"})", {"$.workspace", "absolute"});
  expect_error(R"({"command": "/bin/true", "workspace": "/"})", {"$.workspace", "\"/\""});
  expect_error(R"({"command": "/bin/true", "workspace": "/srv/../etc"})", {"$.workspace"});
  expect_error(R"({"command": "/bin/true", "workspace": "/srv/"})", {"$.workspace"});
  expect_error(with(R"("filesystem": {"view": "binds", "binds": [{"src": "/a/../..",
                                       "dst": "/a"}]})"),
               {"$.filesystem.binds[0].src"});
  expect_error(with(R"("filesystem": {"view": "binds", "binds": [{"src": "/a", "dst": "a"}]})"),
               {"$.filesystem.binds[0].dst", "absolute"});
  auto ok = parse_request(with(R"("cwd": ".", "outputs": ["out", "a/b.c", "..hidden"])"));
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST(RequestParse, HostileTextIsRefusedBeforeOrWhileParsing) {
  // Too large: refused before parsing (the text is not even valid JSON).
  expect_error(std::string(kMaxRequestBytes + 1, '['), {"larger than the limit"});
  // Too deep.
  std::string deep = with(R"("label": )" + std::string(kMaxRequestDepth, '[') +
                          std::string(kMaxRequestDepth, ']'));
  expect_error(deep, {"nested deeper than 8"});
  expect_error(std::string(100'000, '[') + std::string(100'000, ']'), {"nested deeper"});
  // Duplicates, comments, trailing data, bad UTF-8, plain garbage.
  expect_error(R"({"command": "/bin/true", "workspace": "/w", "command": "/bin/sh"})",
               {"duplicate member name \"command\""});
  expect_error(with(R"("limits": {"pids": 1, "pids": 2})"), {"duplicate member name \"pids\""});
  expect_error(with(R"("env": {"A": "1", "A": "2"})"), {"duplicate member name \"A\""});
  expect_error(R"({"command": "/bin/true", /* c */ "workspace": "/w"})", {"not valid JSON"});
  expect_error(with("") + " {}", {"not valid JSON"});
  expect_error(with(R"("label": "x",)"), {"not valid JSON"});
  expect_error(with("\"label\": \"\xff\""), {"not valid JSON"});
  expect_error("", {"not valid JSON"});
  expect_error("nul", {"not valid JSON"});
  // The same duplicate key in different objects is fine.
  auto ok = parse_request(with(R"("env": {"pids": "1"}, "limits": {"pids": 1})"));
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST(RequestParse, ReadsFilesWithALimit) {
  test::TempDir dir;
  const std::string good = with("");
  test::write_file_bytes(dir / "r.json", as_bytes(good));
  auto r = read_request_file(dir / "r.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->command, "/bin/true");
  test::write_file_bytes(dir / "big.json", Bytes(kMaxRequestBytes + 1, ' '));
  auto big = read_request_file(dir / "big.json");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("larger than the limit"), std::string::npos);
  auto bad = read_request_file(dir / "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad.json"), std::string::npos);
  test::write_file_bytes(dir / "unknown.json", as_bytes(with(R"("x": 1)")));
  auto unknown = read_request_file(dir / "unknown.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown.json: unknown field \"x\""), std::string::npos)
      << unknown.error().message;
}

TEST(RequestParse, ValidateCoversRequestsBuiltInCode) {
  Request r = env_request();
  EXPECT_TRUE(validate(r).ok());
  r.args = {std::string("\xc3\x28")};  // invalid UTF-8 from a command line
  ASSERT_FALSE(validate(r).ok());
  EXPECT_NE(validate(r).error().message.find("$.args[0]: not valid UTF-8"), std::string::npos);
  r = env_request();
  r.args.assign(kMaxListItems, "x");
  EXPECT_FALSE(validate(r).ok());
  r.args.pop_back();
  EXPECT_TRUE(validate(r).ok());
  r = env_request();
  r.args = {std::string(kMaxArgBytes, 'a')};
  EXPECT_FALSE(validate(r).ok());
  r = env_request();
  for (int i = 0; i < 10; ++i) r.args.push_back(std::string(120'000, 'a'));
  ASSERT_FALSE(validate(r).ok());
  EXPECT_NE(validate(r).error().message.find("more than the limit"), std::string::npos);
  r = env_request();
  r.network = static_cast<NetworkMode>(9);
  EXPECT_FALSE(validate(r).ok());
  r = env_request();
  r.view = static_cast<ViewMode>(9);
  EXPECT_FALSE(validate(r).ok());
  r = env_request();
  r.limits = kMaxLimits;
  EXPECT_TRUE(validate(r).ok());
  r.limits = kMinLimits;
  EXPECT_TRUE(validate(r).ok());
  for (const std::string& profile : seccomp_profile_names()) {
    r.seccomp_profile = profile;
    EXPECT_TRUE(validate(r).ok()) << profile;
  }
}

// ---- inputs ----

class RequestInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(ws_ / "data");
    test::write_file_bytes(ws_ / "data" / "abc.txt", as_bytes("abc"));
    test::write_file_bytes(dir_ / "outside.txt", as_bytes("abc"));
    request_ = env_request();
    request_.workspace = ws_.lexically_normal().string();
  }
  void add(const std::string& path, const char* b3, const char* sha) {
    InputSpec in{path, std::nullopt, std::nullopt};
    if (b3) in.blake3 = hash_of(b3);
    if (sha) in.sha256 = hash_of(sha);
    request_.inputs.push_back(in);
  }
  std::string check() {
    EXPECT_TRUE(validate(request_).ok()) << validate(request_).error().message;
    Status s = check_inputs(request_);
    return s.ok() ? "ok" : s.error().message;
  }

  test::TempDir dir_;
  std::filesystem::path ws_ = dir_ / "ws";
  Request request_;
};

TEST_F(RequestInputs, MatchingDigestsPass) {
  add("data/abc.txt", kAbcBlake3, kAbcSha256);
  std::filesystem::create_symlink("data/abc.txt", ws_ / "link");
  add("link", nullptr, kAbcSha256);  // a symlink that stays inside the workspace
  EXPECT_EQ(check(), "ok");
}

TEST_F(RequestInputs, TheFirstMismatchIsNamedWithBothDigests) {
  std::filesystem::copy_file(ws_ / "data" / "abc.txt", ws_ / "b.txt");
  Hash32 wrong = hash_of(kAbcSha256);
  wrong[31] ^= 0xff;
  add("b.txt", kAbcBlake3, kAbcSha256);
  add("data/abc.txt", kAbcBlake3, to_hex(wrong).c_str());
  add("missing.txt", kAbcBlake3, nullptr);
  const std::string err = check();
  EXPECT_NE(err.find("input \"data/abc.txt\" ($.inputs[1]): sha256 differs"), std::string::npos)
      << err;
  EXPECT_NE(err.find("expected " + to_hex(wrong)), std::string::npos) << err;
  EXPECT_NE(err.find(std::string("found ") + kAbcSha256), std::string::npos) << err;

  test::write_file_bytes(ws_ / "b.txt", as_bytes("abd"));
  EXPECT_NE(check().find("input \"b.txt\" ($.inputs[0]): blake3 differs"), std::string::npos);
}

TEST_F(RequestInputs, MissingEscapingAndSpecialFilesFail) {
  add("missing.txt", kAbcBlake3, nullptr);
  EXPECT_NE(check().find("input \"missing.txt\" ($.inputs[0]): cannot open"), std::string::npos);

  request_.inputs.clear();
  std::filesystem::create_symlink(dir_ / "outside.txt", ws_ / "abs");
  add("abs", kAbcBlake3, nullptr);
  EXPECT_NE(check().find("leaves the workspace"), std::string::npos) << check();

  request_.inputs.clear();
  std::filesystem::create_symlink("../outside.txt", ws_ / "rel");
  add("rel", kAbcBlake3, nullptr);
  EXPECT_NE(check().find("leaves the workspace"), std::string::npos) << check();

  request_.inputs.clear();
  add("data", kAbcBlake3, nullptr);
  EXPECT_NE(check().find("not a regular file"), std::string::npos) << check();

  request_.inputs.clear();
  ASSERT_EQ(mkfifo((ws_ / "fifo").c_str(), 0600), 0);
  add("fifo", kAbcBlake3, nullptr);
  EXPECT_NE(check().find("not a regular file"), std::string::npos) << check();

  request_.workspace = (dir_ / "nope").lexically_normal().string();
  EXPECT_NE(check().find("workspace"), std::string::npos);
}

}  // namespace
}  // namespace ritma::exec
