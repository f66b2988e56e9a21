// The sealer: windows, blocks, micro records, the window log and its checkpoints, hour roots
// and chain links, restarts within a slot, and recovery from what a crash leaves behind.
#include "seal/sealer.h"

#include <gtest/gtest.h>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/merkle.h"
#include "core/signed_note.h"
#include "core/zstd_codec.h"
#include "seal/key_rotation.h"
#include "seal/sealed_reader.h"
#include "seal/store_verifier.h"
#include "test_util.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;

// 2026-11-30T12:59:30Z
constexpr int64_t kStart = 1'796'043'570'000'000'000;
constexpr int64_t kSec = 1'000'000'000;

struct Fixture {
  test::TempDir dir;
  int64_t now = kStart;
  SigningKey key = SigningKey::generate();
  uint64_t next_seq = 0;

  fs::path out() const { return dir.path() / "RITMA_OUT"; }
  NamedSigningKey named() const {
    return NamedSigningKey{"ritma-node-test", SigningKey::from_seed(key.seed()).value()};
  }
  SealerOptions options(uint64_t run_id = 1) {
    SealerOptions o;
    o.out_dir = out();
    o.node_id = "test";
    o.run.run_id = run_id;
    o.run.boot_id.fill(7);
    o.run.sensor_version = "test";
    o.run.config_digest = "00";
    o.clock = [this] { return now; };
    return o;
  }
  std::unique_ptr<Sealer> open(uint64_t run_id = 1) {
    auto s = Sealer::open(options(run_id), named());
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::vector<capture::Event> events(size_t n,
                                     capture::EventType type = capture::EventType::kExec) {
    std::vector<capture::Event> v(n);
    for (auto& e : v) {
      e.seq = next_seq++;
      e.type = type;
      e.wall_ns = now;
      e.pid = 100 + static_cast<uint32_t>(e.seq % 7);
      e.comm = "sh";
      e.path = "/bin/true";
      e.argv = {"true", std::to_string(e.seq)};
      if (type == capture::EventType::kLoss) e.count = 5;
    }
    return v;
  }
  std::vector<MicroRecord> records() const {
    std::vector<MicroRecord> out_records;
    auto data = read_file(out() / kWindowLogFile, 1u << 30);
    EXPECT_TRUE(data.ok());
    for (ByteSpan f : scan_frames(*data).frames) out_records.push_back(decode_micro(f).value());
    return out_records;
  }
};

std::vector<Bytes> atoms_of(const fs::path& out, const MicroRecord& r) {
  std::vector<Bytes> atoms;
  for (const auto& b : r.blocks) {
    const Bytes z = read_file(out / block_dir(r) / b.file).value();
    EXPECT_EQ(blake3(z), b.b3);
    const Bytes raw = zstd_decompress(z, 64u << 20).value();
    EXPECT_EQ(raw.size(), b.raw_bytes);
    // Split the CBOR sequence by re-encoding each decoded atom (atoms are canonical).
    size_t pos = 0;
    while (pos < raw.size()) {
      size_t len = 1;
      while (pos + len <= raw.size() &&
             !capture::decode_event_atom(ByteSpan(raw).subspan(pos, len)).ok())
        ++len;
      if (pos + len > raw.size()) {
        ADD_FAILURE() << "trailing bytes in block at " << pos;
        break;
      }
      atoms.emplace_back(raw.begin() + static_cast<long>(pos),
                         raw.begin() + static_cast<long>(pos + len));
      pos += len;
    }
  }
  return atoms;
}

TEST(Sealer, SealsWindowsWithRootsSignaturesAndCheckpoints) {
  Fixture f;
  auto s = f.open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->recovery().created);
  ASSERT_TRUE(s->add(f.events(50)).ok());
  ASSERT_TRUE(s->add(f.events(3, capture::EventType::kLoss)).ok());
  f.now += 10 * kSec;  // the slot ends: the next call seals it
  ASSERT_TRUE(s->tick().ok());
  EXPECT_EQ(s->log_size(), 1u);
  ASSERT_TRUE(s->add(f.events(5)).ok());
  ASSERT_TRUE(s->flush_window().ok());
  EXPECT_EQ(s->log_size(), 2u);

  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 2u);
  const MicroRecord& r = recs[0];
  EXPECT_EQ(r.log_index, 0u);
  EXPECT_EQ(r.first_seq, 0u);
  EXPECT_EQ(r.event_count, 53u);
  EXPECT_EQ(r.loss_count, 15u);
  EXPECT_EQ(recs[1].first_seq, 53u);
  EXPECT_EQ(stem_path(r), "windows/2026/11/30/12/micro/w357");
  // The micro file holds the log frame's bytes, and its signature verifies.
  const Bytes micro = read_file(f.out() / micro_path(r)).value();
  EXPECT_EQ(micro, encode(r));
  const auto sig = decode_signature(read_file(f.out() / micro_sig_path(r)).value()).value();
  EXPECT_TRUE(check_signature(sig, micro));
  EXPECT_EQ(sig.public_key, f.key.public_key());
  // The micro root is MTH over the atoms in the blocks.
  const auto atoms = atoms_of(f.out(), r);
  ASSERT_EQ(atoms.size(), 53u);
  std::vector<Hash32> leaves;
  for (const auto& a : atoms) leaves.push_back(merkle::leaf_hash(a));
  EXPECT_EQ(merkle::root_from_leaf_hashes(leaves), r.micro_root);
  // One checkpoint per record, each signed, with the recomputed log root.
  const Bytes cps = read_file(f.out() / kCheckpointLogFile).value();
  const auto frames = scan_frames(cps).frames;
  ASSERT_EQ(frames.size(), 2u);
  NamedPublicKey pub{"ritma-node-test", f.key.public_key(),
                     note_key_id("ritma-node-test", f.key.public_key())};
  std::vector<Hash32> log_leaves;
  for (size_t i = 0; i < 2; ++i) {
    log_leaves.push_back(merkle::leaf_hash(encode(recs[i])));
    auto n = note::open(as_chars(frames[i]), {pub});
    ASSERT_TRUE(n.ok()) << n.error().message;
    const auto cp = note::parse_checkpoint_body(n->body).value();
    EXPECT_EQ(cp.size, i + 1);
    EXPECT_EQ(cp.root, merkle::root_from_leaf_hashes(log_leaves));
    EXPECT_EQ(cp.origin, checkpoint_origin("test", s->store().store_id));
  }
  EXPECT_EQ(as_chars(read_file(f.out() / kCheckpointFile).value()), as_chars(frames[1]));
}

