// Requiem's request: validation, strict JSON, the resolved environment, the input check and
// the canonical digest.
#include "exec/request.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/sha256.h"
#include "core/strict_json.h"
#include "core/unique_fd.h"
#include "core/utf8.h"
#include "exec/seccomp_policy.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in <unistd.h>

namespace ritma::exec {
namespace {

using nlohmann::json;

// ---- text and paths ----

// For messages and reports: printable ASCII kept, everything else (and '\\') as \xNN, at most
// max_bytes shown.
std::string printable(std::string_view s, size_t max_bytes = 120) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x21 && c <= 0x7e && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += ' ';
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string in_quotes(std::string_view s) {
  return "\"" + printable(s) + "\"";
}

Error field_error(const std::string& path, const std::string& what) {
  return make_error(path + ": " + what);
}

// Text every field holds: valid UTF-8 (JSON and CBOR text need it), no NUL (execve and the
// kernel's paths end there), at most max_bytes.
Status check_text(std::string_view s, const std::string& path, size_t max_bytes) {
  if (s.size() > max_bytes) {
    return field_error(path, std::to_string(s.size()) + " bytes is more than the limit of " +
                                 std::to_string(max_bytes));
  }
  if (s.find('\0') != std::string_view::npos) return field_error(path, "contains a NUL byte");
  if (auto bad = find_invalid_utf8(as_bytes(s))) {
    return field_error(path, std::string("not valid UTF-8 at byte ") + std::to_string(bad->index) +
                                 " (" + bad->reason + ")");
  }
  return {};
}

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t slash = p.find('/', start);
    parts.push_back(p.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

// Normalized components: none empty (no "//", no trailing "/"), none "." or "..".
Status check_components(std::string_view p, const std::string& path) {
  for (std::string_view part : split_path(p)) {
    if (part.empty()) return field_error(path, in_quotes(p) + " has an empty component (// or /$)");
    if (part == ".") return field_error(path, in_quotes(p) + " has a \".\" component");
    if (part == "..") return field_error(path, in_quotes(p) + " has a \"..\" component");
  }
  return {};
}

// A workspace-relative path: "a/b" (and "." when allow_dot): never absolute, never "..".
Status check_relative_path(std::string_view p, const std::string& path, bool allow_dot) {
  RITMA_TRY(check_text(p, path, kMaxPathBytes));
  if (p.empty()) return field_error(path, "must not be empty");
  if (p.front() == '/') {
    return field_error(path, in_quotes(p) + " must be relative to the workspace, not absolute");
  }
  if (p == ".") {
    if (allow_dot) return {};
    return field_error(path, "must name a file or directory inside the workspace, not \".\"");
  }
  return check_components(p, path);
}

// An absolute normalized path; "/" only when allow_root.
Status check_absolute_path(std::string_view p, const std::string& path, bool allow_root) {
  RITMA_TRY(check_text(p, path, kMaxPathBytes));
  if (p.empty() || p.front() != '/') return field_error(path, in_quotes(p) + " must be absolute");
  if (p == "/") {
    if (allow_root) return {};
    return field_error(path, "must not be \"/\"");
  }
  return check_components(p.substr(1), path);
}

bool is_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// [A-Za-z_][A-Za-z0-9_]*: the portable variable names (POSIX), what `env` may hold.
bool is_portable_name(std::string_view name) {
  if (name.empty() || is_digit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_'; });
}

// A name, or a non-empty name prefix followed by '*'.
Status check_pattern(std::string_view p, const std::string& path) {
  const std::string_view stem = !p.empty() && p.back() == '*' ? p.substr(0, p.size() - 1) : p;
  if (stem.empty()) {
    return field_error(path,
                       in_quotes(p) + " would take every variable; name them (NAME or PREFIX*)");
  }
  if (!is_portable_name(stem)) {
    return field_error(path, in_quotes(p) + " is not a variable name ([A-Za-z_][A-Za-z0-9_]*) " +
                                 "or a prefix of one followed by *");
  }
  return {};
}

bool pattern_matches(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') {
    return name.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return name == pattern;
}

const std::string* first_match(const std::vector<std::string>& patterns, std::string_view name) {
  for (const auto& p : patterns) {
    if (pattern_matches(p, name)) return &p;
  }
  return nullptr;
}

// Whether "NAME=VALUE" and its NUL fit in one execve string (MAX_ARG_STRLEN).
bool fits_one_arg(std::string_view name, std::string_view value) {
  return name.size() + value.size() + 2 <= kMaxArgBytes;
}

std::string index_path(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

// "$.env.NAME" for portable names, else $.env["..."].
std::string env_path(std::string_view name) {
  return is_portable_name(name) ? "$.env." + std::string(name) : "$.env[" + in_quotes(name) + "]";
}

// The request's names of the sandbox's enums ("" for a value outside the enum).
std::string_view network_name(NetworkMode mode) {
  const std::string_view name = network_mode_name(mode);
  return name == "?" ? std::string_view() : name;
}

std::string_view view_name(ViewMode view) {
  switch (view) {
    case ViewMode::kHostReadOnly:
      return "rootfs-ro+workspace";
    case ViewMode::kBindsOnly:
      return "binds";
  }
  return "";
}

// ---- secrets ----

// Whether a value holds a URL with user information ("scheme://user:pass@host"), the usual
// way credentials ride along in proxy and database variables.
bool has_url_credentials(std::string_view value) {
  size_t at = 0;
  while ((at = value.find("://", at)) != std::string_view::npos) {
    at += 3;
    const size_t end = value.find_first_of("/?# \t\n", at);
    const std::string_view authority =
        value.substr(at, end == std::string_view::npos ? end : end - at);
    if (authority.find('@') != std::string_view::npos) return true;
  }
  return false;
}

std::string uppercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// The ASCII-uppercased words of a name, split at every character that is not a letter or digit.
std::vector<std::string> name_words(std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  for (char c : uppercase(name)) {
    if (is_letter(c) || is_digit(c)) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

struct WordRule {
  std::string_view text;
  std::string_view rule;
};

// Names that are secrets (or give access to one) by convention.
constexpr std::array<WordRule, 4> kSecretNames = {{
    {"SSH_AUTH_SOCK", "SSH_AUTH_SOCK (the SSH agent)"},
    {"GPG_AGENT_INFO", "GPG_AGENT_INFO (the GPG agent)"},
    {"KRB5CCNAME", "KRB5CCNAME (Kerberos tickets)"},
    {"DATABASE_URL", "DATABASE_URL (usually holds a password)"},
}};
constexpr std::array<WordRule, 1> kSecretPrefixes = {{{"AWS_", "AWS_*"}}};
// A word containing one of these anywhere.
constexpr std::array<WordRule, 7> kSecretInWord = {{
    {"SECRET", "contains SECRET"},
    {"PASSWORD", "contains PASSWORD"},
    {"PASSWD", "contains PASSWD"},
    {"PASSPHRASE", "contains PASSPHRASE"},
    {"CREDENTIAL", "contains CREDENTIAL"},
    {"COOKIE", "contains COOKIE"},
    {"KEYRING", "contains KEYRING"},
}};
// A word ending in one of these (GITHUB_TOKEN, APIKEY, SSH_KEYS; not KEYBOARD, TOKENIZERS).
constexpr std::array<WordRule, 4> kSecretWordEnd = {{
    {"TOKEN", "a word ending in TOKEN"},
    {"TOKENS", "a word ending in TOKENS"},
    {"KEY", "a word ending in KEY"},
    {"KEYS", "a word ending in KEYS"},
}};
// A whole word (AUTH: SSH_AUTH_SOCK, NPM_CONFIG__AUTH; not AUTHOR).
constexpr std::array<WordRule, 4> kSecretWord = {{
    {"AUTH", "the word AUTH"},
    {"AUTHORIZATION", "the word AUTHORIZATION"},
    {"JWT", "the word JWT"},
    {"BEARER", "the word BEARER"},
}};
// A whole word that is not the whole name (MYSQL_PWD, GH_PAT; not PWD itself).
constexpr std::array<WordRule, 3> kSecretLaterWord = {{
    {"PWD", "the word PWD in a longer name"},
    {"PAT", "the word PAT in a longer name"},
    {"PASS", "the word PASS in a longer name"},
}};

}  // namespace

std::optional<std::string_view> secret_name_rule(std::string_view name) {
  const std::string upper = uppercase(name);
  for (const auto& r : kSecretNames) {
    if (upper == r.text) return r.rule;
  }
  for (const auto& r : kSecretPrefixes) {
    if (upper.starts_with(r.text)) return r.rule;
  }
  const std::vector<std::string> words = name_words(name);
  for (const std::string& w : words) {
    for (const auto& r : kSecretInWord) {
      if (w.find(r.text) != std::string::npos) return r.rule;
    }
    for (const auto& r : kSecretWordEnd) {
      if (w.ends_with(r.text)) return r.rule;
    }
    for (const auto& r : kSecretWord) {
      if (w == r.text) return r.rule;
    }
    if (words.size() > 1) {
      for (const auto& r : kSecretLaterWord) {
        if (w == r.text) return r.rule;
      }
    }
  }
  return std::nullopt;
}

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::kDenied:
      return "denied";
    case DropReason::kSecret:
      return "secret";
    case DropReason::kInvalid:
      return "invalid";
  }
  return "";
}

// ---- validation ----

Status validate(const Request& r) {
  if (r.command.empty()) return field_error("$.command", "must not be empty");
  RITMA_TRY(check_text(r.command, "$.command", kMaxPathBytes));

  if (r.args.size() >= kMaxListItems) {
    return field_error("$.args", "more than " + std::to_string(kMaxListItems - 1) + " arguments");
  }
  size_t arg_env_bytes = r.command.size() + 1;
  for (size_t i = 0; i < r.args.size(); ++i) {
    RITMA_TRY(check_text(r.args[i], index_path("$.args", i), kMaxArgBytes - 1));
    arg_env_bytes += r.args[i].size() + 1;
  }

  if (r.env.size() > kMaxListItems) {
    return field_error("$.env", "more than " + std::to_string(kMaxListItems) + " variables");
  }
  for (const auto& [name, value] : r.env) {
    const std::string path = env_path(name);
    if (!is_portable_name(name)) {
      return field_error(path,
                         in_quotes(name) + " is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    RITMA_TRY(check_text(value, path, kMaxArgBytes));
    if (!fits_one_arg(name, value)) {
      return field_error(
          path, "NAME=VALUE is longer than " + std::to_string(kMaxArgBytes - 1) + " bytes");
    }
    arg_env_bytes += name.size() + value.size() + 2;
  }
  if (arg_env_bytes > kMaxArgEnvBytes) {
    return field_error("$.args", "command, args and env take " + std::to_string(arg_env_bytes) +
                                     " bytes, more than the limit of " +
                                     std::to_string(kMaxArgEnvBytes));
  }
  for (const auto* list : {&r.env_allow, &r.env_deny}) {
    const std::string base = list == &r.env_allow ? "$.env_allow" : "$.env_deny";
    if (list->size() > kMaxPatterns) {
      return field_error(base, "more than " + std::to_string(kMaxPatterns) + " entries");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      RITMA_TRY(check_text((*list)[i], index_path(base, i), kMaxPathBytes));
      RITMA_TRY(check_pattern((*list)[i], index_path(base, i)));
    }
  }

  if (r.workspace.empty()) return field_error("$.workspace", "required (an absolute directory)");
  RITMA_TRY(check_absolute_path(r.workspace, "$.workspace", false));
  RITMA_TRY(check_relative_path(r.cwd, "$.cwd", true));

  if (r.inputs.size() > kMaxListItems) {
    return field_error("$.inputs", "more than " + std::to_string(kMaxListItems) + " inputs");
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    const std::string path = index_path("$.inputs", i);
    RITMA_TRY(check_relative_path(r.inputs[i].path, path + ".path", false));
    if (!r.inputs[i].blake3 && !r.inputs[i].sha256) {
      return field_error(path, "needs an expected digest (blake3 and/or sha256)");
    }
    if (!seen.insert(r.inputs[i].path).second) {
      return field_error(path + ".path", in_quotes(r.inputs[i].path) + " is listed twice");
    }
  }
  if (r.outputs.size() > kMaxListItems) {
    return field_error("$.outputs", "more than " + std::to_string(kMaxListItems) + " outputs");
  }
  seen.clear();
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    const std::string path = index_path("$.outputs", i);
    RITMA_TRY(check_relative_path(r.outputs[i], path, false));
    if (!seen.insert(r.outputs[i]).second) {
      return field_error(path, in_quotes(r.outputs[i]) + " is listed twice");
    }
  }

  struct LimitField {
    const char* name;
    uint64_t Limits::*member;
  };
  static constexpr LimitField kLimitFields[] = {
      {"wall_timeout_ms", &Limits::wall_timeout_ms}, {"cpu_seconds", &Limits::cpu_seconds},
      {"memory_bytes", &Limits::memory_bytes},       {"pids", &Limits::pids},
      {"open_files", &Limits::open_files},           {"output_bytes", &Limits::output_bytes}};
  for (const auto& f : kLimitFields) {
    const uint64_t v = r.limits.*f.member;
    const uint64_t lo = kMinLimits.*f.member;
    const uint64_t hi = kMaxLimits.*f.member;
    if (v < lo || v > hi) {
      return field_error(
          std::string("$.limits.") + f.name,
          std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }
  }

  if (network_name(r.network).empty()) return field_error("$.network", "not a known mode");
  if (view_name(r.view).empty()) return field_error("$.filesystem.view", "not a known view");
  if (r.view == ViewMode::kBindsOnly && r.binds.empty()) {
    return field_error("$.filesystem.binds", "the \"binds\" view needs at least one bind");
  }
  if (r.view != ViewMode::kBindsOnly && !r.binds.empty()) {
    return field_error("$.filesystem.binds", "binds are only for the \"binds\" view (the " +
                                                 std::string(view_name(r.view)) +
                                                 " view takes none)");
  }
  if (r.binds.size() > kMaxPatterns) {
    return field_error("$.filesystem.binds",
                       "more than " + std::to_string(kMaxPatterns) + " binds");
  }
  seen.clear();
  for (size_t i = 0; i < r.binds.size(); ++i) {
    const std::string path = index_path("$.filesystem.binds", i);
    RITMA_TRY(check_absolute_path(r.binds[i].src, path + ".src", true));
    RITMA_TRY(check_absolute_path(r.binds[i].dst, path + ".dst", true));
    if (!seen.insert(r.binds[i].dst).second) {
      return field_error(path + ".dst", in_quotes(r.binds[i].dst) + " is the target of two binds");
    }
  }

  const std::vector<std::string> profiles = seccomp_profile_names();
  if (std::find(profiles.begin(), profiles.end(), r.seccomp_profile) == profiles.end()) {
    std::string known;
    for (const std::string& p : profiles) known += (known.empty() ? "" : ", ") + p;
    return field_error("$.seccomp_profile",
                       in_quotes(r.seccomp_profile) + " is not a profile (known: " + known + ")");
  }

  if (r.deterministic_time) {
    const uint64_t epoch = r.deterministic_time->source_date_epoch;
    if (epoch > kMaxSourceDateEpoch) {
      return field_error("$.deterministic_time.source_date_epoch",
                         std::to_string(epoch) + " is after 9999-12-31 (" +
                             std::to_string(kMaxSourceDateEpoch) + ")");
    }
    // Deterministic time sets these two; an explicit different value would be overridden.
    const std::pair<const char*, std::string> fixed[] = {
        {"TZ", "UTC"}, {"SOURCE_DATE_EPOCH", std::to_string(epoch)}};
    for (const auto& [name, value] : fixed) {
      auto it = r.env.find(name);
      if (it != r.env.end() && it->second != value) {
        return field_error(env_path(name), "conflicts with deterministic_time, which sets " +
                                               std::string(name) + "=" + value);
      }
    }
  }
  RITMA_TRY(check_text(r.label, "$.label", kMaxLabelBytes));
  return {};
}

// ---- JSON ----

namespace {

std::string describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_integer:
      return "a negative integer";
    case json::value_t::number_float:
      return "a number with a fraction or an exponent";
    default:
      return "binary data";
  }
}

Error type_error(const std::string& path, const char* want, const json& v) {
  return field_error(path, std::string("expected ") + want + ", got " + describe(v));
}

Status check_fields(const json& obj, const std::string& path,
                    std::initializer_list<std::string_view> known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return make_error("unknown field " + in_quotes(it.key()) + " at " + path + "." +
                      printable(it.key()) + " (known fields there: " + list + ")");
  }
  return {};
}

Status want_object(const json& v, const std::string& path) {
  if (!v.is_object()) return type_error(path, "an object", v);
  return {};
}

Status get_string(const json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) return type_error(path, "a string", v);
  out = v.get<std::string>();
  return {};
}

Status get_uint(const json& v, const std::string& path, uint64_t& out) {
  if (!v.is_number_unsigned()) return type_error(path, "a non-negative integer", v);
  out = v.get<uint64_t>();
  return {};
}

Status get_bool(const json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) return type_error(path, "true or false", v);
  out = v.get<bool>();
  return {};
}

Status get_string_list(const json& v, const std::string& path, size_t max_items,
                       std::vector<std::string>& out) {
  if (!v.is_array()) return type_error(path, "an array of strings", v);
  if (v.size() > max_items) {
    return field_error(path, "more than " + std::to_string(max_items) + " entries");
  }
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    RITMA_TRY(get_string(v[i], index_path(path, i), out.emplace_back()));
  }
  return {};
}

Status get_digest(const json& v, const std::string& path, std::optional<Hash32>& out) {
  std::string hex;
  RITMA_TRY(get_string(v, path, hex));
  auto h = hash32_from_hex(hex);
  if (hex.size() != 64 || !h.ok()) return field_error(path, "expected 64 hex digits");
  out = *h;
  return {};
}

// nullptr when the object has no such key.
const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Status parse_limits(const json& v, Limits& limits) {
  RITMA_TRY(want_object(v, "$.limits"));
  RITMA_TRY(check_fields(
      v, "$.limits",
      {"wall_timeout_ms", "cpu_seconds", "memory_bytes", "pids", "open_files", "output_bytes"}));
  const std::pair<const char*, uint64_t*> fields[] = {
      {"wall_timeout_ms", &limits.wall_timeout_ms}, {"cpu_seconds", &limits.cpu_seconds},
      {"memory_bytes", &limits.memory_bytes},       {"pids", &limits.pids},
      {"open_files", &limits.open_files},           {"output_bytes", &limits.output_bytes}};
  for (const auto& [name, out] : fields) {
    if (const json* f = member(v, name)) {
      RITMA_TRY(get_uint(*f, std::string("$.limits.") + name, *out));
    }
  }
  return {};
}

Status parse_filesystem(const json& v, Request& r) {
  RITMA_TRY(want_object(v, "$.filesystem"));
  RITMA_TRY(check_fields(v, "$.filesystem", {"view", "binds"}));
  if (const json* f = member(v, "view")) {
    std::string view;
    RITMA_TRY(get_string(*f, "$.filesystem.view", view));
    if (view == view_name(ViewMode::kHostReadOnly)) {
      r.view = ViewMode::kHostReadOnly;
    } else if (view == view_name(ViewMode::kBindsOnly)) {
      r.view = ViewMode::kBindsOnly;
    } else {
      return field_error("$.filesystem.view",
                         in_quotes(view) + " is not a view (rootfs-ro+workspace or binds)");
    }
  }
  if (const json* f = member(v, "binds")) {
    if (!f->is_array()) return type_error("$.filesystem.binds", "an array of objects", *f);
    if (f->size() > kMaxPatterns) {
      return field_error("$.filesystem.binds",
                         "more than " + std::to_string(kMaxPatterns) + " binds");
    }
    for (size_t i = 0; i < f->size(); ++i) {
      const std::string path = index_path("$.filesystem.binds", i);
      const json& b = (*f)[i];
      RITMA_TRY(want_object(b, path));
      RITMA_TRY(check_fields(b, path, {"src", "dst", "rw"}));
      Bind& bind = r.binds.emplace_back();
      for (const char* required : {"src", "dst"}) {
        if (!member(b, required)) return field_error(path + "." + required, "required");
      }
      RITMA_TRY(get_string(b["src"], path + ".src", bind.src));
      RITMA_TRY(get_string(b["dst"], path + ".dst", bind.dst));
      if (const json* rw = member(b, "rw")) RITMA_TRY(get_bool(*rw, path + ".rw", bind.rw));
    }
  }
  return {};
}

Status parse_inputs(const json& v, Request& r) {
  if (!v.is_array()) return type_error("$.inputs", "an array of objects", v);
  if (v.size() > kMaxListItems) {
    return field_error("$.inputs", "more than " + std::to_string(kMaxListItems) + " inputs");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = index_path("$.inputs", i);
    const json& in = v[i];
    RITMA_TRY(want_object(in, path));
    RITMA_TRY(check_fields(in, path, {"path", "blake3", "sha256"}));
    InputSpec& spec = r.inputs.emplace_back();
    const json* p = member(in, "path");
    if (!p) return field_error(path + ".path", "required");
    RITMA_TRY(get_string(*p, path + ".path", spec.path));
    if (const json* d = member(in, "blake3"))
      RITMA_TRY(get_digest(*d, path + ".blake3", spec.blake3));
    if (const json* d = member(in, "sha256"))
      RITMA_TRY(get_digest(*d, path + ".sha256", spec.sha256));
  }
  return {};
}

}  // namespace

