// The ProofPack `ritma-pack@1`: a range of the synthetic store (seal_test_store.h) exported by
// the library and by `ritma export-proof`, as a directory and as a .tar.zst, verifies offline
// with `ritma verify BUNDLE --key FP` (exit 0; 3 without --key), and every kind of tampering in
// the corpus below is refused (exit 1) with the file concerned named on stdout.
#include "seal/proofpack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/signed_note.h"
#include "core/zstd_codec.h"
#include "seal/seal_test_store.h"

namespace ritma::seal {
namespace {

using namespace sealtest;  // NOLINT(google-build-using-namespace)

// The store's hours: 12 (log indexes 0..8, closed), 13 (9: two blocks, 10, 11; closed), 14
// (12, open).
constexpr int64_t kH13 = kStart + 90 * kSec;  // 2026-11-30T13:00:00Z
constexpr int64_t kH14 = kH13 + static_cast<int64_t>(kHourNs);
const std::string kHour12 = "windows/2026/11/30/12";
const std::string kHour13 = "windows/2026/11/30/13";
const std::string kStoreDir = kPackStoreDir;  // "store/"

// How many of the synthetic events have a wall time in [from, to).
uint64_t events_between(int64_t from, int64_t to) {
  const auto& w = base().walls;
  return static_cast<uint64_t>(
      std::count_if(w.begin(), w.end(), [&](int64_t t) { return t >= from && t < to; }));
}

ExportOutcome export_range(const Store& s, const fs::path& out, int64_t from, int64_t to) {
  ExportOptions o;
  o.from_ns = from;
  o.to_ns = to;
  o.out = out;
  o.signing_key = node_key();
  o.event_json = [](const capture::Event& e, uint64_t log_index, uint64_t leaf) {
    return "{\"seq\": " + std::to_string(e.seq) + ", \"log_index\": " + std::to_string(log_index) +
           ", \"leaf_index\": " + std::to_string(leaf) + "}";
  };
  return export_pack(s.out(), o);
}

// The range of the round trips' pack: the big window (two blocks) and the next one with their
// blocks, the hour's third window as context, hour 13's root and chain link (whose previous is
// hour 12's closing checkpoint, of size 9).
constexpr int64_t kFrom = kH13;
constexpr int64_t kTo = kH13 + 20 * kSec;
// The tamper corpus's pack, small to check: the window after the big one with its blocks, the
// big one and the hour's third as context (micro records only), hour 13's root and chain link.
constexpr int64_t kSmallFrom = kH13 + 10 * kSec;
constexpr int64_t kSmallTo = kH13 + 20 * kSec;

enum class Kind { kDir, kArchive, kSmallDir };

struct Exported {
  test::TempDir dir;
  fs::path path;
  ExportOutcome outcome;
};

const Exported& exported(Kind kind) {
  auto make = [kind] {
    auto* e = new Exported;
    e->path = e->dir.path() / (kind == Kind::kArchive ? "clean.tar.zst" : "clean");
    Store s;
    e->outcome = kind == Kind::kSmallDir ? export_range(s, e->path, kSmallFrom, kSmallTo)
                                         : export_range(s, e->path, kFrom, kTo);
    return e;
  };
  static std::unique_ptr<Exported> made[3];
  auto& slot = made[static_cast<size_t>(kind)];
  if (!slot) slot.reset(make());
  return *slot;
}

// A copy of the clean pack directory to tamper with, in a directory where no store exists.
struct Pack {
  test::TempDir dir;
  fs::path path = dir.path() / "pack";

  explicit Pack(Kind kind = Kind::kSmallDir) {
    const Exported& e = exported(kind);
    EXPECT_EQ(e.outcome.failure, ExportOutcome::Failure::kNone) << e.outcome.message;
    fs::copy(e.path, path, fs::copy_options::recursive);
  }

