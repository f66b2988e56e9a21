// Retention of sealed windows (FORMAT.md §14): what a run prunes and keeps, the signed record it
// writes, and the verifier that accepts exactly what the records list, on the synthetic store
// (14 windows over hours 12, 13 and 14 of 2026-11-30).
#include "seal/retention.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/blake3_hasher.h"
#include "seal/cases.h"
#include "seal/seal_test_store.h"

namespace ritma::seal {
namespace {

using namespace sealtest;  // NOLINT(google-build-using-namespace)

constexpr int64_t kAfterAll = kStart + 3 * static_cast<int64_t>(kHourNs);

RetentionOptions max_age(int64_t age_ns, int64_t now = kAfterAll) {
  RetentionOptions o;
  o.max_age_ns = age_ns;
  o.now_ns = now;
  o.policy = "max-age test";
  return o;
}

std::set<uint64_t> indexes(const RetentionPlan& p) {
  std::set<uint64_t> s;
  for (const auto& x : p.prune) s.insert(x.window.log_index);
  return s;
}

// Its blocks (a pruned window keeps its micro record and signature).
bool window_files_exist(const Store& s, const MicroRecord& m) {
  EXPECT_TRUE(fs::exists(s / micro_path(m)) && fs::exists(s / micro_sig_path(m))) << micro_path(m);
  for (const auto& b : m.blocks)
    if (!fs::exists(s / (block_dir(m) + "/" + b.file))) return false;
  return true;
}

RetentionRecord apply_all(const Store& s, const RetentionOptions& o) {
  auto plan = plan_retention(s.out(), o);
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  auto r = apply_retention(s.out(), *plan, o, node_key());
  EXPECT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->has_value());
  return r->value_or(RetentionRecord{});
}

TEST(Retention, MaxAgeZeroPrunesEverySealedWindowButTheNewestAndTheStoreStillVerifies) {
  Store s;
  const auto recs = s.records();
  ASSERT_EQ(recs.size(), base().windows);
  auto plan = plan_retention(s.out(), max_age(0));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->prune.size(), recs.size() - 1);
  ASSERT_EQ(plan->kept.size(), 1u);
  EXPECT_EQ(plan->kept[0].log_index, recs.size() - 1);
  uint64_t listed = 0;
  for (const auto& p : plan->prune)
    for (const auto& f : p.files) listed += f.bytes;
  EXPECT_EQ(plan->bytes(), listed);
  EXPECT_GT(listed, 100'000u);  // the big window's blocks

  const RetentionRecord rec = apply_all(s, max_age(0));
  EXPECT_EQ(rec.index, 0u);
  EXPECT_EQ(rec.windows.size(), recs.size() - 1);
  EXPECT_EQ(rec.checkpoint.tree_size, recs.size());
  EXPECT_TRUE(fs::exists(s / retention_path(0)));
  EXPECT_TRUE(fs::exists(s / retention_sig_path(0)));
  for (const auto& m : recs) {
    const bool newest = m.log_index + 1 == recs.size();
    EXPECT_EQ(window_files_exist(s, m), newest || m.blocks.empty()) << stem_path(m);
  }

  const VerifyReport r = verify(s);
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.pruned_windows, recs.size() - 1);
  EXPECT_EQ(r.pruned_events + r.events, base().events);
  ASSERT_EQ(r.pruned.size(), 1u);
  EXPECT_EQ(r.pruned[0].record, retention_path(0));
  EXPECT_EQ(r.pruned[0].first_log_index, 0u);
  EXPECT_EQ(r.pruned[0].last_log_index, recs.size() - 2);
  EXPECT_EQ(r.pruned[0].time_ns, kAfterAll);
  EXPECT_EQ(r.hours_closed, 2u);  // hour roots and chain links still recomputed from the log

  // A second run finds nothing more to prune.
  auto again = plan_retention(s.out(), max_age(0));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->prune.empty());
  EXPECT_EQ(again->already_pruned, recs.size() - 1);
}