Result<Request> request_from_json(const json& v) {
  RITMA_TRY(want_object(v, "$"));
  RITMA_TRY(check_fields(v, "$",
                         {"command", "args", "env", "env_allow", "env_deny", "workspace", "cwd",
                          "inputs", "outputs", "limits", "network", "filesystem", "seccomp_profile",
                          "deterministic_time", "allow_degraded", "label"}));
  Request r;
  for (const char* required : {"command", "workspace"}) {
    if (!member(v, required)) return field_error(std::string("$.") + required, "required");
  }
  RITMA_TRY(get_string(v["command"], "$.command", r.command));
  if (const json* f = member(v, "args")) {
    RITMA_TRY(get_string_list(*f, "$.args", kMaxListItems, r.args));
  }
  if (const json* f = member(v, "env")) {
    if (!f->is_object()) return type_error("$.env", "an object of strings", *f);
    if (f->size() > kMaxListItems) {
      return field_error("$.env", "more than " + std::to_string(kMaxListItems) + " variables");
    }
    for (auto it = f->begin(); it != f->end(); ++it) {
      RITMA_TRY(get_string(it.value(), env_path(it.key()), r.env[it.key()]));
    }
  }
  if (const json* f = member(v, "env_allow")) {
    RITMA_TRY(get_string_list(*f, "$.env_allow", kMaxPatterns, r.env_allow));
  }
  if (const json* f = member(v, "env_deny")) {
    RITMA_TRY(get_string_list(*f, "$.env_deny", kMaxPatterns, r.env_deny));
  }
  RITMA_TRY(get_string(v["workspace"], "$.workspace", r.workspace));
  if (const json* f = member(v, "cwd")) RITMA_TRY(get_string(*f, "$.cwd", r.cwd));
  if (const json* f = member(v, "inputs")) RITMA_TRY(parse_inputs(*f, r));
  if (const json* f = member(v, "outputs")) {
    RITMA_TRY(get_string_list(*f, "$.outputs", kMaxListItems, r.outputs));
  }
  if (const json* f = member(v, "limits")) RITMA_TRY(parse_limits(*f, r.limits));
  if (const json* f = member(v, "network")) {
    std::string mode;
    RITMA_TRY(get_string(*f, "$.network", mode));
    if (mode == network_name(NetworkMode::kNone)) {
      r.network = NetworkMode::kNone;
    } else if (mode == network_name(NetworkMode::kLoopback)) {
      r.network = NetworkMode::kLoopback;
    } else if (mode == network_name(NetworkMode::kHost)) {
      r.network = NetworkMode::kHost;
    } else {
      return field_error("$.network", in_quotes(mode) + " is not a mode (none, loopback or host)");
    }
  }
  if (const json* f = member(v, "filesystem")) RITMA_TRY(parse_filesystem(*f, r));
  if (const json* f = member(v, "seccomp_profile")) {
    RITMA_TRY(get_string(*f, "$.seccomp_profile", r.seccomp_profile));
  }
  if (const json* f = member(v, "deterministic_time"); f && !f->is_null()) {
    RITMA_TRY(want_object(*f, "$.deterministic_time"));
    RITMA_TRY(check_fields(*f, "$.deterministic_time", {"source_date_epoch"}));
    const json* epoch = member(*f, "source_date_epoch");
    if (!epoch) return field_error("$.deterministic_time.source_date_epoch", "required");
    DeterministicTime& dt = r.deterministic_time.emplace();
    RITMA_TRY(get_uint(*epoch, "$.deterministic_time.source_date_epoch", dt.source_date_epoch));
  }
  if (const json* f = member(v, "allow_degraded")) {
    RITMA_TRY(get_bool(*f, "$.allow_degraded", r.allow_degraded));
  }
  if (const json* f = member(v, "label")) RITMA_TRY(get_string(*f, "$.label", r.label));
  RITMA_TRY(validate(r));
  return r;
}

