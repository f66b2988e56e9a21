// Requiem's engine: a request in, a signed result bundle out (docs/REQUIEM.md).
//
//   execute(): check the inputs' digests, resolve the environment, run the command in the
//   sandbox (exec/sandbox.h) with the kernel trace of its cgroup (run_trace.h), store stdout,
//   stderr, the declared outputs and the trace in the CAS (exec/cas.h), and write the bundle:
//     <state>/bundles/<exec id>/result.dsse.json   in-toto Statement v1 in a DSSE envelope
//     <state>/bundles/<exec id>/<step>.<keyid8>.link  in-toto link (v0.9) for in-toto-verify
//     <state>/bundles/<exec id>/request.json      the recorded request (also in the predicate)
//     <state>/bundles/<exec id>/signer.pub        the signing key's public half (not trusted)
//   verify_bundle(): the signature (pinned keys, or the bundle's own key reported as NOT
//   pinned), the predicate against the CAS (stdout, stderr, outputs, trace: every digest and
//   size), the trace root recomputed from the stored atoms, the request digest recomputed
//   from the recorded request, and the link against the predicate; each failure names the
//   field.
//   replay(): re-executes the recorded request and compares, field by field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/ed25519.h"
#include "core/key_file.h"
#include "core/result.h"
#include "exec/request.h"
#include "exec/sandbox.h"

namespace ritma::requiem {

inline constexpr const char* kEnvelopeFile = "result.dsse.json";
inline constexpr const char* kRequestFile = "request.json";
inline constexpr const char* kSignerFile = "signer.pub";
inline constexpr const char* kLinkStep = "requiem-run";

enum class TraceMode { kOn, kOff };

struct ExecOptions {
  exec::Request request;
  std::vector<std::string> caller_env;  // "K=V"; resolved by the request's rules
  std::filesystem::path state_dir;      // holds cas/ and bundles/
  TraceMode trace = TraceMode::kOn;
};

struct ExecResult {
  std::string exec_id;
  std::filesystem::path bundle_dir;
  exec::SandboxOutcome outcome;
  exec::RequestDigest digest;
  nlohmann::json predicate;
  std::string envelope_text;
};

// Runs the request and writes its bundle. An error means no bundle: the request, the inputs,
// the sandbox set-up, the trace or the store failed (the message says which). A command that
// fails is a result, with its termination in the predicate.
Result<ExecResult> execute(const ExecOptions& options, const NamedSigningKey& key);

struct BundleCheck {
  bool pinned = false;  // a pinned key signed it (else: the bundle's own key, NOT pinned)
  std::string signer;   // fingerprint of the key that verified
  nlohmann::json statement;
  std::vector<std::string> problems;  // "<field>: what is wrong"
  bool ok() const { return problems.empty(); }
};

// `cas_root`: where the CAS lives (the state directory); `pinned`: trusted keys (empty: the
// bundle's signer.pub, and the result says NOT pinned). Fails only when the bundle cannot be
// read at all; everything wrong inside is a problem.
Result<BundleCheck> verify_bundle(const std::filesystem::path& bundle_dir,
                                  const std::filesystem::path& cas_root,
                                  const std::vector<PublicKey>& pinned);

struct ReplayReport {
  std::string original_id, replay_id;
  std::vector<std::string> differences;  // "<field>: <recorded> -> <replayed>"
  bool identical() const { return differences.empty(); }
};

// Verifies the bundle (it must verify), re-executes its recorded request (same environment,
// limits, sandbox; the inputs must still have their digests) into a new bundle, and compares
// the termination, exit status, stdout, stderr, every output and a summary of the traces (the
// commands executed, with their argv, in order).
Result<ReplayReport> replay(const std::filesystem::path& bundle_dir,
                            const std::filesystem::path& state_dir,
                            const std::vector<PublicKey>& pinned, const NamedSigningKey& key,
                            TraceMode trace);

}  // namespace ritma::requiem
