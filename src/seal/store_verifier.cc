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
#include "seal/proofpack.h"
#include "seal/retention.h"
#include "seal/seal_format.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kTypeLoss = 100;
constexpr uint64_t kTypeFiltered = 101;
constexpr uint64_t kTypeGap = 201;
constexpr uint64_t kGapUnclean = 2;  // gap arg0: the previous run ended uncleanly
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

// Reads a whole file into `out` (reusing its capacity and not zeroing what it overwrites).
// Missing files set *missing.
Status read_into(const fs::path& p, size_t max, Bytes& out, bool* missing) {
  *missing = false;
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
      parts[3].size() != 2 || parts[4].size() != 2 || *h > 23 || *y < 1970 || *y > 2261)
    return std::nullopt;  // Unix ns in int64 end in 2262
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
      const auto slot =
          parse_digits(stem.substr(1, dash == std::string_view::npos ? dash : dash - 1));
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
    range_from_ = o.from_ns.value_or(INT64_MIN);
    range_to_ = o.to_ns.value_or(INT64_MAX);
  }
  ~Verifier() {
    if (dctx_ != nullptr) ZSTD_freeDCtx(dctx_);
  }
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  Status run(const std::optional<std::string>& pinned_fp);
  void run_pack(const PackFiles& pack, const Manifest& manifest, ByteSpan manifest_bytes,
                const PackProof& proof, const std::optional<std::string>& pinned_fp);

 private:
  // ---- reporting
  void problem(std::string file, const WinRef& w, std::optional<uint64_t> seq, std::string msg) {
    if (rep_.problems.size() >= opts_.max_problems) {
      ++rep_.problems_omitted;
      return;
    }
    VerifyProblem p;
    p.file = pack_ != nullptr && !file.empty() && !is_pack_level(file) ? kPackStoreDir + file
                                                                       : std::move(file);
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
  UnsealedItem* unsealed(std::string kind, std::string file, std::string window, std::string msg,
                         std::optional<uint64_t> first_seq = std::nullopt,
                         std::optional<uint64_t> last_seq = std::nullopt) {
    if (rep_.unsealed.size() >= opts_.max_problems) return nullptr;
    UnsealedItem& u = rep_.unsealed.emplace_back();
    u.kind = std::move(kind);
    u.file = std::move(file);
    u.window = std::move(window);
    u.first_seq = first_seq;
    u.last_seq = last_seq;
    u.message = std::move(msg);
    return &u;
  }
  // A valid signature by a key of the store that the pinned key does not vouch for: the first
  // few are listed, the rest counted in one problem at the end.
  void untrusted(const std::string& file, const WinRef& w, const std::string& what) {
    if (++untrusted_count_ <= kUntrustedListed)
      problem(file, w, std::nullopt, what + ", which the pinned key does not vouch for");
  }
  static constexpr uint64_t kUntrustedListed = 5;
  uint64_t untrusted_count_ = 0;
  void add_derived_problem(const std::string& msg);

  fs::path abs(const std::string& rel) const { return out_ / rel; }
  // A file of the store (relative to RITMA_OUT) or, verifying a pack, of the pack: under
  // store/, or at the pack's top for the pack's own files.
  Status read_rel(const std::string& rel, size_t max, Bytes& out, bool* missing) const;
  bool exists_rel(const std::string& rel) const;
  static bool is_pack_level(const std::string& file) {
    return file == kManifestFile || file == kManifestSigFile || file == kPackProofFile ||
           file == kPackReadmeFile || file.starts_with("events/") || file.starts_with("store/");
  }

  // ---- steps
  bool load_store();
  void load_keys(const std::optional<std::string>& pinned_fp);
  // Returns false when the signature file is missing and `missing_is_unsealed` (an hour being
  // closed when the sensor stopped); every other failure is a problem.
  bool check_detached(const std::string& file, const std::string& sig_file, ByteSpan signed_bytes,
                      int64_t time_ns, const WinRef& w, bool missing_is_unsealed = false);
  void read_window_log();
  void load_retention();
  void check_retention();
  // A window a retention record lists (§14): its files may be gone; its record must be the one
  // the retention record describes. True when the window is pruned (not verified).
  bool pruned_window(uint64_t i, const MicroRecord& m, const WinRef& w);
  void check_record(uint64_t i, ByteSpan frame);
  void verify_window(uint64_t i, const MicroRecord& m, ByteSpan frame, Rec& rec);
  // The micro file equals the log frame, and its signature.
  void check_micro_file(uint64_t i, const MicroRecord& m, ByteSpan frame, const WinRef& w);
  void verify_block(const MicroRecord& m, const WinRef& w, size_t k, uint64_t& expect_seq,
                    FastTreeBuilder& tree);
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

  // Verifying a pack (§12.3): its files, the windows whose blocks it holds, and the roots of
  // the checkpoints it carries (by tree size), once their signatures and consistency held.
  const PackFiles* pack_ = nullptr;
  std::set<uint64_t> pack_blocks_;
  std::string pack_frame_name_;  // the micro file standing for the log frame being checked
  std::map<uint64_t, Hash32> pack_roots_;
  void check_pack_checkpoints(const PackProof& proof);
  void check_pack_windows(const PackProof& proof);
  void walk_pack();

  fs::path out_;
  const VerifyOptions& opts_;
  VerifyReport& rep_;

  StoreRecord store_;
  std::vector<KeyState> keys_;
  bool keys_loaded_ = false;
  std::string origin_;

  // Snapshots taken in the order the sealer writes in reverse (log/checkpoint, then
  // checkpoints.log, then windows.log), so a store being written while this runs is seen in a
  // consistent state: every checkpoint seen has its record.
  Bytes checkpoint_file_;
  Status checkpoint_file_status_;
  bool checkpoint_file_missing_ = false;
  std::optional<MappedFile> checkpoint_log_;
  Status checkpoint_log_status_;
  bool checkpoint_log_missing_ = false;
  uint64_t log_snapshot_bytes_ = 0;  // of windows.log when it was read
  void snapshot_checkpoints();
  void name_records_sealed_since();

  std::vector<Rec> recs_;
  std::optional<RunIdentity> prev_run_;  // run of the previous record
  struct RunStart {
    bool pending = false;  // the run's first atom is still to come
    uint64_t run_id = 0;
    uint64_t prev_end = 0;  // one past the last seq of the record before the run
    bool same_boot = false;
  } run_start_;
  void check_run_start(const ScannedAtom& a, const std::string& file, const WinRef& w);
  bool checkpoints_beyond_log_ = false;  // a checkpoint covers records the log lacks
  uint64_t sealed_since_ = 0;            // records appended to the log while this ran
  std::vector<Hash32> log_roots_;        // root of the window-log tree at size i + 1
  std::unordered_set<std::string> named_;
  std::unique_ptr<DerivedChecker> derived_;
  // Retention records whose signature verified, and the windows they list (log index ->
  // (index into retention_, the entry)).
  std::vector<RetentionRecord> retention_;
  std::map<uint64_t, std::pair<size_t, PrunedWindow>> pruned_;

  // Reused buffers.
  Bytes file_buf_;   // micro records (and the store record)
  Bytes block_buf_;  // blocks (kept apart so its capacity is not re-zeroed for every block)
  Bytes raw_buf_;
  std::vector<ScannedAtom> atoms_;
  std::vector<EventFacts> facts_;
  MerkleHasher hasher_;
  ZSTD_DCtx* dctx_ = nullptr;
  int64_t range_from_ = INT64_MIN, range_to_ = INT64_MAX;

  // Per-window tallies.
  struct Tally {
    uint64_t events = 0, loss = 0, filtered = 0, loss_events = 0;
    int64_t min_wall = 0, max_wall = 0;
    std::array<uint64_t, 256> small_types{};
    std::map<uint64_t, uint64_t> big_types;
  } tally_;

  Clock::time_point last_progress_ = Clock::now();
  bool progress_reported_ = false;  // a long run: say where it ended too
};

Status Verifier::run(const std::optional<std::string>& pinned_fp) {
  if (!load_store()) return {};
  load_keys(pinned_fp);
  if (opts_.check_derived)
    derived_ = std::make_unique<DerivedChecker>(out_, store_.store_id, store_.node_id);
  snapshot_checkpoints();
  load_retention();
  read_window_log();
  check_retention();
  check_checkpoints();
  check_hours();
  name_records_sealed_since();
  if (derived_) {
    // A store sealed into while this ran has derived files that already count later windows:
    // compare them as for a range.
    const bool live = sealed_since_ > 0;
    for (std::string& msg : derived_->finish(!rep_.range_limited && !live))
      add_derived_problem(msg);
  }
  walk_windows();
  list_unsealed();
  if (untrusted_count_ > kUntrustedListed)
    problem("", WinRef{}, std::nullopt,
            std::to_string(untrusted_count_ - kUntrustedListed) +
                " more signatures by keys the pinned key does not vouch for");
  for (const auto& k : keys_) rep_.keys.push_back(k.out);
  maybe_progress(true);
  return {};
}