Result<Request> parse_request(std::string_view text) {
  if (text.size() > kMaxRequestBytes) {
    return make_error("request of " + std::to_string(text.size()) +
                      " bytes is larger than the limit of " + std::to_string(kMaxRequestBytes));
  }
  RITMA_ASSIGN_OR_RETURN(const json value, parse_strict_json(text, kMaxRequestDepth));
  return request_from_json(value);
}

Result<Request> read_request_file(const std::filesystem::path& path) {
  auto bytes = read_file(path, kMaxRequestBytes);
  if (!bytes.ok()) return bytes.error();
  auto request = parse_request(as_chars(*bytes));
  if (!request.ok()) return make_error(path.string() + ": " + request.error().message);
  return request;
}

json to_json(const Request& r) {
  json inputs = json::array();
  for (const InputSpec& in : r.inputs) {
    json o = {{"path", in.path}};
    if (in.blake3) o["blake3"] = to_hex(*in.blake3);
    if (in.sha256) o["sha256"] = to_hex(*in.sha256);
    inputs.push_back(std::move(o));
  }
  json binds = json::array();
  for (const Bind& b : r.binds) binds.push_back(json{{"src", b.src}, {"dst", b.dst}, {"rw", b.rw}});
  json j = json::object();
  j["command"] = r.command;
  j["args"] = r.args;
  j["env"] = json::object();
  for (const auto& [name, value] : r.env) j["env"][name] = value;
  j["env_allow"] = r.env_allow;
  j["env_deny"] = r.env_deny;
  j["workspace"] = r.workspace;
  j["cwd"] = r.cwd;
  j["inputs"] = std::move(inputs);
  j["outputs"] = r.outputs;
  j["limits"] = {
      {"wall_timeout_ms", r.limits.wall_timeout_ms}, {"cpu_seconds", r.limits.cpu_seconds},
      {"memory_bytes", r.limits.memory_bytes},       {"pids", r.limits.pids},
      {"open_files", r.limits.open_files},           {"output_bytes", r.limits.output_bytes}};
  j["network"] = std::string(network_name(r.network));
  j["filesystem"] = {{"view", std::string(view_name(r.view))}, {"binds", std::move(binds)}};
  j["seccomp_profile"] = r.seccomp_profile;
  j["deterministic_time"] =
      r.deterministic_time ? json{{"source_date_epoch", r.deterministic_time->source_date_epoch}}
                           : json(nullptr);
  j["allow_degraded"] = r.allow_degraded;
  j["label"] = r.label;
  return j;
}

