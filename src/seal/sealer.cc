#include "seal/sealer.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/merkle.h"
#include "core/signed_note.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/derived.h"
#include "seal/key_rotation.h"
#include "seal/schema_cddl.h"

namespace ritma::seal {

namespace fs = std::filesystem;

namespace {

int64_t real_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t floor_to(int64_t t, uint64_t unit) {
  const auto u = static_cast<int64_t>(unit);
  int64_t q = t / u;
  if (t % u != 0 && t < 0) --q;
  return q * u;
}

Status write_signed(const fs::path& file, const fs::path& sig_file, ByteSpan bytes,
                    const NamedSigningKey& key, uint64_t* written) {
  RITMA_TRY(atomic_write_file(file, bytes, 0644));
  const Bytes sig = encode(make_signature(key.name, key.key, bytes));
  RITMA_TRY(atomic_write_file(sig_file, sig, 0644));
  if (written) *written += bytes.size() + sig.size();
  return {};
}

// What the sealer keeps of one hour that has windows.
struct HourState {
  int64_t hour_start = 0;
  uint64_t first_log_index = 0;
  std::vector<Hash32> micro_roots;
  uint64_t events = 0;
};

// The window being filled.
struct OpenWindow {
  int64_t slot_start = 0;
  uint64_t part = 0;
  std::string stem;
  bool have_first_seq = false;
  uint64_t first_seq = 0;
  uint64_t count = 0;
  uint64_t loss = 0;
  uint64_t filtered = 0;
  int64_t min_wall = 0;
  int64_t max_wall = 0;
  merkle::TreeBuilder tree;
  std::map<uint64_t, uint64_t> types;
  Bytes block;  // atoms of the block being filled
  uint64_t block_events = 0;
  std::vector<BlockRef> blocks;
  std::vector<EventFacts> facts;
  std::vector<capture::Event> events;  // for the derived sketches
};

}  // namespace

std::vector<std::string> RecoveryReport::notes() const {
  std::vector<std::string> out;
  if (created) out.push_back("created a new sealed store");
  if (torn_log_bytes)
    out.push_back("cut " + std::to_string(torn_log_bytes) +
                  " bytes of a torn window-log tail (a write interrupted by a crash)");
  if (torn_checkpoint_bytes)
    out.push_back("cut " + std::to_string(torn_checkpoint_bytes) +
                  " bytes of a torn checkpoint-log tail");
  if (checkpoints_completed)
    out.push_back("signed " + std::to_string(checkpoints_completed) +
                  " checkpoint(s) for window-log records that had none");
  if (hours_closed)
    out.push_back("closed " + std::to_string(hours_closed) + " ended hour(s) (hour root, chain)");
  for (const auto& f : moved_to_unsealed)
    out.push_back("moved " + f + " to unsealed/ (written by an interrupted window; not sealed)");
  return out;
}

struct Sealer::Impl {
  Impl(SealerOptions o, NamedSigningKey k) : opts(std::move(o)), key(std::move(k)) {}
  SealerOptions opts;
  NamedSigningKey key;
  fs::path out;
  StoreRecord store;
  std::optional<FrameWriter> log;
  std::optional<FrameWriter> checkpoints;
  merkle::TreeBuilder log_tree;
  std::optional<MicroRecord> last;  // newest record in the log
  std::optional<HourState> hour;    // the hour of the newest record, while not closed
  std::optional<std::pair<int64_t, CheckpointRef>> previous_closing;  // last closed hour
  std::optional<OpenWindow> window;
  std::unique_ptr<DerivedWriter> derived;
  uint64_t next_seq_hint = 0;
  // next_seq_hint is this run's next seq (given as SealerOptions::first_seq, or learnt from a
  // window this run sealed): the next event must carry it.
  bool seq_known = false;
  Sealer* owner = nullptr;

  int64_t now() const { return opts.clock ? opts.clock() : real_clock_ns(); }
  fs::path abs(const std::string& rel) const { return out / rel; }

