// `requiem exec | verify | replay` (docs/REQUIEM.md): run a command in the sandbox with its
// kernel trace and get a signed bundle; check a bundle offline against the CAS; re-run a
// bundle's recorded request and compare.
//
// Exit codes of `requiem exec`: the command's own exit status when it exited; 128 + N when
// signal N killed it; 124 when a limit ended it (timeout, memory, pids, output); 125 when
// requiem itself failed (bad request, inputs that do not match, a sandbox that could not be
// built as asked), and then no bundle is written.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/db.h"
#include "cli/commands.h"
#include "cli/time_text.h"
#include "core/durable_file.h"
#include "core/ed25519.h"
#include "core/key_file.h"
#include "exec/bundle.h"
#include "exec/request.h"
#include "requiem/engine.h"

namespace ritma::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kExitRunnerFailed = 125;
constexpr int kExitLimit = 124;

[[noreturn]] void fail(const std::string& cmd, const std::string& message, int code) {
  std::cerr << "requiem " << cmd << ": " << message << "\n";
  throw CLI::RuntimeError(code);
}

// $REQUIEM_HOME, else $RITMA_BASE_DIR/requiem, else /var/lib/ritma/requiem.
fs::path default_state_dir() {
  if (const char* h = std::getenv("REQUIEM_HOME"); h && *h) return h;
  if (const char* b = std::getenv("RITMA_BASE_DIR"); b && *b) return fs::path(b) / "requiem";
  return "/var/lib/ritma/requiem";
}

struct CommonOptions {
  std::string state_dir;
  std::string signing_key;  // replay: the key that signs the replay's bundle
  std::string key;          // exec/replay: private key file; verify: public key file or fingerprint
  bool json = false;
  bool no_trace = false;
  std::string tenant;  // --tenant: the state of one tenant, STATE/tenants/<tenant> (as serve)
  fs::path state() const {
    const fs::path base = state_dir.empty() ? default_state_dir() : fs::path(state_dir);
    return tenant.empty() ? base : base / "tenants" / tenant;
  }
};

struct ExecCliOptions : CommonOptions {
  std::string request_file;
  std::vector<std::string> command;
  std::string workspace, cwd;
  std::vector<std::string> env, env_allow, env_deny, outputs, inputs;
  std::string timeout, network, seccomp;
  std::optional<uint64_t> memory_mb, pids, cpu_seconds, open_files, output_bytes;
  std::optional<uint64_t> source_date_epoch;
  bool allow_degraded = false;
};

NamedSigningKey signing_key(const std::string& cmd, const std::string& flag) {
  auto k =
      exec::load_signing_key(flag.empty() ? std::nullopt : std::optional<fs::path>(fs::path(flag)));
  if (!k) fail(cmd, k.error().message, kExitRunnerFailed);
  return std::move(*k);
}

