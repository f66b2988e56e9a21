// The sealed-store verifier and `ritma verify --store`: a clean store verifies, and every kind of
// tampering in the corpus below is detected and reported with the file and the window it is in.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/key_file.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/derived.h"
#include "seal/key_rotation.h"
#include "seal/seal_test_store.h"
#include "seal/sealer.h"
#include "seal/store_verifier.h"
#include "test_util.h"

namespace ritma::seal {
namespace {

using namespace sealtest;  // NOLINT(google-build-using-namespace)

class VerifyStore : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(base().error.empty()) << base().error; }
};
using VerifyTamper = VerifyStore;
using VerifyCli = VerifyStore;

// ---- a clean store

TEST_F(VerifyStore, ACleanStoreVerifiesWithEveryCountRecomputed) {
  Store s;
  const VerifyReport r = verify(s);
  EXPECT_TRUE(r.ok()) << dump(r);
  const Template& t = base();
  EXPECT_TRUE(r.pinned);
  EXPECT_EQ(r.node_id, kNodeId);
  EXPECT_EQ(r.signer_name, kKeyName);
  EXPECT_EQ(r.signer_fingerprint, key_fingerprint(t.key.public_key()));
  EXPECT_EQ(r.windows, t.windows);
  EXPECT_EQ(r.log_records, t.windows);
  EXPECT_EQ(r.empty_windows, 1u);
  EXPECT_EQ(r.events, t.events);
  EXPECT_EQ(r.loss_events, t.loss_events);
  EXPECT_EQ(r.lost_records, t.lost);
  EXPECT_EQ(r.filtered_records, t.filtered);
  EXPECT_EQ(r.first_seq, 100u);
  EXPECT_EQ(r.last_seq, 100 + t.events - 1);
  EXPECT_EQ(r.checkpoints, t.windows);
  EXPECT_TRUE(r.checkpoints_consistent);
  EXPECT_EQ(r.hours_closed, 2u);  // 12 and 13; 14 is the hour of the last record
  EXPECT_FALSE(r.unsealed_tail);
  EXPECT_GT(r.blocks, t.windows - 1);  // the big window has two
  EXPECT_GT(r.events_per_second, 0);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_TRUE(r.keys[0].trusted);
  EXPECT_TRUE(r.keys[0].pinned);
  // store.sig + per window a micro sig and a checkpoint + per closed hour two.
  EXPECT_EQ(r.keys[0].signatures, 1 + 2 * t.windows + 2 * 2);
  // Not pinned: the same result, said to be unpinned.
  VerifyOptions o;
  auto unpinned = verify_store(s.out(), o);
  ASSERT_TRUE(unpinned.ok());
  EXPECT_TRUE(unpinned->ok()) << dump(*unpinned);
  EXPECT_FALSE(unpinned->pinned);
}

TEST_F(VerifyStore, TheStoreHasAWindowOfTwoBlocksAndTwoClosedHours) {
  Store s;
  const MicroRecord big = s.window_with(kBigWindowEvents, 2);
  ASSERT_EQ(big.blocks.size(), 2u);
  EXPECT_LE(big.blocks[0].raw_bytes, kBlockMaxRawBytes);
  EXPECT_GT(big.blocks[0].raw_bytes, kBlockMaxRawBytes - 1024);
  for (const char* h : {"windows/2026/11/30/12/proofs/", "windows/2026/11/30/13/proofs/"}) {
    EXPECT_TRUE(fs::exists(s / (std::string(h) + "hour_root.cbor"))) << h;
    EXPECT_TRUE(fs::exists(s / (std::string(h) + "chain.cbor"))) << h;
  }
}

TEST_F(VerifyStore, PinningByVerifierKeyOrPublicKeyFileWorksAndGarbageIsAUsageError) {
  Store s;
  const std::string vkey = format_public_key(kKeyName, base().key.public_key());
  EXPECT_TRUE(verify(s, vkey).ok());
  const fs::path pub = s.dir.path() / "node.pub";
  ASSERT_TRUE(write_public_key_file(pub, kKeyName, base().key.public_key()).ok());
  const VerifyReport r = verify(s, pub.string());
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.pinned);
  VerifyOptions o;
  o.pinned_key = "not-a-key";
  EXPECT_FALSE(verify_store(s.out(), o).ok());
  EXPECT_FALSE(verify_store(s.dir.path() / "nothing-here", {}).ok());
}