  Bytes read(const std::string& rel) const { return test::read_file_bytes(path / rel); }
  void write(const std::string& rel, ByteSpan b) const { test::write_file_bytes(path / rel, b); }
  void remove(const std::string& rel) const { ASSERT_TRUE(fs::remove(path / rel)) << rel; }
  Manifest manifest() const { return decode_manifest(read(kManifestFile)).value(); }
  PackProof proof() const { return decode_pack_proof(read(kPackProofFile)).value(); }
  void write_proof(const PackProof& p) const { write(kPackProofFile, encode(p)); }
  MicroRecord micro(uint64_t log_index) const {
    for (const auto& w : proof().windows) {
      if (w.log_index == log_index) return decode_micro(read(kStoreDir + w.micro_file)).value();
    }
    ADD_FAILURE() << "the pack has no window " << log_index;
    return {};
  }
  std::string block(const MicroRecord& m, size_t k) const {
    return kStoreDir + block_dir(m) + "/" + m.blocks[k].file;
  }
  std::vector<Bytes> atoms(const std::string& block_file) const {
    const Bytes raw = zstd_decompress(read(block_file), kBlockMaxRawBytes).value();
    std::vector<ScannedAtom> scanned;
    EXPECT_FALSE(scan_atoms(raw, scanned).has_value());
    std::vector<Bytes> v;
    for (const auto& a : scanned) {
      const ByteSpan b = a.bytes(raw);
      v.emplace_back(b.begin(), b.end());
    }
    return v;
  }
  void write_atoms(const std::string& block_file, const std::vector<Bytes>& atoms) const {
    Bytes raw;
    for (const Bytes& a : atoms) append(raw, a);
    write(block_file, zstd_compress(raw).value());
  }
  // The pack's files (relative paths), sorted.
  std::vector<std::string> files() const {
    std::vector<std::string> v;
    for (const auto& e : fs::recursive_directory_iterator(path)) {
      if (e.is_regular_file()) v.push_back(fs::relative(e.path(), path).generic_string());
    }
    std::sort(v.begin(), v.end());
    return v;
  }
  // What an editor of the pack does next: the manifest lists the files now in the pack with
  // their sizes and BLAKE3 (after `edit`, if given) and is signed by `signer` or, without one,
  // keeps its old (no longer valid) signature.
  void relist(const SigningKey* signer = nullptr,
              const std::function<void(Manifest&)>& edit = {}) const {
    Manifest m = manifest();
    m.files.clear();
    for (const std::string& rel : files()) {
      if (rel == kManifestFile || rel == kManifestSigFile) continue;
      const Bytes b = read(rel);
      m.files.push_back(ManifestEntry{rel, b.size(), blake3(b)});
    }
    if (edit) edit(m);
    const Bytes bytes = encode(m);
    write(kManifestFile, bytes);
    if (signer != nullptr)
      write(kManifestSigFile, encode(make_signature(kKeyName, *signer, bytes)));
  }
};

test::RunResult verify_cli(const fs::path& bundle, const std::string& key = fingerprint(),
                           bool json = false) {
  std::vector<std::string> argv = {RITMA_BIN, "verify", bundle.string()};
  if (!key.empty()) {
    argv.emplace_back("--key");
    argv.push_back(key);
  }
  if (json) argv.emplace_back("--json");
  return test::run_program(argv);
}

// Exit 1, and a "problem:" line of stdout names each of `names`.
::testing::AssertionResult rejected_naming(const test::RunResult& r,
                                           const std::vector<std::string>& names) {
  if (r.exit_code != 1)
    return ::testing::AssertionFailure() << "exit " << r.exit_code << ", expected 1\nstdout:\n"
                                         << r.out << "stderr:\n"
                                         << r.err;
  std::vector<std::string> problems;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(start, end - start);
    if (line.starts_with("problem: ")) problems.push_back(line);
    start = end + 1;
  }
  for (const std::string& n : names) {
    const bool named = std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
      return p.find(n) != std::string::npos;
    });
    if (!named)
      return ::testing::AssertionFailure() << "no problem line names " << n << "; stdout:\n"
                                           << r.out;
  }
  return ::testing::AssertionSuccess();
}

// With --json: a problem about `file` whose message contains `text`.
::testing::AssertionResult has_problem(const test::RunResult& r, const std::string& file,
                                       const std::string& text) {
  if (r.exit_code != 1)
    return ::testing::AssertionFailure() << "exit " << r.exit_code << "\n" << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& p : j["problems"]) {
    if (p["file"].get<std::string>() == file &&
        p["message"].get<std::string>().find(text) != std::string::npos)
      return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "no problem about " << file << " containing \"" << text << "\"; problems:\n"
         << j["problems"].dump(1);
}

// A .tar.zst of `files` under the entry names given (a minimal ustar writer, independent of the
// exporter's, so that it can write what the exporter never would).
Bytes tar_zst(const std::vector<std::pair<std::string, Bytes>>& entries) {
  Bytes tar;
  auto octal = [](uint8_t* field, size_t width, uint64_t v) {
    std::snprintf(reinterpret_cast<char*>(field), width, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(v));
  };
  for (const auto& [name, bytes] : entries) {
    uint8_t h[512] = {};
    EXPECT_LT(name.size(), 100u);
    std::memcpy(h, name.data(), name.size());
    octal(h + 100, 8, 0644);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, bytes.size());
    octal(h + 136, 12, 1'700'000'000);
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (const uint8_t c : h) sum += c;
    std::snprintf(reinterpret_cast<char*>(h + 148), 8, "%06o", sum);
    h[155] = ' ';
    tar.insert(tar.end(), h, h + 512);
    append(tar, bytes);
    tar.resize((tar.size() + 511) / 512 * 512, 0);
  }
  tar.resize(tar.size() + 1024, 0);
  return zstd_compress(tar).value();
}

class PackRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(base().error.empty()) << base().error; }
};
using PackTamper = PackRoundTrip;

// ---- round trips

