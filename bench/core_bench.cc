// Throughput of the core library's primitives, each next to a peer measured in the same
// process: our wrapper and the raw library call it wraps (BLAKE3 C, OpenSSL EVP, libsodium), or
// another implementation of the same job (nlohmann::json's CBOR codec). The machines are shared
// and noisy, so the figure to read is the ratio within a pair, not the absolute number.
//
// Names are <family>/<variant>[/<arg>]; variants starting with "ritma" are ours, every other
// variant of the same family and argument is a peer. bench/bench_ratios.sh prints the ratios
// from a --benchmark_out JSON file; docs/PERFORMANCE.md has the commands and the results.
#include <benchmark/benchmark.h>
#include <blake3.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/blake3_hasher.h"
#include "core/bytes.h"
#include "core/cbor.h"
#include "core/ed25519.h"
#include "core/merkle.h"
#include "core/sha256.h"

namespace {

using ritma::Bytes;
using ritma::ByteSpan;
using ritma::Hash32;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr size_t kTreeLeaves = 1'000'000;  // "1M" in the names below
constexpr size_t kLeafBytes = 100;         // about one encoded event
constexpr size_t kMessageBytes = 128;      // about one checkpoint body

// Deterministic pseudo-random bytes (splitmix64), so every run hashes the same input.
Bytes pseudo_random_bytes(size_t n, uint64_t seed) {
  Bytes out(n);
  uint64_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) {
      x += 0x9e3779b97f4a7c15ULL;
    }
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    out[i] = static_cast<uint8_t>(z >> (8 * (i % 8)));
  }
  return out;
}

const EVP_MD* fetched_sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// An EVP context kept for the whole benchmark: the cheapest way to drive OpenSSL's SHA-256.
class RawEvpSha256 {
 public:
  RawEvpSha256() : ctx_(EVP_MD_CTX_new()) {}
  ~RawEvpSha256() { EVP_MD_CTX_free(ctx_); }
  RawEvpSha256(const RawEvpSha256&) = delete;
  RawEvpSha256& operator=(const RawEvpSha256&) = delete;

