// Owning handles for SQLite connections and statements (the hot index and its rotation, the
// control plane's audit log).
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

// Resets a statement when it goes out of scope, so no read transaction is left open and the
// statement is ready for its next use.
class StmtReset {
 public:
  explicit StmtReset(sqlite3_stmt* s) : s_(s) {}
  ~StmtReset() { sqlite3_reset(s_); }
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;

 private:
  sqlite3_stmt* s_;
};

}  // namespace ritma::store