TEST(Retention, OnlyWindowsOlderThanTheMaxAgeGoAndASecondRecordChainsToTheFirst) {
  Store s;
  const auto recs = s.records();
  // Hour 12's windows ended before 13:00:00; the rest after. now - age = 13:00:00.
  const int64_t h13 = kStart + 90 * kSec;
  const RetentionRecord first = apply_all(s, max_age(kSec, h13 + kSec));
  std::set<uint64_t> want;
  for (const auto& m : recs)
    if (m.slot_start_ns + static_cast<int64_t>(m.window_ns) <= h13 && m.max_wall_ns <= h13 &&
        m.log_index + 1 < recs.size())
      want.insert(m.log_index);
  std::set<uint64_t> got;
  for (const auto& w : first.windows) got.insert(w.log_index);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), 9u);

  const RetentionRecord second = apply_all(s, max_age(0));
  EXPECT_EQ(second.index, 1u);
  EXPECT_EQ(second.prev, blake3(test::read_file_bytes(s / retention_path(0))));
  EXPECT_EQ(second.windows.size(), recs.size() - 1 - 9);
  const VerifyReport r = verify(s);
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.pruned.size(), 2u);
  EXPECT_EQ(r.pruned_windows, recs.size() - 1);
}

TEST(Retention, ARangeVerificationCountsThePrunedWindowsInRange) {
  Store s;
  apply_all(s, max_age(0));
  VerifyOptions o;
  o.pinned_key = fingerprint();
  o.from_ns = kStart;
  o.to_ns = kStart + 30 * kSec;
  auto r = verify_store(s.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  EXPECT_EQ(r->pruned_windows, 3u);
  EXPECT_EQ(r->windows, 0u);
}

TEST(Retention, AFrozenCaseKeepsItsWindows) {
  Store s;
  const NamedSigningKey key = node_key();
  auto c = create_case(s.out(), key, CaseActor{"test", kAfterAll}, "incident 7", "");
  ASSERT_TRUE(c.ok()) << c.error().message;
  // 12:58:40 .. 12:59:00 holds windows 1 and 2.
  auto f = freeze_case(s.out(), key, CaseActor{"test", kAfterAll}, c->case_id, kStart + 10 * kSec,
                       kStart + 30 * kSec, "evidence");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto plan = plan_retention(s.out(), max_age(0));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  std::set<uint64_t> kept;
  for (const auto& k : plan->kept) {
    kept.insert(k.log_index);
    if (k.log_index != s.records().size() - 1) {
      EXPECT_NE(k.why.find(c->case_id), std::string::npos) << k.why;
    }
  }
  EXPECT_EQ(kept, (std::set<uint64_t>{1, 2, s.records().size() - 1}));
  apply_all(s, max_age(0));
  for (const auto& m : s.records())
    EXPECT_EQ(window_files_exist(s, m), kept.count(m.log_index) != 0 || m.blocks.empty());
  const VerifyReport r = verify(s);
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.windows, 3u);
}

TEST(Retention, APrunedRangeCannotBeFrozen) {
  Store s;
  apply_all(s, max_age(0));
  auto c = create_case(s.out(), node_key(), CaseActor{"test", kAfterAll}, "late", "");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto f = freeze_case(s.out(), node_key(), CaseActor{"test", kAfterAll}, c->case_id, kStart,
                       kStart + 10 * kSec, "too late");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("pruned by retention"), std::string::npos) << f.error().message;
}

TEST(Retention, AnUnreadableCaseStopsRetentionBeforeAnythingIsDeleted) {
  Store s;
  auto c = create_case(s.out(), node_key(), CaseActor{"test", kAfterAll}, "t", "");
  ASSERT_TRUE(c.ok()) << c.error().message;
  test::write_file_bytes(s / (std::string(kCasesDir) + "/" + c->case_id + "/" + kCaseFreezesFile),
                         Bytes{0xff});
  auto plan = plan_retention(s.out(), max_age(0));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find(c->case_id), std::string::npos) << plan.error().message;
}

