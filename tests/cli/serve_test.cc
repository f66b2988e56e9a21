// `ritma serve` over a synthetic sealed store, as a browser or a script would use it: the JSON
// API (summary, windows, filtered events, an event's inclusion proof, the report, artifacts),
// the embedded page, refusals of every path that could step outside the store (sent as raw
// request lines, so no client normalises them), read-only methods, a taken port, no store.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/merkle.h"
#include "seal/seal_format.h"
#include "test_util.h"
#include "viewer/fixture_store.h"

namespace ritma {
namespace {

namespace fs = std::filesystem;

// A `ritma serve` child process; its first stdout line says where it listens.
class Serve {
 public:
  explicit Serve(std::vector<std::string> args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      dup2(out[1], 1);
      const int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) dup2(devnull, 0);
      args.insert(args.begin(), {RITMA_BIN, "serve"});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    // Up to 20 s for the first line.
    char c;
    pollfd p{out_, POLLIN, 0};
    while (poll(&p, 1, 20000) > 0 && read(out_, &c, 1) == 1 && c != '\n') line_ += c;
  }
  ~Serve() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    close(out_);
  }
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;
  const std::string& line() const { return line_; }
  int port() const {
    auto j = nlohmann::json::parse(line_, nullptr, false);
    return j.is_object() && j.contains("port") ? j["port"].get<int>() : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string line_;
};

struct Reply {
  int status = 0;
  std::string body;
};

// Sends exactly `request_target` (and `method`) in the request line: no client-side cleanup.
Reply raw_request(int port, const std::string& request_target, const std::string& method = "GET") {
  Reply r;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return r;
  }
  const std::string req = method + " " + request_target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Content-Length: 0\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return r;
  }
  std::string all;
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, 20000) > 0) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (all.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(all.substr(9, 3));
  const size_t split = all.find("\r\n\r\n");
  if (split != std::string::npos) r.body = all.substr(split + 4);
  return r;
}

nlohmann::json get_json(int port, const std::string& target) {
  const Reply r = raw_request(port, target);
  EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  return nlohmann::json::parse(r.body, nullptr, false);
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    auto f = test::make_fixture_store(dir_->path() / "base");
    ASSERT_TRUE(f.ok()) << f.error().message;
    fixture_ = *f;
    // Symlinks inside the store that point outside it, named like artifacts.
    const fs::path out = dir_->path() / "base" / "RITMA_OUT";
    fs::create_symlink("/etc/passwd", out / "escape.cbor");
    fs::create_symlink("../../../../../../../../etc/passwd", out / "log" / "escape.sig");
    fs::create_directory_symlink("/etc", out / "etc-link");
    serve_ = new Serve({"--base-dir", (dir_->path() / "base").string(), "--port", "0", "--json"});
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
  }
  int port() const { return serve_->port(); }

  static test::TempDir* dir_;
  static test::FixtureStore fixture_;
  static Serve* serve_;
};

test::TempDir* ServeTest::dir_ = nullptr;
test::FixtureStore ServeTest::fixture_;
Serve* ServeTest::serve_ = nullptr;

TEST_F(ServeTest, PrintsItsAddressAsJson) {
  auto j = nlohmann::json::parse(serve_->line(), nullptr, false);
  ASSERT_TRUE(j.is_object()) << serve_->line();
  EXPECT_EQ(j["url"], "http://127.0.0.1:" + std::to_string(port()) + "/");
  EXPECT_EQ(j["source"], "store");
  EXPECT_GT(port(), 0);
}

TEST_F(ServeTest, SummaryAndWindows) {
  auto s = get_json(port(), "/api/summary");
  EXPECT_EQ(s["source"]["kind"], "store");
  EXPECT_EQ(s["windows"], fixture_.windows);
  EXPECT_EQ(s["sealed_windows"], fixture_.windows);
  EXPECT_EQ(s["events"], fixture_.events);
  EXPECT_EQ(s["checkpoint"]["size"], fixture_.windows);
  auto w = get_json(port(), "/api/windows");
  ASSERT_EQ(w["windows"].size(), fixture_.windows);
  uint64_t events = 0;
  for (const auto& x : w["windows"]) {
    EXPECT_TRUE(x["sealed"].get<bool>());
    events += x["event_count"].get<uint64_t>();
  }
  EXPECT_EQ(events, fixture_.events);
}

TEST_F(ServeTest, FiltersEventsAndProvesOne) {
  auto all = get_json(port(), "/api/events");
  EXPECT_EQ(all["events"].size(), fixture_.events);
  auto r = get_json(port(), "/api/events?type=exec&q=curl");
  ASSERT_EQ(r["events"].size(), 1u) << r.dump();
  const auto& e = r["events"][0];
  EXPECT_EQ(e["seq"], fixture_.curl_seq);
  EXPECT_EQ(e["path"], "/usr/bin/curl");
  auto by_pid = get_json(port(), "/api/events?pid=" + std::to_string(e["pid"].get<uint32_t>()));
  EXPECT_GE(by_pid["events"].size(), 5u);  // exec, 3 opens, connect, exit
  auto none = get_json(port(), "/api/events?type=exec&q=no-such-program");
  EXPECT_EQ(none["events"].size(), 0u);

  const std::string proof_url = "/api/event/" + std::to_string(e["log_index"].get<uint64_t>()) +
                                "/" + std::to_string(e["leaf_index"].get<uint64_t>()) + "/proof";
  auto p = get_json(port(), proof_url);
  ASSERT_TRUE(p["server_verification"]["ok"].get<bool>()) << p.dump();
  EXPECT_EQ(p["seq"], fixture_.curl_seq);
  // The hashes the page recomputes, recomputed here from the JSON alone.
  auto atom = from_hex(p["atom"].get<std::string>());
  auto micro_bytes = from_hex(p["micro"].get<std::string>());
  ASSERT_TRUE(atom.ok() && micro_bytes.ok());
  auto micro = seal::decode_micro(*micro_bytes);
  ASSERT_TRUE(micro.ok());
  merkle::Proof path;
  for (const auto& h : p["event_path"]) path.push_back(*hash32_from_hex(h.get<std::string>()));
  EXPECT_TRUE(merkle::verify_inclusion(merkle::leaf_hash(*atom), p["leaf_index"], p["leaf_count"],
                                       path, micro->micro_root));

  EXPECT_EQ(raw_request(port(), "/api/event/0/9999/proof").status, 404);
  EXPECT_EQ(raw_request(port(), "/api/event/999/0/proof").status, 404);
}

