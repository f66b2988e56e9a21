#include "api/control_plane.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <semaphore>
#include <system_error>
#include <thread>

#include "api/audit_log.h"
#include "api/db.h"
#include "api/schema.h"
#include "core/blake3_hasher.h"
#include "core/bytes.h"
#include "core/durable_file.h"
#include "core/strict_json.h"
#include "exec/request.h"
#include "requiem/engine.h"

namespace ritma::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ApiResponse json_response(int status, const json& j) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump();
  return r;
}

ApiResponse error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, json{{"error", {{"code", code}, {"message", message}}}});
}

ApiResponse db_unavailable(const DbError& e) {
  // The message may carry SQL detail: logged by the caller, not sent.
  (void)e;
  return error_response(503, "database_unavailable", "the database is unavailable; retry later");
}

std::string new_execution_id() {
  uint8_t r[16];
  randombytes_buf(r, sizeof r);
  return to_hex(ByteSpan(r, sizeof r));
}

bool valid_execution_id(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Idempotency keys: 1..255 bytes of visible ASCII.
bool valid_idempotency_key(std::string_view k) {
  return !k.empty() && k.size() <= 255 &&
         std::all_of(k.begin(), k.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Hash32 blake3_text(std::string_view s) {
  return blake3(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// A fixed-size set of connections, each used by one thread at a time. A connection that
// failed with kConnection is dropped and reopened by the next lease.
class DbPool {
 public:
  static DbResult<std::unique_ptr<DbPool>> open(const std::string& url, size_t n) {
    auto pool = std::unique_ptr<DbPool>(new DbPool(url));
    for (size_t i = 0; i < n; ++i) {
      RITMA_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::open(url));
      pool->free_.push_back(std::move(db));
    }
    return pool;
  }

  class Lease {
   public:
    Lease(DbPool* pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), db_(std::move(o.db_)), broken_(o.broken_) {
      o.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->release(broken_ ? nullptr : std::move(db_));
    }
    Db& db() { return *db_; }
    // Call with every error from this connection: a lost connection is replaced.
    void note(const DbError& e) {
      if (e.kind == DbErrorKind::kConnection) broken_ = true;
    }

   private:
    DbPool* pool_;
    std::unique_ptr<Db> db_;
    bool broken_ = false;
  };

  DbResult<Lease> acquire() {
    std::unique_ptr<Db> db;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      db = std::move(free_.back());
      free_.pop_back();
    }
    if (!db) {
      auto opened = Db::open(url_);
      if (!opened.ok()) {
        release(nullptr);
        return opened.error();
      }
      db = std::move(*opened);
    }
    return Lease(this, std::move(db));
  }

 private:
  explicit DbPool(std::string url) : url_(std::move(url)) {}
  void release(std::unique_ptr<Db> db) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(db));
    }
    cv_.notify_one();
  }
  std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Db>> free_;
};

// Strict query parameters: an unsigned decimal, present once.
std::optional<uint64_t> query_uint(const ApiRequest& req, const std::string& name) {
  if (req.query.count(name) != 1) return std::nullopt;
  const std::string& v = req.query.find(name)->second;
  if (v.empty() || v.size() > 18 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(v);
}

json proof_json(const merkle::Proof& p) {
  json a = json::array();
  for (const Hash32& h : p) a.push_back(to_hex(h));
  return a;
}

struct Reservation {
  int64_t window_start_ns = 0;
  int64_t executions = 0, cpu_ms = 0, wall_ms = 0, output_bytes = 0;
};

struct BudgetRow {
  int64_t executions = 0, cpu_ms = 0, wall_ms = 0, output_bytes = 0;
  std::vector<BudgetEntry> entries() const {
    // Ascending name order, as the audit record requires.
    return {{"cpu_ms", cpu_ms},
            {"executions", executions},
            {"output_bytes", output_bytes},
            {"wall_ms", wall_ms}};
  }
};

// What the admission transaction decided.
struct Admission {
  enum class Kind { kAdmitted, kDenied, kExistingKey } kind = Kind::kAdmitted;
  ApiResponse denial;  // kDenied
  // kExistingKey: the stored request hash and response (status 0 while still running).
  Hash32 stored_hash{};
  int stored_status = 0;
  std::string stored_body;
  // kAdmitted
  std::string id;
  Reservation reserved;
  BudgetRow after;
};

std::string tool_label(const ToolSpec& t) {
  return t.name + "@" + t.version;
}

json execution_json(const DbRow& row) {
  // id, tool, status, request_digest, result_digest, bundle_location, exit_code, created_ns,
  // started_ns, finished_ns
  json j;
  j["id"] = std::get<std::string>(row[0]);
  j["tool"] = std::get<std::string>(row[1]);
  j["status"] = std::get<std::string>(row[2]);
  j["request_digest"] = "blake3:" + to_hex(std::get<Bytes>(row[3]));
  j["result_digest"] = row.is_null(4) ? json(nullptr) : json("blake3:" + to_hex(std::get<Bytes>(row[4])));
  j["bundle"] = row.is_null(5) ? json(nullptr)
                               : json("/v1/executions/" + std::get<std::string>(row[0]) + "/bundle");
  j["exit_code"] = row.is_null(6) ? json(nullptr) : json(std::get<int64_t>(row[6]));
  j["created_ns"] = std::get<int64_t>(row[7]);
  j["started_ns"] = row.is_null(8) ? json(nullptr) : json(std::get<int64_t>(row[8]));
  j["finished_ns"] = row.is_null(9) ? json(nullptr) : json(std::get<int64_t>(row[9]));
  return j;
}

constexpr std::string_view kExecutionColumns =
    "id, tool, status, request_digest, result_digest, bundle_location, exit_code, created_ns, "
    "started_ns, finished_ns";

}  // namespace

