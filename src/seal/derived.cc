// Derived files of the sealed store (docs/FORMAT.md §10.10-10.11): time indexes, the daily
// catalog and the daily accounting ledger. The writer and the checker share the functions that
// compute a window's contribution (window_index, window_account), so the checker recomputes
// exactly what the writer wrote, and the tests check those functions against the format.
#include "seal/derived.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/utf8.h"
#include "core/zstd_codec.h"
#include "seal/cases.h"

namespace ritma::seal {
namespace {

using cbor::Value;
using cbor::Writer;

__extension__ typedef unsigned __int128 U128;

constexpr uint64_t kIndexSeconds[] = {1, 10, 60};
constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr size_t kSketchTop = 20;
// Distinct keys a writer counts per sketch; beyond this it keeps the larger half (see Counter).
constexpr size_t kSketchCap = 16384;
constexpr size_t kMaxDerivedFileBytes = 64u << 20;  // compressed or decompressed
constexpr uint64_t kMaxProblemsPerFile = 20;

// floor(t / unit) * unit, or nullopt when that is below INT64_MIN (no such bucket).
std::optional<int64_t> floor_multiple(int64_t t, int64_t unit) {
  int64_t q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  int64_t out = 0;
  if (__builtin_mul_overflow(q, unit, &out)) return std::nullopt;
  return out;
}

std::string window_name(const std::string& stem, uint64_t log_index) {
  return stem + " (log index " + std::to_string(log_index) + ")";
}

// ---------------------------------------------------------------- time index (§10.10)

struct IndexFile {  // one index/t_<N>s/.../HH.idx file
  uint64_t seconds = 0;
  int64_t hour = 0;
  auto operator<=>(const IndexFile&) const = default;
};

struct IndexGroup {
  IndexFile file;
  std::vector<TimeIndexEntry> entries;  // in the order they are appended
};

// The time index entries of one window: for each granularity, one entry per distinct bucket,
// in order of the bucket's first event in the window; grouped by the file (granularity, UTC
// hour of the bucket start) they belong to. Per event this is one division and a comparison
// with the previous event's bucket; only a change of bucket touches a set.
std::vector<IndexGroup> window_index(uint64_t log_index, std::span<const EventFacts> facts) {
  std::vector<IndexGroup> groups;
  std::map<IndexFile, size_t> where;
  std::unordered_set<int64_t> seen;
  for (const uint64_t n : kIndexSeconds) {
    const int64_t unit = static_cast<int64_t>(n) * kNsPerSecond;
    seen.clear();
    bool have_last = false;
    int64_t last = 0;
    for (const EventFacts& f : facts) {
      const std::optional<int64_t> b = floor_multiple(f.wall_ns, unit);
      if (!b) continue;  // wall_ns within a bucket of INT64_MIN: not indexable
      if (have_last && *b == last) continue;
      have_last = true;
      last = *b;
      if (!seen.insert(*b).second) continue;
      const std::optional<int64_t> hour = floor_multiple(*b, static_cast<int64_t>(kHourNs));
      if (!hour) continue;
      const IndexFile key{n, *hour};
      auto [it, inserted] = where.try_emplace(key, groups.size());
      if (inserted) groups.push_back(IndexGroup{key, {}});
      groups[it->second].entries.push_back(
          TimeIndexEntry{*b, log_index, f.block, f.index_in_block});
    }
  }
  return groups;
}

std::string entry_text(const TimeIndexEntry& e) {
  return "[bucket_start_ns " + std::to_string(e.bucket_start_ns) + ", block " +
         std::to_string(e.block) + ", event " + std::to_string(e.event) + "]";
}

// ---------------------------------------------------------------- accounting (§10.11)

// Maps event types to dense slots; a linear scan while there are few types (always, for real
// data), a hash map beyond that so hostile input cannot make it quadratic.
class TypeSlots {
 public:
  uint32_t slot(uint64_t type) {
    if (last_ < rows_.size() && rows_[last_].type == type) return last_;
    if (index_.empty()) {
      for (uint32_t i = 0; i < rows_.size(); ++i) {
        if (rows_[i].type == type) return last_ = i;
      }
    } else if (auto it = index_.find(type); it != index_.end()) {
      return last_ = it->second;
    }
    rows_.push_back(AccountRow{type, 0, 0, 0});
    last_ = static_cast<uint32_t>(rows_.size() - 1);
    if (!index_.empty()) {
      index_.emplace(type, last_);
    } else if (rows_.size() > 16) {
      for (uint32_t i = 0; i < rows_.size(); ++i) index_.emplace(rows_[i].type, i);
    }
    return last_;
  }
  AccountRow& row(uint32_t slot) { return rows_[slot]; }
  std::vector<AccountRow> take_sorted() {
    std::sort(rows_.begin(), rows_.end(),
              [](const AccountRow& a, const AccountRow& b) { return a.type < b.type; });
    return std::move(rows_);
  }

