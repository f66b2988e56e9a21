#include "api/http_api.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/durable_file.h"

namespace ritma::api {
namespace {

void send(httplib::Response& res, const ApiResponse& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_header("Cache-Control", "no-store");
  res.set_content(r.body, r.content_type.c_str());
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message, bool close = false) {
  ApiResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
  if (close) r.headers.emplace_back("Connection", "close");
  send(res, r);
}


// ---- bounded connections --------------------------------------------------------------------
//
// cpp-httplib 0.11 reads a request line and each header line whole, however long, and keeps a
// connection open after a response it answered without reading the body: the next "request"
// is then the body, read as one line. Both let a client grow the server's memory without
// bound. So each connection is served here, through a stream that hands httplib at most
// kHeadBytes before the headers are parsed and then exactly the declared body (never more than
// the maximum), and that is closed after any request whose body was not read.

constexpr size_t kHeadBytes = 16 * 1024;  // request line + headers

bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR));
  }
}

class BoundedStream final : public httplib::Stream {
 public:
  BoundedStream(int fd, SSL* ssl, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), ssl_(ssl), read_ms_(read_timeout_ms), write_ms_(write_timeout_ms) {}

  // What httplib may read from now on, for this request.
  void set_budget(uint64_t bytes) { budget_ = bytes; }
  bool exceeded() const { return exceeded_; }
  bool buffered() const { return off_ < len_ || (ssl_ && SSL_pending(ssl_) > 0); }
  bool wait_readable(int timeout_ms) const {
    return buffered() || wait_fd(fd_, POLLIN, timeout_ms);
  }