  Status open_window(int64_t now_ns);
  Status add_event(const capture::Event& e);
  Status finish_block();
  Status seal_window();
  Status close_hour(const HourState& h, int64_t closed_ns);
  Status sign_checkpoint(uint64_t size, const Hash32& root);
  Status write_health();
};

Status Sealer::Impl::sign_checkpoint(uint64_t size, const Hash32& root) {
  note::Checkpoint c;
  c.origin = checkpoint_origin(store.node_id, store.store_id);
  c.size = size;
  c.root = root;
  RITMA_ASSIGN_OR_RETURN(std::string text, note::sign(note::checkpoint_body(c), {&key}));
  RITMA_TRY(checkpoints->append(as_bytes(text)));
  RITMA_TRY(checkpoints->sync());
  RITMA_TRY(atomic_write_file(abs(kCheckpointFile), as_bytes(text), 0644));
  owner->last_checkpoint_ = std::move(text);
  owner->stats_.sealed_bytes += 4 + owner->last_checkpoint_.size();
  return {};
}

Status Sealer::Impl::close_hour(const HourState& h, int64_t closed_ns) {
  const uint64_t closing_size = h.first_log_index + h.micro_roots.size();
  if (log_tree.size() != closing_size)
    return make_error("internal: closing hour " + hour_dir(h.hour_start) + " at log size " +
                      std::to_string(log_tree.size()) + ", expected " +
                      std::to_string(closing_size));
  const CheckpointRef closing{closing_size, log_tree.root()};
  const std::string dir = hour_dir(h.hour_start) + "/proofs";
  RITMA_TRY(make_directories(abs(dir), 0755));
  const fs::path hour_file = abs(dir + "/hour_root.cbor");
  Bytes hour_bytes;
  // A record counts as written once its signature is (the signature is written second): a
  // record without one is the remains of an interrupted write and is written again.
  if (fs::exists(hour_file) && fs::exists(abs(dir + "/hour_root.sig"))) {
    // Written before a crash; never rewritten. Chain it as it is.
    RITMA_ASSIGN_OR_RETURN(hour_bytes, read_file(hour_file, kMaxRecordBytes));
  } else {
    HourRecord r;
    r.store_id = store.store_id;
    r.node_id = store.node_id;
    r.hour_start_ns = h.hour_start;
    r.first_log_index = h.first_log_index;
    r.window_count = h.micro_roots.size();
    merkle::TreeBuilder tb;
    for (const auto& root : h.micro_roots) tb.add_leaf(root);
    r.hour_root = tb.root();
    r.event_count = h.events;
    r.closing = closing;
    r.closed_ns = closed_ns;
    hour_bytes = encode(r);
    RITMA_TRY(write_signed(hour_file, abs(dir + "/hour_root.sig"), hour_bytes, key, nullptr));
  }
  const fs::path chain_file = abs(dir + "/chain.cbor");
  if (!fs::exists(chain_file) || !fs::exists(abs(dir + "/chain.sig"))) {
    ChainRecord c;
    c.store_id = store.store_id;
    c.node_id = store.node_id;
    c.hour_start_ns = h.hour_start;
    c.previous = previous_closing;
    c.closing = closing;
    c.hour_root_b3 = blake3(hour_bytes);
    c.closed_ns = closed_ns;
    RITMA_TRY(write_signed(chain_file, abs(dir + "/chain.sig"), encode(c), key, nullptr));
  }
  previous_closing = std::make_pair(h.hour_start, closing);
  return {};
}

Status Sealer::Impl::open_window(int64_t now_ns) {
  int64_t slot = floor_to(now_ns, store.window_ns);
  uint64_t part = 0;
  if (last) {
    if (slot <= last->slot_start_ns) {  // a restart within the slot (or the clock went back)
      slot = last->slot_start_ns;
      part = last->part + 1;
    }
    const bool same_hour = hour_start(slot) == hour_start(last->slot_start_ns);
    if (!same_hour && hour) {
      // The newest record's hour has ended: close it before anything of the next hour.
      RITMA_TRY(close_hour(*hour, now_ns));
      hour.reset();
    } else if (same_hour && !hour) {
      // That hour is already closed (the clock went back): start in the next hour.
      slot = hour_start(last->slot_start_ns) + static_cast<int64_t>(kHourNs);
      part = 0;
    }
  }
  OpenWindow w;
  w.slot_start = slot;
  const uint64_t slot_no = slot_in_hour(slot, store.window_ns);
  // Never reuse a name, even one a crashed window left behind.
  for (;; ++part) {
    w.stem = window_stem(slot_no, part);
    const std::string d = hour_dir(slot);
    if (!fs::exists(abs(d + "/micro/" + w.stem + ".cbor")) &&
        !fs::exists(abs(d + "/blocks/" + block_file_name(w.stem, 0))))
      break;
  }
  w.part = part;
  w.first_seq = next_seq_hint;
  window = std::move(w);
  return {};
}

Status Sealer::Impl::finish_block() {
  OpenWindow& w = *window;
  if (w.block_events == 0) return {};
  BlockRef b;
  b.file = block_file_name(w.stem, w.blocks.size());
  b.raw_bytes = w.block.size();
  b.event_count = w.block_events;
  RITMA_ASSIGN_OR_RETURN(Bytes z, zstd_compress(w.block, opts.zstd_level));
  b.zstd_bytes = z.size();
  b.b3 = blake3(z);
  const std::string dir = hour_dir(w.slot_start) + "/blocks";
  RITMA_TRY(make_directories(abs(dir), 0755));
  RITMA_TRY(atomic_write_file(abs(dir + "/" + b.file), z, 0644));
  owner->stats_.sealed_bytes += z.size();
  w.blocks.push_back(std::move(b));
  w.block.clear();
  w.block_events = 0;
  return {};
}

Status Sealer::Impl::add_event(const capture::Event& e) {
  OpenWindow& w = *window;
  if (!w.have_first_seq) {
    if (seq_known && e.seq != next_seq_hint)
      return make_error("sealer: event seq " + std::to_string(e.seq) +
                        " is not the run's next seq " + std::to_string(next_seq_hint) +
                        " (events must be contiguous within a run)");
    w.first_seq = e.seq;
    w.have_first_seq = true;
  } else if (e.seq != w.first_seq + w.count) {
    return make_error("sealer: event seq " + std::to_string(e.seq) + " does not follow " +
                      std::to_string(w.first_seq + w.count - 1) + " (events must be contiguous)");
  }
  size_t before = w.block.size();
  capture::encode_event_atom(e, opts.run.boot_id, w.block);
  if (w.block_events > 0 && w.block.size() > kBlockMaxRawBytes) {
    // The atom does not fit: it starts the next block.
    const Bytes atom_bytes(w.block.begin() + static_cast<std::ptrdiff_t>(before), w.block.end());
    w.block.resize(before);
    RITMA_TRY(finish_block());
    w.block = atom_bytes;
    before = 0;
  }
  const ByteSpan atom(w.block.data() + before, w.block.size() - before);
  w.tree.add_leaf(atom);
  EventFacts f;
  f.type = static_cast<uint64_t>(e.type);
  f.wall_ns = e.wall_ns;
  f.atom_bytes = static_cast<uint32_t>(atom.size());
  f.block = static_cast<uint32_t>(w.blocks.size());
  f.index_in_block = static_cast<uint32_t>(w.block_events);
  w.facts.push_back(f);
  if (opts.derived_files) w.events.push_back(e);
  if (w.count == 0) {
    w.min_wall = w.max_wall = e.wall_ns;
  } else {
    w.min_wall = std::min(w.min_wall, e.wall_ns);
    w.max_wall = std::max(w.max_wall, e.wall_ns);
  }
  ++w.count;
  ++w.block_events;
  ++w.types[f.type];
  if (e.type == capture::EventType::kLoss) w.loss += e.count;
  if (e.type == capture::EventType::kFiltered) w.filtered += e.count;
  if (w.block_events >= kBlockMaxEvents || w.block.size() >= kBlockMaxRawBytes)
    RITMA_TRY(finish_block());
  return {};
}

Status Sealer::Impl::seal_window() {
  RITMA_TRY(finish_block());
  OpenWindow& w = *window;
  MicroRecord r;
  r.store_id = store.store_id;
  r.node_id = store.node_id;
  r.log_index = log_tree.size();
  r.slot_start_ns = w.slot_start;
  r.window_ns = store.window_ns;
  r.part = w.part;
  r.first_seq = w.first_seq;
  r.event_count = w.count;
  r.loss_count = w.loss;
  r.filtered_count = w.filtered;
  r.min_wall_ns = w.min_wall;
  r.max_wall_ns = w.max_wall;
  r.micro_root = w.tree.root();
  r.blocks = w.blocks;
  r.type_counts.assign(w.types.begin(), w.types.end());
  r.run = opts.run;
  r.privacy = opts.privacy;
  r.sealed_ns = now();
  const Bytes bytes = encode(r);
  const std::string dir = hour_dir(w.slot_start) + "/micro";
  RITMA_TRY(make_directories(abs(dir), 0755));
  RITMA_TRY(write_signed(abs(micro_path(r)), abs(micro_sig_path(r)), bytes, key,
                         &owner->stats_.sealed_bytes));
  // The commit point: the record enters the window log.
  RITMA_TRY(log->append(bytes));
  RITMA_TRY(log->sync());
  owner->stats_.sealed_bytes += 4 + bytes.size();
  log_tree.add_leaf(bytes);
  RITMA_TRY(sign_checkpoint(log_tree.size(), log_tree.root()));
  owner->log_size_ = log_tree.size();

  if (!hour) hour = HourState{hour_start(w.slot_start), r.log_index, {}, 0};
  hour->micro_roots.push_back(r.micro_root);
  hour->events += r.event_count;

  const int64_t lag = now() - (w.slot_start + static_cast<int64_t>(store.window_ns));
  auto& st = owner->stats_;
  ++st.windows;
  st.events += r.event_count;
  st.last_lag_ns = lag;
  st.max_lag_ns = std::max(st.max_lag_ns, lag);
  next_seq_hint = r.end_seq();
  if (r.event_count != 0) seq_known = true;
  if (derived) {
    // Derived files are summaries, not evidence: a failure to write them is reported (stats,
    // and a verifier names the stale file) but never stops sealing.
    if (auto dst = derived->on_window(r, w.facts, w.events); !dst.ok()) {
      ++owner->stats_.derived_errors;
      owner->stats_.last_derived_error = dst.error().message;
    }
  }
  last = std::move(r);
  window.reset();
  return write_health();
}

Status Sealer::Impl::write_health() {
  const auto& st = owner->stats_;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"last_seal_ns\":%lld,\"last_log_index\":%llu,\"last_seq\":%lld,"
                "\"windows_sealed\":%llu,\"events_sealed\":%llu,\"lag_ms\":%.3f}\n",
                static_cast<long long>(last->sealed_ns),
                static_cast<unsigned long long>(last->log_index),
                last->end_seq() == 0 ? -1LL : static_cast<long long>(last->end_seq() - 1),
                static_cast<unsigned long long>(st.windows),
                static_cast<unsigned long long>(st.events), st.last_lag_ns / 1e6);
  return atomic_write_file(abs(kHealthFile), as_bytes(std::string_view(buf)), 0644);
}

