// `requiem serve` through its binary, over HTTP, against SQLite and against a real PostgreSQL 15
// (tests/api/pg_cluster.h): the same cases on both (two ctest entries of one program, the
// backend chosen by RITMA_SERVE_TEST_BACKEND). Tokens are HS256, minted here with
// libsodium; runs go through the real sandbox (root: fails instead of skipping with CI=true).
//
// Security: missing/expired/wrong-signature/wrong-audience tokens are 401, a spoofed tenant
// header 403, another tenant's execution 404; a body over 1 MiB is refused from its headers
// (413) and a multi-GiB body is cut off while the server's memory stays flat (measured from
// /proc); dev mode refuses a non-loopback address; /healthz says nothing of the config.
// Idempotency: replay, conflict, 20 concurrent duplicates -> one run. Budgets: two servers on
// one database, 200 concurrent requests against a limit of 50 -> exactly 50 runs; a restart
// keeps the counters. Audit: `requiem audit verify` passes after the load.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/db.h"
#include "api/jwt.h"
#include "core/ed25519.h"
#include "core/key_file.h"
#include "api/pg_cluster.h"
#include "test_util.h"

namespace ritma {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kIssuer = "https://issuer.test";
constexpr const char* kAudience = "requiem-api";

std::string b64(std::string_view s) {
  return api::base64url_encode(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::string hs256_token(const std::string& secret, const json& claims) {
  const std::string input = b64(R"({"alg":"HS256","typ":"JWT"})") + "." + b64(claims.dump());
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(input.data()), input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return input + "." + api::base64url_encode(ByteSpan(mac, sizeof mac));
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json claims(const std::string& tenant, int64_t exp_in = 3600) {
  return json{{"iss", kIssuer}, {"aud", kAudience},         {"sub", "user-" + tenant},
              {"tenant", tenant}, {"iat", unix_now() - 5}, {"exp", unix_now() + exp_in}};
}

// The backend: RITMA_SERVE_TEST_BACKEND=postgres (ctest entry api_serve_pg_tests) or SQLite.
bool postgres() {
  const char* b = std::getenv("RITMA_SERVE_TEST_BACKEND");
  return b && std::string_view(b) == "postgres";
}

// One `requiem-serve` process.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& args, const fs::path& dir, int n) {
    out_ = dir / ("serve" + std::to_string(n) + ".out");
    err_ = dir / ("serve" + std::to_string(n) + ".err");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* o = std::freopen(out_.c_str(), "w", stdout);
      FILE* e = std::freopen(err_.c_str(), "w", stderr);
      (void)o;
      (void)e;
      std::vector<char*> argv;
      std::vector<std::string> copy = args;
      copy.insert(copy.begin(), REQUIEM_SERVE_BIN);
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(REQUIEM_SERVE_BIN, argv.data());
      _exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0 && alive(); ++i) {
      std::ifstream f(out_);
      std::string line;
      if (std::getline(f, line) && !line.empty()) {
        auto j = json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("listening")) {
          const std::string l = j["listening"];
          port_ = std::stoi(l.substr(l.rfind(':') + 1));
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() { stop(); }
  bool alive() {
    if (pid_ <= 0) return false;
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      pid_ = -1;
      return false;
    }
    return true;
  }
  int stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st;
      ::waitpid(pid_, &st, 0);
      exit_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      pid_ = -1;
    }
    return exit_;
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string err() const {
    std::ifstream f(err_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  // A field of /proc/PID/status in KiB (VmRSS, VmHWM).
  long status_kib(const std::string& field) const {
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_ = -1;
  fs::path out_, err_;
};

struct Reply {
  int status = 0;
  json body;
  httplib::Headers headers;
};

class RequiemServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (sodium_init() < 0) FAIL() << "libsodium";
    if (::geteuid() != 0) {
      if (test::in_ci()) FAIL() << "the sandbox needs root (CI=true)";
      GTEST_SKIP() << "the sandbox needs root";
    }
    if (postgres()) {
      RITMA_PG_CLUSTER_OR_SKIP(cluster);
      auto d = cluster->create_database(true);
      ASSERT_TRUE(d.ok()) << d.error().message;
      db_url_ = d->server_url;
      owner_url_ = d->owner_url;
    } else {
      db_url_ = "sqlite:" + (tmp_ / "serve.db").string();
      owner_url_ = db_url_;
    }
    secret_ = "0123456789abcdef0123456789abcdef-serve-test";
    write_secret(tmp_ / "hs.secret", secret_);
    const SigningKey k = SigningKey::generate();
    ASSERT_TRUE(write_private_key_file(tmp_ / "signer.key",
                                       NamedSigningKey{"serve-test", SigningKey::from_seed(k.seed()).value()})
                    .ok());
    test::write_file_bytes(tmp_ / "signer.pub",
                           as_bytes(format_public_key("serve-test", k.public_key())));
  }

  static void write_secret(const fs::path& p, const std::string& s) {
    test::write_file_bytes(p, as_bytes(s));
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  }

  static ByteSpan as_bytes(std::string_view s) {
    return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }

  json config(uint64_t max_executions = 1000) const {
    return json{
        {"auth",
         {{"issuer", kIssuer},
          {"audience", kAudience},
          {"hs256_secret_file", (tmp_ / "hs.secret").string()}}},
        {"max_concurrent_runs", 4},
        {"budget", {{"max_executions", max_executions}, {"rate_per_second", 10000}, {"burst", 10000}}},
        {"audit", {{"checkpoint_every", 50}, {"checkpoint_interval_ms", 200}}},
        {"tools",
         json::array({{{"name", "echo"},
                       {"version", "1.0.0"},
                       {"command", {"/bin/echo", "{args}"}},
                       {"trace", false},
                       {"deterministic", true},
                       {"idempotent", true},
                       {"timeout_ms", 10000}},
                      {{"name", "secret-tool"},
                       {"version", "0.1.0"},
                       {"tenant", "acme"},
                       {"command", {"/bin/true"}},
                       {"trace", false}}})}};
  }

  std::unique_ptr<ServerProcess> start(const json& cfg, std::vector<std::string> extra = {}) {
    const fs::path cfg_file = tmp_ / ("config" + std::to_string(n_) + ".json");
    const std::string text = cfg.dump(2);
    test::write_file_bytes(cfg_file, as_bytes(text));
    std::vector<std::string> args{"--db", db_url_, "--bind", "127.0.0.1:0", "--config",
                                  cfg_file.string(), "--state-dir", (tmp_ / "state").string(),
                                  "--key", (tmp_ / "signer.key").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto s = std::make_unique<ServerProcess>(args, tmp_.path(), n_++);
    EXPECT_GT(s->port(), 0) << "the server did not start: " << s->err();
    return s;
  }

  static Reply call(int port, const std::string& method, const std::string& path,
                    const std::string& token, const std::string& body = "",
                    httplib::Headers headers = {}) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    httplib::Result r = method == "POST" ? c.Post(path, headers, body, "application/json")
                                         : c.Get(path, headers);
    Reply out;
    if (!r) {
      out.body = json{{"client_error", httplib::to_string(r.error())}};
      return out;
    }
    out.status = r->status;
    out.body = json::parse(r->body, nullptr, false);
    out.headers = r->headers;
    return out;
  }

  Reply post_exec(int port, const std::string& tenant, const json& body,
                  httplib::Headers headers = {}) const {
    return call(port, "POST", "/v1/executions", hs256_token(secret_, claims(tenant)), body.dump(),
                std::move(headers));
  }
  Reply get(int port, const std::string& tenant, const std::string& path) const {
    return call(port, "GET", path, hs256_token(secret_, claims(tenant)));
  }

  test::TempDir tmp_;
  std::string db_url_, owner_url_, secret_;
  int n_ = 0;
};

// A raw request whose headers announce `content_length` bytes; sends up to `send_bytes` of body
// (stopping when the server closes) and returns the status line it got (empty if none) and
// how many body bytes went out.
std::pair<std::string, uint64_t> raw_post(int port, uint64_t content_length, uint64_t send_bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {"", 0};
  }
  const std::string head = "POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                           "application/json\r\nContent-Length: " +
                           std::to_string(content_length) + "\r\n\r\n";
  (void)::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  std::string status;
  auto try_read = [&](int timeout_ms) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0 && status.empty()) {
      std::string s(buf, static_cast<size_t>(n));
      status = s.substr(0, s.find("\r\n"));
    }
  };
  uint64_t sent = 0;
  std::string chunk(1 << 20, 'x');
  while (sent < send_bytes) {
    const ssize_t n = ::send(fd, chunk.data(), std::min<uint64_t>(chunk.size(), send_bytes - sent),
                             MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<uint64_t>(n);
    if (status.empty() && sent % (64u << 20) < chunk.size()) try_read(1);
  }
  if (status.empty()) try_read(2000);
  ::close(fd);
  return {status, sent};
}

TEST_F(RequiemServeTest, AuthenticationFailuresAre401AndTheTenantHeaderCannotBeSpoofed) {
  auto s = start(config());
  ASSERT_GT(s->port(), 0);
  const int p = s->port();
  EXPECT_EQ(call(p, "GET", "/v1/tools", "").status, 401);  // missing
  Reply expired = call(p, "GET", "/v1/tools", hs256_token(secret_, claims("acme", -3600)));
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.dump().find("expired"), std::string::npos) << expired.body;
  Reply wrong_sig = call(p, "GET", "/v1/tools",
                         hs256_token("another-secret-of-at-least-32-bytes!!", claims("acme")));
  EXPECT_EQ(wrong_sig.status, 401);
  json aud = claims("acme");
  aud["aud"] = "someone-else";
  EXPECT_EQ(call(p, "GET", "/v1/tools", hs256_token(secret_, aud)).status, 401);
  EXPECT_EQ(call(p, "GET", "/v1/tools", "not.a.token").status, 401);
  json none = claims("acme");
  EXPECT_EQ(call(p, "GET", "/v1/tools",
                 b64(R"({"alg":"none"})") + "." + b64(none.dump()) + ".")
                .status,
            401);
  EXPECT_TRUE(expired.headers.count("WWW-Authenticate"));

