// libFuzzer target for Requiem's request parser (`requiem exec --request FILE`, the request
// inside a bundle): hostile JSON must be refused with an error, never crash or hang. Whatever
// is accepted must be valid, survive to_json() and parse again to the same request, resolve
// (against a fixed caller environment full of secrets) without letting a secret through, and
// give the same digest when replayed as its recorded request.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "exec/request.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "request_parse_fuzz: %s\n", what);
  std::abort();
}

const std::vector<std::string>& caller_env() {
  static const std::vector<std::string> env = {
      "PATH=/usr/bin:/bin",    "HOME=/root",       "LANG=C.UTF-8",
      "GITHUB_TOKEN=fuzzleak", "AWS_PROFILE=leak", "DB_PASSWORD=fuzzleak",
      "SSH_AUTH_SOCK=/tmp/a",  "TZ=Europe/Paris",  "http_proxy=http://u:fuzzleak@p:1"};
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ritma::exec;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_request(text);
  if (!parsed.ok()) {
    if (parsed.error().message.empty()) fail("an error without a message");
    return 0;
  }
  const Request& r = *parsed;
  if (!validate(r).ok()) fail("accepted a request that does not validate");

  auto again = parse_request(to_json(r).dump());
  if (!again.ok() || !(*again == r)) fail("to_json() does not parse back to the same request");

  auto env = resolve_environment(r, caller_env());
  if (!env.ok()) return 0;  // over the size limits: refused, which is fine
  for (const auto& [name, value] : env->vars) {
    if (secret_name_rule(name)) fail("a secret-looking name reached the environment");
    if (value == "http://u:fuzzleak@p:1") fail("URL credentials reached the environment");
  }
  const Request recorded = recorded_request(r, *env);
  if (!validate(recorded).ok()) fail("the recorded request does not validate");
  auto replayed = resolve_environment(recorded, {});
  if (!replayed.ok() || replayed->vars != env->vars || !replayed->dropped.empty()) {
    fail("the recorded request does not resolve to the same environment");
  }
  const RequestDigest a = request_digest(r, *env);
  const RequestDigest b = request_digest(recorded, *replayed);
  if (a.blake3 != b.blake3 || a.sha256 != b.sha256) fail("replay digest differs");
  return 0;
}
