// The audit log: canonical records, appends inside the caller's transaction, checkpoints,
// proofs and the verifier.
#include "api/audit_log.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/signed_note.h"
#include "core/utf8.h"
#include "store/sqlite_handles.h"

namespace ritma::api {
namespace {

using store::StmtPtr;
using store::StmtReset;

constexpr size_t kRecordFields = 15;

// Plain SQL (integers, text, blobs; no triggers), portable to PostgreSQL as BIGINT/TEXT/BYTEA.
// Integers that are uint64 in the record (seq, latency_ns) are stored as their int64 bit
// pattern.
constexpr const char* kSchema[] = {
    R"(CREATE TABLE IF NOT EXISTS audit_records (
  seq INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  decision TEXT NOT NULL,
  tool TEXT NOT NULL,
  input_digest BLOB,
  latency_ns INTEGER NOT NULL,
  result_digest BLOB,
  leaf_hash BLOB NOT NULL,
  canonical BLOB NOT NULL
))",
    "CREATE INDEX IF NOT EXISTS audit_records_tenant ON audit_records(tenant, time_ns)",
    R"(CREATE TABLE IF NOT EXISTS audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  time_ns INTEGER NOT NULL,
  frontier BLOB NOT NULL
))",
};

constexpr const char* kInsertRecord =
    "INSERT INTO audit_records(seq, time_ns, tenant, actor, action, decision, tool,"
    " input_digest, latency_ns, result_digest, leaf_hash, canonical)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
constexpr const char* kSelectTail =
    "SELECT seq, canonical FROM audit_records ORDER BY seq DESC LIMIT 1";
constexpr const char* kSelectLastCheckpoint =
    "SELECT tree_size, root, note, time_ns, frontier FROM audit_checkpoints"
    " ORDER BY tree_size DESC LIMIT 1";
constexpr const char* kSelectLeavesFrom =
    "SELECT seq, leaf_hash FROM audit_records WHERE seq >= ?1 AND seq < ?2 ORDER BY seq";
constexpr const char* kInsertCheckpoint =
    "INSERT INTO audit_checkpoints(tree_size, root, note, time_ns, frontier)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";


Error sql_error(sqlite3* db, std::string_view what) {
  const char* m = sqlite3_errmsg(db);
  return make_error("audit log: " + std::string(what) + ": " + (m != nullptr ? m : "?"));
}

Result<StmtPtr> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
    return sql_error(db, std::string("preparing ") + sql);
  }
  return StmtPtr(raw);
}

