// Durable appends to the control plane's audit log (src/api/audit_log.h) through the database
// layer (src/api/db.h) on SQLite on disk, next to a peer measured in the same process: a
// plain INSERT of the same rows through the same layer (same table, same canonical bytes,
// precomputed; the same 64 rows per statement as the writer) with no tail read, no chaining,
// no hashing and no checkpoints. The ratio is what the chain costs. Target (issue): >= 100,000
// records/s durable.
//
// Each iteration is one committed write transaction (Db::begin: BEGIN IMMEDIATE; B records;
// COMMIT) of B = 1, 100 or 1000 records, on a fresh migrated database file with 16 KiB pages
// in WAL mode. Db::open sets synchronous=FULL; each run then sets its own mode on its
// connection:
//   audit_append/...        synchronous=FULL: every COMMIT fsyncs the WAL, so a committed
//                           record survives a power loss (durable in the strict sense);
//   audit_append_normal/... synchronous=NORMAL: WAL fsynced only at WAL checkpoints, so a
//                           committed record survives a crash of the process but the last
//                           transactions may be lost with the machine's power.
// Times are wall-clock (fsync waits are most of the cost at small B). The audit writer
// checkpoints every 1000 records or 1 s (each checkpoint signs an Ed25519 note), as a server
// would.
//
// Names are <family>/<variant>/<B>; bench/bench_ratios.sh prints the ratios from a
// --benchmark_out JSON file; docs/PERFORMANCE.md ("Audit log appends") has the command and the
// results. The database files go under $TMPDIR (default /tmp), which must be a real disk for
// the figures to mean anything.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/audit_log.h"
#include "api/db.h"
#include "api/schema.h"
#include "core/blake3_hasher.h"
#include "store/sqlite_handles.h"