// ---------------------------------------------------------------- open and recovery

namespace {

Result<StoreRecord> open_or_create_store(const fs::path& out, const SealerOptions& opts,
                                         const NamedSigningKey& key, int64_t now_ns,
                                         bool* created) {
  const fs::path file = out / kStoreFile;
  if (fs::exists(file) && !fs::exists(out / kStoreSigFile)) {
    // Interrupted between the record and its signature: finish it (same record).
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(file, kMaxRecordBytes));
    RITMA_ASSIGN_OR_RETURN(StoreRecord r, decode_store(b));
    if (r.node_id != opts.node_id)
      return make_error("the store at " + out.string() + " belongs to node \"" + r.node_id +
                        "\", not \"" + opts.node_id + "\"");
    RITMA_TRY(
        atomic_write_file(out / kStoreSigFile, encode(make_signature(key.name, key.key, b)), 0644));
  }
  if (fs::exists(file)) {
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(file, kMaxRecordBytes));
    RITMA_ASSIGN_OR_RETURN(StoreRecord r, decode_store(b));
    RITMA_ASSIGN_OR_RETURN(Bytes sb, read_file(out / kStoreSigFile, kMaxRecordBytes));
    RITMA_ASSIGN_OR_RETURN(SignatureRecord sig, decode_signature(sb));
    if (!check_signature(sig, b))
      return make_error((out / kStoreSigFile).string() + ": signature does not verify");
    if (r.node_id != opts.node_id)
      return make_error("the store at " + out.string() + " belongs to node \"" + r.node_id +
                        "\", not \"" + opts.node_id + "\"");
    return r;
  }
  StoreRecord r;
  ensure_sodium();
  randombytes_buf(r.store_id.data(), r.store_id.size());
  r.node_id = opts.node_id;
  r.created_ns = now_ns;
  r.window_ns = opts.window_ns;
  if (r.window_ns == 0 || kHourNs % r.window_ns != 0)
    return make_error("window length must divide an hour (e.g. 10s, 30s, 1m)");
  RITMA_TRY(make_directories(out / "_meta", 0755));
  RITMA_TRY(write_signed(file, out / kStoreSigFile, encode(r), key, nullptr));
  RITMA_TRY(make_directories(out / "_meta/schema", 0755));
  RITMA_TRY(atomic_write_file(out / "_meta/schema/ritma-store@1.cddl",
                              as_bytes(std::string_view(kStoreSchemaCddl)), 0644));
  *created = true;
  return r;
}

