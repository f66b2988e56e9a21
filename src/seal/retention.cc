#include "seal/retention.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/merkle.h"
#include "core/signed_note.h"
#include "core/unique_fd.h"
#include "seal/cases.h"
#include "seal/cbor_fields.h"

namespace ritma::seal {

namespace fs = std::filesystem;
using cbor::Value;
using cbor::Writer;

namespace {

constexpr std::string_view kRetentionTag = "ritma-retention@1";
constexpr size_t kRecordFields = 9;
constexpr size_t kWindowFields = 9;
constexpr size_t kMaxRetentionRecordBytes = 256u << 20;

std::string numbered(uint64_t index, const char* ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(index));
  return std::string(kRetentionDir) + "/" + buf + ext;
}

Result<uint64_t> file_size_if_present(const fs::path& p, bool* present) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      *present = false;
      return uint64_t{0};
    }
    return make_error(p.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return make_error(p.string() + ": not a regular file");
  *present = true;
  return static_cast<uint64_t>(st.st_size);
}

// The window's end for the age test: the later of its slot's end and its newest event.
int64_t window_end(const MicroRecord& m) {
  const int64_t slot_end = m.slot_start_ns + static_cast<int64_t>(m.window_ns);
  return m.event_count == 0 ? slot_end : std::max(slot_end, m.max_wall_ns);
}

// The newest checkpoint, its signature checked against the store's keys.
Result<CheckpointRef> newest_checkpoint(const fs::path& out, const KeysRecord& keys) {
  const fs::path file = out / kCheckpointFile;
  RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(file, kMaxRecordBytes));
  std::vector<NamedPublicKey> known;
  for (const KeyEntry& k : keys.keys) known.push_back(NamedPublicKey{k.name, k.public_key});
  auto opened =
      note::open(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), known);
  if (!opened.ok()) return make_error(file.string() + ": " + opened.error().message);
  auto c = note::parse_checkpoint_body(opened->body);
  if (!c.ok()) return make_error(file.string() + ": " + c.error().message);
  return CheckpointRef{c->size, c->root};
}

struct Locked {
  UniqueFd fd;
};

Result<Locked> lock_retention(const fs::path& out) {
  RITMA_TRY(make_directories(out / kRetentionDir, 0755));
  const fs::path p = out / kRetentionDir / ".lock";
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return make_error(p.string() + ": " + std::strerror(errno));
  if (::flock(fd.get(), LOCK_EX) != 0) return make_error(p.string() + ": " + std::strerror(errno));
  return Locked{std::move(fd)};
}

}  // namespace

std::string retention_path(uint64_t index) {
  return numbered(index, ".cbor");
}
std::string retention_sig_path(uint64_t index) {
  return numbered(index, ".sig");
}

uint64_t RetentionPlan::bytes() const {
  uint64_t n = 0;
  for (const PlannedPrune& p : prune)
    for (const PlannedFile& f : p.files) n += f.bytes;
  for (const PlannedFile& f : leftovers) n += f.bytes;
  return n;
}

Bytes encode(const RetentionRecord& r) {
  Bytes out;
  Writer w(out);
  w.array(kRecordFields);
  w.text(kRetentionTag);
  w.uint(r.index);
  w.bytes(r.store_id);
  w.text(r.node_id);
  w.int64(r.time_ns);
  w.bytes(r.prev);
  w.text(r.policy);
  w.array(2);
  w.uint(r.checkpoint.tree_size);
  w.bytes(r.checkpoint.root);
  w.array(r.windows.size());
  for (const PrunedWindow& p : r.windows) {
    w.array(kWindowFields);
    w.uint(p.log_index);
    w.text(p.stem_path);
    w.uint(p.first_seq);
    w.uint(p.event_count);
    w.bytes(p.micro_root);
    w.int64(p.slot_start_ns);
    w.int64(p.min_wall_ns);
    w.int64(p.max_wall_ns);
    w.uint(p.deleted_bytes);
  }
  return out;
}

