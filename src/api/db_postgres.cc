// The PostgreSQL backend (libpq). A tenant transaction sets `requiem.tenant` with
// set_config(..., true), local to the transaction, which every tenant table's RLS policy
// checks (docs/API.md "Database").
#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <string>

#include "api/db.h"

namespace ritma::api {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResPtr = std::unique_ptr<PGresult, ResultClearer>;

// PostgreSQL type OIDs (src/include/catalog/pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

DbErrorKind kind_of_sqlstate(std::string_view st) {
  if (st == "40001" || st == "40P01" || st == "55P03") return DbErrorKind::kSerialization;
  if (st == "23505") return DbErrorKind::kUniqueViolation;
  if (st.starts_with("23")) return DbErrorKind::kConstraint;
  if (st == "42501") return DbErrorKind::kPermissionDenied;
  if (st.starts_with("08") || st == "57P01" || st == "57P02" || st == "57P03") {
    return DbErrorKind::kConnection;
  }
  return DbErrorKind::kOther;
}

DbError pg_error(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string sqlstate;
  std::string msg;
  if (res != nullptr) {
    const char* st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (st != nullptr) sqlstate = st;
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (primary != nullptr) msg = primary;
    const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (detail != nullptr) msg += std::string(" (") + detail + ")";
  }
  if (msg.empty()) msg = trim(PQerrorMessage(conn));
  DbErrorKind kind = kind_of_sqlstate(sqlstate);
  if (sqlstate.empty() && PQstatus(conn) == CONNECTION_BAD) kind = DbErrorKind::kConnection;
  std::string full = "postgresql: " + std::string(what) + ": " + msg;
  if (!sqlstate.empty()) full += " [SQLSTATE " + sqlstate + "]";
  return make_db_error(kind, std::move(full), std::move(sqlstate));
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

DbResult<DbValue> convert(const PGresult* res, int r, int c) {
  if (PQgetisnull(res, r, c) != 0) return DbValue(DbNull{});
  const char* p = PQgetvalue(res, r, c);
  size_t n = static_cast<size_t>(PQgetlength(res, r, c));
  std::string_view text(p, n);
  auto bad = [&](std::string_view type) {
    return make_db_error(DbErrorKind::kType, "postgresql: cannot read " + std::string(type) +
                                                 " value of column " + std::to_string(c));
  };
  switch (PQftype(res, c)) {
    case kBoolOid:
      return DbValue(int64_t{text == "t" ? 1 : 0});
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) return bad("integer");
      return DbValue(v);
    }
    case kNumericOid: {  // e.g. sum(bigint): an integer when it is one
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) return DbValue(v);
      double d = 0;
      auto [end2, ec2] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec2 != std::errc() || end2 != text.data() + text.size()) return bad("numeric");
      return DbValue(d);
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      if (text == "NaN") return DbValue(std::nan(""));
      if (text == "Infinity") return DbValue(HUGE_VAL);
      if (text == "-Infinity") return DbValue(-HUGE_VAL);
      double d = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec != std::errc() || end != text.data() + text.size()) return bad("double");
      return DbValue(d);
    }
    case kByteaOid: {  // text output, bytea_output = hex: "\x0a1b..."
      if (n < 2 || p[0] != '\\' || p[1] != 'x' || n % 2 != 0) return bad("bytea");
      Bytes b;
      b.reserve((n - 2) / 2);
      for (size_t i = 2; i < n; i += 2) {
        int hi = hexval(p[i]);
        int lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0) return bad("bytea");
        b.push_back(static_cast<uint8_t>(hi * 16 + lo));
      }
      return DbValue(std::move(b));
    }
    default:
      return DbValue(std::string(text));
  }
}

class PostgresDb final : public Db {
 public:
  PostgresDb(ConnPtr conn, std::string url) : conn_(std::move(conn)) { url_ = std::move(url); }
  DbBackend backend() const override { return DbBackend::kPostgres; }