TEST(Retention, NothingIsPrunedBeyondTheNewestCheckpoint) {
  Store s;
  // The newest checkpoint one record behind the log (a crash before it was written).
  const auto cps = s.log_frames(kCheckpointLogFile);
  ASSERT_GE(cps.size(), 2u);
  const size_t n = s.records().size();
  test::write_file_bytes(s / kCheckpointFile, cps[cps.size() - 3]);  // covers records 0..n-3
  auto plan = plan_retention(s.out(), max_age(0));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->checkpoint.tree_size, n - 2);
  EXPECT_EQ(indexes(*plan).size(), n - 2);
  EXPECT_EQ(*indexes(*plan).rbegin(), n - 3);
}

TEST(Retention, AnInterruptedRunLeavesFilesTheNextRunDeletes) {
  Store s;
  test::TempDir saved;
  const MicroRecord m = s.records()[3];
  const std::string block = s.block_path(m, 0);
  fs::copy_file(s / block, saved / "b");
  apply_all(s, max_age(0));
  fs::create_directories((s / block).parent_path());
  fs::copy_file(saved / "b", s / block);  // as if the run stopped before deleting it
  EXPECT_TRUE(verify(s).ok());
  auto plan = plan_retention(s.out(), max_age(0));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->leftovers.size(), 1u);
  EXPECT_EQ(plan->leftovers[0].rel, block);
  auto r = apply_retention(s.out(), *plan, max_age(0), node_key());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());  // no new record
  EXPECT_FALSE(fs::exists(s / block));
  EXPECT_FALSE(fs::exists(s / retention_path(1)));
}

// ---- tampering with retention

struct Pruned : Store {
  RetentionRecord rec;
  Pruned() { rec = apply_all(*this, max_age(0)); }
};

TEST(RetentionTamper, ARemovedRecordLeavesItsWindowsMissing) {
  Pruned s;
  fs::remove(s / retention_path(0));
  fs::remove(s / retention_sig_path(0));
  const VerifyReport r = verify(s);
  EXPECT_FALSE(r.ok());
  const MicroRecord m = s.records()[0];
  EXPECT_PROBLEM(r, s.block_path(m, 0), stem_path(m), "missing block");
}

TEST(RetentionTamper, ARecordEmptiedAndReSignedWithAnotherKey) {
  Pruned s;
  RetentionRecord r = s.rec;
  r.windows.clear();
  test::write_file_bytes(s / retention_path(0), encode(r));
  const SigningKey attacker = SigningKey::generate();
  test::write_file_bytes(s / retention_sig_path(0),
                         encode(make_signature(kKeyName, attacker, encode(r))));
  const VerifyReport v = verify(s);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(find_problem(v, retention_sig_path(0), "", ""), nullptr) << dump(v);
}

TEST(RetentionTamper, AnEditedRecordNoLongerMatchesItsSignature) {
  Pruned s;
  RetentionRecord r = s.rec;
  r.policy = "max-age 999d";
  test::write_file_bytes(s / retention_path(0), encode(r));
  const VerifyReport v = verify(s);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(find_problem(v, retention_sig_path(0), "", "does not verify"), nullptr) << dump(v);
}

TEST(RetentionTamper, AWindowDeletedWithoutARecordNextToPrunedOnes) {
  Pruned s;
  const MicroRecord last = s.records().back();
  fs::remove(s / s.block_path(last, 0));
  const VerifyReport v = verify(s);
  EXPECT_PROBLEM(v, s.block_path(last, 0), stem_path(last), "missing block");
}

TEST(RetentionTamper, APrunedWindowsMicroFileIsStillChecked) {
  Pruned s;
  const MicroRecord m = s.records()[2];
  fs::remove(s / micro_path(m));
  fs::remove(s / micro_sig_path(m));
  const VerifyReport v = verify(s);
  EXPECT_PROBLEM(v, micro_path(m), stem_path(m), "missing micro record");
  EXPECT_PROBLEM(v, micro_sig_path(m), stem_path(m), "missing signature");
}

TEST(RetentionTamper, ARecordSignedByTheNodeKeyThatMisstatesAWindow) {
  Pruned s;
  RetentionRecord r = s.rec;
  r.windows[1].micro_root[0] ^= 1;
  const Bytes b = encode(r);
  test::write_file_bytes(s / retention_path(0), b);
  test::write_file_bytes(s / retention_sig_path(0),
                         encode(make_signature(kKeyName, node_key().key, b)));
  const VerifyReport v = verify(s);
  const MicroRecord m = s.records()[r.windows[1].log_index];
  EXPECT_PROBLEM(v, retention_path(0), stem_path(m), "micro_root");
}