TEST(Sealer, EmptyWindowsAreSealedToo) {
  Fixture f;
  auto s = f.open();
  ASSERT_TRUE(s);
  f.now += 10 * kSec;
  ASSERT_TRUE(s->tick().ok());
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].event_count, 0u);
  EXPECT_TRUE(recs[0].blocks.empty());
  EXPECT_EQ(recs[0].micro_root, merkle::empty_root());
}

TEST(Sealer, RefusesEventsThatAreNotContiguous) {
  Fixture f;
  auto s = f.open();
  ASSERT_TRUE(s);
  auto ev = f.events(3);
  ev[2].seq = 9;
  const auto st = s->add(ev);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("does not follow"), std::string::npos);
}

// A run that starts later in the boot's sequence than the store's last sealed event (the
// previous run's window in flight was lost) and whose first window ends before its first event
// arrives (a loaded machine): the empty window records the run's first seq, so the run's windows
// are contiguous (found by the twenty-SIGKILL test under load, where an empty window carried the
// previous run's end instead).
TEST(Sealer, AnEmptyFirstWindowOfARunRecordsTheRunsFirstSeq) {
  Fixture f;
  {
    auto s = f.open(1);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  f.now += 20 * kSec;
  auto s = f.open(2);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->start_run_at(2).ok()) << "before the end of what the boot sealed";
  ASSERT_TRUE(s->start_run_at(10).ok());
  f.now += 10 * kSec;
  ASSERT_TRUE(s->tick().ok());  // the run's first window, empty
  f.next_seq = 9;
  EXPECT_FALSE(s->add(f.events(1)).ok()) << "not the run's next seq";
  f.next_seq = 10;
  ASSERT_TRUE(s->add(f.events(2)).ok());
  ASSERT_TRUE(s->flush_window().ok());
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].event_count, 0u);
  EXPECT_EQ(recs[1].first_seq, 10u);
  EXPECT_EQ(recs[2].first_seq, 10u);
  // (The synthetic runs do not start with gap events; only the sequence is checked here.)
  VerifyOptions vo;
  auto v = verify_store(f.out(), vo);
  ASSERT_TRUE(v.ok());
  for (const auto& p : v->problems)
    EXPECT_EQ(p.message.find("seq"), std::string::npos) << p.to_string();
  EXPECT_EQ(v->problems.size(), 2u);  // the two runs' missing gap events
}

