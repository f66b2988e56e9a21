#include "api/db.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace ritma::api {

std::string_view db_error_kind_name(DbErrorKind k) {
  switch (k) {
    case DbErrorKind::kOther:
      return "other";
    case DbErrorKind::kUsage:
      return "usage";
    case DbErrorKind::kConnection:
      return "connection";
    case DbErrorKind::kSerialization:
      return "serialization";
    case DbErrorKind::kUniqueViolation:
      return "unique_violation";
    case DbErrorKind::kConstraint:
      return "constraint";
    case DbErrorKind::kPermissionDenied:
      return "permission_denied";
    case DbErrorKind::kNotFound:
      return "not_found";
    case DbErrorKind::kType:
      return "type";
  }
  return "other";
}

DbError make_db_error(DbErrorKind kind, std::string message, std::string sqlstate) {
  DbError e;
  e.message = std::move(message);
  e.kind = kind;
  e.sqlstate = std::move(sqlstate);
  return e;
}

std::string_view db_backend_name(DbBackend b) {
  return b == DbBackend::kSqlite ? "sqlite" : "postgresql";
}

std::string_view db_value_type_name(const DbValue& v) {
  switch (v.index()) {
    case 0:
      return "null";
    case 1:
      return "integer";
    case 2:
      return "double";
    case 3:
      return "text";
    default:
      return "bytes";
  }
}

// --- rows -------------------------------------------------------------------------------

namespace {

template <typename T>
DbResult<const T*> typed(const std::vector<DbValue>& values, size_t i, std::string_view want) {
  if (i >= values.size()) {
    return make_db_error(DbErrorKind::kNotFound, "column " + std::to_string(i) +
                                                     " out of range (row has " +
                                                     std::to_string(values.size()) + ")");
  }
  const T* p = std::get_if<T>(&values[i]);
  if (p == nullptr) {
    return make_db_error(DbErrorKind::kType, "column " + std::to_string(i) + ": expected " +
                                                 std::string(want) + ", got " +
                                                 std::string(db_value_type_name(values[i])));
  }
  return p;
}

template <typename T>
DbResult<std::optional<T>> typed_opt(const std::vector<DbValue>& values, size_t i,
                                     std::string_view want) {
  if (i < values.size() && std::holds_alternative<DbNull>(values[i])) {
    return std::optional<T>();
  }
  RITMA_ASSIGN_OR_RETURN(const T* p, typed<T>(values, i, want));
  return std::optional<T>(*p);
}

}  // namespace

bool DbRow::is_null(size_t i) const {
  return i < values_.size() && std::holds_alternative<DbNull>(values_[i]);
}
DbResult<int64_t> DbRow::get_int(size_t i) const {
  RITMA_ASSIGN_OR_RETURN(const int64_t* p, typed<int64_t>(values_, i, "integer"));
  return *p;
}
DbResult<double> DbRow::get_double(size_t i) const {
  if (i < values_.size()) {
    if (const int64_t* n = std::get_if<int64_t>(&values_[i])) return static_cast<double>(*n);
  }
  RITMA_ASSIGN_OR_RETURN(const double* p, typed<double>(values_, i, "double"));
  return *p;
}
DbResult<std::string> DbRow::get_text(size_t i) const {
  RITMA_ASSIGN_OR_RETURN(const std::string* p, typed<std::string>(values_, i, "text"));
  return *p;
}
DbResult<Bytes> DbRow::get_bytes(size_t i) const {
  RITMA_ASSIGN_OR_RETURN(const Bytes* p, typed<Bytes>(values_, i, "bytes"));
  return *p;
}
DbResult<std::optional<int64_t>> DbRow::get_opt_int(size_t i) const {
  return typed_opt<int64_t>(values_, i, "integer");
}
DbResult<std::optional<std::string>> DbRow::get_opt_text(size_t i) const {
  return typed_opt<std::string>(values_, i, "text");
}
DbResult<std::optional<Bytes>> DbRow::get_opt_bytes(size_t i) const {
  return typed_opt<Bytes>(values_, i, "bytes");
}

DbResult<const DbRow*> DbRows::one() const {
  if (rows.empty()) return make_db_error(DbErrorKind::kNotFound, "no row");
  if (rows.size() > 1) {
    return make_db_error(DbErrorKind::kOther,
                         "expected one row, got " + std::to_string(rows.size()));
  }
  return &rows.front();
}

// --- URLs and tenants -----------------------------------------------------------------------