ByteSpan column_blob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  const int n = sqlite3_column_bytes(s, i);
  if (p == nullptr || n <= 0) return {};
  return ByteSpan(static_cast<const uint8_t*>(p), static_cast<size_t>(n));
}
std::string_view column_text(sqlite3_stmt* s, int i) {
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  if (t == nullptr) return {};
  return std::string_view(t, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}
// SQLITE_STATIC: every bound buffer outlives the step that reads it.
int bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  return sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
int bind_digest(sqlite3_stmt* s, int i, const std::optional<Hash32>& d) {
  return d ? sqlite3_bind_blob(s, i, d->data(), 32, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}
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

Status create_audit_schema(sqlite3* db) {
  for (const char* sql : kSchema) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err != nullptr ? err : "?";
      sqlite3_free(err);
      return make_error("audit log: creating the schema: " + m);
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Writer

struct AuditWriter::Impl {
  sqlite3* db = nullptr;
  AuditLogConfig config;
  StmtPtr insert_record, select_tail, select_last_cp, select_leaves_from, insert_cp;
  Bytes buf;                       // scratch for one record's canonical bytes
  std::vector<Hash32> new_leaves;  // leaf hashes of the records of the current append call

  struct CheckpointState {
    uint64_t size = 0;
    int64_t time_ns = std::numeric_limits<int64_t>::min();
    std::optional<Frontier> frontier;  // nullopt when no checkpoint or its frontier is unusable
  };

  Result<CheckpointState> last_checkpoint() {
    sqlite3_stmt* s = select_last_cp.get();
    StmtReset reset(s);
    CheckpointState st;
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      st.frontier = Frontier{};
      return st;
    }
    if (rc != SQLITE_ROW) return sql_error(db, "reading the last checkpoint");
    st.size = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    st.time_ns = sqlite3_column_int64(s, 3);
    st.frontier = Frontier::parse(st.size, column_blob(s, 4));
    return st;
  }

  // Writes the checkpoint of the first `size` records (all of them), extending the last
  // checkpoint's frontier by the stored leaf hashes after it, up to `first_new`, and then by
  // `fresh` (the leaves of records first_new.. that this call just inserted).
  Status write_checkpoint(const CheckpointState& last, uint64_t size, int64_t time_ns,
                          uint64_t first_new, std::span<const Hash32> fresh) {
    Frontier f = last.frontier && last.frontier->size <= first_new ? *last.frontier : Frontier{};
    {
      sqlite3_stmt* s = select_leaves_from.get();
      StmtReset reset(s);
      if (sqlite3_bind_int64(s, 1, static_cast<int64_t>(f.size)) != SQLITE_OK ||
          sqlite3_bind_int64(s, 2, static_cast<int64_t>(first_new)) != SQLITE_OK) {
        return sql_error(db, "binding");
      }
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const auto seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
        auto leaf = to_hash32(column_blob(s, 1));
        if (seq != f.size || !leaf) {
          return make_error("audit log: cannot checkpoint: record " + std::to_string(f.size) +
                            " is missing or its leaf_hash is damaged (run audit verify)");
        }
        f.add(*leaf);
      }
      if (rc != SQLITE_DONE) return sql_error(db, "reading leaf hashes");
    }
    for (const Hash32& leaf : fresh) f.add(leaf);
    if (f.size != size) {
      return make_error("audit log: cannot checkpoint: expected " + std::to_string(size) +
                        " records, found " + std::to_string(f.size));
    }
    const Hash32 root = f.root();
    note::Checkpoint cp;
    cp.origin = config.origin;
    cp.size = size;
    cp.root = root;
    RITMA_ASSIGN_OR_RETURN(const std::string text,
                           note::sign(note::checkpoint_body(cp), {config.signer}));
    const Bytes frontier = f.serialize();
    sqlite3_stmt* s = insert_cp.get();
    StmtReset reset(s);
    int rc = sqlite3_bind_int64(s, 1, static_cast<int64_t>(size));
    rc |= sqlite3_bind_blob(s, 2, root.data(), 32, SQLITE_STATIC);
    rc |= sqlite3_bind_text(s, 3, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    rc |= sqlite3_bind_int64(s, 4, time_ns);
    rc |=
        sqlite3_bind_blob(s, 5, frontier.data(), static_cast<int>(frontier.size()), SQLITE_STATIC);
    if (rc != SQLITE_OK) return sql_error(db, "binding the checkpoint");
    if (sqlite3_step(s) != SQLITE_DONE) return sql_error(db, "inserting a checkpoint");
    return {};
  }

  // A log shorter than its newest checkpoint lost records: extending it would make the log
  // sign a tree inconsistent with one it already signed, so refuse.
  static Status check_not_truncated(uint64_t log_size, uint64_t checkpoint_size) {
    if (log_size >= checkpoint_size) return {};
    return make_error("audit log: the log has " + std::to_string(log_size) +
                      " records but its newest checkpoint covers " +
                      std::to_string(checkpoint_size) +
                      ": records were deleted; run audit verify, refusing to append");
  }

  Status check_in_transaction() const {
    if (sqlite3_get_autocommit(db) != 0) {
      return make_error(
          "audit log: append must run inside the caller's write transaction (BEGIN IMMEDIATE), "
          "so the record commits with the state change it records");
    }
    if (config.signer == nullptr) return make_error("audit log: no checkpoint signer configured");
    return {};
  }
};

AuditWriter::AuditWriter(Impl* impl) : impl_(impl) {}
AuditWriter::AuditWriter(AuditWriter&& o) noexcept : impl_(std::exchange(o.impl_, nullptr)) {}
AuditWriter& AuditWriter::operator=(AuditWriter&& o) noexcept {
  if (this != &o) {
    delete impl_;
    impl_ = std::exchange(o.impl_, nullptr);
  }
  return *this;
}
AuditWriter::~AuditWriter() {
  delete impl_;
}

Result<AuditWriter> AuditWriter::open(sqlite3* db, AuditLogConfig config) {
  if (config.signer == nullptr) return make_error("audit log: a checkpoint signer is required");
  if (config.origin.empty() || config.origin.find('\n') != std::string::npos ||
      !is_valid_utf8(config.origin)) {
    return make_error("audit log: the origin must be one non-empty line of UTF-8");
  }
  if (config.checkpoint_every == 0) return make_error("audit log: checkpoint_every must be >= 1");
  RITMA_TRY(create_audit_schema(db));
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  impl->config = std::move(config);
  RITMA_ASSIGN_OR_RETURN(impl->insert_record, prepare(db, kInsertRecord));
  RITMA_ASSIGN_OR_RETURN(impl->select_tail, prepare(db, kSelectTail));
  RITMA_ASSIGN_OR_RETURN(impl->select_last_cp, prepare(db, kSelectLastCheckpoint));
  RITMA_ASSIGN_OR_RETURN(impl->select_leaves_from, prepare(db, kSelectLeavesFrom));
  RITMA_ASSIGN_OR_RETURN(impl->insert_cp, prepare(db, kInsertCheckpoint));
  return AuditWriter(impl.release());
}

Result<AppendResult> AuditWriter::append(std::span<AuditRecord> records) {
  Impl& m = *impl_;
  RITMA_TRY(m.check_in_transaction());
  // The tail, read inside the caller's write transaction: no other writer can move it now.
  uint64_t next_seq = 0;
  Hash32 prev{};
  {
    sqlite3_stmt* s = m.select_tail.get();
    StmtReset reset(s);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      next_seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0)) + 1;
      prev = record_chain_hash(column_blob(s, 1));
    } else if (rc != SQLITE_DONE) {
      return sql_error(m.db, "reading the tail");
    }
  }
  AppendResult out;
  out.first_seq = next_seq;
  m.new_leaves.clear();
  sqlite3_stmt* ins = m.insert_record.get();
  for (AuditRecord& r : records) {
    r.seq = next_seq;
    r.prev = prev;
    RITMA_TRY(encode_into(r, m.buf));
    const Hash32 leaf = record_leaf_hash(m.buf);
    StmtReset reset(ins);
    const std::string_view decision = decision_name(r.decision);
    int rc = sqlite3_bind_int64(ins, 1, static_cast<int64_t>(r.seq));
    rc |= sqlite3_bind_int64(ins, 2, r.time_ns);
    rc |= bind_text(ins, 3, r.tenant);
    rc |= bind_text(ins, 4, r.actor);
    rc |= bind_text(ins, 5, r.action);
    rc |= bind_text(ins, 6, decision);
    rc |= bind_text(ins, 7, r.tool);
    rc |= bind_digest(ins, 8, r.input_digest);
    rc |= sqlite3_bind_int64(ins, 9, static_cast<int64_t>(r.latency_ns));
    rc |= bind_digest(ins, 10, r.result_digest);
    rc |= sqlite3_bind_blob(ins, 11, leaf.data(), 32, SQLITE_STATIC);
    rc |= sqlite3_bind_blob(ins, 12, m.buf.data(), static_cast<int>(m.buf.size()), SQLITE_STATIC);
    if (rc != SQLITE_OK) return sql_error(m.db, "binding a record");
    if (sqlite3_step(ins) != SQLITE_DONE) {
      return sql_error(m.db, "inserting record " + std::to_string(r.seq));
    }
    prev = record_chain_hash(m.buf);
    m.new_leaves.push_back(leaf);
    ++next_seq;
    ++out.count;
  }
  if (records.empty()) return out;
  RITMA_ASSIGN_OR_RETURN(const Impl::CheckpointState last, m.last_checkpoint());
  RITMA_TRY(Impl::check_not_truncated(out.first_seq, last.size));
  const int64_t newest_ns = records.back().time_ns;
  const bool due_by_count = next_seq - last.size >= m.config.checkpoint_every;
  const bool due_by_time =
      last.time_ns == std::numeric_limits<int64_t>::min() ||
      (newest_ns > last.time_ns &&
       static_cast<uint64_t>(newest_ns) - static_cast<uint64_t>(last.time_ns) >=
           static_cast<uint64_t>(m.config.checkpoint_interval_ns));
  if (next_seq > last.size && (due_by_count || due_by_time)) {
    RITMA_TRY(m.write_checkpoint(last, next_seq, newest_ns, out.first_seq, m.new_leaves));
    out.checkpoint_size = next_seq;
  }
  return out;
}