TEST(Sealer, ClosesAnHourWithRootAndChainWhenTheNextHourBegins) {
  Fixture f;
  auto s = f.open();
  ASSERT_TRUE(s);
  for (int i = 0; i < 3; ++i) {  // 12:59:30, :40, :50
    ASSERT_TRUE(s->add(f.events(4)).ok());
    f.now += 10 * kSec;
    ASSERT_TRUE(s->tick().ok());
  }
  // Now 13:00:00: the window just opened is in hour 13, so hour 12 is closed.
  const std::string proofs = "windows/2026/11/30/12/proofs/";
  ASSERT_TRUE(fs::exists(f.out() / (proofs + "hour_root.cbor")));
  const auto hour = decode_hour(read_file(f.out() / (proofs + "hour_root.cbor")).value()).value();
  EXPECT_EQ(hour.first_log_index, 0u);
  EXPECT_EQ(hour.window_count, 3u);
  EXPECT_EQ(hour.event_count, 12u);
  EXPECT_EQ(hour.closing.tree_size, 3u);
  const auto recs = f.records();
  merkle::TreeBuilder roots, log;
  for (const auto& r : recs) {
    roots.add_leaf(r.micro_root);
    log.add_leaf(encode(r));
  }
  EXPECT_EQ(hour.hour_root, roots.root());
  EXPECT_EQ(hour.closing.root, log.root());
  const Bytes hour_bytes = read_file(f.out() / (proofs + "hour_root.cbor")).value();
  const auto hsig = decode_signature(read_file(f.out() / (proofs + "hour_root.sig")).value());
  EXPECT_TRUE(check_signature(hsig.value(), hour_bytes));
  const auto chain = decode_chain(read_file(f.out() / (proofs + "chain.cbor")).value()).value();
  EXPECT_FALSE(chain.previous);
  EXPECT_EQ(chain.closing, hour.closing);
  EXPECT_EQ(chain.hour_root_b3, blake3(hour_bytes));

  // Hour 13 closes at 14:00 and its chain link names hour 12's closing checkpoint.
  ASSERT_TRUE(s->add(f.events(2)).ok());
  f.now += 3600 * kSec;
  ASSERT_TRUE(s->tick().ok());  // seals the 13:00:00 window, opens one in hour 14
  const auto chain13 =
      decode_chain(read_file(f.out() / "windows/2026/11/30/13/proofs/chain.cbor").value()).value();
  ASSERT_TRUE(chain13.previous);
  EXPECT_EQ(chain13.previous->first, hour.hour_start_ns);
  EXPECT_EQ(chain13.previous->second, hour.closing);
  EXPECT_EQ(chain13.closing.tree_size, 4u);
}

TEST(Sealer, RestartWithinASlotUsesTheNextPartAndContinuesTheLog) {
  Fixture f;
  {
    auto s = f.open(1);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  f.now += 2 * kSec;
  auto s = f.open(2);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->recovery().created);
  EXPECT_EQ(s->recovery().log_records, 1u);
  ASSERT_TRUE(s->recovery().last_sealed_seq);
  EXPECT_EQ(*s->recovery().last_sealed_seq, 2u);
  ASSERT_TRUE(s->add(f.events(2)).ok());
  ASSERT_TRUE(s->flush_window().ok());
  const auto recs = f.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(stem_path(recs[1]), "windows/2026/11/30/12/micro/w357-1");
  EXPECT_EQ(recs[1].run.run_id, 2u);
  EXPECT_EQ(recs[1].log_index, 1u);
}

