// Cases (FORMAT.md §13): the library (create, freeze, load_freezes, verify_case), the catalog's
// retention locks (written by a freeze and by the sealer's derived writer, checked by the store
// verifier), and `ritma case ...` end to end with the real binary.
#include "seal/cases.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "core/blake3_hasher.h"
#include "seal/derived.h"
#include "seal/retention.h"
#include "seal_test_store.h"

namespace ritma::seal {
namespace {

using namespace sealtest;

// 2026-11-30T13:00:00Z .. 13:00:30Z: three windows of hour 13.
constexpr int64_t kHour13 = 1'796'043'600 * kSec;
constexpr int64_t kFrom = kHour13;
constexpr int64_t kTo = kHour13 + 30 * kSec;

CaseActor who(int64_t t = kHour13 + 3600 * kSec) {
  return CaseActor{"uid 0 (test)", t};
}

std::string case_file(const Store& s, const std::string& id, const char* f) {
  return (s.out() / kCasesDir / id / f).string();
}

Catalog catalog_of(const Store& s, int64_t day) {
  auto c = read_catalog_file(s.out() / catalog_path(day));
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : Catalog{};
}

// A case with one freeze over [kFrom, kTo).
std::string frozen_case(const Store& s) {
  auto h = create_case(s.out(), node_key(), who(), "incident 42", "ssh brute force");
  EXPECT_TRUE(h.ok()) << h.error().message;
  if (!h.ok()) return "";
  auto f = freeze_case(s.out(), node_key(), who(), h->case_id, kFrom, kTo, "legal hold");
  EXPECT_TRUE(f.ok()) << f.error().message;
  return h->case_id;
}

bool contains(const std::vector<std::string>& v, const std::string& text) {
  for (const auto& s : v) {
    if (s.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "  " + x + "\n";
  return s;
}

TEST(Cases, IdValidation) {
  EXPECT_TRUE(check_case_id("CASE_20261130T130000Z_0a1b2c3d").ok());
  EXPECT_TRUE(check_case_id("a-b_C9").ok());
  EXPECT_FALSE(check_case_id("").ok());
  EXPECT_FALSE(check_case_id("../x").ok());
  EXPECT_FALSE(check_case_id("a b").ok());
  EXPECT_FALSE(check_case_id("a.b").ok());
  EXPECT_FALSE(check_case_id(std::string(65, 'a')).ok());
}

TEST(Cases, RecordsRoundTripAndRejectBadBytes) {
  CaseHeader h{"C1", "t", "d", 5, {}, "node", "uid 0"};
  EXPECT_EQ(encode(decode_case_header(encode(h)).value()), encode(h));
  CaseFreezes f{"C1", {Freeze{1, 2, "r", 3, "a", {{7, "windows/2026/11/30/13/micro/w000", {}}}}}};
  EXPECT_EQ(encode(decode_case_freezes(encode(f)).value()), encode(f));
  AccessRecord a{0, 1, "show", "a", "", {}};
  EXPECT_EQ(encode(decode_access_record(encode(a)).value()), encode(a));
  // from >= to, a bad id, a bad stem, truncation.
  CaseFreezes bad = f;
  bad.freezes[0].to_ns = 1;
  EXPECT_FALSE(decode_case_freezes(encode(bad)).ok());
  bad = f;
  bad.case_id = "a/b";
  EXPECT_FALSE(decode_case_freezes(encode(bad)).ok());
  bad = f;
  bad.freezes[0].windows[0].stem_path = "../etc/passwd";
  EXPECT_FALSE(decode_case_freezes(encode(bad)).ok());
  Bytes b = encode(h);
  b.pop_back();
  EXPECT_FALSE(decode_case_header(b).ok());
  EXPECT_FALSE(decode_access_frame(Bytes(10, 0)).ok());
}

TEST(Cases, TheFuzzSeedsDecode) {
  const fs::path dir = fs::path(RITMA_TEST_SCRIPTS_DIR) / "../../fuzz/corpus/case";
  EXPECT_TRUE(decode_case_header(test::read_file_bytes(dir / "header")).ok());
  EXPECT_TRUE(decode_case_freezes(test::read_file_bytes(dir / "freezes")).ok());
  EXPECT_TRUE(decode_case_freezes(test::read_file_bytes(dir / "freezes_empty")).ok());
  EXPECT_TRUE(decode_case_manifest(test::read_file_bytes(dir / "manifest")).ok());
  EXPECT_TRUE(decode_access_record(test::read_file_bytes(dir / "access_record")).ok());
  EXPECT_TRUE(decode_access_frame(test::read_file_bytes(dir / "access_frame")).ok());
}

TEST(Cases, FreezeLocksWindowsAndTheCatalog) {
  KeyedStore s;
  const std::string id = frozen_case(s);
  ASSERT_FALSE(id.empty());
  auto fr = load_freezes(s.out());
  ASSERT_TRUE(fr.ok()) << fr.error().message;
  ASSERT_EQ(fr->size(), 1u);
  const CaseFreeze& z = (*fr)[0];
  EXPECT_EQ(z.case_id, id);
  EXPECT_EQ(z.log_indexes.size(), z.stem_paths.size());
  EXPECT_FALSE(z.log_indexes.empty());

  size_t locked = 0;
  for (const MicroRecord& r : s.records()) {
    const bool want = window_overlaps(r, kFrom, kTo);
    EXPECT_EQ(frozen(*fr, r), want) << stem_path(r);
    if (want) ++locked;
  }
  EXPECT_EQ(locked, z.log_indexes.size());
  // A window sealed later inside the range: protected by the range, though not listed.
  WindowSpan later{999999, kFrom + 10 * kSec, 10 * kSec, 0, 0, 0};
  EXPECT_TRUE(frozen(*fr, later));
  later.slot_start_ns = kTo;
  EXPECT_FALSE(frozen(*fr, later));

  // The catalog marks exactly the frozen windows.
  const Catalog c = catalog_of(s, day_start(kFrom));
  size_t marked = 0;
  for (const CatalogWindow& w : c.windows) {
    const bool listed =
        std::find(z.log_indexes.begin(), z.log_indexes.end(), w.log_index) != z.log_indexes.end();
    EXPECT_EQ(w.retention_lock, listed) << w.stem_path;
    EXPECT_EQ(w.case_ids, listed ? std::vector<std::string>{id} : std::vector<std::string>{});
    if (w.retention_lock) ++marked;
    const auto span = catalog_window_span(w, kDefaultWindowNs);
    ASSERT_TRUE(span.has_value()) << w.stem_path;
  }
  EXPECT_EQ(marked, z.log_indexes.size());

  // The store verifier agrees with the catalog...
  const VerifyReport rep = verify(s);
  EXPECT_TRUE(rep.problems.empty()) << dump(rep);
  EXPECT_TRUE(verify_case(s.out(), id).empty()) << join(verify_case(s.out(), id));

  // ...and notices a lock removed by hand.
  Catalog edited = c;
  for (CatalogWindow& w : edited.windows) {
    w.retention_lock = false;
    w.case_ids.clear();
  }
  test::write_file_bytes(s.out() / catalog_path(day_start(kFrom)),
                         zstd_compress(encode(edited)).value());
  const VerifyReport rep2 = verify(s);
  bool found = false;
  for (const auto& p : rep2.problems)
    found = found || p.message.find("retention_lock/case_ids") != std::string::npos;
  EXPECT_TRUE(found) << dump(rep2);
}

TEST(Cases, TheSealersDerivedWriterKeepsTheLocks) {
  KeyedStore s;
  const std::vector<MicroRecord> recs = s.records();
  const MicroRecord last = recs.back();
  StoreRecord store = decode_store(test::read_file_bytes(s.out() / kStoreFile)).value();
  // A sensor that is running (its writer exists) when the case is frozen.
  DerivedWriter writer(s.out(), store.store_id, store.node_id);
  const std::string id = frozen_case(s);
  // A freeze of the newest day too, so that the sealer's day is the one with locks.
  auto f2 = freeze_case(s.out(), node_key(), who(), id, last.slot_start_ns, last.slot_start_ns + 1,
                        "newest window");
  ASSERT_TRUE(f2.ok()) << f2.error().message;
  // The sealer rewrites the day's catalog after a window (here: its replay of the last one).
  ASSERT_TRUE(writer.on_window(last, {}, {}).ok());
  const Catalog c = catalog_of(s, day_start(last.slot_start_ns));
  bool newest_locked = false, range_locked = false;
  for (const CatalogWindow& w : c.windows) {
    if (w.log_index == last.log_index) newest_locked = w.retention_lock;
    if (w.retention_lock && w.log_index != last.log_index) range_locked = true;
  }
  EXPECT_TRUE(newest_locked);
  EXPECT_TRUE(range_locked);
  const VerifyReport rep = verify(s);
  EXPECT_TRUE(rep.problems.empty()) << dump(rep);
}

TEST(Cases, AFreezeDoesNotHoldPrunedWindows) {
  KeyedStore s;
  std::vector<MicroRecord> in_range;
  for (const MicroRecord& r : s.records())
    if (window_overlaps(r, kFrom, kTo)) in_range.push_back(r);
  ASSERT_GE(in_range.size(), 2u);
  {  // retention prunes the first of them (only)
    RetentionOptions o;
    o.max_age_ns = 0;
    o.now_ns = kFrom + 4 * static_cast<int64_t>(kHourNs);
    auto plan = plan_retention(s.out(), o);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    std::erase_if(plan->prune, [&](const PlannedPrune& p) {
      return p.window.log_index != in_range[0].log_index;
    });
    ASSERT_EQ(plan->prune.size(), 1u);
    ASSERT_TRUE(apply_retention(s.out(), *plan, o, node_key()).ok());
  }
  auto h = create_case(s.out(), node_key(), who(), "t", "");
  ASSERT_TRUE(h.ok()) << h.error().message;
  auto f = freeze_case(s.out(), node_key(), who(), h->case_id, kFrom, kTo, "r");
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->freeze.windows.size(), in_range.size() - 1);
  EXPECT_NE(f->freeze.windows[0].log_index, in_range[0].log_index);
  EXPECT_TRUE(verify_case(s.out(), h->case_id).empty()) << join(verify_case(s.out(), h->case_id));
}

TEST(Cases, ASensorFacingABrokenCaseKeepsTheLocksItHas) {
  KeyedStore s;
  const std::string id = frozen_case(s);
  const MicroRecord last = s.records().back();
  const Catalog before = catalog_of(s, day_start(kFrom));
  test::write_file_bytes(case_file(s, id, kCaseHeaderFile), Bytes{0x80});
  StoreRecord store = decode_store(test::read_file_bytes(s.out() / kStoreFile)).value();
  DerivedWriter writer(s.out(), store.store_id, store.node_id);
  auto st = writer.on_window(last, {}, {});
  ASSERT_FALSE(st.ok());  // reported (health counters), but the catalog is still written
  EXPECT_NE(st.error().message.find("case_header.cbor"), std::string::npos) << st.error().message;
  const Catalog after = catalog_of(s, day_start(kFrom));
  ASSERT_EQ(after.windows.size(), before.windows.size());
  for (size_t i = 0; i < before.windows.size(); ++i)
    EXPECT_EQ(after.windows[i].retention_lock, before.windows[i].retention_lock);
}

TEST(Cases, FreezeRefusesBadInput) {
  KeyedStore s;
  auto h = create_case(s.out(), node_key(), who(), "t", "");
  ASSERT_TRUE(h.ok()) << h.error().message;
  // No sealed window in the range.
  auto none = freeze_case(s.out(), node_key(), who(), h->case_id, kSec, 2 * kSec, "r");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no sealed window"), std::string::npos);
  EXPECT_FALSE(freeze_case(s.out(), node_key(), who(), h->case_id, kTo, kFrom, "r").ok());
  EXPECT_FALSE(freeze_case(s.out(), node_key(), who(), "nope", kFrom, kTo, "r").ok());
  EXPECT_FALSE(freeze_case(s.out(), node_key(), who(), h->case_id, kFrom, kTo, "").ok());
  EXPECT_FALSE(create_case(s.out(), node_key(), who(), "", "").ok());
  // A key that is not the store's.
  NamedSigningKey other{kKeyName, SigningKey::generate()};
  EXPECT_FALSE(create_case(s.out(), other, who(), "t", "").ok());
}

TEST(Cases, LoadFreezesFailsClosedNamingTheFile) {
  KeyedStore s;
  const std::string id = frozen_case(s);
  ASSERT_TRUE(load_freezes(s.out()).ok());
  {  // a changed byte of the freezes file: digest mismatch
    const std::string p = case_file(s, id, kCaseFreezesFile);
    Bytes b = test::read_file_bytes(p);
    const Bytes orig = b;
    b[b.size() - 3] ^= 1;
    test::write_file_bytes(p, b);
    auto r = load_freezes(s.out());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("frozen_windows.cbor"), std::string::npos)
        << r.error().message;
    test::write_file_bytes(p, orig);
  }
  {  // a malformed header
    const std::string p = case_file(s, id, kCaseHeaderFile);
    const Bytes orig = test::read_file_bytes(p);
    test::write_file_bytes(p, Bytes{0x83, 0x01});
    auto r = load_freezes(s.out());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("case_header.cbor"), std::string::npos) << r.error().message;
    test::write_file_bytes(p, orig);
  }
  {  // a manifest signed by another key
    const std::string p = case_file(s, id, kCaseManifestSigFile);
    const Bytes orig = test::read_file_bytes(p);
    const Bytes m = test::read_file_bytes(case_file(s, id, kCaseManifestFile));
    test::write_file_bytes(p, encode(make_signature(kKeyName, SigningKey::generate(), m)));
    auto r = load_freezes(s.out());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("manifest.sig"), std::string::npos) << r.error().message;
    test::write_file_bytes(p, orig);
  }
  {  // a stray file in cases/
    test::write_file_bytes(s.out() / kCasesDir / "junk", Bytes{1});
    auto r = load_freezes(s.out());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("cases/junk"), std::string::npos) << r.error().message;
    fs::remove(s.out() / kCasesDir / "junk");
  }
  EXPECT_TRUE(load_freezes(s.out()).ok());
}