  const std::string t = hs256_token(secret_, claims("acme"));
  EXPECT_EQ(call(p, "GET", "/v1/tools", t, "", {{"X-Requiem-Tenant", "globex"}}).status, 403);
  EXPECT_EQ(call(p, "GET", "/v1/tools", t, "", {{"X-Requiem-Tenant", "acme"}}).status, 200);
  // A tenant sees system tools and its own.
  Reply acme = get(p, "acme", "/v1/tools");
  Reply globex = get(p, "globex", "/v1/tools");
  ASSERT_EQ(acme.status, 200);
  EXPECT_EQ(acme.body["tools"].size(), 2u) << acme.body;
  ASSERT_EQ(globex.body["tools"].size(), 1u) << globex.body;
  EXPECT_EQ(globex.body["tools"][0]["name"], "echo");
  EXPECT_EQ(post_exec(p, "globex", {{"tool", "secret-tool"}}).status, 404);
}

TEST_F(RequiemServeTest, AnotherTenantsExecutionIsNotFound) {
  auto s = start(config());
  ASSERT_GT(s->port(), 0);
  const int p = s->port();
  Reply r = post_exec(p, "acme", {{"tool", "echo"}, {"args", {"hello", "world"}}});
  ASSERT_EQ(r.status, 201) << r.body << s->err();
  EXPECT_EQ(r.body["status"], "succeeded");
  EXPECT_EQ(r.body["run"]["stdout"], "hello world\n");
  const std::string id = r.body["id"];
  Reply mine = get(p, "acme", "/v1/executions/" + id);
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(mine.body["result_digest"], r.body["result_digest"]);
  Reply bundle = get(p, "acme", "/v1/executions/" + id + "/bundle");
  ASSERT_EQ(bundle.status, 200);
  EXPECT_TRUE(bundle.body["files"].contains("result.dsse.json")) << bundle.body;

  Reply theirs = get(p, "globex", "/v1/executions/" + id);
  Reply missing = get(p, "globex", "/v1/executions/" + std::string(32, '0'));
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(theirs.body, missing.body);
  EXPECT_EQ(get(p, "globex", "/v1/executions/" + id + "/bundle").status, 404);
  EXPECT_TRUE(get(p, "globex", "/v1/executions").body["executions"].empty());
  EXPECT_EQ(get(p, "acme", "/v1/executions").body["executions"].size(), 1u);
}

