// Cases (docs/FORMAT.md §13): legal-hold style freezes of sealed evidence under
// RITMA_OUT/cases/<case id>/. A case names a time range (or several) whose sealed windows must
// be kept: retention never deletes a window a freeze lists or whose time overlaps a frozen
// range (so windows sealed later inside a range are protected too), and the daily catalog marks
// such windows with retention_lock and the case ids.
//
//   cases/<id>/case_header.cbor    ["ritma-case@1", ...]            who opened the case, when
//   cases/<id>/frozen_windows.cbor ["ritma-case-freezes@1", ...]    the freezes and their windows
//   cases/<id>/manifest.cbor       ["ritma-case-manifest@1", ...]   BLAKE3 + size of the two above
//   cases/<id>/manifest.sig        §10.2 detached signature of manifest.cbor by the node key
//   cases/<id>/access.log          framed (§6), one signed, hash-chained record per action
//
// Writers take an exclusive flock on RITMA_OUT/catalog/.lock (the sealer takes the same lock
// while it writes a catalog), so a freeze and the catalog rewrite it implies cannot race with
// a running sensor, and two commands cannot fork a case's access-log chain.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/key_file.h"
#include "core/result.h"
#include "seal/seal_format.h"

namespace ritma::seal {

inline constexpr const char* kCasesDir = "cases";
inline constexpr const char* kCaseHeaderFile = "case_header.cbor";
inline constexpr const char* kCaseFreezesFile = "frozen_windows.cbor";
inline constexpr const char* kCaseManifestFile = "manifest.cbor";
inline constexpr const char* kCaseManifestSigFile = "manifest.sig";
inline constexpr const char* kCaseAccessLogFile = "access.log";
inline constexpr const char* kCatalogLockFile = "catalog/.lock";
inline constexpr std::string_view kCaseHeaderTag = "ritma-case@1";
inline constexpr std::string_view kCaseFreezesTag = "ritma-case-freezes@1";
inline constexpr std::string_view kCaseManifestTag = "ritma-case-manifest@1";
inline constexpr std::string_view kCaseAccessTag = "ritma-case-access@1";

// Bounds (hostile input).
inline constexpr size_t kMaxCaseIdBytes = 64;
inline constexpr size_t kMaxCaseTextBytes = 4096;  // title, description, reason, actor, detail
inline constexpr size_t kMaxCaseFileBytes = 64u << 20;

// A case id is 1..64 characters of [A-Za-z0-9_-].
Status check_case_id(std::string_view id);

// ---- records

struct CaseHeader {  // case_header.cbor
  std::string case_id;
  std::string title;
  std::string description;
  int64_t created_ns = 0;
  StoreId store_id{};
  std::string node_id;
  std::string created_by;  // "uid <n> (<user name>)"
};

struct FrozenWindow {
  uint64_t log_index = 0;
  std::string stem_path;  // windows/YYYY/MM/DD/HH/micro/<stem>
  Hash32 micro_root{};
};

struct Freeze {
  int64_t from_ns = 0, to_ns = 0;  // [from, to)
  std::string reason;
  int64_t frozen_ns = 0;
  std::string actor;
  std::vector<FrozenWindow> windows;  // ascending log index
};

struct CaseFreezes {  // frozen_windows.cbor
  std::string case_id;
  std::vector<Freeze> freezes;  // in the order they were made
};

struct CaseFileDigest {
  std::string name;  // a file name within the case directory
  uint64_t size = 0;
  Hash32 b3{};
};

struct CaseManifest {  // manifest.cbor
  std::string case_id;
  StoreId store_id{};
  std::string node_id;
  int64_t updated_ns = 0;
  // The access-log record written by the change that wrote this manifest (create, freeze):
  // its seq and the BLAKE3 of its frame payload. Records up to it cannot be removed unnoticed.
  uint64_t access_seq = 0;
  Hash32 access_b3{};
  std::vector<CaseFileDigest> files;  // case_header.cbor, frozen_windows.cbor; sorted by name
};

struct AccessRecord {  // the CBOR part of one access.log frame
  uint64_t seq = 0;    // 0, 1, 2, ...
  int64_t time_ns = 0;
  std::string action;  // create | freeze | show | export
  std::string actor;
  std::string detail;
  Hash32 prev{};  // BLAKE3 of the previous frame's payload; zero for seq 0
};

Bytes encode(const CaseHeader& h);
Bytes encode(const CaseFreezes& f);
Bytes encode(const CaseManifest& m);
Bytes encode(const AccessRecord& r);
Result<CaseHeader> decode_case_header(ByteSpan b);
Result<CaseFreezes> decode_case_freezes(ByteSpan b);
Result<CaseManifest> decode_case_manifest(ByteSpan b);
Result<AccessRecord> decode_access_record(ByteSpan b);
// One access.log frame payload: the record's CBOR followed by 64 bytes, the Ed25519 signature
// over signature_message(record CBOR) (§10.2's message) by the node key.
Bytes encode_access_frame(const AccessRecord& r, const SigningKey& key);
struct AccessFrame {
  AccessRecord record;
  Bytes record_bytes;
  Signature signature{};
};
Result<AccessFrame> decode_access_frame(ByteSpan payload);

// ---- what retention and the catalog need

struct CaseFreeze {
  std::string case_id;
  int64_t from_ns = 0, to_ns = 0;       // the frozen range [from, to)
  std::vector<uint64_t> log_indexes;    // the windows frozen at freeze time
  std::vector<std::string> stem_paths;  // same order
};

// Every freeze of every case under out_dir/cases/. Fails closed: an unreadable or malformed
// case (or a bad manifest signature or digest) is an error naming the file, never skipped,
// because retention must not delete what a case might hold. No cases/ directory: empty.
Result<std::vector<CaseFreeze>> load_freezes(const std::filesystem::path& out_dir);

// What the overlap test needs of a window (seal::window_overlaps).
struct WindowSpan {
  uint64_t log_index = 0;
  int64_t slot_start_ns = 0;
  uint64_t window_ns = kDefaultWindowNs;
  uint64_t event_count = 0;
  int64_t min_wall_ns = 0, max_wall_ns = 0;
};
WindowSpan window_span(const MicroRecord& r);

// True when a freeze lists the window's log index or its range overlaps the window
// (window_overlaps).
bool frozen(const std::vector<CaseFreeze>& f, const WindowSpan& w);
bool frozen(const std::vector<CaseFreeze>& f, const MicroRecord& r);
// The ids of the cases that freeze the window: sorted, unique (the catalog's case_ids).
std::vector<std::string> freezing_cases(const std::vector<CaseFreeze>& f, const WindowSpan& w);

// The span of a catalog entry (its slot parsed from the stem path; nullopt when it does not
// parse), and the entry's retention_lock/case_ids as the freezes set them.
struct CatalogWindow;
std::optional<WindowSpan> catalog_window_span(const CatalogWindow& w, uint64_t window_ns);
void apply_freezes(const std::vector<CaseFreeze>& f, uint64_t window_ns, CatalogWindow& w);

// A change marker for the sealer: the (name, inode, mtime, size) of every case's manifest.cbor,
// so that load_freezes need only run again when some case changed. Empty without cases.
std::string cases_fingerprint(const std::filesystem::path& out_dir);

// ---- operations (the CLI's `ritma case ...`)

struct CaseActor {
  std::string actor;  // "uid <n> (<user name>)"
  int64_t now_ns = 0;
};

// Creates cases/<id>/ with its header, an empty freezes file, the manifest and its signature,
// and the access log's first record ("create"). The id is generated when `case_id` is empty:
// CASE_<yyyymmddThhmmssZ>_<8 hex random>.
Result<CaseHeader> create_case(const std::filesystem::path& out_dir, const NamedSigningKey& key,
                               const CaseActor& who, const std::string& title,
                               const std::string& description, std::string case_id = "");

struct FreezeOutcome {
  Freeze freeze;
  std::vector<std::string> catalogs_rewritten;  // relative paths
};
// Freezes the sealed windows overlapping [from, to). Refuses an empty range, an unknown case,
// a case that does not verify, and a range that holds no sealed window (windows whose micro
// file is gone, pruned by retention, are not held). Rewrites the catalogs of the days whose
// windows it locks. Holds the catalog lock throughout.
Result<FreezeOutcome> freeze_case(const std::filesystem::path& out_dir, const NamedSigningKey& key,
                                  const CaseActor& who, const std::string& case_id, int64_t from_ns,
                                  int64_t to_ns, const std::string& reason);

struct CaseData {
  CaseHeader header;
  CaseFreezes freezes;
  CaseManifest manifest;
  std::vector<AccessFrame> access;
};
// Reads (strictly decodes) a case; does not check signatures (see verify_case).
Result<CaseData> read_case(const std::filesystem::path& out_dir, const std::string& case_id);
// The ids of every case directory, sorted.
Result<std::vector<std::string>> list_case_ids(const std::filesystem::path& out_dir);

// Appends one signed access record under the lock; returns it.
Result<AccessRecord> append_access(const std::filesystem::path& out_dir, const NamedSigningKey& key,
                                   const CaseActor& who, const std::string& case_id,
                                   const std::string& action, const std::string& detail);

// Everything `ritma case show --verify` checks: the manifest's signature (a store key) and
// digests, every access-log record's decoding, seq, chain link and signature, the manifest's
// access head, and that every frozen window's micro record still exists and matches the window
// log (log index and micro root). Each problem names the file and the record. Empty: verified.
std::vector<std::string> verify_case(const std::filesystem::path& out_dir,
                                     const std::string& case_id);

// Rewrites the catalog files of the days in `days_ns` (day starts) so that each window's
// retention_lock/case_ids follow `freezes`. The caller holds the catalog lock.
Result<std::vector<std::string>> relock_catalogs(const std::filesystem::path& out_dir,
                                                 const std::vector<CaseFreeze>& freezes,
                                                 const std::vector<int64_t>& days_ns);

// The exclusive flock on RITMA_OUT/catalog/.lock (created if needed), held while alive.
class CatalogLock {
 public:
  static Result<CatalogLock> acquire(const std::filesystem::path& out_dir);
  CatalogLock(CatalogLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  CatalogLock& operator=(CatalogLock&&) = delete;
  CatalogLock(const CatalogLock&) = delete;
  ~CatalogLock();

 private:
  explicit CatalogLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ritma::seal