// The derived checker's messages read "<file>: [<stem path> (log index N): ]<what>"; the file
// and window become fields of the problem.
void Verifier::add_derived_problem(const std::string& msg) {
  std::string_view rest(msg);
  std::string file;
  WinRef w;
  const size_t colon = rest.find(": ");
  if (colon != std::string_view::npos && rest.substr(0, colon).find(' ') == std::string::npos &&
      (rest.starts_with("index/") || rest.starts_with("catalog/") ||
       rest.starts_with("accounting/"))) {
    file = std::string(rest.substr(0, colon));
    rest.remove_prefix(colon + 2);
  }
  if (rest.starts_with("windows/")) {
    const size_t sp = rest.find(' ');
    const std::string_view marker = " (log index ";
    if (sp != std::string_view::npos && rest.substr(sp).starts_with(marker)) {
      const size_t close = rest.find(')', sp);
      std::optional<uint64_t> index =
          close == std::string_view::npos
              ? std::nullopt
              : std::optional<uint64_t>(std::strtoull(
                    std::string(rest.substr(sp + marker.size(), close - sp - marker.size()))
                        .c_str(),
                    nullptr, 10));
      if (index && rest.substr(close).starts_with("): ")) {
        w.stem = std::string(rest.substr(0, sp));
        w.log_index = index;
        rest.remove_prefix(close + 3);
      }
    }
  }
  if (!w.log_index && rest.starts_with("log index ")) {
    size_t end = 10;
    while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
    if (end > 10 && rest.substr(end).starts_with(": ")) {
      w.log_index = std::strtoull(std::string(rest.substr(10, end - 10)).c_str(), nullptr, 10);
      if (*w.log_index < recs_.size()) w.stem = recs_[*w.log_index].stem;
    }
  }
  problem(file, w, std::nullopt, std::string(rest));
}

void Verifier::maybe_progress(bool force) {
  if (!opts_.progress) return;
  const auto now = Clock::now();
  if (force ? !progress_reported_ : now - last_progress_ < opts_.progress_interval) return;
  last_progress_ = now;
  progress_reported_ = true;
  opts_.progress(VerifyProgress{recs_.size(), rep_.windows, rep_.events});
}

// 1. store.cbor and its signature (the signature after the keys are known).
bool Verifier::load_store() {
  bool missing = false;
  Bytes b;
  auto st = read_rel(kStoreFile, kMaxRecordBytes, b, &missing);
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
  auto st = read_rel(kKeysFile, kMaxRecordBytes, b, &missing);
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
    const std::string who =
        "key " + std::to_string(i) + " (" + e.name + ", " + keys_[i].out.fingerprint + ")";
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
  if (read_rel("_meta/keys/node.pub", 4096, pub, &pub_missing).ok()) {
    auto k2 = parse_public_key(as_chars(pub));
    if (!k2.ok() || k2->key != keys_.back().entry.public_key)
      note("_meta/keys/node.pub is not the store's current key " + keys_.back().out.fingerprint +
           " (it is not evidence; keys.cbor is)");
  }
  check_detached(kStoreFile, kStoreSigFile, store_bytes, store_.created_ns, WinRef{});
}

bool Verifier::check_detached(const std::string& file, const std::string& sig_file,
                              ByteSpan signed_bytes, int64_t time_ns, const WinRef& w,
                              bool missing_is_unsealed) {
  Bytes b;
  bool missing = false;
  auto st = read_rel(sig_file, kMaxSigBytes, b, &missing);
  if (missing && missing_is_unsealed) {
    unsealed("file", file, w.stem,
             "written without its signature " + sig_file +
                 ": the hour was being closed when the sensor stopped");
    return false;
  }
  if (!st.ok()) {
    problem(sig_file, w, std::nullopt,
            missing ? "missing signature of " + file : "cannot read: " + st.error().message);
    return true;
  }
  auto sig = decode_signature(b);
  if (!sig.ok()) {
    problem(sig_file, w, std::nullopt, sig.error().message);
    return true;
  }
  if (!keys_loaded_) {
    problem(sig_file, w, std::nullopt, "cannot be checked: the store's keys are unknown");
    return true;
  }
  const int idx = find_key(sig->public_key);
  if (idx < 0) {
    problem(sig_file, w, std::nullopt,
            "signed by a key that is not one of the store's keys (" + sig->key_name + ", " +
                key_fingerprint(sig->public_key) + ")");
    return true;
  }
  KeyState& k = keys_[static_cast<size_t>(idx)];
  if (sig->key_name != k.entry.name) {
    problem(sig_file, w, std::nullopt,
            "names the key \"" + sig->key_name + "\" but its public key is " + k.entry.name);
    return true;
  }
  if (!check_signature(*sig, signed_bytes)) {
    problem(sig_file, w, std::nullopt, "the signature does not verify over " + file);
    return true;
  }
  if (!valid_at(k.entry, time_ns)) {
    problem(sig_file, w, std::nullopt,
            "signed by " + k.out.name + " (" + k.out.fingerprint + "), which was not the key at " +
                format_time(time_ns));
    return true;
  }
  if (!k.out.trusted) {
    untrusted(sig_file, w, "signed by " + k.out.name + " (" + k.out.fingerprint + ")");
    return true;
  }
  ++k.out.signatures;
  return true;
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
  log_snapshot_bytes_ = scan.valid_end;
  if (scan.torn) {
    unsealed(
        "torn", kWindowLogFile, "",
        *scan.torn +
            " (the remains of a crash while appending; the sensor cuts it off when it starts)");
  }
  recs_.reserve(scan.frames.size());
  log_roots_.reserve(scan.frames.size());
  // The sealer updates the derived files after a window's checkpoint: a crash (or this very
  // moment of a running sensor) can leave them without the newest window until it restarts.
  if (derived_ && !scan.frames.empty()) derived_->tolerate_lag_of(scan.frames.size() - 1);
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
  const std::string frame_name = pack_ != nullptr ? pack_frame_name_ : std::string(kWindowLogFile);
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
  // A new run of the same boot continues the boot's sequence (§10.5); it may skip what a crash
  // kept from being sealed (its gap event says so), never go back.
  if (i > 0 && recs_[i - 1].decoded && prev_run_ && prev_run_->boot_id == m.run.boot_id &&
      prev_run_->run_id != m.run.run_id) {
    const Rec& p = recs_[i - 1];
    if (m.first_seq < p.first_seq + p.event_count)
      problem(frame_name, w, std::nullopt,
              "run " + std::to_string(m.run.run_id) + " starts at seq " +
                  std::to_string(m.first_seq) + ", before the end (seq " +
                  std::to_string(p.first_seq + p.event_count) + ") of the previous run " +
                  std::to_string(prev_run_->run_id) + " of the same boot");
  }
  // Where a run starts, its first event must be a gap event that says what was sealed before
  // it (checked on the first atom, which may be in a later window if this one is empty).
  const bool same_run = i > 0 && prev_run_ && prev_run_->run_id == m.run.run_id &&
                        prev_run_->boot_id == m.run.boot_id;
  if (i > 0 && !recs_[i - 1].decoded) {
    run_start_.pending = false;  // what came before is unknown
  } else if (!same_run) {
    run_start_.pending = true;
    run_start_.run_id = m.run.run_id;
    run_start_.prev_end = i == 0 ? 0 : recs_[i - 1].first_seq + recs_[i - 1].event_count;
    run_start_.same_boot = i > 0 && prev_run_ && prev_run_->boot_id == m.run.boot_id;
  }
  prev_run_ = m.run;
  rep_.last_run_id = m.run.run_id;
  rep_.last_boot_id = to_hex(m.run.boot_id);
  rep_.sealed_end_seq = m.end_seq();

  // In range?
  bool in = true;
  if (rep_.range_limited) {
    in = window_overlaps(m, range_from_, range_to_);
  }
  if (pack_ != nullptr) {
    const bool held = pack_blocks_.count(i) != 0;
    if (in && !held)
      problem(kPackProofFile, w, std::nullopt,
              "the window overlaps the pack's range but its blocks are not in the pack");
    in = held;
  }
  rec.in_range = in;
  if (in && pack_ == nullptr && pruned_window(i, m, w)) {
    check_micro_file(i, m, frame, w);
    if (m.event_count != 0) run_start_.pending = false;  // its first event is gone
    if (derived_) derived_->add_pruned_window(m);
  } else if (in) {
    verify_window(i, m, frame, rec);
  } else {
    if (m.event_count != 0) run_start_.pending = false;  // its first event is not looked at
    // A pack's other windows (of its complete hours) are there for their micro roots: their
    // records must be the signed ones.
    if (pack_ != nullptr) {
      check_detached(micro, micro_sig_path(m), frame, m.sealed_ns, w);
    }
  }
}