Result<RetentionRecord> decode_retention(ByteSpan b) {
  const FieldReader f{"retention record"};
  auto v = cbor::decode(b);
  if (!v.ok()) return f.error(v.error().message);
  RITMA_ASSIGN_OR_RETURN(const FieldReader::Array* a,
                         f.tagged_array(*v, kRetentionTag, kRecordFields));
  RetentionRecord r;
  RITMA_ASSIGN_OR_RETURN(r.index, f.get_uint(*a, 1, "index"));
  RITMA_ASSIGN_OR_RETURN(r.store_id, f.get_fixed<16>(*a, 2, "store_id"));
  RITMA_ASSIGN_OR_RETURN(r.node_id, f.get_text(*a, 3, "node_id"));
  RITMA_ASSIGN_OR_RETURN(r.time_ns, f.get_int(*a, 4, "time_ns"));
  RITMA_ASSIGN_OR_RETURN(r.prev, f.get_fixed<32>(*a, 5, "prev"));
  RITMA_ASSIGN_OR_RETURN(r.policy, f.get_text(*a, 6, "policy"));
  const Value& cp = (*a)[7];
  if (!cp.is_array() || cp.as_array().size() != 2)
    return f.field_error(7, "checkpoint", "[tree_size, root]");
  RITMA_ASSIGN_OR_RETURN(r.checkpoint.tree_size, f.get_uint(cp.as_array(), 0, "tree_size"));
  RITMA_ASSIGN_OR_RETURN(r.checkpoint.root, f.get_fixed<32>(cp.as_array(), 1, "root"));
  const Value& ws = (*a)[8];
  if (!ws.is_array()) return f.field_error(8, "windows", "an array");
  for (const Value& x : ws.as_array()) {
    const FieldReader g{"retention record window"};
    if (!x.is_array() || x.as_array().size() != kWindowFields)
      return f.field_error(8, "windows", "an array of 9-element window entries");
    const auto& e = x.as_array();
    PrunedWindow p;
    RITMA_ASSIGN_OR_RETURN(p.log_index, g.get_uint(e, 0, "log_index"));
    RITMA_ASSIGN_OR_RETURN(p.stem_path, g.get_text(e, 1, "stem_path"));
    RITMA_ASSIGN_OR_RETURN(p.first_seq, g.get_uint(e, 2, "first_seq"));
    RITMA_ASSIGN_OR_RETURN(p.event_count, g.get_uint(e, 3, "event_count"));
    RITMA_ASSIGN_OR_RETURN(p.micro_root, g.get_fixed<32>(e, 4, "micro_root"));
    RITMA_ASSIGN_OR_RETURN(p.slot_start_ns, g.get_int(e, 5, "slot_start_ns"));
    RITMA_ASSIGN_OR_RETURN(p.min_wall_ns, g.get_int(e, 6, "min_wall_ns"));
    RITMA_ASSIGN_OR_RETURN(p.max_wall_ns, g.get_int(e, 7, "max_wall_ns"));
    RITMA_ASSIGN_OR_RETURN(p.deleted_bytes, g.get_uint(e, 8, "deleted_bytes"));
    if (!r.windows.empty() && p.log_index <= r.windows.back().log_index)
      return f.error("windows are not in ascending log_index (" + std::to_string(p.log_index) +
                     " after " + std::to_string(r.windows.back().log_index) + ")");
    r.windows.push_back(std::move(p));
  }
  return r;
}

Result<std::vector<RetentionRecord>> read_retention_records(const fs::path& out) {
  std::vector<RetentionRecord> recs;
  for (uint64_t i = 0;; ++i) {
    const fs::path p = out / retention_path(i);
    bool present = false;
    RITMA_ASSIGN_OR_RETURN(const uint64_t size, file_size_if_present(p, &present));
    (void)size;
    if (!present) break;
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(p, kMaxRetentionRecordBytes));
    auto r = decode_retention(b);
    if (!r.ok()) return make_error(retention_path(i) + ": " + r.error().message);
    if (r->index != i)
      return make_error(retention_path(i) + ": holds index " + std::to_string(r->index));
    recs.push_back(std::move(*r));
  }
  return recs;
}

