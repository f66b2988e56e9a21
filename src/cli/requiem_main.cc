// `requiem`: Ritma's execution engine: `exec` (a sandboxed, kernel-traced run with a signed
// bundle), `verify`, `replay`, `audit verify` (the control plane's audit log), `migrate` (its
// database schema), `serve` (the control plane's API: runs the `requiem-serve` program installed
// beside this one) and `doctor` (what sandboxing this kernel allows, measured by trying).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

// `requiem serve ARGS...` is `requiem-serve ARGS...`, from the directory of this program.
[[noreturn]] void exec_serve(const std::vector<std::string>& args) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path prog = (ec ? std::filesystem::path(".") : self.parent_path()) /
                                     "requiem-serve";
  std::vector<std::string> argv_s{prog.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(prog.c_str(), argv.data());
  std::cerr << "requiem serve: cannot run " << prog.string() << ": " << std::strerror(errno)
            << "\n";
  std::exit(127);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"requiem: run a command in a real sandbox and get back a signed, replayable result.",
               "requiem"};
  app.set_version_flag("-V,--version", std::string("requiem ") + RITMA_VERSION);
  app.require_subcommand(1);
  ritma::cli::register_requiem_commands(app);
  ritma::cli::register_requiem_audit_command(app);
  ritma::cli::register_requiem_migrate_command(app);
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Serve the control plane's JSON API (docs/API.md); `requiem serve --help` lists its "
      "options");
  serve->prefix_command();
  serve->set_help_flag();
  serve->callback([serve] { exec_serve(serve->remaining()); });
  ritma::cli::register_doctor_command(app, "sandbox");
  CLI11_PARSE(app, argc, argv);
  return 0;
}