TEST_F(PackRoundTrip, ALibraryExportOfPartOfAnHourVerifiesOfflineWithThePinnedKey) {
  const ExportOutcome& o = exported(Kind::kDir).outcome;
  ASSERT_EQ(o.failure, ExportOutcome::Failure::kNone) << o.message;
  EXPECT_EQ(o.windows, 2u);          // log indexes 9 (two blocks) and 10
  EXPECT_EQ(o.context_windows, 1u);  // 11, for hour 13's root
  EXPECT_EQ(o.hours, 1u);
  EXPECT_EQ(o.events, kBigWindowEvents + 25);
  EXPECT_EQ(o.events_in_range, events_between(kFrom, kTo));

  // Moved where no store exists.
  Pack p(Kind::kDir);
  const MicroRecord big = p.micro(9);
  ASSERT_EQ(big.blocks.size(), 2u);
  for (const std::string& f :
       {std::string(kManifestFile), std::string(kManifestSigFile), std::string(kPackProofFile),
        std::string(kPackReadmeFile), kStoreDir + kStoreFile, kStoreDir + kStoreSigFile,
        kStoreDir + kKeysFile, kStoreDir + kHour13 + "/proofs/hour_root.cbor",
        kStoreDir + kHour13 + "/proofs/hour_root.sig", kStoreDir + kHour13 + "/proofs/chain.cbor",
        kStoreDir + kHour13 + "/proofs/chain.sig", p.block(big, 0), p.block(big, 1),
        kStoreDir + micro_path(p.micro(11)), kStoreDir + micro_sig_path(p.micro(11)),
        std::string("events/events.jsonl"), std::string("events/windows.json")})
    EXPECT_TRUE(fs::exists(p.path / f)) << f;
  // The context window's blocks are not in the pack, nor is anything of hour 12's windows.
  const MicroRecord ctx = p.micro(11);
  EXPECT_FALSE(fs::exists(p.path / (kStoreDir + block_dir(ctx) + "/" + ctx.blocks[0].file)));
  EXPECT_FALSE(fs::exists(p.path / (kStoreDir + kHour12)));
  // The first hour's chain link points to hour 12's closing checkpoint, which the pack holds.
  const ChainRecord chain =
      decode_chain(p.read(kStoreDir + kHour13 + "/proofs/chain.cbor")).value();
  ASSERT_TRUE(chain.previous.has_value());
  EXPECT_EQ(chain.previous->second.tree_size, 9u);
  const PackProof proof = p.proof();
  ASSERT_EQ(proof.checkpoints.size(), 4u);  // sizes 9 (previous), 11 (range), 12 (hour), 13
  EXPECT_EQ(proof.consistency.size(), 3u);

  auto r = verify_cli(p.path, fingerprint(), true);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_TRUE(j["pinned"].get<bool>());
  EXPECT_EQ(j["events_in_range"].get<uint64_t>(), events_between(kFrom, kTo));
  EXPECT_EQ(j["events"].get<uint64_t>(), kBigWindowEvents + 25);
  EXPECT_EQ(j["windows"].get<uint64_t>(), 2u);
  EXPECT_EQ(j["hours_closed"].get<uint64_t>(), 1u);
  EXPECT_EQ(j["first_log_index"].get<uint64_t>(), 9u);
  EXPECT_EQ(j["last_log_index"].get<uint64_t>(), 10u);
  EXPECT_EQ(j["newest_checkpoint"]["size"].get<uint64_t>(), base().windows);
  EXPECT_TRUE(j["checkpoints_consistent"].get<bool>());
  EXPECT_TRUE(j["problems"].empty());

  // The directory named with a trailing slash is the same pack.
  r = verify_cli(fs::path(p.path.string() + "/"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Not pinned: consistent, exit 3, and the text says so.
  r = verify_cli(p.path, "");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT pinned"), std::string::npos) << r.out;
  // Another key: exit 1.
  r = verify_cli(p.path, key_fingerprint(SigningKey::generate().public_key()));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;

  // The library agrees.
  auto loaded = load_pack(p.path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto rep = verify_pack(*loaded, fingerprint());
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_TRUE(rep->ok());
  EXPECT_EQ(rep->events_in_range, events_between(kFrom, kTo));
  EXPECT_EQ(rep->newest_size, base().windows);
}

TEST_F(PackRoundTrip, AnArchiveExportVerifiesLikeTheDirectory) {
  const Exported& a = exported(Kind::kArchive);
  ASSERT_EQ(a.outcome.failure, ExportOutcome::Failure::kNone) << a.outcome.message;
  test::TempDir elsewhere;
  const fs::path moved = elsewhere.path() / "evidence.tar.zst";
  fs::copy_file(a.path, moved);
  auto r = verify_cli(moved, fingerprint(), true);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["archive"].get<bool>());
  EXPECT_TRUE(j["pinned"].get<bool>());
  EXPECT_EQ(j["events_in_range"].get<uint64_t>(), events_between(kFrom, kTo));
  r = verify_cli(moved, "");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT pinned"), std::string::npos) << r.out;
  // The same files as the directory.
  auto from_archive = load_pack(moved);
  auto from_dir = load_pack(exported(Kind::kDir).path);
  ASSERT_TRUE(from_archive.ok() && from_dir.ok());
  auto listed = [](const PackFiles& p) {
    std::vector<std::string> v;
    const Manifest m = decode_manifest(p.files.at(kManifestFile)).value();
    for (const auto& e : m.files) v.push_back(e.path);
    return v;
  };
  EXPECT_EQ(listed(*from_archive), listed(*from_dir));
  std::vector<std::string> names_a, names_d;
  for (const auto& [k, v] : from_archive->files) names_a.push_back(k);
  for (const auto& [k, v] : from_dir->files) names_d.push_back(k);
  EXPECT_EQ(names_a, names_d);
}

TEST_F(PackRoundTrip, TheCommandExportsADirectoryAndAnArchiveThatVerifyAwayFromTheStore) {
  KeyedStore s;
  test::TempDir out;
  struct Case {
    std::string out_name, from_text, to_text;
    int64_t from, to;
    uint64_t first, last, context;
    std::vector<std::string> hours;
  };
  const std::vector<Case> cases = {
      // The last two windows of hour 12 (the store's first hour: its chain link has no
      // previous) and the big window of hour 13: both hours complete, both hour roots.
      {"dir-pack",
       "2026-11-30T12:59:40Z",
       "2026-11-30T13:00:10Z",
       kH13 - 20 * kSec,
       kH13 + 10 * kSec,
       7,
       9,
       7 + 2,
       {kHour12, kHour13}},
      // Hour 12 only, with its empty window (log index 4) in the range.
      {"pack.tar.zst",
       "2026-11-30T12:59:00Z",
       "2026-11-30T12:59:20Z",
       kH13 - 60 * kSec,
       kH13 - 40 * kSec,
       3,
       4,
       7,
       {kHour12}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.out_name);
    const fs::path dest = out.path() / c.out_name;
    auto r = test::run_program({RITMA_BIN, "export-proof", "--base-dir", s.base_dir(), "--from",
                                c.from_text, "--to", c.to_text, "--out", dest.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["windows"].get<uint64_t>(), c.last - c.first + 1);
    EXPECT_EQ(j["context_windows"].get<uint64_t>(), c.context);
    EXPECT_EQ(j["hours"].get<uint64_t>(), c.hours.size());
    EXPECT_EQ(j["events_in_range"].get<uint64_t>(), events_between(c.from, c.to));
    // Moved away from the store.
    test::TempDir elsewhere;
    const fs::path moved = elsewhere.path() / c.out_name;
    fs::rename(dest, moved);
    auto v = verify_cli(moved, fingerprint(), true);
    ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
    const auto vj = nlohmann::json::parse(v.out);
    EXPECT_TRUE(vj["pinned"].get<bool>());
    EXPECT_EQ(vj["archive"].get<bool>(), c.out_name.ends_with(".tar.zst"));
    EXPECT_EQ(vj["events_in_range"].get<uint64_t>(), events_between(c.from, c.to));
    EXPECT_EQ(vj["hours_closed"].get<uint64_t>(), c.hours.size());
    EXPECT_EQ(vj["first_log_index"].get<uint64_t>(), c.first);
    EXPECT_EQ(vj["last_log_index"].get<uint64_t>(), c.last);
    auto pack = load_pack(moved);
    ASSERT_TRUE(pack.ok()) << pack.error().message;
    for (const std::string& h : c.hours) {
      for (const char* f : {"hour_root.cbor", "hour_root.sig", "chain.cbor", "chain.sig"})
        EXPECT_EQ(pack->files.count(kStoreDir + h + "/proofs/" + f), 1u) << h << f;
    }
    const Manifest m = decode_manifest(pack->files.at(kManifestFile)).value();
    auto jsonl = std::find_if(m.files.begin(), m.files.end(), [](const ManifestEntry& e) {
      return e.path == "events/events.jsonl";
    });
    ASSERT_NE(jsonl, m.files.end());
    EXPECT_GT(jsonl->size, 0u);
    v = verify_cli(moved, "");
    EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
    EXPECT_NE(v.out.find("NOT pinned"), std::string::npos) << v.out;
  }
}

TEST_F(PackRoundTrip, ARangeInTheOpenHourHasNoHourRootAndVerifies) {
  Store s;
  test::TempDir out;
  const ExportOutcome o = export_range(s, out.path() / "p", kH14, kH14 + 10 * kSec);
  ASSERT_EQ(o.failure, ExportOutcome::Failure::kNone) << o.message;
  EXPECT_EQ(o.windows, 1u);
  EXPECT_EQ(o.hours, 0u);
  EXPECT_EQ(o.context_windows, 0u);
  EXPECT_FALSE(fs::exists(out.path() / "p/store/windows/2026/11/30/14/proofs"));
  auto r = verify_cli(out.path() / "p", fingerprint(), true);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["events_in_range"].get<uint64_t>(), 20u);
}

TEST_F(PackRoundTrip, AtExportsTheWindowHoldingAnInstant) {
  KeyedStore s;
  test::TempDir out;
  // 13:00:11 exactly: the first event of log index 10.
  const int64_t at = kH13 + 11 * kSec;
  const fs::path dest = out.path() / "at.tar.zst";
  auto r = test::run_program({RITMA_BIN, "export-proof", "--base-dir", s.base_dir(), "--at",
                              std::to_string(at), "--out", dest.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["windows"].get<uint64_t>(), 1u);
  auto v = verify_cli(dest, fingerprint(), true);
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  const auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["first_log_index"].get<uint64_t>(), 10u);
  EXPECT_EQ(j["last_log_index"].get<uint64_t>(), 10u);
  EXPECT_EQ(j["events"].get<uint64_t>(), 25u);
  EXPECT_EQ(j["events_in_range"].get<uint64_t>(), events_between(at, at + 1));
  EXPECT_EQ(events_between(at, at + 1), 1u);
}

TEST_F(PackRoundTrip, AtATimeWithNoWindowNamesTheNearestWindowsAndHowToExportThem) {
  KeyedStore s;
  test::TempDir out;
  const fs::path dest = out.path() / "none.tar.zst";
  auto r = test::run_program({RITMA_BIN, "export-proof", "--base-dir", s.base_dir(), "--at",
                              "2026-11-30T13:45:00Z", "--out", dest.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_FALSE(fs::exists(dest));
  const std::string text = r.out + r.err;
  EXPECT_NE(text.find("no sealed window"), std::string::npos) << text;
  // 13:00:20 (the last of hour 13) and 14:00:00 are among the nearest; each with a command
  // line that exports it.
  for (const char* cmd :
       {"ritma export-proof --base-dir ", " --from 2026-11-30T13:00:20Z --to 2026-11-30T13:00:30Z",
        " --from 2026-11-30T14:00:00Z --to 2026-11-30T14:00:10Z"})
    EXPECT_NE(text.find(cmd), std::string::npos) << cmd << "\n" << text;
  EXPECT_NE(text.find(kHour13 + "/micro/w002"), std::string::npos) << text;
  // The library says the same.
  ExportOptions o;
  o.at_ns = kH13 + 2700 * kSec;
  o.out = out.path() / "none";
  o.signing_key = node_key();
  const ExportOutcome lib = export_pack(s.out(), o);
  EXPECT_EQ(lib.failure, ExportOutcome::Failure::kNoWindow);
  ASSERT_FALSE(lib.nearest.empty());
  EXPECT_EQ(lib.nearest.front().log_index, 10u);
  EXPECT_EQ(lib.nearest.back().log_index, 12u);
}

// ---- the bundle tamper corpus

TEST_F(PackTamper, TheCorpusStartsFromAPackThatVerifies) {
  Pack p;
  const ExportOutcome& o = exported(Kind::kSmallDir).outcome;
  EXPECT_EQ(o.windows, 1u);          // log index 10
  EXPECT_EQ(o.context_windows, 2u);  // 9 and 11
  EXPECT_EQ(o.hours, 1u);
  auto r = verify_cli(p.path, fingerprint(), true);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["events"].get<uint64_t>(), 25u);
  EXPECT_EQ(j["events_in_range"].get<uint64_t>(), events_between(kSmallFrom, kSmallTo));
  EXPECT_EQ(j["hours_closed"].get<uint64_t>(), 1u);
  // Listed again and signed by the node key, nothing changes: relist() alone breaks nothing.
  p.relist(&base().key);
  r = verify_cli(p.path);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(PackTamper, AnEventEditedInTheBigWindowsSecondBlockAndRecompressed) {
  Pack p(Kind::kDir);
  const MicroRecord m = p.micro(9);
  const std::string block = p.block(m, 1);
  auto atoms = p.atoms(block);
  ASSERT_GT(atoms.size(), 8u);
  auto e = capture::decode_event_atom(atoms[7]).value();
  e.pid += 1;  // a valid atom: only the hashes can tell
  atoms[7].clear();
  capture::encode_event_atom(e, m.run.boot_id, atoms[7]);
  p.write_atoms(block, atoms);
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {block}));
  // Listed again in the manifest (whose signature then fails): the evidence names it too.
  p.relist();
  const auto r = verify_cli(p.path, fingerprint(), true);
  EXPECT_TRUE(has_problem(r, block, "BLAKE3 differs from the micro record"));
  EXPECT_TRUE(has_problem(r, kStoreDir + micro_path(m), "micro root differs"));
  EXPECT_TRUE(has_problem(r, kManifestSigFile, "does not verify"));
}

TEST_F(PackTamper, AWindowWhoseFilesWereRemoved) {
  Pack p;
  const MicroRecord m = p.micro(10);
  const std::string micro = kStoreDir + micro_path(m);
  p.remove(micro);
  p.remove(kStoreDir + micro_sig_path(m));
  p.remove(p.block(m, 0));
  const auto r = verify_cli(p.path);
  EXPECT_TRUE(rejected_naming(r, {micro, p.block(m, 0), kStoreDir + micro_sig_path(m)}));
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), micro, "missing micro record"));
}

