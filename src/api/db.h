// The control plane's database layer: one small interface over SQLite (the embedded default)
// and PostgreSQL 15 (at scale), used by `requiem serve` for executions, idempotency keys,
// budgets and rate buckets (docs/API.md "Database").
//
// - Opened from a URL: `sqlite:PATH` or `postgresql://...` / `postgres://...` (libpq's URI).
// - Only parameterized statements: values never become SQL text. Placeholders are `$1`,
//   `$2`, ... on both backends (SQLite reads `$N` as a named parameter; it is bound by name).
// - Work happens in transactions. A tenant transaction (`begin(tenant)`) binds the tenant as
//   `$1` of every statement (the caller's parameters start at `$2`) and every statement must
//   use it: on PostgreSQL the tenant is also the transaction-local setting `requiem.tenant`
//   that row-level security checks, so a statement that forgets the filter still sees only
//   the tenant's rows; SQLite has no RLS, and the `$1` rule is what scopes every query.
// - Errors say whether to retry (serialization failure, deadlock, busy) or answer 409 (unique
//   violation).
//
// A Db is one connection, used by one thread at a time, with at most one open transaction.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma::api {

enum class DbErrorKind : uint8_t {
  kOther,             // anything else (syntax, types, I/O, ...)
  kUsage,             // a bad URL, a bad tenant, an API misuse (no `$1`, nested begin, ...)
  kConnection,        // cannot connect, or the connection was lost
  kSerialization,     // retry the whole transaction: PG 40001/40P01, SQLite BUSY/LOCKED
  kUniqueViolation,   // PG 23505, SQLite UNIQUE/PRIMARY KEY constraint: map to 409
  kConstraint,        // another integrity constraint (NOT NULL, CHECK, foreign key)
  kPermissionDenied,  // PG 42501: a privilege, or a row refused by an RLS policy
  kNotFound,          // a typed accessor asked for a row or column that is not there
  kType,              // a typed accessor asked for the wrong type
};
std::string_view db_error_kind_name(DbErrorKind k);

// An Error (so RITMA_TRY can pass it up into a plain Result) that also says what kind of
// failure it was. `sqlstate` is PostgreSQL's five-character code, or empty.
struct DbError : Error {
  DbErrorKind kind = DbErrorKind::kOther;
  std::string sqlstate;
  bool retryable() const { return kind == DbErrorKind::kSerialization; }
};
DbError make_db_error(DbErrorKind kind, std::string message, std::string sqlstate = {});

// Result<T> with a DbError.
template <typename T>
using DbResult = Result<T, DbError>;
using DbStatus = Result<void, DbError>;

// A parameter or a column value. Integers are 64-bit (PG bigint/integer/smallint/boolean,
// SQLite INTEGER); text is UTF-8; blobs are PG bytea / SQLite BLOB.
struct DbNull {
  bool operator==(const DbNull&) const = default;
};
using DbValue = std::variant<DbNull, int64_t, double, std::string, Bytes>;
std::string_view db_value_type_name(const DbValue& v);

class DbRow {
 public:
  DbRow() = default;
  explicit DbRow(std::vector<DbValue> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  const DbValue& operator[](size_t i) const { return values_.at(i); }
  bool is_null(size_t i) const;
  // Typed access: kNotFound when i is out of range, kType for another type (or NULL).
  DbResult<int64_t> get_int(size_t i) const;
  DbResult<double> get_double(size_t i) const;  // also accepts an integer
  DbResult<std::string> get_text(size_t i) const;
  DbResult<Bytes> get_bytes(size_t i) const;
  // NULL becomes nullopt.
  DbResult<std::optional<int64_t>> get_opt_int(size_t i) const;
  DbResult<std::optional<std::string>> get_opt_text(size_t i) const;
  DbResult<std::optional<Bytes>> get_opt_bytes(size_t i) const;

 private:
  std::vector<DbValue> values_;
};

struct DbRows {
  std::vector<std::string> columns;
  std::vector<DbRow> rows;
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
  const DbRow& operator[](size_t i) const { return rows.at(i); }
  // The only row: kNotFound when there is none, kOther when there are several.
  DbResult<const DbRow*> one() const;
  // The first row, or nullptr.
  const DbRow* first() const { return rows.empty() ? nullptr : &rows.front(); }
};

enum class DbBackend : uint8_t { kSqlite, kPostgres };
std::string_view db_backend_name(DbBackend b);

// A parsed database URL.
struct DbUrl {
  DbBackend backend = DbBackend::kSqlite;
  std::string sqlite_path;   // kSqlite
  std::string postgres_uri;  // kPostgres: the URL as given, for libpq
  std::string redacted;      // for messages and logs: the password replaced by "***"
};
// Strict: `sqlite:PATH` (PATH non-empty, not `//...`, no query string) or
// `postgresql://...` / `postgres://...` that libpq accepts. Anything else is a kUsage error
// that says what was expected.
DbResult<DbUrl> parse_db_url(std::string_view url);

// The tenant rule shared with the token verifier: [A-Za-z0-9._-]{1,64}, not "." or "..".
bool valid_tenant(std::string_view tenant);

enum class TxnMode : uint8_t {
  kWrite,  // SQLite BEGIN IMMEDIATE (takes the write lock now); PG READ WRITE
  kRead,   // SQLite BEGIN DEFERRED; PG READ ONLY
};

class Db;

// An open transaction. Rolled back by the destructor unless committed. Belongs to its Db,
// which must outlive it.
class Txn {
 public:
  Txn(Txn&&) noexcept;
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  ~Txn();