 private:
  std::vector<AccountRow> rows_;
  std::unordered_map<uint64_t, uint32_t> index_;
  uint32_t last_ = 0;
};

struct WindowAccount {
  std::vector<AccountRow> rows;  // ascending type
  AccountTotals totals;          // windows = 1
};

// Size of the signature record of a micro record: the node key's name is
// "ritma-node-<node id>" (§4.1), and the key and signature have fixed sizes.
size_t signature_record_size(const std::string& node_id) {
  SignatureRecord s;
  s.key_name = "ritma-node-" + node_id;
  return encode(s).size();
}

// One window's contribution to its day's accounting. Each block's compressed size is shared
// among the types of its events in proportion to their raw bytes, rounded down, the remainder
// going to the block's first type. Blocks are the runs of equal `block` in `facts` (facts come
// in seq order, so each block is one run).
WindowAccount window_account(const MicroRecord& r, std::span<const EventFacts> facts,
                             size_t sig_bytes) {
  TypeSlots slots;
  std::vector<uint64_t> run_raw;    // per slot, raw bytes in the current block
  std::vector<uint64_t> run_stamp;  // per slot, the run that last touched it
  std::vector<uint32_t> run_slots;  // slots of the current block, first appearance first
  uint64_t run = 0;
  uint64_t cur_block = 0;
  auto close_run = [&] {
    if (run_slots.empty()) return;
    const uint64_t z = cur_block < r.blocks.size() ? r.blocks[cur_block].zstd_bytes : 0;
    U128 raw_total = 0;
    for (const uint32_t s : run_slots) raw_total += run_raw[s];
    if (raw_total != 0 && z != 0) {
      uint64_t given = 0;
      for (const uint32_t s : run_slots) {
        const auto share = static_cast<uint64_t>(U128{z} * run_raw[s] / raw_total);
        slots.row(s).zstd_bytes += share;
        given += share;
      }
      slots.row(run_slots.front()).zstd_bytes += z - given;
    }
    for (const uint32_t s : run_slots) run_raw[s] = 0;
    run_slots.clear();
  };
  uint64_t raw_sum = 0;
  for (const EventFacts& f : facts) {
    if (run == 0 || f.block != cur_block) {
      close_run();
      cur_block = f.block;
      ++run;
    }
    const uint32_t s = slots.slot(f.type);
    if (s >= run_raw.size()) {
      run_raw.resize(s + 1, 0);
      run_stamp.resize(s + 1, 0);
    }
    if (run_stamp[s] != run) {
      run_stamp[s] = run;
      run_slots.push_back(s);
    }
    run_raw[s] += f.atom_bytes;
    AccountRow& row = slots.row(s);
    ++row.events;
    row.raw_bytes += f.atom_bytes;
    raw_sum += f.atom_bytes;
  }
  close_run();

  WindowAccount a;
  a.rows = slots.take_sorted();
  a.totals.windows = 1;
  a.totals.events = facts.size();
  a.totals.raw_bytes = raw_sum;
  for (const BlockRef& b : r.blocks) a.totals.zstd_bytes += b.zstd_bytes;
  const uint64_t micro_bytes = encode(r).size();
  // block files + micro file + .sig file + window-log frame (4-byte length + the micro record).
  a.totals.sealed_bytes = a.totals.zstd_bytes + micro_bytes + sig_bytes + 4 + micro_bytes;
  return a;
}

void add_rows(std::map<uint64_t, AccountRow>& per_type, const std::vector<AccountRow>& rows) {
  for (const AccountRow& x : rows) {
    AccountRow& y = per_type.try_emplace(x.type, AccountRow{x.type, 0, 0, 0}).first->second;
    y.events += x.events;
    y.raw_bytes += x.raw_bytes;
    y.zstd_bytes += x.zstd_bytes;
  }
}

void add_totals(AccountTotals& t, const AccountTotals& x) {
  t.windows += x.windows;
  t.events += x.events;
  t.raw_bytes += x.raw_bytes;
  t.zstd_bytes += x.zstd_bytes;
  t.sealed_bytes += x.sealed_bytes;
}

CatalogWindow catalog_window(const MicroRecord& r) {
  CatalogWindow w;
  w.log_index = r.log_index;
  w.stem_path = stem_path(r);
  w.first_seq = r.first_seq;
  w.event_count = r.event_count;
  w.loss_count = r.loss_count;
  w.micro_root = r.micro_root;
  w.min_wall_ns = r.min_wall_ns;
  w.max_wall_ns = r.max_wall_ns;
  return w;
}

// ---------------------------------------------------------------- sketches

// Text of a connect destination's IP address without the port ("10.0.0.1", "2001:db8::1");
// "" for families without an IP.
std::string ip_text(const capture::NetAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family == AF_INET) {
    if (inet_ntop(AF_INET, a.ip.data(), buf, sizeof buf) != nullptr) return buf;
  } else if (a.family == AF_INET6) {
    if (inet_ntop(AF_INET6, a.ip.data(), buf, sizeof buf) != nullptr) return buf;
  }
  return {};
}

// Counts of one sketch. Exact while a day has at most kSketchCap distinct keys; beyond that it
// keeps the kSketchCap/2 largest counts and forgets the rest, so a key that was forgotten and
// comes back starts again from zero (its count is then too small). Memory stays bounded.
template <typename K>
class Counter {
 public:
  void add(const K& key, uint64_t n = 1) {
    auto [it, inserted] = counts_.try_emplace(key, 0);
    it->second += n;
    if (inserted && counts_.size() > kSketchCap) prune();
  }

  std::vector<std::pair<K, uint64_t>> top(size_t n) const {
    std::vector<const std::pair<const K, uint64_t>*> all;
    all.reserve(counts_.size());
    for (const auto& kv : counts_) all.push_back(&kv);
    auto before = [](const std::pair<const K, uint64_t>* a, const std::pair<const K, uint64_t>* b) {
      if (a->second != b->second) return a->second > b->second;
      return a->first < b->first;
    };
    const size_t k = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end(), before);
    std::vector<std::pair<K, uint64_t>> out;
    out.reserve(k);
    for (size_t i = 0; i < k; ++i) out.emplace_back(all[i]->first, all[i]->second);
    return out;
  }

 private:
  void prune() {
    std::vector<std::pair<K, uint64_t>> keep = top(kSketchCap / 2);
    counts_.clear();
    for (auto& [k, v] : keep) counts_.emplace(std::move(k), v);
  }
  std::unordered_map<K, uint64_t> counts_;
};

struct Sketches {
  Counter<std::string> processes, ips, files;
  Counter<uint64_t> users, types;

  void add(const capture::Event& e) {
    types.add(static_cast<uint64_t>(e.type));
    users.add(e.uid);
    switch (e.type) {
      case capture::EventType::kExec: {
        // The sensor updates the process table before it emits an exec event, so `exe` is
        // the program just executed; `path` (the exec filename) when it is unknown.
        const std::string& exe = e.exe.empty() ? e.path : e.exe;
        if (!exe.empty()) processes.add(exe);
        break;
      }
      case capture::EventType::kFile:
        if (!e.path.empty()) files.add(e.path);
        break;
      case capture::EventType::kNet:
        if (e.op == RITMA_OP_CONNECT) {
          const std::string ip = ip_text(e.addr);
          if (!ip.empty()) ips.add(ip);
        }
        break;
      default:
        break;
    }
  }

  void add(const CatalogSketches& s) {
    for (const auto& [k, n] : s.top_processes) processes.add(k, n);
    for (const auto& [k, n] : s.top_outbound_ips) ips.add(k, n);
    for (const auto& [k, n] : s.top_files) files.add(k, n);
    for (const auto& [k, n] : s.top_users) users.add(k, n);
    for (const auto& [k, n] : s.type_counts) types.add(k, n);
  }

  CatalogSketches top() const {
    return CatalogSketches{processes.top(kSketchTop), ips.top(kSketchTop), files.top(kSketchTop),
                           users.top(kSketchTop), types.top(kSketchTop)};
  }
};

// ---------------------------------------------------------------- encoding

void put_kernel_string(Writer& w, const std::string& s) {
  if (is_valid_utf8(s)) {
    w.text(s);
  } else {
    w.bytes(as_bytes(s));
  }
}

void put_string_counts(Writer& w, const std::vector<std::pair<std::string, uint64_t>>& v) {
  w.array(v.size());
  for (const auto& [k, n] : v) {
    w.array(2);
    put_kernel_string(w, k);
    w.uint(n);
  }
}

void put_uint_counts(Writer& w, const std::vector<std::pair<uint64_t, uint64_t>>& v) {
  w.array(v.size());
  for (const auto& [k, n] : v) {
    w.array(2);
    w.uint(k);
    w.uint(n);
  }
}