TEST_F(VerifyStore, ALastRecordWithoutItsCheckpointIsAnUnsealedTailNotAFailure) {
  Store s;
  auto cps = s.log_frames(kCheckpointLogFile);
  cps.pop_back();
  s.write_frames(cps, kCheckpointLogFile);
  test::write_file_bytes(s / kCheckpointFile, cps.back());
  const VerifyReport r = verify(s);
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.unsealed_tail);
  const MicroRecord last = s.records().back();
  ASSERT_EQ(r.unsealed.size(), 1u) << dump(r);
  EXPECT_EQ(r.unsealed[0].kind, "record");
  EXPECT_EQ(r.unsealed[0].window, stem_path(last));
  EXPECT_EQ(r.unsealed[0].first_seq, last.first_seq);
  EXPECT_EQ(r.unsealed[0].last_seq, last.first_seq + last.event_count - 1);
}

TEST_F(VerifyStore, ATimeRangeVerifiesOnlyTheWindowsItOverlaps) {
  Store s;
  VerifyOptions o;
  o.pinned_key = key_fingerprint(base().key.public_key());
  o.from_ns = kStart + 90 * kSec;  // 13:00:00 .. 13:00:10: the big window only
  o.to_ns = kStart + 100 * kSec;
  auto r = verify_store(s.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  EXPECT_TRUE(r->range_limited);
  EXPECT_EQ(r->windows, 1u);
  EXPECT_EQ(r->events, kBigWindowEvents);
  EXPECT_EQ(r->log_records, base().windows);
  // Damage outside the range is not looked at; inside it is.
  const MicroRecord small = s.records()[0];
  fs::remove(s / s.block_path(small, 0));
  auto r2 = verify_store(s.out(), o);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->ok()) << dump(*r2);
}

