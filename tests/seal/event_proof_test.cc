// The event inclusion proof `ritma-evproof@1`: `ritma prove` makes one for the first, a middle
// and the last event of a store and for an event in a window's second block; `ritma
// verify-event` accepts it (exit 0 pinned, 3 not pinned), refuses another key (1), and names
// what failed for every kind of tampering (1).
#include "seal/event_proof.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "capture/event_atom.h"
#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/key_file.h"
#include "core/signed_note.h"
#include "seal/key_rotation.h"
#include "seal/sealer.h"
#include "test_util.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSec = 1'000'000'000;
// 2026-11-30T12:59:30Z: the windows cross into hour 13.
constexpr int64_t kStart = 1'796'043'570 * kSec;
const std::string kNodeId = "test";
const std::string kKeyName = "ritma-node-" + kNodeId;

// Window sizes of the main store. Atoms of the second window carry ~1.4 KiB paths, so its
// 3,500 atoms need two blocks (4 MiB each at most); the fourth window is empty.
const std::vector<size_t> kWindows = {20, 3500, 10, 0, 5};
constexpr size_t kLongPathWindow = 1;
constexpr uint64_t kFirstSeq = 0;
constexpr uint64_t kMiddleSeq = 3525;  // in the third window (20 + 3500 + 5)
constexpr uint64_t kLastSeq = 3534;
constexpr uint64_t kSecondBlockSeq = 3300;  // well past the first block of window 1

capture::Event make_event(uint64_t seq, int64_t wall, size_t path_len) {
  capture::Event e;
  e.seq = seq;
  e.mono_ns = 1'000'000 + seq;
  e.wall_ns = wall;
  e.pid = 4000 + static_cast<uint32_t>(seq % 11);
  e.tid = e.pid;
  e.ppid = 1;
  e.comm = "worker";
  e.actor.fill(static_cast<uint8_t>(seq));
  if (seq % 3 == 0) {
    e.type = capture::EventType::kExec;
    e.path = "/usr/bin/ls";
    e.argv = {"ls", "-l", "/srv/" + std::to_string(seq)};
  } else {
    e.type = capture::EventType::kFile;
    e.op = 1;
    e.path = "/var/lib/app/f" + std::to_string(seq);
  }
  if (path_len > e.path.size()) e.path += std::string(path_len - e.path.size(), 'x');
  return e;
}

// Seals `counts` windows of one run into the store at `out` (creating it), then flushes.
Status seal_windows(const fs::path& out, NamedSigningKey key, uint64_t run_id, uint8_t boot,
                    uint64_t& seq, int64_t& now, const std::vector<size_t>& counts,
                    size_t long_path_window = SIZE_MAX) {
  SealerOptions o;
  o.out_dir = out;
  o.node_id = kNodeId;
  o.run.run_id = run_id;
  o.run.boot_id.fill(boot);
  o.run.sensor_version = "test";
  o.run.config_digest = "00";
  o.clock = [&now] { return now; };
  RITMA_ASSIGN_OR_RETURN(auto sealer, Sealer::open(o, std::move(key)));
  for (size_t w = 0; w < counts.size(); ++w) {
    std::vector<capture::Event> v;
    for (size_t i = 0; i < counts[w]; ++i)
      v.push_back(
          make_event(seq++, now + static_cast<int64_t>(i), w == long_path_window ? 1400 : 0));
    RITMA_TRY(sealer->add(v));
    now += 10 * kSec;
    RITMA_TRY(sealer->tick());
  }
  RITMA_TRY(sealer->flush_window());
  now += 10 * kSec;
  return {};
}

NamedSigningKey named(const SigningKey& k) {
  return NamedSigningKey{kKeyName, SigningKey::from_seed(k.seed()).value()};
}

struct Stores {
  test::TempDir dir;
  SigningKey key = SigningKey::generate();
  std::string error;
  // main/RITMA_OUT: the windows of kWindows, one run. two/RITMA_OUT: another store with the
  // same key, whose runs 1 (boot 1) and 2 (boot 2) both sealed seq 0..4.
  fs::path base(const char* which) const { return dir.path() / which; }
  fs::path out(const char* which) const { return base(which) / "RITMA_OUT"; }
  std::string fp() const { return key_fingerprint(key.public_key()); }
};

Stores* build_stores() {
  auto* s = new Stores;
  int64_t now = kStart;
  uint64_t seq = 0;
  Status st =
      seal_windows(s->out("main"), named(s->key), 1, 7, seq, now, kWindows, kLongPathWindow);
  if (st.ok()) {
    seq = 0;
    st = seal_windows(s->out("two"), named(s->key), 1, 1, seq, now, {10});
  }
  if (st.ok()) {
    seq = 0;
    st = seal_windows(s->out("two"), named(s->key), 2, 2, seq, now, {5});
  }
  if (!st.ok()) s->error = st.error().message;
  return s;
}