TEST_F(PackTamper, AWindowRemovedFromProofCborAndTheManifestToo) {
  Pack p;
  const MicroRecord m = p.micro(10);
  p.remove(kStoreDir + micro_path(m));
  p.remove(kStoreDir + micro_sig_path(m));
  p.remove(p.block(m, 0));
  PackProof proof = p.proof();
  ASSERT_EQ(proof.windows.size(), 3u);
  proof.windows.erase(proof.windows.begin() + 1);
  p.write_proof(proof);
  p.relist();
  const auto r = verify_cli(p.path);
  EXPECT_TRUE(rejected_naming(r, {kPackProofFile, kManifestSigFile}));
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), kPackProofFile,
                          "has log index 11, expected 10"));
}

TEST_F(PackTamper, TheRangesLastWindowsAndTheirHourDroppedFromTheEnd) {
  // The pack cut down to the big window: no window of it is missing from proof.cbor any more,
  // but the checkpoint signed after the range's last window is not there.
  Pack p(Kind::kDir);
  PackProof proof = p.proof();
  for (const uint64_t i : {10u, 11u}) {
    const MicroRecord m = p.micro(i);
    p.remove(kStoreDir + micro_path(m));
    p.remove(kStoreDir + micro_sig_path(m));
    if (i == 10) p.remove(p.block(m, 0));
  }
  for (const char* f : {"hour_root.cbor", "hour_root.sig", "chain.cbor", "chain.sig"})
    p.remove(kStoreDir + kHour13 + "/proofs/" + f);
  proof.windows.resize(1);
  p.write_proof(proof);
  p.relist();
  const auto r = verify_cli(p.path);
  EXPECT_TRUE(rejected_naming(r, {kPackProofFile, kManifestSigFile}));
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), kPackProofFile,
                          "holds no checkpoint of size 10"));
}

