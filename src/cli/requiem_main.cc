// `requiem`: Ritma's execution engine. Today it has `doctor` (what sandboxing this kernel
// allows, measured by trying); `exec`, `replay` and `serve` are not built yet and are not
// offered.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "requiem: run a command in a real sandbox and get back a signed, replayable result.\n"
      "Available now: `doctor`. Not yet built: exec, replay, serve (they will appear here\n"
      "when they work).",
      "requiem"};
  app.set_version_flag("-V,--version", std::string("requiem ") + RITMA_VERSION);
  app.require_subcommand(1);
  ritma::cli::register_doctor_command(app, "sandbox");
  CLI11_PARSE(app, argc, argv);
  return 0;
}
