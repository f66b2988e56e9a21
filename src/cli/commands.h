// The subcommands of `ritma` and `requiem`. Each register_* adds one subcommand (with its
// options, help text and callback) to a CLI11 app. A callback prints its result to stdout,
// its diagnostics to stderr, and reports failure by throwing CLI::RuntimeError(exit_code).
#pragma once

#include <CLI/CLI.hpp>

namespace ritma::cli {

// `ritma keys init|show`: the node's Ed25519 signing key under the store's _meta/keys/.
void register_keys_command(CLI::App& app);

// `ritma doctor`: what this kernel allows, measured by trying. `scope` selects the probes:
// "all" for ritma (capture and sandbox), "sandbox" for requiem.
void register_doctor_command(CLI::App& app, const std::string& scope);

// `ritma events` and `ritma tree`: questions to the hot index.
void register_events_command(CLI::App& app);
void register_tree_command(CLI::App& app);

// `ritma status`: is the sensor running, its event rate, losses, index size.
void register_status_command(CLI::App& app);

// `ritma verify --store`: recompute and check every hash and signature of the sealed store.
void register_verify_command(CLI::App& app);

// `ritma prove --seq N` and `ritma verify-event PROOF`: the inclusion proof of one sealed event
// (ritma-evproof@1) and its offline check.
void register_prove_command(CLI::App& app);
void register_verify_event_command(CLI::App& app);

// `ritma export-proof --at T | --from T1 --to T2`: a ProofPack of a time range (FORMAT.md §12),
// checked offline by `ritma verify BUNDLE`.
void register_export_command(CLI::App& app);

// `ritma serve`: a read-only web viewer (embedded in the binary) of the sealed store or of a
// ProofPack bundle, with a JSON API; see docs/VIEWER.md.
void register_serve_command(CLI::App& app);

// `ritma retention run [--apply]`: expire sealed windows by age (a signed retention record
// lists them first, FORMAT.md §14) and rotate the hot index; a dry run by default.
void register_retention_command(CLI::App& app);

// `ritma case create|freeze|list|show|export`: legal-hold freezes of sealed windows with a
// signed access log (FORMAT.md §13).
void register_case_command(CLI::App& app);

// `requiem exec | verify | replay`: the sandboxed, traced, signed run and its bundle
// (docs/REQUIEM.md).
void register_requiem_commands(CLI::App& app);

// `requiem audit verify`: the control plane's audit log, record by record (FORMAT.md §15).
void register_requiem_audit_command(CLI::App& app);

// `requiem migrate --db URL`: the control plane's schema migrations (docs/API.md "Database").
void register_requiem_migrate_command(CLI::App& app);

}  // namespace ritma::cli