TEST_F(PackTamper, AFileListedInTheManifestIsMissing) {
  Pack p;
  const std::string sig = kStoreDir + micro_sig_path(p.micro(11));  // a context window's
  p.remove(sig);
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {sig}));
  p.remove(kPackReadmeFile);
  p.remove("events/events.jsonl");
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {sig, kPackReadmeFile, "events/events.jsonl"}));
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), kPackReadmeFile,
                          "listed in the manifest but not in the pack"));
}

TEST_F(PackTamper, AnUnlistedFileAdded) {
  Pack p;
  const MicroRecord m = p.micro(10);
  const std::string extra = kStoreDir + block_dir(m) + "/" + block_file_name("w001", 7);
  p.write(extra, as_bytes(std::string_view("smuggled")));
  p.write("notes.txt", as_bytes(std::string_view("trust me")));
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {extra, "notes.txt"}));
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), "notes.txt",
                          "not listed in the manifest"));
  // Listed (the signature then fails): the store file is still named by no window.
  p.relist();
  const auto r = verify_cli(p.path, fingerprint(), true);
  EXPECT_TRUE(has_problem(r, extra, "not named by any window of the pack"));
  EXPECT_TRUE(has_problem(r, kManifestSigFile, "does not verify"));
}

TEST_F(PackTamper, AnEditedManifestRangeOrDigest) {
  {
    Pack p;  // a longer range than was exported
    Manifest m = p.manifest();
    m.to_ns += static_cast<int64_t>(kHourNs);
    p.write(kManifestFile, encode(m));
    EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kManifestSigFile}));
  }
  {
    Pack p;  // a digest that is not the file's
    Manifest m = p.manifest();
    bool edited = false;
    for (auto& f : m.files) {
      if (f.path == kPackProofFile) {
        f.b3[0] ^= 1;
        edited = true;
      }
    }
    ASSERT_TRUE(edited);
    p.write(kManifestFile, encode(m));
    const auto r = verify_cli(p.path);
    EXPECT_TRUE(rejected_naming(r, {kPackProofFile, kManifestSigFile}));
    EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), kPackProofFile,
                            "BLAKE3 differs from the manifest's"));
  }
  {
    Pack p;  // a size that is not the file's
    Manifest m = p.manifest();
    m.files.front().size += 1;
    const std::string file = m.files.front().path;
    p.write(kManifestFile, encode(m));
    EXPECT_TRUE(rejected_naming(verify_cli(p.path), {file, kManifestSigFile}));
  }
  {
    Pack p;  // not CBOR any more
    p.write(kManifestFile, as_bytes(std::string_view("{\"files\": []}")));
    EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kManifestFile}));
  }
}