Bytes encode_catalog(const StoreId& store_id, const std::string& node_id, const std::string& day,
                     std::span<const CatalogWindow> windows, const CatalogSketches& sk) {
  Bytes out;
  out.reserve(1024 + 128 * windows.size());
  Writer w(out);
  w.array(6);
  w.text("ritma-catalog@1");
  w.bytes(store_id);
  w.text(node_id);
  w.text(day);
  w.array(windows.size());
  for (const CatalogWindow& x : windows) {
    w.array(10);
    w.uint(x.log_index);
    w.text(x.stem_path);
    w.uint(x.first_seq);
    w.uint(x.event_count);
    w.uint(x.loss_count);
    w.bytes(x.micro_root);
    w.int64(x.min_wall_ns);
    w.int64(x.max_wall_ns);
    w.boolean(x.retention_lock);
    w.array(x.case_ids.size());
    for (const std::string& id : x.case_ids) w.text(id);
  }
  w.array(5);
  put_string_counts(w, sk.top_processes);
  put_string_counts(w, sk.top_outbound_ips);
  put_string_counts(w, sk.top_files);
  put_uint_counts(w, sk.top_users);
  put_uint_counts(w, sk.type_counts);
  return out;
}

Bytes encode_account(const StoreId& store_id, const std::string& node_id, const std::string& day,
                     const std::vector<AccountRow>& rows, const AccountTotals& t) {
  Bytes out;
  Writer w(out);
  w.array(6);
  w.text("ritma-account@1");
  w.bytes(store_id);
  w.text(node_id);
  w.text(day);
  w.array(rows.size());
  for (const AccountRow& x : rows) {
    w.array(4);
    w.uint(x.type);
    w.uint(x.events);
    w.uint(x.raw_bytes);
    w.uint(x.zstd_bytes);
  }
  w.array(5);
  w.uint(t.windows);
  w.uint(t.events);
  w.uint(t.raw_bytes);
  w.uint(t.zstd_bytes);
  w.uint(t.sealed_bytes);
  return out;
}

// ---------------------------------------------------------------- strict decoding

class Field {
 public:
  Field(const Value& v, std::string name) : v_(v), name_(std::move(name)) {}
  Error bad(std::string_view want) const {
    return make_error(name_ + " is not " + std::string(want));
  }
  Result<uint64_t> u() const {
    if (!v_.is_unsigned()) return bad("an unsigned integer");
    return v_.as_uint();
  }
  Result<int64_t> s() const {
    if (v_.type() != cbor::Type::kUnsigned && v_.type() != cbor::Type::kNegative)
      return bad("an integer");
    auto r = v_.to_int64();
    if (!r.ok()) return bad("an integer in int64 range");
    return *r;
  }
  Result<std::string> text() const {
    if (v_.type() != cbor::Type::kText) return bad("a text string");
    return v_.as_text();
  }
  // Text, or a byte string that is not valid UTF-8 (one encoding per string, as in §9).
  Result<std::string> kernel_string() const {
    if (v_.type() == cbor::Type::kText) return v_.as_text();
    if (v_.type() == cbor::Type::kBytes) {
      const Bytes& b = v_.as_bytes();
      if (!find_invalid_utf8(b)) return bad("text (a byte string that is valid UTF-8)");
      return std::string(b.begin(), b.end());
    }
    return bad("a text or byte string");
  }
  Result<bool> boolean() const {
    if (v_.type() != cbor::Type::kBool) return bad("a boolean");
    return v_.as_bool();
  }
  template <size_t N>
  Result<std::array<uint8_t, N>> fixed() const {
    if (v_.type() != cbor::Type::kBytes || v_.as_bytes().size() != N)
      return bad("a byte string of " + std::to_string(N) + " bytes");
    std::array<uint8_t, N> out{};
    std::copy(v_.as_bytes().begin(), v_.as_bytes().end(), out.begin());
    return out;
  }
  // An array, of exactly n items unless n is SIZE_MAX.
  Result<const Value::Array*> array(size_t n = SIZE_MAX) const {
    if (!v_.is_array()) return bad("an array");
    if (n != SIZE_MAX && v_.as_array().size() != n)
      return bad("an array of " + std::to_string(n) + " items");
    return &v_.as_array();
  }
  Field at(size_t i, std::string_view sub) const {
    return Field(v_.as_array()[i], name_ + std::string(sub));
  }

 private:
  const Value& v_;
  std::string name_;
};

Result<Value> decode_document(ByteSpan b, std::string_view what) {
  auto v = cbor::decode(b);
  if (!v.ok()) return make_error(std::string(what) + ": " + v.error().message);
  return std::move(v).value();
}

Status check_tag(const Field& top, std::string_view tag, size_t n) {
  RITMA_ASSIGN_OR_RETURN(const Value::Array* a, top.array(n));
  if ((*a)[0].type() != cbor::Type::kText || (*a)[0].as_text() != tag)
    return make_error(top.at(0, "").bad("the tag \"" + std::string(tag) + "\"").message);
  return {};
}

template <typename K, typename Get>
Result<std::vector<std::pair<K, uint64_t>>> decode_counts(const Field& f, Get get_key) {
  RITMA_ASSIGN_OR_RETURN(const Value::Array* a, f.array());
  std::vector<std::pair<K, uint64_t>> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const Field item = f.at(i, "[" + std::to_string(i) + "]");
    RITMA_TRY(item.array(2));
    RITMA_ASSIGN_OR_RETURN(K key, get_key(item.at(0, ".key")));
    RITMA_ASSIGN_OR_RETURN(uint64_t n, item.at(1, ".count").u());
    out.emplace_back(std::move(key), n);
  }
  return out;
}

Result<Account> decode_account_value(const Value& v) {
  const Field top(v, "account");
  RITMA_TRY(check_tag(top, "ritma-account@1", 6));
  Account acc;
  RITMA_ASSIGN_OR_RETURN(acc.store_id, top.at(1, ".store_id").fixed<16>());
  RITMA_ASSIGN_OR_RETURN(acc.node_id, top.at(2, ".node_id").text());
  RITMA_ASSIGN_OR_RETURN(acc.day, top.at(3, ".day").text());
  const Field per_type = top.at(4, ".per_type");
  RITMA_ASSIGN_OR_RETURN(const Value::Array* rows, per_type.array());
  for (size_t i = 0; i < rows->size(); ++i) {
    const Field row = per_type.at(i, "[" + std::to_string(i) + "]");
    RITMA_TRY(row.array(4));
    AccountRow x;
    RITMA_ASSIGN_OR_RETURN(x.type, row.at(0, ".type").u());
    RITMA_ASSIGN_OR_RETURN(x.events, row.at(1, ".events").u());
    RITMA_ASSIGN_OR_RETURN(x.raw_bytes, row.at(2, ".raw_bytes").u());
    RITMA_ASSIGN_OR_RETURN(x.zstd_bytes, row.at(3, ".zstd_bytes").u());
    if (!acc.per_type.empty() && acc.per_type.back().type >= x.type)
      return make_error("account.per_type is not in strictly ascending type order");
    acc.per_type.push_back(x);
  }
  const Field totals = top.at(5, ".totals");
  RITMA_TRY(totals.array(5));
  RITMA_ASSIGN_OR_RETURN(acc.totals.windows, totals.at(0, ".windows").u());
  RITMA_ASSIGN_OR_RETURN(acc.totals.events, totals.at(1, ".events").u());
  RITMA_ASSIGN_OR_RETURN(acc.totals.raw_bytes, totals.at(2, ".raw_bytes").u());
  RITMA_ASSIGN_OR_RETURN(acc.totals.zstd_bytes, totals.at(3, ".zstd_bytes").u());
  RITMA_ASSIGN_OR_RETURN(acc.totals.sealed_bytes, totals.at(4, ".sealed_bytes").u());
  return acc;
}

