// The audit log: canonical records, appends inside the caller's transaction, checkpoints,
// proofs and the verifier, on either database backend (db.h).
#include "api/audit_log.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/signed_note.h"
#include "core/utf8.h"

namespace ritma::api {
namespace {

constexpr size_t kRecordFields = 15;

// The columns of audit_records in insert order; integers that are uint64 in the record (seq,
// latency_ns) are stored as their int64 bit pattern.
constexpr std::string_view kRecordColumns =
    "seq, time_ns, tenant, actor, action, decision, tool, input_digest, latency_ns,"
    " result_digest, leaf_hash, canonical";
constexpr size_t kRecordColumnCount = 12;
// Rows per INSERT statement: one round trip (PostgreSQL) or one prepare (SQLite) per chunk,
// well under both backends' limits on parameters per statement.
constexpr size_t kInsertChunk = 64;
// Rows per page when the verifier walks the log.
constexpr int64_t kVerifyPage = 4096;

constexpr std::string_view kSelectTail =
    "SELECT seq, canonical FROM audit_records ORDER BY seq DESC LIMIT 1";
constexpr std::string_view kSelectLastCheckpoint =
    "SELECT tree_size, root, note, time_ns, frontier FROM audit_checkpoints"
    " ORDER BY tree_size DESC LIMIT 1";

DbError audit_error(std::string message, DbErrorKind kind = DbErrorKind::kOther) {
  return make_db_error(kind, "audit log: " + std::move(message));
}

// Passes a plain Error (encoding, signing) up as a DbError.
#define AUDIT_TRY(expr, kind)                                        \
  do {                                                               \
    auto audit_try_status_ = (expr);                                 \
    if (!audit_try_status_.ok()) {                                   \
      return audit_error(audit_try_status_.error().message, (kind)); \
    }                                                                \
  } while (0)

std::optional<Hash32> to_hash32(ByteSpan b) {
  if (b.size() != 32) return std::nullopt;
  Hash32 h;
  std::memcpy(h.data(), b.data(), 32);
  return h;
}

// The RFC 9162 tree of the first `size` leaves as the roots of its perfect subtrees, one per
// set bit of size, largest first. Extending it by one leaf costs O(log n); so does the root.
struct Frontier {
  uint64_t size = 0;
  std::vector<Hash32> nodes;

  void add(const Hash32& leaf) {
    Hash32 h = leaf;
    for (uint64_t s = size; (s & 1) != 0; s >>= 1) {
      h = merkle::node_hash(nodes.back(), h);
      nodes.pop_back();
    }
    nodes.push_back(h);
    ++size;
  }
  Hash32 root() const {
    if (nodes.empty()) return merkle::empty_root();
    Hash32 acc = nodes.back();
    for (size_t i = nodes.size() - 1; i-- > 0;) acc = merkle::node_hash(nodes[i], acc);
    return acc;
  }
  Bytes serialize() const {
    Bytes out;
    out.reserve(nodes.size() * 32);
    for (const Hash32& h : nodes) append(out, h);
    return out;
  }
  static std::optional<Frontier> parse(uint64_t size, ByteSpan b) {
    const auto n = static_cast<size_t>(std::popcount(size));
    if (b.size() != n * 32) return std::nullopt;
    Frontier f;
    f.size = size;
    f.nodes.resize(n);
    for (size_t i = 0; i < n; ++i) std::memcpy(f.nodes[i].data(), b.data() + i * 32, 32);
    return f;
  }
};

Status check_text(std::string_view field, std::string_view s) {
  if (auto p = find_invalid_utf8(as_bytes(s))) {
    return make_error(std::string(field) + " is not valid UTF-8 at byte " +
                      std::to_string(p->index) + ": " + p->reason);
  }
  return {};
}

Status check_budget(std::string_view field, const std::vector<BudgetEntry>& b) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i].name.empty()) return make_error(std::string(field) + ": empty budget name");
    RITMA_TRY(check_text(field, b[i].name));
    if (i > 0 && !(b[i - 1].name < b[i].name)) {
      return make_error(std::string(field) + ": names must be unique and in ascending order ('" +
                        b[i - 1].name + "' then '" + b[i].name + "')");
    }
  }
  return {};
}

void write_budget(cbor::Writer& w, const std::vector<BudgetEntry>& b) {
  w.array(b.size());
  for (const BudgetEntry& e : b) {
    w.array(2);
    w.text(e.name);
    w.int64(e.amount);
  }
}

void write_digest(cbor::Writer& w, const std::optional<Hash32>& d) {
  if (d) {
    w.bytes(*d);
  } else {
    w.null();
  }
}

