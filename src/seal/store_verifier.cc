// The sealed-store verifier (docs/FORMAT.md §10.14). One pass over the window log in order:
// each record is decoded, hashed into the log tree and, when in range, its micro file,
// signature and blocks are checked and its atoms recounted; then the checkpoints are compared
// with the recomputed tree, the hour roots and chain links recomputed, the derived files
// compared, and windows/ walked for files no record names.
#include "seal/store_verifier.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <unordered_set>

#include "core/blake3_hasher.h"
#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/frame_log.h"
#include "core/key_file.h"
#include "core/merkle.h"
#include "core/signed_note.h"
#include "core/unique_fd.h"
#include "seal/atom_scan.h"
#include "seal/derived.h"
#include "seal/seal_format.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kTypeLoss = 100;
constexpr uint64_t kTypeFiltered = 101;
constexpr size_t kMaxSigBytes = 4096;
constexpr size_t kMaxBlockFileBytes = 64u << 20;  // zstd of at most 4 MiB stays far below
constexpr size_t kMaxLogBytes = size_t{1} << 40;

// ---- small helpers

std::string format_time(int64_t ns) {
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A whole file mapped read-only (the logs can be large; nothing is copied).
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  // Missing files set *missing and fail.
  static Result<MappedFile> open(const fs::path& p, size_t max, bool* missing) {
    *missing = false;
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      *missing = errno == ENOENT;
      return make_error("cannot open " + p.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return make_error("cannot stat " + p.string());
    if (!S_ISREG(st.st_mode)) return make_error(p.string() + " is not a regular file");
    if (static_cast<uint64_t>(st.st_size) > max)
      return make_error(p.string() + " is larger than the limit of " + std::to_string(max));
    MappedFile m;
    m.size_ = static_cast<size_t>(st.st_size);
    if (m.size_ == 0) return m;
    void* d = mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (d == MAP_FAILED) return make_error("cannot map " + p.string() + ": " + strerror(errno));
    m.data_ = d;
    return m;
  }
  ByteSpan bytes() const { return ByteSpan(static_cast<const uint8_t*>(data_), size_); }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Reads a whole file into `out` (reusing its capacity). Missing files set *missing.
Status read_into(const fs::path& p, size_t max, Bytes& out, bool* missing) {
  *missing = false;
  out.clear();
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    *missing = errno == ENOENT;
    return make_error("cannot open: " + std::string(std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return make_error("cannot stat: " + std::string(strerror(errno)));
  if (!S_ISREG(st.st_mode)) return make_error("not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max)
    return make_error(std::to_string(st.st_size) + " bytes is larger than the limit of " +
                      std::to_string(max));
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read: " + std::string(std::strerror(errno)));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != out.size()) return make_error("file shrank while being read");
  char extra = 0;
  if (::read(fd.get(), &extra, 1) > 0) return make_error("file grew while being read");
  return {};
}

// What later steps need of each window-log record.
struct Rec {
  bool decoded = false;
  bool in_range = false;
  int64_t slot_start_ns = 0;
  int64_t sealed_ns = 0;
  uint64_t part = 0;
  uint64_t first_seq = 0;
  uint64_t event_count = 0;
  Hash32 micro_root{};
  std::string stem;  // stem path
};

struct WinRef {
  std::string stem;
  std::optional<uint64_t> log_index;
};

struct KeyState {
  KeyEntry entry;
  NamedPublicKey named;
  VerifyKey out;
};

// Parsed location of a file under windows/.
struct WindowsPath {
  int64_t hour_ns = 0;
  std::string kind;  // blocks, micro, proofs
  std::string name;
  std::optional<uint64_t> slot;
  uint64_t part = 0;
  std::string stem;  // windows/.../micro/<stem> for block and micro files
};

std::optional<uint64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<WindowsPath> parse_windows_path(const std::string& rel) {
  // windows/YYYY/MM/DD/HH/<kind>/<name>
  std::vector<std::string_view> parts;
  std::string_view s(rel);
  while (!s.empty()) {
    const size_t slash = s.find('/');
    parts.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  if (parts.size() != 7 || parts[0] != "windows") return std::nullopt;
  const auto y = parse_digits(parts[1]), mo = parse_digits(parts[2]), d = parse_digits(parts[3]),
             h = parse_digits(parts[4]);
  if (!y || !mo || !d || !h || parts[1].size() != 4 || parts[2].size() != 2 ||
      parts[3].size() != 2 || parts[4].size() != 2 || *h > 23)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(*y)),
                                        std::chrono::month(static_cast<unsigned>(*mo)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  WindowsPath w;
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  w.hour_ns = (days * 24 + static_cast<int64_t>(*h)) * static_cast<int64_t>(kHourNs);
  w.kind = std::string(parts[5]);
  w.name = std::string(parts[6]);
  if (w.kind == "blocks" || w.kind == "micro") {
    const std::string_view name(w.name);
    const size_t dot = name.find('.');
    std::string_view stem = name.substr(0, dot);
    if (stem.size() >= 4 && stem[0] == 'w') {
      const size_t dash = stem.find('-');
      const auto slot = parse_digits(stem.substr(1, dash == std::string_view::npos ? dash : dash - 1));
      std::optional<uint64_t> part = 0;
      if (dash != std::string_view::npos) part = parse_digits(stem.substr(dash + 1));
      if (slot && part) {
        w.slot = *slot;
        w.part = *part;
      }
    }
    w.stem = "windows/" + std::string(parts[1]) + "/" + std::string(parts[2]) + "/" +
             std::string(parts[3]) + "/" + std::string(parts[4]) + "/micro/" + std::string(stem);
  }
  return w;
}

// ---- the verifier

class Verifier {
 public:
  Verifier(fs::path out, const VerifyOptions& o, VerifyReport& r)
      : out_(std::move(out)), opts_(o), rep_(r) {
    rep_.range_limited = o.from_ns.has_value() || o.to_ns.has_value();
    rep_.from_ns = o.from_ns;
    rep_.to_ns = o.to_ns;
  }
  ~Verifier() {
    if (dctx_ != nullptr) ZSTD_freeDCtx(dctx_);
  }
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  Status run(const std::optional<std::string>& pinned_fp);

 private:
  // ---- reporting
  void problem(std::string file, const WinRef& w, std::optional<uint64_t> seq, std::string msg) {
    if (rep_.problems.size() >= opts_.max_problems) {
      ++rep_.problems_omitted;
      return;
    }
    VerifyProblem p;
    p.file = std::move(file);
    p.window = w.stem;
    p.log_index = w.log_index;
    p.seq = seq;
    p.message = std::move(msg);
    rep_.problems.push_back(std::move(p));
  }
  void problem(std::string file, std::string msg) {
    problem(std::move(file), WinRef{}, std::nullopt, std::move(msg));
  }
  void note(std::string msg) { rep_.notes.push_back(std::move(msg)); }

  fs::path abs(const std::string& rel) const { return out_ / rel; }

  // ---- steps
  bool load_store();
  void load_keys(const std::optional<std::string>& pinned_fp);
  void check_detached(const std::string& file, const std::string& sig_file, ByteSpan signed_bytes,
                      int64_t time_ns, const WinRef& w);
  void read_window_log();
  void check_record(uint64_t i, ByteSpan frame);
  void verify_window(uint64_t i, const MicroRecord& m, ByteSpan frame, Rec& rec);
  void verify_block(const MicroRecord& m, const WinRef& w, size_t k, uint64_t& expect_seq,
                    merkle::TreeBuilder& tree);
  void check_checkpoints();
  void check_note(std::string_view text, uint64_t rec_index, const WinRef& w,
                  const std::string& file, const std::string& label);
  void check_hours();
  void walk_windows();
  void list_unsealed();
  void maybe_progress(bool force = false);

  int find_key(const PublicKey& pk) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i].entry.public_key == pk) return static_cast<int>(i);
    }
    return -1;
  }
  static bool valid_at(const KeyEntry& k, int64_t t) {
    return t >= k.valid_from_ns && (!k.valid_until_ns || t < *k.valid_until_ns);
  }
  // The key whose validity range contains t, or -1.
  int key_at(int64_t t) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (valid_at(keys_[i].entry, t)) return static_cast<int>(i);
    }
    return -1;
  }

  fs::path out_;
  const VerifyOptions& opts_;
  VerifyReport& rep_;

  StoreRecord store_;
  std::vector<KeyState> keys_;
  bool keys_loaded_ = false;
  std::string origin_;

  std::vector<Rec> recs_;
  std::optional<RunIdentity> prev_run_;  // run of the previous record
  bool checkpoints_beyond_log_ = false;  // a checkpoint covers records the log lacks
  std::vector<Hash32> log_roots_;  // root of the window-log tree at size i + 1
  std::unordered_set<std::string> named_;
  std::unique_ptr<DerivedChecker> derived_;

  // Reused buffers.
  Bytes file_buf_;
  Bytes raw_buf_;
  std::vector<ScannedAtom> atoms_;
  std::vector<EventFacts> facts_;
  LeafHasher leaf_hasher_;
  ZSTD_DCtx* dctx_ = nullptr;

  // Per-window tallies.
  struct Tally {
    uint64_t events = 0, loss = 0, filtered = 0, loss_events = 0;
    int64_t min_wall = 0, max_wall = 0;
    std::array<uint64_t, 256> small_types{};
    std::map<uint64_t, uint64_t> big_types;
    uint64_t raw_bytes = 0;
  } tally_;

  Clock::time_point last_progress_ = Clock::now();
};