TEST_F(VerifyStore, AKeyRotationIsFollowedFromThePinnedKeyAndNotBackwards) {
  test::TempDir dir;
  const fs::path out = dir.path() / "RITMA_OUT";
  const fs::path priv = out / "_meta/keys/node.key";
  const fs::path pub = out / "_meta/keys/node.pub";
  int64_t now = kStart;
  uint64_t seq = 0;
  auto seal_two_windows = [&](NamedSigningKey key) {
    SealerOptions o;
    o.out_dir = out;
    o.node_id = kNodeId;
    o.run.run_id = seq + 1;
    o.run.boot_id.fill(7);
    o.clock = [&now] { return now; };
    auto s = Sealer::open(o, std::move(key));
    ASSERT_TRUE(s.ok()) << s.error().message;
    for (int w = 0; w < 2; ++w) {
      std::vector<capture::Event> v;
      if (w == 0) {  // the gap event that starts a run: everything before it is sealed
        capture::Event gap;
        gap.type = capture::EventType::kGap;
        gap.arg0 = seq == 0 ? 0 : 1;
        gap.arg3 = seq;
        gap.seq = seq++;
        gap.wall_ns = now;
        v.push_back(gap);
      }
      for (int i = 0; i < 5; ++i) v.push_back(make_event(seq++, now));
      ASSERT_TRUE((*s)->add(v).ok());
      now += 10 * kSec;
      ASSERT_TRUE((*s)->tick().ok());
    }
    ASSERT_TRUE((*s)->flush_window().ok());
    now += 10 * kSec;
  };
  const SigningKey first = SigningKey::generate();
  ASSERT_TRUE(fs::create_directories(out / "_meta/keys"));
  fs::permissions(out / "_meta/keys", fs::perms::owner_all);
  ASSERT_TRUE(
      write_private_key_file(priv, {kKeyName, SigningKey::from_seed(first.seed()).value()}).ok());
  ASSERT_TRUE(write_public_key_file(pub, kKeyName, first.public_key()).ok());
  seal_two_windows({kKeyName, SigningKey::from_seed(first.seed()).value()});
  auto rotated = rotate_store_key(out, priv, pub, now);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  auto second = load_private_key_file(priv);
  ASSERT_TRUE(second.ok());
  const std::string second_fp = key_fingerprint(second->key.public_key());
  seal_two_windows(std::move(second).value());

  VerifyOptions o;
  o.pinned_key = key_fingerprint(first.public_key());
  auto r = verify_store(out, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  ASSERT_EQ(r->keys.size(), 2u);
  EXPECT_TRUE(r->keys[0].pinned);
  EXPECT_TRUE(r->keys[1].trusted);
  EXPECT_GT(r->keys[0].signatures, 0u);
  EXPECT_GT(r->keys[1].signatures, 0u);
  EXPECT_EQ(r->signer_fingerprint, second_fp);

  // Pinning the new key does not vouch for what the old one signed.
  o.pinned_key = second_fp;
  r = verify_store(out, o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok());
  EXPECT_FALSE(r->keys[0].trusted);
  const VerifyProblem* p = find_problem(*r, kStoreSigFile, "", "does not vouch");
  EXPECT_NE(p, nullptr) << dump(*r);

  // A forged hand-over breaks the chain: the new key is no longer trusted.
  KeysRecord keys = decode_keys(test::read_file_bytes(out / kKeysFile)).value();
  keys.keys[1].handover->second[0] ^= 1;
  test::write_file_bytes(out / kKeysFile, encode(keys));
  o.pinned_key = key_fingerprint(first.public_key());
  r = verify_store(out, o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok());
  EXPECT_NE(find_problem(*r, kKeysFile, "", "hand-over signature does not verify"), nullptr)
      << dump(*r);
  EXPECT_FALSE(r->keys[1].trusted);
}

TEST_F(VerifyStore, LeftoversOfACrashAreNotesAndOnlyOneWindowOfThemIsPlausible) {
  Store s;
  const MicroRecord last = s.records().back();
  const std::string hour = hour_dir(last.slot_start_ns);
  const uint64_t slot = slot_in_hour(last.slot_start_ns, last.window_ns);
  // A window whose blocks were written but whose record never reached the log, a leftover
  // temporary file, and what an earlier restart moved to unsealed/.
  const std::string tail = hour + "/blocks/" + block_file_name(window_stem(slot + 1, 0), 0);
  test::write_file_bytes(s / tail, as_bytes(std::string_view("partial")));
  test::write_file_bytes(s / (hour + "/micro/.w001.cbor.tmp.123.abc"), Bytes{1});
  fs::create_directories(s / ("unsealed/" + hour + "/blocks"));
  test::write_file_bytes(s / ("unsealed/" + hour + "/blocks/w000-1.b0.zst"), Bytes{1});
  VerifyReport r = verify(s);
  EXPECT_TRUE(r.ok()) << dump(r);
  auto listed = [&](const std::string& kind, const std::string& file, const std::string& window) {
    for (const auto& u : r.unsealed) {
      if (u.kind == kind && u.file == file && u.window == window) return true;
    }
    return false;
  };
  EXPECT_TRUE(listed("file", tail, hour + "/micro/" + window_stem(slot + 1, 0))) << dump(r);
  EXPECT_TRUE(listed("moved", "unsealed/" + hour + "/blocks/w000-1.b0.zst", hour + "/micro/w000-1"))
      << dump(r);
  bool noted = false;
  for (const auto& n : r.notes) noted = noted || n.find("temporary file") != std::string::npos;
  EXPECT_TRUE(noted) << dump(r);
  // Files of two windows after the last record are not what a crash leaves.
  const std::string tail2 = hour + "/blocks/" + block_file_name(window_stem(slot + 2, 0), 0);
  test::write_file_bytes(s / tail2, as_bytes(std::string_view("partial")));
  r = verify(s);
  EXPECT_FALSE(r.ok());
  EXPECT_PROBLEM(r, tail2, hour + "/micro/" + window_stem(slot + 2, 0),
                 "a crash leaves at most one");
}

// Runs of one boot sealed into a fresh store: each run's events are given as (seq, type); the
// first of a run is normally its gap event.
struct RunsStore {
  test::TempDir dir;
  fs::path out() const { return dir.path() / "RITMA_OUT"; }
  SigningKey key = SigningKey::generate();
  int64_t now = kStart;

  void run(uint64_t run_id, const std::vector<capture::Event>& events) {
    SealerOptions o;
    o.out_dir = out();
    o.node_id = kNodeId;
    o.run.run_id = run_id;
    o.run.boot_id.fill(7);
    o.clock = [this] { return now; };
    auto s = Sealer::open(o, NamedSigningKey{kKeyName, SigningKey::from_seed(key.seed()).value()});
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE((*s)->add(events).ok());
    now += 10 * kSec;
    ASSERT_TRUE((*s)->tick().ok());
    now += 10 * kSec;
  }
  // arg0: how the previous run ended, arg1: its id, arg3: one past the last sealed seq.
  static capture::Event gap(uint64_t seq, uint64_t arg0, uint64_t arg1, uint64_t arg3) {
    capture::Event g;
    g.type = capture::EventType::kGap;
    g.seq = seq;
    g.arg0 = arg0;
    g.arg1 = arg1;
    g.arg3 = arg3;
    return g;
  }
  std::vector<capture::Event> events(uint64_t from, uint64_t to) const {
    std::vector<capture::Event> v;
    for (uint64_t q = from; q < to; ++q) v.push_back(make_event(q, now));
    return v;
  }
  std::vector<MicroRecord> records() const {
    std::vector<MicroRecord> v;
    const Bytes log = read_file(out() / kWindowLogFile).value();
    for (ByteSpan f : scan_frames(log).frames) v.push_back(decode_micro(f).value());
    return v;
  }
};

TEST_F(VerifyStore, ARunAfterACrashNamesTheEventsThatWereNeverSealed) {
  RunsStore st;
  auto first = st.events(1, 6);
  first.insert(first.begin(), RunsStore::gap(0, 0, 0, 0));
  st.run(1, first);  // seq 0..5 sealed
  // Run 1 recorded seq 6..9 and was killed before sealing them; run 2 of the same boot goes on
  // at seq 10, and its gap event says the store was sealed up to (not including) seq 6.
  auto second = st.events(11, 15);
  second.insert(second.begin(), RunsStore::gap(10, 2, 1, 6));
  st.run(2, second);
  VerifyOptions o;
  o.pinned_key = key_fingerprint(st.key.public_key());
  auto r = verify_store(st.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  bool named = false;
  for (const auto& u : r->unsealed) {
    named =
        named || (u.kind == "events" && u.run_id == 1u && u.first_seq == 6u && u.last_seq == 9u);
  }
  EXPECT_TRUE(named) << dump(*r);
  EXPECT_EQ(r->last_run_id, 2u);
  EXPECT_EQ(r->sealed_end_seq, 15u);
}

TEST_F(VerifyTamper, AGapEventThatMisstatesWhatWasSealedOrARunWithoutOne) {
  RunsStore st;
  auto first = st.events(1, 6);
  first.insert(first.begin(), RunsStore::gap(0, 0, 0, 0));
  st.run(1, first);
  auto second = st.events(7, 9);
  second.insert(second.begin(), RunsStore::gap(6, 1, 1, 4));  // claims only 0..3 were sealed
  st.run(2, second);
  st.run(3, st.events(9, 12));  // no gap event at all
  const auto recs = st.records();
  VerifyOptions o;
  o.pinned_key = key_fingerprint(st.key.public_key());
  auto r = verify_store(st.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok());
  const MicroRecord* r2 = nullptr;
  const MicroRecord* r3 = nullptr;
  for (const auto& m : recs) {
    if (m.run.run_id == 2 && m.event_count > 0 && !r2) r2 = &m;
    if (m.run.run_id == 3 && m.event_count > 0 && !r3) r3 = &m;
  }
  ASSERT_TRUE(r2 && r3);
  EXPECT_PROBLEM(*r, block_dir(*r2) + "/" + r2->blocks[0].file, stem_path(*r2),
                 "the window log before it ends at 6", 6u);
  EXPECT_PROBLEM(*r, block_dir(*r3) + "/" + r3->blocks[0].file, stem_path(*r3), "not a gap event",
                 9u);
}

TEST_F(VerifyStore, AnHourBeingClosedWhenTheSensorStoppedIsUnsealedNotAFailure) {
  // The store as it was when hour 13 was being closed: no record of hour 14 yet.
  Store s;
  auto frames = s.log_frames();
  auto cps = s.log_frames(kCheckpointLogFile);
  const std::string h14 = "windows/2026/11/30/14";
  while (decode_micro(frames.back()).value().slot_start_ns >= kStart + 90 * kSec + 3600 * kSec) {
    frames.pop_back();
    cps.pop_back();
  }
  s.write_frames(frames);
  s.write_frames(cps, kCheckpointLogFile);
  test::write_file_bytes(s / kCheckpointFile, cps.back());
  fs::remove_all(s / h14);
  const std::string proofs = "windows/2026/11/30/13/proofs/";
  VerifyOptions o;
  o.pinned_key = key_fingerprint(base().key.public_key());
  o.check_derived = false;  // the derived files still list the windows of hour 14
  auto r = verify_store(s.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  EXPECT_EQ(r->hours_closed, 2u);
  // Stopped between the hour root and the chain link, or between a file and its signature.
  fs::remove(s / (proofs + "chain.cbor"));
  fs::remove(s / (proofs + "chain.sig"));
  r = verify_store(s.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  EXPECT_EQ(r->hours_closed, 1u);
  ASSERT_FALSE(r->unsealed.empty());
  EXPECT_EQ(r->unsealed.back().file, proofs + "hour_root.cbor");
  fs::remove(s / (proofs + "hour_root.sig"));
  r = verify_store(s.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  // Hour 12 is not the last record's hour: the same there is a failure.
  fs::remove(s / "windows/2026/11/30/12/proofs/chain.sig");
  r = verify_store(s.out(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_PROBLEM(*r, "windows/2026/11/30/12/proofs/chain.sig", stem_path(s.records()[8]),
                 "missing signature");
}

TEST_F(VerifyStore, AStoreSealedIntoWhileItIsVerifiedStillVerifies) {
  Store s;
  const MicroRecord last = s.records().back();
  int64_t now = last.slot_start_ns + static_cast<int64_t>(kHourNs);  // the next hour
  uint64_t seq = last.end_seq();
  bool sealed = false;
  VerifyOptions o;
  o.pinned_key = key_fingerprint(base().key.public_key());
  o.progress_interval = std::chrono::milliseconds(0);
  // The first progress report comes after the window log was read: seal three more windows
  // (in a new hour, so an hour is closed too) then, as a running sensor would.
  o.progress = [&](const VerifyProgress&) {
    if (sealed) return;
    sealed = true;
    SealerOptions so;
    so.out_dir = s.out();
    so.node_id = kNodeId;
    so.run.run_id = 2;
    so.run.boot_id.fill(7);
    so.clock = [&now] { return now; };
    auto sealer = Sealer::open(
        so, NamedSigningKey{kKeyName, SigningKey::from_seed(base().key.seed()).value()});
    ASSERT_TRUE(sealer.ok()) << sealer.error().message;
    for (int w = 0; w < 3; ++w) {
      std::vector<capture::Event> v;
      for (int i = 0; i < 4; ++i) v.push_back(make_event(seq++, now));
      ASSERT_TRUE((*sealer)->add(v).ok());
      now += 10 * kSec;
      ASSERT_TRUE((*sealer)->tick().ok());
    }
  };
  auto r = verify_store(s.out(), o);
  ASSERT_TRUE(sealed);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << dump(*r);
  EXPECT_EQ(r->log_records, base().windows);
  bool noted = false;
  for (const auto& n : r->notes) noted = noted || n.find("sealed while") != std::string::npos;
  EXPECT_TRUE(noted) << dump(*r);
}

// ---- the tamper corpus

TEST_F(VerifyTamper, AFlippedByteInABlock) {
  Store s;
  const MicroRecord r = s.window_with(30);
  Bytes z = test::read_file_bytes(s / s.block_path(r, 0));
  z[z.size() / 2] ^= 0x10;
  test::write_file_bytes(s / s.block_path(r, 0), z);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, s.block_path(r, 0), stem_path(r), "BLAKE3 differs");
  const VerifyProblem* p = find_problem(rep, s.block_path(r, 0), stem_path(r), "BLAKE3");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->log_index, r.log_index);
}

TEST_F(VerifyTamper, AnEventDroppedFromABlockAndRecompressed) {
  Store s;
  const MicroRecord r = s.window_with(30);
  auto atoms = s.atoms(r, 0);
  atoms.erase(atoms.begin() + 10);  // seq first_seq + 10
  s.write_block(r, 0, atoms);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  // The atom after the gap is named by its seq.
  EXPECT_PROBLEM(rep, s.block_path(r, 0), stem_path(r), "where " + std::to_string(r.first_seq + 10),
                 r.first_seq + 11);
  EXPECT_PROBLEM(rep, s.block_path(r, 0), stem_path(r), "BLAKE3 differs");
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "micro root differs");
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "event count");
}

TEST_F(VerifyTamper, TwoEventsSwappedInABlockAndRecompressed) {
  Store s;
  const MicroRecord r = s.window_with(30);
  auto atoms = s.atoms(r, 0);
  std::swap(atoms[3], atoms[4]);
  s.write_block(r, 0, atoms);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, s.block_path(r, 0), stem_path(r), "has seq", r.first_seq + 4);
  EXPECT_PROBLEM(rep, s.block_path(r, 0), stem_path(r), "has seq", r.first_seq + 3);
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "micro root differs");
}

TEST_F(VerifyTamper, AnEventEditedInTheBigWindowsSecondBlock) {
  Store s;
  const MicroRecord r = s.window_with(kBigWindowEvents, 2);
  auto atoms = s.atoms(r, 1);
  // Change the pid of one atom (a valid atom, so only the hashes can tell).
  auto e = capture::decode_event_atom(atoms[7]).value();
  e.pid += 1;
  atoms[7].clear();
  capture::encode_event_atom(e, r.run.boot_id, atoms[7]);
  s.write_block(r, 1, atoms);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, s.block_path(r, 1), stem_path(r), "BLAKE3 differs");
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "micro root differs");
}

