// The configuration of `requiem serve` (docs/API.md "Configuration"): authentication, limits,
// budgets, the audit log and the tool registry; and the parser of its request bodies. One JSON file, read strictly: unknown members,
// duplicate members, wrong types and out-of-range values are errors that name the member.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/jwt.h"
#include "core/result.h"

namespace ritma::api {

// A registered tool: what a tenant may run, and how. The command template is an argv whose
// elements are literal, except an element that is exactly "{args}", which is replaced by the
// request's arguments (each one argv element; no shell ever sees them).
struct ToolSpec {
  std::string name;       // [a-z0-9][a-z0-9._-]{0,63}
  std::string version;    // semver 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]
  std::vector<std::string> command;  // argv template; command[0] an absolute path
  std::string profile = "default";   // seccomp profile (exec/seccomp_policy.h)
  bool deterministic = false;        // the same arguments give the same output (replayable)
  bool idempotent = false;           // running it twice has no other effect than once
  std::string tenant;                // empty: a system tool, visible to every tenant
  uint64_t output_max_bytes = 1 << 20;  // each of stdout and stderr
  uint64_t cost = 1;                    // executions debited from the budget per run
  uint64_t timeout_ms = 30'000;
  uint64_t cpu_seconds = 30;
  uint64_t memory_mb = 256;
  uint64_t pids = 64;
  uint32_t max_args = 64;          // request arguments at most
  uint32_t max_arg_bytes = 4096;   // each argument at most
  bool trace = true;               // record the kernel trace of the run (needs BPF)
  bool tenant_scoped() const { return !tenant.empty(); }
};

// Per-tenant budget over fixed windows of `window_seconds`, plus a token bucket.
struct BudgetSpec {
  uint64_t window_seconds = 3600;
  uint64_t max_executions = 1000;  // per window (a tool's `cost` each)
  uint64_t max_cpu_seconds = 3600;
  uint64_t max_wall_seconds = 7200;
  uint64_t max_output_bytes = 1ull << 30;
  double rate_per_second = 10;  // token bucket refill
  double burst = 20;            // token bucket size (>= 1)
};

struct AuthSpec {
  std::string issuer;
  std::string audience;
  std::string tenant_claim = "tenant";
  int64_t leeway_seconds = 60;
  std::string hs256_secret_file;  // HS256 when set
  struct PublicKeyFile {
    std::string file;  // PEM SubjectPublicKeyInfo (Ed25519 or P-256)
    std::string kid;
  };
  std::vector<PublicKeyFile> public_keys;  // EdDSA / ES256
  std::string jwks_file;                   // EdDSA / ES256 keys
};

struct ServeConfig {
  std::optional<AuthSpec> auth;  // absent: only dev mode can start
  // The header a client may send to name its tenant; when present it must equal the token's
  // tenant (else 403). Empty: the header is not special.
  std::string tenant_header = "X-Requiem-Tenant";
  uint64_t max_body_bytes = 1 << 20;
  uint32_t max_json_depth = 8;
  uint32_t threads = 16;                // HTTP worker threads
  uint32_t max_concurrent_runs = 4;     // sandboxes at once; the rest wait
  uint32_t db_connections = 8;
  uint64_t idempotency_ttl_seconds = 86'400;
  BudgetSpec budget;
  std::map<std::string, BudgetSpec> tenant_budgets;  // overrides by tenant
  std::string audit_log_name = "requiem";
  uint64_t audit_checkpoint_every = 1000;
  uint64_t audit_checkpoint_interval_ms = 1000;
  std::vector<ToolSpec> tools;

  const BudgetSpec& budget_for(std::string_view tenant) const;
  // The tools `tenant` may see: system tools and its own.
  std::vector<const ToolSpec*> tools_for(std::string_view tenant) const;
  // `version` empty: the highest semver version visible. nullptr when none.
  const ToolSpec* find_tool(std::string_view tenant, std::string_view name,
                            std::string_view version) const;
};

// Parses and checks a configuration (strict JSON, depth <= 8).
Result<ServeConfig> parse_serve_config(std::string_view json_text);
Result<ServeConfig> load_serve_config(const std::filesystem::path& path);

// Builds the token verifier of `auth` (reads the key files).
Result<JwtVerifier> make_verifier(const AuthSpec& auth);

// The body of POST /v1/executions: {"tool": NAME, "version"?: SEMVER, "args"?: [STRING...]}.
// Strict: unknown members, duplicates, wrong types and nesting deeper than `max_depth` are
// errors that say what is wrong.
struct ExecutionBody {
  std::string tool;
  std::string version;  // empty: the newest visible version
  std::vector<std::string> args;
};
Result<ExecutionBody> parse_execution_body(std::string_view body, int max_depth);

// Semver 2.0.0 precedence: <0, 0, >0. Both must be valid (valid_semver).
bool valid_semver(std::string_view v);
int compare_semver(std::string_view a, std::string_view b);

}  // namespace ritma::api