TEST_F(ServeTest, ReportAndArtifacts) {
  auto r = get_json(port(), "/api/report");
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_EQ(r["windows"], fixture_.windows);
  auto store = get_json(port(), "/api/artifact/_meta/store.cbor");
  EXPECT_EQ(store["json"][0], "ritma-store@1");
  auto cp = get_json(port(), "/api/artifact/log/checkpoint");
  EXPECT_EQ(cp["kind"], "checkpoint");
  EXPECT_NE(cp["text"].get<std::string>().find("ritma-windows/viewer-test/"), std::string::npos);
  auto w = get_json(port(), "/api/windows");
  const auto& first = w["windows"][0];
  auto micro = get_json(port(), "/api/artifact/" + first["micro_file"].get<std::string>());
  EXPECT_EQ(micro["json"][0], "ritma-micro@1");
  auto block = get_json(port(), "/api/artifact/" + first["blocks"][0]["file"].get<std::string>());
  EXPECT_EQ(block["kind"], "block");
  EXPECT_FALSE(block.contains("json"));
}

TEST_F(ServeTest, ServesTheEmbeddedPage) {
  const Reply page = raw_request(port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Ritma evidence viewer"), std::string::npos);
  EXPECT_EQ(raw_request(port(), "/app.js").status, 200);
  EXPECT_EQ(raw_request(port(), "/style.css").status, 200);
  EXPECT_EQ(raw_request(port(), "/api/summary", "HEAD").status, 200);
}

TEST_F(ServeTest, RefusesPathsOutsideTheStore) {
  const std::vector<std::string> targets = {
      "/api/../../etc/passwd",
      "/../../etc/passwd",
      "/api/artifact/../../etc/passwd",
      "/api/artifact/../../../../../../etc/passwd",
      "/api/%2e%2e/%2e%2e/etc/passwd",
      "/api/artifact/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/api/artifact/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/api/artifact/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
      "/api/artifact/..%5c..%5cetc%5cpasswd",
      "/api/artifact/..\\..\\etc\\passwd",
      "/api/artifact//etc/passwd",
      "/api/artifact/%2fetc%2fpasswd",
      "/api/artifact/_meta/store.cbor%00/../../../../etc/passwd",
      "/api/artifact/_meta/../../../etc/passwd%00.cbor",
      "/api/artifact/escape.cbor",
      "/api/artifact/log/escape.sig",
      "/api/artifact/etc-link/passwd",
      "/api/artifact/etc-link/ssl/openssl.cnf",
      "/api/artifact/_meta/keys/node.key",
      "/api/artifact/log/windows.log",
      "/api/artifact/./_meta/store.cbor",
      "/etc/passwd",
      "//etc/passwd",
  };
  for (const auto& t : targets) {
    const Reply r = raw_request(port(), t);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << t << " -> " << r.status << " " << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << t;
    EXPECT_EQ(r.body.find("PRIVATE"), std::string::npos) << t;
  }
}

TEST_F(ServeTest, IsReadOnly) {
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH"}) {
    const Reply r = raw_request(port(), "/api/summary", m);
    EXPECT_EQ(r.status, 405) << m;
  }
}

TEST_F(ServeTest, TakenPortMeansAnotherOne) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int taken = ntohs(a.sin_port);
  {
    Serve other({"--base-dir", (dir_->path() / "base").string(), "--port", std::to_string(taken)});
    const std::string prefix = "ritma serve: http://127.0.0.1:";
    ASSERT_EQ(other.line().rfind(prefix, 0), 0u) << other.line();
    const int chosen = std::stoi(other.line().substr(prefix.size()));
    EXPECT_NE(chosen, taken);
    EXPECT_NE(other.line().find("(store " + (dir_->path() / "base" / "RITMA_OUT").string()),
              std::string::npos)
        << other.line();
    EXPECT_EQ(raw_request(chosen, "/api/summary").status, 200);
  }
  close(fd);
}

TEST(ServeCli, NoStoreIsAUsageError) {
  test::TempDir dir;
  auto r = test::run_program({RITMA_BIN, "serve", "--base-dir", dir.path().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no sealed store"), std::string::npos) << r.err;
}

TEST(ServeCli, HelpSaysWhatItDoes) {
  auto r = test::run_program({RITMA_BIN, "serve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--bundle"), std::string::npos);
  EXPECT_NE(r.out.find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace ritma