  bool is_readable() const override { return wait_readable(read_ms_); }
  bool is_writable() const override { return wait_fd(fd_, POLLOUT, write_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (budget_ == 0) {
      exceeded_ = true;
      return -1;
    }
    if (off_ == len_) {
      const ssize_t n = fill();
      if (n <= 0) return n;
    }
    const size_t k = std::min<uint64_t>({size, len_ - off_, budget_});
    std::memcpy(ptr, buf_ + off_, k);
    off_ += k;
    budget_ -= k;
    return static_cast<ssize_t>(k);
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      if (!is_writable()) return -1;
      ssize_t n;
      if (ssl_) {
        const int w = SSL_write(ssl_, ptr + done, static_cast<int>(std::min<size_t>(size - done, 1 << 30)));
        if (w <= 0) {
          const int e = SSL_get_error(ssl_, w);
          if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) continue;
          return -1;
        }
        n = w;
      } else {
        n = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR || errno == EAGAIN) continue;
          return -1;
        }
      }
      done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(done);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address(true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address(false, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  ssize_t fill() {
    off_ = len_ = 0;
    for (;;) {
      if (!(ssl_ && SSL_pending(ssl_) > 0) && !wait_fd(fd_, POLLIN, read_ms_)) return -1;
      ssize_t n;
      if (ssl_) {
        const int r = SSL_read(ssl_, buf_, sizeof buf_);
        if (r <= 0) {
          const int e = SSL_get_error(ssl_, r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
          return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        }
        n = r;
      } else {
        n = ::recv(fd_, buf_, sizeof buf_, 0);
        if (n < 0) {
          if (errno == EINTR || errno == EAGAIN) continue;
          return -1;
        }
      }
      len_ = static_cast<size_t>(n);
      return n;
    }
  }

  void address(bool peer, std::string& ip, int& port) const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int r = peer ? ::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len)
                       : ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    if (r != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }

  int fd_;
  SSL* ssl_;
  int read_ms_, write_ms_;
  char buf_[4096];
  size_t off_ = 0, len_ = 0;
  uint64_t budget_ = 0;
  bool exceeded_ = false;
};

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

class BoundedServer final : public httplib::Server {
 public:
  BoundedServer(uint64_t max_body, std::unique_ptr<SSL_CTX, SslCtxFree> ctx)
      : max_body_(max_body), ctx_(std::move(ctx)) {}

  // cpp-httplib listens with a backlog of 5: a burst of clients overflows it (SYN cookies, then
  // resets). listen() again on the bound socket raises it.
  bool raise_backlog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }

  static constexpr int kReadTimeoutMs = 30'000;
  static constexpr int kWriteTimeoutMs = 30'000;
  static constexpr int kKeepAliveMs = 5'000;
  static constexpr size_t kKeepAliveMax = 1000;

 private:
  bool process_and_close_socket(socket_t sock) override {
    // httplib writes the head and the body separately: without TCP_NODELAY, Nagle's algorithm
    // holds the body until the client's delayed ACK (40 ms a response).
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL* ssl = nullptr;
    if (ctx_) {
      timeval tv{kReadTimeoutMs / 1000, 0};
      ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      ssl = SSL_new(ctx_.get());
      if (!ssl || SSL_set_fd(ssl, sock) != 1 || SSL_accept(ssl) != 1) {
        ERR_clear_error();
        if (ssl) SSL_free(ssl);
        ::close(sock);
        return false;
      }
    }
    bool ok = true;
    {
      BoundedStream strm(sock, ssl, kReadTimeoutMs, kWriteTimeoutMs);
      for (size_t i = 0; i < kKeepAliveMax && is_running(); ++i) {
        if (!strm.wait_readable(i == 0 ? kReadTimeoutMs : kKeepAliveMs)) break;
        strm.set_budget(kHeadBytes);
        bool body_unread = false;
        bool connection_closed = false;
        const bool last = i + 1 == kKeepAliveMax;
        ok = process_request(strm, last, connection_closed, [&](httplib::Request& req) {
          // The headers are parsed: allow exactly the declared body, if it is within the
          // limit. Anything else is answered without reading it (pre-routing: 413/411/400).
          uint64_t n = 0;
          bool valid = true;
          if (req.has_header("Content-Length")) {
            const std::string v = req.get_header_value("Content-Length");
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            valid = !v.empty() && ec == std::errc() && p == v.data() + v.size() &&
                    req.get_header_value_count("Content-Length") == 1;
          }
          if (!valid || n > max_body_ || req.has_header("Transfer-Encoding")) {
            body_unread = true;
            strm.set_budget(0);
          } else {
            strm.set_budget(n);
          }
        });
        if (!ok || connection_closed || last || body_unread || strm.exceeded()) break;
      }
    }
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  uint64_t max_body_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
};

Result<std::unique_ptr<SSL_CTX, SslCtxFree>> make_ssl_ctx(const HttpOptions& o) {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  auto fail = [](const std::string& what) {
    const unsigned long e = ERR_get_error();
    char buf[256] = {};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return make_error("TLS: " + what + (e ? std::string(": ") + buf : std::string()));
  };
  if (!ctx) return fail("cannot create a context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), o.tls_cert.c_str()) != 1)
    return fail("cannot load the certificate " + o.tls_cert);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("cannot load the private key " + o.tls_key);
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return fail("the private key does not match the certificate");
  if (!o.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), o.client_ca.c_str(), nullptr) != 1)
      return fail("cannot load the client CA " + o.client_ca);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca.c_str());
    if (names) SSL_CTX_set_client_CA_list(ctx.get(), names);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

}  // namespace