TEST_F(VerifyTamper, ADeletedMicroFile) {
  Store s;
  const MicroRecord r = s.records()[2];
  fs::remove(s / micro_path(r));
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "missing micro record");
}

TEST_F(VerifyTamper, ADeletedBlock) {
  Store s;
  const MicroRecord r = s.window_with(kBigWindowEvents, 2);
  fs::remove(s / s.block_path(r, 1));
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, s.block_path(r, 1), stem_path(r), "missing block");
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "event count");
}

TEST_F(VerifyTamper, AMicroRootReplacedAndReSignedWithAnotherKey) {
  Store s;
  const MicroRecord r = s.window_with(30);
  MicroRecord forged = r;
  forged.micro_root[0] ^= 1;
  const Bytes bytes = encode(forged);
  const SigningKey attacker = SigningKey::generate();
  test::write_file_bytes(s / micro_path(r), bytes);
  test::write_file_bytes(s / micro_sig_path(r), encode(make_signature(kKeyName, attacker, bytes)));
  auto frames = s.log_frames();
  frames[r.log_index] = bytes;
  s.write_frames(frames);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, micro_sig_path(r), stem_path(r), "not one of the store's keys");
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "micro root differs");
  EXPECT_PROBLEM(rep, kCheckpointLogFile, stem_path(r), "root differs");
}