const Stores& stores() {
  static const std::unique_ptr<Stores> s(build_stores());
  return *s;
}

class EventProofTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(stores().error, ""); }
};

EventProof prove(uint64_t seq, const char* which = "main",
                 std::optional<uint64_t> run = std::nullopt) {
  ProveOutcome o = prove_event(stores().out(which), seq, run);
  EXPECT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
  return o.proof.value_or(EventProof{});
}

std::vector<Bytes> frames_of(const fs::path& file) {
  const Bytes data = read_file(file, 1u << 30).value();
  std::vector<Bytes> v;
  for (ByteSpan f : scan_frames(data).frames) v.emplace_back(f.begin(), f.end());
  return v;
}

// ---- the library

TEST_F(EventProofTest, ProvesFirstMiddleLastAndSecondBlockEvents) {
  const auto records = frames_of(stores().out("main") / kWindowLogFile);
  ASSERT_EQ(records.size(), kWindows.size() + 1);  // and the empty window of the flush
  struct Case {
    uint64_t seq, log_index, leaf_index, block;
  };
  for (const Case& c : {Case{kFirstSeq, 0, 0, 0}, Case{kMiddleSeq, 2, 5, 0},
                        Case{kLastSeq, 4, 4, 0}, Case{kSecondBlockSeq, 1, 3280, 1}}) {
    SCOPED_TRACE("seq " + std::to_string(c.seq));
    ProveOutcome o = prove_event(stores().out("main"), c.seq);
    ASSERT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
    const EventProof& p = *o.proof;
    EXPECT_EQ(o.block, c.block);
    EXPECT_EQ(p.seq, c.seq);
    EXPECT_EQ(p.log_index, c.log_index);
    EXPECT_EQ(p.leaf_index, c.leaf_index);
    EXPECT_EQ(p.log_size, records.size());
    EXPECT_EQ(p.micro, records[c.log_index]);
    // The newest checkpoint, byte for byte.
    EXPECT_EQ(p.checkpoint,
              std::string(as_chars(frames_of(stores().out("main") / kCheckpointLogFile).back())));
    const Bytes enc = encode(p);
    auto back = decode_event_proof(enc);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(encode(*back), enc);
    auto v = verify_event_proof(enc, stores().fp());
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->event.seq, c.seq);
    EXPECT_EQ(v->log_index, c.log_index);
    EXPECT_EQ(v->checkpoint_size, records.size());
    EXPECT_TRUE(v->pinned);
    EXPECT_EQ(v->key_fingerprint, stores().fp());
    EXPECT_EQ(v->checkpoint_key_fingerprint, stores().fp());
    EXPECT_EQ(v->window, stem_path(decode_micro(records[c.log_index]).value()));
    // Unpinned: consistent, not pinned.
    auto u = verify_event_proof(enc);
    ASSERT_TRUE(u.ok()) << u.error().message;
    EXPECT_FALSE(u->pinned);
  }
}

TEST_F(EventProofTest, TheDecoderIsStrict) {
  const Bytes good = encode(prove(kFirstSeq));
  ASSERT_TRUE(decode_event_proof(good).ok());
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode_event_proof(trailing).ok());
  EventProof p = decode_event_proof(good).value();
  auto with = [](const EventProof& x, auto edit) {
    cbor::Value v = cbor::decode(encode(x)).value();
    auto items = v.as_array();
    edit(items);
    return cbor::encode(cbor::Value::array(std::move(items)));
  };
  auto err = [](const Bytes& b) {
    auto r = decode_event_proof(b);
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  EXPECT_NE(
      err(with(p, [](auto& a) { a[0] = cbor::Value::text_string("ritma-evproof@2"); })).find("tag"),
      std::string::npos);
  EXPECT_NE(err(with(p, [](auto& a) { a.pop_back(); })).find("fields"), std::string::npos);
  EXPECT_NE(err(with(p,
                     [](auto& a) {
                       a[5] = cbor::Value::array({cbor::Value::byte_string({1, 2})});
                     }))
                .find("event_path"),
            std::string::npos);
  EXPECT_NE(err(with(p, [](auto& a) { a[11] = cbor::Value::byte_string({1}); })).find("checkpoint"),
            std::string::npos);
  p.log_path.assign(65, Hash32{});
  EXPECT_NE(err(encode(p)).find("at most 64"), std::string::npos);
}

