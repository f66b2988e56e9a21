// `ritma`: everything a person types against a Ritma store. Unprivileged except `doctor`,
// which needs root (or CAP_BPF) to try the eBPF probes.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ritma: tamper-evident runtime recorder for Linux.\n"
      "Records what runs on this host from the kernel, seals it into signed Merkle windows,\n"
      "and exports proofs anyone can verify offline.",
      "ritma"};
  app.set_version_flag("-V,--version", std::string("ritma ") + RITMA_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Environment: RITMA_BASE_DIR (default /var/lib/ritma), RITMA_OUT_DIR (default\n"
      "$RITMA_BASE_DIR/RITMA_OUT). Run `ritma COMMAND --help` for a command's options.");
  ritma::cli::register_keys_command(app);
  ritma::cli::register_doctor_command(app, "all");
  ritma::cli::register_events_command(app);
  ritma::cli::register_tree_command(app);
  ritma::cli::register_status_command(app);
  ritma::cli::register_verify_command(app);
  ritma::cli::register_prove_command(app);
  ritma::cli::register_verify_event_command(app);
  ritma::cli::register_export_command(app);
  ritma::cli::register_case_command(app);
  ritma::cli::register_serve_command(app);
  ritma::cli::register_retention_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