Status Verifier::run(const std::optional<std::string>& pinned_fp) {
  if (!load_store()) return {};
  load_keys(pinned_fp);
  if (opts_.check_derived)
    derived_ = std::make_unique<DerivedChecker>(out_, store_.store_id, store_.node_id);
  read_window_log();
  check_checkpoints();
  check_hours();
  if (derived_) {
    for (std::string& msg : derived_->finish(!rep_.range_limited)) {
      // The checker's messages begin with the file they are about ("catalog/...: ...").
      std::string file;
      const size_t colon = msg.find(": ");
      if (colon != std::string::npos && msg.find(' ') > colon - 1 &&
          (msg.starts_with("index/") || msg.starts_with("catalog/") ||
           msg.starts_with("accounting/"))) {
        file = msg.substr(0, colon);
      }
      problem(file, WinRef{}, std::nullopt, std::move(msg));
    }
  }
  walk_windows();
  list_unsealed();
  maybe_progress(true);
  return {};
}

void Verifier::maybe_progress(bool force) {
  if (!opts_.progress) return;
  const auto now = Clock::now();
  if (!force && now - last_progress_ < opts_.progress_interval) return;
  last_progress_ = now;
  opts_.progress(VerifyProgress{recs_.size(), rep_.windows, rep_.events});
}