TEST_F(EventProofTest, TamperingIsRefusedNamingWhatFailed) {
  const EventProof good = prove(kMiddleSeq);
  const std::string fp = stores().fp();
  ASSERT_TRUE(verify_event_proof(encode(good), fp).ok());
  auto refused = [&](const EventProof& p, const std::string& text) {
    auto v = verify_event_proof(encode(p), fp);
    if (v.ok()) return ::testing::AssertionFailure() << "accepted";
    if (v.error().message.find(text) == std::string::npos)
      return ::testing::AssertionFailure()
             << "message \"" << v.error().message << "\" lacks \"" << text << "\"";
    return ::testing::AssertionSuccess();
  };
  EventProof p = good;
  p.seq += 1;
  EXPECT_TRUE(refused(p, "event atom: its seq"));
  p = good;
  p.leaf_count += 1;
  EXPECT_TRUE(refused(p, "events, but the proof says"));
  p = good;
  p.log_size += 1;
  EXPECT_TRUE(refused(p, "checkpoint: it is for a log of"));
  p = good;
  p.log_path[0][0] ^= 1;
  EXPECT_TRUE(refused(p, "window-log inclusion path"));
  p = good;
  p.log_index += 1;
  EXPECT_TRUE(refused(p, "its log index is"));
  p = good;
  p.micro_sig[p.micro_sig.size() - 1] ^= 1;
  EXPECT_TRUE(refused(p, "micro signature: does not verify"));
  // A micro record of another window, with its own (valid) signature.
  const EventProof other = prove(kFirstSeq);
  p = good;
  p.micro = other.micro;
  p.micro_sig = other.micro_sig;
  EXPECT_TRUE(refused(p, "micro record"));
  // A keys record that lists another key: the pin is none of them.
  KeysRecord keys = decode_keys(good.keys).value();
  keys.keys[0].public_key = SigningKey::generate().public_key();
  p = good;
  p.keys = encode(keys);
  EXPECT_TRUE(refused(p, "is none of the store's keys"));
  auto v = verify_event_proof(encode(p), key_fingerprint(keys.keys[0].public_key));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find(
                "micro signature: signed by a key that is not one of the store's keys"),
            std::string::npos)
      << v.error().message;
}

TEST_F(EventProofTest, AWindowNoCheckpointCoversIsNotSealed) {
  test::TempDir dir;
  const fs::path out = dir.path() / "RITMA_OUT";
  fs::copy(stores().out("main"), out, fs::copy_options::recursive);
  // Drop the last two checkpoints: the last two records are an unsealed tail.
  auto frames = frames_of(out / kCheckpointLogFile);
  frames.resize(frames.size() - 2);
  Bytes data;
  for (const Bytes& f : frames) {
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(f.size() >> (8 * i)));
    append(data, f);
  }
  test::write_file_bytes(out / kCheckpointLogFile, data);
  ProveOutcome o = prove_event(out, kLastSeq);
  EXPECT_EQ(o.failure, ProveOutcome::Failure::kNotSealed);
  EXPECT_NE(o.message.find("no checkpoint covers"), std::string::npos) << o.message;
  // An earlier event is proven against the checkpoint that is there.
  o = prove_event(out, kFirstSeq);
  ASSERT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
  EXPECT_EQ(o.proof->log_size, frames.size());
  EXPECT_TRUE(verify_event_proof(encode(*o.proof), stores().fp()).ok());
  // A seq nobody sealed.
  o = prove_event(out, 1'000'000);
  EXPECT_EQ(o.failure, ProveOutcome::Failure::kNotSealed);
  EXPECT_NE(o.message.find("run 1 seq 0..3534"), std::string::npos) << o.message;
}

TEST_F(EventProofTest, ASeqSealedByTwoRunsNeedsTheRun) {
  ProveOutcome o = prove_event(stores().out("two"), 3);
  EXPECT_EQ(o.failure, ProveOutcome::Failure::kAmbiguous) << o.message;
  ASSERT_EQ(o.candidates.size(), 2u);
  EXPECT_EQ(o.candidates[0].run_id, 1u);
  EXPECT_EQ(o.candidates[1].run_id, 2u);
  o = prove_event(stores().out("two"), 3, 2);
  ASSERT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
  auto v = verify_event_proof(encode(*o.proof), stores().fp());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->micro.run.run_id, 2u);
  EXPECT_EQ(v->boot_id[0], 2);
  o = prove_event(stores().out("two"), 7);  // only run 1 sealed seq 7
  ASSERT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
  EXPECT_EQ(o.proof->log_index, 0u);
}