  // The tenant of a tenant transaction, or empty for an admin transaction.
  const std::string& tenant() const { return tenant_; }
  bool open() const { return open_; }

  // Runs one parameterized statement and returns its rows (if any) and affected count. In a
  // tenant transaction, `$1` is the tenant and must appear in `sql`; `params` are `$2`...
  DbResult<DbRows> query(std::string_view sql, std::span<const DbValue> params = {});
  DbResult<DbRows> query(std::string_view sql, std::initializer_list<DbValue> params) {
    return query(sql, std::span<const DbValue>(params.begin(), params.size()));
  }
  // Runs one parameterized statement on a table WITHOUT a tenant column (the audit log),
  // in a tenant or an admin transaction: no tenant is bound, `params` are `$1`, `$2`, ...
  DbResult<DbRows> query_global(std::string_view sql, std::span<const DbValue> params = {});
  DbResult<DbRows> query_global(std::string_view sql, std::initializer_list<DbValue> params) {
    return query_global(sql, std::span<const DbValue>(params.begin(), params.size()));
  }
  // The backend of the connection this transaction runs on.
  DbBackend backend() const;

  // Runs a fixed script of several statements without parameters (schema migrations only;
  // admin transactions only: never pass text that holds values).
  DbStatus run_script(std::string_view sql);

  DbStatus commit();
  DbStatus rollback();

 private:
  friend class Db;
  Txn(Db* db, std::string tenant) : db_(db), tenant_(std::move(tenant)), open_(true) {}
  Db* db_ = nullptr;
  std::string tenant_;
  bool open_ = false;
};

class Db {
 public:
  // Opens a connection. SQLite: creates the file if needed, WAL, busy timeout
  // (`busy_timeout_ms`), foreign keys on. PostgreSQL: connects with libpq.
  static DbResult<std::unique_ptr<Db>> open(std::string_view url, int busy_timeout_ms = 5000);
  virtual ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  virtual DbBackend backend() const = 0;
  // The URL with its password redacted.
  const std::string& url() const { return url_; }

  // A transaction scoped to `tenant` (see above). Fails with kUsage on an invalid tenant or
  // when a transaction is already open on this connection.
  DbResult<Txn> begin(std::string_view tenant, TxnMode mode = TxnMode::kWrite);
  // A transaction with no tenant: migrations and catalog queries. On PostgreSQL, RLS shows
  // it no rows of any tenant table.
  DbResult<Txn> begin_admin(TxnMode mode = TxnMode::kWrite);

  // Runs one fixed statement outside any transaction (administration that PostgreSQL refuses
  // in a transaction block: CREATE DATABASE, VACUUM). No values: constant text only.
  DbStatus run_outside_transaction(std::string_view sql);

  // Runs `fn(txn)` in a tenant transaction and commits; retries the whole transaction (up to
  // `attempts` times, with a short backoff) when it fails with a retryable error.
  template <typename Fn>
  auto with_retry(std::string_view tenant, int attempts, Fn&& fn)
      -> decltype(fn(std::declval<Txn&>()));

 protected:
  Db() = default;
  std::string url_;

  // Backend hooks. `tenant` empty for admin transactions.
  virtual DbStatus do_begin(const std::string& tenant, TxnMode mode) = 0;
  virtual DbStatus do_commit() = 0;
  virtual DbStatus do_rollback() = 0;
  virtual DbResult<DbRows> do_query(std::string_view sql, std::span<const DbValue> params) = 0;
  virtual DbStatus do_script(std::string_view sql) = 0;

 private:
  friend class Txn;
  DbResult<Txn> begin_impl(std::string tenant, TxnMode mode);
  bool in_txn_ = false;
};

// Sleeps a little (jittered, growing with the attempt) before a retry.
void db_retry_backoff(int attempt);

template <typename Fn>
auto Db::with_retry(std::string_view tenant, int attempts, Fn&& fn)
    -> decltype(fn(std::declval<Txn&>())) {
  for (int attempt = 1;; ++attempt) {
    auto txn = begin(tenant);
    if (!txn.ok()) {
      if (txn.error().retryable() && attempt < attempts) {
        db_retry_backoff(attempt);
        continue;
      }
      return txn.error();
    }
    auto r = fn(*txn);
    if (r.ok()) {
      auto c = txn->commit();
      if (c.ok()) return r;
      if (!c.error().retryable() || attempt >= attempts) return c.error();
    } else {
      (void)txn->rollback();
      if (!r.error().retryable() || attempt >= attempts) return r;
    }
    db_retry_backoff(attempt);
  }
}

// Backends (db_sqlite.cc, db_postgres.cc).
DbResult<std::unique_ptr<Db>> open_sqlite_db(const DbUrl& url, int busy_timeout_ms);
DbResult<std::unique_ptr<Db>> open_postgres_db(const DbUrl& url);

}  // namespace ritma::api