TEST(RetentionTamper, ARecordWhoseCheckpointIsNotTheLogs) {
  Pruned s;
  RetentionRecord r = s.rec;
  r.checkpoint.root[5] ^= 1;
  const Bytes b = encode(r);
  test::write_file_bytes(s / retention_path(0), b);
  test::write_file_bytes(s / retention_sig_path(0),
                         encode(make_signature(kKeyName, node_key().key, b)));
  const VerifyReport v = verify(s);
  EXPECT_NE(find_problem(v, retention_path(0), "", "not a state of the window log"), nullptr)
      << dump(v);
}

TEST(RetentionTamper, ASecondRecordThatDoesNotChainToTheFirst) {
  Pruned s;
  RetentionRecord r = s.rec;
  r.index = 1;
  r.windows.clear();
  const Bytes b = encode(r);  // prev: zeros, not BLAKE3 of record 0
  test::write_file_bytes(s / retention_path(1), b);
  test::write_file_bytes(s / retention_sig_path(1),
                         encode(make_signature(kKeyName, node_key().key, b)));
  const VerifyReport v = verify(s);
  EXPECT_NE(find_problem(v, retention_path(1), "", "prev is not the BLAKE3"), nullptr) << dump(v);
}

TEST(RetentionFormat, DecodingIsStrict) {
  RetentionRecord r;
  r.policy = "p";
  r.windows.push_back(PrunedWindow{3, "windows/x", 1, 2, {}, 0, 0, 0, 9});
  r.windows.push_back(PrunedWindow{4, "windows/y", 1, 2, {}, 0, 0, 0, 9});
  const Bytes b = encode(r);
  auto d = decode_retention(b);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->windows, r.windows);
  for (size_t cut = 0; cut < b.size(); ++cut)
    EXPECT_FALSE(decode_retention(ByteSpan(b.data(), cut)).ok()) << cut;
  std::swap(r.windows[0], r.windows[1]);
  auto bad = decode_retention(encode(r));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("ascending"), std::string::npos);
}

}  // namespace
}  // namespace ritma::seal