void Verifier::load_retention() {
  if (pack_ != nullptr) return;
  for (uint64_t n = 0;; ++n) {
    const std::string file = retention_path(n);
    const std::string sig = retention_sig_path(n);
    bool missing = false;
    Bytes b;
    auto st = read_rel(file, size_t{256} << 20, b, &missing);
    if (missing) {
      if (exists_rel(sig))
        unsealed("file", sig, "",
                 "the signature of a retention record that was never written (a run "
                 "interrupted before it deleted anything)");
      break;
    }
    if (!st.ok()) {
      problem(file, "cannot read: " + st.error().message);
      break;
    }
    named_.insert(file);
    named_.insert(sig);
    auto r = decode_retention(b);
    if (!r.ok()) {
      problem(file, r.error().message);
      continue;
    }
    if (r->index != n) problem(file, "holds index " + std::to_string(r->index));
    if (r->store_id != store_.store_id) problem(file, "store_id is not the store's");
    if (r->node_id != store_.node_id) problem(file, "node_id is not the store's");
    Hash32 prev{};
    if (n > 0) {
      Bytes pb;
      bool pm = false;
      if (read_rel(retention_path(n - 1), size_t{256} << 20, pb, &pm).ok()) prev = blake3(pb);
    }
    if (r->prev != prev)
      problem(file, "prev is not the BLAKE3 of " +
                        (n == 0 ? std::string("nothing (32 zero bytes for the first record)")
                                : retention_path(n - 1)));
    const size_t before = rep_.problems.size() + rep_.problems_omitted;
    check_detached(file, sig, b, r->time_ns, WinRef{});
    if (rep_.problems.size() + rep_.problems_omitted != before) continue;  // not accepted
    for (const PrunedWindow& p : r->windows) {
      if (!pruned_.emplace(p.log_index, std::make_pair(retention_.size(), p)).second)
        problem(file, "log index " + std::to_string(p.log_index) +
                          " was already pruned by an earlier retention record");
    }
    retention_.push_back(std::move(*r));
  }
}

bool Verifier::pruned_window(uint64_t i, const MicroRecord& m, const WinRef& w) {
  auto it = pruned_.find(i);
  if (it == pruned_.end()) return false;
  const RetentionRecord& r = retention_[it->second.first];
  const PrunedWindow& p = it->second.second;
  const std::string file = retention_path(r.index);
  auto differs = [&](const char* field) {
    problem(file, w, std::nullopt,
            std::string("lists the window with a ") + field + " other than its micro record's");
  };
  if (p.stem_path != stem_path(m)) differs("stem_path");
  if (p.first_seq != m.first_seq) differs("first_seq");
  if (p.event_count != m.event_count) differs("event_count");
  if (p.micro_root != m.micro_root) differs("micro_root");
  if (p.slot_start_ns != m.slot_start_ns) differs("slot_start_ns");
  if (p.min_wall_ns != m.min_wall_ns || p.max_wall_ns != m.max_wall_ns) differs("wall time range");
  if (i >= r.checkpoint.tree_size)
    problem(file, w, std::nullopt,
            "prunes a window its checkpoint (size " + std::to_string(r.checkpoint.tree_size) +
                ") does not cover");
  ++rep_.pruned_windows;
  rep_.pruned_events += m.event_count;
  // One range per run of consecutive log indexes of one record (a case may keep windows
  // between them).
  PrunedRange* range = rep_.pruned.empty() ? nullptr : &rep_.pruned.back();
  if (range != nullptr && (range->record != file || range->last_log_index + 1 != i))
    range = nullptr;
  if (range == nullptr) {
    range = &rep_.pruned.emplace_back();
    range->record = file;
    range->time_ns = r.time_ns;
    range->policy = r.policy;
    range->first_log_index = i;
  }
  range->last_log_index = i;
  ++range->windows;
  range->events += m.event_count;
  range->deleted_bytes += p.deleted_bytes;
  const int64_t slot_end = m.slot_start_ns + static_cast<int64_t>(m.window_ns);
  range->from_ns = std::min(range->from_ns.value_or(INT64_MAX), m.slot_start_ns);
  range->to_ns = std::max(range->to_ns.value_or(INT64_MIN),
                          m.event_count ? std::max(slot_end, m.max_wall_ns + 1) : slot_end);
  return true;
}

// What a retention record says about the log: its checkpoint is one of the window log's, and
// every window it lists is a record of the log.
void Verifier::check_retention() {
  for (const RetentionRecord& r : retention_) {
    const std::string file = retention_path(r.index);
    const uint64_t n = r.checkpoint.tree_size;
    if (n == 0 || n > log_roots_.size() || log_roots_[n - 1] != r.checkpoint.root)
      problem(file, "its checkpoint (size " + std::to_string(n) +
                        ") is not a state of the window log (recomputed tree of " +
                        std::to_string(log_roots_.size()) + " records)");
    for (const PrunedWindow& p : r.windows)
      if (p.log_index >= recs_.size())
        problem(file, "lists log index " + std::to_string(p.log_index) +
                          ", beyond the window log (" + std::to_string(recs_.size()) + " records)");
  }
}

void Verifier::check_micro_file(uint64_t i, const MicroRecord& m, ByteSpan frame, const WinRef& w) {
  const std::string micro = micro_path(m);
  bool missing = false;
  auto st = read_rel(micro, kMaxRecordBytes, file_buf_, &missing);
  if (!st.ok()) {
    problem(micro, w, std::nullopt,
            missing
                ? "missing micro record (log/windows.log frame " + std::to_string(i) + " names it)"
                : "cannot read: " + st.error().message);
  } else if (!std::equal(file_buf_.begin(), file_buf_.end(), frame.begin(), frame.end())) {
    problem(micro, w, std::nullopt,
            "differs from frame " + std::to_string(i) + " of log/windows.log");
  }
  check_detached(micro, micro_sig_path(m), frame, m.sealed_ns, w);
}

void Verifier::verify_window(uint64_t i, const MicroRecord& m, ByteSpan frame, Rec& rec) {
  const WinRef w{rec.stem, i};
  const std::string micro = micro_path(m);
  check_micro_file(i, m, frame, w);

  tally_ = Tally{};
  facts_.clear();
  FastTreeBuilder tree(hasher_);
  uint64_t expect_seq = m.first_seq;
  uint64_t block_events = 0;
  for (size_t k = 0; k < m.blocks.size(); ++k) {
    block_events += m.blocks[k].event_count;
    verify_block(m, w, k, expect_seq, tree);
  }
  auto mismatch = [&](const std::string& what, const std::string& computed,
                      const std::string& recorded) {
    problem(micro, w, std::nullopt,
            what + ": the blocks give " + computed + ", the record says " + recorded);
  };
  if (block_events != m.event_count)
    mismatch("events listed per block", std::to_string(block_events),
             std::to_string(m.event_count));
  if (tally_.events != m.event_count)
    mismatch("event count", std::to_string(tally_.events), std::to_string(m.event_count));
  if (tally_.loss != m.loss_count)
    mismatch("loss count", std::to_string(tally_.loss), std::to_string(m.loss_count));
  if (tally_.filtered != m.filtered_count)
    mismatch("filtered count", std::to_string(tally_.filtered), std::to_string(m.filtered_count));
  std::vector<std::pair<uint64_t, uint64_t>> types;
  for (uint64_t t = 0; t < tally_.small_types.size(); ++t) {
    if (tally_.small_types[t] != 0) types.emplace_back(t, tally_.small_types[t]);
  }
  for (const auto& [t, c] : tally_.big_types) types.emplace_back(t, c);
  if (types != m.type_counts) {
    auto fmt = [](const std::vector<std::pair<uint64_t, uint64_t>>& v) {
      std::string s = "[";
      for (const auto& [t, c] : v)
        s += (s.size() > 1 ? " " : "") + std::to_string(t) + ":" + std::to_string(c);
      return s + "]";
    };
    mismatch("type counts", fmt(types), fmt(m.type_counts));
  }
  if (tally_.min_wall != m.min_wall_ns || tally_.max_wall != m.max_wall_ns)
    mismatch("wall time range",
             std::to_string(tally_.min_wall) + ".." + std::to_string(tally_.max_wall),
             std::to_string(m.min_wall_ns) + ".." + std::to_string(m.max_wall_ns));
  const Hash32 root = tree.root();
  if (root != m.micro_root)
    problem(micro, w, std::nullopt,
            "micro root differs from the Merkle root of the blocks' atoms (recomputed " +
                to_hex(root) + ")");
  if (m.event_count == 0 && !m.blocks.empty())
    problem(micro, w, std::nullopt, "an empty window lists blocks");

  ++rep_.windows;
  if (tally_.events == 0) ++rep_.empty_windows;
  rep_.events += tally_.events;
  rep_.loss_events += tally_.loss_events;
  rep_.lost_records += tally_.loss;
  rep_.filtered_records += tally_.filtered;
  if (tally_.events != 0) {
    rep_.min_wall_ns = std::min(rep_.min_wall_ns.value_or(INT64_MAX), tally_.min_wall);
    rep_.max_wall_ns = std::max(rep_.max_wall_ns.value_or(INT64_MIN), tally_.max_wall);
  }
  if (derived_) derived_->add_window(m, facts_);
}