TEST_F(EventProofTest, AfterARotationTheOldKeyVouchesForTheNewCheckpointNotBackwards) {
  test::TempDir dir;
  const fs::path out = dir.path() / "RITMA_OUT";
  const fs::path priv = out / "_meta/keys/node.key";
  const fs::path pub = out / "_meta/keys/node.pub";
  const SigningKey first = SigningKey::generate();
  ASSERT_TRUE(fs::create_directories(out / "_meta/keys"));
  fs::permissions(out / "_meta/keys", fs::perms::owner_all);
  ASSERT_TRUE(write_private_key_file(priv, named(first)).ok());
  ASSERT_TRUE(write_public_key_file(pub, kKeyName, first.public_key()).ok());
  int64_t now = kStart;
  uint64_t seq = 0;
  ASSERT_TRUE(seal_windows(out, named(first), 1, 7, seq, now, {4}).ok());
  auto rotated = rotate_store_key(out, priv, pub, now);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  auto second = load_private_key_file(priv);
  ASSERT_TRUE(second.ok());
  const std::string second_fp = key_fingerprint(second->key.public_key());
  ASSERT_TRUE(seal_windows(out, std::move(second).value(), 2, 7, seq, now, {3}).ok());

  ProveOutcome o = prove_event(out, 1);  // sealed by the first key
  ASSERT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
  const Bytes enc = encode(*o.proof);
  auto v = verify_event_proof(enc, key_fingerprint(first.public_key()));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->key_fingerprint, key_fingerprint(first.public_key()));
  EXPECT_EQ(v->checkpoint_key_fingerprint, second_fp);  // the newest checkpoint: the new key
  auto w = verify_event_proof(enc, second_fp);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("does not vouch"), std::string::npos) << w.error().message;
  // An event the new key sealed: either pin works.
  o = prove_event(out, 5);
  ASSERT_EQ(o.failure, ProveOutcome::Failure::kNone) << o.message;
  EXPECT_TRUE(verify_event_proof(encode(*o.proof), second_fp).ok());
  EXPECT_TRUE(verify_event_proof(encode(*o.proof), key_fingerprint(first.public_key())).ok());
}

// ---- the commands

struct Cli {
  test::TempDir dir;
  std::string proof_file(const std::string& name) const { return (dir.path() / name).string(); }
  test::RunResult prove(uint64_t seq, const std::string& out, const char* which = "main",
                        std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {RITMA_BIN,    "prove",
                                     "--seq",      std::to_string(seq),
                                     "--base-dir", stores().base(which).string(),
                                     "--out",      out};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::run_program(argv);
  }
  test::RunResult verify(const std::string& file, std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {RITMA_BIN, "verify-event", file};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::run_program(argv);
  }
  std::string write(const std::string& name, const EventProof& p) const {
    const std::string f = proof_file(name);
    test::write_file_bytes(f, encode(p));
    return f;
  }
};