Result<Catalog> decode_catalog_value(const Value& v) {
  const Field top(v, "catalog");
  RITMA_TRY(check_tag(top, "ritma-catalog@1", 6));
  Catalog c;
  RITMA_ASSIGN_OR_RETURN(c.store_id, top.at(1, ".store_id").fixed<16>());
  RITMA_ASSIGN_OR_RETURN(c.node_id, top.at(2, ".node_id").text());
  RITMA_ASSIGN_OR_RETURN(c.day, top.at(3, ".day").text());
  const Field windows = top.at(4, ".windows");
  RITMA_ASSIGN_OR_RETURN(const Value::Array* ws, windows.array());
  c.windows.reserve(ws->size());
  for (size_t i = 0; i < ws->size(); ++i) {
    const Field f = windows.at(i, "[" + std::to_string(i) + "]");
    RITMA_TRY(f.array(10));
    CatalogWindow w;
    RITMA_ASSIGN_OR_RETURN(w.log_index, f.at(0, ".log_index").u());
    RITMA_ASSIGN_OR_RETURN(w.stem_path, f.at(1, ".stem_path").text());
    RITMA_ASSIGN_OR_RETURN(w.first_seq, f.at(2, ".first_seq").u());
    RITMA_ASSIGN_OR_RETURN(w.event_count, f.at(3, ".event_count").u());
    RITMA_ASSIGN_OR_RETURN(w.loss_count, f.at(4, ".loss_count").u());
    RITMA_ASSIGN_OR_RETURN(w.micro_root, f.at(5, ".micro_root").fixed<32>());
    RITMA_ASSIGN_OR_RETURN(w.min_wall_ns, f.at(6, ".min_wall_ns").s());
    RITMA_ASSIGN_OR_RETURN(w.max_wall_ns, f.at(7, ".max_wall_ns").s());
    RITMA_ASSIGN_OR_RETURN(w.retention_lock, f.at(8, ".retention_lock").boolean());
    const Field ids = f.at(9, ".case_ids");
    RITMA_ASSIGN_OR_RETURN(const Value::Array* ia, ids.array());
    for (size_t j = 0; j < ia->size(); ++j) {
      RITMA_ASSIGN_OR_RETURN(std::string id, ids.at(j, "[" + std::to_string(j) + "]").text());
      w.case_ids.push_back(std::move(id));
    }
    c.windows.push_back(std::move(w));
  }
  const Field sk = top.at(5, ".sketches");
  RITMA_TRY(sk.array(5));
  auto kernel = [](const Field& f) { return f.kernel_string(); };
  auto text = [](const Field& f) { return f.text(); };
  auto uint = [](const Field& f) { return f.u(); };
  RITMA_ASSIGN_OR_RETURN(c.sketches.top_processes,
                         decode_counts<std::string>(sk.at(0, ".top_processes"), kernel));
  RITMA_ASSIGN_OR_RETURN(c.sketches.top_outbound_ips,
                         decode_counts<std::string>(sk.at(1, ".top_outbound_ips"), text));
  RITMA_ASSIGN_OR_RETURN(c.sketches.top_files,
                         decode_counts<std::string>(sk.at(2, ".top_files"), kernel));
  RITMA_ASSIGN_OR_RETURN(c.sketches.top_users,
                         decode_counts<uint64_t>(sk.at(3, ".top_users"), uint));
  RITMA_ASSIGN_OR_RETURN(c.sketches.type_counts,
                         decode_counts<uint64_t>(sk.at(4, ".type_counts"), uint));
  return c;
}

Result<Bytes> read_zstd_file(const std::filesystem::path& path) {
  RITMA_ASSIGN_OR_RETURN(Bytes z, read_file(path, kMaxDerivedFileBytes));
  auto raw = zstd_decompress(z, kMaxDerivedFileBytes);
  if (!raw.ok()) return make_error("not a valid zstd frame: " + raw.error().message);
  return std::move(raw).value();
}

Status write_zstd_file(const std::filesystem::path& path, ByteSpan cbor_bytes) {
  RITMA_ASSIGN_OR_RETURN(Bytes z, zstd_compress(cbor_bytes));
  RITMA_TRY(make_directories(path.parent_path()));
  return atomic_write_file(path, z);
}

bool file_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

}  // namespace

// ---------------------------------------------------------------- public codecs

Bytes encode(const Catalog& c) {
  return encode_catalog(c.store_id, c.node_id, c.day, c.windows, c.sketches);
}

Bytes encode(const Account& a) {
  return encode_account(a.store_id, a.node_id, a.day, a.per_type, a.totals);
}

Result<Catalog> decode_catalog(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_document(b, "catalog"));
  return decode_catalog_value(v);
}

Result<Account> decode_account(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_document(b, "account"));
  return decode_account_value(v);
}

Result<Catalog> read_catalog_file(const std::filesystem::path& path) {
  RITMA_ASSIGN_OR_RETURN(Bytes raw, read_zstd_file(path));
  return decode_catalog(raw);
}

Result<Account> read_account_file(const std::filesystem::path& path) {
  RITMA_ASSIGN_OR_RETURN(Bytes raw, read_zstd_file(path));
  return decode_account(raw);
}

// ---------------------------------------------------------------- writer

namespace {

struct OpenIndex {
  FrameWriter writer;
  uint64_t last_used = 0;  // the writer's window counter
};

struct WriterDay {
  int64_t day = 0;
  std::string label;
  std::vector<CatalogWindow> windows;
  Sketches sketches;
  std::map<uint64_t, AccountRow> per_type;
  AccountTotals totals;
};

struct LoadedDay {
  WriterDay day;
  bool listed_current = false;       // the catalog already listed this window: a replay
  bool account_has_current = false;  // ... and the accounting already counts it
};

}  // namespace

struct DerivedWriter::State {
  std::filesystem::path out;
  StoreId store_id{};
  std::string node_id;
  std::map<IndexFile, OpenIndex> index;
  uint64_t counter = 0;
  std::optional<WriterDay> day;
  std::string sig_node;
  size_t sig_bytes = 0;
  // The cases' freezes (§13.6), read when cases_fingerprint() changes; until they were read
  // once, the retention fields of the entries are left as they are.
  std::optional<std::vector<CaseFreeze>> freezes;
  std::string cases_fp = "(not read)";

  size_t sig_size(const std::string& node) {
    if (sig_bytes == 0 || node != sig_node) {
      sig_node = node;
      sig_bytes = signature_record_size(node);
    }
    return sig_bytes;
  }

