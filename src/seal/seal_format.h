// The sealed store's records (docs/FORMAT.md §10): their C++ shapes, canonical encodings,
// strict decoders, and the paths under RITMA_OUT/ where each lives. Shared by the sealer that
// writes them and the verifier that checks them; nothing here touches the disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/result.h"

namespace ritma::seal {

using StoreId = std::array<uint8_t, 16>;

inline constexpr uint64_t kDefaultWindowNs = 10'000'000'000ull;
inline constexpr uint64_t kHourNs = 3'600'000'000'000ull;
inline constexpr uint64_t kDayNs = 24 * kHourNs;
inline constexpr size_t kBlockMaxEvents = 65536;
inline constexpr size_t kBlockMaxRawBytes = 4u << 20;
inline constexpr size_t kMaxRecordBytes = 16u << 20;  // bound for reading any record file

struct StoreRecord {  // _meta/store.cbor, §10.1
  uint64_t format_version = 1;
  StoreId store_id{};
  std::string node_id;
  int64_t created_ns = 0;
  uint64_t window_ns = kDefaultWindowNs;
};

struct SignatureRecord {  // *.sig, §10.2
  std::string key_name;
  PublicKey public_key{};
  Signature signature{};
};

struct BlockRef {
  std::string file;  // name within blocks/
  Hash32 b3{};
  uint64_t zstd_bytes = 0;
  uint64_t raw_bytes = 0;
  uint64_t event_count = 0;
};

struct RunIdentity {
  uint64_t run_id = 0;
  std::array<uint8_t, 16> boot_id{};
  std::string sensor_version;
  std::string config_digest;
  bool operator==(const RunIdentity&) const = default;
};

struct MicroRecord {  // micro/<stem>.cbor, §10.4
  StoreId store_id{};
  std::string node_id;
  uint64_t log_index = 0;
  int64_t slot_start_ns = 0;
  uint64_t window_ns = kDefaultWindowNs;
  uint64_t part = 0;
  uint64_t first_seq = 0;
  uint64_t event_count = 0;
  uint64_t loss_count = 0;
  uint64_t filtered_count = 0;
  int64_t min_wall_ns = 0;
  int64_t max_wall_ns = 0;
  Hash32 micro_root{};
  std::vector<BlockRef> blocks;
  std::vector<std::pair<uint64_t, uint64_t>> type_counts;  // ascending type
  RunIdentity run;
  std::string privacy = "raw";
  int64_t sealed_ns = 0;

