// The control plane of `requiem serve` (docs/API.md): authentication, routing, tenant-scoped
// reads, budgets and a token bucket kept in the database, idempotency keys, runs through the
// Requiem engine, and an audit record for every decision, written in the same transaction as
// the state change it records.
//
// It knows nothing of HTTP framing: http_api.cc turns each request into an ApiRequest after
// the size limits, and sends the ApiResponse. Every method is safe to call from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/serve_config.h"
#include "core/key_file.h"
#include "core/result.h"

namespace ritma::api {

struct ApiRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // without the query string
  std::multimap<std::string, std::string> query;  // decoded parameters
  std::optional<std::string> authorization;   // the Authorization header
  std::optional<std::string> tenant_header;   // the configured tenant header, when sent
  std::optional<std::string> idempotency_key;  // the Idempotency-Key header
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ControlPlaneOptions {
  ServeConfig config;
  std::string db_url;                   // sqlite:PATH or postgresql://...
  std::filesystem::path state_dir;      // tenants/<tenant>/{cas,bundles,work}
  std::optional<NamedSigningKey> signing_key;  // signs bundles and checkpoints (required)
  // No authentication: the tenant is the tenant header's value, else "dev"; the actor is
  // "dev". http_api refuses to start it on anything but a loopback address.
  bool dev_mode = false;
  // Tests and benches: run tools without the kernel trace even when the tool asks for it.
  bool force_no_trace = false;
};

// The identity of a request: the token's tenant and subject.
struct Identity {
  std::string tenant;
  std::string actor;
};

class ControlPlane {
 public:
  // Opens the database pool, checks the schema (applies the migrations on SQLite; on
  // PostgreSQL the owner applies them with `requiem migrate`), builds the token verifier.
  static Result<std::unique_ptr<ControlPlane>> create(ControlPlaneOptions options);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  ApiResponse handle(const ApiRequest& request);

  // Writes a checkpoint when records are not yet covered (a timer calls it, and shutdown).
  Status checkpoint_now();

  const ControlPlaneOptions& options() const;

 private:
  struct Impl;
  explicit ControlPlane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ritma::api