Result<std::optional<uint64_t>> AuditWriter::checkpoint(int64_t now_ns) {
  Impl& m = *impl_;
  RITMA_TRY(m.check_in_transaction());
  uint64_t size = 0;
  {
    sqlite3_stmt* s = m.select_tail.get();
    StmtReset reset(s);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      size = static_cast<uint64_t>(sqlite3_column_int64(s, 0)) + 1;
    } else if (rc != SQLITE_DONE) {
      return sql_error(m.db, "reading the tail");
    }
  }
  RITMA_ASSIGN_OR_RETURN(const Impl::CheckpointState last, m.last_checkpoint());
  RITMA_TRY(Impl::check_not_truncated(size, last.size));
  if (size <= last.size) return std::optional<uint64_t>();
  RITMA_TRY(m.write_checkpoint(last, size, now_ns, size, {}));
  return std::optional<uint64_t>(size);
}

// ---------------------------------------------------------------------------------------------
// Reading: checkpoints and proofs

Result<std::optional<StoredCheckpoint>> latest_checkpoint(sqlite3* db) {
  RITMA_ASSIGN_OR_RETURN(StmtPtr s, prepare(db, kSelectLastCheckpoint));
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<StoredCheckpoint>();
  if (rc != SQLITE_ROW) return sql_error(db, "reading the last checkpoint");
  StoredCheckpoint c;
  c.tree_size = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
  auto root = to_hash32(column_blob(s.get(), 1));
  if (!root)
    return make_error("audit log: checkpoint " + std::to_string(c.tree_size) +
                      " has a damaged root column");
  c.root = *root;
  c.note = std::string(column_text(s.get(), 2));
  c.time_ns = sqlite3_column_int64(s.get(), 3);
  return std::optional<StoredCheckpoint>(std::move(c));
}

