// `ritma serve`'s HTTP server: embedded assets and the read-only JSON API (see the header).
#include "viewer/viewer_server.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "capture/event_atom.h"
#include "cli/event_json.h"
#include "cli/time_text.h"
#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/cbor_json.h"
#include "core/zstd_codec.h"
#include "viewer_assets.h"

namespace ritma::viewer {
namespace {

constexpr size_t kDefaultEventLimit = 1000;
constexpr size_t kMaxEventLimit = 20000;
constexpr size_t kMaxArtifactJsonBytes = 64u << 20;

// Kernel strings are bytes: invalid UTF-8 is replaced in JSON (the atom's hex keeps it all).
std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void send_json(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(dump(j), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

const char* mime_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// What a request path must never hold, whatever route it is for: traversal, encodings left
// after the one decoding httplib did (%2e, %252e), backslashes and control bytes.
bool suspicious_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return true;
  if (path.find("..") != std::string_view::npos) return true;
  if (path.find("//") != std::string_view::npos) return true;
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\' || c == '%') return true;
  }
  return false;
}

nlohmann::json hex_list(const merkle::Proof& p) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& h : p) j.push_back(to_hex(h));
  return j;
}

nlohmann::json window_json(const WindowView& w) {
  const seal::MicroRecord& m = w.micro;
  nlohmann::json types = nlohmann::json::array();
  for (const auto& [type, count] : m.type_counts)
    types.push_back({{"type_id", type},
                     {"type", capture::event_name(static_cast<capture::EventType>(type), 0)},
                     {"count", count}});
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : m.blocks)
    blocks.push_back({{"file", seal::block_dir(m) + "/" + b.file},
                      {"zstd_bytes", b.zstd_bytes},
                      {"raw_bytes", b.raw_bytes},
                      {"event_count", b.event_count}});
  return {{"log_index", m.log_index},
          {"stem_path", seal::stem_path(m)},
          {"micro_file", seal::micro_path(m)},
          {"sig_file", seal::micro_sig_path(m)},
          {"slot_start_ns", m.slot_start_ns},
          {"slot_start", seal::utc_rfc3339(m.slot_start_ns, 0)},
          {"window_ns", m.window_ns},
          {"part", m.part},
          {"first_seq", m.first_seq},
          {"event_count", m.event_count},
          {"loss_count", m.loss_count},
          {"filtered_count", m.filtered_count},
          {"min_wall_ns", m.min_wall_ns},
          {"max_wall_ns", m.max_wall_ns},
          {"micro_root", to_hex(m.micro_root)},
          {"run_id", m.run.run_id},
          {"boot_id", to_hex(m.run.boot_id)},
          {"privacy", m.privacy},
          {"sealed_ns", m.sealed_ns},
          {"type_counts", types},
          {"blocks", blocks},
          {"sealed", w.sealed},
          {"has_blocks", w.has_blocks}};
}

struct EventQuery {
  std::optional<int64_t> from, to;
  std::set<std::string> types;
  std::optional<uint64_t> pid;
  std::string text;
  std::optional<uint64_t> log_index;
  size_t limit = kDefaultEventLimit;
};

Result<EventQuery> parse_event_query(const httplib::Request& req) {
  EventQuery q;
  auto time_param = [&](const char* name, std::optional<int64_t>& out) -> Status {
    if (!req.has_param(name) || req.get_param_value(name).empty()) return {};
    const auto t = cli::parse_time(req.get_param_value(name));
    if (!t) return make_error(std::string("invalid ") + name + ": " + cli::kTimeFormats);
    out = *t;
    return {};
  };
  RITMA_TRY(time_param("from", q.from));
  RITMA_TRY(time_param("to", q.to));
  if (req.has_param("type")) {
    const std::string t = req.get_param_value("type");
    for (size_t start = 0; start <= t.size();) {
      const size_t end = std::min(t.find(',', start), t.size());
      if (end > start) q.types.insert(t.substr(start, end - start));
      start = end + 1;
    }
  }
  auto uint_param = [&](const char* name, std::optional<uint64_t>& out) -> Status {
    if (!req.has_param(name) || req.get_param_value(name).empty()) return {};
    out = parse_u64(req.get_param_value(name));
    if (!out) return make_error(std::string("invalid ") + name + ": expected a number");
    return {};
  };
  RITMA_TRY(uint_param("pid", q.pid));
  RITMA_TRY(uint_param("log_index", q.log_index));
  std::optional<uint64_t> limit;
  RITMA_TRY(uint_param("limit", limit));
  if (limit) q.limit = static_cast<size_t>(std::clamp<uint64_t>(*limit, 1, kMaxEventLimit));
  if (req.has_param("q")) q.text = req.get_param_value("q");
  return q;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool text_matches(const capture::Event& e, const std::string& q) {
  if (q.empty()) return true;
  if (contains(e.comm, q) || contains(e.exe, q) || contains(e.path, q) || contains(e.path2, q) ||
      contains(e.dns_name, q) || contains(e.container_id, q) || contains(e.unit, q) ||
      contains(e.addr.to_string(), q) || contains(std::to_string(e.seq), q))
    return true;
  return std::any_of(e.argv.begin(), e.argv.end(),
                     [&](const std::string& a) { return contains(a, q); });
}

bool window_in_range(const WindowView& w, const EventQuery& q) {
  if (q.log_index && w.micro.log_index != *q.log_index) return false;
  if (!w.has_blocks || w.micro.event_count == 0) return false;
  if (q.to && w.micro.min_wall_ns >= *q.to) return false;
  if (q.from && w.micro.max_wall_ns < *q.from) return false;
  return true;
}

}  // namespace