TEST_F(PackTamper, ACheckpointSwappedForAnotherOfTheStore) {
  Store s;
  const auto cps = s.log_frames(kCheckpointLogFile);
  ASSERT_EQ(cps.size(), base().windows);
  auto text = [&](uint64_t size) {
    return std::string(reinterpret_cast<const char*>(cps[size - 1].data()), cps[size - 1].size());
  };
  {
    Pack p;  // the range's closing checkpoint (size 11) replaced by the real one of size 10
    PackProof proof = p.proof();
    ASSERT_EQ(proof.checkpoints[1], text(11));
    proof.checkpoints[1] = text(10);
    p.write_proof(proof);
    EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kPackProofFile}));
    p.relist();
    const auto r = verify_cli(p.path, fingerprint(), true);
    EXPECT_TRUE(has_problem(r, kPackProofFile, "consistency proof 0"));
    EXPECT_TRUE(has_problem(r, kPackProofFile, "holds no checkpoint of size 11"));
  }
  {
    Pack p;  // the newest replaced by an older one
    PackProof proof = p.proof();
    proof.checkpoints.back() = text(12);
    p.write_proof(proof);
    p.relist();
    const auto r = verify_cli(p.path);
    EXPECT_TRUE(rejected_naming(r, {kPackProofFile}));
    EXPECT_TRUE(
        has_problem(verify_cli(p.path, fingerprint(), true), kPackProofFile, "does not grow"));
  }
}

