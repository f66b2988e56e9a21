// The SQLite backend: WAL, a busy timeout, BEGIN IMMEDIATE for write transactions. No RLS:
// the tenant is bound as `$1` of every statement of a tenant transaction (db.h).
//
// Statements are prepared once per connection and kept (keyed by their text): SQLite looks
// `$N` names up linearly, so preparing and binding a statement of many parameters (the audit
// log's multi-row INSERT) costs O(n^2); a kept statement has its parameter map computed once.
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/db.h"
#include "store/sqlite_handles.h"

namespace ritma::api {
namespace {

using store::DbPtr;
using store::StmtPtr;

DbError sqlite_error(sqlite3* db, int rc, std::string_view what) {
  int primary = rc & 0xff;
  DbErrorKind kind = DbErrorKind::kOther;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    kind = DbErrorKind::kSerialization;
  } else if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    kind = DbErrorKind::kUniqueViolation;
  } else if (primary == SQLITE_CONSTRAINT) {
    kind = DbErrorKind::kConstraint;
  } else if (primary == SQLITE_CANTOPEN || primary == SQLITE_NOTADB) {
    kind = DbErrorKind::kConnection;
  }
  std::string msg = "sqlite: " + std::string(what) + ": ";
  msg += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_db_error(kind, std::move(msg));
}

class SqliteDb final : public Db {
 public:
  SqliteDb(DbPtr db, std::string url) : db_(std::move(db)) { url_ = std::move(url); }
  DbBackend backend() const override { return DbBackend::kSqlite; }

 protected:
  DbStatus do_begin(const std::string& /*tenant*/, TxnMode mode) override {
    return exec_simple(mode == TxnMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  }
  DbStatus do_commit() override { return exec_simple("COMMIT"); }
  DbStatus do_rollback() override {
    if (sqlite3_get_autocommit(db_.get()) != 0) return {};  // already rolled back
    return exec_simple("ROLLBACK");
  }
  DbStatus do_script(std::string_view sql) override {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string m = err != nullptr ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      DbError e = sqlite_error(db_.get(), rc, "script");
      e.message = "sqlite: script: " + m;
      return e;
    }
    return {};
  }

