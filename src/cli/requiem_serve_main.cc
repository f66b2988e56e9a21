// `requiem-serve` (what `requiem serve` runs): the control plane's HTTP API (docs/API.md).
// A program of its own so that `requiem` itself stays small and quick to start: it links
// libstdc++ statically, and cpp-httplib (a shared library) brings its own.
//
// serve prints one JSON line on stdout once it listens ({"listening": "HOST:PORT", ...}), then
// serves until SIGINT or SIGTERM, when it writes a last audit checkpoint and exits 0. It exits
// 2 on a bad configuration or arguments (dev mode on a non-loopback address included), 1 when
// it cannot start (database, key, port).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "api/control_plane.h"
#include "api/db.h"
#include "api/http_api.h"
#include "exec/bundle.h"

namespace ritma::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ServeCliOptions {
  std::string db, bind = "127.0.0.1:8080", config, state_dir, key;
  std::string tls_cert, tls_key, client_ca;
  bool dev = false;
  bool no_trace = false;
};

[[noreturn]] void fail(const std::string& cmd, const std::string& message, int code) {
  std::cerr << "requiem " << cmd << ": " << message << "\n";
  throw CLI::RuntimeError(code);
}

fs::path default_serve_state() {
  if (const char* h = std::getenv("REQUIEM_HOME"); h && *h) return fs::path(h) / "serve";
  if (const char* b = std::getenv("RITMA_BASE_DIR"); b && *b) return fs::path(b) / "requiem-serve";
  return "/var/lib/ritma/requiem-serve";
}

void run_serve(const ServeCliOptions& o) {
  auto bind = api::parse_bind(o.bind);
  if (!bind) fail("serve", bind.error().message, 2);
  api::HttpOptions ho;
  ho.bind = *bind;
  ho.tls_cert = o.tls_cert;
  ho.tls_key = o.tls_key;
  ho.client_ca = o.client_ca;
  ho.dev_mode = o.dev;
  if (o.dev && !api::is_loopback_host(bind->host)) {
    fail("serve",
         "dev mode (no authentication) listens only on a loopback address; refusing --bind " +
             o.bind + " (use 127.0.0.1 or ::1, or configure auth)",
         2);
  }
  api::ControlPlaneOptions co;
  if (!o.config.empty()) {
    auto c = api::load_serve_config(o.config);
    if (!c) fail("serve", c.error().message, 2);
    co.config = std::move(*c);
  }
  if (!o.dev && !co.config.auth) {
    fail("serve",
         "no authentication configured: give --config FILE with an \"auth\" section, or --dev "
         "(loopback only, no authentication)",
         2);
  }
  co.state_dir = o.state_dir.empty() ? default_serve_state() : fs::path(o.state_dir);
  co.db_url = o.db.empty() ? "sqlite:" + (co.state_dir / "requiem.db").string() : o.db;
  co.dev_mode = o.dev;
  co.force_no_trace = o.no_trace;
  std::error_code ec;
  fs::create_directories(co.state_dir, ec);
  if (ec) fail("serve", "state dir " + co.state_dir.string() + ": " + ec.message(), 1);
  auto key = exec::load_signing_key(o.key.empty() ? std::nullopt
                                                  : std::optional<fs::path>(fs::path(o.key)));
  if (!key) fail("serve", key.error().message, 1);
  co.signing_key = std::move(*key);
  const auto interval = std::chrono::milliseconds(co.config.audit_checkpoint_interval_ms);

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that goes away must not kill the server.
  signal(SIGPIPE, SIG_IGN);

  auto plane = api::ControlPlane::create(std::move(co));
  if (!plane) fail("serve", plane.error().message, 1);
  auto http = api::HttpApi::create(**plane, ho);
  if (!http) fail("serve", http.error().message, o.dev ? 2 : 1);

  const auto& opts = (*plane)->options();
  const std::string host = bind->host.find(':') != std::string::npos ? "[" + bind->host + "]"
                                                                      : bind->host;
  auto url = api::parse_db_url(opts.db_url);
  std::cout << json{{"listening", host + ":" + std::to_string((*http)->port())},
                    {"tls", (*http)->tls()},
                    {"mtls", !o.client_ca.empty()},
                    {"dev", o.dev},
                    {"db", url ? url->redacted : std::string("?")},
                    {"tools", opts.config.tools.size()},
                    {"state_dir", opts.state_dir.string()}}
                   .dump()
            << std::endl;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread checkpoints([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, interval, [&] { return stopping; })) {
      lock.unlock();
      if (auto st = (*plane)->checkpoint_now(); !st.ok())
        std::cerr << "requiem serve: audit checkpoint: " << st.error().message << "\n";
      lock.lock();
    }
  });
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    (*http)->stop();
  });
  const bool ok = (*http)->run();
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  checkpoints.join();
  // The signal thread still waits when run() failed: wake it.
  if (!ok) kill(getpid(), SIGTERM);
  signals.join();
  if (auto st = (*plane)->checkpoint_now(); !st.ok())
    std::cerr << "requiem serve: final audit checkpoint: " << st.error().message << "\n";
  if (!ok) fail("serve", "the HTTP server stopped with an error", 1);
  std::cerr << "requiem serve: stopped\n";
}

}  // namespace

}  // namespace ritma::cli

int main(int argc, char** argv) {
  using namespace ritma::cli;
  CLI::App app{"requiem serve: the control plane's JSON API", "requiem serve"};
  app.set_version_flag("-V,--version", std::string("requiem ") + RITMA_VERSION);
  auto o = std::make_shared<ServeCliOptions>();
  CLI::App* serve = &app;
  serve->description(
      "Serve the control plane's JSON API: registered tools run in the sandbox for "
      "authenticated tenants, with budgets, idempotency keys and a signed audit log "
      "(docs/API.md)");
  serve->add_option("--db", o->db,
                    "sqlite:PATH or postgresql://... (default: sqlite:STATE/requiem.db)");
  serve->add_option("--bind", o->bind, "HOST:PORT or [IPV6]:PORT to listen on (port 0: any)")
      ->capture_default_str();
  serve->add_option("--config", o->config, "The configuration file (JSON: auth, tools, budgets)");
  serve->add_option("--state-dir", o->state_dir,
                    "Bundles and CAS, per tenant (default: $REQUIEM_HOME/serve, else "
                    "/var/lib/ritma/requiem-serve)");
  serve->add_option("--key", o->key,
                    "The signing key for bundles and audit checkpoints (default: "
                    "$REQUIEM_SIGNING_KEY)");
  serve->add_option("--tls-cert", o->tls_cert, "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", o->tls_key, "PEM private key of --tls-cert");
  serve->add_option("--client-ca", o->client_ca,
                    "PEM CA bundle: require client certificates it signed (mTLS)");
  serve->add_flag("--dev", o->dev,
                  "No authentication (tenant from the tenant header, default \"dev\"); only on a "
                  "loopback address");
  serve->add_flag("--no-trace", o->no_trace,
                  "Run every tool without the kernel trace, even tools that ask for it");
  serve->callback([o] { run_serve(*o); });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