void Verifier::verify_block(const MicroRecord& m, const WinRef& w, size_t k, uint64_t& expect_seq,
                            FastTreeBuilder& tree) {
  const BlockRef& b = m.blocks[k];
  const uint64_t block_first = expect_seq;
  // Whatever happens inside, the next block starts where the record says this one ends.
  struct Resync {
    uint64_t& seq;
    uint64_t to;
    ~Resync() { seq = to; }
  } resync{expect_seq, block_first + b.event_count};

  const std::string file = block_dir(m) + "/" + b.file;
  const std::string want =
      block_file_name(window_stem(slot_in_hour(m.slot_start_ns, m.window_ns), m.part), k);
  const std::string seqs = b.event_count == 0 ? "no events"
                                              : "events seq " + std::to_string(block_first) + ".." +
                                                    std::to_string(block_first + b.event_count - 1);
  if (b.file != want)
    problem(file, w, std::nullopt,
            "block " + std::to_string(k) + " is named " + b.file + ", expected " + want);
  if (b.event_count == 0) problem(file, w, std::nullopt, "the record lists an empty block");
  if (b.event_count > kBlockMaxEvents)
    problem(file, w, std::nullopt,
            "lists " + std::to_string(b.event_count) + " events, more than a block holds");
  if (b.raw_bytes > kBlockMaxRawBytes)
    problem(file, w, std::nullopt,
            "lists " + std::to_string(b.raw_bytes) + " raw bytes, more than a block holds");

  bool missing = false;
  auto st = read_rel(file, kMaxBlockFileBytes, block_buf_, &missing);
  if (!st.ok()) {
    problem(file, w, std::nullopt,
            (missing ? "missing block (" + seqs + ")" : "cannot read: " + st.error().message));
    return;
  }
  ++rep_.blocks;
  rep_.zstd_bytes += block_buf_.size();
  if (block_buf_.size() != b.zstd_bytes)
    problem(file, w, std::nullopt,
            "is " + std::to_string(block_buf_.size()) + " bytes, the record says " +
                std::to_string(b.zstd_bytes));
  if (blake3(block_buf_) != b.b3)
    problem(file, w, std::nullopt, "BLAKE3 differs from the micro record's (" + seqs + ")");

  // One zstd frame with its content size declared (§10.3), decompressed within bounds.
  const size_t csize = ZSTD_findFrameCompressedSize(block_buf_.data(), block_buf_.size());
  if (ZSTD_isError(csize)) {
    problem(file, w, std::nullopt,
            std::string("not a zstd frame: ") + ZSTD_getErrorName(csize) + " (" + seqs + ")");
    return;
  }
  if (csize != block_buf_.size()) {
    problem(file, w, std::nullopt,
            "holds " + std::to_string(block_buf_.size() - csize) +
                " byte(s) after its zstd frame (a block is exactly one frame)");
    return;
  }
  if (ZSTD_getDictID_fromFrame(block_buf_.data(), csize) != 0) {
    problem(file, w, std::nullopt, "the zstd frame needs a dictionary (blocks use none)");
    return;
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(block_buf_.data(), csize);
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR) {
    problem(file, w, std::nullopt, "the zstd frame does not declare its content size");
    return;
  }
  if (declared > kBlockMaxRawBytes) {
    problem(
        file, w, std::nullopt,
        "the zstd frame declares " + std::to_string(declared) + " bytes, more than a block holds");
    return;
  }
  if (declared != b.raw_bytes)
    problem(file, w, std::nullopt,
            "decompresses to " + std::to_string(declared) + " bytes, the record says " +
                std::to_string(b.raw_bytes));
  if (dctx_ == nullptr) {
    dctx_ = ZSTD_createDCtx();
    if (dctx_ == nullptr) {
      problem(file, w, std::nullopt, "zstd: out of memory");
      return;
    }
    ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, 27);  // §8: 128 MiB windows at most
  }
  if (raw_buf_.size() < kBlockMaxRawBytes) raw_buf_.resize(kBlockMaxRawBytes);
  ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
  ZSTD_inBuffer in{block_buf_.data(), csize, 0};
  ZSTD_outBuffer out{raw_buf_.data(), static_cast<size_t>(declared), 0};
  const size_t zr = ZSTD_decompressStream(dctx_, &out, &in);
  if (ZSTD_isError(zr) || zr != 0 || out.pos != declared) {
    problem(file, w, std::nullopt,
            std::string("cannot decompress: ") +
                (ZSTD_isError(zr) ? ZSTD_getErrorName(zr) : "the frame is incomplete") + " (" +
                seqs + ")");
    return;
  }
  const ByteSpan content(raw_buf_.data(), out.pos);
  rep_.raw_bytes += content.size();

  const auto scan_error = scan_atoms(content, atoms_);
  uint64_t seq_problems = 0, boot_problems = 0;
  const uint32_t block_no = static_cast<uint32_t>(k);
  for (size_t j = 0; j < atoms_.size(); ++j) {
    const ScannedAtom& a = atoms_[j];
    if (run_start_.pending) [[unlikely]] {
      check_run_start(a, file, w);
      run_start_.pending = false;
    }
    if (a.seq != expect_seq) [[unlikely]] {
      if (++seq_problems <= 3)
        problem(file, w, a.seq,
                "atom " + std::to_string(j) + " has seq " + std::to_string(a.seq) + " where " +
                    std::to_string(expect_seq) +
                    " was due (seq must increase by exactly 1 from first_seq)");
    }
    expect_seq = a.seq + 1;
    if (a.boot_id != m.run.boot_id) [[unlikely]] {
      if (++boot_problems <= 3)
        problem(file, w, a.seq,
                "boot_id " + to_hex(a.boot_id) + " is not the run's " + to_hex(m.run.boot_id));
    }
    tree.add_leaf_hash(hasher_.leaf_hash(a.bytes(content)));
    if (tally_.events == 0) {
      tally_.min_wall = tally_.max_wall = a.wall_ns;
    } else {
      tally_.min_wall = std::min(tally_.min_wall, a.wall_ns);
      tally_.max_wall = std::max(tally_.max_wall, a.wall_ns);
    }
    ++tally_.events;
    if (rep_.range_limited && a.wall_ns >= range_from_ && a.wall_ns < range_to_) [[likely]]
      ++rep_.events_in_range;
    if (a.type < tally_.small_types.size()) {
      ++tally_.small_types[a.type];
    } else {
      ++tally_.big_types[a.type];
    }
    if (a.type == kTypeLoss) {
      tally_.loss += a.count;
      ++tally_.loss_events;
    } else if (a.type == kTypeFiltered) {
      tally_.filtered += a.count;
    }
    if (!rep_.first_seq) rep_.first_seq = a.seq;
    rep_.last_seq = a.seq;
    facts_.push_back(EventFacts{a.type, a.wall_ns, a.size, block_no, static_cast<uint32_t>(j)});
  }
  if (seq_problems > 3)
    problem(file, w, std::nullopt,
            std::to_string(seq_problems - 3) + " more seq discontinuities in this block");
  if (boot_problems > 3)
    problem(file, w, std::nullopt,
            std::to_string(boot_problems - 3) + " more atoms with another boot_id in this block");
  if (scan_error) {
    problem(file, w, scan_error->seq, "invalid atom at content " + scan_error->message());
    return;
  }
  if (atoms_.size() != b.event_count)
    problem(file, w, std::nullopt,
            "holds " + std::to_string(atoms_.size()) + " events, the record says " +
                std::to_string(b.event_count));
}