Result<RetentionPlan> plan_retention(const fs::path& out, const RetentionOptions& options) {
  RITMA_ASSIGN_OR_RETURN(Bytes sb, read_file(out / kStoreFile, kMaxRecordBytes));
  RITMA_ASSIGN_OR_RETURN(StoreRecord store, decode_store(sb));
  RITMA_ASSIGN_OR_RETURN(Bytes kb, read_file(out / kKeysFile, kMaxRecordBytes));
  RITMA_ASSIGN_OR_RETURN(KeysRecord keys, decode_keys(kb));

  RetentionPlan plan;
  RITMA_ASSIGN_OR_RETURN(plan.checkpoint, newest_checkpoint(out, keys));

  // The window log, its tree recomputed up to the checkpoint: retention records name that
  // checkpoint as the roots that stay, so it must be the log's.
  RITMA_ASSIGN_OR_RETURN(Bytes log, read_file(out / kWindowLogFile, size_t{1} << 36));
  const FrameScan scan = scan_frames(log);
  plan.log_records = scan.frames.size();
  if (plan.checkpoint.tree_size > scan.frames.size())
    return make_error(std::string(kCheckpointFile) + " covers " +
                      std::to_string(plan.checkpoint.tree_size) + " records but " + kWindowLogFile +
                      " holds " + std::to_string(scan.frames.size()) +
                      "; run `ritma verify --store`");
  merkle::TreeBuilder tree;
  std::vector<MicroRecord> recs;
  recs.reserve(plan.checkpoint.tree_size);
  for (uint64_t i = 0; i < plan.checkpoint.tree_size; ++i) {
    tree.add_leaf(scan.frames[i]);
    auto m = decode_micro(scan.frames[i]);
    if (!m.ok())
      return make_error(std::string(kWindowLogFile) + " frame " + std::to_string(i) + ": " +
                        m.error().message + "; run `ritma verify --store`");
    if (m->store_id != store.store_id || m->log_index != i)
      return make_error(std::string(kWindowLogFile) + " frame " + std::to_string(i) +
                        " is not this store's record " + std::to_string(i));
    recs.push_back(std::move(*m));
  }
  if (tree.root() != plan.checkpoint.root)
    return make_error(std::string(kWindowLogFile) + " does not give the root of " +
                      kCheckpointFile + "; run `ritma verify --store`");

  RITMA_ASSIGN_OR_RETURN(std::vector<RetentionRecord> earlier, read_retention_records(out));
  std::set<uint64_t> pruned;
  for (const RetentionRecord& r : earlier)
    for (const PrunedWindow& p : r.windows) pruned.insert(p.log_index);
  plan.already_pruned = pruned.size();

  RITMA_ASSIGN_OR_RETURN(std::vector<CaseFreeze> freezes, load_freezes(out));

  // A pruned window loses its blocks (its events); its micro record and signature stay, a few
  // hundred bytes that keep its hour exportable (§12.1) and its record checkable.
  auto window_files = [](const MicroRecord& m) {
    std::vector<std::string> files;
    for (const BlockRef& b : m.blocks) files.push_back(block_dir(m) + "/" + b.file);
    return files;
  };
  // Files of windows an earlier record pruned that a crash kept from being deleted.
  for (const MicroRecord& m : recs) {
    if (!pruned.count(m.log_index)) continue;
    for (const std::string& rel : window_files(m)) {
      bool present = false;
      RITMA_ASSIGN_OR_RETURN(uint64_t n, file_size_if_present(out / rel, &present));
      if (present) plan.leftovers.push_back({rel, n});
    }
  }

  if (!options.max_age_ns) return plan;
  const int64_t cutoff = options.now_ns - *options.max_age_ns;
  for (const MicroRecord& m : recs) {
    if (pruned.count(m.log_index) || window_end(m) > cutoff) continue;
    const std::string stem = stem_path(m);
    if (m.log_index + 1 == scan.frames.size()) {
      plan.kept.push_back({m.log_index, stem, "the newest window (the sealer re-reads it)"});
      continue;
    }
    if (frozen(freezes, m)) {
      std::string ids;
      for (const std::string& id : freezing_cases(freezes, window_span(m)))
        ids += (ids.empty() ? "" : ", ") + id;
      plan.kept.push_back({m.log_index, stem, "frozen by " + ids});
      continue;
    }
    PlannedPrune p;
    p.window.log_index = m.log_index;
    p.window.stem_path = stem;
    p.window.first_seq = m.first_seq;
    p.window.event_count = m.event_count;
    p.window.micro_root = m.micro_root;
    p.window.slot_start_ns = m.slot_start_ns;
    p.window.min_wall_ns = m.min_wall_ns;
    p.window.max_wall_ns = m.max_wall_ns;
    for (const std::string& rel : window_files(m)) {
      bool present = false;
      RITMA_ASSIGN_OR_RETURN(uint64_t n, file_size_if_present(out / rel, &present));
      if (present) {
        p.files.push_back({rel, n});
        p.window.deleted_bytes += n;
      }
    }
    plan.prune.push_back(std::move(p));
  }
  return plan;
}