ViewerServer::ViewerServer(std::unique_ptr<EvidenceSource> source)
    : source_(std::move(source)), http_(std::make_unique<httplib::Server>()) {
  install_routes();
}

ViewerServer::~ViewerServer() = default;

Result<ViewerServer::Bound> ViewerServer::bind(const std::string& host, int port) {
  Bound b;
  if (port > 0 && http_->bind_to_port(host, port)) {
    b.port = port;
    return b;
  }
  b.fell_back = port > 0;
  b.port = http_->bind_to_any_port(host);
  if (b.port <= 0) return make_error("cannot listen on " + host + " (any port)");
  return b;
}

bool ViewerServer::run() {
  return http_->listen_after_bind();
}

void ViewerServer::stop() {
  http_->stop();
}

void ViewerServer::install_routes() {
  httplib::Server& s = *http_;
  s.set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
  });
  s.set_payload_max_length(0);

  // Read-only, and no path that could step outside: refused before any route sees it.
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      send_error(res, 405, "read-only: only GET and HEAD");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (suspicious_path(req.path) || req.target.find('\\') != std::string::npos) {
      send_error(res, 400, "refused path");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) send_error(res, res.status, res.status == 404 ? "not found" : "error");
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });

  for (const auto& f : assets::kFiles) {
    const std::string name = f.name;
    const std::string body(reinterpret_cast<const char*>(f.data), f.size);
    auto handler = [name, body](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(body, mime_type(name));
    };
    s.Get("/" + name, handler);
    if (name == "index.html") s.Get("/", handler);
  }

  EvidenceSource* src = source_.get();

  s.Get("/api/summary", [src](const httplib::Request&, httplib::Response& res) {
    auto snap = src->snapshot();
    if (!snap.ok()) return send_error(res, 500, snap.error().message);
    const Snapshot& sn = **snap;
    uint64_t events = 0, sealed = 0, with_blocks = 0;
    std::optional<int64_t> first, last;
    for (const auto& w : sn.windows) {
      if (w.sealed) ++sealed;
      if (!w.has_blocks) continue;
      ++with_blocks;
      events += w.micro.event_count;
      if (!first) first = w.micro.slot_start_ns;
      last = w.micro.slot_start_ns + static_cast<int64_t>(w.micro.window_ns);
    }
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    send_json(
        res,
        {{"source", {{"kind", src->kind()}, {"path", src->location()}}},
         {"store",
          {{"node_id", sn.store.node_id},
           {"store_id", to_hex(sn.store.store_id)},
           {"window_ns", sn.store.window_ns},
           {"created_ns", sn.store.created_ns}}},
         {"windows", sn.windows.size()},
         {"windows_with_events", with_blocks},
         {"sealed_windows", sealed},
         {"unsealed_windows", sn.windows.size() - sealed},
         {"events", events},
         {"from_ns", opt(first)},
         {"to_ns", opt(last)},
         {"checkpoint",
          {{"size", sn.newest_size}, {"root", sn.newest_root}, {"note", sn.newest_checkpoint}}}});
  });

  s.Get("/api/windows", [src](const httplib::Request&, httplib::Response& res) {
    auto snap = src->snapshot();
    if (!snap.ok()) return send_error(res, 500, snap.error().message);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& w : (*snap)->windows) list.push_back(window_json(w));
    send_json(res, {{"windows", list}, {"checkpoint_size", (*snap)->newest_size}});
  });

  s.Get("/api/events", [src](const httplib::Request& req, httplib::Response& res) {
    auto q = parse_event_query(req);
    if (!q.ok()) return send_error(res, 400, q.error().message);
    auto snap = src->snapshot();
    if (!snap.ok()) return send_error(res, 500, snap.error().message);
    nlohmann::json events = nlohmann::json::array();
    bool truncated = false;
    uint64_t windows_read = 0;
    for (const auto& w : (*snap)->windows) {
      if (truncated) break;
      if (!window_in_range(w, *q)) continue;
      auto atoms = src->window_atoms(w);
      if (!atoms.ok()) return send_error(res, 500, atoms.error().message);
      ++windows_read;
      for (size_t i = 0; i < atoms->size(); ++i) {
        auto e = capture::decode_event_atom((*atoms)[i]);
        if (!e.ok())
          return send_error(res, 500, seal::stem_path(w.micro) + ": " + e.error().message);
        if (q->from && e->wall_ns < *q->from) continue;
        if (q->to && e->wall_ns >= *q->to) continue;
        if (!q->types.empty() && !q->types.count(std::string(capture::event_name(e->type, e->op))))
          continue;
        if (q->pid && e->pid != *q->pid) continue;
        if (!text_matches(*e, q->text)) continue;
        if (events.size() >= q->limit) {
          truncated = true;
          break;
        }
        nlohmann::json j = cli::event_to_json(*e);
        j["log_index"] = w.micro.log_index;
        j["leaf_index"] = i;
        j["sealed"] = w.sealed;
        events.push_back(std::move(j));
      }
    }
    send_json(res, {{"events", events},
                    {"truncated", truncated},
                    {"limit", q->limit},
                    {"windows_read", windows_read}});
  });

  s.Get(R"(/api/event/(\d+)/(\d+)/proof)",
        [src](const httplib::Request& req, httplib::Response& res) {
          const auto log_index = parse_u64(req.matches[1].str());
          const auto leaf_index = parse_u64(req.matches[2].str());
          if (!log_index || !leaf_index) return send_error(res, 400, "bad index");
          auto snap = src->snapshot();
          if (!snap.ok()) return send_error(res, 500, snap.error().message);
          const WindowView* w = (*snap)->find(*log_index);
          if (!w || !w->has_blocks || *leaf_index >= w->micro.event_count)
            return send_error(res, 404, "no such event");
          auto proof = src->event_proof(**snap, *w, *leaf_index);
          if (!proof.ok()) return send_error(res, 409, "no proof: " + proof.error().message);
          const seal::EventProof& p = *proof;
          // The server checks everything, signatures included; the page redoes the hashing itself.
          auto v = seal::verify_event_proof(seal::encode(p));
          nlohmann::json server = {{"ok", v.ok()}};
          if (v.ok()) {
            server["result"] =
                "consistent, signing key NOT pinned (pin it with `ritma verify-event "
                "--key` on a trusted copy of the fingerprint)";
            server["key_name"] = v->key_name;
            server["key_fingerprint"] = v->key_fingerprint;
            server["checkpoint_key_name"] = v->checkpoint_key_name;
            server["checkpoint_key_fingerprint"] = v->checkpoint_key_fingerprint;
            server["checks"] =
                "atom, micro record, event inclusion path, micro signature, checkpoint "
                "signature, window-log inclusion path";
          } else {
            server["error"] = v.error().message;
          }
          nlohmann::json event = nullptr;
          if (auto e = capture::decode_event_atom(p.atom); e.ok()) event = cli::event_to_json(*e);
          send_json(res, {{"log_index", p.log_index},
                          {"leaf_index", p.leaf_index},
                          {"leaf_count", p.leaf_count},
                          {"seq", p.seq},
                          {"window", seal::stem_path(w->micro)},
                          {"atom", to_hex(p.atom)},
                          {"event_path", hex_list(p.event_path)},
                          {"micro", to_hex(p.micro)},
                          {"micro_sig", to_hex(p.micro_sig)},
                          {"log_size", p.log_size},
                          {"log_path", hex_list(p.log_path)},
                          {"checkpoint", p.checkpoint},
                          {"event", event},
                          {"server_verification", server}});
        });

  s.Get("/api/report", [src](const httplib::Request&, httplib::Response& res) {
    auto r = src->report();
    if (!r.ok()) return send_error(res, 500, r.error().message);
    send_json(res, *r);
  });

  s.Get(R"(/api/artifact/(.+))", [src](const httplib::Request& req, httplib::Response& res) {
    const std::string rel = req.matches[1].str();
    const auto kind = safe_artifact_path(rel);
    if (!kind) return send_error(res, 404, "not an artifact this viewer serves");
    auto bytes = src->artifact(rel);
    if (!bytes.ok()) return send_error(res, 404, bytes.error().message);
    nlohmann::json j = {{"path", rel}, {"size", bytes->size()}, {"b3", to_hex(blake3(*bytes))}};
    switch (*kind) {
      case ArtifactKind::kBlock:
        j["kind"] = "block";
        j["note"] = "event blocks are shown as metadata; their events are under /api/events";
        break;
      case ArtifactKind::kCheckpoint:
        j["kind"] = "checkpoint";
        j["text"] = std::string(bytes->begin(), bytes->end());
        break;
      case ArtifactKind::kCbor:
      case ArtifactKind::kSignature:
      case ArtifactKind::kCompressedCbor: {
        j["kind"] = *kind == ArtifactKind::kSignature ? "signature" : "cbor";
        Bytes plain;
        if (*kind == ArtifactKind::kCompressedCbor) {
          auto raw = zstd_decompress(*bytes, kMaxArtifactJsonBytes);
          if (!raw.ok()) return send_error(res, 422, raw.error().message);
          plain = std::move(*raw);
        } else {
          plain = std::move(*bytes);
        }
        auto value = cbor::decode(plain);
        if (!value.ok())
          return send_error(res, 422, "not canonical CBOR: " + value.error().message);
        j["json"] = cbor::to_json(*value);
        break;
      }
    }
    send_json(res, j);
  });
}

}  // namespace ritma::viewer