TEST_F(VerifyTamper, AWindowLogCutShortWhileItsBlocksAndMicroRemain) {
  Store s;
  auto frames = s.log_frames();
  const MicroRecord last = decode_micro(frames.back()).value();
  frames.pop_back();
  s.write_frames(frames);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  // The checkpoints cover a record the log no longer has.
  EXPECT_PROBLEM(rep, kCheckpointLogFile, "", "the window log was truncated");
  // The cut record's files are named, as files no record names, with their window.
  EXPECT_PROBLEM(rep, micro_path(last), stem_path(last), "no record names it");
  EXPECT_PROBLEM(rep, s.block_path(last, 0), stem_path(last), "no record names it");
}

TEST_F(VerifyTamper, AnEditedHourRoot) {
  Store s;
  const std::string file = "windows/2026/11/30/12/proofs/hour_root.cbor";
  HourRecord h = decode_hour(test::read_file_bytes(s / file)).value();
  h.event_count += 1;
  test::write_file_bytes(s / file, encode(h));
  const MicroRecord last_of_hour = s.records()[h.first_log_index + h.window_count - 1];
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, file, stem_path(last_of_hour), "event_count");
  EXPECT_PROBLEM(rep, "windows/2026/11/30/12/proofs/hour_root.sig", stem_path(last_of_hour),
                 "does not verify");
  EXPECT_PROBLEM(rep, "windows/2026/11/30/12/proofs/chain.cbor", stem_path(last_of_hour),
                 "hour_root_b3");
}