struct ControlPlane::Impl {
  ControlPlaneOptions o;
  std::optional<JwtVerifier> verifier;
  std::unique_ptr<DbPool> pool;
  AuditLogConfig audit_config;
  std::counting_semaphore<1024> runs{1};

  explicit Impl(ControlPlaneOptions opts, uint32_t max_runs)
      : o(std::move(opts)), runs(static_cast<std::ptrdiff_t>(max_runs)) {}

  // ---- helpers ----------------------------------------------------------------------------

  AuditRecord record(const Identity& who, std::string action, Decision d, std::string reason,
                     int64_t t0_ns) const {
    AuditRecord r;
    r.time_ns = now_ns();
    r.tenant = who.tenant;
    r.actor = who.actor;
    r.action = std::move(action);
    r.decision = d;
    r.reason = std::move(reason);
    r.latency_ns = r.time_ns > t0_ns ? static_cast<uint64_t>(r.time_ns - t0_ns) : 0;
    return r;
  }

  DbStatus append_audit(Txn& txn, AuditRecord& r) {
    auto w = AuditWriter::create(audit_config);
    if (!w.ok()) return make_db_error(DbErrorKind::kUsage, w.error().message);
    auto a = w->append(txn, r);
    if (!a.ok()) return a.error();
    return {};
  }

  // Runs `fn(txn)` in a tenant write transaction on a leased connection, retried on
  // serialization failures; the connection goes back to the pool right after.
  template <typename Fn>
  auto in_txn(const std::string& tenant, Fn&& fn) -> decltype(fn(std::declval<Txn&>())) {
    auto lease = pool->acquire();
    if (!lease.ok()) return lease.error();
    auto r = lease->db().with_retry(tenant, 8, std::forward<Fn>(fn));
    if (!r.ok()) lease->note(r.error());
    return r;
  }

  // A denial of an authenticated request, recorded in its own transaction.
  ApiResponse deny(const Identity& who, std::string action, std::string tool,
                   std::optional<Hash32> input, int64_t t0, ApiResponse response,
                   std::string reason) {
    auto st = in_txn(who.tenant, [&](Txn& txn) -> DbStatus {
      AuditRecord r = record(who, action, Decision::kDeny, reason, t0);
      r.tool = tool;
      r.input_digest = input;
      return append_audit(txn, r);
    });
    if (!st.ok()) return db_unavailable(st.error());
    return response;
  }

  std::optional<ApiResponse> authenticate(const ApiRequest& req, Identity& who) {
    if (o.dev_mode) {
      who.tenant = req.tenant_header.value_or("dev");
      who.actor = "dev";
      if (!valid_tenant(who.tenant))
        return error_response(400, "bad_tenant", "the tenant header is not a valid tenant name");
      return std::nullopt;
    }
    auto unauthorized = [](std::string_view error, std::string_view message) {
      ApiResponse r = error_response(401, "unauthorized", message);
      r.headers.emplace_back("WWW-Authenticate",
                             error.empty() ? std::string("Bearer realm=\"requiem\"")
                                           : "Bearer realm=\"requiem\", error=\"" +
                                                 std::string(error) + "\"");
      return r;
    };
    if (!req.authorization) return unauthorized("", "an Authorization: Bearer token is required");
    std::string_view h = *req.authorization;
    if (h.size() < 7 || strncasecmp(h.data(), "Bearer ", 7) != 0)
      return unauthorized("invalid_request", "the Authorization header must be \"Bearer TOKEN\"");
    h.remove_prefix(7);
    while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
    TokenResult t = verifier->verify(h);
    if (!t.ok()) {
      return unauthorized("invalid_token", "invalid token: " +
                                               std::string(token_error_name(t.error().kind)) +
                                               ": " + t.error().message);
    }
    who.tenant = t->tenant;
    who.actor = t->actor;
    return std::nullopt;
  }

  // The budget row of one window, locked for the transaction when `lock` (SELECT ... FOR UPDATE
  // on PostgreSQL; a SQLite write transaction already holds the database's lock); the row must
  // then exist. nullopt when not locking and there is no row.
  DbResult<std::optional<BudgetRow>> budget_row(Txn& txn, int64_t window_start, bool lock) {
    RITMA_ASSIGN_OR_RETURN(
        DbRows rows,
        txn.query(std::string("SELECT executions, cpu_ms, wall_ms, output_bytes FROM budgets "
                              "WHERE tenant = $1 AND window_start_ns = $2") +
                      (lock && txn_is_pg ? " FOR UPDATE" : ""),
                  {DbValue(window_start)}));
    if (rows.empty()) {
      if (lock) return make_db_error(DbErrorKind::kNotFound, "no budget row for the window");
      return std::optional<BudgetRow>();
    }
    BudgetRow b;
    RITMA_ASSIGN_OR_RETURN(b.executions, rows[0].get_int(0));
    RITMA_ASSIGN_OR_RETURN(b.cpu_ms, rows[0].get_int(1));
    RITMA_ASSIGN_OR_RETURN(b.wall_ms, rows[0].get_int(2));
    RITMA_ASSIGN_OR_RETURN(b.output_bytes, rows[0].get_int(3));
    return std::optional<BudgetRow>(b);
  }

  // The audit record of an execution decision, with the budget around it.
  DbStatus audit_exec(Txn& txn, const Identity& who, std::string action, Decision d,
                      std::string reason, const ToolSpec& tool, const Hash32& req_hash,
                      const BudgetRow& before, const BudgetRow& after, int64_t t0,
                      std::optional<Hash32> result = std::nullopt) {
    AuditRecord r = record(who, std::move(action), d, std::move(reason), t0);
    r.tool = tool_label(tool);
    r.input_digest = req_hash;
    r.result_digest = result;
    r.budget_before = before.entries();
    r.budget_after = after.entries();
    return append_audit(txn, r);
  }

