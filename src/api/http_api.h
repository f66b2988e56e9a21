// The HTTP face of `requiem serve` (cpp-httplib): the listening socket, TLS and mTLS, and the
// limits checked before a body is read — a declared body over the maximum is answered 413 and
// the connection closed without reading it; chunked bodies are refused (411); a request line
// and headers may take 16 KiB — so no connection can make the server hold more than that plus
// the maximum body. Everything else goes to ControlPlane::handle.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/control_plane.h"
#include "core/result.h"

namespace httplib {
class Server;
}

namespace ritma::api {

struct BindAddress {
  std::string host;  // an IPv4 or IPv6 literal, or "localhost"
  int port = 0;      // 0: any free port
};
// "HOST:PORT", "[V6]:PORT", or ":PORT" / "PORT" (127.0.0.1).
Result<BindAddress> parse_bind(std::string_view text);
// 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

struct HttpOptions {
  BindAddress bind{"127.0.0.1", 8080};
  std::string tls_cert;   // PEM; with tls_key: HTTPS
  std::string tls_key;
  std::string client_ca;  // PEM CA bundle: clients must present a certificate it signed
  bool dev_mode = false;  // refused unless bind is loopback
};

class HttpApi {
 public:
  // Checks the options (dev mode only on loopback, TLS files), builds the server and binds.
  static Result<std::unique_ptr<HttpApi>> create(ControlPlane& plane, const HttpOptions& options);
  ~HttpApi();
  int port() const { return port_; }
  bool tls() const { return tls_; }
  // Serves until stop(); false when the server failed.
  bool run();
  void stop();

 private:
  HttpApi() = default;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace ritma::api