// ---- the access log

struct LoggedCase {
  KeyedStore s;
  std::string id;
  std::string log;
  LoggedCase() {
    id = frozen_case(s);
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(append_access(s.out(), node_key(), who(), id, "show", "").ok());
    log = case_file(s, id, kCaseAccessLogFile);
  }
  std::vector<Bytes> frames() const {
    const Bytes data = test::read_file_bytes(log);
    std::vector<Bytes> v;
    for (ByteSpan f : scan_frames(data).frames) v.emplace_back(f.begin(), f.end());
    return v;
  }
  void write(const std::vector<Bytes>& frames) const {
    Bytes data;
    for (const Bytes& f : frames) {
      const uint32_t n = static_cast<uint32_t>(f.size());
      for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(n >> (8 * i)));
      append(data, f);
    }
    test::write_file_bytes(log, data);
  }
};

TEST(CasesAccessLog, ChainsAndVerifies) {
  LoggedCase c;
  const auto f = c.frames();
  ASSERT_EQ(f.size(), 5u);  // create, freeze, 3 x show
  Hash32 prev{};
  for (size_t i = 0; i < f.size(); ++i) {
    auto a = decode_access_frame(f[i]);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a->record.seq, i);
    EXPECT_EQ(a->record.prev, prev);
    prev = blake3(f[i]);
  }
  EXPECT_EQ(decode_access_frame(f[0])->record.action, "create");
  EXPECT_EQ(decode_access_frame(f[1])->record.action, "freeze");
  EXPECT_TRUE(verify_case(c.s.out(), c.id).empty()) << join(verify_case(c.s.out(), c.id));
}