Status encode_into(const AuditRecord& r, Bytes& out) {
  RITMA_TRY(check_text("tenant", r.tenant));
  RITMA_TRY(check_text("actor", r.actor));
  RITMA_TRY(check_text("action", r.action));
  RITMA_TRY(check_text("reason", r.reason));
  RITMA_TRY(check_text("tool", r.tool));
  RITMA_TRY(check_budget("budget_before", r.budget_before));
  RITMA_TRY(check_budget("budget_after", r.budget_after));
  out.clear();
  cbor::Writer w(out);
  w.array(kRecordFields);
  w.text(kAuditRecordTag);
  w.uint(r.seq);
  w.int64(r.time_ns);
  w.text(r.tenant);
  w.text(r.actor);
  w.text(r.action);
  w.text(decision_name(r.decision));
  w.text(r.reason);
  w.text(r.tool);
  write_digest(w, r.input_digest);
  write_budget(w, r.budget_before);
  write_budget(w, r.budget_after);
  w.uint(r.latency_ns);
  write_digest(w, r.result_digest);
  w.bytes(r.prev);
  return {};
}

Result<std::optional<Hash32>> read_digest(const cbor::Value& v, std::string_view field) {
  if (v.type() == cbor::Type::kNull) return std::optional<Hash32>();
  if (v.type() != cbor::Type::kBytes || v.as_bytes().size() != 32) {
    return make_error(std::string(field) + " must be 32 bytes or null");
  }
  return to_hash32(v.as_bytes());
}

Result<std::vector<BudgetEntry>> read_budget(const cbor::Value& v, std::string_view field) {
  if (v.type() != cbor::Type::kArray) return make_error(std::string(field) + " must be an array");
  std::vector<BudgetEntry> out;
  for (const cbor::Value& e : v.as_array()) {
    if (e.type() != cbor::Type::kArray || e.as_array().size() != 2 ||
        e.as_array()[0].type() != cbor::Type::kText) {
      return make_error(std::string(field) + " entries must be [name: text, amount: int]");
    }
    const cbor::Value& amount = e.as_array()[1];
    if (amount.type() != cbor::Type::kUnsigned && amount.type() != cbor::Type::kNegative) {
      return make_error(std::string(field) + " amounts must be integers");
    }
    auto a = amount.to_int64();
    if (!a) return make_error(std::string(field) + " amount out of range");
    out.push_back({e.as_array()[0].as_text(), *a});
  }
  RITMA_TRY(check_budget(field, out));
  return out;
}

Result<std::string> read_text(const cbor::Value& v, std::string_view field) {
  if (v.type() != cbor::Type::kText) return make_error(std::string(field) + " must be text");
  return v.as_text();
}

bool is_int(const cbor::Value& v) {
  return v.type() == cbor::Type::kUnsigned || v.type() == cbor::Type::kNegative;
}

// "record 4 is" or "records 4..7 are".
std::string records_text(uint64_t first, uint64_t last) {
  return first == last ? "record " + std::to_string(first) + " is"
                       : "records " + std::to_string(first) + ".." + std::to_string(last) + " are";
}

}  // namespace

std::string_view decision_name(Decision d) {
  return d == Decision::kAllow ? "allow" : "deny";
}

Result<Bytes> encode_record(const AuditRecord& r) {
  Bytes out;
  RITMA_TRY(encode_into(r, out));
  return out;
}

Result<AuditRecord> decode_record(ByteSpan canonical) {
  cbor::DecodeLimits limits;
  limits.max_depth = 3;
  auto decoded = cbor::decode(canonical, limits);
  if (!decoded) return make_error("not canonical CBOR: " + decoded.error().message);
  const cbor::Value& top = *decoded;
  if (!top.is_array() || top.as_array().size() != kRecordFields) {
    return make_error("not an array of " + std::to_string(kRecordFields) + " fields");
  }
  const auto& f = top.as_array();
  if (f[0].type() != cbor::Type::kText || f[0].as_text() != kAuditRecordTag) {
    return make_error("tag is not \"" + std::string(kAuditRecordTag) + "\"");
  }
  AuditRecord r;
  if (!f[1].is_unsigned()) return make_error("seq must be an unsigned integer");
  r.seq = f[1].as_uint();
  if (!is_int(f[2])) return make_error("time_ns must be an integer");
  {
    auto t = f[2].to_int64();
    if (!t) return make_error("time_ns out of range");
    r.time_ns = *t;
  }
  RITMA_ASSIGN_OR_RETURN(r.tenant, read_text(f[3], "tenant"));
  RITMA_ASSIGN_OR_RETURN(r.actor, read_text(f[4], "actor"));
  RITMA_ASSIGN_OR_RETURN(r.action, read_text(f[5], "action"));
  RITMA_ASSIGN_OR_RETURN(const std::string decision, read_text(f[6], "decision"));
  if (decision == "allow") {
    r.decision = Decision::kAllow;
  } else if (decision == "deny") {
    r.decision = Decision::kDeny;
  } else {
    return make_error("decision must be \"allow\" or \"deny\"");
  }
  RITMA_ASSIGN_OR_RETURN(r.reason, read_text(f[7], "reason"));
  RITMA_ASSIGN_OR_RETURN(r.tool, read_text(f[8], "tool"));
  RITMA_ASSIGN_OR_RETURN(r.input_digest, read_digest(f[9], "input_digest"));
  RITMA_ASSIGN_OR_RETURN(r.budget_before, read_budget(f[10], "budget_before"));
  RITMA_ASSIGN_OR_RETURN(r.budget_after, read_budget(f[11], "budget_after"));
  if (!f[12].is_unsigned()) return make_error("latency_ns must be an unsigned integer");
  r.latency_ns = f[12].as_uint();
  RITMA_ASSIGN_OR_RETURN(r.result_digest, read_digest(f[13], "result_digest"));
  if (f[14].type() != cbor::Type::kBytes || f[14].as_bytes().size() != 32) {
    return make_error("prev must be 32 bytes");
  }
  r.prev = *to_hash32(f[14].as_bytes());
  // The decoder accepted only canonical CBOR and the schema has one encoding per record, so
  // this holds; checked anyway, as the definition of "canonical bytes".
  Bytes again;
  RITMA_TRY(encode_into(r, again));
  if (!std::equal(again.begin(), again.end(), canonical.begin(), canonical.end())) {
    return make_error("bytes are not the record's canonical encoding");
  }
  return r;
}