  // Opens an index file for appending. Frames of windows at or after `log_index` are the
  // remains of an attempt that crashed before its catalog was written (the sealer may give
  // the window again): they are cut off, and so is a torn tail.
  Result<FrameWriter*> writer_for(const IndexFile& key, int64_t bucket_start_ns,
                                  uint64_t log_index) {
    if (auto it = index.find(key); it != index.end()) {
      it->second.last_used = counter;
      return &it->second.writer;
    }
    const std::filesystem::path path = out / time_index_path(key.seconds, bucket_start_ns);
    RITMA_TRY(make_directories(path.parent_path()));
    if (file_exists(path)) {
      RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(path, uint64_t{1} << 40));
      const FrameScan scan = scan_frames(data);
      for (size_t i = 0; i < scan.frames.size(); ++i) {
        auto e = decode_time_index_entry(scan.frames[i]);
        if (e.ok() && e->log_index >= log_index) {
          if (::truncate(path.c_str(), static_cast<off_t>(scan.offsets[i])) != 0) {
            return make_error("cannot truncate " + path.string() + ": " + std::strerror(errno));
          }
          break;
        }
      }
    }
    RITMA_ASSIGN_OR_RETURN(FrameWriter w,
                           FrameWriter::open(path, FrameWriter::TornTail::kTruncate));
    auto [it, inserted] = index.emplace(key, OpenIndex{std::move(w), counter});
    return &it->second.writer;
  }

  Result<LoadedDay> load_day(int64_t day_ns, uint64_t log_index) {
    LoadedDay ld;
    ld.day.day = day_ns;
    ld.day.label = day_label(day_ns);
    const std::filesystem::path cat = out / catalog_path(day_ns);
    if (file_exists(cat)) {
      auto c = read_catalog_file(cat);
      if (!c.ok()) return make_error("cannot reload " + cat.string() + ": " + c.error().message);
      if (c->store_id != store_id || c->node_id != node_id || c->day != ld.day.label)
        return make_error("cannot reload " + cat.string() + ": it is not this store's catalog of " +
                          ld.day.label);
      for (CatalogWindow& w : c->windows) {
        if (w.log_index < log_index) {
          ld.day.windows.push_back(std::move(w));
        } else if (w.log_index == log_index) {
          ld.listed_current = true;
        }
      }
      // Only the top 20 of each sketch survive in the file: a key outside them before the
      // restart starts again from zero, so the day's sketches are approximate after a restart.
      ld.day.sketches.add(c->sketches);
    }
    const std::filesystem::path acc = out / accounting_path(day_ns);
    if (file_exists(acc)) {
      auto a = read_account_file(acc);
      if (!a.ok()) return make_error("cannot reload " + acc.string() + ": " + a.error().message);
      if (a->store_id != store_id || a->node_id != node_id || a->day != ld.day.label)
        return make_error("cannot reload " + acc.string() +
                          ": it is not this store's accounting of " + ld.day.label);
      for (const AccountRow& x : a->per_type) ld.day.per_type[x.type] = x;
      ld.day.totals = a->totals;
      // The catalog is written before the accounting, so the accounting counts the catalog's
      // windows, or all but the last. When it counts more windows than remain after dropping
      // this one, it counts this one.
      ld.account_has_current = ld.listed_current && ld.day.totals.windows > ld.day.windows.size();
    }
    return ld;
  }

  Status write_day(const WriterDay& d) {
    Status cat =
        write_zstd_file(out / catalog_path(d.day),
                        encode_catalog(store_id, node_id, d.label, d.windows, d.sketches.top()));
    if (!cat.ok()) return cat;  // never an accounting that counts more than the catalog lists
    std::vector<AccountRow> rows;
    rows.reserve(d.per_type.size());
    for (const auto& [type, row] : d.per_type) rows.push_back(row);
    return write_zstd_file(out / accounting_path(d.day),
                           encode_account(store_id, node_id, d.label, rows, d.totals));
  }
};

DerivedWriter::DerivedWriter(std::filesystem::path out_dir, StoreId store_id, std::string node_id)
    : s_(std::make_unique<State>()) {
  s_->out = std::move(out_dir);
  s_->store_id = store_id;
  s_->node_id = std::move(node_id);
}

DerivedWriter::~DerivedWriter() = default;

Status DerivedWriter::on_window(const MicroRecord& r, std::span<const EventFacts> facts,
                                std::span<const capture::Event> events) {
  State& s = *s_;
  ++s.counter;
  std::string errors;
  auto note = [&errors](const Error& e) {
    if (!errors.empty()) errors += "; ";
    errors += e.message;
  };

  // (a) Time index: append this window's entries; make them durable before the catalog names
  // the window, and close the files of hours the last two windows did not touch.
  for (const IndexGroup& g : window_index(r.log_index, facts)) {
    auto w = s.writer_for(g.file, g.entries.front().bucket_start_ns, r.log_index);
    if (!w.ok()) {
      note(w.error());
      continue;
    }
    for (const TimeIndexEntry& e : g.entries) {
      Status st = (*w)->append(encode(e));
      if (!st.ok()) {
        note(st.error());
        s.index.erase(g.file);  // reopened next time, cutting off a torn tail
        break;
      }
    }
  }
  for (auto it = s.index.begin(); it != s.index.end();) {
    if (it->second.last_used == s.counter) {
      Status st = it->second.writer.sync();
      if (!st.ok()) {
        note(st.error());
        it = s.index.erase(it);
        continue;
      }
    } else if (it->second.last_used + 1 < s.counter) {
      it = s.index.erase(it);
      continue;
    }
    ++it;
  }

  // (b), (c) Catalog and accounting of the window's UTC day.
  const int64_t day = day_start(r.slot_start_ns);
  bool replay_listed = false;
  bool replay_counted = false;
  if (!s.day || s.day->day != day) {
    s.day.reset();
    auto loaded = s.load_day(day, r.log_index);
    if (!loaded.ok()) {
      note(loaded.error());
      return make_error(errors);
    }
    s.day = std::move(loaded->day);
    replay_listed = loaded->listed_current;
    replay_counted = loaded->account_has_current;
  }
  WriterDay& d = *s.day;
  d.windows.push_back(catalog_window(r));
  // Retention locks (§13.6), under the catalog lock a freeze also takes while it writes a case
  // and rewrites catalogs: the freezes are read again when some case changed.
  std::optional<CatalogLock> lock;
  if (auto l = CatalogLock::acquire(s.out); l.ok()) {
    lock.emplace(std::move(l).value());
  } else {
    note(l.error());
  }
  if (const std::string fp = cases_fingerprint(s.out); fp != s.cases_fp) {
    if (auto f = load_freezes(s.out); f.ok()) {
      s.freezes = std::move(f).value();
      s.cases_fp = fp;
    } else {
      note(make_error("cases (retention locks not updated): " + f.error().message));
    }
  }
  if (s.freezes) {
    for (CatalogWindow& w : d.windows) apply_freezes(*s.freezes, r.window_ns, w);
  }
  if (!replay_listed) {
    for (const capture::Event& e : events) d.sketches.add(e);
  }
  if (!replay_counted) {
    const WindowAccount a = window_account(r, facts, s.sig_size(r.node_id));
    add_rows(d.per_type, a.rows);
    add_totals(d.totals, a.totals);
  }
  Status st = s.write_day(d);
  if (!st.ok()) note(st.error());
  if (!errors.empty()) return make_error("derived files: " + errors);
  return {};
}