bool valid_tenant(std::string_view t) {
  if (t.empty() || t.size() > 64 || t == "." || t == "..") return false;
  for (char c : t) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

constexpr std::string_view kUrlForms =
    "expected sqlite:PATH, postgresql://USER@HOST:PORT/DB or postgres://...";

DbError url_error(std::string why) {
  return make_db_error(DbErrorKind::kUsage,
                       "database URL: " + why + " (" + std::string(kUrlForms) + ")");
}

// The URL with the password of its userinfo (scheme://user:PASSWORD@...) replaced, and any
// `password=` query parameter too.
std::string redact_postgres_url(std::string_view url) {
  std::string out(url);
  size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    size_t auth_start = scheme_end + 3;
    size_t auth_end = out.find_first_of("/?", auth_start);
    if (auth_end == std::string::npos) auth_end = out.size();
    size_t at = out.rfind('@', auth_end);
    if (at != std::string::npos && at >= auth_start) {
      size_t colon = out.find(':', auth_start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
  }
  size_t q = out.find('?');
  while (q != std::string::npos) {
    size_t key = q + 1;
    size_t next = out.find('&', key);
    size_t end = next == std::string::npos ? out.size() : next;
    if (out.compare(key, 9, "password=") == 0) {
      out.replace(key + 9, end - key - 9, "***");
      next = out.find('&', key);
    }
    q = next;
  }
  return out;
}

}  // namespace

DbResult<DbUrl> parse_db_url(std::string_view url) {
  if (url.find('\0') != std::string_view::npos) return url_error("contains a NUL byte");
  DbUrl out;
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.empty()) return url_error("sqlite: needs a file path");
    if (path.starts_with("//")) {
      return url_error("write sqlite:/absolute/path or sqlite:relative/path, not sqlite://");
    }
    if (path.find('?') != std::string_view::npos) {
      return url_error("sqlite: takes no options ('?' in the path)");
    }
    if (path.back() == '/')
      return url_error("sqlite: path \"" + std::string(path) + "\" names a directory");
    out.backend = DbBackend::kSqlite;
    out.sqlite_path = std::string(path);
    out.redacted = std::string(url);
    return out;
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    out.backend = DbBackend::kPostgres;
    out.postgres_uri = std::string(url);
    out.redacted = redact_postgres_url(url);
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(out.postgres_uri.c_str(), &err);
    if (opts == nullptr) {
      std::string why = err != nullptr ? err : "out of memory";
      if (err != nullptr) PQfreemem(err);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      return url_error("\"" + out.redacted + "\": " + why);
    }
    std::string bad_port;
    bool port_ok = true;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || std::string_view(o->keyword) != "port") continue;
      // libpq checks the port only when connecting; a list (one per host) is allowed.
      std::string_view ports(o->val);
      for (size_t start = 0; start <= ports.size();) {
        size_t comma = std::min(ports.find(',', start), ports.size());
        std::string_view p = ports.substr(start, comma - start);
        unsigned long v = 0;
        bool ok = !p.empty() && p.size() <= 5;
        for (char ch : p) {
          ok = ok && ch >= '0' && ch <= '9';
          v = v * 10 + static_cast<unsigned long>(ch - '0');
        }
        if (!ok || v == 0 || v > 65535) {
          port_ok = false;
          bad_port = std::string(p.substr(0, 16));
        }
        start = comma + 1;
      }
    }
    PQconninfoFree(opts);
    if (!port_ok) {
      return url_error("\"" + out.redacted + "\": invalid port \"" + bad_port + "\"");
    }
    return out;
  }
  size_t colon = url.find(':');
  std::string scheme =
      colon == std::string_view::npos ? std::string() : std::string(url.substr(0, colon));
  if (scheme.empty()) return url_error("no scheme in \"" + std::string(url.substr(0, 64)) + "\"");
  return url_error("unsupported scheme \"" + scheme.substr(0, 32) + "\"");
}

// --- Db and Txn -------------------------------------------------------------------------------

Db::~Db() = default;

DbResult<std::unique_ptr<Db>> Db::open(std::string_view url, int busy_timeout_ms) {
  RITMA_ASSIGN_OR_RETURN(DbUrl parsed, parse_db_url(url));
  if (parsed.backend == DbBackend::kSqlite) return open_sqlite_db(parsed, busy_timeout_ms);
  return open_postgres_db(parsed);
}

DbResult<Txn> Db::begin(std::string_view tenant, TxnMode mode) {
  if (!valid_tenant(tenant)) {
    return make_db_error(DbErrorKind::kUsage,
                         "invalid tenant (expected [A-Za-z0-9._-]{1,64}, not . or ..)");
  }
  return begin_impl(std::string(tenant), mode);
}