namespace {

// The stored leaf hashes of records 0..size-1; fails on a gap or a damaged hash.
Result<std::vector<Hash32>> read_leaf_hashes(sqlite3* db, uint64_t size) {
  RITMA_ASSIGN_OR_RETURN(
      StmtPtr s, prepare(db,
                         "SELECT seq, leaf_hash FROM audit_records WHERE seq >= 0 AND seq < ?1"
                         " ORDER BY seq"));
  if (sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(size)) != SQLITE_OK) {
    return sql_error(db, "binding");
  }
  std::vector<Hash32> out;
  out.reserve(size);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const auto seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
    auto leaf = to_hash32(column_blob(s.get(), 1));
    if (seq != out.size() || !leaf) {
      return make_error("audit log: record " + std::to_string(out.size()) +
                        " is missing or damaged (run audit verify)");
    }
    out.push_back(*leaf);
  }
  if (rc != SQLITE_DONE) return sql_error(db, "reading leaf hashes");
  if (out.size() != size) {
    return make_error("audit log: the log has " + std::to_string(out.size()) +
                      " records, fewer than " + std::to_string(size));
  }
  return out;
}

Result<std::string> checkpoint_note_at(sqlite3* db, uint64_t size) {
  RITMA_ASSIGN_OR_RETURN(StmtPtr s,
                         prepare(db, "SELECT note FROM audit_checkpoints WHERE tree_size = ?1"));
  if (sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(size)) != SQLITE_OK) {
    return sql_error(db, "binding");
  }
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return sql_error(db, "reading a checkpoint");
  return std::string(column_text(s.get(), 0));
}

}  // namespace