TEST_F(VerifyTamper, AnHourRootRecomputedAndReSignedWithAnAttackerKey) {
  Store s;
  const std::string file = "windows/2026/11/30/13/proofs/hour_root.cbor";
  HourRecord h = decode_hour(test::read_file_bytes(s / file)).value();
  h.hour_root[5] ^= 0x80;
  const Bytes bytes = encode(h);
  const SigningKey attacker = SigningKey::generate();
  test::write_file_bytes(s / file, bytes);
  test::write_file_bytes(s / "windows/2026/11/30/13/proofs/hour_root.sig",
                         encode(make_signature(kKeyName, attacker, bytes)));
  const MicroRecord last_of_hour = s.records()[h.first_log_index + h.window_count - 1];
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, file, stem_path(last_of_hour), "hour_root differs");
  EXPECT_PROBLEM(rep, "windows/2026/11/30/13/proofs/hour_root.sig", stem_path(last_of_hour),
                 "not one of the store's keys");
}

TEST_F(VerifyTamper, ACheckpointFrameRemovedFromTheMiddle) {
  Store s;
  auto cps = s.log_frames(kCheckpointLogFile);
  cps.erase(cps.begin() + 3);  // the checkpoint for size 4
  s.write_frames(cps, kCheckpointLogFile);
  const MicroRecord r3 = s.records()[3];
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, kCheckpointLogFile, stem_path(r3), "no checkpoint for log size 4");
  EXPECT_PROBLEM(rep, kCheckpointLogFile, stem_path(s.records()[4]), "out of place");
  EXPECT_FALSE(rep.checkpoints_consistent);
}

