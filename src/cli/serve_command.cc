// `ritma serve`: a read-only web viewer of the sealed store or of a ProofPack bundle, served
// from the binary itself (no network access needed: every page asset is embedded). See
// docs/VIEWER.md.
#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "store/store_layout.h"
#include "viewer/evidence_source.h"
#include "viewer/viewer_server.h"

namespace ritma::cli {
namespace {

constexpr int kExitUsage = 2;

struct ServeOptions {
  bool store = false;
  std::string bundle;
  std::string base_dir;
  std::string bind = "127.0.0.1";
  int port = viewer::kDefaultPort;
  bool json = false;
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "ritma serve: " << message << "\n";
  throw CLI::RuntimeError(code);
}

void run_serve(const ServeOptions& o) {
  if (o.port < 0 || o.port > 65535) fail("--port must be 0..65535", kExitUsage);
  Result<std::unique_ptr<viewer::EvidenceSource>> source = make_error("");
  if (!o.bundle.empty()) {
    source = viewer::open_bundle_source(o.bundle);
    if (!source.ok())
      fail("cannot open the bundle " + o.bundle + ": " + source.error().message, kExitUsage);
  } else {
    const store::StorePaths paths = store::resolve_store_paths(
        o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
    source = viewer::open_store_source(paths.out_dir);
    if (!source.ok()) fail(source.error().message, kExitUsage);
  }
  viewer::ViewerServer server(std::move(*source));

  // SIGINT/SIGTERM stop the server from a thread of their own (nothing runs in a handler).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto bound = server.bind(o.bind, o.port);
  if (!bound.ok()) fail(bound.error().message, kExitUsage);
  const std::string host = o.bind.find(':') != std::string::npos ? "[" + o.bind + "]" : o.bind;
  const std::string url = "http://" + host + ":" + std::to_string(bound->port) + "/";
  const std::string what = server.source().kind() + " " + server.source().location();
  if (bound->fell_back)
    std::cerr << "ritma serve: port " << o.port << " is taken; using " << bound->port << "\n";
  if (o.json) {
    std::cout << nlohmann::json{{"url", url},
                                {"bind", o.bind},
                                {"port", bound->port},
                                {"source", server.source().kind()},
                                {"path", server.source().location()}}
                     .dump()
              << std::endl;
  } else {
    std::cout << "ritma serve: " << url << " (" << what << ")" << std::endl;
  }

  std::thread waiter([&server, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  const bool ran = server.run();
  // The server stopped on its own (not by a signal): wake the waiter so it can be joined.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!ran) fail("the server stopped unexpectedly", 1);
}

}  // namespace

void register_serve_command(CLI::App& app) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve a read-only web viewer of the sealed store (default) or of a ProofPack bundle: "
      "timeline of windows and their seal status, process tree, event table, each event's "
      "inclusion proof checked in the browser, the verification report, and a JSON API "
      "(/api/...). Works offline; binds to 127.0.0.1 unless told otherwise. Stop with Ctrl-C.");
  auto* store = cmd->add_flag("--store", opts->store, "Serve the local sealed store (the default)");
  auto* bundle = cmd->add_option("--bundle", opts->bundle,
                                 "Serve a ProofPack: a directory or a .tar.zst from "
                                 "`ritma export-proof`");
  bundle->excludes(store);
  auto* base = cmd->add_option("--base-dir", opts->base_dir,
                               "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  base->excludes(bundle);
  cmd->add_option("--bind", opts->bind,
                  "Address to listen on (default 127.0.0.1; the viewer has no authentication, "
                  "so think before exposing it)");
  cmd->add_option("--port", opts->port,
                  "Port (default 8787; when it is taken, a free port is chosen and printed; 0 "
                  "for any free port)");
  cmd->add_flag("--json", opts->json,
                "Print the address as one JSON line {\"url\", \"port\", ...} (for scripts)");
  cmd->callback([opts] { run_serve(*opts); });
}

}  // namespace ritma::cli