 protected:
  DbStatus do_begin(const std::string& tenant, TxnMode mode) override {
    RITMA_TRY(exec_simple(mode == TxnMode::kWrite ? "BEGIN READ WRITE" : "BEGIN READ ONLY"));
    if (tenant.empty()) return {};
    const char* values[] = {tenant.c_str()};
    Oid types[] = {kTextOid};
    ResPtr res(PQexecParams(conn_.get(), "SELECT set_config('requiem.tenant', $1, true)", 1, types,
                            values, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
      DbError e = pg_error(conn_.get(), res.get(), "set requiem.tenant");
      (void)exec_simple("ROLLBACK");
      return e;
    }
    return {};
  }
  DbStatus do_commit() override { return exec_simple("COMMIT"); }
  DbStatus do_rollback() override {
    if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return {};
    return exec_simple("ROLLBACK");
  }
  DbStatus do_script(std::string_view sql) override {
    std::string s(sql);
    ResPtr res(PQexec(conn_.get(), s.c_str()));
    ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
      return pg_error(conn_.get(), res.get(), "script");
    }
    return {};
  }

  DbResult<DbRows> do_query(std::string_view sql, std::span<const DbValue> params) override {
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const DbValue& v = params[i];
      if (std::holds_alternative<DbNull>(v)) continue;  // NULL, type inferred
      if (const int64_t* n = std::get_if<int64_t>(&v)) {
        storage[i] = std::to_string(*n);
        types[i] = kInt8Oid;
      } else if (const double* d = std::get_if<double>(&v)) {
        if (std::isnan(*d)) {
          storage[i] = "NaN";
        } else if (std::isinf(*d)) {
          storage[i] = *d > 0 ? "Infinity" : "-Infinity";
        } else {
          char buf[64];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
          storage[i].assign(buf, ec == std::errc() ? end : buf);
        }
        types[i] = kFloat8Oid;
      } else if (const std::string* t = std::get_if<std::string>(&v)) {
        if (t->find('\0') != std::string::npos) {
          return make_db_error(DbErrorKind::kUsage, "postgresql: text parameter $" +
                                                        std::to_string(i + 1) +
                                                        " holds a NUL byte (use bytes)");
        }
        storage[i] = *t;
        types[i] = kTextOid;
      } else {
        const Bytes& b = std::get<Bytes>(v);
        storage[i].assign(reinterpret_cast<const char*>(b.data()), b.size());
        formats[i] = 1;  // binary: the bytes as they are
        lengths[i] = static_cast<int>(b.size());
        types[i] = kByteaOid;
      }
      values[i] = storage[i].c_str();
      if (formats[i] == 0) lengths[i] = static_cast<int>(storage[i].size());
    }
    std::string s(sql);
    ResPtr res(PQexecParams(conn_.get(), s.c_str(), static_cast<int>(params.size()), types.data(),
                            values.data(), lengths.data(), formats.data(), 0));
    ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return pg_error(conn_.get(), res.get(), "query");
    }
    DbRows out;
    const char* affected = PQcmdTuples(res.get());
    if (affected != nullptr && affected[0] != '\0') {
      (void)std::from_chars(affected, affected + std::char_traits<char>::length(affected),
                            out.affected);
    }
    if (st == PGRES_TUPLES_OK) {
      int cols = PQnfields(res.get());
      int rows = PQntuples(res.get());
      for (int c = 0; c < cols; ++c) out.columns.emplace_back(PQfname(res.get(), c));
      out.rows.reserve(static_cast<size_t>(rows));
      for (int r = 0; r < rows; ++r) {
        std::vector<DbValue> row;
        row.reserve(static_cast<size_t>(cols));
        for (int c = 0; c < cols; ++c) {
          RITMA_ASSIGN_OR_RETURN(DbValue v, convert(res.get(), r, c));
          row.push_back(std::move(v));
        }
        out.rows.emplace_back(std::move(row));
      }
    }
    return out;
  }

 private:
  DbStatus exec_simple(const char* sql) {
    ResPtr res(PQexec(conn_.get(), sql));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return pg_error(conn_.get(), res.get(), sql);
    return {};
  }

  ConnPtr conn_;
};

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

DbResult<std::unique_ptr<Db>> open_postgres_db(const DbUrl& url) {
  ConnPtr conn(PQconnectdb(url.postgres_uri.c_str()));
  if (conn == nullptr) {
    return make_db_error(DbErrorKind::kConnection, "postgresql: out of memory");
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return make_db_error(DbErrorKind::kConnection, "postgresql: cannot connect to " + url.redacted +
                                                       ": " + trim(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
  // Fixed session settings this layer relies on: bytea as hex, UTC, UTF-8.
  ResPtr res(PQexec(
      conn.get(), "SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'"));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return pg_error(conn.get(), res.get(), "session setup");
  }
  return std::unique_ptr<Db>(std::make_unique<PostgresDb>(std::move(conn), url.redacted));
}

}  // namespace ritma::api
