// libFuzzer target for what `ritma verify BUNDLE` and the viewer read from an untrusted ProofPack
// (`ritma-pack@1`, docs/FORMAT.md §12): the container (load_pack_archive over a .tar.zst or a
// plain tar), the MANIFEST.cbor and proof.cbor decoders (whatever they accept must re-encode to
// the same bytes), the whole pack verifier, and the viewer's readers (open_pack,
// pack_window_atoms, pack_event_proof, whose proof then goes through verify_event_proof).
//
// The first input byte picks how the rest becomes a pack (most fuzzed bytes are not zstd, so the
// harness also builds the archive itself, or skips the archive entirely):
//
//   0  the rest is the archive as `ritma verify X.tar.zst` would read it
//   1  the rest is the decompressed tar; the harness zstd-compresses it before loading
//   2  the rest is a set of files, each [u16 LE path length][path][u32 LE size][bytes],
//      put into a PackFiles map directly (the directory form's view, no container)
//   3  the rest is given to decode_manifest and decode_pack_proof only
//
// Invariants checked: accepted manifests and proofs re-encode identically; verify_pack without
// a pin never fails as a call (problems go into its report); a pack that verifies opens, and the
// event proof built from it for a leaf of each window with blocks verifies too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/zstd_codec.h"
#include "seal/event_proof.h"
#include "seal/proofpack.h"

namespace {

using ritma::Bytes;
using ritma::ByteSpan;
namespace seal = ritma::seal;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "proofpack_fuzz: %s\n", what.c_str());
  std::abort();
}

// Bounds for the harness (not the code under test): a zstd stream in mode 0 may expand to at
// most this much, so one input cannot make the pack reader hold gigabytes.
constexpr size_t kMaxExpanded = 8u << 20;
constexpr size_t kMaxFiles = 256;

void check_manifest(ByteSpan b) {
  auto m = seal::decode_manifest(b);
  if (m.ok() && seal::encode(*m) != Bytes(b.begin(), b.end()))
    fail("an accepted MANIFEST.cbor does not re-encode identically");
}

void check_proof(ByteSpan b) {
  auto p = seal::decode_pack_proof(b);
  if (p.ok() && seal::encode(*p) != Bytes(b.begin(), b.end()))
    fail("an accepted proof.cbor does not re-encode identically");
}

void exercise(const seal::PackFiles& pack) {
  if (auto it = pack.files.find(seal::kManifestFile); it != pack.files.end())
    check_manifest(it->second);
  if (auto it = pack.files.find(seal::kPackProofFile); it != pack.files.end())
    check_proof(it->second);

  auto report = seal::verify_pack(pack);
  if (!report.ok()) fail("verify_pack without a pin failed as a call: " + report.error().message);
  const bool verified = report->ok();

  auto opened = seal::open_pack(pack);
  if (!opened.ok()) {
    if (verified) fail("a pack that verifies does not open: " + opened.error().message);
    return;
  }
  size_t tried = 0;
  for (const auto& w : opened->windows) {
    if (!w.has_blocks) continue;
    if (++tried > 4) break;
    auto atoms = seal::pack_window_atoms(pack, w);
    if (!atoms.ok()) {
      if (verified) fail("a verified window's atoms do not read: " + atoms.error().message);
      continue;
    }
    if (atoms->empty()) continue;
    // The first and the last leaf of the window.
    for (const uint64_t leaf : {uint64_t{0}, static_cast<uint64_t>(atoms->size() - 1)}) {
      auto proof = seal::pack_event_proof(pack, *opened, w, leaf);
      if (!proof.ok()) {
        if (verified) fail("a verified pack gives no event proof: " + proof.error().message);
        continue;
      }
      auto checked = seal::verify_event_proof(seal::encode(*proof));
      if (verified && !checked.ok())
        fail("the event proof of a verified pack does not verify: " + checked.error().message);
    }
  }
}

// Mode 2: [u16 path length][path][u32 size][bytes]..., little endian; stops at a truncation.
seal::PackFiles files_from(ByteSpan in) {
  seal::PackFiles pack;
  pack.source = "fuzz";
  size_t pos = 0;
  while (pack.files.size() < kMaxFiles && in.size() - pos >= 2) {
    const size_t plen = in[pos] | (size_t{in[pos + 1]} << 8);
    pos += 2;
    if (in.size() - pos < plen) break;
    std::string path(reinterpret_cast<const char*>(in.data() + pos), plen);
    pos += plen;
    if (in.size() - pos < 4) break;
    size_t len = 0;
    for (int k = 3; k >= 0; --k) len = (len << 8) | in[pos + static_cast<size_t>(k)];
    pos += 4;
    len = std::min(len, in.size() - pos);
    pack.files[path] = Bytes(in.begin() + static_cast<ptrdiff_t>(pos),
                             in.begin() + static_cast<ptrdiff_t>(pos + len));
    pos += len;
  }
  return pack;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] & 3;
  const ByteSpan in(data + 1, size - 1);
  switch (mode) {
    case 0: {
      // A zstd stream that expands beyond the harness's bound is skipped (what is not zstd is
      // read by libarchive as an uncompressed tar, or refused).
      if (in.size() >= 4 && in[0] == 0x28 && in[1] == 0xb5 && in[2] == 0x2f && in[3] == 0xfd) {
        auto raw = ritma::zstd_decompress(in, kMaxExpanded);
        if (!raw.ok() && std::strstr(raw.error().message.c_str(), "exceeds") != nullptr) return 0;
      }
      auto pack = seal::load_pack_archive(in, "fuzz.tar.zst");
      if (pack.ok()) exercise(*pack);
      break;
    }
    case 1: {
      auto z = ritma::zstd_compress(in, 1);
      if (!z.ok()) fail("zstd_compress failed: " + z.error().message);
      auto pack = seal::load_pack_archive(*z, "fuzz.tar.zst");
      if (pack.ok()) exercise(*pack);
      break;
    }
    case 2:
      exercise(files_from(in));
      break;
    default:
      check_manifest(in);
      check_proof(in);
      break;
  }
  return 0;
}
