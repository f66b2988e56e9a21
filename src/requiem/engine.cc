#include "requiem/engine.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "capture/event.h"
#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "exec/bundle.h"
#include "exec/cas.h"
#include "requiem/run_trace.h"

namespace ritma::requiem {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kMaxBundleFileBytes = size_t{64} << 20;
constexpr size_t kMaxLinkStreamBytes = 64u << 10;  // stdout/stderr copied into the link

std::string compact_utc(int64_t ns) {
  const time_t s = static_cast<time_t>(ns / 1'000'000'000);
  struct tm tm {};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string new_exec_id(int64_t start_ns) {
  uint8_t r[4];
  randombytes_buf(r, sizeof r);
  return "EX_" + compact_utc(start_ns) + "_" + to_hex(ByteSpan(r, sizeof r));
}

json digest_json(const exec::DigestSet& d, uint64_t bytes, const std::string& cas) {
  json j{{"bytes", bytes}, {"cas", cas}};
  for (const auto& [alg, hex] : d) j[alg] = hex;
  return j;
}

// The argv of each successful exec of a trace, in order: what "the run ran".
std::vector<std::vector<std::string>> executed(const std::vector<capture::Event>& events) {
  std::vector<std::vector<std::string>> out;
  for (const auto& e : events)
    if (e.type == capture::EventType::kExec && e.result == 0) out.push_back(e.argv);
  return out;
}

bool valid_utf8_text(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// A declared output: one file, or every regular file under a directory (sorted). Missing
// outputs are reported as such.
struct OutputFile {
  std::string path;  // workspace-relative
  bool missing = false;
  exec::DigestSet digest;
  uint64_t bytes = 0;
  std::string cas;
};

Result<std::vector<OutputFile>> store_outputs(const exec::Request& req, const exec::Cas& cas) {
  std::vector<OutputFile> out;
  const fs::path ws(req.workspace);
  for (const std::string& rel : req.outputs) {
    const fs::path p = ws / rel;
    std::error_code ec;
    const auto st = fs::symlink_status(p, ec);
    std::vector<std::string> files;
    if (ec || !fs::exists(st)) {
      out.push_back(OutputFile{rel, true, {}, 0, ""});
      continue;
    }
    if (fs::is_directory(st)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file() && !it->is_symlink())
          files.push_back(fs::relative(it->path(), ws).string());
      }
      if (ec) return make_error("output " + rel + ": " + ec.message());
      std::sort(files.begin(), files.end());
    } else if (fs::is_regular_file(st)) {
      files.push_back(rel);
    } else {
      return make_error("output " + rel + ": not a regular file or directory");
    }
    for (const std::string& f : files) {
      OutputFile o;
      o.path = f;
      RITMA_ASSIGN_OR_RETURN(o.cas, cas.put_file(ws / f));
      RITMA_ASSIGN_OR_RETURN(exec::CasBlob blob, cas.get(o.cas));
      o.digest = exec::digests_of(blob.bytes());
      o.bytes = blob.size();
      out.push_back(std::move(o));
    }
  }
  return out;
}

exec::SandboxSpec sandbox_spec(const exec::Request& req, const exec::ResolvedEnvironment& env) {
  exec::SandboxSpec s;
  s.argv.push_back(req.command);
  s.argv.insert(s.argv.end(), req.args.begin(), req.args.end());
  s.env = exec::to_envp(env);
  s.workspace = req.workspace;
  s.cwd = req.cwd == "." ? req.workspace : (fs::path(req.workspace) / req.cwd).string();
  s.view = req.view;
  for (const exec::Bind& b : req.binds) s.binds.push_back(exec::BindMount{b.src, b.dst, b.rw});
  // The workspace is read-write at its host path in both views (docs/REQUIEM.md).
  if (req.view == exec::ViewMode::kBindsOnly)
    s.binds.push_back(exec::BindMount{req.workspace, req.workspace, true});
  s.network = req.network;
  s.seccomp_profile = req.seccomp_profile;
  s.limits.wall_timeout_ms = req.limits.wall_timeout_ms;
  s.limits.cpu_seconds = req.limits.cpu_seconds;
  s.limits.memory_bytes = req.limits.memory_bytes;
  s.limits.pids = req.limits.pids;
  s.limits.open_files = req.limits.open_files;
  s.limits.output_bytes = req.limits.output_bytes;
  s.allow_degraded = req.allow_degraded;
  return s;
}

Status write_file_text(const fs::path& p, const std::string& text) {
  return write_new_file_synced(
      p, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0644);
}

Result<std::string> read_text(const fs::path& p) {
  RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(p, kMaxBundleFileBytes));
  return std::string(b.begin(), b.end());
}

}  // namespace