// The first event of a run (§10.5): a gap event whose arg3 is one past the last seq sealed
// before it, which is where the window log's previous record ends. Events between that and the
// gap event (same boot) were recorded but never sealed: a crash; say which.
void Verifier::check_run_start(const ScannedAtom& a, const std::string& file, const WinRef& w) {
  const std::string run = "run " + std::to_string(run_start_.run_id);
  if (a.type != kTypeGap) {
    problem(file, w, a.seq,
            "the first event of " + run + " is of type " + std::to_string(a.type) +
                ", not a gap event (201): a run starts by saying how the previous one ended");
    return;
  }
  if (a.arg3 != run_start_.prev_end) {
    problem(file, w, a.seq,
            "the gap event that starts " + run + " says seq " + std::to_string(a.arg3) +
                " is one past the last sealed event, but the window log before it ends at " +
                std::to_string(run_start_.prev_end));
    return;
  }
  const std::string prev = "run " + std::to_string(a.arg1);  // the gap names the previous run
  if (run_start_.same_boot && a.seq > a.arg3) {
    UnsealedItem* u = unsealed(
        "events", "", w.stem,
        "events seq " + std::to_string(a.arg3) + ".." + std::to_string(a.seq - 1) + " of " + prev +
            " were recorded but never sealed: it ended before sealing them (the gap "
            "event at seq " +
            std::to_string(a.seq) + " of " + run + " says so)",
        a.arg3, a.seq - 1);
    if (u != nullptr) u->run_id = a.arg1;
  } else if (!run_start_.same_boot && a.arg0 == kGapUnclean) {
    UnsealedItem* u =
        unsealed("events", "", w.stem,
                 prev + " (an earlier boot) ended uncleanly: what it recorded from seq " +
                     std::to_string(a.arg3) + " on may not be sealed (the gap event at seq " +
                     std::to_string(a.seq) + " of " + run + " says so)",
                 a.arg3, std::nullopt);
    if (u != nullptr) u->run_id = a.arg1;
  }
}

// 3. Checkpoints against the recomputed tree.
void Verifier::check_note(std::string_view text, uint64_t rec_index, const WinRef& w,
                          const std::string& file, const std::string& label) {
  if (!keys_loaded_) {
    problem(file, w, std::nullopt, label + ": cannot be checked: the store's keys are unknown");
    return;
  }
  auto signed_by = [&](const KeyState& k) { return note::open(text, {k.named}).ok(); };
  // The usual case: the key that was current when the record was sealed.
  const int at = recs_[rec_index].decoded ? key_at(recs_[rec_index].sealed_ns) : -1;
  if (at >= 0 && keys_[static_cast<size_t>(at)].out.trusted &&
      signed_by(keys_[static_cast<size_t>(at)])) {
    ++keys_[static_cast<size_t>(at)].out.signatures;
    return;
  }
  // A checkpoint carries no time: another trusted key may have signed it (one completed at
  // start after a rotation is signed by the new key).
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (static_cast<int>(i) != at && keys_[i].out.trusted && signed_by(keys_[i])) {
      ++keys_[i].out.signatures;
      return;
    }
  }
  // A key of the store that is not trusted: a question of trust, not a forgery.
  for (auto& k : keys_) {
    if (!k.out.trusted && signed_by(k)) {
      untrusted(file, w, label + ": signed by " + k.out.name + " (" + k.out.fingerprint + ")");
      return;
    }
  }
  std::vector<NamedPublicKey> all;
  for (const auto& k : keys_) all.push_back(k.named);
  auto v = note::open(text, all);
  problem(file, w, std::nullopt,
          label + ": " + (v.ok() ? "no signature by a key of the store" : v.error().message));
}

void Verifier::snapshot_checkpoints() {
  checkpoint_file_status_ =
      read_rel(kCheckpointFile, kMaxRecordBytes, checkpoint_file_, &checkpoint_file_missing_);
  auto cl = MappedFile::open(abs(kCheckpointLogFile), kMaxLogBytes, &checkpoint_log_missing_);
  if (cl.ok()) {
    checkpoint_log_.emplace(std::move(cl).value());
  } else {
    checkpoint_log_status_ = cl.error();
  }
}

// Records appended to windows.log after it was read (the sensor is sealing): their files are
// named (not leftovers), but they are not part of this verification.
void Verifier::name_records_sealed_since() {
  bool missing = false;
  auto log = MappedFile::open(abs(kWindowLogFile), kMaxLogBytes, &missing);
  if (!log.ok() || log->bytes().size() <= log_snapshot_bytes_) return;
  const FrameScan scan = scan_frames(log->bytes().subspan(log_snapshot_bytes_),
                                     static_cast<uint32_t>(kMaxRecordBytes));
  for (ByteSpan f : scan.frames) {
    auto m = decode_micro(f);
    if (!m.ok()) continue;
    ++sealed_since_;
    named_.insert(micro_path(*m));
    named_.insert(micro_sig_path(*m));
    for (const auto& b : m->blocks) named_.insert(block_dir(*m) + "/" + b.file);
    const std::string proofs = hour_dir(m->slot_start_ns) + "/proofs/";
    for (const char* f2 : {"hour_root.cbor", "hour_root.sig", "chain.cbor", "chain.sig"})
      named_.insert(proofs + f2);
  }
  if (sealed_since_ != 0) {
    note(std::to_string(sealed_since_) +
         " window(s) were sealed while this verification ran; they are not part of it");
  }
}

void Verifier::check_checkpoints() {
  const uint64_t n = recs_.size();
  bool missing = checkpoint_log_missing_;
  if (!checkpoint_log_) {
    if (!(missing && n == 0))
      problem(kCheckpointLogFile, missing
                                      ? "missing: no record of the window log (" +
                                            std::to_string(n) + ") is covered by a checkpoint"
                                      : "cannot read: " + checkpoint_log_status_.error().message);
    return;
  }
  const FrameScan scan = scan_frames(checkpoint_log_->bytes());
  if (scan.torn) {
    unsealed(
        "torn", kCheckpointLogFile, "",
        *scan.torn +
            " (the remains of a crash while appending; the sensor cuts it off when it starts)");
  }
  bool all_ok = true;
  std::vector<uint8_t> seen(n, 0);
  uint64_t misplaced = 0;
  std::optional<std::pair<uint64_t, uint64_t>> first_misplaced;  // (frame, size)
  for (uint64_t j = 0; j < scan.frames.size(); ++j) {
    const std::string_view text = as_chars(scan.frames[j]);
    const std::string label = "frame " + std::to_string(j);
    const size_t split = text.rfind("\n\n");
    if (split == std::string_view::npos) {
      problem(kCheckpointLogFile, WinRef{}, std::nullopt, label + ": not a signed note");
      all_ok = false;
      continue;
    }
    auto cp = note::parse_checkpoint_body(text.substr(0, split + 1));
    if (!cp.ok()) {
      problem(kCheckpointLogFile, WinRef{}, std::nullopt, label + ": " + cp.error().message);
      all_ok = false;
      continue;
    }
    const uint64_t size = cp->size;
    if (size == 0 || size > n) {
      problem(kCheckpointLogFile, WinRef{}, std::nullopt,
              label + " is a checkpoint for a log of " + std::to_string(size) +
                  " records, but log/windows.log holds " + std::to_string(n) +
                  (size > n ? ": the window log was truncated (or the checkpoint forged)" : ""));
      if (size > n) checkpoints_beyond_log_ = true;
      all_ok = false;
      continue;
    }
    const WinRef w{recs_[size - 1].stem, size - 1};
    if (cp->origin != origin_) {
      problem(kCheckpointLogFile, w, std::nullopt,
              label + ": origin \"" + cp->origin + "\", expected \"" + origin_ + "\"");
      all_ok = false;
    }
    if (!cp->extensions.empty()) {
      problem(kCheckpointLogFile, w, std::nullopt, label + ": has extension lines");
      all_ok = false;
    }
    if (cp->root != log_roots_[size - 1]) {
      problem(kCheckpointLogFile, w, std::nullopt,
              label + " (size " + std::to_string(size) +
                  "): root differs from the recomputed window-log tree (" +
                  to_hex(log_roots_[size - 1]) + ")");
      all_ok = false;
    }
    if (size != j + 1) {
      ++misplaced;
      if (!first_misplaced) first_misplaced = std::make_pair(j, size);
    }
    if (seen[size - 1] != 0) {
      problem(kCheckpointLogFile, w, std::nullopt,
              label + ": a second checkpoint for size " + std::to_string(size));
      all_ok = false;
    }
    seen[size - 1] = 1;
    // The signature (not part of consistency, which is about sizes and roots).
    if (!rep_.range_limited || recs_[size - 1].in_range || size == n)
      check_note(text, size - 1, w, kCheckpointLogFile, label);
    ++rep_.checkpoints;
  }
  if (first_misplaced) {
    const uint64_t size = first_misplaced->second;
    problem(kCheckpointLogFile, WinRef{recs_[size - 1].stem, size - 1}, std::nullopt,
            "frame " + std::to_string(first_misplaced->first) + " holds the checkpoint for size " +
                std::to_string(size) + ", expected size " +
                std::to_string(first_misplaced->first + 1) + " (" + std::to_string(misplaced) +
                " frame(s) out of place: a checkpoint was removed, inserted or reordered)");
    all_ok = false;
  }
  // Sizes without a checkpoint. Only the last record may lack one (an unsealed tail).
  for (uint64_t s = 1; s <= n;) {
    if (seen[s - 1] != 0) {
      ++s;
      continue;
    }
    uint64_t e = s;
    while (e < n && seen[e] == 0) ++e;  // sizes s..e have none
    if (s == n && e == n && misplaced == 0 && scan.frames.size() == n - 1) {
      rep_.unsealed_tail = true;
      unsealed(
          "record", kWindowLogFile, recs_[n - 1].stem,
          "the last window-log record (log index " + std::to_string(n - 1) +
              ") has no checkpoint yet (a crash after appending it; the sensor signs it "
              "when it starts): it is not sealed evidence",
          recs_[n - 1].event_count ? std::optional<uint64_t>(recs_[n - 1].first_seq) : std::nullopt,
          recs_[n - 1].event_count
              ? std::optional<uint64_t>(recs_[n - 1].first_seq + recs_[n - 1].event_count - 1)
              : std::nullopt);
    } else {
      problem(kCheckpointLogFile, WinRef{recs_[s - 1].stem, s - 1}, std::nullopt,
              "no checkpoint for log size" +
                  (s == e ? " " + std::to_string(s)
                          : "s " + std::to_string(s) + ".." + std::to_string(e)) +
                  " (records " + std::to_string(s - 1) + ".." + std::to_string(e - 1) + ")");
      all_ok = false;
    }
    s = e + 1;
  }
  rep_.checkpoints_consistent = all_ok && n > 0;

  // log/checkpoint: the newest checkpoint (or, after a crash, the one before).
  const Bytes& cur = checkpoint_file_;
  if (!checkpoint_file_status_.ok()) {
    if (!scan.frames.empty())
      problem(kCheckpointFile, checkpoint_file_missing_
                                   ? "missing (checkpoints.log has " +
                                         std::to_string(scan.frames.size()) + " frames)"
                                   : "cannot read: " + checkpoint_file_status_.error().message);
    return;
  }
  auto same = [&](size_t j) {
    return std::equal(cur.begin(), cur.end(), scan.frames[j].begin(), scan.frames[j].end());
  };
  const size_t f = scan.frames.size();
  if (f > 0 && same(f - 1)) return;
  if (f > 1 && same(f - 2)) {
    unsealed("checkpoint", kCheckpointFile, "",
             "one behind log/checkpoints.log (a crash before it was rewritten; the sensor "
             "rewrites it when it starts)");
    return;
  }
  problem(kCheckpointFile, n > 0 ? WinRef{recs_[n - 1].stem, n - 1} : WinRef{}, std::nullopt,
          "is not the last checkpoint of log/checkpoints.log");
}

