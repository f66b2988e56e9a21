// The control plane's tamper-evident audit log, kept in its database (db.h: SQLite or
// PostgreSQL; docs/FORMAT.md §15).
//
// Every decision of `requiem serve` (allow or deny, tenant, actor, tool, input digest, budget
// before and after, latency, result digest) becomes one record, appended in the same database
// transaction as the state change it records. Each record's canonical bytes (deterministic
// CBOR, tag "requiem-audit@1") carry `prev` = BLAKE3 of the previous record's canonical bytes
// (32 zero bytes for seq 0), and the records are the leaves, in seq order, of an RFC 9162
// Merkle tree whose roots are signed as C2SP checkpoints every N records or T ns.
//
// Nothing about the log is kept in memory between calls: the tail (last seq, its bytes) and
// the last checkpoint's state are read inside the caller's write transaction, so several
// connections, processes and servers can share one database and still extend one chain.
// SQLite: the caller's write transaction (BEGIN IMMEDIATE) holds the database's write lock.
// PostgreSQL: append first takes a transaction-scoped advisory lock, so concurrent appends
// queue; the transaction must be READ COMMITTED (the default), so that the tail read after the
// lock sees the previous holder's commit.
//
// The tables (audit_records, audit_checkpoints) are schema migration 2 (schema.cc). They have
// no tenant scoping (one chain across tenants): the statements here run with
// Txn::query_global. On PostgreSQL the server's role may only SELECT and INSERT them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/db.h"
#include "core/bytes.h"
#include "core/key_file.h"
#include "core/merkle.h"
#include "core/result.h"

namespace ritma::api {

inline constexpr std::string_view kAuditRecordTag = "requiem-audit@1";

enum class Decision : uint8_t { kDeny, kAllow };
std::string_view decision_name(Decision d);  // "deny" or "allow"

// One budget counter (e.g. "cpu_ms" -> 1200). A record's budgets are listed in strictly
// ascending name order (bytewise), names unique and non-empty.
struct BudgetEntry {
  std::string name;
  int64_t amount = 0;
  bool operator==(const BudgetEntry&) const = default;
};

struct AuditRecord {
  uint64_t seq = 0;     // set by append: 0 for the first record, then +1
  int64_t time_ns = 0;  // Unix ns of the decision
  std::string tenant;
  std::string actor;
  std::string action;  // what was asked, e.g. "exec"
  Decision decision = Decision::kDeny;
  std::string reason;  // why (may be empty)
  std::string tool;    // may be empty
  std::optional<Hash32> input_digest;
  std::vector<BudgetEntry> budget_before;
  std::vector<BudgetEntry> budget_after;
  uint64_t latency_ns = 0;
  std::optional<Hash32> result_digest;
  Hash32 prev{};  // set by append

  bool operator==(const AuditRecord&) const = default;
};

// The canonical bytes (docs/FORMAT.md §15.1). Fails on invalid UTF-8 text or budgets out of
// order.
Result<Bytes> encode_record(const AuditRecord& r);
// Strict: exactly the bytes encode_record would write, else an error naming the field.
Result<AuditRecord> decode_record(ByteSpan canonical);
// BLAKE3 of the canonical bytes: the next record's `prev`.
Hash32 record_chain_hash(ByteSpan canonical);
// RFC 9162 leaf hash of the canonical bytes: SHA-256(0x00 || canonical).
Hash32 record_leaf_hash(ByteSpan canonical);

// The checkpoint origin line for a log named `log_name` ("requiem-audit/<log_name>").
std::string audit_origin(std::string_view log_name);

struct AuditLogConfig {
  std::string origin;  // the checkpoint origin line, e.g. audit_origin("prod-eu-1")
  // Signs checkpoints. Required for appends; the pointee must outlive the writer.
  const NamedSigningKey* signer = nullptr;
  // A checkpoint is written by the append that brings the log to >= N records past the last
  // checkpoint, or whose newest record's time_ns is >= T ns after the last checkpoint's (so
  // the first append to a log without checkpoints writes one).
  uint64_t checkpoint_every = 1000;
  int64_t checkpoint_interval_ns = 1'000'000'000;
};

struct AppendResult {
  uint64_t first_seq = 0;
  uint64_t count = 0;
  std::optional<uint64_t> checkpoint_size;  // set when the call wrote a checkpoint
};

// Appends to the audit log. Holds its configuration and scratch buffers, never the log's
// state or a connection: one writer may serve any number of transactions, one at a time.
class AuditWriter {
 public:
  // Checks the configuration (a signer, a one-line origin, checkpoint_every >= 1).
  static Result<AuditWriter> create(AuditLogConfig config);