Status open_or_create_keys(const fs::path& out, const NamedSigningKey& key, int64_t now_ns) {
  const fs::path file = out / kKeysFile;
  if (fs::exists(file)) {
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(file, kMaxRecordBytes));
    RITMA_ASSIGN_OR_RETURN(KeysRecord r, decode_keys(b));
    RITMA_TRY(check_key_chain(r));
    if (r.keys.empty() || r.keys.back().public_key != key.key.public_key() ||
        r.keys.back().valid_until_ns)
      return make_error("the signing key " + key.name + " (" +
                        key_fingerprint(key.key.public_key()) + ") is not the current key of " +
                        file.string() +
                        "; was the key replaced by hand? (`ritma keys rotate` "
                        "records a new key with a hand-over)");
    return {};
  }
  KeysRecord r;
  KeyEntry k;
  k.name = key.name;
  k.public_key = key.key.public_key();
  k.valid_from_ns = now_ns;
  r.keys.push_back(k);
  RITMA_TRY(make_directories(file.parent_path(), 0700));
  return atomic_write_file(file, encode(r), 0644);
}

// Feeds a sealed window back to the derived writer, from its blocks.
Status replay_derived(const fs::path& out, const MicroRecord& r, DerivedWriter& derived) {
  std::vector<EventFacts> facts;
  std::vector<capture::Event> events;
  for (size_t k = 0; k < r.blocks.size(); ++k) {
    const BlockRef& b = r.blocks[k];
    RITMA_ASSIGN_OR_RETURN(Bytes z, read_file(out / block_dir(r) / b.file, size_t{256} << 20));
    if (blake3(z) != b.b3) return make_error(b.file + ": BLAKE3 differs from its micro record");
    RITMA_ASSIGN_OR_RETURN(Bytes raw, zstd_decompress(z, b.raw_bytes));
    std::vector<ScannedAtom> atoms;
    if (auto err = scan_atoms(raw, atoms)) return make_error(b.file + ": " + err->message());
    for (size_t i = 0; i < atoms.size(); ++i) {
      RITMA_ASSIGN_OR_RETURN(capture::Event e, capture::decode_event_atom(atoms[i].bytes(raw)));
      EventFacts f;
      f.type = atoms[i].type;
      f.wall_ns = atoms[i].wall_ns;
      f.atom_bytes = atoms[i].size;
      f.block = static_cast<uint32_t>(k);
      f.index_in_block = static_cast<uint32_t>(i);
      facts.push_back(f);
      events.push_back(std::move(e));
    }
  }
  return derived.on_window(r, facts, events);
}