// 4. Hour roots and chain links.
void Verifier::check_hours() {
  struct Hour {
    int64_t start = 0;
    uint64_t first = 0;
    uint64_t count = 0;
    uint64_t events = 0;
    bool in_range = false;
    merkle::TreeBuilder roots;
  };
  std::vector<Hour> hours;
  std::set<int64_t> seen;
  for (uint64_t i = 0; i < recs_.size(); ++i) {
    const Rec& r = recs_[i];
    if (!r.decoded) continue;
    const int64_t h = hour_start(r.slot_start_ns);
    if (hours.empty() || hours.back().start != h) {
      if (!seen.insert(h).second) {
        problem(kWindowLogFile, WinRef{r.stem, i}, std::nullopt,
                "the windows of hour " + format_time(h) + " are not contiguous in the window log");
        continue;
      }
      Hour& nh = hours.emplace_back();
      nh.start = h;
      nh.first = i;
    }
    Hour& cur = hours.back();
    ++cur.count;
    cur.events += r.event_count;
    cur.in_range = cur.in_range || r.in_range;
    cur.roots.add_leaf(r.micro_root);
  }
  if (hours.empty()) return;
  const int64_t last_hour = hours.back().start;
  std::optional<std::pair<int64_t, CheckpointRef>> previous;
  for (Hour& h : hours) {
    const std::string dir = hour_dir(h.start);
    const std::string hour_file = dir + "/proofs/hour_root.cbor";
    const std::string hour_sig = dir + "/proofs/hour_root.sig";
    const std::string chain_file = dir + "/proofs/chain.cbor";
    const std::string chain_sig = dir + "/proofs/chain.sig";
    for (const auto* f : {&hour_file, &hour_sig, &chain_file, &chain_sig}) named_.insert(*f);
    const uint64_t end = h.first + h.count;  // closing checkpoint size
    CheckpointRef closing{end, {}};
    bool closing_known = true;
    if (pack_ == nullptr) {
      closing.root = log_roots_[end - 1];
    } else if (auto it = pack_roots_.find(end); it != pack_roots_.end()) {
      closing.root = it->second;
    } else {
      closing_known = false;
    }
    const WinRef w{recs_[end - 1].stem, end - 1};
    auto prev = previous;
    const bool first_in_pack = pack_ != nullptr && &h == &hours.front();
    previous = std::make_pair(h.start, closing);
    if (rep_.range_limited && !h.in_range) continue;

    const std::string span = "hour " + format_time(h.start) + " (log indexes " +
                             std::to_string(h.first) + ".." + std::to_string(end - 1) + ")";
    bool missing = false;
    Bytes hb;
    auto st = read_rel(hour_file, kMaxRecordBytes, hb, &missing);
    // The hour of the last record is closed only when a later hour begins: its proofs may be
    // absent, or half written if the sensor stopped while closing it.
    const bool closing_tail = h.start == last_hour;
    if (!st.ok()) {
      if (!missing) {
        problem(hour_file, w, std::nullopt, "cannot read: " + st.error().message);
      } else if (!closing_tail) {
        problem(hour_file, w, std::nullopt, "missing: " + span + " is over but has no hour root");
        std::error_code ec;
        if (!exists_rel(chain_file))
          problem(chain_file, w, std::nullopt, "missing: " + span + " has no chain link");
      }
      continue;
    }
    const size_t before = rep_.problems.size() + rep_.problems_omitted;
    bool hour_signed = false;
    auto hr = decode_hour(hb);
    if (!hr.ok()) {
      problem(hour_file, w, std::nullopt, hr.error().message);
    } else {
      const Hash32 root = h.roots.root();
      if (hr->store_id != store_.store_id || hr->node_id != store_.node_id)
        problem(hour_file, w, std::nullopt, "store_id or node_id is not the store's");
      if (hr->hour_start_ns != h.start)
        problem(hour_file, w, std::nullopt,
                "hour_start_ns " + format_time(hr->hour_start_ns) + ", expected " +
                    format_time(h.start));
      if (hr->first_log_index != h.first || hr->window_count != h.count)
        problem(hour_file, w, std::nullopt,
                "lists log indexes " + std::to_string(hr->first_log_index) + " + " +
                    std::to_string(hr->window_count) + " windows; the log has " +
                    std::to_string(h.first) + " + " + std::to_string(h.count));
      if (hr->hour_root != root)
        problem(hour_file, w, std::nullopt,
                "hour_root differs from the Merkle root of the hour's micro roots (recomputed " +
                    to_hex(root) + ")");
      if (hr->event_count != h.events)
        problem(hour_file, w, std::nullopt,
                "event_count " + std::to_string(hr->event_count) + ", the hour's records hold " +
                    std::to_string(h.events));
      if (!closing_known)
        problem(hour_file, w, std::nullopt,
                "the pack holds no checkpoint of size " + std::to_string(end) +
                    " (the hour's closing checkpoint)");
      else if (hr->closing != closing)
        problem(hour_file, w, std::nullopt,
                "closing checkpoint (size " + std::to_string(hr->closing.tree_size) +
                    ") is not the window-log tree at size " + std::to_string(end));
      hour_signed = check_detached(hour_file, hour_sig, hb, hr->closed_ns, w, closing_tail);
    }
    // The chain link.
    Bytes cb;
    st = read_rel(chain_file, kMaxRecordBytes, cb, &missing);
    if (!st.ok()) {
      if (missing && closing_tail) {
        unsealed("file", hour_file, w.stem,
                 "an hour root without its chain link: the hour was being closed when the sensor "
                 "stopped (it completes the link when it starts)");
      } else {
        problem(chain_file, w, std::nullopt,
                missing ? "missing: " + span + " has an hour root but no chain link"
                        : "cannot read: " + st.error().message);
      }
      continue;
    }
    auto ch = decode_chain(cb);
    if (!ch.ok()) {
      problem(chain_file, w, std::nullopt, ch.error().message);
      continue;
    }
    if (ch->store_id != store_.store_id || ch->node_id != store_.node_id)
      problem(chain_file, w, std::nullopt, "store_id or node_id is not the store's");
    if (ch->hour_start_ns != h.start)
      problem(chain_file, w, std::nullopt, "hour_start_ns is not the hour of its directory");
    if (first_in_pack && ch->previous) {
      // The pack starts with this hour: the previous hour's closing checkpoint is one of the
      // pack's checkpoints.
      auto it = pack_roots_.find(ch->previous->second.tree_size);
      if (it == pack_roots_.end())
        problem(chain_file, w, std::nullopt,
                "previous names the checkpoint of size " +
                    std::to_string(ch->previous->second.tree_size) +
                    ", which the pack does not hold");
      else if (it->second != ch->previous->second.root)
        problem(chain_file, w, std::nullopt,
                "previous (size " + std::to_string(ch->previous->second.tree_size) +
                    ") is not the pack's checkpoint of that size");
      prev = ch->previous;
    }
    if (ch->previous != prev) {
      problem(chain_file, w, std::nullopt,
              prev ? "previous is not the checkpoint that closed hour " + format_time(prev->first) +
                         " (size " + std::to_string(prev->second.tree_size) + ")"
                   : "previous must be null for the store's first hour");
    }
    if (closing_known && ch->closing != closing)
      problem(chain_file, w, std::nullopt,
              "closing is not the window-log tree at size " + std::to_string(end));
    if (ch->hour_root_b3 != blake3(hb))
      problem(chain_file, w, std::nullopt, "hour_root_b3 is not the BLAKE3 of hour_root.cbor");
    const bool chain_signed =
        check_detached(chain_file, chain_sig, cb, ch->closed_ns, w, closing_tail);
    if (hour_signed && chain_signed && rep_.problems.size() + rep_.problems_omitted == before)
      ++rep_.hours_closed;
  }
}