Result<BindAddress> parse_bind(std::string_view text) {
  BindAddress b;
  std::string_view port_text = text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == text.npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("--bind: \"" + std::string(text) + "\": expected [IPV6]:PORT");
    b.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != text.npos) {
    b.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (b.host.find(':') != std::string::npos)
      return make_error("--bind: write an IPv6 address as [ADDR]:PORT");
  }
  if (b.host.empty()) b.host = "127.0.0.1";
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535)
    return make_error("--bind: \"" + std::string(text) + "\": the port must be 0..65535");
  b.port = port;
  if (b.host != "localhost") {
    unsigned char buf[16];
    if (inet_pton(AF_INET, b.host.c_str(), buf) != 1 && inet_pton(AF_INET6, b.host.c_str(), buf) != 1)
      return make_error("--bind: \"" + b.host + "\" is not an IP address (or localhost)");
  }
  return b;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  std::string h(host);
  in_addr a{};
  if (inet_pton(AF_INET, h.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

HttpApi::~HttpApi() = default;

Result<std::unique_ptr<HttpApi>> HttpApi::create(ControlPlane& plane, const HttpOptions& o) {
  if (o.dev_mode && !is_loopback_host(o.bind.host)) {
    return make_error("dev mode (no authentication) listens only on a loopback address; refusing "
                      "--bind " + o.bind.host + " (use 127.0.0.1 or ::1, or configure auth)");
  }
  auto api = std::unique_ptr<HttpApi>(new HttpApi());
  const ServeConfig& cfg = plane.options().config;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty())
      return make_error("TLS needs both --tls-cert and --tls-key");
    RITMA_ASSIGN_OR_RETURN(ctx, make_ssl_ctx(o));
    api->tls_ = true;
  } else if (!o.client_ca.empty()) {
    return make_error("--client-ca needs --tls-cert and --tls-key");
  }
  api->server_ = std::make_unique<BoundedServer>(cfg.max_body_bytes, std::move(ctx));
  httplib::Server& s = *api->server_;
  const size_t max_body = cfg.max_body_bytes;
  const std::string tenant_header = cfg.tenant_header;
  const size_t threads = cfg.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(max_body);  // a backstop: the pre-routing check answers first
  s.set_default_headers({{"X-Content-Type-Options", "nosniff"}});

  // Before any body is read: methods, single-valued headers, and the size of the body.
  s.set_pre_routing_handler([max_body, tenant_header](const httplib::Request& req,
                                                      httplib::Response& res) {
    using HR = httplib::Server::HandlerResponse;
    if (req.method != "GET" && req.method != "POST") {
      res.set_header("Allow", "GET, POST");
      send_error(res, 405, "method_not_allowed", "only GET and POST", true);
      return HR::Handled;
    }
    if (req.has_header("Transfer-Encoding")) {
      send_error(res, 411, "length_required",
                 "chunked bodies are not accepted: send Content-Length", true);
      return HR::Handled;
    }
    if (req.has_header("Content-Length")) {
      const std::string v = req.get_header_value("Content-Length");
      uint64_t n = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (req.get_header_value_count("Content-Length") != 1 || v.empty() || ec != std::errc() ||
          ptr != v.data() + v.size()) {
        send_error(res, 400, "bad_request", "a malformed Content-Length", true);
        return HR::Handled;
      }
      if (n > max_body) {
        send_error(res, 413, "payload_too_large",
                   "the body is " + std::to_string(n) + " bytes; the limit is " +
                       std::to_string(max_body),
                   true);
        return HR::Handled;
      }
    }
    for (const char* h : {"Authorization", "Idempotency-Key"}) {
      if (req.get_header_value_count(h) > 1) {
        send_error(res, 400, "bad_request", std::string(h) + " sent more than once", true);
        return HR::Handled;
      }
    }
    if (!tenant_header.empty() && req.get_header_value_count(tenant_header.c_str()) > 1) {
      send_error(res, 400, "bad_request", tenant_header + " sent more than once", true);
      return HR::Handled;
    }
    return HR::Unhandled;
  });

  auto handler = [&plane, tenant_header](const httplib::Request& req, httplib::Response& res) {
    ApiRequest a;
    a.method = req.method;
    a.path = req.path;
    a.query.insert(req.params.begin(), req.params.end());
    if (req.has_header("Authorization")) a.authorization = req.get_header_value("Authorization");
    if (!tenant_header.empty() && req.has_header(tenant_header.c_str()))
      a.tenant_header = req.get_header_value(tenant_header.c_str());
    if (req.has_header("Idempotency-Key"))
      a.idempotency_key = req.get_header_value("Idempotency-Key");
    a.body = req.body;
    send(res, plane.handle(a));
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      send_error(res, res.status, res.status == 413 ? "payload_too_large" : "error",
                 res.status == 413 ? "the body is over the limit" : "the request failed");
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal_error", "internal error");
  });

  if (o.bind.port > 0) {
    if (!s.bind_to_port(o.bind.host, o.bind.port))
      return make_error("cannot listen on " + o.bind.host + ":" + std::to_string(o.bind.port));
    api->port_ = o.bind.port;
  } else {
    api->port_ = s.bind_to_any_port(o.bind.host);
    if (api->port_ <= 0) return make_error("cannot listen on " + o.bind.host + " (any port)");
  }
  if (!static_cast<BoundedServer&>(s).raise_backlog())
    return make_error("cannot raise the listen backlog: " + std::string(std::strerror(errno)));
  return api;
}

bool HttpApi::run() {
  return server_->listen_after_bind();
}

void HttpApi::stop() {
  server_->stop();
}

}  // namespace ritma::api
