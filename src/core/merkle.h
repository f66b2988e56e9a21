// RFC 9162 §2.1 Merkle trees over SHA-256: tree hash, inclusion proofs and consistency proofs
// (generation and verification), and an incremental builder that takes leaves one at a time in
// O(log n) memory.
//
//   MTH({})    = SHA-256("")
//   leaf hash  = SHA-256(0x00 || data)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two < n
//
// Odd nodes are never duplicated. Proofs are lists of 32-byte hashes in the order the RFC
// defines (nearest the leaf first).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma::merkle {

using Proof = std::vector<Hash32>;

Hash32 empty_root();
Hash32 leaf_hash(ByteSpan leaf_data);
Hash32 node_hash(const Hash32& left, const Hash32& right);

// MTH over leaves whose leaf hashes are given (leaf_hashes[i] = leaf_hash(D[i])).
Hash32 root_from_leaf_hashes(std::span<const Hash32> leaf_hashes);

// PATH(index, D[n]) for n = leaf_hashes.size(). Requires index < n.
Proof inclusion_proof(std::span<const Hash32> leaf_hashes, uint64_t index);

// RFC 9162 §2.1.3.2. Checks every hash of the proof: the leaf at `index` of a tree of
// `tree_size` leaves with root `root`. False for index >= tree_size or a proof of the wrong
// length.
bool verify_inclusion(const Hash32& leaf, uint64_t index, uint64_t tree_size, const Proof& proof,
                      const Hash32& root);

// Root computed from a leaf and its inclusion proof (the shared core of verify_inclusion), or
// an error when the proof's length does not fit (index, tree_size).
Result<Hash32> root_from_inclusion_proof(const Hash32& leaf, uint64_t index, uint64_t tree_size,
                                         const Proof& proof);

// PROOF(old_size, D[n]) for n = leaf_hashes.size(). Requires old_size <= n. Empty when
// old_size == 0 or old_size == n.
Proof consistency_proof(std::span<const Hash32> leaf_hashes, uint64_t old_size);

// RFC 9162 §2.1.4.2: the tree of `old_size` leaves with `old_root` is a prefix of the tree of
// `new_size` leaves with `new_root`. old_size == new_size requires an empty proof and equal
// roots; old_size == 0 requires an empty proof (every tree extends the empty tree).
bool verify_consistency(uint64_t old_size, uint64_t new_size, const Hash32& old_root,
                        const Hash32& new_root, const Proof& proof);

// Incremental tree hash: add leaves in order; root() at any point equals MTH of the leaves so
// far. Keeps one hash per set bit of size() (at most 64).
class TreeBuilder {
 public:
  void add_leaf(ByteSpan leaf_data) { add_leaf_hash(leaf_hash(leaf_data)); }
  void add_leaf_hash(const Hash32& h);
  uint64_t size() const { return size_; }
  Hash32 root() const;

 private:
  // Roots of perfect subtrees, largest (leftmost) first; heights strictly decreasing.
  std::vector<std::pair<Hash32, int>> stack_;
  uint64_t size_ = 0;
};

}  // namespace ritma::merkle