TEST(Sealer, RecoversTornTailsMissingCheckpointsAndLeftoverFiles) {
  Fixture f;
  {
    auto s = f.open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  // A crash after the log append but before the checkpoint: drop the last checkpoint frame
  // and add a torn fragment to the window log; a block of a window that never reached the log.
  const fs::path cps = f.out() / kCheckpointLogFile;
  const Bytes cp_data = test::read_file_bytes(cps);
  const auto scan = scan_frames(cp_data);
  fs::resize_file(cps, scan.offsets[1]);
  {
    const Bytes log = test::read_file_bytes(f.out() / kWindowLogFile);
    Bytes torn = log;
    torn.push_back(0x40);
    torn.push_back(0x01);
    test::write_file_bytes(f.out() / kWindowLogFile, torn);
  }
  const std::string leftover = "windows/2026/11/30/12/blocks/w357-9.b0.zst";
  test::write_file_bytes(f.out() / leftover, Bytes{1, 2, 3});

  auto s = f.open();
  ASSERT_TRUE(s);
  const auto& rep = s->recovery();
  EXPECT_EQ(rep.torn_log_bytes, 2u);
  EXPECT_EQ(rep.checkpoints_completed, 1u);
  ASSERT_EQ(rep.moved_to_unsealed.size(), 1u);
  EXPECT_EQ(rep.moved_to_unsealed[0], leftover);
  EXPECT_TRUE(fs::exists(f.out() / "unsealed" / leftover));
  EXPECT_FALSE(fs::exists(f.out() / leftover));
  EXPECT_EQ(scan_frames(test::read_file_bytes(cps)).frames.size(), 2u);
  EXPECT_FALSE(rep.notes().empty());
}

TEST(Sealer, ClosesAnHourThatEndedWhileTheSensorWasDown) {
  Fixture f;
  {
    auto s = f.open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  f.now += 2 * 3600 * kSec;
  auto s = f.open(2);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->recovery().hours_closed, 1u);
  EXPECT_TRUE(fs::exists(f.out() / "windows/2026/11/30/12/proofs/chain.cbor"));
}

TEST(Sealer, RefusesAKeyThatIsNotTheStoresCurrentKey) {
  Fixture f;
  { ASSERT_TRUE(f.open()); }
  auto s = Sealer::open(f.options(), NamedSigningKey{"ritma-node-test", SigningKey::generate()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("is not the current key"), std::string::npos);
}

TEST(Sealer, HashOnlyPrivacyReplacesStringsWithAKeyedHash) {
  Hash32 secret{};
  secret.fill(1);
  capture::Event e;
  e.comm = "bash";
  e.path = "/etc/shadow";
  e.argv = {"cat", "/etc/shadow"};
  capture::Event e2 = e;
  apply_hash_only(secret, e);
  EXPECT_EQ(e.comm.substr(0, 2), "k:");
  EXPECT_EQ(e.comm.size(), 34u);
  EXPECT_EQ(e.path, e.argv[1]);  // same string, same value: joins still work
  EXPECT_TRUE(e.exe.empty());    // empty stays empty
  secret.fill(2);
  apply_hash_only(secret, e2);
  EXPECT_NE(e.path, e2.path);  // another store's secret gives other values
}

}  // namespace
}  // namespace ritma::seal