Result<ExecResult> execute(const ExecOptions& o, const NamedSigningKey& key) {
  const exec::Request& req = o.request;
  RITMA_TRY(exec::validate(req));
  RITMA_TRY(exec::check_inputs(req));
  RITMA_ASSIGN_OR_RETURN(exec::ResolvedEnvironment env,
                         exec::resolve_environment(req, o.caller_env));
  const exec::Request recorded = exec::recorded_request(req, env);
  ExecResult r;
  r.digest = exec::request_digest(req, env);

  // Materials: the inputs as they are now (check_inputs compared them with the request).
  std::map<std::string, exec::DigestSet> materials;
  for (const exec::InputSpec& in : req.inputs) {
    RITMA_ASSIGN_OR_RETURN(materials[in.path],
                           exec::digests_of_file(fs::path(req.workspace) / in.path));
  }

  std::unique_ptr<RunTracer> tracer;
  auto hook = [&](uint64_t cgroup_id) -> Status {
    if (o.trace == TraceMode::kOff) return {};
    RITMA_ASSIGN_OR_RETURN(tracer, RunTracer::start(cgroup_id));
    return {};
  };
  RITMA_ASSIGN_OR_RETURN(r.outcome, exec::run_sandboxed(sandbox_spec(req, env), hook));
  std::optional<RunTrace> trace;
  if (tracer) {
    RITMA_ASSIGN_OR_RETURN(RunTrace t, tracer->finish());
    trace = std::move(t);
  }
  const exec::SandboxOutcome& out = r.outcome;

  exec::CasOptions copts;
  copts.compress = true;
  const exec::Cas cas(o.state_dir, copts);
  auto as_bytes_of = [](const std::string& s) {
    return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  RITMA_ASSIGN_OR_RETURN(const std::string stdout_cas, cas.put(as_bytes_of(out.stdout_data)));
  RITMA_ASSIGN_OR_RETURN(const std::string stderr_cas, cas.put(as_bytes_of(out.stderr_data)));
  RITMA_ASSIGN_OR_RETURN(const std::vector<OutputFile> outputs, store_outputs(req, cas));
  std::string trace_cas;
  if (trace) {
    RITMA_ASSIGN_OR_RETURN(trace_cas, cas.put(trace->atoms));
  }

  r.exec_id = new_exec_id(out.start_unix_ns);
  const exec::DigestSet stdout_d = exec::digests_of(as_bytes_of(out.stdout_data));
  const exec::DigestSet stderr_d = exec::digests_of(as_bytes_of(out.stderr_data));

  json applied = json::array();
  for (const auto& [k, v] : out.applied.entries) applied.push_back({k, v});
  json outputs_j = json::array();
  for (const OutputFile& f : outputs) {
    if (f.missing) {
      outputs_j.push_back({{"path", f.path}, {"missing", true}});
    } else {
      json d = digest_json(f.digest, f.bytes, f.cas);
      d["path"] = f.path;
      outputs_j.push_back(d);
    }
  }
  json p;
  p["engine"] = {{"name", "requiem"}, {"version", RITMA_VERSION}};
  p["exec_id"] = r.exec_id;
  p["request"] = exec::to_json(recorded);
  p["request_digest"] = {{"blake3", to_hex(r.digest.blake3)}, {"sha256", to_hex(r.digest.sha256)}};
  p["dropped_env"] = exec::dropped_env_json(env.dropped);
  p["sandbox"] = {{"applied", applied},
                  {"seccomp_mode", out.applied.seccomp_mode},
                  {"no_new_privs", out.applied.no_new_privs},
                  {"landlock_abi", out.applied.landlock_abi},
                  {"exec_reached", out.applied.exec_reached},
                  {"degraded", out.degraded},
                  {"cgroups", out.cgroup_paths},
                  {"processes_left", out.processes_left}};
  p["result"] = {{"termination", out.termination},
                 {"exit_code", out.exit_code},
                 {"signal", out.signal},
                 {"timed_out", out.timed_out},
                 {"limits_hit", out.limits_hit}};
  p["resources"] = {{"wall_ns", out.end_unix_ns - out.start_unix_ns},
                    {"user_cpu_us", out.user_cpu_us},
                    {"system_cpu_us", out.system_cpu_us},
                    {"max_rss_bytes", out.max_rss_bytes},
                    {"cgroup_cpu_usec", out.cgroup_cpu_usec},
                    {"memory_peak_bytes", out.memory_peak_bytes},
                    {"oom_kills", out.oom_kills},
                    {"pids_refused", out.pids_refused}};
  p["stdout"] = digest_json(stdout_d, out.stdout_bytes, stdout_cas);
  p["stderr"] = digest_json(stderr_d, out.stderr_bytes, stderr_cas);
  p["output_truncated"] = out.output_truncated;
  p["outputs"] = outputs_j;
  if (trace) {
    p["trace"] = {{"root", to_hex(trace->root)},
                  {"events", trace->events.size()},
                  {"lost", trace->lost},
                  {"execs", executed(trace->events).size()},
                  {"boot_id", to_hex(trace->boot_id)},
                  {"cas", trace_cas},
                  {"leaf", "ritma-ev@1 atom (FORMAT.md §9), RFC 9162 leaf hash"}};
  } else {
    p["trace"] = nullptr;
  }
  p["timestamps"] = {{"start_ns", out.start_unix_ns}, {"end_ns", out.end_unix_ns}};
  r.predicate = p;

  std::vector<exec::Subject> subjects;
  subjects.push_back({"stdout", stdout_d});
  subjects.push_back({"stderr", stderr_d});
  for (const OutputFile& f : outputs)
    if (!f.missing) subjects.push_back({f.path, f.digest});
  RITMA_ASSIGN_OR_RETURN(const json statement,
                         exec::make_statement(subjects, exec::kRequiemPredicateType, p));
  RITMA_ASSIGN_OR_RETURN(r.envelope_text, exec::sign_envelope(statement, key.key));

  exec::Link link;
  link.name = kLinkStep;
  link.command.push_back(req.command);
  link.command.insert(link.command.end(), req.args.begin(), req.args.end());
  link.materials = materials;
  for (const OutputFile& f : outputs)
    if (!f.missing) link.products[f.path] = f.digest;
  auto stream = [](const std::string& s) {
    return s.size() <= kMaxLinkStreamBytes && valid_utf8_text(s) ? s : std::string();
  };
  link.byproducts = {{"stdout", stream(out.stdout_data)},
                     {"stderr", stream(out.stderr_data)},
                     {"return-value", out.exit_code}};
  RITMA_ASSIGN_OR_RETURN(const exec::SignedLink signed_link, exec::sign_link(link, key.key));

  // The bundle is staged in a hidden directory, each file fsynced, then published by one
  // rename and the fsync of bundles/: a bundle directory is complete or absent, whatever the
  // moment of a crash (a leftover ".EX_*.partial" holds an unpublished run).
  const fs::path bundles = o.state_dir / "bundles";
  r.bundle_dir = bundles / r.exec_id;
  const fs::path staging = bundles / ("." + r.exec_id + ".partial");
  RITMA_TRY(make_directories(bundles, 0755));
  if (::mkdir(staging.c_str(), 0755) != 0) {
    return make_error("cannot create " + staging.string() + ": " + std::strerror(errno));
  }
  RITMA_TRY(write_file_text(staging / kRequestFile, exec::to_json(recorded).dump(2) + "\n"));
  RITMA_TRY(write_file_text(staging / signed_link.file_name, signed_link.text));
  RITMA_TRY(
      write_file_text(staging / kSignerFile, format_public_key(key.name, key.key.public_key())));
  RITMA_TRY(write_file_text(staging / kEnvelopeFile, r.envelope_text + "\n"));
  RITMA_TRY(fsync_directory(staging));
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, r.bundle_dir.c_str(), RENAME_NOREPLACE) !=
      0) {
    return make_error("cannot publish " + r.bundle_dir.string() + ": " + std::strerror(errno));
  }
  RITMA_TRY(fsync_directory(bundles));
  return r;
}