TEST_F(EventProofTest, CliProvesAndVerifiesWithExitCodes) {
  Cli c;
  for (uint64_t seq : {kFirstSeq, kMiddleSeq, kLastSeq, kSecondBlockSeq}) {
    SCOPED_TRACE("seq " + std::to_string(seq));
    const std::string f = c.proof_file("p" + std::to_string(seq) + ".cbor");
    auto run = c.prove(seq, f);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("seq " + std::to_string(seq)), std::string::npos) << run.out;
    run = c.verify(f, {"--key", stores().fp()});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("VERIFIED"), std::string::npos) << run.out;
    run = c.verify(f);
    EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
    EXPECT_NE(run.out.find("NOT pinned"), std::string::npos) << run.out;
    run = c.verify(f, {"--key", key_fingerprint(SigningKey::generate().public_key())});
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_NE(run.out.find("none of the store's keys"), std::string::npos) << run.out;
  }
  // The summary names the event, the window, the checkpoint and the key; --json has it all.
  const std::string f = c.proof_file("p" + std::to_string(kSecondBlockSeq) + ".cbor");
  auto run = c.verify(f, {"--key", stores().fp(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_TRUE(j["pinned"].get<bool>());
  EXPECT_EQ(j["event"]["seq"].get<uint64_t>(), kSecondBlockSeq);
  EXPECT_EQ(j["event"]["type"].get<std::string>(), "exec");  // 3300 % 3 == 0
  EXPECT_EQ(j["event"]["argv"][2].get<std::string>(), "/srv/3300");
  EXPECT_EQ(j["window"]["log_index"].get<uint64_t>(), 1u);
  EXPECT_EQ(j["window"]["stem_path"].get<std::string>(), "windows/2026/11/30/12/micro/w358");
  EXPECT_EQ(j["checkpoint"]["size"].get<uint64_t>(), kWindows.size() + 1);
  EXPECT_EQ(j["key"]["fingerprint"].get<std::string>(), stores().fp());
  EXPECT_EQ(j["key"]["name"].get<std::string>(), kKeyName);
  EXPECT_FALSE(j["atom"].get<std::string>().empty());
  // A public key file and a verifier key string pin as well as the fingerprint.
  const std::string pub = c.proof_file("node.pub");
  ASSERT_TRUE(write_public_key_file(pub, kKeyName, stores().key.public_key()).ok());
  EXPECT_EQ(c.verify(f, {"--key", pub}).exit_code, 0);
  EXPECT_EQ(
      c.verify(f, {"--key", format_public_key(kKeyName, stores().key.public_key())}).exit_code, 0);
  // Usage: a --key that is no key, a proof that is not there.
  EXPECT_EQ(c.verify(f, {"--key", "nonsense"}).exit_code, 2);
  EXPECT_EQ(c.verify(c.proof_file("missing.cbor")).exit_code, 2);
  // Not sealed: exit 1, said plainly.
  run = c.prove(1'000'000, c.proof_file("none.cbor"));
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.err.find("not in any sealed window"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(c.proof_file("none.cbor")));
}

TEST_F(EventProofTest, CliListsTheRunsOfAnAmbiguousSeq) {
  Cli c;
  const std::string f = c.proof_file("two.cbor");
  auto run = c.prove(3, f, "two");
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("--run 1"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--run 2"), std::string::npos) << run.err;
  run = c.prove(3, f, "two", {"--run", "2", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["window"]["run_id"].get<uint64_t>(), 2u);
  EXPECT_EQ(c.verify(f, {"--key", stores().fp()}).exit_code, 0);
}

TEST_F(EventProofTest, CliTamperCasesExitOneNamingWhatFailed) {
  Cli c;
  const EventProof good = prove(kMiddleSeq);
  ASSERT_EQ(c.verify(c.write("good.cbor", good), {"--key", stores().fp()}).exit_code, 0);
  struct Case {
    std::string name;
    EventProof proof;
    std::string message;
  };
  std::vector<Case> cases;
  {
    // An edited byte of the atom: the last field (count, 0) becomes 1; still a valid atom.
    EventProof p = good;
    ASSERT_EQ(p.atom.back(), 0x00);
    p.atom.back() = 0x01;
    ASSERT_TRUE(capture::decode_event_atom(p.atom).ok());
    cases.push_back({"atom byte", p, "event inclusion path"});
  }
  {
    EventProof p = good;
    p.leaf_index += 1;
    cases.push_back({"leaf index", p, "leaf index"});
  }
  {
    EventProof p = good;
    p.event_path.pop_back();
    cases.push_back({"cut path", p, "event inclusion path: inclusion proof is shorter"});
  }
  {
    MicroRecord m = decode_micro(good.micro).value();
    m.loss_count += 1;
    EventProof p = good;
    p.micro = encode(m);
    cases.push_back({"micro record", p, "micro signature: does not verify"});
  }
  {
    // The checkpoint re-signed by another key that uses the node key's name.
    const std::string body = good.checkpoint.substr(0, good.checkpoint.rfind("\n\n") + 1);
    NamedSigningKey other{kKeyName, SigningKey::generate()};
    EventProof p = good;
    p.checkpoint = note::sign(body, {&other}).value();
    cases.push_back({"re-signed checkpoint", p, "checkpoint:"});
  }
  {
    // The newest checkpoint of another store (signed by the same key).
    EventProof p = good;
    p.checkpoint = std::string(as_chars(read_file(stores().out("two") / kCheckpointFile).value()));
    cases.push_back({"swapped checkpoint", p, "checkpoint: origin"});
  }
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    auto run = c.verify(c.write(k.name + ".cbor", k.proof), {"--key", stores().fp()});
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_NE(run.out.find("INVALID: " + std::string()), std::string::npos) << run.out;
    EXPECT_NE(run.out.find(k.message), std::string::npos) << run.out;
    // Without --key: still invalid, not "unpinned".
    EXPECT_EQ(c.verify(c.proof_file(k.name + ".cbor")).exit_code, 1);
  }
  // Bytes that are no proof at all.
  const std::string junk = c.proof_file("junk.cbor");
  test::write_file_bytes(junk, as_bytes("not a proof"));
  auto run = c.verify(junk);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("proof:"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace ritma::seal