DbResult<Txn> Db::begin_admin(TxnMode mode) {
  return begin_impl(std::string(), mode);
}

DbResult<Txn> Db::begin_impl(std::string tenant, TxnMode mode) {
  if (in_txn_) {
    return make_db_error(DbErrorKind::kUsage, "a transaction is already open on this connection");
  }
  RITMA_TRY(do_begin(tenant, mode));
  in_txn_ = true;
  return Txn(this, std::move(tenant));
}

DbStatus Db::run_outside_transaction(std::string_view sql) {
  if (in_txn_) {
    return make_db_error(DbErrorKind::kUsage, "a transaction is open on this connection");
  }
  return do_script(sql);
}

Txn::Txn(Txn&& o) noexcept : db_(o.db_), tenant_(std::move(o.tenant_)), open_(o.open_) {
  o.open_ = false;
  o.db_ = nullptr;
}

Txn::~Txn() {
  if (open_) (void)rollback();
}

namespace {

// True when `sql` holds the placeholder `$1` (not `$10`, `$12`, ...).
bool uses_first_placeholder(std::string_view sql) {
  for (size_t p = sql.find("$1"); p != std::string_view::npos; p = sql.find("$1", p + 2)) {
    if (p + 2 >= sql.size() || sql[p + 2] < '0' || sql[p + 2] > '9') return true;
  }
  return false;
}

// The highest `$N` in `sql` (0 when none): PostgreSQL declares that many parameters, and so
// many must be given on both backends.
size_t max_placeholder(std::string_view sql) {
  size_t max = 0;
  for (size_t p = sql.find('$'); p != std::string_view::npos; p = sql.find('$', p + 1)) {
    size_t n = 0;
    size_t q = p + 1;
    while (q < sql.size() && sql[q] >= '0' && sql[q] <= '9' && n < 100000) {
      n = n * 10 + static_cast<size_t>(sql[q] - '0');
      ++q;
    }
    max = std::max(max, n);
  }
  return max;
}

DbError closed_error() {
  return make_db_error(DbErrorKind::kUsage, "the transaction is no longer open");
}

}  // namespace

DbResult<DbRows> Txn::query(std::string_view sql, std::span<const DbValue> params) {
  if (!open_) return closed_error();
  size_t given = params.size() + (tenant_.empty() ? 0 : 1);
  if (size_t used = max_placeholder(sql); used != given) {
    return make_db_error(DbErrorKind::kUsage, "statement uses parameters up to $" +
                                                  std::to_string(used) + " but " +
                                                  std::to_string(given) + " are bound" +
                                                  (tenant_.empty() ? "" : " ($1 is the tenant)"));
  }
  if (tenant_.empty()) return db_->do_query(sql, params);
  if (!uses_first_placeholder(sql)) {
    return make_db_error(DbErrorKind::kUsage,
                         "a statement in a tenant transaction must filter by the tenant "
                         "($1): " +
                             std::string(sql.substr(0, 120)));
  }
  std::vector<DbValue> all;
  all.reserve(params.size() + 1);
  all.emplace_back(tenant_);
  all.insert(all.end(), params.begin(), params.end());
  return db_->do_query(sql, all);
}

DbResult<DbRows> Txn::query_global(std::string_view sql, std::span<const DbValue> params) {
  if (!open_) return closed_error();
  if (size_t used = max_placeholder(sql); used != params.size()) {
    return make_db_error(DbErrorKind::kUsage, "statement uses parameters up to $" +
                                                  std::to_string(used) + " but " +
                                                  std::to_string(params.size()) + " are bound");
  }
  return db_->do_query(sql, params);
}

DbBackend Txn::backend() const {
  return db_->backend();
}

DbStatus Txn::run_script(std::string_view sql) {
  if (!open_) return closed_error();
  if (!tenant_.empty()) {
    return make_db_error(DbErrorKind::kUsage, "scripts run only in admin transactions");
  }
  return db_->do_script(sql);
}

DbStatus Txn::commit() {
  if (!open_) return closed_error();
  open_ = false;
  db_->in_txn_ = false;
  auto s = db_->do_commit();
  if (!s.ok()) (void)db_->do_rollback();  // leave the connection usable
  return s;
}

DbStatus Txn::rollback() {
  if (!open_) return closed_error();
  open_ = false;
  db_->in_txn_ = false;
  return db_->do_rollback();
}

void db_retry_backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  int cap = std::min(100, 2 << std::min(attempt, 6));  // ms
  std::uniform_int_distribution<int> d(1, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(d(rng)));
}

}  // namespace ritma::api