exec::Request request_from_options(const ExecCliOptions& o) {
  if (!o.request_file.empty()) {
    if (!o.command.empty()) fail("exec", "give --request FILE or -- CMD ARGS..., not both", 2);
    auto r = exec::read_request_file(o.request_file);
    if (!r) fail("exec", r.error().message, 2);
    return std::move(*r);
  }
  if (o.command.empty()) fail("exec", "nothing to run: --request FILE, or -- CMD ARGS...", 2);
  exec::Request r;
  r.command = o.command.front();
  r.args.assign(o.command.begin() + 1, o.command.end());
  std::error_code ec;
  r.workspace =
      fs::weakly_canonical(o.workspace.empty() ? fs::current_path(ec) : fs::path(o.workspace), ec)
          .string();
  if (!o.cwd.empty()) r.cwd = o.cwd;
  for (const std::string& kv : o.env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("exec", "--env wants NAME=VALUE, got \"" + kv + "\"", 2);
    r.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  r.env_allow = o.env_allow;
  r.env_deny = o.env_deny;
  r.outputs = o.outputs;
  for (const std::string& in : o.inputs) {
    // PATH=HEX (BLAKE3) or PATH=sha256:HEX
    const size_t eq = in.rfind('=');
    if (eq == std::string::npos) fail("exec", "--input wants PATH=BLAKE3HEX or PATH=sha256:HEX", 2);
    exec::InputSpec spec;
    spec.path = in.substr(0, eq);
    std::string hex = in.substr(eq + 1);
    const bool sha = hex.starts_with("sha256:");
    if (sha) hex = hex.substr(7);
    if (hex.starts_with("blake3:")) hex = hex.substr(7);
    auto h = hash32_from_hex(hex);
    if (!h) fail("exec", "--input " + in + ": " + h.error().message, 2);
    (sha ? spec.sha256 : spec.blake3) = *h;
    r.inputs.push_back(spec);
  }
  if (!o.timeout.empty()) {
    const auto d = parse_duration(o.timeout);
    if (!d || *d <= 0)
      fail("exec", "invalid --timeout \"" + o.timeout + "\" (e.g. 500ms? no: 30s, 2m)", 2);
    r.limits.wall_timeout_ms = static_cast<uint64_t>(*d / 1'000'000);
  }
  if (o.memory_mb) r.limits.memory_bytes = *o.memory_mb << 20;
  if (o.pids) r.limits.pids = *o.pids;
  if (o.cpu_seconds) r.limits.cpu_seconds = *o.cpu_seconds;
  if (o.open_files) r.limits.open_files = *o.open_files;
  if (o.output_bytes) r.limits.output_bytes = *o.output_bytes;
  if (!o.network.empty()) {
    auto n = exec::parse_network_mode(o.network);
    if (!n) fail("exec", n.error().message, 2);
    r.network = *n;
  }
  if (!o.seccomp.empty()) r.seccomp_profile = o.seccomp;
  if (o.source_date_epoch) r.deterministic_time = exec::DeterministicTime{*o.source_date_epoch};
  r.allow_degraded = o.allow_degraded;
  if (auto st = exec::validate(r); !st) fail("exec", st.error().message, 2);
  return r;
}

int exit_status_of(const exec::SandboxOutcome& out) {
  if (out.termination == "exit") return out.exit_code;
  if (out.termination == "signal") return 128 + out.signal;
  return kExitLimit;
}

void run_exec(const ExecCliOptions& o) {
  requiem::ExecOptions eo;
  eo.request = request_from_options(o);
  eo.caller_env = exec::caller_environment();
  eo.state_dir = o.state();
  eo.trace = o.no_trace ? requiem::TraceMode::kOff : requiem::TraceMode::kOn;
  const NamedSigningKey key = signing_key("exec", o.key);
  auto r = requiem::execute(eo, key);
  if (!r) fail("exec", r.error().message + " (no bundle was written)", kExitRunnerFailed);
  const auto& p = r->predicate;
  if (o.json) {
    std::cout << json{{"exec_id", r->exec_id},
                      {"bundle", r->bundle_dir.string()},
                      {"status", p["result"]},
                      {"request_digest", p["request_digest"]},
                      {"stdout", p["stdout"]},
                      {"stderr", p["stderr"]},
                      {"outputs", p["outputs"]},
                      {"trace", p["trace"]},
                      {"degraded", p["sandbox"]["degraded"]},
                      {"dropped_env", p["dropped_env"]}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << r->outcome.stdout_data;
    std::cerr << r->outcome.stderr_data;
    std::cerr << "requiem: " << r->exec_id << ": " << r->outcome.termination;
    if (r->outcome.termination == "exit") std::cerr << " " << r->outcome.exit_code;
    if (r->outcome.termination == "signal") std::cerr << " " << r->outcome.signal;
    std::cerr << " after " << r->outcome.wall_seconds << " s; bundle " << r->bundle_dir.string()
              << "\n";
    if (p["trace"].is_object())
      std::cerr << "requiem: trace: " << p["trace"]["events"] << " kernel events, "
                << p["trace"]["execs"] << " commands, root "
                << p["trace"]["root"].get<std::string>() << "\n";
    for (const auto& d : p["dropped_env"])
      std::cerr << "requiem: environment: dropped " << d["name"].get<std::string>() << " ("
                << d["reason"].get<std::string>() << ")\n";
    for (const auto& d : p["sandbox"]["degraded"])
      std::cerr << "requiem: DEGRADED: " << d.get<std::string>() << "\n";
  }
  const int code = exit_status_of(r->outcome);
  if (code != 0) throw CLI::RuntimeError(code);
}

// --key for verify/replay: a public key file, or a fingerprint that the bundle's own key must
// have. Empty: nothing pinned.
std::vector<PublicKey> pinned_keys(const std::string& cmd, const std::string& key,
                                   const fs::path& bundle) {
  if (key.empty()) return {};
  std::error_code ec;
  if (fs::is_regular_file(key, ec)) {
    auto text = read_file(key, 1 << 16);
    if (!text) fail(cmd, text.error().message, 2);
    auto k = parse_public_key(std::string(text->begin(), text->end()));
    if (!k) fail(cmd, key + ": " + k.error().message, 2);
    return {k->key};
  }
  auto text = read_file(bundle / requiem::kSignerFile, 1 << 16);
  if (!text) fail(cmd, text.error().message, 2);
  auto k = parse_public_key(std::string(text->begin(), text->end()));
  if (!k) fail(cmd, requiem::kSignerFile + std::string(": ") + k.error().message, 2);
  if (key_fingerprint(k->key) != key)
    fail(cmd, "the bundle is signed by " + key_fingerprint(k->key) + ", not the pinned key " + key,
         1);
  return {k->key};
}

void run_verify(const CommonOptions& o, const std::string& bundle) {
  const auto keys = pinned_keys("verify", o.key, bundle);
  auto c = requiem::verify_bundle(bundle, o.state(), keys);
  if (!c) fail("verify", c.error().message, 2);
  if (o.json) {
    std::cout << json{{"ok", c->ok()},
                      {"pinned", c->pinned},
                      {"signer", c->signer},
                      {"problems", c->problems}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "bundle:  " << bundle << "\n";
    std::cout << "result:  " << (c->ok() ? "VERIFIED" : "INVALID") << "\n";
    std::cout << "key:     " << c->signer
              << (c->pinned ? " (pinned)" : " NOT pinned: pass --key FINGERPRINT|PUBKEY_FILE")
              << "\n";
    for (const auto& p : c->problems) std::cout << "problem: " << p << "\n";
  }
  if (!c->ok()) throw CLI::RuntimeError(1);
  if (!c->pinned) throw CLI::RuntimeError(3);
}

void run_replay(const CommonOptions& o, const std::string& bundle) {
  const auto keys = pinned_keys("replay", o.key.empty() ? "" : o.key, bundle);
  const NamedSigningKey key = signing_key("replay", o.signing_key);
  auto r = requiem::replay(bundle, o.state(), keys, key,
                           o.no_trace ? requiem::TraceMode::kOff : requiem::TraceMode::kOn);
  if (!r) fail("replay", r.error().message, 2);
  if (o.json) {
    std::cout << json{{"original", r->original_id},
                      {"replay", r->replay_id},
                      {"identical", r->identical()},
                      {"differences", r->differences}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "replayed " << r->original_id << " as " << r->replay_id << ": "
              << (r->identical() ? "identical" : "DIFFERENT") << "\n";
    for (const auto& d : r->differences) std::cout << "  " << d << "\n";
  }
  if (!r->identical()) throw CLI::RuntimeError(1);
}

}  // namespace

void register_requiem_commands(CLI::App& app) {
  auto eo = std::make_shared<ExecCliOptions>();
  CLI::App* ex = app.add_subcommand(
      "exec",
      "Run a command in the sandbox (namespaces, pivot_root, seccomp, Landlock, rlimits, "
      "cgroups) with its kernel trace, and write a signed bundle. Exit: the command's status, "
      "128+N for signal N, 124 a limit ended it, 125 requiem failed (no bundle)");
  ex->add_option("--request", eo->request_file, "A request file (JSON; docs/REQUIEM.md)");
  ex->add_option("command", eo->command, "-- CMD ARGS...");
  ex->add_option("--workspace", eo->workspace, "Writable directory (default: here)");
  ex->add_option("--cwd", eo->cwd, "Working directory, relative to the workspace");
  ex->add_option("--env", eo->env, "NAME=VALUE for the command (repeatable)")
      ->allow_extra_args(false);
  ex->add_option("--env-allow", eo->env_allow, "Pass NAME (or PREFIX*) from this environment")
      ->allow_extra_args(false);
  ex->add_option("--env-deny", eo->env_deny, "Never pass NAME (or PREFIX*)")
      ->allow_extra_args(false);
  ex->add_option("--input", eo->inputs, "PATH=BLAKE3HEX or PATH=sha256:HEX, checked first")
      ->allow_extra_args(false);
  ex->add_option("--output", eo->outputs, "A file or directory the run produces (repeatable)")
      ->allow_extra_args(false);
  ex->add_option("--timeout", eo->timeout, "Wall time limit (30s, 5m)");
  ex->add_option("--memory-mb", eo->memory_mb, "Memory limit of the run's cgroup");
  ex->add_option("--pids", eo->pids, "Process limit of the run's cgroup");
  ex->add_option("--cpu-seconds", eo->cpu_seconds, "CPU time limit");
  ex->add_option("--open-files", eo->open_files, "Open files limit");
  ex->add_option("--output-bytes", eo->output_bytes, "stdout/stderr limit, each");
  ex->add_option("--network", eo->network, "none (default) | loopback | host");
  ex->add_option("--seccomp", eo->seccomp,
                 "Seccomp profile: default (allowlist) | strict | compat (denylist) | none");
  ex->add_option("--source-date-epoch", eo->source_date_epoch,
                 "Deterministic time: SOURCE_DATE_EPOCH and TZ=UTC for the run");
  ex->add_flag("--allow-degraded", eo->allow_degraded,
               "Run even if part of the sandbox is unavailable (listed in the result)");
  ex->add_option("--key", eo->key, "Signing key file (default: $REQUIEM_SIGNING_KEY)");
  ex->add_option("--state-dir", eo->state_dir,
                 "Where the CAS and bundles live (default $REQUIEM_HOME, else "
                 "$RITMA_BASE_DIR/requiem)");
  ex->add_option("--tenant", eo->tenant,
                 "Keep this run's CAS and bundles apart, under STATE/tenants/TENANT (as `requiem "
                 "serve` does)")
      ->check([](const std::string& t) {
        return api::valid_tenant(t) ? std::string() : "not a tenant name ([A-Za-z0-9._-]{1,64})";
      });
  ex->add_flag("--no-trace", eo->no_trace, "Do not record the kernel trace (the bundle says so)");
  ex->add_flag("--json", eo->json, "Print the result as JSON (not the command's output)");
  ex->callback([eo] { run_exec(*eo); });

  auto vo = std::make_shared<CommonOptions>();
  auto vbundle = std::make_shared<std::string>();
  CLI::App* ver = app.add_subcommand(
      "verify",
      "Check a bundle offline: signature, every digest against the CAS, the trace root "
      "recomputed, the request digest, the in-toto link. Exit 0 verified and pinned, 1 "
      "invalid (naming the field), 2 unreadable, 3 consistent but NOT pinned");
  ver->add_option("bundle", *vbundle, "The bundle directory")->required();
  ver->add_option("--key", vo->key, "The signer: a public key file or its fingerprint");
  ver->add_option("--state-dir", vo->state_dir, "Where the CAS lives");
  ver->add_option("--tenant", vo->tenant,
                 "Keep this run's CAS and bundles apart, under STATE/tenants/TENANT (as `requiem "
                 "serve` does)")
      ->check([](const std::string& t) {
        return api::valid_tenant(t) ? std::string() : "not a tenant name ([A-Za-z0-9._-]{1,64})";
      });
  ver->add_flag("--json", vo->json, "Print the result as JSON");
  ver->callback([vo, vbundle] { run_verify(*vo, *vbundle); });

  auto ro = std::make_shared<CommonOptions>();
  auto rbundle = std::make_shared<std::string>();
  CLI::App* rep = app.add_subcommand(
      "replay",
      "Re-run a bundle's recorded request and compare, field by field. Exit 0 identical, 1 "
      "different (the fields are listed), 2 error");
  rep->add_option("bundle", *rbundle, "The bundle directory")->required();
  rep->add_option("--key", ro->key, "The original's signer (public key file or fingerprint)");
  rep->add_option("--state-dir", ro->state_dir, "Where the CAS and bundles live");
  rep->add_option("--signing-key", ro->signing_key,
                  "Signs the replay's own bundle (default: $REQUIEM_SIGNING_KEY)");
  rep->add_option("--tenant", ro->tenant,
                 "Keep this run's CAS and bundles apart, under STATE/tenants/TENANT (as `requiem "
                 "serve` does)")
      ->check([](const std::string& t) {
        return api::valid_tenant(t) ? std::string() : "not a tenant name ([A-Za-z0-9._-]{1,64})";
      });
  rep->add_flag("--no-trace", ro->no_trace, "Do not trace the replay");
  rep->add_flag("--json", ro->json, "Print the comparison as JSON");
  rep->callback([ro, rbundle] { run_replay(*ro, *rbundle); });
}

}  // namespace ritma::cli