  // ---- reads ------------------------------------------------------------------------------

  template <typename Fn>
  ApiResponse read(const std::string& tenant, Fn&& fn) {
    auto lease = pool->acquire();
    if (!lease.ok()) return db_unavailable(lease.error());
    auto txn = lease->db().begin(tenant, TxnMode::kRead);
    if (!txn.ok()) {
      lease->note(txn.error());
      return db_unavailable(txn.error());
    }
    DbResult<ApiResponse> r = fn(*txn);
    if (!r.ok()) {
      lease->note(r.error());
      return db_unavailable(r.error());
    }
    (void)txn->commit();
    return std::move(*r);
  }

  ApiResponse get_execution(const Identity& who, const std::string& id) {
    if (!valid_execution_id(id)) return error_response(404, "not_found", "no such execution");
    return read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      RITMA_ASSIGN_OR_RETURN(
          DbRows rows, txn.query("SELECT " + std::string(kExecutionColumns) +
                                     " FROM executions WHERE tenant = $1 AND id = $2",
                                 {DbValue(id)}));
      if (rows.empty()) return error_response(404, "not_found", "no such execution");
      return json_response(200, execution_json(rows[0]));
    });
  }

  ApiResponse list_executions(const Identity& who, const ApiRequest& req) {
    uint64_t limit = 100;
    if (req.query.count("limit")) {
      auto l = query_uint(req, "limit");
      if (!l || *l < 1 || *l > 1000)
        return error_response(400, "bad_request", "limit: an integer in [1, 1000]");
      limit = *l;
    }
    return read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      RITMA_ASSIGN_OR_RETURN(
          DbRows rows,
          txn.query("SELECT " + std::string(kExecutionColumns) +
                        " FROM executions WHERE tenant = $1 ORDER BY created_ns DESC, id LIMIT $2",
                    {DbValue(static_cast<int64_t>(limit))}));
      json items = json::array();
      for (const DbRow& r : rows.rows) items.push_back(execution_json(r));
      return json_response(200, json{{"executions", items}});
    });
  }

  ApiResponse get_bundle(const Identity& who, const std::string& id) {
    if (!valid_execution_id(id)) return error_response(404, "not_found", "no such execution");
    std::optional<std::string> location;
    ApiResponse r = read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      RITMA_ASSIGN_OR_RETURN(
          DbRows rows,
          txn.query("SELECT bundle_location FROM executions WHERE tenant = $1 AND id = $2",
                    {DbValue(id)}));
      if (rows.empty()) return error_response(404, "not_found", "no such execution");
      RITMA_ASSIGN_OR_RETURN(location, rows[0].get_opt_text(0));
      return ApiResponse{};
    });
    if (r.status != 200) return r;
    if (!location) return error_response(409, "no_bundle", "the execution has no bundle (yet)");
    // The row says where; the path must still be one of this tenant's bundles (a database
    // edited by hand must not make the server read other files).
    const fs::path rel = fs::path(*location).lexically_normal();
    const fs::path bundles = fs::path("tenants") / who.tenant / "bundles";
    if (rel.parent_path() != bundles || rel.filename().string().starts_with(".")) {
      return error_response(500, "bundle_unreadable", "the execution's bundle location is invalid");
    }
    const fs::path dir = o.state_dir / rel;
    json files = json::object();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (!e.is_regular_file()) continue;
      auto bytes = read_file(e.path(), 16 << 20);
      if (!bytes.ok()) return error_response(500, "bundle_unreadable", "the bundle cannot be read");
      files[e.path().filename().string()] = to_base64(*bytes);
    }
    if (ec) return error_response(500, "bundle_unreadable", "the bundle cannot be read");
    return json_response(200, json{{"id", id},
                                   {"bundle_id", fs::path(*location).filename().string()},
                                   {"encoding", "base64"},
                                   {"files", files}});
  }

  ApiResponse get_budget(const Identity& who) {
    const BudgetSpec& b = o.config.budget_for(who.tenant);
    const int64_t now = now_ns();
    const int64_t window_ns = static_cast<int64_t>(b.window_seconds) * 1'000'000'000;
    const int64_t start = now - now % window_ns;
    return read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      RITMA_ASSIGN_OR_RETURN(std::optional<BudgetRow> row, budget_row(txn, start, false));
      const BudgetRow used = row.value_or(BudgetRow{});
      RITMA_ASSIGN_OR_RETURN(
          DbRows bucket,
          txn.query("SELECT tokens, updated_ns FROM rate_buckets WHERE tenant = $1"));
      double tokens = b.burst;
      if (!bucket.empty()) {
        RITMA_ASSIGN_OR_RETURN(double t, bucket[0].get_double(0));
        RITMA_ASSIGN_OR_RETURN(int64_t at, bucket[0].get_int(1));
        tokens = std::min(b.burst, t + std::max<int64_t>(0, now - at) * b.rate_per_second / 1e9);
      }
      json j{{"tenant", who.tenant},
             {"window", {{"start_ns", start}, {"seconds", b.window_seconds}}},
             {"executions", {{"used", used.executions}, {"limit", b.max_executions}}},
             {"cpu_ms", {{"used", used.cpu_ms}, {"limit", b.max_cpu_seconds * 1000}}},
             {"wall_ms", {{"used", used.wall_ms}, {"limit", b.max_wall_seconds * 1000}}},
             {"output_bytes", {{"used", used.output_bytes}, {"limit", b.max_output_bytes}}},
             {"rate", {{"tokens", tokens}, {"burst", b.burst}, {"per_second", b.rate_per_second}}},
             {"note", "cpu, wall and output are reserved at the tools' limits when a run is "
                      "admitted and settled to what it used when it ends"}};
      return json_response(200, j);
    });
  }

  ApiResponse get_tools(const Identity& who) {
    json items = json::array();
    for (const ToolSpec* t : o.config.tools_for(who.tenant)) {
      items.push_back(json{{"name", t->name},
                           {"version", t->version},
                           {"command", t->command},
                           {"profile", t->profile},
                           {"deterministic", t->deterministic},
                           {"idempotent", t->idempotent},
                           {"tenant_scoped", t->tenant_scoped()},
                           {"output_max_bytes", t->output_max_bytes},
                           {"cost", t->cost},
                           {"timeout_ms", t->timeout_ms},
                           {"cpu_seconds", t->cpu_seconds},
                           {"memory_mb", t->memory_mb},
                           {"max_args", t->max_args},
                           {"trace", t->trace}});
    }
    return json_response(200, json{{"tools", items}});
  }

  ApiResponse audit_checkpoint(const Identity& who) {
    return read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      RITMA_ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> c, latest_checkpoint(txn));
      if (!c) return error_response(404, "not_found", "no checkpoint has been written yet");
      return json_response(200, json{{"tree_size", c->tree_size},
                                     {"root", to_hex(c->root)},
                                     {"time_ns", c->time_ns},
                                     {"checkpoint", c->note}});
    });
  }

  ApiResponse audit_proof(const Identity& who, const ApiRequest& req) {
    auto seq = query_uint(req, "seq");
    if (!seq) return error_response(400, "bad_request", "seq: a record number is required");
    return read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      auto p = audit_inclusion_proof(txn, *seq);
      if (!p.ok()) {
        if (p.error().kind == DbErrorKind::kConnection) return p.error();
        return error_response(404, "not_found",
                              "no checkpointed record " + std::to_string(*seq) + " of yours");
      }
      // Records of other tenants are not disclosed: same answer as a missing one.
      auto rec = decode_record(p->canonical);
      if (!rec.ok() || rec->tenant != who.tenant) {
        return error_response(404, "not_found",
                              "no checkpointed record " + std::to_string(*seq) + " of yours");
      }
      return json_response(200, json{{"seq", p->seq},
                                     {"record", to_base64(p->canonical)},
                                     {"tree_size", p->tree_size},
                                     {"path", proof_json(p->path)},
                                     {"checkpoint", p->checkpoint}});
    });
  }

  ApiResponse audit_consistency(const Identity& who, const ApiRequest& req) {
    auto from = query_uint(req, "from"), to = query_uint(req, "to");
    if (!from || !to || *from > *to)
      return error_response(400, "bad_request", "from and to: record counts with from <= to");
    return read(who.tenant, [&](Txn& txn) -> DbResult<ApiResponse> {
      auto p = audit_consistency_proof(txn, *from, *to);
      if (!p.ok()) {
        if (p.error().kind == DbErrorKind::kConnection) return p.error();
        return error_response(404, "not_found", p.error().message);
      }
      return json_response(200, json{{"from", p->old_size},
                                     {"to", p->new_size},
                                     {"path", proof_json(p->path)},
                                     {"old_checkpoint", p->old_checkpoint},
                                     {"new_checkpoint", p->new_checkpoint}});
    });
  }

  // ---- executions -------------------------------------------------------------------------

  // Admission: the idempotency key, the token bucket and the budget, the execution row and the
  // audit record, all in one write transaction.
  DbResult<Admission> admit(Txn& txn, const Identity& who, const ToolSpec& tool,
                            const std::optional<std::string>& key, const Hash32& req_hash,
                            int64_t t0) {
    const bool pg = txn_is_pg;
    const std::string lock = pg ? " FOR UPDATE" : "";
    const int64_t now = now_ns();
    Admission a;
    if (key) {
      RITMA_ASSIGN_OR_RETURN(
          DbRows rows, txn.query("SELECT request_hash, response_status, response_body, expires_ns "
                                 "FROM idempotency_keys WHERE tenant = $1 AND key = $2" +
                                     lock,
                                 {DbValue(*key)}));
      if (!rows.empty()) {
        RITMA_ASSIGN_OR_RETURN(int64_t expires, rows[0].get_int(3));
        if (expires > now) {
          a.kind = Admission::Kind::kExistingKey;
          RITMA_ASSIGN_OR_RETURN(Bytes h, rows[0].get_bytes(0));
          if (h.size() == 32) std::copy(h.begin(), h.end(), a.stored_hash.begin());
          RITMA_ASSIGN_OR_RETURN(std::optional<int64_t> st, rows[0].get_opt_int(1));
          a.stored_status = st ? static_cast<int>(*st) : 0;
          RITMA_ASSIGN_OR_RETURN(std::optional<Bytes> body, rows[0].get_opt_bytes(2));
          if (body) a.stored_body.assign(body->begin(), body->end());
          return a;
        }
        RITMA_TRY(txn.query("DELETE FROM idempotency_keys WHERE tenant = $1 AND key = $2",
                            {DbValue(*key)}));
      }
    }
    const BudgetSpec& b = o.config.budget_for(who.tenant);
    auto denied = [&](int status, std::string code, std::string message,
                      const BudgetRow& before) -> DbResult<Admission> {
      RITMA_TRY(audit_exec(txn, who, "exec", Decision::kDeny, code + ": " + message, tool,
                           req_hash, before, before, t0));
      a.kind = Admission::Kind::kDenied;
      a.denial = error_response(status, code, message);
      return a;
    };

    // The token bucket.
    RITMA_TRY(txn.query(
        "INSERT INTO rate_buckets (tenant, tokens, updated_ns) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant) DO NOTHING",
        {DbValue(b.burst), DbValue(now)}));
    RITMA_ASSIGN_OR_RETURN(
        DbRows bucket,
        txn.query("SELECT tokens, updated_ns FROM rate_buckets WHERE tenant = $1" + lock));
    RITMA_ASSIGN_OR_RETURN(const DbRow* brow, bucket.one());
    RITMA_ASSIGN_OR_RETURN(double tokens, brow->get_double(0));
    RITMA_ASSIGN_OR_RETURN(int64_t at, brow->get_int(1));
    tokens = std::min(b.burst, tokens + std::max<int64_t>(0, now - at) * b.rate_per_second / 1e9);

    // The budget window.
    const int64_t window_ns = static_cast<int64_t>(b.window_seconds) * 1'000'000'000;
    const int64_t start = now - now % window_ns;
    RITMA_TRY(txn.query(
        "INSERT INTO budgets (tenant, window_start_ns, window_ns, max_executions, max_cpu_ms, "
        "max_wall_ms, max_output_bytes, updated_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (tenant, window_start_ns) DO NOTHING",
        {DbValue(start), DbValue(window_ns), DbValue(static_cast<int64_t>(b.max_executions)),
         DbValue(static_cast<int64_t>(b.max_cpu_seconds * 1000)),
         DbValue(static_cast<int64_t>(b.max_wall_seconds * 1000)),
         DbValue(static_cast<int64_t>(b.max_output_bytes)), DbValue(now)}));
    RITMA_ASSIGN_OR_RETURN(std::optional<BudgetRow> locked, budget_row(txn, start, true));
    const BudgetRow before = *locked;

    if (tokens < 1.0) {
      const double wait_s = (1.0 - tokens) / b.rate_per_second;
      auto d = denied(429, "rate_limited",
                      "the tenant's request rate is over its limit (" +
                          std::to_string(b.rate_per_second) + "/s, burst " +
                          std::to_string(b.burst) + ")",
                      before);
      if (d.ok()) {
        d->denial.headers.emplace_back("Retry-After",
                                       std::to_string(static_cast<int64_t>(wait_s) + 1));
      }
      return d;
    }
    RITMA_TRY(txn.query("UPDATE rate_buckets SET tokens = $2, updated_ns = $3 WHERE tenant = $1",
                        {DbValue(tokens - 1.0), DbValue(now)}));

    Reservation res;
    res.window_start_ns = start;
    res.executions = static_cast<int64_t>(tool.cost);
    res.cpu_ms = static_cast<int64_t>(tool.cpu_seconds * 1000);
    res.wall_ms = static_cast<int64_t>(tool.timeout_ms);
    res.output_bytes = static_cast<int64_t>(2 * tool.output_max_bytes);
    BudgetRow after = before;
    after.executions += res.executions;
    after.cpu_ms += res.cpu_ms;
    after.wall_ms += res.wall_ms;
    after.output_bytes += res.output_bytes;
    auto over = [&](const char* what, int64_t used, int64_t need, uint64_t limit) {
      return std::string(what) + " " + std::to_string(used) + " used + " + std::to_string(need) +
             " for this run > limit " + std::to_string(limit);
    };
    std::string exhausted;
    if (after.executions > static_cast<int64_t>(b.max_executions))
      exhausted = over("executions", before.executions, res.executions, b.max_executions);
    else if (after.cpu_ms > static_cast<int64_t>(b.max_cpu_seconds * 1000))
      exhausted = over("cpu_ms", before.cpu_ms, res.cpu_ms, b.max_cpu_seconds * 1000);
    else if (after.wall_ms > static_cast<int64_t>(b.max_wall_seconds * 1000))
      exhausted = over("wall_ms", before.wall_ms, res.wall_ms, b.max_wall_seconds * 1000);
    else if (after.output_bytes > static_cast<int64_t>(b.max_output_bytes))
      exhausted = over("output_bytes", before.output_bytes, res.output_bytes, b.max_output_bytes);
    if (!exhausted.empty()) {
      auto d = denied(429, "budget_exhausted", "budget of this window: " + exhausted, before);
      if (d.ok()) {
        const int64_t retry = (start + window_ns - now) / 1'000'000'000 + 1;
        d->denial.headers.emplace_back("Retry-After", std::to_string(retry));
      }
      return d;
    }
    RITMA_TRY(txn.query(
        "UPDATE budgets SET executions = $3, cpu_ms = $4, wall_ms = $5, output_bytes = $6, "
        "updated_ns = $7 WHERE tenant = $1 AND window_start_ns = $2",
        {DbValue(start), DbValue(after.executions), DbValue(after.cpu_ms), DbValue(after.wall_ms),
         DbValue(after.output_bytes), DbValue(now)}));

    a.id = new_execution_id();
    RITMA_TRY(txn.query(
        "INSERT INTO executions (tenant, id, tool, status, request_digest, created_ns, "
        "started_ns, updated_ns) VALUES ($1, $2, $3, 'running', $4, $5, $5, $5)",
        {DbValue(a.id), DbValue(tool_label(tool)), DbValue(Bytes(req_hash.begin(), req_hash.end())),
         DbValue(now)}));
    if (key) {
      const int64_t expires =
          now + static_cast<int64_t>(o.config.idempotency_ttl_seconds) * 1'000'000'000;
      RITMA_TRY(txn.query(
          "INSERT INTO idempotency_keys (tenant, key, request_hash, execution_id, created_ns, "
          "expires_ns) VALUES ($1, $2, $3, $4, $5, $6)",
          {DbValue(*key), DbValue(Bytes(req_hash.begin(), req_hash.end())), DbValue(a.id),
           DbValue(now), DbValue(expires)}));
    }
    RITMA_TRY(audit_exec(txn, who, "exec", Decision::kAllow, "admitted " + a.id, tool, req_hash,
                         before, after, t0));
    a.kind = Admission::Kind::kAdmitted;
    a.reserved = res;
    a.after = after;
    return a;
  }

  bool txn_is_pg = false;

  struct RunOutcome {
    std::string status;  // "succeeded", "failed", "error"
    std::optional<int64_t> exit_code;
    std::optional<Hash32> result_digest;
    std::optional<std::string> bundle_location;  // relative to the state dir
    int64_t cpu_ms = 0, wall_ms = 0, output_bytes = 0;
    json detail;
  };

  RunOutcome run(const Identity& who, const ToolSpec& tool, const ExecutionBody& body,
                 const std::string& id) {
    RunOutcome out;
    const fs::path tenant_dir = o.state_dir / "tenants" / who.tenant;
    const fs::path work = tenant_dir / "work" / id;
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) {
      out.status = "error";
      out.detail = {{"error", "cannot create the workspace"}};
      return out;
    }
    requiem::ExecOptions eo;
    exec::Request& r = eo.request;
    r.command = tool.command[0];
    for (size_t i = 1; i < tool.command.size(); ++i) {
      if (tool.command[i] == "{args}") {
        r.args.insert(r.args.end(), body.args.begin(), body.args.end());
      } else {
        r.args.push_back(tool.command[i]);
      }
    }
    r.env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    r.workspace = fs::weakly_canonical(work, ec).string();
    r.limits.wall_timeout_ms = tool.timeout_ms;
    r.limits.cpu_seconds = tool.cpu_seconds;
    r.limits.memory_bytes = tool.memory_mb << 20;
    r.limits.pids = tool.pids;
    r.limits.output_bytes = tool.output_max_bytes;
    r.seccomp_profile = tool.profile;
    r.label = "requiem serve " + who.tenant + " " + tool_label(tool) + " " + id;
    eo.state_dir = tenant_dir;
    eo.trace = tool.trace && !o.force_no_trace ? requiem::TraceMode::kOn
                                                : requiem::TraceMode::kOff;
    Result<requiem::ExecResult> res = make_error("not run");
    if (auto st = exec::validate(r); !st.ok()) {
      res = st.error();
    } else {
      runs.acquire();
      res = requiem::execute(eo, *o.signing_key);
      runs.release();
    }
    fs::remove_all(work, ec);
    if (!res.ok()) {
      out.status = "error";
      out.detail = {{"error", res.error().message}};
      return out;
    }
    const exec::SandboxOutcome& so = res->outcome;
    const bool ok = so.termination == "exit" && so.exit_code == 0;
    out.status = ok ? "succeeded" : "failed";
    if (so.termination == "exit") out.exit_code = so.exit_code;
    out.result_digest = blake3_text(res->envelope_text);
    out.bundle_location = fs::relative(res->bundle_dir, o.state_dir, ec).string();
    if (ec) out.bundle_location = res->bundle_dir.string();
    const int64_t cpu_us = so.cgroup_cpu_usec >= 0 ? so.cgroup_cpu_usec
                                                   : so.user_cpu_us + so.system_cpu_us;
    out.cpu_ms = (cpu_us + 999) / 1000;
    out.wall_ms = static_cast<int64_t>(so.wall_seconds * 1000.0 + 0.999);
    out.output_bytes = static_cast<int64_t>(so.stdout_bytes + so.stderr_bytes);
    out.detail = {{"termination", so.termination},
                  {"exit_code", so.termination == "exit" ? json(so.exit_code) : json(nullptr)},
                  {"signal", so.termination == "signal" ? json(so.signal) : json(nullptr)},
                  {"limits_hit", so.limits_hit},
                  {"wall_seconds", so.wall_seconds},
                  {"stdout", so.stdout_data.size() <= 65536 ? json(so.stdout_data) : json(nullptr)},
                  {"stdout_bytes", so.stdout_bytes},
                  {"stderr_bytes", so.stderr_bytes},
                  {"bundle_id", res->exec_id},
                  {"engine_request_digest", "blake3:" + to_hex(res->digest.blake3)}};
    return out;
  }

  DbStatus settle(Txn& txn, const Identity& who, const ToolSpec& tool, const Admission& a,
                  const RunOutcome& out, const std::optional<std::string>& key,
                  const Hash32& req_hash, const ApiResponse& response, int64_t t0) {
    const std::string lock = txn_is_pg ? " FOR UPDATE" : "";
    const int64_t now = now_ns();
    RITMA_TRY(txn.query(
        "UPDATE executions SET status = $3, result_digest = $4, bundle_location = $5, "
        "exit_code = $6, finished_ns = $7, updated_ns = $7 WHERE tenant = $1 AND id = $2",
        {DbValue(a.id), DbValue(out.status),
         out.result_digest ? DbValue(Bytes(out.result_digest->begin(), out.result_digest->end()))
                           : DbValue(DbNull{}),
         out.bundle_location ? DbValue(*out.bundle_location) : DbValue(DbNull{}),
         out.exit_code ? DbValue(*out.exit_code) : DbValue(DbNull{}), DbValue(now)}));
    RITMA_ASSIGN_OR_RETURN(std::optional<BudgetRow> locked,
                           budget_row(txn, a.reserved.window_start_ns, true));
    const BudgetRow before = *locked;
    BudgetRow after = before;
    // The reservation is replaced by what the run used (never more than reserved).
    after.cpu_ms = std::max<int64_t>(
        0, before.cpu_ms - a.reserved.cpu_ms + std::min(out.cpu_ms, a.reserved.cpu_ms));
    after.wall_ms = std::max<int64_t>(
        0, before.wall_ms - a.reserved.wall_ms + std::min(out.wall_ms, a.reserved.wall_ms));
    after.output_bytes = std::max<int64_t>(
        0, before.output_bytes - a.reserved.output_bytes +
               std::min(out.output_bytes, a.reserved.output_bytes));
    RITMA_TRY(txn.query(
        "UPDATE budgets SET cpu_ms = $3, wall_ms = $4, output_bytes = $5, updated_ns = $6 "
        "WHERE tenant = $1 AND window_start_ns = $2",
        {DbValue(a.reserved.window_start_ns), DbValue(after.cpu_ms), DbValue(after.wall_ms),
         DbValue(after.output_bytes), DbValue(now)}));
    if (key) {
      RITMA_TRY(txn.query(
          "UPDATE idempotency_keys SET response_status = $3, response_body = $4 "
          "WHERE tenant = $1 AND key = $2",
          {DbValue(*key), DbValue(static_cast<int64_t>(response.status)),
           DbValue(Bytes(response.body.begin(), response.body.end()))}));
    }
    return audit_exec(txn, who, "exec.result", Decision::kAllow, a.id + " " + out.status, tool,
                      req_hash, before, after, t0, out.result_digest);
  }

  ApiResponse replay_stored(const Admission& a) {
    ApiResponse r;
    r.status = a.stored_status;
    r.body = a.stored_body;
    r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
  }

  ApiResponse post_execution(const Identity& who, const ApiRequest& req, int64_t t0) {
    auto body = parse_execution_body(req.body, static_cast<int>(o.config.max_json_depth));
    if (!body.ok()) {
      return deny(who, "exec", "", std::nullopt, t0,
                  error_response(400, "bad_request", body.error().message), body.error().message);
    }
    const ToolSpec* tool = o.config.find_tool(who.tenant, body->tool, body->version);
    const json canonical{{"tool", body->tool}, {"version", body->version}, {"args", body->args}};
    const Hash32 req_hash = blake3_text(canonical.dump());
    if (!tool) {
      std::string m = "no tool " + body->tool + (body->version.empty() ? "" : "@" + body->version);
      return deny(who, "exec", body->tool, req_hash, t0, error_response(404, "unknown_tool", m), m);
    }
    if (body->args.size() > tool->max_args) {
      std::string m = "at most " + std::to_string(tool->max_args) + " arguments";
      return deny(who, "exec", tool_label(*tool), req_hash, t0,
                  error_response(400, "bad_request", m), m);
    }
    for (const std::string& arg : body->args) {
      if (arg.size() > tool->max_arg_bytes || arg.find('\0') != std::string::npos) {
        std::string m = "an argument is longer than " + std::to_string(tool->max_arg_bytes) +
                        " bytes or holds a NUL";
        return deny(who, "exec", tool_label(*tool), req_hash, t0,
                    error_response(400, "bad_request", m), m);
      }
    }
    if (req.idempotency_key && !valid_idempotency_key(*req.idempotency_key)) {
      return error_response(400, "bad_request",
                            "Idempotency-Key: 1 to 255 visible ASCII characters");
    }
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(tool->timeout_ms) + std::chrono::seconds(60);
    Admission a;
    for (int round = 0;; ++round) {
      auto adm = in_txn(who.tenant, [&](Txn& txn) {
        return admit(txn, who, *tool, req.idempotency_key, req_hash, t0);
      });
      if (!adm.ok()) {
        // A concurrent request inserted the same key first: read it back.
        if (adm.error().kind == DbErrorKind::kUniqueViolation && req.idempotency_key) continue;
        return db_unavailable(adm.error());
      }
      a = std::move(*adm);
      if (a.kind == Admission::Kind::kDenied) return a.denial;
      if (a.kind == Admission::Kind::kAdmitted) break;
      // An existing key.
      if (a.stored_hash != req_hash) {
        std::string m = "Idempotency-Key was used with a different request";
        return deny(who, "exec", tool_label(*tool), req_hash, t0,
                    error_response(409, "idempotency_conflict", m), m);
      }
      if (a.stored_status != 0) return replay_stored(a);
      if (std::chrono::steady_clock::now() > deadline) {
        return error_response(409, "idempotency_in_progress",
                              "a request with this Idempotency-Key is still running");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20 + 10 * round, 200)));
    }

    RunOutcome out = run(who, *tool, *body, a.id);
    json j{{"id", a.id},
           {"tool", tool->name},
           {"version", tool->version},
           {"status", out.status},
           {"exit_code", out.exit_code ? json(*out.exit_code) : json(nullptr)},
           {"result_digest",
            out.result_digest ? json("blake3:" + to_hex(*out.result_digest)) : json(nullptr)},
           {"request_digest", "blake3:" + to_hex(req_hash)},
           {"bundle", out.bundle_location ? json("/v1/executions/" + a.id + "/bundle")
                                          : json(nullptr)},
           {"run", out.detail}};
    ApiResponse response = json_response(out.status == "error" ? 500 : 201, j);
    if (out.status != "error") response.headers.emplace_back("Location", "/v1/executions/" + a.id);
    auto st = in_txn(who.tenant, [&](Txn& txn) {
      return settle(txn, who, *tool, a, out, req.idempotency_key, req_hash, response, t0);
    });
    if (!st.ok()) {
      return error_response(500, "settle_failed",
                            "the run finished (execution " + a.id +
                                ") but its result could not be recorded; its budget stays "
                                "reserved");
    }
    return response;
  }
};