// ---- the environment ----

Result<ResolvedEnvironment> resolve_environment(const Request& r,
                                                std::span<const std::string> caller_env) {
  struct Candidate {
    std::string value;
    bool from_caller;
  };
  std::map<std::string, Candidate> candidates;
  if (!r.env_allow.empty()) {
    for (const std::string& entry : caller_env) {
      const size_t eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      std::string name = entry.substr(0, eq);
      if (!first_match(r.env_allow, name)) continue;
      candidates.try_emplace(std::move(name), Candidate{entry.substr(eq + 1), true});
    }
  }
  for (const auto& [name, value] : r.env) candidates[name] = Candidate{value, false};

  ResolvedEnvironment out;
  auto drop = [&](const std::string& name, DropReason reason, std::string rule, bool caller) {
    out.dropped.push_back(DroppedEnv{printable(name), reason, std::move(rule), caller});
  };
  for (auto& [name, c] : candidates) {
    if (!is_portable_name(name)) {
      drop(name, DropReason::kInvalid, "not a portable name ([A-Za-z_][A-Za-z0-9_]*)",
           c.from_caller);
    } else if (!fits_one_arg(name, c.value) || !check_text(c.value, "", kMaxArgBytes).ok()) {
      drop(name, DropReason::kInvalid, "value not UTF-8, with a NUL, or too long", c.from_caller);
    } else if (const std::string* deny = first_match(r.env_deny, name)) {
      drop(name, DropReason::kDenied, "env_deny " + *deny, c.from_caller);
    } else if (auto rule = secret_name_rule(name)) {
      drop(name, DropReason::kSecret, "name: " + std::string(*rule), c.from_caller);
    } else if (has_url_credentials(c.value)) {
      drop(name, DropReason::kSecret, "value: a URL with credentials (user@)", c.from_caller);
    } else {
      out.vars.emplace_back(name, std::move(c.value));
    }
  }
  if (r.deterministic_time) {
    std::map<std::string, std::string> vars(out.vars.begin(), out.vars.end());
    vars["TZ"] = "UTC";
    vars["SOURCE_DATE_EPOCH"] = std::to_string(r.deterministic_time->source_date_epoch);
    out.vars.assign(vars.begin(), vars.end());
  }
  if (out.vars.size() > kMaxListItems) {
    return make_error("the resolved environment has " + std::to_string(out.vars.size()) +
                      " variables, more than the limit of " + std::to_string(kMaxListItems));
  }
  size_t bytes = r.command.size() + 1;
  for (const auto& a : r.args) bytes += a.size() + 1;
  for (const auto& [name, value] : out.vars) bytes += name.size() + value.size() + 2;
  if (bytes > kMaxArgEnvBytes) {
    return make_error("command, args and the resolved environment take " + std::to_string(bytes) +
                      " bytes, more than the limit of " + std::to_string(kMaxArgEnvBytes));
  }
  return out;
}