// ---------------------------------------------------------------- checker

namespace {

struct CheckedIndexFile {
  std::string rel;
  bool loaded = false;
  bool missing = false;
  std::vector<TimeIndexEntry> disk;  // decoded frames not yet matched start at `head`
  size_t head = 0;
  uint64_t before_range = 0;  // entries of windows before the first verified one
};

struct CheckDay {
  int64_t day = 0;
  std::vector<CatalogWindow> windows;  // the verified windows of the day, in log order
};

struct DayRecord {  // what is kept of a day until finish()
  std::map<uint64_t, AccountRow> per_type;
  AccountTotals totals;
  bool flushed = false;
  uint64_t checked_through = 0;    // catalog entries up to this log index are compared
  uint64_t before_range = 0;       // catalog entries of windows before the first verified one
  std::vector<uint64_t> deferred;  // catalog entries after the last verified window so far
};

}  // namespace

struct DerivedChecker::State {
  std::filesystem::path out;
  StoreId store_id{};
  std::string node_id;
  std::map<IndexFile, CheckedIndexFile> files;
  std::optional<CheckDay> day;
  std::map<int64_t, DayRecord> days;
  bool any = false;
  uint64_t first_added = 0;
  uint64_t max_added = 0;
  std::vector<std::pair<uint64_t, uint64_t>> added;  // verified log indexes, closed ranges
  std::set<uint64_t> pruned;                         // of those, the pruned ones (§14)
  std::set<int64_t> pruned_days;
  std::string sig_node;
  size_t sig_bytes = 0;
  std::vector<std::string> problems;
  std::map<std::string, uint64_t> per_file;
  // The newest window, whose derived entries a crash may have kept from being written (all,
  // some, or none of them): see tolerate_lag_of().
  std::optional<uint64_t> lag;
  std::optional<int64_t> lag_day;
  WindowAccount lag_account;
  std::vector<std::string>* capture = nullptr;     // when set, problems go here instead
  std::optional<std::vector<CaseFreeze>> freezes;  // §13.6, loaded with the first window
  bool check_locks = true;

  void problem(const std::string& rel, const std::string& text) {
    if (capture) {
      capture->push_back(rel + ": " + text);
      return;
    }
    if (++per_file[rel] > kMaxProblemsPerFile) return;
    problems.push_back(rel + ": " + text);
  }

  size_t sig_size(const std::string& node) {
    if (sig_bytes == 0 || node != sig_node) {
      sig_node = node;
      sig_bytes = signature_record_size(node);
    }
    return sig_bytes;
  }

  bool is_added(uint64_t log_index) const {
    auto it = std::upper_bound(
        added.begin(), added.end(), log_index,
        [](uint64_t v, const std::pair<uint64_t, uint64_t>& r) { return v < r.first; });
    return it != added.begin() && std::prev(it)->second >= log_index;
  }

  // "<stem_path> (log index N)" when the window is one of the current day's, else
  // "log index N" (the checker keeps stems only for the day being checked).
  std::string name_of(uint64_t log_index) const {
    if (day) {
      auto it =
          std::lower_bound(day->windows.begin(), day->windows.end(), log_index,
                           [](const CatalogWindow& w, uint64_t v) { return w.log_index < v; });
      if (it != day->windows.end() && it->log_index == log_index)
        return window_name(it->stem_path, log_index);
    }
    return "log index " + std::to_string(log_index);
  }

  std::string not_expected(uint64_t log_index) const {
    return is_added(log_index)
               ? "it has no such entry"
               : "log index " + std::to_string(log_index) + " is not a verified window";
  }

  void load(CheckedIndexFile& f, const std::string& first_window) {
    f.loaded = true;
    const std::filesystem::path p = out / f.rel;
    if (!file_exists(p)) {
      f.missing = true;
      problem(f.rel, "missing (" + first_window + " has entries for it)");
      return;
    }
    auto data = read_file(p, kMaxDerivedFileBytes);
    if (!data.ok()) {
      f.missing = true;
      problem(f.rel, data.error().message);
      return;
    }
    const FrameScan scan = scan_frames(*data);
    for (size_t i = 0; i < scan.frames.size(); ++i) {
      auto e = decode_time_index_entry(scan.frames[i]);
      if (e.ok()) {
        f.disk.push_back(*e);
      } else {
        problem(f.rel,
                "frame at offset " + std::to_string(scan.offsets[i]) + ": " + e.error().message);
      }
    }
    // A torn tail is what a crash in the middle of the newest window's entries leaves.
    if (scan.torn && !lag) problem(f.rel, *scan.torn);
  }

  // A frame of the file that no verified window's entries account for.
  void unmatched(CheckedIndexFile& f, const TimeIndexEntry& e, bool complete_days) {
    if (pruned.count(e.log_index)) return;  // its events are gone: nothing to compare with
    if (e.log_index < first_added) {
      ++f.before_range;
      return;
    }
    if (e.log_index > max_added && !complete_days) return;
    problem(f.rel, name_of(e.log_index) + ": unexpected entry " + entry_text(e) + " (" +
                       not_expected(e.log_index) + ")");
  }

