// RFC 9162 Merkle trees checked against a straightforward recursive implementation of §2.1
// written here from the RFC's definitions (hashing directly with OpenSSL's one-shot EVP API),
// for every tree size 0..64 and every valid index and size pair; plus tampered proofs.
#include "core/merkle.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace ritma::merkle {
namespace {

// ---- Reference implementation (RFC 9162 §2.1, literally) ----
Hash32 ref_sha(const Bytes& in) {
  Hash32 out;
  unsigned len = 0;
  EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}
uint64_t ref_k(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
using Leaves = std::vector<Bytes>;
Leaves slice(const Leaves& d, uint64_t a, uint64_t b) {
  return Leaves(d.begin() + a, d.begin() + b);
}
Hash32 ref_mth(const Leaves& d) {
  if (d.empty()) return ref_sha({});
  if (d.size() == 1) {
    Bytes in{0x00};
    in.insert(in.end(), d[0].begin(), d[0].end());
    return ref_sha(in);
  }
  const uint64_t k = ref_k(d.size());
  const Hash32 l = ref_mth(slice(d, 0, k));
  const Hash32 r = ref_mth(slice(d, k, d.size()));
  Bytes in{0x01};
  in.insert(in.end(), l.begin(), l.end());
  in.insert(in.end(), r.begin(), r.end());
  return ref_sha(in);
}
Proof ref_path(uint64_t m, const Leaves& d) {
  const uint64_t n = d.size();
  if (n <= 1) return {};
  const uint64_t k = ref_k(n);
  Proof p;
  if (m < k) {
    p = ref_path(m, slice(d, 0, k));
    p.push_back(ref_mth(slice(d, k, n)));
  } else {
    p = ref_path(m - k, slice(d, k, n));
    p.push_back(ref_mth(slice(d, 0, k)));
  }
  return p;
}
Proof ref_subproof(uint64_t m, const Leaves& d, bool b) {
  const uint64_t n = d.size();
  if (m == n) return b ? Proof{} : Proof{ref_mth(d)};
  const uint64_t k = ref_k(n);
  Proof p;
  if (m <= k) {
    p = ref_subproof(m, slice(d, 0, k), b);
    p.push_back(ref_mth(slice(d, k, n)));
  } else {
    p = ref_subproof(m - k, slice(d, k, n), false);
    p.push_back(ref_mth(slice(d, 0, k)));
  }
  return p;
}
Proof ref_consistency(uint64_t m, const Leaves& d) {
  return ref_subproof(m, d, true);
}

// ---- Fixtures ----
Leaves make_leaves(uint64_t n) {
  Leaves d;
  for (uint64_t i = 0; i < n; ++i) {
    std::string s = "leaf-" + std::to_string(i);
    d.emplace_back(s.begin(), s.end());
  }
  return d;
}
std::vector<Hash32> leaf_hashes_of(const Leaves& d) {
  std::vector<Hash32> h;
  for (const auto& x : d) h.push_back(leaf_hash(x));
  return h;
}

TEST(Merkle, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(to_hex(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Merkle, RootsMatchReferenceForAllSizesUpTo64) {
  for (uint64_t n = 0; n <= 64; ++n) {
    const Leaves d = make_leaves(n);
    const auto lh = leaf_hashes_of(d);
    const Hash32 want = ref_mth(d);
    EXPECT_EQ(root_from_leaf_hashes(lh), want) << "n=" << n;
    TreeBuilder b;
    for (const auto& x : d) b.add_leaf(x);
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.root(), want) << "builder n=" << n;
  }
}

TEST(Merkle, InclusionProofsMatchReferenceAndVerify) {
  for (uint64_t n = 1; n <= 64; ++n) {
    const Leaves d = make_leaves(n);
    const auto lh = leaf_hashes_of(d);
    const Hash32 root = ref_mth(d);
    for (uint64_t i = 0; i < n; ++i) {
      const Proof p = inclusion_proof(lh, i);
      ASSERT_EQ(p, ref_path(i, d)) << "n=" << n << " i=" << i;
      EXPECT_TRUE(verify_inclusion(lh[i], i, n, p, root)) << "n=" << n << " i=" << i;
    }
  }
}

TEST(Merkle, InclusionRejectsFlippedBitWrongIndexWrongSize) {
  for (uint64_t n = 1; n <= 64; ++n) {
    const Leaves d = make_leaves(n);
    const auto lh = leaf_hashes_of(d);
    const Hash32 root = ref_mth(d);
    for (uint64_t i = 0; i < n; ++i) {
      const Proof p = inclusion_proof(lh, i);
      for (size_t e = 0; e < p.size(); ++e) {
        for (int bit : {0, 7, 130, 255}) {
          Proof bad = p;
          bad[e][bit / 8] ^= uint8_t(1u << (bit % 8));
          EXPECT_FALSE(verify_inclusion(lh[i], i, n, bad, root));
        }
      }
      Hash32 bad_leaf = lh[i];
      bad_leaf[31] ^= 1;
      EXPECT_FALSE(verify_inclusion(bad_leaf, i, n, p, root));
      Hash32 bad_root = root;
      bad_root[0] ^= 0x80;
      EXPECT_FALSE(verify_inclusion(lh[i], i, n, p, bad_root));
      for (uint64_t j = 0; j < n; ++j) {
        if (j != i) {
          EXPECT_FALSE(verify_inclusion(lh[i], j, n, p, root)) << n << " " << i << " " << j;
        }
      }
      // A wrong size is checked against that size's root (a checkpoint binds size and root;
      // for some (i, n) the proof's shape is the same at n + 1, so the root is what differs).
      const Leaves bigger = make_leaves(n + 1);
      EXPECT_FALSE(verify_inclusion(lh[i], i, n + 1, p, ref_mth(bigger))) << n << " " << i;
      if (n > 1 && i < n - 1) {
        EXPECT_FALSE(verify_inclusion(lh[i], i, n - 1, p, ref_mth(slice(d, 0, n - 1))));
      }
      // Claiming a size whose proof has a different length fails whatever the root.
      for (uint64_t other = 1; other <= 64; ++other) {
        if (other != n && i < other &&
            inclusion_proof(leaf_hashes_of(make_leaves(other)), i).size() != p.size()) {
          EXPECT_FALSE(verify_inclusion(lh[i], i, other, p, root)) << n << " " << i << " " << other;
        }
      }
      EXPECT_FALSE(verify_inclusion(lh[i], n, n, p, root));
      Proof longer = p;
      longer.push_back(root);
      EXPECT_FALSE(verify_inclusion(lh[i], i, n, longer, root));
      if (!p.empty()) {
        Proof shorter(p.begin(), p.end() - 1);
        EXPECT_FALSE(verify_inclusion(lh[i], i, n, shorter, root));
      }
    }
  }
}

TEST(Merkle, ConsistencyProofsMatchReferenceAndVerify) {
  for (uint64_t n = 1; n <= 64; ++n) {
    const Leaves d = make_leaves(n);
    const auto lh = leaf_hashes_of(d);
    const Hash32 new_root = ref_mth(d);
    for (uint64_t m = 1; m <= n; ++m) {
      const Hash32 old_root = ref_mth(slice(d, 0, m));
      const Proof p = consistency_proof(lh, m);
      ASSERT_EQ(p, ref_consistency(m, d)) << "m=" << m << " n=" << n;
      EXPECT_TRUE(verify_consistency(m, n, old_root, new_root, p)) << "m=" << m << " n=" << n;
    }
    EXPECT_TRUE(verify_consistency(0, n, empty_root(), new_root, {}));
  }
}

TEST(Merkle, ConsistencyRejectsFlippedBitWrongSizes) {
  for (uint64_t n = 2; n <= 64; ++n) {
    const Leaves d = make_leaves(n);
    const auto lh = leaf_hashes_of(d);
    const Hash32 new_root = ref_mth(d);
    for (uint64_t m = 1; m < n; ++m) {
      const Hash32 old_root = ref_mth(slice(d, 0, m));
      const Proof p = consistency_proof(lh, m);
      for (size_t e = 0; e < p.size(); ++e) {
        for (int bit : {0, 100, 255}) {
          Proof bad = p;
          bad[e][bit / 8] ^= uint8_t(1u << (bit % 8));
          EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, bad)) << m << "/" << n;
        }
      }
      Hash32 bad_old = old_root;
      bad_old[5] ^= 4;
      EXPECT_FALSE(verify_consistency(m, n, bad_old, new_root, p));
      Hash32 bad_new = new_root;
      bad_new[9] ^= 1;
      EXPECT_FALSE(verify_consistency(m, n, old_root, bad_new, p));
      // Wrong sizes, each with that size's true root.
      EXPECT_FALSE(verify_consistency(m, n + 1, old_root, ref_mth(make_leaves(n + 1)), p))
          << m << "/" << n;
      if (m + 1 < n) {
        EXPECT_FALSE(verify_consistency(m + 1, n, ref_mth(slice(d, 0, m + 1)), new_root, p));
      }
      if (m > 1) {
        EXPECT_FALSE(verify_consistency(m - 1, n, ref_mth(slice(d, 0, m - 1)), new_root, p));
      }
      EXPECT_FALSE(verify_consistency(n, m, new_root, old_root, p));
      Proof longer = p;
      longer.push_back(new_root);
      EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, longer));
      Proof shorter(p.begin(), p.end() - 1);
      EXPECT_FALSE(verify_consistency(m, n, old_root, new_root, shorter));
    }
    // Equal sizes: only an empty proof and equal roots.
    EXPECT_TRUE(verify_consistency(n, n, new_root, new_root, {}));
    EXPECT_FALSE(verify_consistency(n, n, new_root, new_root, {new_root}));
    EXPECT_FALSE(verify_consistency(0, n, empty_root(), new_root, {new_root}));
  }
}

TEST(Merkle, LeafAndNodeHashesAreDomainSeparated) {
  // A leaf whose data is (left || right) must not collide with the node over them.
  const Hash32 a = leaf_hash(as_bytes("a"));
  const Hash32 b = leaf_hash(as_bytes("b"));
  Bytes concat(a.begin(), a.end());
  append(concat, b);
  EXPECT_NE(leaf_hash(concat), node_hash(a, b));
}

}  // namespace
}  // namespace ritma::merkle
