#include "cli/commands.h"
namespace ritma::cli {
void register_verify_command(CLI::App&) {}
}  // namespace ritma::cli