Result<BundleCheck> verify_bundle(const fs::path& dir, const fs::path& cas_root,
                                  const std::vector<PublicKey>& pinned) {
  BundleCheck c;
  RITMA_ASSIGN_OR_RETURN(const std::string envelope, read_text(dir / kEnvelopeFile));
  std::vector<PublicKey> keys = pinned;
  std::optional<PublicKey> own;
  if (auto t = read_text(dir / kSignerFile); t.ok()) {
    if (auto k = parse_public_key(*t); k.ok()) own = k->key;
  }
  if (keys.empty()) {
    if (!own)
      return make_error((dir / kSignerFile).string() + ": no usable public key, and no --key");
    keys.push_back(*own);
  }
  auto v = exec::verify_envelope(envelope, keys);
  if (!v.ok()) {
    c.problems.push_back(std::string(kEnvelopeFile) + ": " + v.error().message);
    return c;
  }
  c.pinned = !pinned.empty();
  c.signer = key_fingerprint(v->key);
  c.statement = v->statement;
  auto problem = [&](const std::string& field, const std::string& what) {
    c.problems.push_back(field + ": " + what);
  };
  const json& st = v->statement;
  if (st.value("predicateType", "") != exec::kRequiemPredicateType) {
    problem("predicateType", "is not " + std::string(exec::kRequiemPredicateType));
    return c;
  }
  const json& p = st["predicate"];
  const exec::Cas cas(cas_root);

  // A CAS object the predicate names (get() checks it hashes to its name).
  auto fetch = [&](const std::string& field, const json& d) -> std::optional<Bytes> {
    if (!d.is_object() || !d.contains("cas") || !d["cas"].is_string()) {
      problem(field, "has no CAS object");
      return std::nullopt;
    }
    auto blob = cas.get_bytes(d["cas"].get<std::string>());
    if (!blob.ok()) {
      problem(field + ".cas", blob.error().message);
      return std::nullopt;
    }
    return std::move(*blob);
  };
  // ... which must also match every digest and the size the predicate gives.
  auto check_object = [&](const std::string& field, const json& d) {
    auto blob = fetch(field, d);
    if (!blob) return;
    for (const auto& [alg, hex] : exec::digests_of(*blob))
      if (!d.contains(alg) || d[alg] != hex)
        problem(field + "." + alg, "differs from the CAS object's");
    if (!d.contains("bytes") || d["bytes"] != blob->size())
      problem(field + ".bytes",
              "differs from the CAS object's size " + std::to_string(blob->size()));
  };
  std::map<std::string, json> subjects;
  if (st.contains("subject") && st["subject"].is_array())
    for (const json& s : st["subject"]) subjects[s.value("name", "")] = s.value("digest", json());
  auto check_subject = [&](const std::string& name, const json& d) {
    auto it = subjects.find(name);
    if (it == subjects.end()) {
      problem("subject[" + name + "]", "missing");
      return;
    }
    for (const char* alg : {"sha256", "blake3"})
      if (!d.contains(alg) || it->second.value(alg, "") != d[alg])
        problem("subject[" + name + "]." + alg, "differs from the predicate's");
  };
  for (const char* s : {"stdout", "stderr"}) {
    if (!p.contains(s)) {
      problem(std::string("predicate.") + s, "missing");
      continue;
    }
    check_object(std::string("predicate.") + s, p[s]);
    check_subject(s, p[s]);
  }
  if (p.contains("outputs") && p["outputs"].is_array()) {
    for (size_t i = 0; i < p["outputs"].size(); ++i) {
      const json& o = p["outputs"][i];
      if (o.value("missing", false)) continue;
      const std::string f = "predicate.outputs[" + std::to_string(i) + "]";
      check_object(f, o);
      check_subject(o.value("path", ""), o);
    }
  } else {
    problem("predicate.outputs", "missing");
  }
  if (p.contains("trace") && p["trace"].is_object()) {
    const json& t = p["trace"];
    if (auto atoms = fetch("predicate.trace", t); atoms) {
      auto tc = check_trace_atoms(*atoms);
      if (!tc.ok()) {
        problem("predicate.trace.cas", tc.error().message);
      } else {
        if (t.value("root", "") != to_hex(tc->root))
          problem(
              "predicate.trace.root",
              "differs from the root recomputed from the stored events (" + to_hex(tc->root) + ")");
        if (t.value("events", uint64_t{0}) != tc->events.size())
          problem("predicate.trace.events",
                  "differs from the stored events (" + std::to_string(tc->events.size()) + ")");
        if (t.value("execs", uint64_t{0}) != executed(tc->events).size())
          problem("predicate.trace.execs", "differs from the stored events");
      }
    }
  }
  // The request digest, recomputed from the recorded request.
  auto req = exec::request_from_json(p.value("request", json()));
  if (!req.ok()) {
    problem("predicate.request", req.error().message);
  } else {
    auto env = exec::resolve_environment(*req, {});
    if (!env.ok()) {
      problem("predicate.request.env", env.error().message);
    } else {
      const exec::RequestDigest d = exec::request_digest(*req, *env);
      const json& rd = p.value("request_digest", json());
      if (!rd.is_object() || rd.value("blake3", "") != to_hex(d.blake3) ||
          rd.value("sha256", "") != to_hex(d.sha256))
        problem("predicate.request_digest",
                "differs from the digest of predicate.request (" + to_hex(d.blake3) + ")");
    }
    if (auto rf = read_text(dir / kRequestFile); rf.ok()) {
      auto rj = exec::parse_json_strict(*rf);
      if (!rj.ok() || *rj != p["request"]) problem(kRequestFile, "differs from predicate.request");
    } else {
      problem(kRequestFile, rf.error().message);
    }
  }
  // The link: signed by the same key, and saying the same as the predicate.
  bool link_seen = false;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(".link")) continue;
    link_seen = true;
    auto text = read_text(e.path());
    if (!text.ok()) {
      problem(name, text.error().message);
      continue;
    }
    auto signed_obj = exec::verify_link(*text, v->key);
    if (!signed_obj.ok()) {
      problem(name, signed_obj.error().message);
      continue;
    }
    const json& s = *signed_obj;
    const json& bp = s.value("byproducts", json::object());
    if (bp.value("return-value", json()) != p["result"].value("exit_code", json()))
      problem(name + ": byproducts.return-value", "differs from predicate.result.exit_code");
    std::map<std::string, std::string> prod;
    if (s.contains("products") && s["products"].is_object())
      for (const auto& [k, d] : s["products"].items()) prod[k] = d.value("sha256", "");
    std::map<std::string, std::string> want;
    for (const json& o : p.value("outputs", json::array()))
      if (!o.value("missing", false)) want[o.value("path", "")] = o.value("sha256", "");
    if (prod != want) problem(name + ": products", "differ from predicate.outputs");
  }
  if (!link_seen) problem("link", "no in-toto link file in the bundle");
  return c;
}

