// RFC 9162 Merkle tree hashing and proofs.
#include "core/merkle.h"

#include <bit>

#include "core/sha256.h"

namespace ritma::merkle {
namespace {

// Largest power of two strictly less than n (n >= 2).
uint64_t split_point(uint64_t n) {
  return std::bit_floor(n - 1);
}

Hash32 subtree_root(std::span<const Hash32> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  const uint64_t k = split_point(leaves.size());
  return node_hash(subtree_root(leaves.first(k)), subtree_root(leaves.subspan(k)));
}

void inclusion_path(std::span<const Hash32> leaves, uint64_t m, Proof& out) {
  if (leaves.size() <= 1) return;
  const uint64_t k = split_point(leaves.size());
  if (m < k) {
    inclusion_path(leaves.first(k), m, out);
    out.push_back(subtree_root(leaves.subspan(k)));
  } else {
    inclusion_path(leaves.subspan(k), m - k, out);
    out.push_back(subtree_root(leaves.first(k)));
  }
}

// SUBPROOF(m, D[n], b) from RFC 9162 §2.1.4.1.
void subproof(std::span<const Hash32> leaves, uint64_t m, bool complete, Proof& out) {
  const uint64_t n = leaves.size();
  if (m == n) {
    if (!complete) out.push_back(subtree_root(leaves));
    return;
  }
  const uint64_t k = split_point(n);
  if (m <= k) {
    subproof(leaves.first(k), m, complete, out);
    out.push_back(subtree_root(leaves.subspan(k)));
  } else {
    subproof(leaves.subspan(k), m - k, false, out);
    out.push_back(subtree_root(leaves.first(k)));
  }
}

}  // namespace

Hash32 empty_root() {
  return sha256({});
}

Hash32 leaf_hash(ByteSpan leaf_data) {
  thread_local Sha256 h;
  h.update_byte(0x00);
  h.update(leaf_data);
  return h.finalize();
}

Hash32 node_hash(const Hash32& left, const Hash32& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  return sha256(ByteSpan(buf, sizeof buf));
}

Hash32 root_from_leaf_hashes(std::span<const Hash32> leaf_hashes) {
  return subtree_root(leaf_hashes);
}

Proof inclusion_proof(std::span<const Hash32> leaf_hashes, uint64_t index) {
  Proof out;
  if (index < leaf_hashes.size()) inclusion_path(leaf_hashes, index, out);
  return out;
}

Result<Hash32> root_from_inclusion_proof(const Hash32& leaf, uint64_t index, uint64_t tree_size,
                                         const Proof& proof) {
  if (index >= tree_size) return make_error("leaf index is not below the tree size");
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  Hash32 r = leaf;
  for (const Hash32& p : proof) {
    if (sn == 0) return make_error("inclusion proof is longer than the tree allows");
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return make_error("inclusion proof is shorter than the tree requires");
  return r;
}

bool verify_inclusion(const Hash32& leaf, uint64_t index, uint64_t tree_size, const Proof& proof,
                      const Hash32& root) {
  auto r = root_from_inclusion_proof(leaf, index, tree_size, proof);
  return r.ok() && *r == root;
}

Proof consistency_proof(std::span<const Hash32> leaf_hashes, uint64_t old_size) {
  Proof out;
  if (old_size == 0 || old_size >= leaf_hashes.size()) return out;
  subproof(leaf_hashes, old_size, true, out);
  return out;
}

bool verify_consistency(uint64_t old_size, uint64_t new_size, const Hash32& old_root,
                        const Hash32& new_root, const Proof& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();
  if (proof.empty()) return false;

  // Step 2: when old_size is a power of two the old root is the first node of the path.
  std::vector<Hash32> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash32 fr = path[0];
  Hash32 sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash32& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

void TreeBuilder::add_leaf_hash(const Hash32& h) {
  Hash32 cur = h;
  int height = 0;
  while (!stack_.empty() && stack_.back().second == height) {
    cur = node_hash(stack_.back().first, cur);
    stack_.pop_back();
    ++height;
  }
  stack_.emplace_back(cur, height);
  ++size_;
}

Hash32 TreeBuilder::root() const {
  if (stack_.empty()) return empty_root();
  Hash32 r = stack_.back().first;
  for (size_t i = stack_.size() - 1; i-- > 0;) r = node_hash(stack_[i].first, r);
  return r;
}

}  // namespace ritma::merkle
