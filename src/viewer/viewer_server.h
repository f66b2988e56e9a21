// The HTTP side of `ritma serve`: the embedded single-page viewer (src/viewer/assets/, built
// into the binary) and a read-only JSON API over an EvidenceSource. Only GET and HEAD; every
// path is checked before anything is looked up, and nothing outside the source's root is
// served.
//
//   GET /                                         the viewer (index.html, app.js, style.css)
//   GET /api/summary                              what is served: store/bundle, counts, checkpoint
//   GET /api/windows                              every window with its seal status
//   GET /api/events?from=&to=&type=&pid=&q=&log_index=&limit=   events, filtered
//   GET /api/event/<log_index>/<leaf_index>/proof the event's inclusion proof, verified here too
//   GET /api/report                               the verification report
//   GET /api/artifact/<relative path>             a CBOR artifact as JSON (blocks: metadata)
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "viewer/evidence_source.h"

namespace httplib {
class Server;
}

namespace ritma::viewer {

inline constexpr int kDefaultPort = 8787;

class ViewerServer {
 public:
  explicit ViewerServer(std::unique_ptr<EvidenceSource> source);
  ~ViewerServer();
  ViewerServer(const ViewerServer&) = delete;
  ViewerServer& operator=(const ViewerServer&) = delete;

  struct Bound {
    int port = 0;
    bool fell_back = false;  // the port asked for was taken: another one was chosen
  };
  // Binds host:port; when that port is taken (or port is 0), any free port.
  Result<Bound> bind(const std::string& host, int port);
  // Serves until stop() (from another thread). False when the server could not run.
  bool run();
  void stop();

  EvidenceSource& source() { return *source_; }

 private:
  void install_routes();
  std::unique_ptr<EvidenceSource> source_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace ritma::viewer