// Moves `rel` (relative to out) to out/unsealed/rel.
Status move_to_unsealed(const fs::path& out, const std::string& rel) {
  const fs::path dst = out / "unsealed" / rel;
  RITMA_TRY(make_directories(dst.parent_path(), 0755));
  std::error_code ec;
  fs::rename(out / rel, dst, ec);
  if (ec) return make_error("cannot move " + rel + " to unsealed/: " + ec.message());
  return fsync_directory(dst.parent_path());
}

}  // namespace

Sealer::Sealer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->owner = this;
}
Sealer::~Sealer() = default;

Result<std::unique_ptr<Sealer>> Sealer::open(SealerOptions opts, NamedSigningKey key) {
  auto impl = std::make_unique<Impl>(std::move(opts), std::move(key));
  impl->out = impl->opts.out_dir;
  Impl& m = *impl;
  std::unique_ptr<Sealer> s(new Sealer(std::move(impl)));
  RecoveryReport& rep = s->recovery_;
  const int64_t now_ns = m.now();

  RITMA_TRY(make_directories(m.out, 0755));
  for (const char* d : {"_meta", "_meta/health", "log", "windows"})
    RITMA_TRY(make_directories(m.out / d, 0755));
  RITMA_ASSIGN_OR_RETURN(m.store, open_or_create_store(m.out, m.opts, m.key, now_ns, &rep.created));
  s->store_ = m.store;
  RITMA_TRY(open_or_create_keys(m.out, m.key, m.store.created_ns));

  // The window log: cut a torn tail, then replay every record.
  {
    RITMA_ASSIGN_OR_RETURN(
        FrameWriter w, FrameWriter::open(m.out / kWindowLogFile, FrameWriter::TornTail::kTruncate));
    rep.torn_log_bytes = w.truncated_bytes();
    m.log.emplace(std::move(w));
  }
  std::vector<Hash32> leaf_hashes;
  {
    RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(m.out / kWindowLogFile, size_t{1} << 34));
    const FrameScan scan = scan_frames(data);
    for (size_t i = 0; i < scan.frames.size(); ++i) {
      auto rec = decode_micro(scan.frames[i]);
      if (!rec.ok() || rec->log_index != i)
        return make_error(std::string(kWindowLogFile) + ": record " + std::to_string(i) +
                          (rec.ok() ? " has log index " + std::to_string(rec->log_index)
                                    : " does not decode: " + rec.error().message) +
                          "; the store is damaged: run `ritma verify --store`");
      leaf_hashes.push_back(merkle::leaf_hash(scan.frames[i]));
      m.log_tree.add_leaf_hash(leaf_hashes.back());
      const int64_t h = hour_start(rec->slot_start_ns);
      if (!m.hour || m.hour->hour_start != h) {
        if (m.hour) {
          // An earlier hour: its closing checkpoint is the root at its last window.
          const uint64_t size = m.hour->first_log_index + m.hour->micro_roots.size();
          m.previous_closing = std::make_pair(
              m.hour->hour_start,
              CheckpointRef{size, merkle::root_from_leaf_hashes(
                                      std::span<const Hash32>(leaf_hashes).first(size))});
        }
        m.hour = HourState{h, i, {}, 0};
      }
      m.hour->micro_roots.push_back(rec->micro_root);
      m.hour->events += rec->event_count;
      m.last = std::move(rec).value();
    }
  }
  rep.log_records = m.log_tree.size();
  s->log_size_ = rep.log_records;
  if (m.last) {
    m.next_seq_hint = m.last->end_seq();
    if (m.last->end_seq() > 0) rep.last_sealed_seq = m.last->end_seq() - 1;
    rep.last_run = m.last->run;
  }

  // Checkpoints: one per record; sign what a crash left unsigned.
  {
    RITMA_ASSIGN_OR_RETURN(FrameWriter w, FrameWriter::open(m.out / kCheckpointLogFile,
                                                            FrameWriter::TornTail::kTruncate));
    rep.torn_checkpoint_bytes = w.truncated_bytes();
    m.checkpoints.emplace(std::move(w));
    RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(m.out / kCheckpointLogFile, size_t{1} << 34));
    const FrameScan scan = scan_frames(data);
    if (scan.frames.size() > leaf_hashes.size())
      return make_error(std::string(kCheckpointLogFile) + " has " +
                        std::to_string(scan.frames.size()) + " checkpoints for " +
                        std::to_string(leaf_hashes.size()) +
                        " window-log records; the store is damaged: run `ritma verify --store`");
    if (!scan.frames.empty()) s->last_checkpoint_ = std::string(as_chars(scan.frames.back()));
    for (size_t n = scan.frames.size() + 1; n <= leaf_hashes.size(); ++n) {
      RITMA_TRY(m.sign_checkpoint(
          n, merkle::root_from_leaf_hashes(std::span<const Hash32>(leaf_hashes).first(n))));
      ++rep.checkpoints_completed;
    }
    if (!s->last_checkpoint_.empty()) {
      auto current = read_file(m.out / kCheckpointFile, kMaxRecordBytes);
      if (!current.ok() || as_chars(*current) != s->last_checkpoint_)
        RITMA_TRY(atomic_write_file(m.out / kCheckpointFile, as_bytes(s->last_checkpoint_), 0644));
    }
  }

  // Leftovers of a window that never reached the log: in the newest record's hour and later.
  {
    const std::string from = m.last ? hour_dir(m.last->slot_start_ns) : std::string();
    std::set<std::string> named;
    if (m.last) {
      // Names in the newest hour: replay that hour's records' files.
      RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(m.out / kWindowLogFile, size_t{1} << 34));
      const FrameScan scan = scan_frames(data);
      for (size_t i = m.hour ? m.hour->first_log_index : 0; i < scan.frames.size(); ++i) {
        auto rec = decode_micro(scan.frames[i]);
        if (!rec.ok()) continue;
        named.insert(micro_path(*rec));
        named.insert(micro_sig_path(*rec));
        for (const auto& b : rec->blocks) named.insert(block_dir(*rec) + "/" + b.file);
      }
    }
    std::vector<std::string> leftovers;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(m.out / "windows", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string rel = fs::relative(it->path(), m.out).string();
      const std::string leaf_dir = fs::path(rel).parent_path().filename().string();
      if (leaf_dir != "micro" && leaf_dir != "blocks") continue;
      const std::string hdir = fs::path(rel).parent_path().parent_path().string();
      if (!from.empty() && hdir < from) continue;
      if (!named.count(rel)) leftovers.push_back(rel);
    }
    std::sort(leftovers.begin(), leftovers.end());
    for (const auto& rel : leftovers) {
      RITMA_TRY(move_to_unsealed(m.out, rel));
      rep.moved_to_unsealed.push_back(rel);
    }
  }

  // An hour that ended while the sensor was down is closed now.
  if (m.hour && hour_start(now_ns) > m.hour->hour_start) {
    const bool had_both =
        fs::exists(m.out / (hour_dir(m.hour->hour_start) + "/proofs/hour_root.cbor")) &&
        fs::exists(m.out / (hour_dir(m.hour->hour_start) + "/proofs/chain.cbor"));
    RITMA_TRY(m.close_hour(*m.hour, now_ns));
    if (!had_both) ++rep.hours_closed;
    m.hour.reset();
  }

  if (m.opts.derived_files) {
    m.derived = std::make_unique<DerivedWriter>(m.out, m.store.store_id, m.store.node_id);
    // The derived files are written after a window's checkpoint; a crash in between leaves
    // them without (part of) the newest window. Replaying it is safe: entries it already has
    // are not counted twice.
    if (m.last) {
      if (auto st = replay_derived(m.out, *m.last, *m.derived); !st.ok()) {
        ++s->stats_.derived_errors;
        s->stats_.last_derived_error = st.error().message;
      }
    }
  }
  RITMA_TRY(m.open_window(now_ns));
  return s;
}

