// libFuzzer target for what `requiem serve` parses from clients and operators
// (src/api/serve_config.h): hostile bytes must be refused with an error, never crash or hang,
// and what is accepted must satisfy the rules the control plane relies on. The first input
// byte picks what the rest is:
//
//   'C'  a configuration file (parse_serve_config);
//   'V'  two semver versions separated by '\n': valid_semver / compare_semver must agree
//        (antisymmetric, equal only for the same precedence);
//   else the body of POST /v1/executions (parse_execution_body, depth 8).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/serve_config.h"

namespace {

using namespace ritma::api;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "api_request_fuzz: %s\n", what);
  std::abort();
}

void body(std::string_view text) {
  auto b = parse_execution_body(text, 8);
  if (!b.ok()) {
    if (b.error().message.empty()) fail("an error without a message");
    return;
  }
  if (b->tool.empty()) fail("accepted a body without a tool");
  if (!b->version.empty() && !valid_semver(b->version)) fail("accepted a bad version");
  // What was accepted re-serializes to a body that parses to the same thing.
  nlohmann::json j{{"tool", b->tool}, {"args", b->args}};
  if (!b->version.empty()) j["version"] = b->version;
  auto again = parse_execution_body(j.dump(), 8);
  if (!again.ok() || again->tool != b->tool || again->version != b->version ||
      again->args != b->args) {
    fail("an accepted body does not round-trip");
  }
}

void config(std::string_view text) {
  auto c = parse_serve_config(text);
  if (!c.ok()) {
    if (c.error().message.empty()) fail("an error without a message");
    return;
  }
  for (const ToolSpec& t : c->tools) {
    if (t.name.empty() || !valid_semver(t.version) || t.command.empty() ||
        t.command[0].empty() || t.command[0][0] != '/') {
      fail("accepted an invalid tool");
    }
    if (c->find_tool(t.tenant.empty() ? "x" : t.tenant, t.name, t.version) == nullptr)
      fail("a registered tool is not found by its tenant");
  }
}

void versions(std::string_view text) {
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos) {
    (void)valid_semver(text);
    return;
  }
  const std::string_view a = text.substr(0, nl), b = text.substr(nl + 1);
  if (!valid_semver(a) || !valid_semver(b)) return;
  const int ab = compare_semver(a, b), ba = compare_semver(b, a);
  if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) fail("compare_semver is not antisymmetric");
  if (compare_semver(a, a) != 0) fail("compare_semver(a, a) != 0");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 'C':
      config(rest);
      break;
    case 'V':
      versions(rest);
      break;
    default:
      body(rest);
  }
  return 0;
}