TEST_F(VerifyTamper, AnEditedCatalogEntry) {
  Store s;
  const MicroRecord r = s.window_with(30);
  const std::string file = catalog_path(r.slot_start_ns);
  auto cat = read_catalog_file(s / file);
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  bool edited = false;
  for (auto& w : cat->windows) {
    if (w.log_index == r.log_index) {
      w.event_count += 1;
      edited = true;
    }
  }
  ASSERT_TRUE(edited);
  test::write_file_bytes(s / file, zstd_compress(encode(*cat)).value());
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  bool named = false;
  for (const auto& p : rep.problems) {
    const std::string text = p.to_string();
    named = named ||
            (text.find(file) != std::string::npos && text.find(stem_path(r)) != std::string::npos);
  }
  EXPECT_TRUE(named) << "expected a problem naming " << file << " and " << stem_path(r) << ":\n"
                     << dump(rep);
}

TEST_F(VerifyTamper, AMicroFieldEditedInBothTheMicroFileAndTheLogFrame) {
  Store s;
  const MicroRecord r = s.window_with(30);
  MicroRecord forged = r;
  forged.loss_count += 100;
  const Bytes bytes = encode(forged);
  test::write_file_bytes(s / micro_path(r), bytes);
  auto frames = s.log_frames();
  frames[r.log_index] = bytes;
  s.write_frames(frames);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, micro_sig_path(r), stem_path(r), "does not verify");
  EXPECT_PROBLEM(rep, micro_path(r), stem_path(r), "loss count");
  EXPECT_PROBLEM(rep, kCheckpointLogFile, stem_path(r), "root differs");
}