namespace ritma::seal {
namespace {

using namespace sealtest;  // NOLINT(google-build-using-namespace)

test::RunResult ritma(const std::vector<std::string>& args) {
  std::vector<std::string> argv{RITMA_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_program(argv);
}

// The files a retention --json output lists, in order.
std::vector<std::string> listed_files(const nlohmann::json& j) {
  std::vector<std::string> v;
  for (const auto& w : j["windows"])
    for (const auto& f : w["files"])
      v.push_back(f["file"].get<std::string>() + " " + std::to_string(f["bytes"].get<uint64_t>()));
  return v;
}

// The acceptance, through the binary: freeze a case, retention --max-age 0 (a dry run,
// then --apply), verify --store, case export, verify the pack.
TEST(RetentionCli, AFrozenCaseSurvivesMaxAgeZeroAndItsExportVerifies) {
  KeyedStore s;
  const std::string b = s.base_dir();
  auto created = ritma({"case", "create", "--base-dir", b, "--title", "incident 7", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = nlohmann::json::parse(created.out)["case_id"].get<std::string>();
  auto frozen = ritma({"case", "freeze", id, "--base-dir", b, "--from", "2026-11-30T12:58:40Z",
                       "--to", "2026-11-30T12:59:00Z", "--reason", "evidence"});
  ASSERT_EQ(frozen.exit_code, 0) << frozen.err;

  auto dry = ritma({"retention", "run", "--base-dir", b, "--max-age", "0", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const auto dj = nlohmann::json::parse(dry.out);
  EXPECT_FALSE(dj["applied"].get<bool>());
  const auto would = listed_files(dj);
  ASSERT_FALSE(would.empty());
  for (const std::string& f : would) {
    const std::string rel = f.substr(0, f.find(' '));
    EXPECT_TRUE(fs::exists(s / rel)) << rel << ": a dry run deletes nothing";
  }
  // The text form lists the same files with their bytes.
  auto dry_text = ritma({"retention", "run", "--base-dir", b, "--max-age", "0"});
  ASSERT_EQ(dry_text.exit_code, 0) << dry_text.err;
  for (const std::string& f : would) {
    const std::string rel = f.substr(0, f.find(' '));
    EXPECT_NE(dry_text.out.find("would delete " + rel + " "), std::string::npos) << rel;
  }

  auto applied =
      ritma({"retention", "run", "--base-dir", b, "--max-age", "0", "--apply", "--json"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  const auto aj = nlohmann::json::parse(applied.out);
  EXPECT_TRUE(aj["applied"].get<bool>());
  EXPECT_EQ(listed_files(aj), would) << "the dry run printed exactly what --apply deleted";
  EXPECT_EQ(aj["retention_record"], retention_path(0));

  // Every sealed window outside the case is gone (but the newest, which the sealer re-reads);
  // every frozen one remains.
  const auto recs = s.records();
  std::set<uint64_t> kept;
  for (const auto& k : aj["kept"]) kept.insert(k["log_index"].get<uint64_t>());
  EXPECT_EQ(kept, (std::set<uint64_t>{1, 2, recs.size() - 1}));
  for (const auto& m : recs) {
    for (const auto& blk : m.blocks) {
      const bool present = fs::exists(s / (block_dir(m) + "/" + blk.file));
      EXPECT_EQ(present, kept.count(m.log_index) != 0) << stem_path(m);
    }
  }

  auto v = ritma({"verify", "--store", "--base-dir", b, "--key", fingerprint()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("range pruned by retention at "), std::string::npos) << v.out;
  auto vj = ritma({"verify", "--store", "--base-dir", b, "--key", fingerprint(), "--json"});
  ASSERT_EQ(vj.exit_code, 0) << vj.err;
  const auto vjj = nlohmann::json::parse(vj.out);
  EXPECT_EQ(vjj["pruned_windows"].get<uint64_t>(), recs.size() - 3);
  // Two ranges, around the frozen windows 1 and 2: 0, and 3 .. the newest but one.
  ASSERT_EQ(vjj["pruned"].size(), 2u);
  EXPECT_EQ(vjj["pruned"][0]["record"], retention_path(0));
  EXPECT_EQ(vjj["pruned"][0]["last_log_index"], 0u);
  EXPECT_EQ(vjj["pruned"][1]["first_log_index"], 3u);
  EXPECT_EQ(vjj["pruned"][1]["last_log_index"], recs.size() - 2);

  // A second dry run has nothing more to delete.
  auto again = ritma({"retention", "run", "--base-dir", b, "--max-age", "0", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(listed_files(nlohmann::json::parse(again.out)).empty());

  auto exported = ritma({"case", "export", id, "--base-dir", b, "--json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto ej = nlohmann::json::parse(exported.out);
  ASSERT_EQ(ej["packs"].size(), 1u);
  const std::string pack = ej["packs"][0]["path"].get<std::string>();
  auto vp = ritma({"verify", pack, "--key", fingerprint()});
  EXPECT_EQ(vp.exit_code, 0) << vp.out << vp.err;

  // A range whose windows were pruned cannot be exported, and says why.
  auto ex = ritma({"export-proof", "--base-dir", b, "--from", "2026-11-30T12:59:10Z", "--to",
                   "2026-11-30T12:59:20Z", "--out", (s.dir / "p.tar.zst").string()});
  EXPECT_EQ(ex.exit_code, 1);
  EXPECT_NE(ex.err.find("pruned by retention at"), std::string::npos) << ex.err;
}

TEST(RetentionCli, BadInputIsAUsageError) {
  KeyedStore s;
  auto r = ritma({"retention", "run", "--base-dir", s.base_dir(), "--max-age", "soon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--max-age"), std::string::npos) << r.err;
  test::TempDir empty;
  r = ritma({"retention", "run", "--base-dir", empty.path().string(), "--max-age", "1d"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no sealed store"), std::string::npos) << r.err;
  r = ritma({"retention", "run", "--base-dir", s.base_dir(), "--keep", "-1"});
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace ritma::seal