namespace ritma::seal {
namespace {

TEST(KeyRotation, NewKeyTakesOverWithAHandOverSignedByTheOldKey) {
  Fixture f;
  const fs::path keys_dir = f.out() / "_meta/keys";
  {
    auto s = f.open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(f.events(2)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  ASSERT_TRUE(write_private_key_file(keys_dir / "node.key", f.named()).ok());
  ASSERT_TRUE(
      write_public_key_file(keys_dir / "node.pub", "ritma-node-test", f.key.public_key()).ok());
  const auto rotated =
      rotate_store_key(f.out(), keys_dir / "node.key", keys_dir / "node.pub", f.now + kSec);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(rotated->previous.public_key, f.key.public_key());
  const auto keys = decode_keys(read_file(f.out() / kKeysFile).value()).value();
  ASSERT_EQ(keys.keys.size(), 2u);
  EXPECT_TRUE(check_key_chain(keys).ok());
  EXPECT_EQ(*keys.keys[0].valid_until_ns, keys.keys[1].valid_from_ns);
  // The old key can no longer seal; the new one can.
  f.now += 2 * kSec;
  EXPECT_FALSE(Sealer::open(f.options(2), f.named()).ok());
  auto new_key = load_private_key_file(keys_dir / "node.key");
  ASSERT_TRUE(new_key.ok());
  EXPECT_EQ(new_key->key.public_key(), rotated->current.public_key);
  auto s = Sealer::open(f.options(2), std::move(new_key).value());
  ASSERT_TRUE(s.ok()) << s.error().message;
  // A forged hand-over (signed by another key) is refused.
  auto forged = keys;
  forged.keys[1].handover->second =
      SigningKey::generate().sign(signature_message(encode_handover_message(forged.keys[1])));
  EXPECT_FALSE(check_key_chain(forged).ok());
}

}  // namespace
}  // namespace ritma::seal

namespace ritma::seal {
namespace {

TEST(SealedReader, ReadsBackTheEventsOfATimeRange) {
  Fixture f;
  auto s = f.open();
  ASSERT_TRUE(s);
  std::vector<capture::Event> all;
  for (int w = 0; w < 4; ++w) {
    auto ev = f.events(10);
    for (size_t i = 0; i < ev.size(); ++i) ev[i].wall_ns = f.now + static_cast<int64_t>(i);
    ASSERT_TRUE(s->add(ev).ok());
    all.insert(all.end(), ev.begin(), ev.end());
    f.now += 10 * kSec;
    ASSERT_TRUE(s->tick().ok());
  }
  // Windows 1 and 2 (by wall time), not 0 or 3.
  const auto r = read_sealed_events(f.out(), kStart + 10 * kSec, kStart + 30 * kSec);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->events.size(), 20u);
  EXPECT_EQ(r->events.front().seq, 10u);
  EXPECT_EQ(r->events.back().seq, 29u);
  EXPECT_EQ(r->events[3].argv, all[13].argv);
  EXPECT_EQ(r->windows_read, 2u);
  // A block that does not match its record is an error, not a silent skip.
  const auto recs = f.records();
  const fs::path block = f.out() / block_dir(recs[1]) / recs[1].blocks[0].file;
  Bytes z = test::read_file_bytes(block);
  z[z.size() / 2] ^= 1;
  test::write_file_bytes(block, z);
  const auto bad = read_sealed_events(f.out(), kStart + 10 * kSec, kStart + 30 * kSec);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("BLAKE3 does not match"), std::string::npos);
}

}  // namespace
}  // namespace ritma::seal

