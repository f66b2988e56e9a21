// `requiem`: Ritma's execution engine: `exec` (a sandboxed, kernel-traced run with a signed
// bundle), `verify`, `replay`, `audit verify` (the control plane's audit log), and `doctor`
// (what sandboxing this kernel allows, measured by trying). `serve` (the control plane) is not
// built yet and is not offered.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "requiem: run a command in a real sandbox and get back a signed, replayable result.\n"
      "Not yet built: serve (it will appear here when it works).",
      "requiem"};
  app.set_version_flag("-V,--version", std::string("requiem ") + RITMA_VERSION);
  app.require_subcommand(1);
  ritma::cli::register_requiem_commands(app);
  ritma::cli::register_requiem_audit_command(app);
  ritma::cli::register_doctor_command(app, "sandbox");
  CLI11_PARSE(app, argc, argv);
  return 0;
}