// 1. store.cbor and its signature (the signature after the keys are known).
bool Verifier::load_store() {
  bool missing = false;
  Bytes b;
  auto st = read_into(abs(kStoreFile), kMaxRecordBytes, b, &missing);
  if (!st.ok()) {
    problem(kStoreFile, "cannot read: " + st.error().message);
    return false;
  }
  auto s = decode_store(b);
  if (!s.ok()) {
    problem(kStoreFile, s.error().message + " (nothing else can be checked without it)");
    return false;
  }
  store_ = std::move(s).value();
  rep_.node_id = store_.node_id;
  rep_.store_id = to_hex(store_.store_id);
  rep_.window_ns = store_.window_ns;
  origin_ = checkpoint_origin(store_.node_id, store_.store_id);
  file_buf_ = std::move(b);
  return true;
}

void Verifier::load_keys(const std::optional<std::string>& pinned_fp) {
  const Bytes store_bytes = file_buf_;
  bool missing = false;
  Bytes b;
  auto st = read_into(abs(kKeysFile), kMaxRecordBytes, b, &missing);
  if (!st.ok()) {
    problem(kKeysFile, missing ? "missing: the store's keys cannot be established"
                               : "cannot read: " + st.error().message);
    return;
  }
  auto k = decode_keys(b);
  if (!k.ok()) {
    problem(kKeysFile, k.error().message);
    return;
  }
  if (k->keys.empty()) {
    problem(kKeysFile, "lists no key");
    return;
  }
  keys_loaded_ = true;
  for (auto& e : k->keys) {
    KeyState ks;
    ks.named.name = e.name;
    ks.named.key = e.public_key;
    ks.named.key_id = note_key_id(e.name, e.public_key);
    ks.out.name = e.name;
    ks.out.fingerprint = key_fingerprint(e.public_key);
    ks.out.valid_from_ns = e.valid_from_ns;
    ks.out.valid_until_ns = e.valid_until_ns;
    ks.entry = std::move(e);
    keys_.push_back(std::move(ks));
  }
  // The hand-overs: each key after the first is announced by its predecessor.
  std::vector<bool> handed_over(keys_.size(), false);
  for (size_t i = 0; i < keys_.size(); ++i) {
    const KeyEntry& e = keys_[i].entry;
    const std::string who = "key " + std::to_string(i) + " (" + e.name + ", " +
                            keys_[i].out.fingerprint + ")";
    if (!check_key_name(e.name).ok()) problem(kKeysFile, who + ": invalid key name");
    if (e.valid_until_ns && *e.valid_until_ns <= e.valid_from_ns)
      problem(kKeysFile, who + ": valid_until_ns is not after valid_from_ns");
    if (i + 1 == keys_.size() && e.valid_until_ns)
      problem(kKeysFile, who + ": the last (current) key must have valid_until_ns null");
    if (i + 1 < keys_.size() && !e.valid_until_ns)
      problem(kKeysFile, who + ": a key that was handed over must have valid_until_ns");
    if (i == 0) {
      if (e.handover) problem(kKeysFile, who + ": the first key must not have a hand-over");
      continue;
    }
    const KeyEntry& prev = keys_[i - 1].entry;
    if (!e.handover) {
      problem(kKeysFile, who + ": no hand-over signature from the previous key");
      continue;
    }
    if (e.handover->first != prev.public_key) {
      problem(kKeysFile, who + ": the hand-over names a previous key that is not key " +
                             std::to_string(i - 1));
      continue;
    }
    if (prev.valid_until_ns != e.valid_from_ns) {
      problem(kKeysFile, who + ": valid_from_ns differs from the previous key's valid_until_ns");
    }
    if (!verify_signature(prev.public_key, signature_message(encode_handover_message(e)),
                          e.handover->second)) {
      problem(kKeysFile, who + ": the hand-over signature does not verify");
      continue;
    }
    handed_over[i] = true;
  }
  // Trust: from the pinned key (or the first key when nothing is pinned) along valid hand-overs.
  size_t start = 0;
  if (pinned_fp) {
    int found = -1;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i].out.fingerprint == *pinned_fp) found = static_cast<int>(i);
    }
    if (found < 0) {
      std::string have;
      for (const auto& ks : keys_) {
        have += (have.empty() ? "" : ", ") + ks.out.name + " " + ks.out.fingerprint;
      }
      problem(kKeysFile, "the pinned key " + *pinned_fp +
                             " is none of the store's keys (they are: " + have +
                             "); nothing the store signed can be trusted");
      start = keys_.size();
    } else {
      start = static_cast<size_t>(found);
      keys_[start].out.pinned = true;
      rep_.pinned = true;
    }
  }
  for (size_t i = start; i < keys_.size(); ++i) {
    if (i > start && !handed_over[i]) break;
    keys_[i].out.trusted = true;
  }
  rep_.signer_name = keys_.back().out.name;
  rep_.signer_fingerprint = keys_.back().out.fingerprint;
  // node.pub is a convenience copy of the current key; say so when it is not.
  bool pub_missing = false;
  Bytes pub;
  if (read_into(abs("_meta/keys/node.pub"), 4096, pub, &pub_missing).ok()) {
    auto k2 = parse_public_key(as_chars(pub));
    if (!k2.ok() || k2->key != keys_.back().entry.public_key)
      note("_meta/keys/node.pub is not the store's current key " + keys_.back().out.fingerprint +
           " (it is not evidence; keys.cbor is)");
  }
  check_detached(kStoreFile, kStoreSigFile, store_bytes, store_.created_ns, WinRef{});
}