json dropped_env_json(std::span<const DroppedEnv> dropped) {
  json out = json::array();
  for (const DroppedEnv& d : dropped) {
    out.push_back(json{{"name", d.name},
                       {"reason", std::string(to_string(d.reason))},
                       {"rule", d.rule},
                       {"from", d.from_caller ? "caller" : "env"}});
  }
  return out;
}

std::vector<std::string> caller_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

std::vector<std::string> to_envp(const ResolvedEnvironment& env) {
  std::vector<std::string> out;
  out.reserve(env.vars.size());
  for (const auto& [name, value] : env.vars) out.push_back(name + "=" + value);
  return out;
}

Request recorded_request(const Request& request, const ResolvedEnvironment& env) {
  Request out = request;
  out.env = std::map<std::string, std::string>(env.vars.begin(), env.vars.end());
  out.env_allow.clear();
  out.env_deny.clear();
  return out;
}

// ---- inputs ----

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Opens `rel` beneath the directory `dir` for reading: symlinks may not leave it (openat2
// RESOLVE_BENEATH; where the kernel lacks openat2, no symlink is followed at all).
Result<UniqueFd> open_beneath(int dir, const std::string& rel) {
  constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  open_how how{};
  how.flags = kFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  if (errno == EXDEV) return make_error("leaves the workspace (through a symlink)");
  if (errno != ENOSYS) return make_error("cannot open: " + errno_text(errno));
  UniqueFd current(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
  const std::vector<std::string_view> parts = split_path(rel);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part(parts[i]);
    const bool last = i + 1 == parts.size();
    const int flags = last ? kFlags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd next(::openat(current.get(), part.c_str(), flags));
    if (!next.valid()) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return make_error("cannot open: a symlink in the path (this kernel has no openat2)");
      }
      return make_error("cannot open: " + errno_text(errno));
    }
    current = std::move(next);
  }
  return current;
}