TEST_F(VerifyTamper, AnUnlistedFileInWindows) {
  Store s;
  const MicroRecord r = s.records()[0];
  const std::string extra =
      block_dir(r) + "/" +
      block_file_name(window_stem(slot_in_hour(r.slot_start_ns, r.window_ns), r.part), 7);
  test::write_file_bytes(s / extra, as_bytes(std::string_view("smuggled")));
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, extra, stem_path(r), "not named by any window-log record");
}

TEST_F(VerifyTamper, AWrongPinnedKey) {
  Store s;
  const std::string other = key_fingerprint(SigningKey::generate().public_key());
  const VerifyReport rep = verify(s, other);
  EXPECT_FALSE(rep.ok());
  EXPECT_FALSE(rep.pinned);
  EXPECT_PROBLEM(rep, kKeysFile, "", "none of the store's keys");
  const MicroRecord r = s.records()[0];
  EXPECT_PROBLEM(rep, micro_sig_path(r), stem_path(r), "does not vouch");
}

TEST_F(VerifyTamper, AnAtomReplacedByABytesEncodingOfUtf8) {
  // A structurally valid CBOR change the hashes catch, and the strict scan names by seq.
  Store s;
  const MicroRecord r = s.window_with(30);
  auto atoms = s.atoms(r, 0);
  Bytes& a = atoms[2];
  const std::string comm = "worker";
  // comm is text "worker" (0x66 ...): make it a byte string (0x46 ...) of the same bytes.
  const Bytes text_head = {0x66, 'w', 'o', 'r', 'k', 'e', 'r'};
  auto it = std::search(a.begin(), a.end(), text_head.begin(), text_head.end());
  ASSERT_NE(it, a.end());
  *it = 0x46;
  s.write_block(r, 0, atoms);
  const VerifyReport rep = verify(s);
  EXPECT_FALSE(rep.ok());
  EXPECT_PROBLEM(rep, s.block_path(r, 0), stem_path(r), "must be encoded as a text string",
                 r.first_seq + 2);
}

// ---- the command

TEST_F(VerifyCli, JsonWithThePinnedFingerprintAndExitCodes) {
  Store s;
  const std::string fp = key_fingerprint(base().key.public_key());
  const std::string base_dir = s.dir.path().string();
  auto run = test::run_program(
      {RITMA_BIN, "verify", "--store", "--base-dir", base_dir, "--key", fp, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_TRUE(j["pinned"].get<bool>());
  EXPECT_EQ(j["events"].get<uint64_t>(), base().events);
  EXPECT_EQ(j["windows"].get<uint64_t>(), base().windows);
  EXPECT_EQ(j["lost_records"].get<uint64_t>(), base().lost);
  EXPECT_EQ(j["filtered_records"].get<uint64_t>(), base().filtered);
  EXPECT_EQ(j["hours_closed"].get<uint64_t>(), 2u);
  EXPECT_EQ(j["signer"]["fingerprint"].get<std::string>(), fp);
  EXPECT_TRUE(j["problems"].empty());
  EXPECT_TRUE(j["unsealed"].is_array());
  EXPECT_TRUE(j["checkpoints_consistent"].get<bool>());

  // Human output, not pinned: exit 0 and says so.
  run = test::run_program({RITMA_BIN, "verify", "--store", "--base-dir", base_dir});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("VERIFIED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("NOT pinned"), std::string::npos) << run.out;

  // A wrong key: exit 1.
  const std::string other = key_fingerprint(SigningKey::generate().public_key());
  run = test::run_program(
      {RITMA_BIN, "verify", "--store", "--base-dir", base_dir, "--key", other, "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_FALSE(nlohmann::json::parse(run.out)["ok"].get<bool>());

  // Tampered: exit 1, the problem on stdout.
  const MicroRecord r = s.records()[1];
  fs::remove(s / micro_path(r));
  run = test::run_program({RITMA_BIN, "verify", "--store", "--base-dir", base_dir, "--key", fp});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find(micro_path(r)), std::string::npos) << run.out;

  // No store, or a bad option: exit 2.
  run = test::run_program(
      {RITMA_BIN, "verify", "--store", "--base-dir", (s.dir.path() / "none").string()});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  run = test::run_program(
      {RITMA_BIN, "verify", "--store", "--base-dir", base_dir, "--from", "yesterday-ish"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
}

}  // namespace
}  // namespace ritma::seal
