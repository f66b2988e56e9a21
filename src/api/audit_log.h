// The control plane's tamper-evident audit log, kept in its SQLite database (docs/FORMAT.md
// §15).
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
// connections and processes can share one database and still extend one chain. The caller
// must hold SQLite's write lock (BEGIN IMMEDIATE) before appending; with a deferred
// transaction, a concurrent writer makes the append fail (SQLITE_BUSY) rather than fork.
//
// The SQL is deliberately plain (no triggers, no SQLite-only functions) so the same schema and
// semantics carry over to PostgreSQL; the record encoding does not depend on the database.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// Creates the audit tables if they do not exist (idempotent; run it in or out of a
// transaction).
Status create_audit_schema(sqlite3* db);

// Appends to the audit log of one connection. Holds only prepared statements, never the log's
// state.
class AuditWriter {
 public:
  // Creates the schema if needed and prepares the statements. `db` must outlive the writer.
  static Result<AuditWriter> open(sqlite3* db, AuditLogConfig config);
  AuditWriter(AuditWriter&&) noexcept;
  AuditWriter& operator=(AuditWriter&&) noexcept;
  ~AuditWriter();

  // Appends the records in order inside the caller's open write transaction, setting each
  // one's seq and prev, and writes a checkpoint when one is due. Nothing is committed: the
  // records become durable with the caller's COMMIT, and vanish with its ROLLBACK. After an
  // error some of the records may have been inserted: the caller must roll back.
  Result<AppendResult> append(std::span<AuditRecord> records);
  Result<AppendResult> append(AuditRecord& record) { return append(std::span(&record, 1)); }

  // Writes a checkpoint of the whole log now if it has records no checkpoint covers (e.g. on
  // a timer or at shutdown), inside the caller's open write transaction. Returns its size.
  Result<std::optional<uint64_t>> checkpoint(int64_t now_ns);

 private:
  struct Impl;
  explicit AuditWriter(Impl* impl);
  Impl* impl_ = nullptr;
};

struct StoredCheckpoint {
  uint64_t tree_size = 0;
  Hash32 root{};
  std::string note;  // the signed note text
  int64_t time_ns = 0;
};

// The newest checkpoint, or nullopt when none was written.
Result<std::optional<StoredCheckpoint>> latest_checkpoint(sqlite3* db);

// Proof that record `seq` is leaf `seq` of the tree of the newest checkpoint.
struct AuditInclusionProof {
  uint64_t seq = 0;
  Bytes canonical;  // the record's canonical bytes (its leaf data)
  uint64_t tree_size = 0;
  merkle::Proof path;
  std::string checkpoint;  // the note signing (tree_size, root)
};
Result<AuditInclusionProof> audit_inclusion_proof(sqlite3* db, uint64_t seq);

// RFC 9162 consistency proof between the trees of the first old_size and new_size records,
// with the checkpoint notes of those sizes when they were written (else empty).
struct AuditConsistencyProof {
  uint64_t old_size = 0;
  uint64_t new_size = 0;
  merkle::Proof path;
  std::string old_checkpoint;
  std::string new_checkpoint;
};
Result<AuditConsistencyProof> audit_consistency_proof(sqlite3* db, uint64_t old_size,
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
// the records. Fails only when the database cannot be read.
Result<AuditVerifyReport> verify_audit_log(sqlite3* db, const AuditVerifyOptions& options);

}  // namespace ritma::api