Status Verifier::read_rel(const std::string& rel, size_t max, Bytes& out, bool* missing) const {
  if (pack_ == nullptr) return read_into(abs(rel), max, out, missing);
  const std::string key = is_pack_level(rel) ? rel : kPackStoreDir + rel;
  auto it = pack_->files.find(key);
  if (it == pack_->files.end()) {
    *missing = true;
    return make_error(key + ": not in the pack");
  }
  *missing = false;
  if (it->second.size() > max)
    return make_error(key + ": " + std::to_string(it->second.size()) + " bytes, more than " +
                      std::to_string(max));
  out.assign(it->second.begin(), it->second.end());
  return {};
}

bool Verifier::exists_rel(const std::string& rel) const {
  if (pack_ == nullptr) {
    std::error_code ec;
    return fs::exists(abs(rel), ec);
  }
  return pack_->files.count(is_pack_level(rel) ? rel : kPackStoreDir + rel) != 0;
}

// ---- a pack (§12.3)

void Verifier::run_pack(const PackFiles& pack, const Manifest& manifest, ByteSpan manifest_bytes,
                        const PackProof& proof, const std::optional<std::string>& pinned_fp) {
  pack_ = &pack;
  if (!load_store()) return;
  load_keys(pinned_fp);
  if (manifest.store_id != store_.store_id || manifest.node_id != store_.node_id)
    problem(kManifestFile, "store_id or node_id is not the store's (store/_meta/store.cbor)");
  if (proof.store_id != store_.store_id)
    problem(kPackProofFile, "store_id is not the store's (store/_meta/store.cbor)");
  check_detached(kManifestFile, kManifestSigFile, manifest_bytes, manifest.created_ns, WinRef{});
  check_pack_checkpoints(proof);
  check_pack_windows(proof);
  check_hours();
  walk_pack();
  if (untrusted_count_ > kUntrustedListed)
    problem("", WinRef{}, std::nullopt,
            std::to_string(untrusted_count_ - kUntrustedListed) +
                " more signatures by keys the pinned key does not vouch for");
  for (const auto& k : keys_) rep_.keys.push_back(k.out);
  rep_.checkpoints_consistent = rep_.checkpoints == proof.checkpoints.size() && !recs_.empty();
}

// The pack's checkpoints: each a valid signed note of this store's window log, ascending sizes,
// each consistent with the next; the last (newest) is what every window's path leads to.
void Verifier::check_pack_checkpoints(const PackProof& proof) {
  const std::string f = kPackProofFile;
  if (proof.checkpoints.empty()) {
    problem(f, "holds no checkpoint");
    return;
  }
  if (proof.consistency.size() + 1 != proof.checkpoints.size()) {
    problem(f, std::to_string(proof.checkpoints.size()) + " checkpoints need " +
                   std::to_string(proof.checkpoints.size() - 1) + " consistency proofs, it has " +
                   std::to_string(proof.consistency.size()));
    return;
  }
  std::vector<std::optional<note::Checkpoint>> cps;
  for (size_t j = 0; j < proof.checkpoints.size(); ++j) {
    const std::string& text = proof.checkpoints[j];
    const std::string label = "checkpoint " + std::to_string(j);
    const size_t split = text.rfind("\n\n");
    auto cp = split == std::string::npos
                  ? Result<note::Checkpoint>(make_error("not a signed note"))
                  : note::parse_checkpoint_body(std::string_view(text).substr(0, split + 1));
    if (!cp.ok()) {
      problem(f, label + ": " + cp.error().message);
      cps.emplace_back();
      continue;
    }
    if (cp->origin != origin_)
      problem(f, label + ": origin \"" + cp->origin + "\", expected \"" + origin_ + "\"");
    if (!cp->extensions.empty()) problem(f, label + ": has extension lines");
    if (cp->size == 0) problem(f, label + ": an empty log");
    if (j > 0 && cps[j - 1] && cp->size <= cps[j - 1]->size)
      problem(f, label + ": size " + std::to_string(cp->size) +
                     " does not grow (checkpoints are in ascending size)");
    cps.emplace_back(std::move(cp).value());
  }
  for (size_t j = 0; j + 1 < cps.size(); ++j) {
    if (!cps[j] || !cps[j + 1]) continue;
    if (!merkle::verify_consistency(cps[j]->size, cps[j + 1]->size, cps[j]->root, cps[j + 1]->root,
                                    proof.consistency[j]))
      problem(f, "consistency proof " + std::to_string(j) + " (size " +
                     std::to_string(cps[j]->size) + " to " + std::to_string(cps[j + 1]->size) +
                     ") does not verify: the checkpoints are not one log");
  }
  // Signatures are checked once the windows are known (a checkpoint's key is the one valid
  // when its last window was sealed, §10.6): remember the texts.
  for (size_t j = 0; j < cps.size(); ++j) {
    if (cps[j]) pack_roots_.emplace(cps[j]->size, cps[j]->root);
  }
  rep_.log_records = cps.back() ? cps.back()->size : 0;
}

void Verifier::check_pack_windows(const PackProof& proof) {
  const std::string f = kPackProofFile;
  if (proof.windows.empty()) {
    problem(f, "lists no window");
    return;
  }
  const uint64_t first = proof.windows.front().log_index;
  uint64_t newest_size = 0;
  Hash32 newest_root{};
  if (!pack_roots_.empty()) std::tie(newest_size, newest_root) = *pack_roots_.rbegin();
  for (const auto& r : proof.windows) {
    if (r.has_blocks) pack_blocks_.insert(r.log_index);
  }
  recs_.resize(first);  // the log's earlier records are not in the pack
  for (size_t j = 0; j < proof.windows.size(); ++j) {
    const PackWindowRef& r = proof.windows[j];
    const uint64_t i = first + j;
    if (r.log_index != i) {
      problem(f, "window " + std::to_string(j) + " has log index " + std::to_string(r.log_index) +
                     ", expected " + std::to_string(i) +
                     " (the windows are contiguous in the window log)");
      return;
    }
    pack_frame_name_ = r.micro_file;
    Bytes frame;
    bool missing = false;
    auto st = read_rel(r.micro_file, kMaxRecordBytes, frame, &missing);
    if (!st.ok()) {
      problem(r.micro_file, WinRef{"", i}, std::nullopt,
              missing ? "missing micro record (proof.cbor lists it)" : st.error().message);
      recs_.emplace_back();
      continue;
    }
    check_record(i, frame);
    if (recs_.back().decoded) {
      const std::string named = recs_.back().stem + ".cbor";
      if (named != r.micro_file)
        problem(f, WinRef{recs_.back().stem, i}, std::nullopt,
                "names the micro file " + r.micro_file + ", the record is " + named);
    }
    if (newest_size == 0) continue;
    if (!merkle::verify_inclusion(merkle::leaf_hash(frame), i, newest_size, r.log_path,
                                  newest_root))
      problem(f, WinRef{recs_.back().stem, i}, std::nullopt,
              "the window-log inclusion path does not lead to the newest checkpoint (size " +
                  std::to_string(newest_size) + ")");
    maybe_progress();
  }
  const uint64_t end = first + proof.windows.size();
  if (newest_size != 0 && end > newest_size)
    problem(f, "the windows reach log index " + std::to_string(end - 1) +
                   ", beyond the newest checkpoint (size " + std::to_string(newest_size) + ")");
  if (!pack_blocks_.empty() && pack_roots_.count(*pack_blocks_.rbegin() + 1) == 0)
    problem(f, "holds no checkpoint of size " + std::to_string(*pack_blocks_.rbegin() + 1) +
                   " (the one signed after the range's last window)");
  // The checkpoints' signatures, each by the key of its last window's time (or a later one).
  for (size_t j = 0; j < proof.checkpoints.size(); ++j) {
    const std::string& text = proof.checkpoints[j];
    const size_t split = text.rfind("\n\n");
    if (split == std::string::npos) continue;
    auto cp = note::parse_checkpoint_body(std::string_view(text).substr(0, split + 1));
    if (!cp.ok() || cp->size == 0) continue;
    const uint64_t ri = std::min<uint64_t>(cp->size - 1, recs_.size() - 1);
    const WinRef w{recs_[ri].stem, cp->size - 1};
    const size_t before = rep_.problems.size();
    check_note(text, ri, w, f,
               "checkpoint " + std::to_string(j) + " (size " + std::to_string(cp->size) + ")");
    if (rep_.problems.size() == before) ++rep_.checkpoints;
  }
}