Status check_one_input(int workspace, const InputSpec& in) {
  RITMA_ASSIGN_OR_RETURN(UniqueFd fd, open_beneath(workspace, in.path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return make_error("cannot stat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return make_error("not a regular file");
  Blake3Hasher b3;
  Sha256 sha;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot read: " + errno_text(errno));
    }
    if (n == 0) break;
    const ByteSpan chunk(buf.data(), static_cast<size_t>(n));
    if (in.blake3) b3.update(chunk);
    if (in.sha256) sha.update(chunk);
  }
  if (in.blake3) {
    const Hash32 got = b3.finalize();
    if (got != *in.blake3) {
      return make_error("blake3 differs: expected " + to_hex(*in.blake3) + ", found " +
                        to_hex(got));
    }
  }
  if (in.sha256) {
    const Hash32 got = sha.finalize();
    if (got != *in.sha256) {
      return make_error("sha256 differs: expected " + to_hex(*in.sha256) + ", found " +
                        to_hex(got));
    }
  }
  return {};
}

}  // namespace

Status check_inputs(const Request& request) {
  if (request.inputs.empty()) return {};
  UniqueFd workspace(::open(request.workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!workspace.valid()) {
    return make_error("workspace " + in_quotes(request.workspace) + ": " + errno_text(errno));
  }
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const InputSpec& in = request.inputs[i];
    Status s = check_one_input(workspace.get(), in);
    if (!s.ok()) {
      return make_error("input " + in_quotes(in.path) + " (" + index_path("$.inputs", i) +
                        "): " + s.error().message);
    }
  }
  return {};
}

