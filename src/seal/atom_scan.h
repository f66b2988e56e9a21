// A fast, strict splitter for the decompressed content of an event block (docs/FORMAT.md
// §10.3): a CBOR sequence of `ritma-ev@1` atoms (§9) written back to back.
//
// For every atom it checks, without building a tree of values, everything the strict decoders
// check: canonical CBOR (§3: shortest heads, definite lengths, no tags, floats or maps, valid
// UTF-8 text, depth and item limits, no partial item at the end) and the atom's schema (an
// array of 37, the tag, boot_id as 16 bytes, the type and range of each field, kernel strings
// as text when they are UTF-8 and bytes only when they are not). It accepts exactly what
// capture::decode_event_atom accepts, and hands back what the verifier needs of each atom.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"

namespace ritma::seal {

struct ScannedAtom {
  uint32_t offset = 0;                // of the atom within the block content
  uint32_t size = 0;                  // of its encoding (the Merkle leaf data)
  uint64_t seq = 0;                   // field 2
  int64_t wall_ns = 0;                // field 4
  uint64_t type = 0;                  // field 5
  uint64_t arg0 = 0;                  // field 29 (gap: how the previous run ended)
  uint64_t arg1 = 0;                  // field 30 (gap: the previous run's id)
  uint64_t arg3 = 0;                  // field 32 (gap: one past the last sealed seq)
  uint64_t count = 0;                 // field 36 (loss/filtered: how many records)
  std::array<uint8_t, 16> boot_id{};  // field 1

  ByteSpan bytes(ByteSpan content) const { return content.subspan(offset, size); }
};

struct AtomScanError {
  uint64_t offset = 0;          // byte offset within the block content of what is wrong
  uint64_t atom_index = 0;      // index within the block of the atom it belongs to
  uint64_t atom_offset = 0;     // where that atom starts
  std::optional<uint64_t> seq;  // the atom's seq, when the scan got that far
  std::string what;             // "field 26 (path): byte string holding valid UTF-8 ..."

  // "offset 1234 (atom 17 at offset 1200, seq 99): <what>"
  std::string message() const;
};

struct AtomScanLimits {
  uint64_t max_items_per_atom = 1u << 22;  // §3 rule 4 (each atom is one document)
};

// Splits `content` into atoms, appending one ScannedAtom per atom to `atoms` (which is
// cleared first). Stops at the first invalid atom and returns what is wrong with it; the atoms
// before it stay in `atoms`. Content over 4 GiB is refused (blocks hold at most 4 MiB).
std::optional<AtomScanError> scan_atoms(ByteSpan content, std::vector<ScannedAtom>& atoms,
                                        const AtomScanLimits& limits = {});

// Checks one atom that spans all of `atom` (no trailing bytes).
std::optional<AtomScanError> scan_one_atom(ByteSpan atom, ScannedAtom& out,
                                           const AtomScanLimits& limits = {});

// SHA-256 for RFC 9162 Merkle leaves and nodes, the verifier's largest cost: through the CPU's
// SHA extensions when it has them (x86-64 SHA-NI), else through OpenSSL with a reused context.
// Equal to merkle::leaf_hash and merkle::node_hash; about 20 % (leaves) and 30 % (nodes) faster,
// as those pay OpenSSL's EVP overhead on every short message.
class MerkleHasher {
 public:
  // use_cpu_extensions false forces the portable path (for tests).
  explicit MerkleHasher(bool use_cpu_extensions = true);
  ~MerkleHasher();
  MerkleHasher(const MerkleHasher&) = delete;
  MerkleHasher& operator=(const MerkleHasher&) = delete;

  Hash32 leaf_hash(ByteSpan leaf_data);                       // SHA-256(0x00 || data)
  Hash32 node_hash(const Hash32& left, const Hash32& right);  // SHA-256(0x01 || l || r)
  bool accelerated() const { return accelerated_; }

 private:
  Hash32 portable(uint8_t prefix, ByteSpan a, ByteSpan b);
  bool accelerated_ = false;
  void* ctx_ = nullptr;  // EVP_MD_CTX of the portable path
};

// merkle::TreeBuilder over a MerkleHasher: leaves added one at a time, O(log n) memory, the
// RFC 9162 root at any point (MTH({}) when empty).
class FastTreeBuilder {
 public:
  explicit FastTreeBuilder(MerkleHasher& hasher) : hasher_(hasher) {}
  void add_leaf_hash(const Hash32& h);
  uint64_t size() const { return size_; }
  Hash32 root() const;

 private:
  MerkleHasher& hasher_;
  std::vector<std::pair<Hash32, int>> stack_;  // perfect subtrees, heights decreasing
  uint64_t size_ = 0;
};

}  // namespace ritma::seal