  uint64_t end_seq() const { return first_seq + event_count; }  // one past the last
};

struct CheckpointRef {
  uint64_t tree_size = 0;
  Hash32 root{};
  bool operator==(const CheckpointRef&) const = default;
};

struct HourRecord {  // proofs/hour_root.cbor, §10.7
  StoreId store_id{};
  std::string node_id;
  int64_t hour_start_ns = 0;
  uint64_t first_log_index = 0;
  uint64_t window_count = 0;
  Hash32 hour_root{};
  uint64_t event_count = 0;
  CheckpointRef closing;
  int64_t closed_ns = 0;
};

struct ChainRecord {  // proofs/chain.cbor, §10.8
  StoreId store_id{};
  std::string node_id;
  int64_t hour_start_ns = 0;
  std::optional<std::pair<int64_t, CheckpointRef>> previous;  // (hour_start_ns, checkpoint)
  CheckpointRef closing;
  Hash32 hour_root_b3{};
  int64_t closed_ns = 0;
};

struct KeyEntry {  // one key of _meta/keys/keys.cbor, §10.9
  std::string name;
  PublicKey public_key{};
  int64_t valid_from_ns = 0;
  std::optional<int64_t> valid_until_ns;
  std::optional<std::pair<PublicKey, Signature>> handover;  // (previous key, its signature)
};

struct KeysRecord {
  std::vector<KeyEntry> keys;
};

struct TimeIndexEntry {  // one frame of index/t_<N>s/.../HH.idx, §10.10
  int64_t bucket_start_ns = 0;
  uint64_t log_index = 0;
  uint64_t block = 0;
  uint64_t event = 0;
  bool operator==(const TimeIndexEntry&) const = default;
};

Bytes encode(const StoreRecord& r);
Bytes encode(const SignatureRecord& r);
Bytes encode(const MicroRecord& r);
Bytes encode(const HourRecord& r);
Bytes encode(const ChainRecord& r);
Bytes encode(const KeysRecord& r);
Bytes encode(const TimeIndexEntry& r);
Bytes encode_handover_message(const KeyEntry& k);  // ["ritma-handover@1", name, pk, from]

// Strict decoders: canonical CBOR, the right tag, arity, types and sizes.
Result<StoreRecord> decode_store(ByteSpan b);
Result<SignatureRecord> decode_signature(ByteSpan b);
Result<MicroRecord> decode_micro(ByteSpan b);
Result<HourRecord> decode_hour(ByteSpan b);
Result<ChainRecord> decode_chain(ByteSpan b);
Result<KeysRecord> decode_keys(ByteSpan b);
Result<TimeIndexEntry> decode_time_index_entry(ByteSpan b);

// Detached signatures (§10.2): Ed25519 over "ritma-sig@1" || 0x00 || file bytes.
Bytes signature_message(ByteSpan file_bytes);
SignatureRecord make_signature(const std::string& key_name, const SigningKey& key,
                               ByteSpan file_bytes);
bool check_signature(const SignatureRecord& sig, ByteSpan file_bytes);

// Paths, relative to RITMA_OUT.
std::string hour_dir(int64_t time_ns);   // windows/YYYY/MM/DD/HH
std::string day_path(int64_t time_ns);   // YYYY/MM/DD
std::string day_label(int64_t time_ns);  // YYYY-MM-DD
// RFC 3339 UTC with `fraction_digits` (0..9) digits of the second: 2026-11-30T12:52:23.378Z.
std::string utc_rfc3339(int64_t time_ns, int fraction_digits = 9);
int64_t hour_start(int64_t time_ns);
int64_t day_start(int64_t time_ns);
uint64_t slot_in_hour(int64_t slot_start_ns, uint64_t window_ns);
std::string window_stem(uint64_t slot, uint64_t part);  // w042 or w042-1
std::string micro_path(const MicroRecord& r);           // windows/.../micro/<stem>.cbor
std::string micro_sig_path(const MicroRecord& r);
std::string block_dir(const MicroRecord& r);  // windows/.../blocks
// The window overlaps [from, to): its slot does, or its events' [min_wall_ns, max_wall_ns] do
// (FORMAT.md §10.14 for a range, §12.1 for a pack's range windows).
bool window_overlaps(const MicroRecord& r, int64_t from, int64_t to);
std::string stem_path(const MicroRecord& r);                       // windows/.../micro/<stem>
std::string block_file_name(const std::string& stem, uint64_t k);  // <stem>.b<k>.zst
std::string time_index_path(uint64_t bucket_s, int64_t bucket_start_ns);
std::string catalog_path(int64_t day_ns);
std::string accounting_path(int64_t day_ns);

inline constexpr const char* kStoreFile = "_meta/store.cbor";
inline constexpr const char* kStoreSigFile = "_meta/store.sig";
inline constexpr const char* kKeysFile = "_meta/keys/keys.cbor";
inline constexpr const char* kPrivacySecretFile = "_meta/keys/privacy.secret";
inline constexpr const char* kHealthFile = "_meta/health/seal.json";
inline constexpr const char* kWindowLogFile = "log/windows.log";
inline constexpr const char* kCheckpointLogFile = "log/checkpoints.log";
inline constexpr const char* kCheckpointFile = "log/checkpoint";

std::string checkpoint_origin(const std::string& node_id, const StoreId& store_id);

// A pack-relative path (§12.1): '/'-separated parts, none empty, "." or "..", no NUL,
// backslash or control character, at most 1,024 bytes, not absolute. Also what the viewer
// accepts as an artifact path, and what a case lists (here, so that the sealer does not
// pull the pack reader and libarchive into every program).
bool valid_pack_path(std::string_view path);

}  // namespace ritma::seal