Status Sealer::start_run_at(uint64_t first_seq) {
  Impl& m = *impl_;
  if (m.window && (m.window->count != 0 || m.window->have_first_seq))
    return make_error("sealer: the run's first seq is set before its first event");
  if (m.last && m.last->run.boot_id == m.opts.run.boot_id && first_seq < m.next_seq_hint)
    return make_error("sealer: the run would start at seq " + std::to_string(first_seq) +
                      ", before the end (seq " + std::to_string(m.next_seq_hint) +
                      ") of what this boot already sealed");
  m.next_seq_hint = first_seq;
  m.seq_known = true;
  if (m.window) m.window->first_seq = first_seq;
  return {};
}

Status Sealer::add(std::span<const capture::Event> events) {
  RITMA_TRY(tick());
  for (const auto& e : events) RITMA_TRY(impl_->add_event(e));
  return {};
}

Status Sealer::tick() {
  const int64_t now_ns = impl_->now();
  auto& w = *impl_->window;
  if (now_ns < w.slot_start + static_cast<int64_t>(impl_->store.window_ns)) return {};
  RITMA_TRY(impl_->seal_window());
  return impl_->open_window(now_ns);
}

Status Sealer::flush_window() {
  RITMA_TRY(impl_->seal_window());
  return impl_->open_window(impl_->now());
}