void Verifier::check_detached(const std::string& file, const std::string& sig_file,
                              ByteSpan signed_bytes, int64_t time_ns, const WinRef& w) {
  Bytes b;
  bool missing = false;
  auto st = read_into(abs(sig_file), kMaxSigBytes, b, &missing);
  if (!st.ok()) {
    problem(sig_file, w, std::nullopt,
            missing ? "missing signature of " + file : "cannot read: " + st.error().message);
    return;
  }
  auto sig = decode_signature(b);
  if (!sig.ok()) {
    problem(sig_file, w, std::nullopt, sig.error().message);
    return;
  }
  if (!keys_loaded_) {
    problem(sig_file, w, std::nullopt, "cannot be checked: the store's keys are unknown");
    return;
  }
  const int idx = find_key(sig->public_key);
  if (idx < 0) {
    problem(sig_file, w, std::nullopt,
            "signed by a key that is not one of the store's keys (" + sig->key_name + ", " +
                key_fingerprint(sig->public_key) + ")");
    return;
  }
  KeyState& k = keys_[static_cast<size_t>(idx)];
  if (sig->key_name != k.entry.name) {
    problem(sig_file, w, std::nullopt,
            "names the key \"" + sig->key_name + "\" but its public key is " + k.entry.name);
    return;
  }
  if (!k.out.trusted) {
    problem(sig_file, w, std::nullopt,
            "signed by " + k.out.name + " (" + k.out.fingerprint +
                "), which the pinned key does not vouch for");
    return;
  }
  if (!valid_at(k.entry, time_ns)) {
    problem(sig_file, w, std::nullopt,
            "signed by " + k.out.name + " (" + k.out.fingerprint + "), which was not the key at " +
                format_time(time_ns));
    return;
  }
  if (!check_signature(*sig, signed_bytes)) {
    problem(sig_file, w, std::nullopt, "the signature does not verify over " + file);
    return;
  }
  ++k.out.signatures;
}