ControlPlane::ControlPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlPlane::~ControlPlane() = default;

const ControlPlaneOptions& ControlPlane::options() const {
  return impl_->o;
}

Result<std::unique_ptr<ControlPlane>> ControlPlane::create(ControlPlaneOptions options) {
  if (sodium_init() < 0) return make_error("libsodium failed to initialize");
  const uint32_t max_runs = options.config.max_concurrent_runs;
  auto impl = std::make_unique<Impl>(std::move(options), max_runs);
  ControlPlaneOptions& o = impl->o;
  if (!o.dev_mode) {
    if (!o.config.auth) {
      return make_error("the configuration has no \"auth\" section: give one, or run with --dev "
                        "on a loopback address");
    }
    RITMA_ASSIGN_OR_RETURN(JwtVerifier v, make_verifier(*o.config.auth));
    impl->verifier.emplace(std::move(v));
  }
  {
    auto url = parse_db_url(o.db_url);
    if (!url.ok()) return Error(url.error());
    impl->txn_is_pg = url->backend == DbBackend::kPostgres;
    auto db = Db::open(o.db_url);
    if (!db.ok()) return make_error("database " + url->redacted + ": " + db.error().message);
    auto version = schema_version(**db);
    if (!version.ok()) return make_error("database " + url->redacted + ": " + version.error().message);
    const int64_t newest = builtin_migrations().back().version;
    if (*version < newest) {
      if (url->backend == DbBackend::kPostgres) {
        return make_error("database " + url->redacted + " is at schema version " +
                          std::to_string(*version) + ", this program needs " +
                          std::to_string(newest) +
                          ": run `requiem migrate --db URL` as the database's owner role");
      }
      auto m = apply_migrations(**db);
      if (!m.ok()) return make_error("database " + url->redacted + ": migrations: " + m.error().message);
    } else if (*version > newest) {
      return make_error("database " + url->redacted + " has schema version " +
                        std::to_string(*version) + ", newer than this program's " +
                        std::to_string(newest));
    }
    auto pool = DbPool::open(o.db_url, o.config.db_connections);
    if (!pool.ok()) return make_error("database " + url->redacted + ": " + pool.error().message);
    impl->pool = std::move(*pool);
  }
  impl->audit_config.origin = audit_origin(o.config.audit_log_name);
  if (!o.signing_key) return make_error("no signing key");
  impl->audit_config.signer = &*impl->o.signing_key;
  impl->audit_config.checkpoint_every = o.config.audit_checkpoint_every;
  impl->audit_config.checkpoint_interval_ns =
      static_cast<int64_t>(o.config.audit_checkpoint_interval_ms) * 1'000'000;
  RITMA_TRY(AuditWriter::create(impl->audit_config));
  std::error_code ec;
  fs::create_directories(o.state_dir / "tenants", ec);
  if (ec) return make_error("state dir " + o.state_dir.string() + ": " + ec.message());
  return std::unique_ptr<ControlPlane>(new ControlPlane(std::move(impl)));
}