Hash32 record_chain_hash(ByteSpan canonical) {
  return blake3(canonical);
}

Hash32 record_leaf_hash(ByteSpan canonical) {
  return merkle::leaf_hash(canonical);
}

std::string audit_origin(std::string_view log_name) {
  return "requiem-audit/" + std::string(log_name);
}

// ---------------------------------------------------------------------------------------------
// Database helpers

namespace {

// A DbError from the database layer, with what the log was doing in front of its message.
DbError while_doing(DbError e, std::string_view what) {
  e.message = "audit log: " + std::string(what) + ": " + e.message;
  return e;
}

ByteSpan bytes_of(const DbValue& v) {
  const Bytes* b = std::get_if<Bytes>(&v);
  return b != nullptr ? ByteSpan(*b) : ByteSpan();
}
std::optional<std::string_view> text_of(const DbValue& v) {
  const std::string* t = std::get_if<std::string>(&v);
  if (t == nullptr) return std::nullopt;
  return std::string_view(*t);
}
std::optional<int64_t> int_of(const DbValue& v) {
  const int64_t* n = std::get_if<int64_t>(&v);
  if (n == nullptr) return std::nullopt;
  return *n;
}
DbValue digest_value(const std::optional<Hash32>& d) {
  if (!d) return DbNull{};
  return Bytes(d->begin(), d->end());
}

DbStatus check_open(const Txn& txn) {
  if (txn.open()) return {};
  return audit_error(
      "append must run inside the caller's open write transaction, so the record commits with "
      "the state change it records",
      DbErrorKind::kUsage);
}

// Serializes appends across connections (PostgreSQL; SQLite's write transaction already
// holds the database's write lock). Released when the caller's transaction ends.
DbStatus lock_log(Txn& txn) {
  if (txn.backend() != DbBackend::kPostgres) return {};
  auto r = txn.query_global("SELECT pg_advisory_xact_lock($1)", {DbValue(kAuditLockKey)});
  if (!r.ok()) return while_doing(r.error(), "taking the append lock");
  return {};
}

// The number of records (the last seq + 1) and the chain hash of the last one.
struct Tail {
  uint64_t size = 0;
  Hash32 prev{};
};

DbResult<Tail> read_tail(Txn& txn) {
  auto rows = txn.query_global(kSelectTail);
  if (!rows.ok()) return while_doing(rows.error(), "reading the tail");
  Tail t;
  if (const DbRow* row = rows->first()) {
    const std::optional<int64_t> seq = int_of((*row)[0]);
    if (!seq) return audit_error("the last record's seq is not an integer (run audit verify)");
    t.size = static_cast<uint64_t>(*seq) + 1;
    t.prev = record_chain_hash(bytes_of((*row)[1]));
  }
  return t;
}

struct CheckpointState {
  uint64_t size = 0;
  int64_t time_ns = std::numeric_limits<int64_t>::min();
  std::optional<Frontier> frontier;  // nullopt when no checkpoint or its frontier is unusable
};

DbResult<CheckpointState> read_last_checkpoint(Txn& txn) {
  auto rows = txn.query_global(kSelectLastCheckpoint);
  if (!rows.ok()) return while_doing(rows.error(), "reading the last checkpoint");
  CheckpointState st;
  const DbRow* row = rows->first();
  if (row == nullptr) {
    st.frontier = Frontier{};
    return st;
  }
  const std::optional<int64_t> size = int_of((*row)[0]);
  const std::optional<int64_t> time_ns = int_of((*row)[3]);
  if (!size || !time_ns) return audit_error("the last checkpoint is damaged (run audit verify)");
  st.size = static_cast<uint64_t>(*size);
  st.time_ns = *time_ns;
  st.frontier = Frontier::parse(st.size, bytes_of((*row)[4]));
  return st;
}

// A log shorter than its newest checkpoint lost records: extending it would make the log
// sign a tree inconsistent with one it already signed, so refuse.
DbStatus check_not_truncated(uint64_t log_size, uint64_t checkpoint_size) {
  if (log_size >= checkpoint_size) return {};
  return audit_error("the log has " + std::to_string(log_size) +
                     " records but its newest checkpoint covers " +
                     std::to_string(checkpoint_size) +
                     ": records were deleted; run audit verify, refusing to append");
}

std::string insert_sql(size_t rows) {
  std::string sql = "INSERT INTO audit_records (" + std::string(kRecordColumns) + ") VALUES ";
  size_t n = 0;
  for (size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (size_t c = 0; c < kRecordColumnCount; ++c) {
      sql += (c == 0 ? "$" : ", $") + std::to_string(++n);
    }
    sql += ")";
  }
  return sql;
}

// Inserts `params.size() / kRecordColumnCount` rows in one statement.
DbStatus insert_rows(Txn& txn, std::span<const DbValue> params, uint64_t first_seq) {
  const size_t rows = params.size() / kRecordColumnCount;
  static const std::string full_chunk = insert_sql(kInsertChunk);
  const std::string partial = rows == kInsertChunk ? std::string() : insert_sql(rows);
  auto r = txn.query_global(rows == kInsertChunk ? full_chunk : partial, params);
  if (!r.ok()) {
    return while_doing(r.error(), "inserting records " + std::to_string(first_seq) + ".." +
                                      std::to_string(first_seq + rows - 1));
  }
  return {};
}

// Writes the checkpoint of the first `size` records (all of them), extending the last
// checkpoint's frontier by the stored leaf hashes after it, up to `first_new`, and then by
// `fresh` (the leaves of records first_new.. that this call just inserted).
DbStatus write_checkpoint(Txn& txn, const AuditLogConfig& config, const CheckpointState& last,
                          uint64_t size, int64_t time_ns, uint64_t first_new,
                          std::span<const Hash32> fresh) {
  Frontier f = last.frontier && last.frontier->size <= first_new ? *last.frontier : Frontier{};
  if (f.size < first_new) {
    auto rows = txn.query_global(
        "SELECT seq, leaf_hash FROM audit_records WHERE seq >= $1 AND seq < $2 ORDER BY seq",
        {DbValue(static_cast<int64_t>(f.size)), DbValue(static_cast<int64_t>(first_new))});
    if (!rows.ok()) return while_doing(rows.error(), "reading leaf hashes");
    for (const DbRow& row : rows->rows) {
      const std::optional<int64_t> seq = int_of(row[0]);
      auto leaf = to_hash32(bytes_of(row[1]));
      if (!seq || static_cast<uint64_t>(*seq) != f.size || !leaf) {
        return audit_error("cannot checkpoint: record " + std::to_string(f.size) +
                           " is missing or its leaf_hash is damaged (run audit verify)");
      }
      f.add(*leaf);
    }
  }
  for (const Hash32& leaf : fresh) f.add(leaf);
  if (f.size != size) {
    return audit_error("cannot checkpoint: expected " + std::to_string(size) + " records, found " +
                       std::to_string(f.size));
  }
  const Hash32 root = f.root();
  note::Checkpoint cp;
  cp.origin = config.origin;
  cp.size = size;
  cp.root = root;
  auto text = note::sign(note::checkpoint_body(cp), {config.signer});
  if (!text.ok()) return audit_error("signing a checkpoint: " + text.error().message);
  auto r = txn.query_global(
      "INSERT INTO audit_checkpoints (tree_size, root, note, time_ns, frontier)"
      " VALUES ($1, $2, $3, $4, $5)",
      {DbValue(static_cast<int64_t>(size)), DbValue(Bytes(root.begin(), root.end())),
       DbValue(*text), DbValue(time_ns), DbValue(f.serialize())});
  if (!r.ok()) return while_doing(r.error(), "inserting a checkpoint");
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer

Result<AuditWriter> AuditWriter::create(AuditLogConfig config) {
  if (config.signer == nullptr) return make_error("audit log: a checkpoint signer is required");
  if (config.origin.empty() || config.origin.find('\n') != std::string::npos ||
      !is_valid_utf8(config.origin)) {
    return make_error("audit log: the origin must be one non-empty line of UTF-8");
  }
  if (config.checkpoint_every == 0) return make_error("audit log: checkpoint_every must be >= 1");
  return AuditWriter(std::move(config));
}

DbResult<AppendResult> AuditWriter::append(Txn& txn, std::span<AuditRecord> records) {
  RITMA_TRY(check_open(txn));
  RITMA_TRY(lock_log(txn));
  // The tail, read under the lock: no other writer can move it until this transaction ends.
  RITMA_ASSIGN_OR_RETURN(const Tail tail, read_tail(txn));
  uint64_t next_seq = tail.size;
  Hash32 prev = tail.prev;
  AppendResult out;
  out.first_seq = next_seq;
  new_leaves_.clear();
  std::vector<DbValue> params;
  params.reserve(std::min(records.size(), kInsertChunk) * kRecordColumnCount);
  uint64_t chunk_first = next_seq;
  for (AuditRecord& r : records) {
    r.seq = next_seq;
    r.prev = prev;
    AUDIT_TRY(encode_into(r, buf_), DbErrorKind::kUsage);
    const Hash32 leaf = record_leaf_hash(buf_);
    params.emplace_back(static_cast<int64_t>(r.seq));
    params.emplace_back(r.time_ns);
    params.emplace_back(r.tenant);
    params.emplace_back(r.actor);
    params.emplace_back(r.action);
    params.emplace_back(std::string(decision_name(r.decision)));
    params.emplace_back(r.tool);
    params.push_back(digest_value(r.input_digest));
    params.emplace_back(static_cast<int64_t>(r.latency_ns));
    params.push_back(digest_value(r.result_digest));
    params.emplace_back(Bytes(leaf.begin(), leaf.end()));
    params.emplace_back(buf_);
    prev = record_chain_hash(buf_);
    new_leaves_.push_back(leaf);
    ++next_seq;
    ++out.count;
    if (params.size() == kInsertChunk * kRecordColumnCount) {
      RITMA_TRY(insert_rows(txn, params, chunk_first));
      params.clear();
      chunk_first = next_seq;
    }
  }
  if (!params.empty()) RITMA_TRY(insert_rows(txn, params, chunk_first));
  if (records.empty()) return out;
  RITMA_ASSIGN_OR_RETURN(const CheckpointState last, read_last_checkpoint(txn));
  RITMA_TRY(check_not_truncated(out.first_seq, last.size));
  const int64_t newest_ns = records.back().time_ns;
  const bool due_by_count = next_seq - last.size >= config_.checkpoint_every;
  const bool due_by_time =
      last.time_ns == std::numeric_limits<int64_t>::min() ||
      (newest_ns > last.time_ns &&
       static_cast<uint64_t>(newest_ns) - static_cast<uint64_t>(last.time_ns) >=
           static_cast<uint64_t>(config_.checkpoint_interval_ns));
  if (next_seq > last.size && (due_by_count || due_by_time)) {
    RITMA_TRY(
        write_checkpoint(txn, config_, last, next_seq, newest_ns, out.first_seq, new_leaves_));
    out.checkpoint_size = next_seq;
  }
  return out;
}

DbResult<std::optional<uint64_t>> AuditWriter::checkpoint(Txn& txn, int64_t now_ns) {
  RITMA_TRY(check_open(txn));
  RITMA_TRY(lock_log(txn));
  RITMA_ASSIGN_OR_RETURN(const Tail tail, read_tail(txn));
  RITMA_ASSIGN_OR_RETURN(const CheckpointState last, read_last_checkpoint(txn));
  RITMA_TRY(check_not_truncated(tail.size, last.size));
  if (tail.size <= last.size) return std::optional<uint64_t>();
  RITMA_TRY(write_checkpoint(txn, config_, last, tail.size, now_ns, tail.size, {}));
  return std::optional<uint64_t>(tail.size);
}

// ---------------------------------------------------------------------------------------------
// Reading: checkpoints and proofs

DbResult<std::optional<StoredCheckpoint>> latest_checkpoint(Txn& txn) {
  auto rows = txn.query_global(kSelectLastCheckpoint);
  if (!rows.ok()) return while_doing(rows.error(), "reading the last checkpoint");
  const DbRow* row = rows->first();
  if (row == nullptr) return std::optional<StoredCheckpoint>();
  StoredCheckpoint c;
  const std::optional<int64_t> size = int_of((*row)[0]);
  const std::optional<int64_t> time_ns = int_of((*row)[3]);
  const std::optional<std::string_view> note = text_of((*row)[2]);
  auto root = to_hash32(bytes_of((*row)[1]));
  if (!size || !time_ns || !note || !root) {
    return audit_error("the newest checkpoint is damaged (run audit verify)");
  }
  c.tree_size = static_cast<uint64_t>(*size);
  c.root = *root;
  c.note = std::string(*note);
  c.time_ns = *time_ns;
  return std::optional<StoredCheckpoint>(std::move(c));
}

namespace {

// The stored leaf hashes of records 0..size-1; fails on a gap or a damaged hash.
DbResult<std::vector<Hash32>> read_leaf_hashes(Txn& txn, uint64_t size) {
  auto rows = txn.query_global(
      "SELECT seq, leaf_hash FROM audit_records WHERE seq >= 0 AND seq < $1 ORDER BY seq",
      {DbValue(static_cast<int64_t>(size))});
  if (!rows.ok()) return while_doing(rows.error(), "reading leaf hashes");
  std::vector<Hash32> out;
  out.reserve(rows->size());
  for (const DbRow& row : rows->rows) {
    const std::optional<int64_t> seq = int_of(row[0]);
    auto leaf = to_hash32(bytes_of(row[1]));
    if (!seq || static_cast<uint64_t>(*seq) != out.size() || !leaf) {
      return audit_error("record " + std::to_string(out.size()) +
                         " is missing or damaged (run audit verify)");
    }
    out.push_back(*leaf);
  }
  if (out.size() != size) {
    return audit_error("the log has " + std::to_string(out.size()) + " records, fewer than " +
                       std::to_string(size));
  }
  return out;
}

DbResult<std::string> checkpoint_note_at(Txn& txn, uint64_t size) {
  auto rows = txn.query_global("SELECT note FROM audit_checkpoints WHERE tree_size = $1",
                               {DbValue(static_cast<int64_t>(size))});
  if (!rows.ok()) return while_doing(rows.error(), "reading a checkpoint");
  const DbRow* row = rows->first();
  if (row == nullptr) return std::string();
  return std::string(text_of((*row)[0]).value_or(""));
}

}  // namespace

DbResult<AuditInclusionProof> audit_inclusion_proof(Txn& txn, uint64_t seq) {
  RITMA_ASSIGN_OR_RETURN(const std::optional<StoredCheckpoint> cp, latest_checkpoint(txn));
  if (!cp || seq >= cp->tree_size) {
    return audit_error("record " + std::to_string(seq) + " is not covered by a checkpoint yet",
                       DbErrorKind::kNotFound);
  }
  RITMA_ASSIGN_OR_RETURN(const std::vector<Hash32> leaves, read_leaf_hashes(txn, cp->tree_size));
  AuditInclusionProof p;
  p.seq = seq;
  p.tree_size = cp->tree_size;
  p.path = merkle::inclusion_proof(leaves, seq);
  p.checkpoint = cp->note;
  auto rows = txn.query_global("SELECT canonical FROM audit_records WHERE seq = $1",
                               {DbValue(static_cast<int64_t>(seq))});
  if (!rows.ok()) return while_doing(rows.error(), "reading the record");
  const DbRow* row = rows->first();
  if (row == nullptr) return audit_error("record " + std::to_string(seq) + " is missing");
  const ByteSpan c = bytes_of((*row)[0]);
  p.canonical.assign(c.begin(), c.end());
  return p;
}

DbResult<AuditConsistencyProof> audit_consistency_proof(Txn& txn, uint64_t old_size,
                                                        uint64_t new_size) {
  if (old_size > new_size) {
    return audit_error("consistency proof needs old size <= new size", DbErrorKind::kUsage);
  }
  RITMA_ASSIGN_OR_RETURN(const std::vector<Hash32> leaves, read_leaf_hashes(txn, new_size));
  AuditConsistencyProof p;
  p.old_size = old_size;
  p.new_size = new_size;
  p.path = merkle::consistency_proof(leaves, old_size);
  RITMA_ASSIGN_OR_RETURN(p.old_checkpoint, checkpoint_note_at(txn, old_size));
  RITMA_ASSIGN_OR_RETURN(p.new_checkpoint, checkpoint_note_at(txn, new_size));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Verification

std::string describe(const AuditProblem& p) {
  std::string out = p.where == AuditProblem::Where::kRecord
                        ? "record " + std::to_string(p.seq)
                        : "checkpoint at tree size " + std::to_string(p.seq);
  return out + ": " + p.field + ": " + p.message;
}

namespace {

struct LoadedCheckpoint {
  uint64_t tree_size = 0;
  std::optional<Hash32> root;  // as signed, when the note verified and parsed
};

class Verifier {
 public:
  Verifier(Txn& txn, const AuditVerifyOptions& o) : txn_(txn), o_(o) {}

  Result<AuditVerifyReport> run() {
    RITMA_TRY(load_checkpoints());
    RITMA_TRY(walk_records());
    // Checkpoints past the end of the log: the records they cover were removed.
    for (; next_cp_ < cps_.size(); ++next_cp_) {
      const LoadedCheckpoint& c = cps_[next_cp_];
      if (expected_seq_ < c.tree_size) {
        problem(AuditProblem::Where::kRecord, expected_seq_, "missing",
                records_text(expected_seq_, c.tree_size - 1) +
                    " missing (deleted): the checkpoint at tree size " +
                    std::to_string(c.tree_size) + " covers them but the log ends before");
        expected_seq_ = c.tree_size;
      }
      problem(AuditProblem::Where::kCheckpoint, c.tree_size, "tree_size",
              "covers " + std::to_string(c.tree_size) + " records; the log has " +
                  std::to_string(frontier_.size) + " rows");
    }
    return std::move(report_);
  }

 private:
  void problem(AuditProblem::Where where, uint64_t seq, std::string field, std::string message) {
    if (report_.problems.size() >= o_.max_problems) {
      report_.truncated = true;
      return;
    }
    report_.problems.push_back({where, seq, std::move(field), std::move(message)});
  }

  Status load_checkpoints() {
    auto rows =
        txn_.query_global("SELECT tree_size, root, note FROM audit_checkpoints ORDER BY tree_size");
    if (!rows.ok()) return while_doing(rows.error(), "reading checkpoints");
    const std::vector<NamedPublicKey> known = {o_.key};
    for (const DbRow& row : rows->rows) {
      ++report_.checkpoints;
      LoadedCheckpoint c;
      const int64_t size = int_of(row[0]).value_or(0);
      c.tree_size = static_cast<uint64_t>(size);
      const auto where = AuditProblem::Where::kCheckpoint;
      if (size <= 0) {
        problem(where, c.tree_size, "tree_size", "must be at least 1");
        continue;
      }
      const std::string note_text(text_of(row[2]).value_or(""));
      auto opened = note::open(note_text, known);
      if (!opened) {
        problem(where, c.tree_size, "signature",
                "the note does not verify with the pinned key " + o_.key.name + ": " +
                    opened.error().message);
        cps_.push_back(c);
        continue;
      }
      auto body = note::parse_checkpoint_body(opened->body);
      if (!body) {
        problem(where, c.tree_size, "note", "not a checkpoint: " + body.error().message);
        cps_.push_back(c);
        continue;
      }
      if (!o_.origin.empty() && body->origin != o_.origin) {
        problem(where, c.tree_size, "origin",
                "is '" + body->origin + "', expected '" + o_.origin + "'");
      }
      if (body->size != c.tree_size) {
        problem(where, c.tree_size, "tree_size",
                "the signed note says " + std::to_string(body->size));
      }
      auto root_col = to_hash32(bytes_of(row[1]));
      if (!root_col || *root_col != body->root) {
        problem(where, c.tree_size, "root", "the root column differs from the signed root");
      }
      c.root = body->root;
      cps_.push_back(c);
    }
    return {};
  }

  void check_checkpoints_at_size() {
    while (next_cp_ < cps_.size() && cps_[next_cp_].tree_size <= frontier_.size) {
      const LoadedCheckpoint& c = cps_[next_cp_++];
      if (c.tree_size != frontier_.size || !c.root) continue;  // size <= 0, or already named
      const Hash32 root = frontier_.root();
      if (root != *c.root) {
        problem(AuditProblem::Where::kCheckpoint, c.tree_size, "root",
                "the signed root " + to_hex(*c.root) + " is not the root of the first " +
                    std::to_string(c.tree_size) + " records (" + to_hex(root) +
                    "): a record up to seq " + std::to_string(c.tree_size - 1) +
                    " was changed, removed or inserted");
      }
    }
  }

  template <typename T>
  void compare(uint64_t seq, const char* field, const T& column, const T& canonical) {
    if (!(column == canonical)) {
      problem(AuditProblem::Where::kRecord, seq, field,
              "the column differs from the record's canonical bytes");
    }
  }

  // Pages through the rows in seq order (keyset: seq > the last one seen).
  Status walk_records() {
    std::optional<int64_t> after;
    for (;;) {
      auto rows = after ? txn_.query_global(std::string(kSelectRecords) +
                                                " WHERE seq > $1 ORDER BY seq "
                                                "LIMIT $2",
                                            {DbValue(*after), DbValue(kVerifyPage)})
                        : txn_.query_global(std::string(kSelectRecords) + " ORDER BY seq LIMIT $1",
                                            {DbValue(kVerifyPage)});
      if (!rows.ok()) return while_doing(rows.error(), "reading records");
      for (const DbRow& row : rows->rows) check_record(row);
      if (rows->size() < static_cast<size_t>(kVerifyPage)) return {};
      after = int_of(rows->rows.back()[0]);
      if (!after) return make_error("audit log: a seq is not an integer");
    }
  }

  void check_record(const DbRow& row) {
    const auto where = AuditProblem::Where::kRecord;
    ++report_.records;
    const int64_t seq_signed = int_of(row[0]).value_or(-1);
    const auto seq = static_cast<uint64_t>(seq_signed);
    if (seq_signed < 0 || seq < expected_seq_) {
      problem(where, seq, "seq", "out of order (expected " + std::to_string(expected_seq_) + ")");
      have_prev_ = false;
    } else if (seq > expected_seq_) {
      problem(where, expected_seq_, "missing",
              records_text(expected_seq_, seq - 1) + " missing (deleted)");
      have_prev_ = false;
    } else if (seq == 0) {
      have_prev_ = true;  // the first record's prev is 32 zero bytes
    }
    const ByteSpan canonical = bytes_of(row[11]);
    const Hash32 leaf = record_leaf_hash(canonical);
    const Hash32 chain = record_chain_hash(canonical);
    auto rec = decode_record(canonical);
    if (!rec) {
      problem(where, seq, "canonical", "does not decode: " + rec.error().message);
    } else {
      const AuditRecord& r = *rec;
      if (r.seq != seq) {
        problem(where, seq, "seq", "the canonical bytes say seq " + std::to_string(r.seq));
      }
      if (have_prev_ && r.prev != prev_hash_) {
        problem(where, seq, "prev",
                "is not BLAKE3 of record " + std::to_string(seq - 1) +
                    "'s canonical bytes: record " + std::to_string(seq - 1) +
                    " (or this one) was changed");
      }
      compare(seq, "time_ns", int_of(row[1]), std::optional<int64_t>(r.time_ns));
      compare(seq, "tenant", text_of(row[2]), std::optional<std::string_view>(r.tenant));
      compare(seq, "actor", text_of(row[3]), std::optional<std::string_view>(r.actor));
      compare(seq, "action", text_of(row[4]), std::optional<std::string_view>(r.action));
      compare(seq, "decision", text_of(row[5]),
              std::optional<std::string_view>(decision_name(r.decision)));
      compare(seq, "tool", text_of(row[6]), std::optional<std::string_view>(r.tool));
      compare(seq, "input_digest", optional_digest(row[7]), r.input_digest);
      compare(seq, "latency_ns", int_of(row[8]),
              std::optional<int64_t>(static_cast<int64_t>(r.latency_ns)));
      compare(seq, "result_digest", optional_digest(row[9]), r.result_digest);
    }
    compare(seq, "leaf_hash", to_hash32(bytes_of(row[10])), std::optional<Hash32>(leaf));
    // The tree is over the rows as they are; a gap or a change shows at the next checkpoint.
    frontier_.add(leaf);
    check_checkpoints_at_size();
    prev_hash_ = chain;
    if (seq_signed >= 0 && seq >= expected_seq_) {
      expected_seq_ = seq + 1;
      have_prev_ = true;
    }
  }

  // A nullable digest column: NULL is nullopt; anything else must be 32 bytes (a value of
  // another type or length compares as a different value).
  static std::optional<std::optional<Hash32>> optional_digest(const DbValue& v) {
    if (std::holds_alternative<DbNull>(v)) return std::optional<Hash32>();
    auto h = to_hash32(bytes_of(v));
    if (!h || !std::holds_alternative<Bytes>(v)) return std::nullopt;
    return std::optional<Hash32>(*h);
  }
  void compare(uint64_t seq, const char* field, const std::optional<std::optional<Hash32>>& col,
               const std::optional<Hash32>& canonical) {
    if (!col || *col != canonical) {
      problem(AuditProblem::Where::kRecord, seq, field,
              "the column differs from the record's canonical bytes");
    }
  }

  static constexpr std::string_view kSelectRecords =
      "SELECT seq, time_ns, tenant, actor, action, decision, tool, input_digest, latency_ns,"
      " result_digest, leaf_hash, canonical FROM audit_records";

  Txn& txn_;
  const AuditVerifyOptions& o_;
  AuditVerifyReport report_;
  std::vector<LoadedCheckpoint> cps_;
  size_t next_cp_ = 0;
  Frontier frontier_;
  uint64_t expected_seq_ = 0;
  bool have_prev_ = false;  // the previous row is record expected_seq_ - 1
  Hash32 prev_hash_{};      // its chain hash
};

}  // namespace

Result<AuditVerifyReport> verify_audit_log(Db& db, const AuditVerifyOptions& options) {
  // One read transaction, so the walk sees one state of the log even while others append.
  auto txn = db.begin_admin(TxnMode::kRead);
  if (!txn.ok()) return while_doing(txn.error(), "starting a read transaction");
  if (db.backend() == DbBackend::kPostgres) {
    // One snapshot for every statement (READ COMMITTED would take one per page).
    auto iso = txn->query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    if (!iso.ok()) return while_doing(iso.error(), "starting a read transaction");
  }
  Verifier v(*txn, options);
  auto report = v.run();
  (void)txn->rollback();  // nothing to keep: it only read
  return report;
}

}  // namespace ritma::api
