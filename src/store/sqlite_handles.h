// Owning handles for SQLite connections and statements (the hot index and its rotation).
#pragma once

#include <sqlite3.h>

#include <memory>

namespace ritma::store {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

}  // namespace ritma::store