TEST(CasesAccessLog, ConcurrentAppendsDoNotForkTheChain) {
  LoggedCase c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(append_access(c.s.out(), node_key(), who(), c.id, "show", "").ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.frames().size(), 45u);
  EXPECT_TRUE(verify_case(c.s.out(), c.id).empty()) << join(verify_case(c.s.out(), c.id));
}

TEST(CasesAccessLog, AnEditedByteIsDetected) {
  LoggedCase c;
  auto f = c.frames();
  f[3][f[3].size() - 70] ^= 0x01;  // in the record's prev hash
  c.write(f);
  const auto p = verify_case(c.s.out(), c.id);
  EXPECT_TRUE(contains(p, "access.log: record 3")) << join(p);
}

TEST(CasesAccessLog, AnEditedDetailIsDetectedByItsSignatureAndTheNextLink) {
  LoggedCase c;
  auto f = c.frames();
  AccessFrame a = decode_access_frame(f[2]).value();
  a.record.detail = "nothing happened";
  Bytes payload = encode(a.record);
  append(payload, ByteSpan(a.signature.data(), a.signature.size()));
  f[2] = payload;
  c.write(f);
  const auto p = verify_case(c.s.out(), c.id);
  EXPECT_TRUE(contains(p, "record 2: the signature")) << join(p);
  EXPECT_TRUE(contains(p, "record 3: prev")) << join(p);
}