namespace {

using ritma::api::AuditRecord;
using ritma::api::DbValue;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AuditRecord sample(int i) {
  AuditRecord r;
  r.time_ns = now_ns();
  r.tenant = "tenant-" + std::to_string(i % 16);
  r.actor = "svc:scheduler@tenant-" + std::to_string(i % 16);
  r.action = "exec";
  r.decision = i % 10 == 9 ? ritma::api::Decision::kDeny : ritma::api::Decision::kAllow;
  r.reason = r.decision == ritma::api::Decision::kDeny ? "budget exhausted: cpu_ms" : "";
  r.tool = "python3";
  r.input_digest = ritma::blake3(ritma::as_bytes("input " + std::to_string(i)));
  r.budget_before = {{"cpu_ms", 3'600'000 - i}, {"runs", 10'000 - i}, {"wall_ms", 7'200'000}};
  r.budget_after = {{"cpu_ms", 3'599'000 - i}, {"runs", 9'999 - i}, {"wall_ms", 7'198'500}};
  r.latency_ns = 1'800'000 + static_cast<uint64_t>(i % 1000);
  if (r.decision == ritma::api::Decision::kAllow) {
    r.result_digest = ritma::blake3(ritma::as_bytes("result " + std::to_string(i)));
  }
  return r;
}

// A fresh migrated database file per benchmark run, opened through the database layer,
// removed afterwards.
class TempDb {
 public:
  explicit TempDb(const char* synchronous) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != 0 ? base : "/tmp") + "/ritma-audit-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    const std::string path = (dir_ / "audit.db").string();
    {
      // 16 KiB pages (a record row is ~450 bytes; measured faster than 4 KiB for ours and the
      // peer alike), set on the empty file before Db::open turns WAL on (a WAL database keeps
      // its page size). RITMA_AUDIT_BENCH_PRAGMAS replaces this, for experiments.
      sqlite3* raw = nullptr;
      if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          nullptr) != SQLITE_OK) {
        std::abort();
      }
      ritma::store::DbPtr owner(raw);
      const char* extra = std::getenv("RITMA_AUDIT_BENCH_PRAGMAS");
      const std::string pragmas = std::string(extra != nullptr ? extra : "PRAGMA page_size=16384") +
                                  ";PRAGMA journal_mode=WAL";
      if (sqlite3_exec(raw, pragmas.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::abort();
      }
    }
    auto db = ritma::api::Db::open("sqlite:" + path);
    if (!db.ok()) std::abort();
    db_ = std::move(db).value();
    if (!ritma::api::apply_migrations(*db_).ok()) std::abort();
    exec(std::string("PRAGMA synchronous=") + synchronous);
    if (const char* extra = std::getenv("RITMA_AUDIT_BENCH_AFTER_SCHEMA")) exec(extra);
  }
  ~TempDb() {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ritma::api::Db& db() const { return *db_; }
  // A fixed statement outside any transaction (pragmas, experiments).
  void exec(const std::string& sql) const {
    if (!db_->run_outside_transaction(sql).ok()) std::abort();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ritma::api::Db> db_;
};

const ritma::NamedSigningKey& bench_key() {
  static const ritma::NamedSigningKey k{"requiem-audit-bench", ritma::SigningKey::generate()};
  return k;
}

void audit_append(benchmark::State& state, const char* synchronous) {
  const auto batch = static_cast<int>(state.range(0));
  TempDb db(synchronous);
  ritma::api::AuditLogConfig config;
  config.origin = ritma::api::audit_origin("bench");
  config.signer = &bench_key();
  config.checkpoint_every = 1000;
  config.checkpoint_interval_ns = 1'000'000'000;
  auto writer = ritma::api::AuditWriter::create(config);
  if (!writer.ok()) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  std::vector<AuditRecord> records;
  for (int i = 0; i < batch; ++i) records.push_back(sample(i));
  int64_t checkpoints = 0;
  for (auto _ : state) {
    const int64_t t = now_ns();
    for (AuditRecord& r : records) r.time_ns = t;
    auto txn = db.db().begin("tenant-0");
    if (!txn.ok()) {
      state.SkipWithError(txn.error().message.c_str());
      break;
    }
    auto res = writer->append(*txn, records);
    if (!res.ok()) {
      state.SkipWithError(res.error().message.c_str());
      break;
    }
    if (auto c = txn->commit(); !c.ok()) {
      state.SkipWithError(c.error().message.c_str());
      break;
    }
    if (res->checkpoint_size) ++checkpoints;
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["checkpoints"] = static_cast<double>(checkpoints);
}

// INSERT INTO audit_records of `rows` rows in one statement.
std::string plain_insert_sql(size_t rows) {
  std::string sql =
      "INSERT INTO audit_records (seq, time_ns, tenant, actor, action, decision, tool,"
      " input_digest, latency_ns, result_digest, leaf_hash, canonical) VALUES ";
  for (size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (size_t c = 1; c <= 12; ++c) sql += (c == 1 ? "$" : ", $") + std::to_string(r * 12 + c);
    sql += ")";
  }
  return sql;
}

// The same rows (canonical bytes encoded once, fixed hashes) through the same layer, 64 rows
// per statement like the writer.
void plain_insert(benchmark::State& state, const char* synchronous) {
  constexpr size_t kChunk = 64;
  const auto batch = static_cast<int>(state.range(0));
  TempDb db(synchronous);
  struct Row {
    AuditRecord r;
    ritma::Bytes canonical;
  };
  std::vector<Row> rows;
  for (int i = 0; i < batch; ++i) {
    Row row{sample(i), {}};
    row.canonical = ritma::api::encode_record(row.r).value();
    rows.push_back(std::move(row));
  }
  const ritma::Bytes fixed(32, 0);
  auto digest = [](const std::optional<ritma::Hash32>& d) -> DbValue {
    if (!d) return ritma::api::DbNull{};
    return ritma::Bytes(d->begin(), d->end());
  };
  int64_t seq = 0;
  std::vector<DbValue> params;
  for (auto _ : state) {
    const int64_t t = now_ns();
    auto txn = db.db().begin("tenant-0");
    if (!txn.ok()) {
      state.SkipWithError(txn.error().message.c_str());
      break;
    }
    bool failed = false;
    for (size_t first = 0; first < rows.size() && !failed; first += kChunk) {
      const size_t n = std::min(kChunk, rows.size() - first);
      params.clear();
      for (size_t i = first; i < first + n; ++i) {
        const AuditRecord& r = rows[i].r;
        params.emplace_back(seq++);
        params.emplace_back(t);
        params.emplace_back(r.tenant);
        params.emplace_back(r.actor);
        params.emplace_back(r.action);
        params.emplace_back(std::string(ritma::api::decision_name(r.decision)));
        params.emplace_back(r.tool);
        params.push_back(digest(r.input_digest));
        params.emplace_back(static_cast<int64_t>(r.latency_ns));
        params.push_back(digest(r.result_digest));
        params.emplace_back(fixed);
        params.emplace_back(rows[i].canonical);
      }
      auto res = txn->query_global(plain_insert_sql(n), params);
      if (!res.ok()) {
        state.SkipWithError(res.error().message.c_str());
        failed = true;
      }
    }
    if (failed) break;
    if (auto c = txn->commit(); !c.ok()) {
      state.SkipWithError(c.error().message.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// The chain's CPU cost alone, per record: canonical encoding, BLAKE3 (prev) and the RFC 9162
// leaf hash (SHA-256), with no database.
void encode_and_hash(benchmark::State& state) {
  AuditRecord r = sample(7);
  for (auto _ : state) {
    ++r.seq;
    auto bytes = ritma::api::encode_record(r);
    r.prev = ritma::api::record_chain_hash(*bytes);
    benchmark::DoNotOptimize(ritma::api::record_leaf_hash(*bytes));
  }
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  benchmark::RegisterBenchmark("audit_encode_hash/ritma", encode_and_hash);
  for (const char* sync : {"FULL", "NORMAL"}) {
    const std::string family = std::string(sync) == "FULL" ? "audit_append" : "audit_append_normal";
    benchmark::RegisterBenchmark((family + "/ritma_chained").c_str(), audit_append, sync)
        ->Arg(1)
        ->Arg(100)
        ->Arg(1000)
        ->UseRealTime()
        ->MinTime(1.0);
    benchmark::RegisterBenchmark((family + "/plain_insert").c_str(), plain_insert, sync)
        ->Arg(1)
        ->Arg(100)
        ->Arg(1000)
        ->UseRealTime()
        ->MinTime(1.0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