  void check_group(const IndexGroup& g, const std::string& window) {
    auto [it, inserted] = files.try_emplace(g.file);
    CheckedIndexFile& f = it->second;
    if (inserted) f.rel = time_index_path(g.file.seconds, g.entries.front().bucket_start_ns);
    const uint64_t L = g.entries.front().log_index;
    if (!f.loaded && lag && L == *lag && !file_exists(out / f.rel)) {
      f.loaded = f.missing = true;  // the newest window's first file, not yet written
      return;
    }
    if (!f.loaded) load(f, window);
    if (f.missing) return;
    while (f.head < f.disk.size() && f.disk[f.head].log_index < L) {
      unmatched(f, f.disk[f.head], /*complete_days=*/true);  // before L: in range or before it
      ++f.head;
    }
    size_t end = f.head;
    while (end < f.disk.size() && f.disk[end].log_index == L) ++end;
    const std::span<const TimeIndexEntry> found(f.disk.data() + f.head, end - f.head);
    // The newest window's entries may be missing at the end (a crash before they were all
    // appended); what is there must still be right.
    const bool lagging = lag && L == *lag && found.size() <= g.entries.size() &&
                         std::equal(found.begin(), found.end(), g.entries.begin());
    if (!lagging && !std::equal(found.begin(), found.end(), g.entries.begin(), g.entries.end())) {
      auto less = [](const TimeIndexEntry& a, const TimeIndexEntry& b) {
        return std::tie(a.bucket_start_ns, a.block, a.event) <
               std::tie(b.bucket_start_ns, b.block, b.event);
      };
      std::vector<TimeIndexEntry> want(g.entries), have(found.begin(), found.end());
      std::sort(want.begin(), want.end(), less);
      std::sort(have.begin(), have.end(), less);
      std::vector<TimeIndexEntry> missing, extra;
      std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                          std::back_inserter(missing), less);
      std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                          std::back_inserter(extra), less);
      if (missing.empty() && extra.empty()) problem(f.rel, window + ": entries out of order");
      for (const TimeIndexEntry& e : missing)
        problem(f.rel, window + ": missing entry " + entry_text(e));
      for (const TimeIndexEntry& e : extra)
        problem(f.rel, window + ": unexpected entry " + entry_text(e));
    }
    f.head = end;
    if (f.head == f.disk.size()) {  // all matched: free the memory
      std::vector<TimeIndexEntry>().swap(f.disk);
      f.head = 0;
    }
  }

  void compare_catalog(const CheckDay& d, DayRecord& rec, const Catalog& c,
                       const std::string& rel) {
    const std::string label = day_label(d.day);
    if (c.store_id != store_id)
      problem(rel, "store_id is " + to_hex(c.store_id) + ", expected " + to_hex(store_id));
    if (c.node_id != node_id)
      problem(rel, "node_id is \"" + c.node_id + "\", expected \"" + node_id + "\"");
    if (c.day != label) problem(rel, "day is \"" + c.day + "\", expected \"" + label + "\"");
    std::vector<bool> listed(d.windows.size(), false);
    std::vector<uint64_t> deferred;
    bool ordered = true;
    for (size_t i = 0; i < c.windows.size(); ++i) {
      const CatalogWindow& w = c.windows[i];
      if (i > 0 && w.log_index <= c.windows[i - 1].log_index) ordered = false;
      if (rec.flushed && w.log_index <= rec.checked_through) continue;  // checked before
      auto it =
          std::lower_bound(d.windows.begin(), d.windows.end(), w.log_index,
                           [](const CatalogWindow& x, uint64_t v) { return x.log_index < v; });
      if (it == d.windows.end() || it->log_index != w.log_index) {
        if (w.log_index < first_added) {
          ++rec.before_range;
        } else if (w.log_index > max_added) {
          deferred.push_back(w.log_index);
        } else {
          problem(rel, name_of(w.log_index) + ": listed, but " +
                           (is_added(w.log_index) ? "it is a window of another day"
                                                  : "it is not a verified window"));
        }
        continue;
      }
      const size_t k = static_cast<size_t>(it - d.windows.begin());
      const std::string name = window_name(it->stem_path, it->log_index);
      if (listed[k]) {
        problem(rel, name + ": listed more than once");
        continue;
      }
      listed[k] = true;
      auto differs = [&](const char* field, const std::string& got, const std::string& want) {
        problem(rel, name + ": " + field + " is " + got + ", the micro record says " + want);
      };
      if (w.stem_path != it->stem_path) differs("stem_path", w.stem_path, it->stem_path);
      if (w.first_seq != it->first_seq)
        differs("first_seq", std::to_string(w.first_seq), std::to_string(it->first_seq));
      if (w.event_count != it->event_count)
        differs("event_count", std::to_string(w.event_count), std::to_string(it->event_count));
      if (w.loss_count != it->loss_count)
        differs("loss_count", std::to_string(w.loss_count), std::to_string(it->loss_count));
      if (w.micro_root != it->micro_root)
        differs("micro_root", to_hex(w.micro_root), to_hex(it->micro_root));
      if (w.min_wall_ns != it->min_wall_ns)
        differs("min_wall_ns", std::to_string(w.min_wall_ns), std::to_string(it->min_wall_ns));
      if (w.max_wall_ns != it->max_wall_ns)
        differs("max_wall_ns", std::to_string(w.max_wall_ns), std::to_string(it->max_wall_ns));
      if (check_locks && (w.retention_lock != it->retention_lock || w.case_ids != it->case_ids)) {
        auto lock_text = [](const CatalogWindow& x) {
          std::string t = x.retention_lock ? "true [" : "false [";
          for (size_t j = 0; j < x.case_ids.size(); ++j) t += (j ? "," : "") + x.case_ids[j];
          return t + "]";
        };
        problem(rel, name + ": retention_lock/case_ids is " + lock_text(w) +
                         ", the cases (cases/, FORMAT.md §13) say " + lock_text(*it));
      }
    }
    if (!ordered) problem(rel, "windows are not listed in log order");
    for (size_t k = 0; k < d.windows.size(); ++k) {
      if (!listed[k] && !(lag && d.windows[k].log_index == *lag))
        problem(rel, window_name(d.windows[k].stem_path, d.windows[k].log_index) + ": not listed");
    }
    rec.deferred = std::move(deferred);
  }

  // Compares the catalog of the current day with its verified windows, then forgets them.
  void flush_day() {
    const CheckDay& d = *day;
    DayRecord& rec = days[d.day];
    const std::string rel = catalog_path(d.day);
    const std::filesystem::path p = out / rel;
    const bool only_lagging = lag && d.windows.size() == 1 && d.windows.front().log_index == *lag;
    if (!file_exists(p) && only_lagging) {
      rec.deferred.clear();  // the newest window's day, not yet written
    } else if (!file_exists(p)) {
      problem(rel, "missing (" + std::to_string(d.windows.size()) + " verified window(s) of " +
                       day_label(d.day) + ", the first " +
                       window_name(d.windows.front().stem_path, d.windows.front().log_index) + ")");
      rec.deferred.clear();
    } else if (auto c = read_catalog_file(p); !c.ok()) {
      problem(rel, c.error().message);
      rec.deferred.clear();
    } else {
      compare_catalog(d, rec, *c, rel);
    }
    rec.flushed = true;
    rec.checked_through = max_added;
    day.reset();
  }

  // The accounting of day d, recomputed; when it counts the newest window and a crash kept
  // that window from reaching the file, the file must equal the count without it.
  void compare_account_tolerant(int64_t d, const DayRecord& rec) {
    if (!lag || !lag_day || *lag_day != d) return compare_account(d, rec);
    std::vector<std::string> with, without;
    capture = &with;
    compare_account(d, rec);
    if (!with.empty()) {
      DayRecord less = rec;
      for (const AccountRow& x : lag_account.rows) {
        AccountRow& y = less.per_type[x.type];
        y.events -= x.events;
        y.raw_bytes -= x.raw_bytes;
        y.zstd_bytes -= x.zstd_bytes;
        if (y.events == 0) less.per_type.erase(x.type);
      }
      less.totals.windows -= lag_account.totals.windows;
      less.totals.events -= lag_account.totals.events;
      less.totals.raw_bytes -= lag_account.totals.raw_bytes;
      less.totals.zstd_bytes -= lag_account.totals.zstd_bytes;
      less.totals.sealed_bytes -= lag_account.totals.sealed_bytes;
      capture = &without;
      if (less.totals.windows != 0 || file_exists(out / accounting_path(d)))
        compare_account(d, less);
    }
    capture = nullptr;
    if (with.empty() || without.empty()) return;
    for (const std::string& m : with) {
      const size_t colon = m.find(": ");
      problem(m.substr(0, colon), m.substr(colon + 2));
    }
  }

  void compare_account(int64_t d, const DayRecord& rec) {
    const std::string rel = accounting_path(d);
    const std::filesystem::path p = out / rel;
    if (!file_exists(p)) {
      problem(rel, "missing");
      return;
    }
    auto a = read_account_file(p);
    if (!a.ok()) {
      problem(rel, a.error().message);
      return;
    }
    const std::string label = day_label(d);
    if (a->store_id != store_id)
      problem(rel, "store_id is " + to_hex(a->store_id) + ", expected " + to_hex(store_id));
    if (a->node_id != node_id)
      problem(rel, "node_id is \"" + a->node_id + "\", expected \"" + node_id + "\"");
    if (a->day != label) problem(rel, "day is \"" + a->day + "\", expected \"" + label + "\"");
    auto differs = [&](const std::string& what, uint64_t got, uint64_t want) {
      if (got != want)
        problem(rel, what + " is " + std::to_string(got) + ", recomputed " + std::to_string(want));
    };
    std::map<uint64_t, AccountRow> disk;
    for (const AccountRow& x : a->per_type) disk[x.type] = x;
    for (const auto& [type, want] : rec.per_type) {
      const std::string t = "type " + std::to_string(type);
      auto it = disk.find(type);
      if (it == disk.end()) {
        problem(rel, t + ": not listed (recomputed " + std::to_string(want.events) + " events, " +
                         std::to_string(want.raw_bytes) + " raw bytes)");
        continue;
      }
      differs(t + ": events", it->second.events, want.events);
      differs(t + ": raw_bytes", it->second.raw_bytes, want.raw_bytes);
      differs(t + ": zstd_bytes", it->second.zstd_bytes, want.zstd_bytes);
    }
    for (const auto& [type, got] : disk) {
      if (!rec.per_type.count(type))
        problem(rel, "type " + std::to_string(type) + ": listed with " +
                         std::to_string(got.events) + " events, but the day has none");
    }
    differs("totals: windows", a->totals.windows, rec.totals.windows);
    differs("totals: events", a->totals.events, rec.totals.events);
    differs("totals: raw_bytes", a->totals.raw_bytes, rec.totals.raw_bytes);
    differs("totals: zstd_bytes", a->totals.zstd_bytes, rec.totals.zstd_bytes);
    differs("totals: sealed_bytes", a->totals.sealed_bytes, rec.totals.sealed_bytes);
  }
};