TEST_F(RequiemServeTest, BodiesOverTheLimitAreRefusedBeforeTheyAreRead) {
  auto s = start(config());
  ASSERT_GT(s->port(), 0);
  const int p = s->port();
  // 1 MiB + 1, announced: refused from the headers, nothing sent.
  auto [status, sent] = raw_post(p, (1u << 20) + 1, 0);
  EXPECT_NE(status.find(" 413 "), std::string::npos) << status;

  // Exactly 1 MiB is read and parsed (and is not JSON).
  std::string big(1u << 20, ' ');
  big[0] = '[';
  Reply at_limit = post_exec(p, "acme", json());
  at_limit = call(p, "POST", "/v1/executions", hs256_token(secret_, claims("acme")), big);
  EXPECT_EQ(at_limit.status, 400);

  // Unknown members and deep nesting are refused with a message.
  Reply unknown = post_exec(p, "acme", {{"tool", "echo"}, {"tenant", "globex"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.dump().find("unknown member \\\"tenant\\\""), std::string::npos)
      << unknown.body;
  std::string deep = R"({"tool":"echo","args":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(call(p, "POST", "/v1/executions", hs256_token(secret_, claims("acme")), deep).status,
            400);

  // A 4 GiB body: the server answers 413 and closes; its memory does not grow.
  const long rss_before = s->status_kib("VmRSS");
  const long hwm_before = s->status_kib("VmHWM");
  auto [big_status, big_sent] = raw_post(p, 4ull << 30, 4ull << 30);
  const long hwm_after = s->status_kib("VmHWM");
  std::cerr << "4 GiB body: server VmRSS before " << rss_before << " KiB, VmHWM " << hwm_before
            << " -> " << hwm_after << " KiB; client sent " << (big_sent >> 20)
            << " MiB before the server closed; status line \"" << big_status << "\"\n";
  EXPECT_LT(big_sent, 4ull << 30) << "the server read the whole body";
  EXPECT_LT(hwm_after - hwm_before, 8 * 1024) << "the server's memory grew";
  EXPECT_TRUE(big_status.empty() || big_status.find(" 413 ") != std::string::npos) << big_status;
  // A request line without an end: cut off after the 16 KiB a request head may take.
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(p));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string chunk(1 << 20, 'x');
    chunk.replace(0, 5, "GET /");
    uint64_t line_sent = 0;
    while (line_sent < (1ull << 30)) {
      const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      line_sent += static_cast<uint64_t>(n);
    }
    ::close(fd);
    EXPECT_LT(line_sent, 1ull << 30) << "the server read a 1 GiB request line";
  }
  EXPECT_LT(s->status_kib("VmHWM") - hwm_before, 8 * 1024) << "the server's memory grew";
  // Still serving.
  EXPECT_EQ(call(p, "GET", "/healthz", "").status, 200);
}