TEST_F(PackTamper, AConsistencyProofCutShort) {
  Pack p;
  PackProof proof = p.proof();
  size_t k = 0;
  while (k < proof.consistency.size() && proof.consistency[k].empty()) ++k;
  ASSERT_LT(k, proof.consistency.size());
  proof.consistency[k].pop_back();
  p.write_proof(proof);
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kPackProofFile}));
  p.relist();
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), kPackProofFile,
                          "consistency proof " + std::to_string(k)));
}

TEST_F(PackTamper, AnInclusionPathWithAHashChanged) {
  Pack p;
  PackProof proof = p.proof();
  ASSERT_FALSE(proof.windows[0].log_path.empty());
  proof.windows[0].log_path[0][3] ^= 0x40;
  p.write_proof(proof);
  p.relist();
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kPackProofFile}));
  EXPECT_TRUE(has_problem(verify_cli(p.path, fingerprint(), true), kPackProofFile,
                          "inclusion path does not lead to the newest checkpoint"));
}

TEST_F(PackTamper, EverythingReSignedWithAnAttackersKey) {
  Pack p;
  const SigningKey attacker = SigningKey::generate();
  const NamedSigningKey attacker_named{kKeyName, SigningKey::from_seed(attacker.seed()).value()};
  // keys.cbor holds only the attacker's key (under the node key's name and dates).
  KeysRecord keys = decode_keys(p.read(kStoreDir + kKeysFile)).value();
  ASSERT_EQ(keys.keys.size(), 1u);
  keys.keys[0].public_key = attacker.public_key();
  p.write(kStoreDir + kKeysFile, encode(keys));
  // Every detached signature of the store, and every checkpoint.
  auto resign = [&](const std::string& file, const std::string& sig) {
    p.write(sig, encode(make_signature(kKeyName, attacker, p.read(file))));
  };
  resign(kStoreDir + kStoreFile, kStoreDir + kStoreSigFile);
  uint64_t micro_sigs = 0;
  for (const auto& w : p.proof().windows) {
    const MicroRecord m = p.micro(w.log_index);
    resign(kStoreDir + micro_path(m), kStoreDir + micro_sig_path(m));
    ++micro_sigs;
  }
  EXPECT_EQ(micro_sigs, 3u);
  for (const char* f : {"hour_root", "chain"})
    resign(kStoreDir + kHour13 + "/proofs/" + f + ".cbor",
           kStoreDir + kHour13 + "/proofs/" + f + ".sig");
  PackProof proof = p.proof();
  for (std::string& cp : proof.checkpoints) {
    const size_t split = cp.rfind("\n\n");
    ASSERT_NE(split, std::string::npos);
    cp = note::sign(std::string_view(cp).substr(0, split + 1), {&attacker_named}).value();
  }
  p.write_proof(proof);
  p.relist(&attacker);

  // Internally consistent: without a pinned key that is all that can be said (exit 3).
  auto r = verify_cli(p.path, "");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT pinned"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(key_fingerprint(attacker.public_key())), std::string::npos) << r.out;
  // With the node's real key: refused, naming the keys.
  r = verify_cli(p.path);
  EXPECT_TRUE(rejected_naming(r, {kStoreDir + kKeysFile}));
  r = verify_cli(p.path, fingerprint(), true);
  EXPECT_FALSE(nlohmann::json::parse(r.out)["pinned"].get<bool>());
  EXPECT_TRUE(has_problem(r, kStoreDir + kKeysFile, "none of the store's keys"));
}

TEST_F(PackTamper, AMicroRecordsSealedTimeShifted) {
  Pack p;
  const MicroRecord m = p.micro(10);
  MicroRecord forged = m;
  forged.sealed_ns += static_cast<int64_t>(kHourNs);
  const std::string micro = kStoreDir + micro_path(m);
  p.write(micro, encode(forged));
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {micro}));
  p.relist();
  const auto r = verify_cli(p.path, fingerprint(), true);
  EXPECT_TRUE(has_problem(r, kStoreDir + micro_sig_path(m), "does not verify"));
  EXPECT_TRUE(has_problem(r, kPackProofFile, "inclusion path"));
}