Result<AuditInclusionProof> audit_inclusion_proof(sqlite3* db, uint64_t seq) {
  RITMA_ASSIGN_OR_RETURN(const std::optional<StoredCheckpoint> cp, latest_checkpoint(db));
  if (!cp || seq >= cp->tree_size) {
    return make_error("audit log: record " + std::to_string(seq) +
                      " is not covered by a checkpoint yet");
  }
  RITMA_ASSIGN_OR_RETURN(const std::vector<Hash32> leaves, read_leaf_hashes(db, cp->tree_size));
  AuditInclusionProof p;
  p.seq = seq;
  p.tree_size = cp->tree_size;
  p.path = merkle::inclusion_proof(leaves, seq);
  p.checkpoint = cp->note;
  RITMA_ASSIGN_OR_RETURN(StmtPtr s,
                         prepare(db, "SELECT canonical FROM audit_records WHERE seq = ?1"));
  if (sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(seq)) != SQLITE_OK) {
    return sql_error(db, "binding");
  }
  if (sqlite3_step(s.get()) != SQLITE_ROW) return sql_error(db, "reading the record");
  const ByteSpan c = column_blob(s.get(), 0);
  p.canonical.assign(c.begin(), c.end());
  return p;
}

Result<AuditConsistencyProof> audit_consistency_proof(sqlite3* db, uint64_t old_size,
                                                      uint64_t new_size) {
  if (old_size > new_size) {
    return make_error("audit log: consistency proof needs old size <= new size");
  }
  RITMA_ASSIGN_OR_RETURN(const std::vector<Hash32> leaves, read_leaf_hashes(db, new_size));
  AuditConsistencyProof p;
  p.old_size = old_size;
  p.new_size = new_size;
  p.path = merkle::consistency_proof(leaves, old_size);
  RITMA_ASSIGN_OR_RETURN(p.old_checkpoint, checkpoint_note_at(db, old_size));
  RITMA_ASSIGN_OR_RETURN(p.new_checkpoint, checkpoint_note_at(db, new_size));
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
  Verifier(sqlite3* db, const AuditVerifyOptions& o) : db_(db), o_(o) {}

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
    RITMA_ASSIGN_OR_RETURN(StmtPtr s, prepare(db_,
                                              "SELECT tree_size, root, note FROM audit_checkpoints"
                                              " ORDER BY tree_size"));
    const std::vector<NamedPublicKey> known = {o_.key};
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      ++report_.checkpoints;
      LoadedCheckpoint c;
      const int64_t size = sqlite3_column_int64(s.get(), 0);
      c.tree_size = static_cast<uint64_t>(size);
      const auto where = AuditProblem::Where::kCheckpoint;
      if (size <= 0) {
        problem(where, c.tree_size, "tree_size", "must be at least 1");
        continue;
      }
      const std::string note_text(column_text(s.get(), 2));
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
      auto root_col = to_hash32(column_blob(s.get(), 1));
      if (!root_col || *root_col != body->root) {
        problem(where, c.tree_size, "root", "the root column differs from the signed root");
      }
      c.root = body->root;
      cps_.push_back(c);
    }
    if (rc != SQLITE_DONE) return sql_error(db_, "reading checkpoints");
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

  Status walk_records() {
    RITMA_ASSIGN_OR_RETURN(
        StmtPtr s,
        prepare(db_,
                "SELECT seq, time_ns, tenant, actor, action, decision, tool, input_digest,"
                " latency_ns, result_digest, leaf_hash, canonical, typeof(input_digest),"
                " typeof(result_digest) FROM audit_records ORDER BY seq"));
    const auto where = AuditProblem::Where::kRecord;
    int rc;
    bool have_prev = false;  // the previous row is record expected_seq_ - 1
    Hash32 prev_hash{};      // its chain hash
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      sqlite3_stmt* st = s.get();
      ++report_.records;
      const int64_t seq_signed = sqlite3_column_int64(st, 0);
      const auto seq = static_cast<uint64_t>(seq_signed);
      if (seq_signed < 0 || seq < expected_seq_) {
        problem(where, seq, "seq", "out of order (expected " + std::to_string(expected_seq_) + ")");
        have_prev = false;
      } else if (seq > expected_seq_) {
        problem(where, expected_seq_, "missing",
                records_text(expected_seq_, seq - 1) + " missing (deleted)");
        have_prev = false;
      } else if (seq == 0) {
        have_prev = true;  // the first record's prev is 32 zero bytes
      }
      const ByteSpan canonical = column_blob(st, 11);
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
        if (have_prev && r.prev != prev_hash) {
          problem(where, seq, "prev",
                  "is not BLAKE3 of record " + std::to_string(seq - 1) +
                      "'s canonical bytes: record " + std::to_string(seq - 1) +
                      " (or this one) was changed");
        }
        compare(seq, "time_ns", static_cast<int64_t>(sqlite3_column_int64(st, 1)), r.time_ns);
        compare(seq, "tenant", column_text(st, 2), std::string_view(r.tenant));
        compare(seq, "actor", column_text(st, 3), std::string_view(r.actor));
        compare(seq, "action", column_text(st, 4), std::string_view(r.action));
        compare(seq, "decision", column_text(st, 5), decision_name(r.decision));
        compare(seq, "tool", column_text(st, 6), std::string_view(r.tool));
        compare(seq, "input_digest", optional_digest(st, 7, 12), r.input_digest);
        compare(seq, "latency_ns", static_cast<uint64_t>(sqlite3_column_int64(st, 8)),
                r.latency_ns);
        compare(seq, "result_digest", optional_digest(st, 9, 13), r.result_digest);
      }
      compare(seq, "leaf_hash", to_hash32(column_blob(st, 10)), std::optional<Hash32>(leaf));
      // The tree is over the rows as they are; a gap or a change shows at the next checkpoint.
      frontier_.add(leaf);
      check_checkpoints_at_size();
      prev_hash = chain;
      if (seq_signed >= 0 && seq >= expected_seq_) {
        expected_seq_ = seq + 1;
        have_prev = true;
      }
    }
    if (rc != SQLITE_DONE) return sql_error(db_, "reading records");
    return {};
  }

  // A nullable digest column: NULL is nullopt; anything else must be a 32-byte blob (a
  // 32-byte value that is not, e.g. text, compares as a different value).
  static std::optional<std::optional<Hash32>> optional_digest(sqlite3_stmt* st, int col,
                                                              int type_col) {
    const std::string_view type = column_text(st, type_col);
    if (type == "null") return std::optional<Hash32>();
    if (type != "blob") return std::nullopt;
    auto h = to_hash32(column_blob(st, col));
    if (!h) return std::nullopt;
    return std::optional<Hash32>(*h);
  }
  void compare(uint64_t seq, const char* field, const std::optional<std::optional<Hash32>>& col,
               const std::optional<Hash32>& canonical) {
    if (!col || *col != canonical) {
      problem(AuditProblem::Where::kRecord, seq, field,
              "the column differs from the record's canonical bytes");
    }
  }

  sqlite3* db_;
  const AuditVerifyOptions& o_;
  AuditVerifyReport report_;
  std::vector<LoadedCheckpoint> cps_;
  size_t next_cp_ = 0;
  Frontier frontier_;
  uint64_t expected_seq_ = 0;
};

}  // namespace

Result<AuditVerifyReport> verify_audit_log(sqlite3* db, const AuditVerifyOptions& options) {
  // One read transaction, so the walk sees one state of the log even while others append.
  char* err = nullptr;
  const bool own_txn = sqlite3_get_autocommit(db) != 0;
  if (own_txn && sqlite3_exec(db, "BEGIN", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err != nullptr ? err : "?";
    sqlite3_free(err);
    return make_error("audit log: BEGIN: " + m);
  }
  Verifier v(db, options);
  auto report = v.run();
  if (own_txn) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  return report;
}

}  // namespace ritma::api