Result<ReplayReport> replay(const fs::path& bundle_dir, const fs::path& state_dir,
                            const std::vector<PublicKey>& pinned, const NamedSigningKey& key,
                            TraceMode trace) {
  RITMA_ASSIGN_OR_RETURN(const BundleCheck check, verify_bundle(bundle_dir, state_dir, pinned));
  if (!check.ok())
    return make_error("the bundle does not verify (" + check.problems.front() +
                      "); refusing to replay it");
  const json& p = check.statement["predicate"];
  RITMA_ASSIGN_OR_RETURN(exec::Request req, exec::request_from_json(p["request"]));
  ExecOptions o;
  o.request = req;
  o.state_dir = state_dir;
  o.trace = p["trace"].is_object() ? trace : TraceMode::kOff;
  RITMA_ASSIGN_OR_RETURN(const ExecResult again, execute(o, key));
  ReplayReport rep;
  rep.original_id = p.value("exec_id", "");
  rep.replay_id = again.exec_id;
  const json& q = again.predicate;
  auto cmp = [&](const std::string& field, const json& a, const json& b) {
    if (a != b) rep.differences.push_back(field + ": " + a.dump() + " -> " + b.dump());
  };
  cmp("request_digest", p["request_digest"], q["request_digest"]);
  cmp("result.termination", p["result"]["termination"], q["result"]["termination"]);
  cmp("result.exit_code", p["result"]["exit_code"], q["result"]["exit_code"]);
  cmp("result.signal", p["result"]["signal"], q["result"]["signal"]);
  cmp("stdout.sha256", p["stdout"]["sha256"], q["stdout"]["sha256"]);
  cmp("stderr.sha256", p["stderr"]["sha256"], q["stderr"]["sha256"]);
  std::map<std::string, json> po, qo;
  for (const json& x : p["outputs"]) po[x.value("path", "")] = x.value("sha256", json("missing"));
  for (const json& x : q["outputs"]) qo[x.value("path", "")] = x.value("sha256", json("missing"));
  std::set<std::string> paths;
  for (const auto& [k, v] : po) paths.insert(k);
  for (const auto& [k, v] : qo) paths.insert(k);
  for (const std::string& k : paths)
    cmp("outputs[" + k + "].sha256", po.count(k) ? po[k] : json(nullptr),
        qo.count(k) ? qo[k] : json(nullptr));
  if (p["trace"].is_object() && q["trace"].is_object()) {
    const exec::Cas cas(state_dir);
    auto load = [&](const json& t) -> Result<std::vector<std::vector<std::string>>> {
      RITMA_ASSIGN_OR_RETURN(Bytes atoms, cas.get_bytes(t.value("cas", "")));
      RITMA_ASSIGN_OR_RETURN(TraceCheck tc, check_trace_atoms(atoms));
      return executed(tc.events);
    };
    RITMA_ASSIGN_OR_RETURN(const auto a, load(p["trace"]));
    RITMA_ASSIGN_OR_RETURN(const auto b, load(q["trace"]));
    if (a.size() != b.size())
      rep.differences.push_back("trace.execs: " + std::to_string(a.size()) + " commands -> " +
                                std::to_string(b.size()));
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      cmp("trace.execs[" + std::to_string(i) + "].argv", json(a[i]), json(b[i]));
  }
  return rep;
}

}  // namespace ritma::requiem