TEST_F(PackTamper, AnEventsWallTimeShifted) {
  Pack p;
  const MicroRecord m = p.micro(10);
  const std::string block = p.block(m, 0);
  auto atoms = p.atoms(block);
  auto e = capture::decode_event_atom(atoms[3]).value();
  e.wall_ns -= 10 * kSec;  // into the previous window's time
  atoms[3].clear();
  capture::encode_event_atom(e, m.run.boot_id, atoms[3]);
  p.write_atoms(block, atoms);
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {block}));
  p.relist();
  const auto r = verify_cli(p.path, fingerprint(), true);
  EXPECT_TRUE(has_problem(r, block, "BLAKE3 differs from the micro record"));
  EXPECT_TRUE(has_problem(r, kStoreDir + micro_path(m), "wall time range"));
  EXPECT_TRUE(has_problem(r, kStoreDir + micro_path(m), "micro root differs"));
}

TEST_F(PackTamper, AContextWindowsEventCountEdited) {
  // A window the pack holds only for hour 13's root: its record must still be the signed one.
  Pack p;
  const MicroRecord m = p.micro(11);
  MicroRecord forged = m;
  forged.event_count += 1;
  const std::string micro = kStoreDir + micro_path(m);
  p.write(micro, encode(forged));
  p.relist();
  const auto r = verify_cli(p.path, fingerprint(), true);
  EXPECT_TRUE(has_problem(r, kStoreDir + micro_sig_path(m), "does not verify"));
  EXPECT_TRUE(has_problem(r, kStoreDir + kHour13 + "/proofs/hour_root.cbor", "event_count"));
  EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kStoreDir + micro_sig_path(m)}));
}

TEST_F(PackTamper, AnArchiveCutInHalf) {
  test::TempDir d;
  const fs::path cut = d.path() / "cut.tar.zst";
  Bytes bytes = test::read_file_bytes(exported(Kind::kArchive).path);
  bytes.resize(bytes.size() / 2);
  test::write_file_bytes(cut, bytes);
  const auto r = verify_cli(cut);
  EXPECT_TRUE(rejected_naming(r, {cut.string()}));
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  // JSON too.
  const auto j = verify_cli(cut, fingerprint(), true);
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(j.out)["problems"][0]["file"].get<std::string>(), cut.string());
}

TEST_F(PackTamper, AnArchiveEntryThatEscapesItsTopDirectory) {
  Pack p;
  std::vector<std::pair<std::string, Bytes>> entries;
  for (const std::string& rel : p.files()) entries.emplace_back("top/" + rel, p.read(rel));
  test::TempDir d;
  // The writer is sound: the same files verify.
  const fs::path good = d.path() / "good.tar.zst";
  test::write_file_bytes(good, tar_zst(entries));
  auto r = verify_cli(good);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* name : {"top/../x", "top/store/../../x", "../x", "top/./README.txt"}) {
    SCOPED_TRACE(name);
    auto bad = entries;
    bad.emplace_back(name, Bytes{'e', 's', 'c'});
    const fs::path path = d.path() / "bad.tar.zst";
    test::write_file_bytes(path, tar_zst(bad));
    r = verify_cli(path);
    EXPECT_TRUE(rejected_naming(r, {path.string()}));
    EXPECT_FALSE(fs::exists(d.path() / "x"));
  }
  // An absolute path, and a second top directory.
  for (const char* name : {"/etc/x", "other/README.txt"}) {
    SCOPED_TRACE(name);
    auto bad = entries;
    bad.emplace_back(name, Bytes{'e', 'l', 's'});
    const fs::path path = d.path() / "bad2.tar.zst";
    test::write_file_bytes(path, tar_zst(bad));
    EXPECT_TRUE(rejected_naming(verify_cli(path), {path.string()}));
  }
}

TEST_F(PackTamper, ASymlinkInsideAPackDirectory) {
  {
    Pack p;  // a file replaced by a link to a copy of itself outside the pack
    const fs::path outside = p.dir.path() / "readme-copy";
    fs::copy_file(p.path / kPackReadmeFile, outside);
    p.remove(kPackReadmeFile);
    fs::create_symlink(outside, p.path / kPackReadmeFile);
    EXPECT_TRUE(rejected_naming(verify_cli(p.path), {kPackReadmeFile}));
  }
  {
    Pack p;  // an extra link inside store/
    const std::string link = kStoreDir + kHour13 + "/blocks/w009.b0.zst";
    fs::create_symlink("/etc/passwd", p.path / link);
    const auto r = verify_cli(p.path);
    EXPECT_TRUE(rejected_naming(r, {link}));
    EXPECT_NE(r.out.find("not a regular file"), std::string::npos) << r.out;
  }
}

TEST_F(PackTamper, APackOfAnotherStoresKeyOrNoPackAtAll) {
  Pack p;
  auto r = verify_cli(p.path, key_fingerprint(SigningKey::generate().public_key()));
  EXPECT_TRUE(rejected_naming(r, {kStoreDir + kKeysFile}));
  // Unreadable input is usage (2), not tampering.
  r = verify_cli(p.dir.path() / "nothing-here");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  r = verify_cli(p.path, "not-a-key");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace ritma::seal