// 2. The window log, record by record.
void Verifier::read_window_log() {
  bool missing = false;
  auto log = MappedFile::open(abs(kWindowLogFile), kMaxLogBytes, &missing);
  if (!log.ok()) {
    if (missing) {
      note("no window log yet (log/windows.log): no window has been sealed");
    } else {
      problem(kWindowLogFile, "cannot read: " + log.error().message);
    }
    return;
  }
  const FrameScan scan = scan_frames(log->bytes(), static_cast<uint32_t>(kMaxRecordBytes));
  if (scan.torn) {
    note(std::string(kWindowLogFile) + ": " + *scan.torn +
         " (the remains of a crash while appending; the sensor cuts it off when it starts)");
  }
  recs_.reserve(scan.frames.size());
  log_roots_.reserve(scan.frames.size());
  merkle::TreeBuilder tree;
  for (uint64_t i = 0; i < scan.frames.size(); ++i) {
    const ByteSpan frame = scan.frames[i];
    tree.add_leaf(frame);
    log_roots_.push_back(tree.root());
    check_record(i, frame);
    maybe_progress();
  }
  rep_.log_records = recs_.size();
}

void Verifier::check_record(uint64_t i, ByteSpan frame) {
  Rec& rec = recs_.emplace_back();
  const std::string frame_name = std::string(kWindowLogFile);
  auto dm = decode_micro(frame);
  if (!dm.ok()) {
    problem(frame_name, WinRef{"", i}, std::nullopt,
            "frame " + std::to_string(i) + ": " + dm.error().message);
    return;
  }
  const MicroRecord& m = *dm;
  rec.decoded = true;
  rec.slot_start_ns = m.slot_start_ns;
  rec.sealed_ns = m.sealed_ns;
  rec.part = m.part;
  rec.first_seq = m.first_seq;
  rec.event_count = m.event_count;
  rec.micro_root = m.micro_root;
  rec.stem = stem_path(m);
  const WinRef w{rec.stem, i};

  if (m.log_index != i)
    problem(frame_name, w, std::nullopt,
            "frame " + std::to_string(i) + " holds a record with log_index " +
                std::to_string(m.log_index));
  if (m.store_id != store_.store_id)
    problem(frame_name, w, std::nullopt, "store_id is not the store's");
  if (m.node_id != store_.node_id)
    problem(frame_name, w, std::nullopt,
            "node_id \"" + m.node_id + "\" is not the store's \"" + store_.node_id + "\"");
  if (m.window_ns != store_.window_ns)
    problem(frame_name, w, std::nullopt,
            "window_ns " + std::to_string(m.window_ns) + " is not the store's " +
                std::to_string(store_.window_ns));
  const std::string micro = micro_path(m);
  if (!named_.insert(micro).second)
    problem(frame_name, w, std::nullopt, "a second record names the same window " + rec.stem);
  named_.insert(micro_sig_path(m));
  const std::string bdir = block_dir(m);
  for (const auto& b : m.blocks) named_.insert(bdir + "/" + b.file);

  // Contiguous sequences within one run (§10.5).
  if (i > 0 && recs_[i - 1].decoded && prev_run_ && prev_run_->run_id == m.run.run_id &&
      prev_run_->boot_id == m.run.boot_id) {
    const Rec& p = recs_[i - 1];
    if (m.first_seq != p.first_seq + p.event_count)
      problem(frame_name, w, std::nullopt,
              "first_seq " + std::to_string(m.first_seq) + " does not continue the run: window " +
                  p.stem + " (log index " + std::to_string(i - 1) + ") ended before seq " +
                  std::to_string(p.first_seq + p.event_count));
  }
  prev_run_ = m.run;

  // In range?
  bool in = true;
  if (rep_.range_limited) {
    const int64_t from = opts_.from_ns.value_or(INT64_MIN);
    const int64_t to = opts_.to_ns.value_or(INT64_MAX);
    const int64_t slot_end = m.slot_start_ns + static_cast<int64_t>(m.window_ns);
    const bool slot_overlaps = m.slot_start_ns < to && slot_end > from;
    const bool events_overlap = m.event_count > 0 && m.min_wall_ns < to && m.max_wall_ns >= from;
    in = slot_overlaps || events_overlap;
  }
  rec.in_range = in;
  if (in) verify_window(i, m, frame, rec);
}
