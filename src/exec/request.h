// Requiem's request: what to run and under which sandbox, as a JSON file (`requiem exec
// --request FILE`) or filled from command-line options. It owns the rules every other part
// relies on: the strict parser (size, depth, unknown and duplicate fields, types, paths), the
// explicit environment (the caller's is never inherited; secret-looking names are dropped and
// reported by name), the input digest check, and the request digest, a BLAKE3 and SHA-256 of
// the canonical CBOR of every field that affects execution, with the environment as resolved.
// docs/REQUIEM.md Part B specifies the JSON form and the digest's bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "exec/sandbox.h"

namespace ritma::exec {

// The domain tag that opens the canonical encoding hashed into the request digest.
inline constexpr std::string_view kRequestDigestTag = "requiem-request@1";

// The network (NetworkMode) and the filesystem view (ViewMode) are the sandbox's own enums
// (exec/sandbox.h). Their request names: network "none" | "loopback" | "host"; view
// "rootfs-ro+workspace" (ViewMode::kHostReadOnly: the host root read-only, the workspace
// read-write) | "binds" (ViewMode::kBindsOnly: only the listed binds). In both views the
// workspace appears read-write at its host path.

// A bind mount of the "binds" view: host path `src` appears at `dst` inside the sandbox.
struct Bind {
  std::string src;  // absolute, normalized host path
  std::string dst;  // absolute, normalized path inside the sandbox
  bool rw = false;  // read-write; read-only otherwise
  bool operator==(const Bind&) const = default;
};

// A file the run reads, with the digests it must have before the run (at least one).
struct InputSpec {
  std::string path;  // workspace-relative, normalized
  std::optional<Hash32> blake3;
  std::optional<Hash32> sha256;
  bool operator==(const InputSpec&) const = default;
};

// Resource limits; every one is always bounded (there is no "unlimited").
struct Limits {
  uint64_t wall_timeout_ms = 60'000;     // wall clock from start to kill (whole cgroup)
  uint64_t cpu_seconds = 60;             // CPU time of the run (RLIMIT_CPU / cgroup cpu)
  uint64_t memory_bytes = 512ull << 20;  // memory of the run's cgroup
  uint64_t pids = 256;                   // processes and threads of the run's cgroup
  uint64_t open_files = 1024;            // RLIMIT_NOFILE of each process
  uint64_t output_bytes = 64ull << 20;   // each of stdout and stderr; one byte more ends the run
  bool operator==(const Limits&) const = default;
};
inline constexpr Limits kMinLimits{.wall_timeout_ms = 1,
                                   .cpu_seconds = 1,
                                   .memory_bytes = 4ull << 20,
                                   .pids = 1,
                                   .open_files = 8,
                                   .output_bytes = 0};
inline constexpr Limits kMaxLimits{.wall_timeout_ms = 86'400'000,
                                   .cpu_seconds = 86'400,
                                   .memory_bytes = 1ull << 40,
                                   .pids = 65'536,
                                   .open_files = 1'048'576,
                                   .output_bytes = 16ull << 30};

// Deterministic time: the run's environment gets SOURCE_DATE_EPOCH and TZ=UTC. The clock the
// run reads is still the real one (see docs/REQUIEM.md Part B).
struct DeterministicTime {
  uint64_t source_date_epoch = 0;  // seconds since 1970-01-01 UTC, at most 253402300799
  bool operator==(const DeterministicTime&) const = default;
};

struct Request {
  std::string command;            // argv[0]: an absolute path in the view, or looked up in PATH
  std::vector<std::string> args;  // argv[1..]
  std::map<std::string, std::string> env;  // explicit variables
  std::vector<std::string> env_allow;      // names or "PREFIX*" taken from the caller
  std::vector<std::string> env_deny;       // names or "PREFIX*" never passed (beats both)
  std::string workspace;                   // absolute, normalized host directory, not "/"
  std::string cwd = ".";                   // workspace-relative, normalized
  std::vector<InputSpec> inputs;
  std::vector<std::string> outputs;  // workspace-relative files or directories
  Limits limits;
  NetworkMode network = NetworkMode::kNone;
  ViewMode view = ViewMode::kHostReadOnly;
  std::vector<Bind> binds;  // non-empty exactly when view is kBindsOnly; applied in order
  std::string seccomp_profile = "default";  // one of seccomp_profile_names() (seccomp_policy.h)
  std::optional<DeterministicTime> deterministic_time;
  bool allow_degraded = false;  // run even when part of the sandbox is unavailable
  std::string label;            // for people only: NOT part of the digest
  bool operator==(const Request&) const = default;
};

// Bounds of a request (beyond Limits).
inline constexpr size_t kMaxRequestBytes = 1 << 20;  // JSON text, checked before parsing
inline constexpr size_t kMaxRequestDepth = 8;        // JSON nesting; the schema needs 3
inline constexpr size_t kMaxPathBytes = 4095;        // PATH_MAX without the NUL
inline constexpr size_t kMaxArgEnvBytes = 1 << 20;   // argv + environment, as execve counts
inline constexpr size_t kMaxArgBytes = 128 << 10;    // one argument or "K=V" (MAX_ARG_STRLEN)
inline constexpr size_t kMaxListItems = 4096;  // args, env, inputs, outputs, resolved env: each
inline constexpr size_t kMaxPatterns = 256;    // env_allow, env_deny, binds, each
inline constexpr size_t kMaxLabelBytes = 256;
inline constexpr uint64_t kMaxSourceDateEpoch = 253'402'300'799;  // 9999-12-31T23:59:59Z

// Every rule a request must satisfy, whether it came from JSON or from options. The error
// names the field as its JSON path (e.g. "$.inputs[2].path") and what is wrong.
Status validate(const Request& request);

// Strict JSON: at most kMaxRequestBytes and kMaxRequestDepth (checked before parsing),
// no comments, no duplicate keys, no unknown fields, exact types, then validate(). Errors name
// the field's path. Absent fields take the defaults above.
Result<Request> parse_request(std::string_view json_text);
// The same from an already parsed value (e.g. the request inside a bundle): types, fields and
// validate(); size, depth and duplicates are the text parser's checks.
Result<Request> request_from_json(const nlohmann::json& value);
// Reads and parses a request file (refusing files over kMaxRequestBytes before reading them
// whole). Errors start with the path.
Result<Request> read_request_file(const std::filesystem::path& path);

// Every field, always (defaults included; inputs omit an absent digest). For a valid request,
// request_from_json(to_json(r)) == r and parse_request(to_json(r).dump()) == r.
nlohmann::json to_json(const Request& request);

// ---- the environment ----

enum class DropReason : uint8_t {
  kDenied,   // matched env_deny
  kSecret,   // the name looks like a secret, or the value holds URL credentials
  kInvalid,  // from the caller: a name or value that cannot be passed on (not portable,
             // not UTF-8, too long)
};
std::string_view to_string(DropReason reason);  // "denied" | "secret" | "invalid"

// A variable the request asked for (in `env`, or allowed from the caller) and did not get.
// Never holds a value.
struct DroppedEnv {
  std::string name;  // bytes outside printable ASCII (and backslash) written as \xNN
  DropReason reason = DropReason::kDenied;
  std::string rule;          // the env_deny entry, or which secret rule matched, or what is bad
  bool from_caller = false;  // allowed from the caller's environment; else from `env`
  bool operator==(const DroppedEnv&) const = default;
};

struct ResolvedEnvironment {
  std::vector<std::pair<std::string, std::string>> vars;  // sorted by name (bytes), unique
  std::vector<DroppedEnv> dropped;                        // sorted by name
};

// The report for the bundle's predicate, in `dropped` order: [{"name": ..., "reason": "denied" |
// "secret" | "invalid", "rule": ..., "from": "caller" | "env"}, ...]. Names only, never values.
nlohmann::json dropped_env_json(std::span<const DroppedEnv> dropped);

// The environment the run gets, from nothing: the caller's variables ("K=V" strings, the first
// of a repeated name wins) that match env_allow, then `env` over them, minus names matching
// env_deny, minus secret-looking names (even when allowed or explicit); then, with
// deterministic_time, TZ=UTC and SOURCE_DATE_EPOCH=<n> (these two always win). Fails only when
// the result is over kMaxListItems or kMaxArgEnvBytes (with the arguments). Requires
// validate(request).
Result<ResolvedEnvironment> resolve_environment(const Request& request,
                                                std::span<const std::string> caller_env);
// This process's environment (environ) as "K=V" strings, for resolve_environment.
std::vector<std::string> caller_environment();
// "K=V" strings for execve, in vars order.
std::vector<std::string> to_envp(const ResolvedEnvironment& env);

// The rule a variable name breaks by looking like a secret ("a word ending in TOKEN",
// "AWS_*"), or nullopt. Case-insensitive; the name is split into words at every character that is
// not a letter or digit. The list is in docs/REQUIEM.md Part B.
std::optional<std::string_view> secret_name_rule(std::string_view name);

// The request as the bundle records it, for replay: `env` is the resolved environment and
// env_allow/env_deny are empty, so resolving it again under any caller gives the same
// variables and the same digest.
Request recorded_request(const Request& request, const ResolvedEnvironment& env);

// ---- inputs ----

// Opens each input beneath the workspace (symlinks may not leave it; no special files), hashes
// it and compares it with every digest given, in request order. The error names the first
// input that is missing, unreadable or different, with the expected and found hex digests.
Status check_inputs(const Request& request);

// ---- the digest ----

struct RequestDigest {
  Hash32 blake3{};
  Hash32 sha256{};
};

// The canonical CBOR array hashed into the request digest: kRequestDigestTag and every field
// that affects execution, with `env` as resolved (request.env, env_allow and env_deny enter
// only through `env`, which must be resolve_environment(request, ...)). Inputs and outputs are
// sorted by path; binds keep their order. label is not included.
Bytes canonical_request(const Request& request, const ResolvedEnvironment& env);
RequestDigest request_digest(const Request& request, const ResolvedEnvironment& env);

}  // namespace ritma::exec