// Files of the pack's store/ that no window of proof.cbor names.
void Verifier::walk_pack() {
  static const std::set<std::string> kStoreFiles = {std::string(kPackStoreDir) + kStoreFile,
                                                    std::string(kPackStoreDir) + kStoreSigFile,
                                                    std::string(kPackStoreDir) + kKeysFile};
  for (const auto& [path, bytes] : pack_->files) {
    if (!path.starts_with(kPackStoreDir) || kStoreFiles.count(path) != 0) continue;
    const std::string rel = path.substr(std::string_view(kPackStoreDir).size());
    if (named_.count(rel) != 0) continue;
    const auto wp = parse_windows_path(rel);
    problem(path, WinRef{wp ? wp->stem : "", std::nullopt}, std::nullopt,
            wp && wp->kind == "proofs" ? "a proof file of an hour that has no window in the pack"
                                       : "not named by any window of the pack");
  }
}

// 6. Files in windows/ that no record names.
void Verifier::walk_windows() {
  const fs::path root = out_ / "windows";
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  // The last record's window: files of one later window are an unsealed tail.
  std::optional<std::pair<int64_t, uint64_t>> last;
  for (auto it = recs_.rbegin(); it != recs_.rend(); ++it) {
    if (it->decoded) {
      last = std::make_pair(it->slot_start_ns, it->part);
      break;
    }
  }
  std::vector<std::pair<std::string, WindowsPath>> tail;
  std::set<std::string> tail_stems;
  const std::string prefix = out_.string() + "/";
  std::vector<std::string> found;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != end(it);
       it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    std::string p = it->path().string();
    if (p.starts_with(prefix)) p = p.substr(prefix.size());
    if (named_.count(p) != 0) continue;
    found.push_back(std::move(p));
  }
  if (ec) problem("windows", "cannot list: " + ec.message());
  std::sort(found.begin(), found.end());
  for (const std::string& rel : found) {
    const std::string name = fs::path(rel).filename().string();
    if (name.starts_with(".") && name.find(".tmp.") != std::string::npos) {
      note(rel + ": the leftover temporary file of an interrupted atomic write (harmless)");
      continue;
    }
    const auto wp = parse_windows_path(rel);
    if (wp && wp->slot && *wp->slot < kHourNs / store_.window_ns &&
        (wp->kind == "blocks" || wp->kind == "micro")) {
      const std::pair<int64_t, uint64_t> key{
          wp->hour_ns + static_cast<int64_t>(*wp->slot * store_.window_ns), wp->part};
      if (!last || key > *last) {
        tail.emplace_back(rel, *wp);
        tail_stems.insert(wp->stem);
        continue;
      }
    }
    problem(rel, WinRef{wp ? wp->stem : "", std::nullopt}, std::nullopt,
            wp && wp->kind == "proofs"
                ? "a proof file of an hour that has no window in the window log"
                : "not named by any window-log record");
  }
  if (tail.empty()) return;
  if (checkpoints_beyond_log_ || tail_stems.size() > 1) {
    for (const auto& [rel, wp] : tail) {
      problem(rel, WinRef{wp.stem, std::nullopt}, std::nullopt,
              "follows the last window-log record but no record names it" +
                  std::string(checkpoints_beyond_log_
                                  ? ", and checkpoints cover more records than the log holds: "
                                    "the window log was truncated"
                                  : " (files of " + std::to_string(tail_stems.size()) +
                                        " windows; a crash leaves at most one)"));
    }
    return;
  }
  for (const auto& [rel, wp] : tail) {
    unsealed("file", rel, wp.stem,
             "follows the last window-log record: a window whose sealing did not finish (the "
             "sensor moves it to unsealed/ when it starts)");
  }
}

void Verifier::list_unsealed() {
  constexpr uint64_t kListed = 100;
  const fs::path root = out_ / "unsealed";
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  uint64_t count = 0;
  const std::string prefix = out_.string() + "/";
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != end(it);
       it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    if (++count <= kListed) {
      std::string p = it->path().string();
      if (p.starts_with(prefix)) p = p.substr(prefix.size());
      const auto wp = parse_windows_path(p.substr(std::string("unsealed/").size()));
      unsealed("moved", p, wp ? wp->stem : "",
               "the remains of a window a crash interrupted, moved aside by the sealer (not "
               "evidence)");
    }
  }
  if (count > kListed)
    unsealed("moved", "unsealed", "",
             std::to_string(count - kListed) + " more files under unsealed/ (remains of crashes)");
}

}  // namespace

void detail::verify_pack_evidence(const PackFiles& pack, const Manifest& manifest,
                                  ByteSpan manifest_bytes, const PackProof& proof,
                                  const std::optional<std::string>& pinned_fp,
                                  VerifyReport& report) {
  VerifyOptions options;
  options.from_ns = manifest.from_ns;
  options.to_ns = manifest.to_ns;
  options.check_derived = false;
  Verifier v(fs::path(pack.source), options, report);
  v.run_pack(pack, manifest, manifest_bytes, proof, pinned_fp);
}

std::string VerifyProblem::to_string() const {
  std::string s = file.empty() ? std::string("store") : file;
  if (!window.empty() || log_index) {
    s += ": window ";
    s += window.empty() ? std::string("?") : window;
    if (log_index) s += " (log index " + std::to_string(*log_index) + ")";
  }
  if (seq) s += ": seq " + std::to_string(*seq);
  s += ": " + message;
  return s;
}

Result<VerifyReport> verify_store(const fs::path& out_dir, const VerifyOptions& options) {
  const auto t0 = Clock::now();
  std::error_code ec;
  if (!fs::is_directory(out_dir, ec))
    return make_error("no store at " + out_dir.string() + " (not a directory)");
  if (!fs::exists(out_dir / kStoreFile, ec))
    return make_error("no sealed store at " + out_dir.string() + ": " + kStoreFile +
                      " does not exist");
  if (access((out_dir / kStoreFile).c_str(), R_OK) != 0)
    return make_error("cannot read " + (out_dir / kStoreFile).string() + ": " +
                      std::strerror(errno));
  if (options.from_ns && options.to_ns && *options.from_ns >= *options.to_ns)
    return make_error("the time range is empty (from must be before to)");

  // The pinned key, as a fingerprint.
  std::optional<std::string> pinned_fp;
  if (!options.pinned_key.empty()) {
    std::string spec = options.pinned_key;
    while (!spec.empty() && (spec.back() == '\n' || spec.back() == ' ')) spec.pop_back();
    if (is_hex64(spec)) {
      pinned_fp = lower(spec);
    } else if (auto k = parse_public_key(spec + "\n"); k.ok()) {
      pinned_fp = key_fingerprint(k->key);
    } else if (auto k2 = parse_public_key(spec); k2.ok()) {
      pinned_fp = key_fingerprint(k2->key);
    } else if (fs::exists(spec, ec)) {
      auto f = load_public_key_file(spec);
      if (!f.ok()) return make_error("--key " + spec + ": " + f.error().message);
      pinned_fp = key_fingerprint(f->key);
    } else {
      return make_error("--key \"" + spec +
                        "\" is not a key fingerprint (64 hex digits), a verifier key "
                        "(name+keyid+base64) or a public key file");
    }
  }

  VerifyReport report;
  report.out_dir = out_dir;
  report.pinned_fingerprint = pinned_fp.value_or("");
  {
    Verifier v(out_dir, options, report);
    RITMA_TRY(v.run(pinned_fp));
  }
  report.elapsed_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  report.events_per_second =
      report.elapsed_seconds > 0 ? static_cast<double>(report.events) / report.elapsed_seconds : 0;
  return report;
}

}  // namespace ritma::seal