  DbResult<DbRows> do_query(std::string_view sql, std::span<const DbValue> params) override {
    RITMA_ASSIGN_OR_RETURN(const Prepared* p, prepared(sql));
    if (p->max_param > params.size()) {
      return make_db_error(DbErrorKind::kUsage, "statement uses $" + std::to_string(p->max_param) +
                                                    " but only " + std::to_string(params.size()) +
                                                    " parameters were given");
    }
    sqlite3_stmt* stmt = p->stmt.get();
    // A kept statement is reset and its bindings cleared after each use, however it ends: a
    // statement left active would hold the transaction's locks, and the bindings point into
    // `params`.
    struct ResetOnExit {
      sqlite3_stmt* s;
      ~ResetOnExit() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    for (size_t i = 0; i < p->param_of.size(); ++i) {
      RITMA_TRY(bind(stmt, static_cast<int>(i + 1), params[p->param_of[i]]));
    }
    DbRows out;
    // Read now, not when kept: a schema change re-prepares the statement (SELECT * may change).
    const int cols = sqlite3_column_count(stmt);
    for (int c = 0; c < cols; ++c) out.columns.emplace_back(sqlite3_column_name(stmt, c));
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW)
        return sqlite_error(db_.get(), sqlite3_extended_errcode(db_.get()), "step");
      std::vector<DbValue> row;
      row.reserve(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) row.push_back(column(stmt, c));
      out.rows.emplace_back(std::move(row));
    }
    if (sqlite3_stmt_readonly(stmt) == 0) out.affected = sqlite3_changes64(db_.get());
    return out;
  }

 private:
  // A kept statement: param_of[i] is the index into the caller's parameters of SQLite
  // parameter i + 1 (the `$N` names in order of first use).
  struct Prepared {
    StmtPtr stmt;
    std::vector<size_t> param_of;
    size_t max_param = 0;
  };
  // Kept statements at most; when full, all are dropped (the working set is small).
  static constexpr size_t kMaxPrepared = 128;

  DbResult<const Prepared*> prepared(std::string_view sql) {
    std::string key(sql);
    if (auto it = prepared_.find(key); it != prepared_.end()) return &it->second;
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    Prepared p;
    p.stmt.reset(raw);
    if (rc != SQLITE_OK) return sqlite_error(db_.get(), rc, "prepare");
    if (p.stmt == nullptr) return make_db_error(DbErrorKind::kUsage, "empty statement");
    for (const char* t = tail; t != sql.data() + sql.size(); ++t) {
      if (*t != ' ' && *t != '\n' && *t != '\t' && *t != '\r' && *t != ';') {
        return make_db_error(DbErrorKind::kUsage,
                             "one statement per query (use parameters, not several statements)");
      }
    }
    const int n = sqlite3_bind_parameter_count(p.stmt.get());
    for (int i = 1; i <= n; ++i) {
      const char* name = sqlite3_bind_parameter_name(p.stmt.get(), i);
      size_t k = 0;
      bool ok = name != nullptr && name[0] == '$' && name[1] >= '1' && name[1] <= '9';
      if (ok) {
        for (const char* c = name + 1; *c != '\0' && ok; ++c) {
          ok = *c >= '0' && *c <= '9' && k < 100000;
          k = k * 10 + static_cast<size_t>(*c - '0');
        }
      }
      if (!ok) {
        return make_db_error(
            DbErrorKind::kUsage,
            std::string("placeholders must be $1, $2, ...: got ") + (name != nullptr ? name : "?"));
      }
      p.param_of.push_back(k - 1);
      p.max_param = std::max(p.max_param, k);
    }
    if (prepared_.size() >= kMaxPrepared) prepared_.clear();
    return &prepared_.emplace(std::move(key), std::move(p)).first->second;
  }

  DbStatus exec_simple(const char* sql) {
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_.get(), sqlite3_extended_errcode(db_.get()), sql);
    return {};
  }

  // SQLITE_STATIC: the caller's values outlive the statement's use, and do_query clears the
  // bindings before it returns.
  static DbStatus bind(sqlite3_stmt* s, int i, const DbValue& v) {
    int rc = SQLITE_OK;
    if (std::holds_alternative<DbNull>(v)) {
      rc = sqlite3_bind_null(s, i);
    } else if (const int64_t* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(s, i, *n);
    } else if (const double* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(s, i, *d);
    } else if (const std::string* t = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(s, i, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      const Bytes& b = std::get<Bytes>(v);
      // A zero-length blob must stay a blob, not NULL.
      rc = b.empty() ? sqlite3_bind_zeroblob(s, i, 0)
                     : sqlite3_bind_blob64(s, i, b.data(), b.size(), SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) return sqlite_error(nullptr, rc, "bind");
    return {};
  }

  static DbValue column(sqlite3_stmt* s, int c) {
    switch (sqlite3_column_type(s, c)) {
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(s, c));
      case SQLITE_FLOAT:
        return sqlite3_column_double(s, c);
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
        return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, c)));
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, c));
        int n = sqlite3_column_bytes(s, c);
        return p == nullptr ? Bytes() : Bytes(p, p + n);
      }
      default:
        return DbNull{};
    }
  }

  DbPtr db_;
  std::unordered_map<std::string, Prepared> prepared_;  // after db_: finalized before it closes
};

}  // namespace

DbResult<std::unique_ptr<Db>> open_sqlite_db(const DbUrl& url, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(url.sqlite_path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    DbError e = sqlite_error(db.get(), rc, "open " + url.sqlite_path);
    e.kind = DbErrorKind::kConnection;
    return e;
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  // synchronous=FULL: a commit is on disk when it returns (WAL fsynced), so an answered
  // request's audit record, budget debit and idempotency key survive a power cut, as they do
  // on PostgreSQL. NORMAL could lose the last commits.
  for (const char* s :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    rc = sqlite3_exec(db.get(), s, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      return sqlite_error(db.get(), sqlite3_extended_errcode(db.get()), url.sqlite_path + ": " + s);
    }
  }
  auto out = std::make_unique<SqliteDb>(std::move(db), url.redacted);
  return std::unique_ptr<Db>(std::move(out));
}

}  // namespace ritma::api
