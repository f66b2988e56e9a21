#include "api/serve_config.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "api/db.h"
#include "core/bytes.h"
#include "core/durable_file.h"
#include "core/strict_json.h"
#include "exec/seccomp_policy.h"

namespace ritma::api {
namespace {

using nlohmann::json;

// Reads the members of one JSON object; every member must be read (or it is unknown).
class Members {
 public:
  Members(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  Status check_object() const {
    if (!obj_.is_object()) return make_error(where_ + ": must be an object");
    return {};
  }
  const json* find(const std::string& key) {
    seen_.insert(key);
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }
  std::string path(const std::string& key) const { return where_ + "." + key; }

  Status str(const std::string& key, std::string& out, bool required = false) {
    const json* v = find(key);
    if (!v) return required ? make_error(path(key) + ": required") : Status{};
    if (!v->is_string()) return make_error(path(key) + ": must be a string");
    out = v->get<std::string>();
    return {};
  }
  Status boolean(const std::string& key, bool& out) {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_boolean()) return make_error(path(key) + ": must be true or false");
    out = v->get<bool>();
    return {};
  }
  template <typename T>
  Status uint(const std::string& key, T& out, uint64_t min, uint64_t max) {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_number_unsigned()) return make_error(path(key) + ": must be a non-negative integer");
    const uint64_t n = v->get<uint64_t>();
    if (n < min || n > max) {
      return make_error(path(key) + ": " + std::to_string(n) + " is out of range [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    out = static_cast<T>(n);
    return {};
  }
  Status number(const std::string& key, double& out, double min, double max) {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_number()) return make_error(path(key) + ": must be a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
      return make_error(path(key) + ": out of range [" + std::to_string(min) + ", " +
                        std::to_string(max) + "]");
    }
    out = d;
    return {};
  }
  // Call last: any member not asked for is unknown.
  Status no_unknown() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!seen_.count(it.key())) return make_error(path(it.key()) + ": unknown member");
    }
    return {};
  }

 private:
  const json& obj_;
  std::string where_;
  std::set<std::string> seen_;
};

bool valid_tool_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(n[0])) return false;
  return std::all_of(n.begin(), n.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool valid_numeric(std::string_view s) {  // no leading zero
  return is_digits(s) && (s.size() == 1 || s[0] != '0') && s.size() <= 18;
}
bool valid_ident(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
    if (p == std::string_view::npos) return parts;
    start = p + 1;
  }
}

struct Semver {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string_view> pre;
};
std::optional<Semver> parse_semver(std::string_view v) {
  if (v.empty() || v.size() > 64) return std::nullopt;
  if (const size_t plus = v.find('+'); plus != v.npos) {
    for (auto id : split(v.substr(plus + 1), '.'))
      if (!valid_ident(id)) return std::nullopt;
    v = v.substr(0, plus);
  }
  Semver s;
  if (const size_t dash = v.find('-'); dash != v.npos) {
    s.pre = split(v.substr(dash + 1), '.');
    for (auto id : s.pre) {
      if (!valid_ident(id)) return std::nullopt;
      if (is_digits(id) && !valid_numeric(id)) return std::nullopt;
    }
    v = v.substr(0, dash);
  }
  auto core = split(v, '.');
  if (core.size() != 3) return std::nullopt;
  for (auto c : core)
    if (!valid_numeric(c)) return std::nullopt;
  s.major = std::stoull(std::string(core[0]));
  s.minor = std::stoull(std::string(core[1]));
  s.patch = std::stoull(std::string(core[2]));
  return s;
}

