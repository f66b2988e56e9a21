// Durable appends to the control plane's audit log (src/api/audit_log.h) on SQLite on disk,
// next to a peer measured in the same process: a plain INSERT of the same rows (same table
// shape, same canonical bytes, precomputed) with no tail read, no chaining, no hashing and no
// checkpoints. The ratio is what the chain costs. Target (issue): >= 100,000 records/s durable.
//
// Each iteration is one committed transaction (BEGIN IMMEDIATE; B records; COMMIT) of B = 1,
// 100 or 1000 records, on a fresh database file with 16 KiB pages in WAL mode:
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

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "api/audit_log.h"
#include "core/blake3_hasher.h"
#include "store/sqlite_handles.h"

namespace {

using ritma::api::AuditRecord;
using ritma::store::DbPtr;

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

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// A fresh database file per benchmark run, removed afterwards.
class TempDb {
 public:
  explicit TempDb(const char* synchronous) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != 0 ? base : "/tmp") + "/ritma-audit-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2((dir_ / "audit.db").c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      std::abort();
    }
    db_.reset(raw);
    // 16 KiB pages (a record row is ~450 bytes; measured faster than 4 KiB for ours and the
    // peer alike). RITMA_AUDIT_BENCH_PRAGMAS replaces this, for experiments; a page size must
    // come before WAL mode.
    const char* extra = std::getenv("RITMA_AUDIT_BENCH_PRAGMAS");
    exec(extra != nullptr ? extra : "PRAGMA page_size=16384");
    exec("PRAGMA journal_mode=WAL");
    exec(std::string("PRAGMA synchronous=") + synchronous);
  }
  ~TempDb() {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  sqlite3* get() const { return db_.get(); }
  // Extra SQL run once the schema exists, for experiments (e.g. dropping the tenant index).
  void after_schema() const {
    if (const char* extra = std::getenv("RITMA_AUDIT_BENCH_AFTER_SCHEMA")) exec(extra);
  }
  void exec(const std::string& sql) const {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::abort();
    }
  }

 private:
  std::filesystem::path dir_;
  DbPtr db_;
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
  auto writer = ritma::api::AuditWriter::open(db.get(), config);
  if (!writer.ok()) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  db.after_schema();
  std::vector<AuditRecord> records;
  for (int i = 0; i < batch; ++i) records.push_back(sample(i));
  int64_t checkpoints = 0;
  for (auto _ : state) {
    const int64_t t = now_ns();
    for (AuditRecord& r : records) r.time_ns = t;
    db.exec("BEGIN IMMEDIATE");
    auto res = writer->append(records);
    if (!res.ok()) {
      state.SkipWithError(res.error().message.c_str());
      break;
    }
    db.exec("COMMIT");
    if (res->checkpoint_size) ++checkpoints;
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["checkpoints"] = static_cast<double>(checkpoints);
}

// The same rows (canonical bytes encoded once, fixed hashes) through one prepared INSERT.
void plain_insert(benchmark::State& state, const char* synchronous) {
  const auto batch = static_cast<int>(state.range(0));
  TempDb db(synchronous);
  if (!ritma::api::create_audit_schema(db.get()).ok()) {
    state.SkipWithError("schema");
    return;
  }
  db.after_schema();
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
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.get(),
                         "INSERT INTO audit_records(seq, time_ns, tenant, actor, action, decision,"
                         " tool, input_digest, latency_ns, result_digest, leaf_hash, canonical)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                         -1, &raw, nullptr) != SQLITE_OK) {
    state.SkipWithError("prepare");
    return;
  }
  ritma::store::StmtPtr ins(raw);
  const ritma::Hash32 fixed{};
  int64_t seq = 0;
  for (auto _ : state) {
    const int64_t t = now_ns();
    db.exec("BEGIN IMMEDIATE");
    for (const Row& row : rows) {
      const AuditRecord& r = row.r;
      const std::string_view decision = ritma::api::decision_name(r.decision);
      sqlite3_bind_int64(raw, 1, seq++);
      sqlite3_bind_int64(raw, 2, t);
      bind_text(raw, 3, r.tenant);
      bind_text(raw, 4, r.actor);
      bind_text(raw, 5, r.action);
      bind_text(raw, 6, decision);
      bind_text(raw, 7, r.tool);
      sqlite3_bind_blob(raw, 8, r.input_digest->data(), 32, SQLITE_STATIC);
      sqlite3_bind_int64(raw, 9, static_cast<int64_t>(r.latency_ns));
      if (r.result_digest) {
        sqlite3_bind_blob(raw, 10, r.result_digest->data(), 32, SQLITE_STATIC);
      } else {
        sqlite3_bind_null(raw, 10);
      }
      sqlite3_bind_blob(raw, 11, fixed.data(), 32, SQLITE_STATIC);
      sqlite3_bind_blob(raw, 12, row.canonical.data(), static_cast<int>(row.canonical.size()),
                        SQLITE_STATIC);
      if (sqlite3_step(raw) != SQLITE_DONE) {
        state.SkipWithError(sqlite3_errmsg(db.get()));
        break;
      }
      sqlite3_reset(raw);
    }
    db.exec("COMMIT");
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