TEST(CasesAccessLog, ARemovedRecordIsDetected) {
  LoggedCase c;
  auto f = c.frames();
  f.erase(f.begin() + 2);
  c.write(f);
  const auto p = verify_case(c.s.out(), c.id);
  EXPECT_TRUE(contains(p, "record 2: seq is 3")) << join(p);
}

TEST(CasesAccessLog, RemovingTheRecordsUpToTheManifestHeadIsDetected) {
  LoggedCase c;
  auto f = c.frames();
  f.resize(1);  // only "create": the freeze record the manifest names is gone
  c.write(f);
  const auto p = verify_case(c.s.out(), c.id);
  EXPECT_TRUE(contains(p, "access head")) << join(p);
}

TEST(CasesAccessLog, SwappedRecordsAreDetected) {
  LoggedCase c;
  auto f = c.frames();
  std::swap(f[2], f[3]);
  c.write(f);
  const auto p = verify_case(c.s.out(), c.id);
  EXPECT_TRUE(contains(p, "record 2: seq is 3")) << join(p);
  EXPECT_TRUE(contains(p, "record 3: seq is 2")) << join(p);
}

TEST(CasesAccessLog, AMissingFrozenWindowIsDetected) {
  LoggedCase c;
  const CaseFreeze z = load_freezes(c.s.out()).value()[0];
  fs::remove(c.s.out() / (z.stem_paths[0] + ".cbor"));
  const auto p = verify_case(c.s.out(), c.id);
  EXPECT_TRUE(contains(p, z.stem_paths[0] + " (log index")) << join(p);
}