TEST_F(RequiemServeTest, HealthRevealsNothingAndDevModeStaysOnLoopback) {
  auto s = start(config());
  ASSERT_GT(s->port(), 0);
  httplib::Client c("127.0.0.1", s->port());
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, R"({"status":"ok"})");
  for (const auto& [k, v] : h->headers) {
    EXPECT_EQ(v.find("requiem"), std::string::npos) << k << ": " << v;
    EXPECT_EQ(v.find(tmp_.path().string()), std::string::npos) << k << ": " << v;
  }
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, R"({"status":"ready"})");

  // Dev mode: refused on any non-loopback address, before binding.
  for (const std::string bind : {"0.0.0.0:0", "[::]:0", "10.1.2.3:0"}) {
    auto r = test::run_program({REQUIEM_SERVE_BIN, "--dev", "--bind", bind, "--db", db_url_,
                                "--key", (tmp_ / "signer.key").string(), "--state-dir",
                                (tmp_ / "state").string()});
    EXPECT_EQ(r.exit_code, 2) << bind << ": " << r.err;
    EXPECT_NE(r.err.find("loopback"), std::string::npos) << r.err;
  }
  // Without auth and without --dev: refused.
  auto r = test::run_program({REQUIEM_SERVE_BIN, "--bind", "127.0.0.1:0", "--db", db_url_, "--key",
                              (tmp_ / "signer.key").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // `requiem serve` runs the same program.
  auto via = test::run_program({REQUIEM_BIN, "serve", "--dev", "--bind", "0.0.0.0:0"});
  EXPECT_EQ(via.exit_code, 2) << via.err;
}

TEST_F(RequiemServeTest, IdempotencyKeysGiveOneExecution) {
  auto s = start(config());
  ASSERT_GT(s->port(), 0);
  const int p = s->port();
  const json body{{"tool", "echo"}, {"args", {"once"}}};
  Reply first = post_exec(p, "acme", body, {{"Idempotency-Key", "key-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = post_exec(p, "acme", body, {{"Idempotency-Key", "key-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers.find("Idempotent-Replayed")->second, "true");
  Reply other = post_exec(p, "acme", {{"tool", "echo"}, {"args", {"twice"}}},
                          {{"Idempotency-Key", "key-1"}});
  EXPECT_EQ(other.status, 409);
  // The same key of another tenant is another key.
  EXPECT_EQ(post_exec(p, "globex", body, {{"Idempotency-Key", "key-1"}}).status, 201);

  // 20 concurrent duplicates: one execution, 20 identical answers.
  std::vector<Reply> replies(20);
  std::vector<std::thread> threads;
  const json dup{{"tool", "echo"}, {"args", {"concurrent"}}};
  for (size_t i = 0; i < replies.size(); ++i) {
    threads.emplace_back(
        [&, i] { replies[i] = post_exec(p, "acme", dup, {{"Idempotency-Key", "key-20"}}); });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  for (const Reply& r : replies) {
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status == 201) ids.insert(r.body["id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 1u);
  Reply list = get(p, "acme", "/v1/executions");
  EXPECT_EQ(list.body["executions"].size(), 2u) << list.body;  // key-1 and key-20
}

TEST_F(RequiemServeTest, TwoServersShareOneBudgetAndARestartKeepsIt) {
  const json cfg = config(50);
  auto a = start(cfg);
  auto b = start(cfg);
  ASSERT_GT(a->port(), 0);
  ASSERT_GT(b->port(), 0);
  std::vector<int> statuses(200);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = post_exec(i % 2 ? a->port() : b->port(), "acme",
                              {{"tool", "echo"}, {"args", {std::to_string(i)}}})
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  const auto ran = std::count(statuses.begin(), statuses.end(), 201);
  const auto refused = std::count(statuses.begin(), statuses.end(), 429);
  EXPECT_EQ(ran, 50);
  EXPECT_EQ(refused, 150);
  Reply budget = get(a->port(), "acme", "/v1/budget");
  EXPECT_EQ(budget.body["executions"]["used"], 50) << budget.body;

  // Restart both: the counters stay.
  a->stop();
  b->stop();
  auto c = start(cfg);
  ASSERT_GT(c->port(), 0);
  EXPECT_EQ(get(c->port(), "acme", "/v1/budget").body["executions"]["used"], 50);
  EXPECT_EQ(post_exec(c->port(), "acme", {{"tool", "echo"}}).status, 429);
  // Another tenant has its own budget.
  EXPECT_EQ(post_exec(c->port(), "globex", {{"tool", "echo"}}).status, 201);
  c->stop();

  // Every decision was audited: the log verifies.
  auto v = test::run_program({REQUIEM_BIN, "audit", "verify", "--db", owner_url_, "--key",
                              (tmp_ / "signer.pub").string(), "--json"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto j = json::parse(v.out, nullptr, false);
  EXPECT_GE(j.value("records", 0), 200 + 50 + 2) << v.out;
}

TEST_F(RequiemServeTest, AuditProofsAreServedForTheTenantsOwnRecords) {
  auto s = start(config());
  ASSERT_GT(s->port(), 0);
  const int p = s->port();
  ASSERT_EQ(post_exec(p, "acme", {{"tool", "echo"}}).status, 201);
  ASSERT_EQ(post_exec(p, "globex", {{"tool", "echo"}}).status, 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a timed checkpoint
  Reply cp = get(p, "acme", "/v1/audit/checkpoint");
  ASSERT_EQ(cp.status, 200) << cp.body;
  const uint64_t size = cp.body["tree_size"];
  ASSERT_GE(size, 4u);
  int own = 0, hidden = 0;
  for (uint64_t seq = 0; seq < size; ++seq) {
    Reply pr = get(p, "acme", "/v1/audit/proof?seq=" + std::to_string(seq));
    if (pr.status == 200) {
      ++own;
      EXPECT_EQ(pr.body["tree_size"], size);
    } else {
      EXPECT_EQ(pr.status, 404);
      ++hidden;
    }
  }
  EXPECT_EQ(own, 2);  // admitted + result
  EXPECT_EQ(hidden, static_cast<int>(size) - 2);
  Reply cons = get(p, "acme", "/v1/audit/consistency?from=1&to=" + std::to_string(size));
  EXPECT_EQ(cons.status, 200) << cons.body;
  EXPECT_EQ(get(p, "acme", "/v1/audit/proof").status, 400);
}

// TLS with client certificates: a client with a certificate the configured CA signed is served;
// without one, or with one from another CA, the handshake fails.
TEST_F(RequiemServeTest, MutualTlsAdmitsOnlyClientsTheCaSigned) {
  const fs::path d = tmp_.path();
  auto sh = [&](const std::string& cmd) {
    auto r = test::run_program({"/bin/sh", "-c", "cd '" + d.string() + "' && " + cmd});
    return r.exit_code == 0 ? std::string() : r.err;
  };
  auto cert = [&](const std::string& name, const std::string& ca, const std::string& ext) {
    return sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=" +
              name + "' -keyout " + name + ".key -out " + name + ".csr 2>/dev/null && " +
              "printf '" + ext + "' > " + name + ".ext && openssl x509 -req -in " + name +
              ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial -days 2 -extfile " +
              name + ".ext -out " + name + ".crt 2>/dev/null");
  };
  for (const std::string ca : {"ca", "other-ca"}) {
    ASSERT_EQ(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "
                 "'/CN=" + ca + "' -days 2 -keyout " + ca + ".key -out " + ca + ".crt 2>/dev/null"),
              "");
  }
  ASSERT_EQ(cert("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"), "");
  ASSERT_EQ(cert("client", "ca", "extendedKeyUsage=clientAuth\n"), "");
  ASSERT_EQ(cert("intruder", "other-ca", "extendedKeyUsage=clientAuth\n"), "");
  auto s = start(config(), {"--tls-cert", (d / "server.crt").string(), "--tls-key",
                            (d / "server.key").string(), "--client-ca", (d / "ca.crt").string()});
  ASSERT_GT(s->port(), 0);
  auto get_with = [&](const std::string& who) {
    httplib::SSLClient c("127.0.0.1", s->port(),
                         who.empty() ? std::string() : (d / (who + ".crt")).string(),
                         who.empty() ? std::string() : (d / (who + ".key")).string());
    c.set_ca_cert_path((d / "ca.crt").c_str());
    c.enable_server_certificate_verification(true);
    auto r = c.Get("/v1/tools", {{"Authorization", "Bearer " + hs256_token(secret_, claims("acme"))}});
    return r ? r->status : 0;
  };
  EXPECT_EQ(get_with("client"), 200);
  EXPECT_EQ(get_with(""), 0);
  EXPECT_EQ(get_with("intruder"), 0);
  // Plain HTTP on the TLS port gets nothing either.
  EXPECT_EQ(call(s->port(), "GET", "/healthz", "").status, 0);
}

}  // namespace
}  // namespace ritma