// ---------------------------------------------------------------- privacy

namespace {
void hash_string(const Hash32& secret, std::string& s) {
  if (s.empty()) return;
  Blake3Hasher h = Blake3Hasher::keyed(secret);
  h.update(std::string_view("ritma-priv@1"));
  const uint8_t zero = 0;
  h.update(ByteSpan(&zero, 1));
  h.update(std::string_view(s));
  const Hash32 d = h.finalize();
  s = "k:" + to_hex(ByteSpan(d.data(), 16));
}
}  // namespace

void apply_hash_only(const Hash32& secret, capture::Event& e) {
  for (std::string* s : {&e.comm, &e.exe, &e.container_id, &e.unit, &e.path, &e.path2,
                         &e.addr.unix_path, &e.dns_name})
    hash_string(secret, *s);
  for (auto& a : e.argv) hash_string(secret, a);
}

Result<Hash32> load_or_create_privacy_secret(const fs::path& out_dir) {
  const fs::path file = out_dir / kPrivacySecretFile;
  if (fs::exists(file)) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 077) != 0)
      return make_error(file.string() + " must be mode 0600 (chmod 600 " + file.string() + ")");
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(file, 64));
    if (b.size() != 32) return make_error(file.string() + " must hold exactly 32 bytes");
    Hash32 h{};
    std::copy(b.begin(), b.end(), h.begin());
    return h;
  }
  Hash32 h{};
  ensure_sodium();
  randombytes_buf(h.data(), h.size());
  RITMA_TRY(make_directories(file.parent_path(), 0700));
  RITMA_TRY(atomic_write_file(file, h, 0600));
  return h;
}

}  // namespace ritma::seal