// ---- the digest ----

Bytes canonical_request(const Request& r, const ResolvedEnvironment& env) {
  std::vector<const InputSpec*> inputs;
  for (const auto& in : r.inputs) inputs.push_back(&in);
  std::sort(inputs.begin(), inputs.end(),
            [](const InputSpec* a, const InputSpec* b) { return a->path < b->path; });
  std::vector<std::string_view> outputs(r.outputs.begin(), r.outputs.end());
  std::sort(outputs.begin(), outputs.end());

  Bytes out;
  cbor::Writer w(out);
  w.array(15);
  w.text(kRequestDigestTag);
  w.text(r.command);
  w.array(r.args.size());
  for (const auto& a : r.args) w.text(a);
  w.array(env.vars.size());
  for (const auto& [name, value] : env.vars) {
    w.array(2);
    w.text(name);
    w.text(value);
  }
  w.text(r.workspace);
  w.text(r.cwd);
  w.array(inputs.size());
  for (const InputSpec* in : inputs) {
    w.array(3);
    w.text(in->path);
    for (const auto* digest : {&in->blake3, &in->sha256}) {
      if (*digest) {
        w.bytes(**digest);
      } else {
        w.null();
      }
    }
  }
  w.array(outputs.size());
  for (std::string_view o : outputs) w.text(o);
  w.array(6);
  w.uint(r.limits.wall_timeout_ms);
  w.uint(r.limits.cpu_seconds);
  w.uint(r.limits.memory_bytes);
  w.uint(r.limits.pids);
  w.uint(r.limits.open_files);
  w.uint(r.limits.output_bytes);
  w.text(network_name(r.network));
  w.text(view_name(r.view));
  w.array(r.binds.size());
  for (const Bind& b : r.binds) {
    w.array(3);
    w.text(b.src);
    w.text(b.dst);
    w.boolean(b.rw);
  }
  w.text(r.seccomp_profile);
  if (r.deterministic_time) {
    w.uint(r.deterministic_time->source_date_epoch);
  } else {
    w.null();
  }
  w.boolean(r.allow_degraded);
  return out;
}

RequestDigest request_digest(const Request& request, const ResolvedEnvironment& env) {
  const Bytes bytes = canonical_request(request, env);
  return RequestDigest{blake3(bytes), sha256(bytes)};
}

}  // namespace ritma::exec