Result<std::optional<RetentionRecord>> apply_retention(const fs::path& out,
                                                       const RetentionPlan& plan,
                                                       const RetentionOptions& options,
                                                       const NamedSigningKey& key) {
  if (plan.prune.empty() && plan.leftovers.empty()) return std::optional<RetentionRecord>{};
  RITMA_ASSIGN_OR_RETURN(Locked lock, lock_retention(out));
  // Re-plan under the lock: another run may have pruned meanwhile, and the plan must still be
  // what the store says now. Only windows in both are pruned.
  RITMA_ASSIGN_OR_RETURN(RetentionPlan now, plan_retention(out, options));
  std::set<uint64_t> still;
  for (const PlannedPrune& p : now.prune) still.insert(p.window.log_index);

  RITMA_ASSIGN_OR_RETURN(Bytes sb, read_file(out / kStoreFile, kMaxRecordBytes));
  RITMA_ASSIGN_OR_RETURN(StoreRecord store, decode_store(sb));
  RITMA_ASSIGN_OR_RETURN(Bytes kb, read_file(out / kKeysFile, kMaxRecordBytes));
  RITMA_ASSIGN_OR_RETURN(KeysRecord keys, decode_keys(kb));
  if (keys.keys.empty() || keys.keys.back().public_key != key.key.public_key() ||
      keys.keys.back().valid_until_ns)
    return make_error("the signing key " + key.name + " is not the store's current key (last of " +
                      kKeysFile + ")");

  RITMA_ASSIGN_OR_RETURN(std::vector<RetentionRecord> earlier, read_retention_records(out));
  RetentionRecord r;
  r.index = earlier.size();
  r.store_id = store.store_id;
  r.node_id = store.node_id;
  r.time_ns = options.now_ns;
  if (!earlier.empty()) {
    RITMA_ASSIGN_OR_RETURN(Bytes prev,
                           read_file(out / retention_path(r.index - 1), kMaxRetentionRecordBytes));
    r.prev = blake3(prev);
  }
  r.policy = options.policy;
  r.checkpoint = now.checkpoint;
  for (const PlannedPrune& p : plan.prune)
    if (still.count(p.window.log_index)) r.windows.push_back(p.window);

  std::set<fs::path> dirs;
  auto remove = [&](const std::string& rel) -> Status {
    const fs::path abs = out / rel;
    if (::unlink(abs.c_str()) != 0 && errno != ENOENT)
      return make_error(abs.string() + ": " + std::strerror(errno));
    dirs.insert(abs.parent_path());
    return {};
  };
  auto sync_dirs = [&]() -> Status {
    for (const fs::path& d : dirs) {
      RITMA_TRY(fsync_directory(d));
      std::error_code ec;
      if (fs::is_empty(d, ec) && !ec) fs::remove(d, ec);  // an emptied blocks/
    }
    dirs.clear();
    return {};
  };
  // Leftovers of an interrupted run: their record exists already.
  for (const PlannedFile& f : now.leftovers) RITMA_TRY(remove(f.rel));
  RITMA_TRY(sync_dirs());
  if (r.windows.empty()) return std::optional<RetentionRecord>{};

  // The record first (signature, then the record, so a record never lacks its signature), then
  // the deletions: a crash in between leaves windows the record lists still present, which the
  // verifier accepts; never a window missing without a record.
  const Bytes bytes = encode(r);
  const fs::path rec_file = out / retention_path(r.index);
  RITMA_TRY(atomic_write_file(out / retention_sig_path(r.index),
                              encode(make_signature(key.name, key.key, bytes)), 0644));
  RITMA_TRY(atomic_write_file(rec_file, bytes, 0644));

  for (const PlannedPrune& p : plan.prune) {
    if (!still.count(p.window.log_index)) continue;
    for (const PlannedFile& f : p.files) {
      if (auto st = remove(f.rel); !st.ok())
        return make_error(st.error().message + " (the retention record " + retention_path(r.index) +
                          " lists it already; run again to finish)");
    }
  }
  RITMA_TRY(sync_dirs());
  return std::optional<RetentionRecord>{std::move(r)};
}

}  // namespace ritma::seal