Status read_budget(const json& j, const std::string& where, BudgetSpec& b) {
  Members m(j, where);
  RITMA_TRY(m.check_object());
  constexpr uint64_t kMax = uint64_t{1} << 50;
  RITMA_TRY(m.uint("window_seconds", b.window_seconds, 1, 366 * 86'400));
  RITMA_TRY(m.uint("max_executions", b.max_executions, 0, kMax));
  RITMA_TRY(m.uint("max_cpu_seconds", b.max_cpu_seconds, 0, kMax));
  RITMA_TRY(m.uint("max_wall_seconds", b.max_wall_seconds, 0, kMax));
  RITMA_TRY(m.uint("max_output_bytes", b.max_output_bytes, 0, kMax));
  RITMA_TRY(m.number("rate_per_second", b.rate_per_second, 0.000001, 1e6));
  RITMA_TRY(m.number("burst", b.burst, 1, 1e9));
  return m.no_unknown();
}

Status read_auth(const json& j, AuthSpec& a) {
  Members m(j, "auth");
  RITMA_TRY(m.check_object());
  RITMA_TRY(m.str("issuer", a.issuer, true));
  RITMA_TRY(m.str("audience", a.audience, true));
  RITMA_TRY(m.str("tenant_claim", a.tenant_claim));
  uint64_t leeway = static_cast<uint64_t>(a.leeway_seconds);
  RITMA_TRY(m.uint("leeway_seconds", leeway, 0, 3600));
  a.leeway_seconds = static_cast<int64_t>(leeway);
  RITMA_TRY(m.str("hs256_secret_file", a.hs256_secret_file));
  RITMA_TRY(m.str("jwks_file", a.jwks_file));
  if (const json* keys = m.find("public_keys")) {
    if (!keys->is_array()) return make_error("auth.public_keys: must be an array");
    for (size_t i = 0; i < keys->size(); ++i) {
      Members k((*keys)[i], "auth.public_keys[" + std::to_string(i) + "]");
      RITMA_TRY(k.check_object());
      AuthSpec::PublicKeyFile f;
      RITMA_TRY(k.str("file", f.file, true));
      RITMA_TRY(k.str("kid", f.kid));
      RITMA_TRY(k.no_unknown());
      a.public_keys.push_back(std::move(f));
    }
  }
  RITMA_TRY(m.no_unknown());
  if (a.issuer.empty() || a.audience.empty())
    return make_error("auth: issuer and audience must not be empty");
  if (a.hs256_secret_file.empty() && a.public_keys.empty() && a.jwks_file.empty())
    return make_error("auth: no key: give hs256_secret_file, public_keys or jwks_file");
  return {};
}

Status read_tool(const json& j, const std::string& where, ToolSpec& t) {
  Members m(j, where);
  RITMA_TRY(m.check_object());
  RITMA_TRY(m.str("name", t.name, true));
  if (!valid_tool_name(t.name))
    return make_error(where + ".name: \"" + t.name + "\" is not [a-z0-9][a-z0-9._-]{0,63}");
  RITMA_TRY(m.str("version", t.version, true));
  if (!valid_semver(t.version))
    return make_error(where + ".version: \"" + t.version + "\" is not a semver version (1.2.3)");
  const json* cmd = m.find("command");
  if (!cmd || !cmd->is_array() || cmd->empty() || cmd->size() > 256)
    return make_error(where + ".command: required, an array of 1..256 strings");
  for (const json& c : *cmd) {
    if (!c.is_string()) return make_error(where + ".command: every element must be a string");
    t.command.push_back(c.get<std::string>());
  }
  if (t.command[0].empty() || t.command[0][0] != '/')
    return make_error(where + ".command[0]: must be an absolute path");
  if (std::count(t.command.begin(), t.command.end(), "{args}") > 1)
    return make_error(where + ".command: \"{args}\" may appear once");
  RITMA_TRY(m.str("profile", t.profile));
  const std::vector<std::string> names = exec::seccomp_profile_names();
  if (std::find(names.begin(), names.end(), t.profile) == names.end())
    return make_error(where + ".profile: unknown seccomp profile \"" + t.profile + "\"");
  RITMA_TRY(m.boolean("deterministic", t.deterministic));
  RITMA_TRY(m.boolean("idempotent", t.idempotent));
  RITMA_TRY(m.boolean("trace", t.trace));
  RITMA_TRY(m.str("tenant", t.tenant));
  if (!t.tenant.empty() && !valid_tenant(t.tenant))
    return make_error(where + ".tenant: not a valid tenant name");
  RITMA_TRY(m.uint("output_max_bytes", t.output_max_bytes, 0, uint64_t{1} << 32));
  RITMA_TRY(m.uint("cost", t.cost, 1, 1'000'000));
  RITMA_TRY(m.uint("timeout_ms", t.timeout_ms, 1, 86'400'000));
  RITMA_TRY(m.uint("cpu_seconds", t.cpu_seconds, 1, 86'400));
  RITMA_TRY(m.uint("memory_mb", t.memory_mb, 4, 1 << 20));
  RITMA_TRY(m.uint("pids", t.pids, 1, 65'536));
  RITMA_TRY(m.uint("max_args", t.max_args, 0, 4096));
  RITMA_TRY(m.uint("max_arg_bytes", t.max_arg_bytes, 1, 128 << 10));
  return m.no_unknown();
}

}  // namespace

Result<ExecutionBody> parse_execution_body(std::string_view body, int max_depth) {
  RITMA_ASSIGN_OR_RETURN(json doc, parse_strict_json(body, max_depth));
  if (!doc.is_object()) return make_error("the body must be a JSON object");
  ExecutionBody b;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& k = it.key();
    if (k == "tool") {
      if (!it->is_string()) return make_error("tool: must be a string");
      b.tool = it->get<std::string>();
    } else if (k == "version") {
      if (!it->is_string()) return make_error("version: must be a string");
      b.version = it->get<std::string>();
      if (!valid_semver(b.version)) return make_error("version: not a semver version (1.2.3)");
    } else if (k == "args") {
      if (!it->is_array()) return make_error("args: must be an array of strings");
      for (const json& a : *it) {
        if (!a.is_string()) return make_error("args: every argument must be a string");
        b.args.push_back(a.get<std::string>());
      }
    } else {
      return make_error("unknown member \"" + k + "\" (expected tool, version, args)");
    }
  }
  if (b.tool.empty()) return make_error("tool: required");
  return b;
}

bool valid_semver(std::string_view v) {
  return parse_semver(v).has_value();
}

int compare_semver(std::string_view a, std::string_view b) {
  auto x = parse_semver(a), y = parse_semver(b);
  if (!x || !y) return a.compare(b);
  auto cmp = [](uint64_t p, uint64_t q) { return p < q ? -1 : (p > q ? 1 : 0); };
  if (int c = cmp(x->major, y->major)) return c;
  if (int c = cmp(x->minor, y->minor)) return c;
  if (int c = cmp(x->patch, y->patch)) return c;
  // A pre-release ranks below the release.
  if (x->pre.empty() || y->pre.empty()) return x->pre.empty() - y->pre.empty();
  for (size_t i = 0; i < std::min(x->pre.size(), y->pre.size()); ++i) {
    std::string_view p = x->pre[i], q = y->pre[i];
    const bool pn = is_digits(p), qn = is_digits(q);
    if (pn && qn) {
      if (int c = cmp(std::stoull(std::string(p)), std::stoull(std::string(q)))) return c;
    } else if (pn != qn) {
      return pn ? -1 : 1;  // numeric identifiers rank lower
    } else if (int c = p.compare(q)) {
      return c < 0 ? -1 : 1;
    }
  }
  return cmp(x->pre.size(), y->pre.size());
}

const BudgetSpec& ServeConfig::budget_for(std::string_view tenant) const {
  auto it = tenant_budgets.find(std::string(tenant));
  return it == tenant_budgets.end() ? budget : it->second;
}

std::vector<const ToolSpec*> ServeConfig::tools_for(std::string_view tenant) const {
  std::vector<const ToolSpec*> out;
  for (const ToolSpec& t : tools)
    if (t.tenant.empty() || t.tenant == tenant) out.push_back(&t);
  return out;
}

const ToolSpec* ServeConfig::find_tool(std::string_view tenant, std::string_view name,
                                       std::string_view version) const {
  const ToolSpec* best = nullptr;
  for (const ToolSpec* t : tools_for(tenant)) {
    if (t->name != name) continue;
    if (!version.empty()) {
      if (t->version == version) return t;
      continue;
    }
    if (!best || compare_semver(t->version, best->version) > 0) best = t;
  }
  return best;
}

Result<ServeConfig> parse_serve_config(std::string_view json_text) {
  RITMA_ASSIGN_OR_RETURN(json doc, parse_strict_json(json_text, 8));
  ServeConfig c;
  Members m(doc, "config");
  RITMA_TRY(m.check_object());
  if (const json* a = m.find("auth")) {
    AuthSpec auth;
    RITMA_TRY(read_auth(*a, auth));
    c.auth = std::move(auth);
  }
  RITMA_TRY(m.str("tenant_header", c.tenant_header));
  RITMA_TRY(m.uint("max_body_bytes", c.max_body_bytes, 1024, uint64_t{64} << 20));
  RITMA_TRY(m.uint("max_json_depth", c.max_json_depth, 2, 64));
  RITMA_TRY(m.uint("threads", c.threads, 1, 1024));
  RITMA_TRY(m.uint("max_concurrent_runs", c.max_concurrent_runs, 1, 1024));
  RITMA_TRY(m.uint("db_connections", c.db_connections, 1, 256));
  RITMA_TRY(m.uint("idempotency_ttl_seconds", c.idempotency_ttl_seconds, 1, 366 * 86'400));
  if (const json* b = m.find("budget")) RITMA_TRY(read_budget(*b, "config.budget", c.budget));
  if (const json* tb = m.find("tenant_budgets")) {
    if (!tb->is_object()) return make_error("config.tenant_budgets: must be an object");
    for (auto it = tb->begin(); it != tb->end(); ++it) {
      if (!valid_tenant(it.key()))
        return make_error("config.tenant_budgets: \"" + it.key() + "\" is not a valid tenant");
      BudgetSpec spec = c.budget;
      RITMA_TRY(read_budget(*it, "config.tenant_budgets." + it.key(), spec));
      c.tenant_budgets[it.key()] = spec;
    }
  }
  if (const json* a = m.find("audit")) {
    Members am(*a, "config.audit");
    RITMA_TRY(am.check_object());
    RITMA_TRY(am.str("log_name", c.audit_log_name));
    RITMA_TRY(am.uint("checkpoint_every", c.audit_checkpoint_every, 1, 1'000'000'000));
    RITMA_TRY(am.uint("checkpoint_interval_ms", c.audit_checkpoint_interval_ms, 1, 86'400'000));
    RITMA_TRY(am.no_unknown());
    if (!valid_tool_name(c.audit_log_name))
      return make_error("config.audit.log_name: must be [a-z0-9][a-z0-9._-]{0,63}");
  }
  if (const json* tools = m.find("tools")) {
    if (!tools->is_array() || tools->size() > 10'000)
      return make_error("config.tools: must be an array of at most 10000 tools");
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (size_t i = 0; i < tools->size(); ++i) {
      ToolSpec t;
      RITMA_TRY(read_tool((*tools)[i], "config.tools[" + std::to_string(i) + "]", t));
      if (!seen.insert({t.tenant, t.name, t.version}).second) {
        return make_error("config.tools[" + std::to_string(i) + "]: " + t.name + " " + t.version +
                          " is registered twice");
      }
      c.tools.push_back(std::move(t));
    }
  }
  RITMA_TRY(m.no_unknown());
  return c;
}

Result<ServeConfig> load_serve_config(const std::filesystem::path& path) {
  RITMA_ASSIGN_OR_RETURN(Bytes text, read_file(path, 4 << 20));
  auto c = parse_serve_config(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  if (!c) return make_error(path.string() + ": " + c.error().message);
  return c;
}

Result<JwtVerifier> make_verifier(const AuthSpec& auth) {
  JwtVerifierConfig vc;
  vc.issuer = auth.issuer;
  vc.audience = auth.audience;
  vc.tenant_claim = auth.tenant_claim;
  vc.leeway_seconds = auth.leeway_seconds;
  if (!auth.hs256_secret_file.empty()) {
    RITMA_ASSIGN_OR_RETURN(JwtKey k,
                           JwtKey::hmac_secret_file(auth.hs256_secret_file, "", {JwsAlg::kHS256}));
    vc.keys.push_back(std::move(k));
  }
  for (const auto& f : auth.public_keys) {
    RITMA_ASSIGN_OR_RETURN(
        JwtKey k, JwtKey::public_key_pem_file(f.file, f.kid, {JwsAlg::kEdDSA, JwsAlg::kES256}));
    vc.keys.push_back(std::move(k));
  }
  if (!auth.jwks_file.empty()) {
    RITMA_ASSIGN_OR_RETURN(std::vector<JwtKey> keys, load_jwks_file(auth.jwks_file));
    for (JwtKey& k : keys) vc.keys.push_back(std::move(k));
  }
  return JwtVerifier::create(std::move(vc));
}

}  // namespace ritma::api