DerivedChecker::DerivedChecker(std::filesystem::path out_dir, StoreId store_id, std::string node_id)
    : s_(std::make_unique<State>()) {
  s_->out = std::move(out_dir);
  s_->store_id = store_id;
  s_->node_id = std::move(node_id);
}

DerivedChecker::~DerivedChecker() = default;

void DerivedChecker::tolerate_lag_of(uint64_t log_index) {
  s_->lag = log_index;
}

void DerivedChecker::add_pruned_window(const MicroRecord& r) {
  State& s = *s_;
  s.pruned.insert(r.log_index);
  add_window(r, {});
  if (const auto day = floor_multiple(r.slot_start_ns, kDayNs)) s.pruned_days.insert(*day);
}

void DerivedChecker::add_window(const MicroRecord& r, std::span<const EventFacts> facts) {
  State& s = *s_;
  const uint64_t L = r.log_index;
  const std::string name = window_name(stem_path(r), L);
  if (s.any && L <= s.max_added) {
    s.problem("(derived files)", name +
                                     ": given out of log order; its derived entries are not "
                                     "checked");
    return;
  }
  if (!s.any) {
    s.any = true;
    s.first_added = L;
  }
  s.max_added = L;
  if (!s.added.empty() && s.added.back().second + 1 == L) {
    s.added.back().second = L;
  } else {
    s.added.emplace_back(L, L);
  }

  if (!s.pruned.count(L))
    for (const IndexGroup& g : window_index(L, facts)) s.check_group(g, name);

  const std::optional<int64_t> day = floor_multiple(r.slot_start_ns, kDayNs);
  if (!day) {
    s.problem("(derived files)", name + ": slot_start_ns has no UTC day");
    return;
  }
  if (s.day && s.day->day != *day) s.flush_day();
  if (!s.day) s.day = CheckDay{*day, {}};
  if (!s.freezes) {
    auto f = load_freezes(s.out);
    if (!f.ok())
      s.problem("(derived files)",
                "cases: " + f.error().message + "; the catalogs' retention locks are not checked");
    s.freezes = f.ok() ? std::move(f).value() : std::vector<CaseFreeze>{};
    s.check_locks = f.ok();
  }
  CatalogWindow cw = catalog_window(r);
  cw.case_ids = freezing_cases(*s.freezes, window_span(r));
  cw.retention_lock = !cw.case_ids.empty();
  s.day->windows.push_back(std::move(cw));

  const WindowAccount a = window_account(r, facts, s.sig_size(r.node_id));
  if (s.lag && L == *s.lag) {
    s.lag_day = *day;
    s.lag_account = a;
  }
  DayRecord& rec = s.days[*day];
  add_rows(rec.per_type, a.rows);
  add_totals(rec.totals, a.totals);
}

std::vector<std::string> DerivedChecker::finish(bool complete_days) {
  State& s = *s_;
  if (s.day) s.flush_day();

  for (auto& [key, f] : s.files) {
    if (!f.loaded || f.missing) continue;
    for (size_t i = f.head; i < f.disk.size(); ++i) s.unmatched(f, f.disk[i], complete_days);
    if (complete_days && f.before_range > 0)
      s.problem(f.rel, std::to_string(f.before_range) +
                           " entries of windows before the first verified one (log index " +
                           std::to_string(s.first_added) + ")");
  }

  for (const auto& [d, rec] : s.days) {
    const std::string rel = catalog_path(d);
    bool partial = rec.before_range > 0;
    for (const uint64_t L : rec.deferred) {
      if (L <= s.max_added) {
        s.problem(rel, "log index " + std::to_string(L) + ": listed, but " +
                           (s.is_added(L) ? "it is a window of another day"
                                          : "it is not a verified window"));
      } else if (complete_days) {
        s.problem(rel,
                  "log index " + std::to_string(L) + ": listed, but it is not a verified window");
      } else {
        partial = true;
      }
    }
    if (complete_days && rec.before_range > 0)
      s.problem(rel, std::to_string(rec.before_range) +
                         " window(s) listed before the first verified one (log index " +
                         std::to_string(s.first_added) + ")");
    // A range that covers only part of the day cannot recompute the day's accounting.
    if ((complete_days || !partial) && !s.pruned_days.count(d)) s.compare_account_tolerant(d, rec);
  }

  for (const auto& [rel, n] : s.per_file) {
    if (n > kMaxProblemsPerFile)
      s.problems.push_back(rel + ": ... and " + std::to_string(n - kMaxProblemsPerFile) +
                           " more problem(s)");
  }
  std::vector<std::string> out = std::move(s.problems);
  s.problems.clear();
  return out;
}

}  // namespace ritma::seal