// ---- `ritma case ...` with the real binary

test::RunResult ritma(const std::vector<std::string>& args) {
  std::vector<std::string> argv{RITMA_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_program(argv);
}

TEST(CaseCli, CreateFreezeShowExportVerify) {
  KeyedStore s;
  const std::string bd = s.base_dir();
  auto c = ritma({"case", "create", "--title", "incident 7", "--description", "d", "--base-dir", bd,
                  "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  const std::string id = nlohmann::json::parse(c.out)["case_id"].get<std::string>();
  EXPECT_TRUE(id.starts_with("CASE_")) << id;
  EXPECT_TRUE(check_case_id(id).ok());

  auto f = ritma({"case", "freeze", id, "--from", "2026-11-30T13:00:00Z", "--to",
                  "2026-11-30T13:00:30Z", "--reason", "hold", "--base-dir", bd, "--json"});
  ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
  EXPECT_FALSE(nlohmann::json::parse(f.out)["windows"].empty());
  // A second freeze of the same case.
  auto f2 = ritma({"case", "freeze", id, "--from", "2026-11-30T12:59:00Z", "--to",
                   "2026-11-30T12:59:10Z", "--reason", "more", "--base-dir", bd});
  ASSERT_EQ(f2.exit_code, 0) << f2.out << f2.err;

  auto l = ritma({"case", "list", "--base-dir", bd, "--json"});
  ASSERT_EQ(l.exit_code, 0) << l.out << l.err;
  const auto lj = nlohmann::json::parse(l.out);
  ASSERT_EQ(lj.size(), 1u);
  EXPECT_EQ(lj[0]["case_id"], id);
  EXPECT_EQ(lj[0]["freezes"], 2);

  auto sh = ritma({"case", "show", id, "--base-dir", bd, "--json", "--verify"});
  ASSERT_EQ(sh.exit_code, 0) << sh.out << sh.err;
  const auto sj = nlohmann::json::parse(sh.out);
  EXPECT_TRUE(sj["verified"].get<bool>());
  EXPECT_EQ(sj["access"].size(), 4u);  // create, freeze, freeze, show
  EXPECT_EQ(sj["access"][3]["action"], "show");

  auto ex = ritma({"case", "export", id, "--base-dir", bd, "--json"});
  ASSERT_EQ(ex.exit_code, 0) << ex.out << ex.err;
  const auto ej = nlohmann::json::parse(ex.out);
  EXPECT_TRUE(ej["dir"].get<std::string>().starts_with((s.out() / "exports" / id).string()));
  ASSERT_EQ(ej["packs"].size(), 2u);
  for (const auto& p : ej["packs"]) {
    auto v = ritma({"verify", p["path"].get<std::string>(), "--key", fingerprint()});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
  auto sh2 = ritma({"case", "show", id, "--base-dir", bd, "--json"});
  ASSERT_EQ(sh2.exit_code, 0) << sh2.out << sh2.err;
  const auto sj2 = nlohmann::json::parse(sh2.out);
  ASSERT_EQ(sj2["access"].size(), 6u);  // ... show, export, show
  EXPECT_EQ(sj2["access"][4]["action"], "export");
  EXPECT_NE(sj2["access"][4]["detail"].get<std::string>().find("MANIFEST.cbor b3 "),
            std::string::npos);

  // The store still verifies (catalog locks included).
  const VerifyReport rep = verify(s);
  EXPECT_TRUE(rep.problems.empty()) << dump(rep);

  // Tampering with the access log: exit 1, naming the record.
  const std::string log = case_file(s, id, kCaseAccessLogFile);
  Bytes b = test::read_file_bytes(log);
  b[b.size() - 100] ^= 0x20;
  test::write_file_bytes(log, b);
  auto bad = ritma({"case", "show", id, "--base-dir", bd, "--verify"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("access.log: record"), std::string::npos) << bad.err;
}

TEST(CaseCli, TextOutput) {
  KeyedStore s;
  const std::string bd = s.base_dir();
  auto c = ritma({"case", "create", "--title", "incident 9", "--base-dir", bd});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  const std::string id = c.out.substr(0, c.out.find('\n'));
  auto f = ritma({"case", "freeze", id, "--from", "2026-11-30T13:00:00Z", "--to",
                  "2026-11-30T13:00:30Z", "--reason", "hold", "--base-dir", bd});
  ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
  EXPECT_NE(f.out.find("froze "), std::string::npos) << f.out;
  auto l = ritma({"case", "list", "--base-dir", bd});
  ASSERT_EQ(l.exit_code, 0) << l.out << l.err;
  EXPECT_NE(l.out.find(id), std::string::npos) << l.out;
  auto sh = ritma({"case", "show", id, "--verify", "--base-dir", bd});
  ASSERT_EQ(sh.exit_code, 0) << sh.out << sh.err;
  EXPECT_NE(sh.out.find("freeze 0: "), std::string::npos) << sh.out;
  EXPECT_NE(sh.out.find("access log: 3 record(s)"), std::string::npos) << sh.out;
  EXPECT_NE(sh.out.find("verified: "), std::string::npos) << sh.out;
  const fs::path out = s.dir.path() / "packs";
  auto ex = ritma({"case", "export", id, "--out", out.string(), "--base-dir", bd});
  ASSERT_EQ(ex.exit_code, 0) << ex.out << ex.err;
  EXPECT_NE(ex.out.find((out / "freeze-0").string()), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("ritma verify <pack> --key " + fingerprint()), std::string::npos) << ex.out;
  if (std::getenv("RITMA_CASE_TEST_PRINT") != nullptr)
    std::cerr << c.out << f.out << l.out << sh.out << ex.out;
}

TEST(CaseCli, BadInput) {
  KeyedStore s;
  const std::string bd = s.base_dir();
  auto c = ritma({"case", "create", "--title", "t", "--base-dir", bd});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  std::string id = c.out;
  id.erase(id.find_last_not_of('\n') + 1);
  struct Bad {
    std::vector<std::string> args;
    std::string text;
  };
  const std::vector<Bad> cases = {
      {{"case", "show", "NO_SUCH_CASE"}, "no case"},
      {{"case", "show", "../etc"}, "outside [A-Za-z0-9_-]"},
      {{"case", "freeze", id, "--from", "2026-11-30T13:00:30Z", "--to", "2026-11-30T13:00:00Z",
        "--reason", "r"},
       "--from must be before --to"},
      {{"case", "freeze", id, "--from", "yesterday-ish", "--to", "2026-11-30T13:00:00Z", "--reason",
        "r"},
       "invalid --from"},
      {{"case", "freeze", id, "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00:00Z",
        "--reason", "r"},
       "no sealed window"},
      {{"case", "export", id}, "no freeze"},
  };
  for (const Bad& b : cases) {
    std::vector<std::string> args = b.args;
    args.push_back("--base-dir");
    args.push_back(bd);
    auto r = ritma(args);
    EXPECT_NE(r.exit_code, 0) << args[1] << " " << args[2];
    EXPECT_NE(r.err.find(b.text), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace ritma::seal