Status ControlPlane::checkpoint_now() {
  Impl& m = *impl_;
  auto lease = m.pool->acquire();
  if (!lease.ok()) return Error(lease.error());
  auto txn = lease->db().begin_admin();
  if (!txn.ok()) return Error(txn.error());
  RITMA_ASSIGN_OR_RETURN(AuditWriter w, AuditWriter::create(m.audit_config));
  auto c = w.checkpoint(*txn, now_ns());
  if (!c.ok()) return Error(c.error());
  auto st = txn->commit();
  if (!st.ok()) return Error(st.error());
  return {};
}

ApiResponse ControlPlane::handle(const ApiRequest& req) {
  Impl& m = *impl_;
  const int64_t t0 = now_ns();
  const std::string& p = req.path;
  auto method_not_allowed = [](std::string allow) {
    ApiResponse r = error_response(405, "method_not_allowed", "allowed: " + allow);
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  };
  if (p == "/healthz") {
    if (req.method != "GET") return method_not_allowed("GET");
    return json_response(200, json{{"status", "ok"}});
  }
  if (p == "/readyz") {
    if (req.method != "GET") return method_not_allowed("GET");
    auto lease = m.pool->acquire();
    if (!lease.ok()) return json_response(503, json{{"status", "unavailable"}});
    auto txn = lease->db().begin_admin(TxnMode::kRead);
    if (txn.ok()) {
      auto r = txn->query("SELECT 1");
      if (r.ok()) {
        (void)txn->commit();
        return json_response(200, json{{"status", "ready"}});
      }
      lease->note(r.error());
    } else {
      lease->note(txn.error());
    }
    return json_response(503, json{{"status", "unavailable"}});
  }
  if (!p.starts_with("/v1/")) return error_response(404, "not_found", "no such endpoint");

  Identity who;
  if (auto denied = m.authenticate(req, who)) return *denied;
  if (!m.o.dev_mode && req.tenant_header && *req.tenant_header != who.tenant) {
    return m.deny(who, "auth", "", std::nullopt, t0,
                  error_response(403, "tenant_mismatch",
                                 "the tenant header disagrees with the token's tenant"),
                  "tenant header \"" + req.tenant_header->substr(0, 64) + "\" != token tenant");
  }

  if (p == "/v1/tools") {
    if (req.method != "GET") return method_not_allowed("GET");
    return m.get_tools(who);
  }
  if (p == "/v1/budget") {
    if (req.method != "GET") return method_not_allowed("GET");
    return m.get_budget(who);
  }
  if (p == "/v1/executions") {
    if (req.method == "POST") return m.post_execution(who, req, t0);
    if (req.method == "GET") return m.list_executions(who, req);
    return method_not_allowed("GET, POST");
  }
  constexpr std::string_view kExec = "/v1/executions/";
  if (p.starts_with(kExec)) {
    if (req.method != "GET") return method_not_allowed("GET");
    std::string rest = p.substr(kExec.size());
    if (rest.ends_with("/bundle")) return m.get_bundle(who, rest.substr(0, rest.size() - 7));
    return m.get_execution(who, rest);
  }
  if (p == "/v1/audit/checkpoint" || p == "/v1/audit/proof" || p == "/v1/audit/consistency") {
    if (req.method != "GET") return method_not_allowed("GET");
    if (p == "/v1/audit/checkpoint") return m.audit_checkpoint(who);
    if (p == "/v1/audit/proof") return m.audit_proof(who, req);
    return m.audit_consistency(who, req);
  }
  return error_response(404, "not_found", "no such endpoint");
}

}  // namespace ritma::api
