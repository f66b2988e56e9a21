// A real PostgreSQL 15 for tests: initdb in a temporary directory, the server on 127.0.0.1 at
// a free port with a private unix socket directory, stopped by the destructor (and killed by
// the kernel if the test process dies first: PR_SET_PDEATHSIG; a later run removes what such
// a run left behind). As root, initdb and postgres run as the `postgres` system user (or
// `nobody`), which owns the directory: postgres refuses to run as root.
//
// Roles (docs/API.md "Database"): `requiem_owner` (login, owns the databases and their
// tables, runs the migrations), `requiem_app` (NOLOGIN group granted DML by the migrations),
// `requiem_server` (login, member of requiem_app, NOSUPERUSER NOBYPASSRLS NOCREATEDB
// NOCREATEROLE). The bootstrap superuser `postgres` is reached over the socket only.
// The binaries are /usr/lib/postgresql/15/bin/{initdb,postgres}, or those in $RITMA_PG_BINDIR.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/result.h"
#include "test_util.h"

namespace ritma::test {

struct PgDatabase {
  std::string name;
  std::string owner_url;      // requiem_owner, password, over 127.0.0.1
  std::string server_url;     // requiem_server, password, over 127.0.0.1
  std::string superuser_url;  // postgres over the unix socket (trust)
};

class PgCluster {
 public:
  // Starts a cluster, or says why it cannot (binaries missing, cannot drop privileges, ...).
  static Result<std::unique_ptr<PgCluster>> start();
  // One cluster per test process, started on first use (the same error thereafter).
  static Result<PgCluster*> shared();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A fresh database owned by requiem_owner, CONNECT granted to requiem_app only; with the
  // builtin migrations applied as the owner when `migrate`.
  Result<PgDatabase> create_database(bool migrate = true);

  int port() const { return port_; }
  std::string superuser_url(const std::string& dbname) const;

 private:
  PgCluster() = default;
  Status launch();
  void stop();

  std::string dir_;  // temp dir: data/, sock/, log
  int port_ = 0;
  pid_t pid_ = -1;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool drop_ = false;
  std::string owner_password_;
  std::string server_password_;
  int next_db_ = 0;
};

}  // namespace ritma::test

// In a test body or SetUp: declares `PgCluster* var`, or skips with the reason (fails instead
// when CI=true).
#define RITMA_PG_CLUSTER_OR_SKIP(var)                                                  \
  auto var##_result_ = ::ritma::test::PgCluster::shared();                             \
  if (!var##_result_.ok()) {                                                           \
    if (::ritma::test::in_ci()) {                                                      \
      FAIL() << "PostgreSQL unavailable (CI=true): " << var##_result_.error().message; \
    } else {                                                                           \
      GTEST_SKIP() << "PostgreSQL unavailable: " << var##_result_.error().message;     \
    }                                                                                  \
  }                                                                                    \
  ::ritma::test::PgCluster* var = *var##_result_