  Hash32 digest(uint8_t prefix, ByteSpan a, ByteSpan b = {}) {
    Hash32 out;
    EVP_DigestInit_ex2(ctx_, fetched_sha256(), nullptr);
    EVP_DigestUpdate(ctx_, &prefix, 1);
    EVP_DigestUpdate(ctx_, a.data(), a.size());
    if (!b.empty()) EVP_DigestUpdate(ctx_, b.data(), b.size());
    EVP_DigestFinal_ex(ctx_, out.data(), nullptr);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// ---------------------------------------------------------------------------------------------
// BLAKE3: our wrapper vs the C library's hasher calls.

void blake3_ritma(benchmark::State& state) {
  const Bytes data = pseudo_random_bytes(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) {
    Hash32 h = ritma::blake3(data);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void blake3_raw_c(benchmark::State& state) {
  const Bytes data = pseudo_random_bytes(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) {
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    blake3_hasher_update(&hasher, data.data(), data.size());
    Hash32 h;
    blake3_hasher_finalize(&hasher, h.data(), h.size());
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// ---------------------------------------------------------------------------------------------
// SHA-256 bulk throughput: our wrapper vs OpenSSL's one-shot EVP_Digest.

void sha256_ritma(benchmark::State& state) {
  const Bytes data = pseudo_random_bytes(static_cast<size_t>(state.range(0)), 2);
  for (auto _ : state) {
    Hash32 h = ritma::sha256(data);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void sha256_openssl_evp_digest(benchmark::State& state) {
  const Bytes data = pseudo_random_bytes(static_cast<size_t>(state.range(0)), 2);
  for (auto _ : state) {
    Hash32 h;
    EVP_Digest(data.data(), data.size(), h.data(), nullptr, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// ---------------------------------------------------------------------------------------------
// RFC 9162 leaf hashing of ~100-byte leaves (one per event): the per-event cost of verification.

constexpr size_t kLeafPool = 4096;  // distinct leaves, cycled

std::vector<Bytes> make_leaves(size_t count) {
  std::vector<Bytes> leaves;
  leaves.reserve(count);
  for (size_t i = 0; i < count; ++i) leaves.push_back(pseudo_random_bytes(kLeafBytes, 1000 + i));
  return leaves;
}

void leaf_hash_ritma(benchmark::State& state) {
  const std::vector<Bytes> leaves = make_leaves(kLeafPool);
  size_t i = 0;
  for (auto _ : state) {
    Hash32 h = ritma::merkle::leaf_hash(leaves[i++ % kLeafPool]);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kLeafBytes));
}

// The one-shot call a programmer would write: EVP_Digest over 0x00 || leaf.
void leaf_hash_openssl_evp_digest(benchmark::State& state) {
  const std::vector<Bytes> leaves = make_leaves(kLeafPool);
  std::array<uint8_t, kLeafBytes + 1> buf{};
  size_t i = 0;
  for (auto _ : state) {
    const Bytes& leaf = leaves[i++ % kLeafPool];
    buf[0] = 0x00;
    std::copy(leaf.begin(), leaf.end(), buf.begin() + 1);
    Hash32 h;
    EVP_Digest(buf.data(), buf.size(), h.data(), nullptr, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kLeafBytes));
}

// The floor of the EVP API: a pre-fetched digest and one context reused for every hash.
void leaf_hash_openssl_evp_ctx_reused(benchmark::State& state) {
  const std::vector<Bytes> leaves = make_leaves(kLeafPool);
  RawEvpSha256 sha;
  size_t i = 0;
  for (auto _ : state) {
    Hash32 h = sha.digest(0x00, leaves[i++ % kLeafPool]);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kLeafBytes));
}

// Interior nodes: SHA-256(0x01 || left || right), the unit of work of roots and proofs.
void node_hash_ritma(benchmark::State& state) {
  Hash32 left{};
  const Hash32 right = ritma::blake3(ritma::as_bytes("right"));
  for (auto _ : state) {
    left = ritma::merkle::node_hash(left, right);
    benchmark::DoNotOptimize(left);
  }
  state.SetItemsProcessed(state.iterations());
}

void node_hash_openssl_evp_ctx_reused(benchmark::State& state) {
  Hash32 left{};
  const Hash32 right = ritma::blake3(ritma::as_bytes("right"));
  RawEvpSha256 sha;
  for (auto _ : state) {
    left = sha.digest(0x01, left, right);
    benchmark::DoNotOptimize(left);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------------------------------------
// Merkle trees of 1M leaves.

const std::vector<Bytes>& tree_leaf_data() {
  static const std::vector<Bytes> data = [] {
    std::vector<Bytes> out;
    out.reserve(kTreeLeaves);
    const Bytes pool = pseudo_random_bytes(kLeafBytes + kTreeLeaves / 64, 7);
    for (size_t i = 0; i < kTreeLeaves; ++i) {
      // Overlapping windows of one buffer: distinct leaves without 100 MB of generation.
      const size_t off = i % (pool.size() - kLeafBytes);
      Bytes leaf(pool.begin() + static_cast<ptrdiff_t>(off),
                 pool.begin() + static_cast<ptrdiff_t>(off + kLeafBytes));
      leaf[0] = static_cast<uint8_t>(i);
      leaf[1] = static_cast<uint8_t>(i >> 8);
      leaf[2] = static_cast<uint8_t>(i >> 16);
      out.push_back(std::move(leaf));
    }
    return out;
  }();
  return data;
}

const std::vector<Hash32>& tree_leaf_hashes() {
  static const std::vector<Hash32> hashes = [] {
    std::vector<Hash32> out;
    out.reserve(kTreeLeaves);
    for (const Bytes& d : tree_leaf_data()) out.push_back(ritma::merkle::leaf_hash(d));
    return out;
  }();
  return hashes;
}

// Every level of the tree, leaves first, built bottom-up by pairing neighbours and promoting a
// lone last node unchanged, which yields exactly the RFC 9162 tree. Used as the raw baseline
// and to cut inclusion proofs without the library's O(n)-per-proof generator.
std::vector<std::vector<Hash32>> tree_levels_raw(std::span<const Hash32> leaves,
                                                 RawEvpSha256& sha) {
  std::vector<std::vector<Hash32>> levels;
  levels.emplace_back(leaves.begin(), leaves.end());
  while (levels.back().size() > 1) {
    const std::vector<Hash32>& below = levels.back();
    std::vector<Hash32> above;
    above.reserve((below.size() + 1) / 2);
    for (size_t i = 0; i + 1 < below.size(); i += 2) {
      above.push_back(sha.digest(0x01, below[i], below[i + 1]));
    }
    if (below.size() % 2 == 1) above.push_back(below.back());
    levels.push_back(std::move(above));
  }
  return levels;
}

// The same bottom-up construction keeping only one level, in one scratch buffer.
Hash32 root_raw(std::span<const Hash32> leaves, std::vector<Hash32>& scratch, RawEvpSha256& sha) {
  size_t n = leaves.size();
  scratch.resize((n + 1) / 2);
  size_t out = 0;
  for (size_t i = 0; i + 1 < n; i += 2) scratch[out++] = sha.digest(0x01, leaves[i], leaves[i + 1]);
  if (n % 2 == 1) scratch[out++] = leaves[n - 1];
  n = out;
  while (n > 1) {
    out = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
      scratch[out++] = sha.digest(0x01, scratch[i], scratch[i + 1]);
    }
    if (n % 2 == 1) scratch[out++] = scratch[n - 1];
    n = out;
  }
  return scratch[0];
}

void merkle_root_ritma_from_leaf_hashes(benchmark::State& state) {
  const std::vector<Hash32>& leaves = tree_leaf_hashes();
  for (auto _ : state) {
    Hash32 root = ritma::merkle::root_from_leaf_hashes(leaves);
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(leaves.size()));
}

void merkle_root_ritma_tree_builder(benchmark::State& state) {
  const std::vector<Hash32>& leaves = tree_leaf_hashes();
  for (auto _ : state) {
    ritma::merkle::TreeBuilder tree;
    for (const Hash32& h : leaves) tree.add_leaf_hash(h);
    Hash32 root = tree.root();
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(leaves.size()));
}

void merkle_root_raw_evp_levels(benchmark::State& state) {
  const std::vector<Hash32>& leaves = tree_leaf_hashes();
  RawEvpSha256 sha;
  std::vector<Hash32> scratch;
  if (root_raw(leaves, scratch, sha) != ritma::merkle::root_from_leaf_hashes(leaves)) {
    state.SkipWithError("raw baseline disagrees with merkle::root_from_leaf_hashes");
    return;
  }
  for (auto _ : state) {
    Hash32 root = root_raw(leaves, scratch, sha);
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(leaves.size()));
}

// From leaf data (~100-byte events) to root: leaf hash plus amortised tree work per event, the
// hashing part of offline verification.
void events_to_root_ritma_tree_builder_add_leaf(benchmark::State& state) {
  const std::vector<Bytes>& data = tree_leaf_data();
  for (auto _ : state) {
    ritma::merkle::TreeBuilder tree;
    for (const Bytes& d : data) tree.add_leaf(d);
    Hash32 root = tree.root();
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}

void events_to_root_raw_evp_levels(benchmark::State& state) {
  const std::vector<Bytes>& data = tree_leaf_data();
  RawEvpSha256 sha;
  std::vector<Hash32> leaf_hashes(data.size());
  std::vector<Hash32> scratch;
  for (auto _ : state) {
    for (size_t i = 0; i < data.size(); ++i) leaf_hashes[i] = sha.digest(0x00, data[i]);
    Hash32 root = root_raw(leaf_hashes, scratch, sha);
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}

struct InclusionCase {
  uint64_t index;
  Hash32 leaf;
  ritma::merkle::Proof proof;
};

struct InclusionFixture {
  Hash32 root;
  std::vector<InclusionCase> cases;
  bool all_verify = true;
};

const InclusionFixture& inclusion_fixture() {
  static const InclusionFixture fixture = [] {
    InclusionFixture f;
    RawEvpSha256 sha;
    const auto levels = tree_levels_raw(tree_leaf_hashes(), sha);
    f.root = levels.back()[0];
    const Bytes picks = pseudo_random_bytes(1024 * 4, 11);
    for (size_t c = 0; c < 1024; ++c) {
      uint64_t index = 0;
      for (size_t b = 0; b < 4; ++b) index = (index << 8) | picks[c * 4 + b];
      index %= kTreeLeaves;
      InclusionCase ic{index, levels[0][index], {}};
      for (size_t level = 0; level + 1 < levels.size(); ++level) {
        const uint64_t sibling = (index >> level) ^ 1;
        if (sibling < levels[level].size()) ic.proof.push_back(levels[level][sibling]);
      }
      f.all_verify = f.all_verify &&
                     ritma::merkle::verify_inclusion(ic.leaf, index, kTreeLeaves, ic.proof, f.root);
      f.cases.push_back(std::move(ic));
    }
    // Spot-check the cut proofs against the library's own generator.
    const ritma::merkle::Proof lib =
        ritma::merkle::inclusion_proof(tree_leaf_hashes(), f.cases[0].index);
    f.all_verify = f.all_verify && lib == f.cases[0].proof;
    return f;
  }();
  return fixture;
}

void inclusion_verify_ritma(benchmark::State& state) {
  const InclusionFixture& f = inclusion_fixture();
  if (!f.all_verify) {
    state.SkipWithError("fixture proofs do not verify");
    return;
  }
  size_t i = 0;
  for (auto _ : state) {
    const InclusionCase& c = f.cases[i++ % f.cases.size()];
    bool ok = ritma::merkle::verify_inclusion(c.leaf, c.index, kTreeLeaves, c.proof, f.root);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

// The floor: the ~20 node hashes of a proof through a reused EVP context, with no index logic.
void inclusion_verify_raw_evp_node_hashes(benchmark::State& state) {
  const InclusionFixture& f = inclusion_fixture();
  RawEvpSha256 sha;
  size_t i = 0;
  for (auto _ : state) {
    const InclusionCase& c = f.cases[i++ % f.cases.size()];
    Hash32 r = c.leaf;
    for (const Hash32& p : c.proof) r = sha.digest(0x01, p, r);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

struct ConsistencyCase {
  uint64_t old_size;
  Hash32 old_root;
  ritma::merkle::Proof proof;
};

struct ConsistencyFixture {
  Hash32 new_root;
  std::vector<ConsistencyCase> cases;
  bool all_verify = true;
};

const ConsistencyFixture& consistency_fixture() {
  static const ConsistencyFixture fixture = [] {
    ConsistencyFixture f;
    const std::vector<Hash32>& leaves = tree_leaf_hashes();
    f.new_root = ritma::merkle::root_from_leaf_hashes(leaves);
    // Each proof costs O(n) to generate, so a handful of old sizes, none a power of two.
    for (uint64_t old_size : {1'001u, 77'777u, 262'145u, 499'999u, 654'321u, 999'999u}) {
      ConsistencyCase c{
          old_size,
          ritma::merkle::root_from_leaf_hashes(std::span<const Hash32>(leaves).first(old_size)),
          ritma::merkle::consistency_proof(leaves, old_size)};
      f.all_verify = f.all_verify && ritma::merkle::verify_consistency(
                                         old_size, kTreeLeaves, c.old_root, f.new_root, c.proof);
      f.cases.push_back(std::move(c));
    }
    return f;
  }();
  return fixture;
}

void consistency_verify_ritma(benchmark::State& state) {
  const ConsistencyFixture& f = consistency_fixture();
  if (!f.all_verify) {
    state.SkipWithError("fixture proofs do not verify");
    return;
  }
  size_t i = 0;
  for (auto _ : state) {
    const ConsistencyCase& c = f.cases[i++ % f.cases.size()];
    bool ok =
        ritma::merkle::verify_consistency(c.old_size, kTreeLeaves, c.old_root, f.new_root, c.proof);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------------------------------------
// Ed25519: our wrapper vs libsodium's crypto_sign_* called directly.

constexpr std::array<uint8_t, 32> kSeed = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                           12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                           23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

void ed25519_sign_ritma(benchmark::State& state) {
  const auto key = ritma::SigningKey::from_seed(kSeed);
  const Bytes msg = pseudo_random_bytes(kMessageBytes, 3);
  for (auto _ : state) {
    ritma::Signature sig = key->sign(msg);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}

void ed25519_sign_libsodium(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk;
  crypto_sign_seed_keypair(pk.data(), sk.data(), kSeed.data());
  const Bytes msg = pseudo_random_bytes(kMessageBytes, 3);
  for (auto _ : state) {
    std::array<uint8_t, crypto_sign_BYTES> sig;
    crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sk.data());
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}

void ed25519_verify_ritma(benchmark::State& state) {
  const auto key = ritma::SigningKey::from_seed(kSeed);
  const Bytes msg = pseudo_random_bytes(kMessageBytes, 3);
  const ritma::Signature sig = key->sign(msg);
  const ritma::PublicKey pk = key->public_key();
  for (auto _ : state) {
    bool ok = ritma::verify_signature(pk, msg, sig);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

void ed25519_verify_libsodium(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk;
  crypto_sign_seed_keypair(pk.data(), sk.data(), kSeed.data());
  const Bytes msg = pseudo_random_bytes(kMessageBytes, 3);
  std::array<uint8_t, crypto_sign_BYTES> sig;
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sk.data());
  for (auto _ : state) {
    bool ok = crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pk.data()) == 0;
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------------------------------------
// CBOR: an event-like tuple of 12 items, encoded and decoded by our codec and by nlohmann::json.

struct SampleEvent {
  uint64_t seq = 1'234'567;
  uint64_t time_ns = 1'795'000'000'123'456'789ULL;
  uint64_t pid = 48'213;
  uint64_t tid = 48'217;
  uint64_t ppid = 1'187;
  uint64_t uid = 1000;
  uint64_t gid = 1000;
  uint64_t syscall_nr = 59;
  std::array<uint8_t, 16> exec_id = {0x9f, 0x41, 0x07, 0xc2, 0x55, 0x10, 0xee, 0x3a,
                                     0x81, 0x6b, 0x2d, 0x04, 0xf0, 0x77, 0x19, 0xa5};
  std::string path = "/usr/lib/x86_64-linux-gnu/libcrypto.so.3";
  std::vector<std::string> argv = {"/bin/sh", "-c", "make -j2 all"};
};

void write_event(ritma::cbor::Writer& w, const SampleEvent& e) {
  w.array(12);
  w.text("ritma-ev@1");
  w.uint(e.seq);
  w.uint(e.time_ns);
  w.uint(e.pid);
  w.uint(e.tid);
  w.uint(e.ppid);
  w.uint(e.uid);
  w.uint(e.gid);
  w.uint(e.syscall_nr);
  w.bytes(e.exec_id);
  w.text(e.path);
  w.array(e.argv.size());
  for (const std::string& a : e.argv) w.text(a);
}

Bytes encoded_event() {
  Bytes out;
  ritma::cbor::Writer w(out);
  write_event(w, SampleEvent{});
  return out;
}

nlohmann::json event_as_json() {
  const SampleEvent e;
  return nlohmann::json::array(
      {"ritma-ev@1", e.seq, e.time_ns, e.pid, e.tid, e.ppid, e.uid, e.gid, e.syscall_nr,
       nlohmann::json::binary(std::vector<uint8_t>(e.exec_id.begin(), e.exec_id.end())), e.path,
       e.argv});
}

void set_event_counters(benchmark::State& state, size_t encoded_size) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(encoded_size));
}

void cbor_encode_ritma_writer(benchmark::State& state) {
  const SampleEvent event;
  Bytes out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    ritma::cbor::Writer w(out);
    write_event(w, event);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_event_counters(state, out.size());
}

void cbor_encode_ritma_value(benchmark::State& state) {
  const auto decoded = ritma::cbor::decode(encoded_event());
  if (!decoded.ok()) {
    state.SkipWithError(decoded.error().message.c_str());
    return;
  }
  size_t size = 0;
  for (auto _ : state) {
    Bytes out = ritma::cbor::encode(*decoded);
    size = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  set_event_counters(state, size);
}

void cbor_encode_nlohmann_json(benchmark::State& state) {
  const nlohmann::json j = event_as_json();
  std::vector<uint8_t> out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    nlohmann::json::to_cbor(j, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out != encoded_event()) state.SetLabel("bytes differ from ours");
  set_event_counters(state, out.size());
}

void cbor_decode_ritma(benchmark::State& state) {
  const Bytes in = encoded_event();
  for (auto _ : state) {
    auto v = ritma::cbor::decode(in);
    if (!v.ok()) {
      state.SkipWithError(v.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(v);
  }
  set_event_counters(state, in.size());
}

void cbor_decode_nlohmann_json(benchmark::State& state) {
  const Bytes in = encoded_event();
  for (auto _ : state) {
    nlohmann::json v = nlohmann::json::from_cbor(in);
    benchmark::DoNotOptimize(v);
  }
  set_event_counters(state, in.size());
}

// ---------------------------------------------------------------------------------------------

// Registered in report order, peers next to each other.
bool register_benchmarks() {
  using benchmark::RegisterBenchmark;
  for (int64_t size : {kKiB, 64 * kKiB, kMiB, 16 * kMiB}) {
    RegisterBenchmark("blake3/ritma", blake3_ritma)->Arg(size);
    RegisterBenchmark("blake3/blake3_c_raw", blake3_raw_c)->Arg(size);
  }
  for (int64_t size : {kKiB, 64 * kKiB, kMiB}) {
    RegisterBenchmark("sha256/ritma", sha256_ritma)->Arg(size);
    RegisterBenchmark("sha256/openssl_evp_digest", sha256_openssl_evp_digest)->Arg(size);
  }
  RegisterBenchmark("leaf_hash_100B/ritma", leaf_hash_ritma);
  RegisterBenchmark("leaf_hash_100B/openssl_evp_digest", leaf_hash_openssl_evp_digest);
  RegisterBenchmark("leaf_hash_100B/openssl_evp_ctx_reused", leaf_hash_openssl_evp_ctx_reused);
  RegisterBenchmark("node_hash/ritma", node_hash_ritma);
  RegisterBenchmark("node_hash/openssl_evp_ctx_reused", node_hash_openssl_evp_ctx_reused);

  const auto ms = benchmark::kMillisecond;
  RegisterBenchmark("merkle_root_1M/ritma_from_leaf_hashes", merkle_root_ritma_from_leaf_hashes)
      ->Unit(ms);
  RegisterBenchmark("merkle_root_1M/ritma_tree_builder", merkle_root_ritma_tree_builder)->Unit(ms);
  RegisterBenchmark("merkle_root_1M/raw_evp_levels", merkle_root_raw_evp_levels)->Unit(ms);
  RegisterBenchmark("events_to_root_1M_100B/ritma_tree_builder_add_leaf",
                    events_to_root_ritma_tree_builder_add_leaf)
      ->Unit(ms);
  RegisterBenchmark("events_to_root_1M_100B/raw_evp_levels", events_to_root_raw_evp_levels)
      ->Unit(ms);
  RegisterBenchmark("inclusion_verify_1M/ritma", inclusion_verify_ritma);
  RegisterBenchmark("inclusion_verify_1M/raw_evp_node_hashes",
                    inclusion_verify_raw_evp_node_hashes);
  RegisterBenchmark("consistency_verify_1M/ritma", consistency_verify_ritma);

  RegisterBenchmark("ed25519_sign_128B/ritma", ed25519_sign_ritma);
  RegisterBenchmark("ed25519_sign_128B/libsodium", ed25519_sign_libsodium);
  RegisterBenchmark("ed25519_verify_128B/ritma", ed25519_verify_ritma);
  RegisterBenchmark("ed25519_verify_128B/libsodium", ed25519_verify_libsodium);

  RegisterBenchmark("cbor_encode_event/ritma_writer", cbor_encode_ritma_writer);
  RegisterBenchmark("cbor_encode_event/ritma_value", cbor_encode_ritma_value);
  RegisterBenchmark("cbor_encode_event/nlohmann_json", cbor_encode_nlohmann_json);
  RegisterBenchmark("cbor_decode_event/ritma", cbor_decode_ritma);
  RegisterBenchmark("cbor_decode_event/nlohmann_json", cbor_decode_nlohmann_json);
  return true;
}

[[maybe_unused]] const bool kRegistered = register_benchmarks();

}  // namespace