namespace ritma::seal {
namespace {

TEST(Sealer, FinishesRecordsWhoseSignatureACrashKeptFromBeingWritten) {
  Fixture f;
  {
    auto s = f.open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  f.now += 2 * 3600 * kSec;
  { ASSERT_TRUE(f.open(2)); }  // closes hour 12
  const fs::path proofs = f.out() / "windows/2026/11/30/12/proofs";
  // A crash right after hour_root.cbor / store.cbor were written, before their signatures.
  fs::remove(proofs / "hour_root.sig");
  fs::remove(proofs / "chain.cbor");
  fs::remove(proofs / "chain.sig");
  fs::remove(f.out() / kStoreSigFile);
  auto s = f.open(3);
  ASSERT_TRUE(s);
  for (const char* name : {"hour_root", "chain"}) {
    const Bytes rec = read_file(proofs / (std::string(name) + ".cbor")).value();
    const auto sig = decode_signature(read_file(proofs / (std::string(name) + ".sig")).value());
    ASSERT_TRUE(sig.ok()) << name;
    EXPECT_TRUE(check_signature(*sig, rec)) << name;
  }
  const auto store_sig = decode_signature(read_file(f.out() / kStoreSigFile).value());
  ASSERT_TRUE(store_sig.ok());
  EXPECT_TRUE(check_signature(*store_sig, read_file(f.out() / kStoreFile).value()));
}

}  // namespace
}  // namespace ritma::seal

namespace ritma::seal {
namespace {

TEST(SealedReader, RitmaEventsReadsTheSealedStoreWhenAsked) {
  Fixture f;
  auto s = f.open();
  ASSERT_TRUE(s);
  for (int w = 0; w < 3; ++w) {
    ASSERT_TRUE(s->add(f.events(10)).ok());
    f.now += 10 * kSec;
    ASSERT_TRUE(s->tick().ok());
  }
  const auto r = test::run_program({RITMA_BIN, "events", "--base-dir", f.dir.path().string(),
                                    "--source", "sealed", "--json", "--from",
                                    "2026-11-30T12:59:40Z", "--to", "2026-11-30T12:59:50Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 10u) << r.out;
  EXPECT_NE(r.out.find("\"seq\":10"), std::string::npos) << r.out.substr(0, 400);
  EXPECT_NE(r.err.find("sealed window"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ritma::seal

namespace ritma::seal {
namespace {

std::string problems_of(const VerifyReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p.file + ": " + p.message + "\n";
  return s;
}

// A run's first event says how the previous run ended (FORMAT.md §9, gap).
std::vector<capture::Event> gap_event(Fixture& f, uint64_t how, uint64_t sealed_end) {
  auto v = f.events(1, capture::EventType::kGap);
  v[0].arg0 = how;
  v[0].arg1 = how == 0 ? 0 : 1;
  v[0].arg3 = sealed_end;
  return v;
}

TEST(Sealer, DerivedFilesACrashLeftOneWindowBehindVerifyAndAreCompletedOnRestart) {
  Fixture f;
  const fs::path saved = f.dir.path() / "saved";
  {
    auto s = f.open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(gap_event(f, 0, 0)).ok());
    ASSERT_TRUE(s->add(f.events(5)).ok());
    ASSERT_TRUE(s->flush_window().ok());
    // The derived files as they were after the first window.
    fs::create_directories(saved);
    fs::copy(f.out() / "index", saved / "index", fs::copy_options::recursive);
    fs::copy(f.out() / "catalog", saved / "catalog", fs::copy_options::recursive);
    fs::copy(f.out() / "accounting", saved / "accounting", fs::copy_options::recursive);
    ASSERT_TRUE(s->add(f.events(5, capture::EventType::kFile)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  // A crash after the second window's checkpoint, before its derived files.
  for (const char* d : {"index", "catalog", "accounting"}) {
    fs::remove_all(f.out() / d);
    fs::copy(saved / d, f.out() / d, fs::copy_options::recursive);
  }
  auto lagging = verify_store(f.out());
  ASSERT_TRUE(lagging.ok());
  EXPECT_TRUE(lagging->ok()) << problems_of(*lagging);
  // The same lag on a window that is not the newest is a problem: that is tampering.
  f.now += 2 * kSec;
  {
    auto s = f.open(2);  // replays the newest window's derived files
    ASSERT_TRUE(s);
    EXPECT_EQ(s->stats().derived_errors, 0u) << s->stats().last_derived_error;
    ASSERT_TRUE(s->add(gap_event(f, 1, f.next_seq)).ok());
    ASSERT_TRUE(s->add(f.events(3)).ok());
    ASSERT_TRUE(s->flush_window().ok());
  }
  auto after = verify_store(f.out());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ok()) << problems_of(*after);
  // Without the replay, the second window would now be missing from the catalog.
  fs::remove_all(f.out() / "catalog");
  fs::copy(saved / "catalog", f.out() / "catalog", fs::copy_options::recursive);
  auto stale = verify_store(f.out());
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->ok());
}

}  // namespace
}  // namespace ritma::seal