  // Appends the records in order inside the caller's open write transaction (tenant or
  // admin), setting each one's seq and prev, and writes a checkpoint when one is due. On
  // PostgreSQL it first takes pg_advisory_xact_lock(kAuditLockKey). Nothing is committed:
  // the records become durable with the caller's commit and vanish with its rollback. After
  // an error some of the records may have been inserted: the caller must roll back. The lock
  // is held until the transaction ends, so append last, just before the commit.
  DbResult<AppendResult> append(Txn& txn, std::span<AuditRecord> records);
  DbResult<AppendResult> append(Txn& txn, AuditRecord& record) {
    return append(txn, std::span(&record, 1));
  }

  // Writes a checkpoint of the whole log now if it has records no checkpoint covers (e.g. on
  // a timer or at shutdown), inside the caller's open write transaction. Returns its size.
  DbResult<std::optional<uint64_t>> checkpoint(Txn& txn, int64_t now_ns);

 private:
  explicit AuditWriter(AuditLogConfig config) : config_(std::move(config)) {}
  AuditLogConfig config_;
  Bytes buf_;                       // one record's canonical bytes
  std::vector<Hash32> new_leaves_;  // leaf hashes of the records of the current append
};

// The key of the PostgreSQL advisory lock that serializes appends ("rqaudit" in ASCII).
inline constexpr int64_t kAuditLockKey = 0x72716175646974;

struct StoredCheckpoint {
  uint64_t tree_size = 0;
  Hash32 root{};
  std::string note;  // the signed note text
  int64_t time_ns = 0;
};

// The readers below run in any open transaction of the caller (tenant or admin, read or
// write).

// The newest checkpoint, or nullopt when none was written.
DbResult<std::optional<StoredCheckpoint>> latest_checkpoint(Txn& txn);

// Proof that record `seq` is leaf `seq` of the tree of the newest checkpoint.
struct AuditInclusionProof {
  uint64_t seq = 0;
  Bytes canonical;  // the record's canonical bytes (its leaf data)
  uint64_t tree_size = 0;
  merkle::Proof path;
  std::string checkpoint;  // the note signing (tree_size, root)
};
DbResult<AuditInclusionProof> audit_inclusion_proof(Txn& txn, uint64_t seq);

// RFC 9162 consistency proof between the trees of the first old_size and new_size records,
// with the checkpoint notes of those sizes when they were written (else empty).
struct AuditConsistencyProof {
  uint64_t old_size = 0;
  uint64_t new_size = 0;
  merkle::Proof path;
  std::string old_checkpoint;
  std::string new_checkpoint;
};
DbResult<AuditConsistencyProof> audit_consistency_proof(Txn& txn, uint64_t old_size,
                                                        uint64_t new_size);

// What `requiem audit verify --db` checks and reports (src/cli/requiem_audit_command.cc).
struct AuditProblem {
  enum class Where : uint8_t { kRecord, kCheckpoint };
  Where where = Where::kRecord;
  uint64_t seq = 0;   // the record's seq, or the checkpoint's tree size
  std::string field;  // e.g. "prev", "tenant", "canonical", "missing", "signature", "root"
  std::string message;
};
struct AuditVerifyReport {
  uint64_t records = 0;      // rows read
  uint64_t checkpoints = 0;  // checkpoints read
  std::vector<AuditProblem> problems;
  bool truncated = false;  // more problems than max_problems were found (not listed)
  bool ok() const { return problems.empty() && !truncated; }
};
std::string describe(const AuditProblem& p);

struct AuditVerifyOptions {
  NamedPublicKey key;          // the pinned checkpoint key
  std::string origin;          // expected origin line; empty accepts any
  size_t max_problems = 1000;  // list at most this many problems
};

// Walks every record in seq order and every checkpoint: strict decoding, seq continuity, the
// prev chain, the queryable columns and stored hashes against the canonical bytes, each
// checkpoint's signature (pinned key), origin, size and root against the tree recomputed from
// the records. Reads in one read transaction of its own (one snapshot, even while others
// append; PostgreSQL: REPEATABLE READ), so `db` must have none open. Fails only when the
// database cannot be read.
Result<AuditVerifyReport> verify_audit_log(Db& db, const AuditVerifyOptions& options);

}  // namespace ritma::api
