// An independent reader of the sealed store (tests/seal/seal_reader.py, written from
// docs/FORMAT.md alone with cbor2, PyNaCl and the zstd tool) accepts every window the C++
// sealer writes - so both agree on atoms, Merkle roots, signatures and checkpoints - and
// rejects a store whose block content was changed, or a key that did not sign it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/ed25519.h"
#include "core/key_file.h"
#include "core/zstd_codec.h"
#include "seal/sealer.h"
#include "test_util.h"

namespace ritma {
namespace {

namespace fs = std::filesystem;

const std::string kPython = "/usr/bin/python3";
const std::string kReader = std::string(RITMA_TEST_SCRIPTS_DIR) + "/seal_reader.py";

// The reader needs /usr/bin/python3 with cbor2 and PyNaCl, and the zstd tool: skip without
// them, except under CI=true where scripts/setup.sh must have installed them.
#define REQUIRE_PYTHON_READER_DEPS()                                                              \
  do {                                                                                            \
    std::string missing;                                                                          \
    if (::access(kPython.c_str(), X_OK) != 0) {                                                   \
      missing = kPython + " not found";                                                           \
    } else if (test::run_program({kPython, "-c", "import cbor2, nacl.signing"}).exit_code != 0) { \
      missing = "python3-cbor2 or python3-nacl not installed for " + kPython;                     \
    } else if (::access("/usr/bin/zstd", X_OK) != 0 &&                                            \
               ::access("/usr/local/bin/zstd", X_OK) != 0) {                                      \
      missing = "the zstd command-line tool is not installed";                                    \
    }                                                                                             \
    if (!missing.empty()) {                                                                       \
      if (test::in_ci()) FAIL() << "CI=true: " << missing << " (scripts/setup.sh installs it)";   \
      GTEST_SKIP() << missing << " (run scripts/setup.sh, or CI=true to force)";                  \
    }                                                                                             \
  } while (0)

capture::Event make_event(uint64_t seq, int64_t wall_ns) {
  capture::Event e;
  e.seq = seq;
  e.mono_ns = 1'000'000'000 + seq * 1000;
  e.wall_ns = wall_ns;
  e.pid = 100 + static_cast<uint32_t>(seq % 7);
  e.tid = e.pid;
  e.ppid = 1;
  e.uid = 1000;
  e.start_ns = 5000 + seq;
  e.comm = "proc" + std::to_string(seq % 3);
  e.exe = "/usr/bin/tool";
  switch (seq % 5) {
    case 0:
      e.type = capture::EventType::kExec;
      e.path = "/usr/bin/tool";
      e.argv = {"tool", "--flag", std::string("\xff\xfe non-utf8", 11)};  // bytes in CBOR
      break;
    case 1:
      e.type = capture::EventType::kFile;
      e.op = 1;  // open
      e.path = "/etc/hosts";
      e.arg2 = static_cast<uint64_t>(-100);
      break;
    case 2:
      e.type = capture::EventType::kNet;
      e.op = 32;  // connect
      e.addr.family = 2;
      e.addr.ip = {10, 0, 0, 1};
      e.addr.port = 443;
      break;
    case 3:
      e.type = capture::EventType::kLoss;
      e.count = 3 + seq;
      e.arg0 = 1;
      break;
    default:
      e.type = capture::EventType::kExit;
      e.result = 256;
      break;
  }
  return e;
}

// Seals a few windows (with events, empty, with events again, crossing an hour) with a fake
// clock, and makes sure _meta/keys/node.pub exists.
void seal_store(const fs::path& out, NamedSigningKey key) {
  // 2023-11-14 22:59:30 UTC: three windows before the hour ends.
  auto now = std::make_shared<int64_t>(int64_t{1'700'002'770} * 1'000'000'000);
  seal::SealerOptions opts;
  opts.out_dir = out;
  opts.node_id = "test";
  opts.run.run_id = 1;
  opts.run.boot_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  opts.run.sensor_version = "0.0-test";
  opts.run.config_digest = "00";
  opts.clock = [now] { return *now; };
  const std::string pub_name = key.name;
  const PublicKey pub = key.key.public_key();
  auto sealer = seal::Sealer::open(opts, std::move(key));
  ASSERT_TRUE(sealer.ok()) << sealer.error().message;
  const fs::path pub_file = out / "_meta" / "keys" / "node.pub";
  if (!fs::exists(pub_file)) {
    ASSERT_TRUE(write_public_key_file(pub_file, pub_name, pub).ok());
  }

  uint64_t seq = 1;
  const int64_t window = static_cast<int64_t>(opts.window_ns);
  // Events per window: some, some, none, some, some (the last windows are in the next hour).
  for (int n : {7, 12, 0, 9, 4}) {
    std::vector<capture::Event> events;
    for (int i = 0; i < n; ++i) events.push_back(make_event(seq++, *now + i * 1000));
    if (!events.empty()) {
      auto st = (*sealer)->add(events);
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
    *now += window;
    auto st = (*sealer)->tick();
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  auto st = (*sealer)->flush_window();
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_GE((*sealer)->log_size(), 5u);
}

std::vector<fs::path> block_files(const fs::path& out) {
  std::vector<fs::path> blocks;
  for (const auto& e : fs::recursive_directory_iterator(out / "windows")) {
    if (e.is_regular_file() && e.path().extension() == ".zst" &&
        e.path().parent_path().filename() == "blocks") {
      blocks.push_back(e.path());
    }
  }
  std::sort(blocks.begin(), blocks.end());
  return blocks;
}

test::RunResult run_reader(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {kPython, kReader};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return test::run_program(argv);
}

TEST(PythonReader, AcceptsSealedStoreAndEveryWindow) {
  REQUIRE_PYTHON_READER_DEPS();
  test::TempDir dir;
  const fs::path out = dir / "RITMA_OUT";
  NamedSigningKey key{"ritma-node-test", SigningKey::generate()};
  ASSERT_NO_FATAL_FAILURE(seal_store(out, std::move(key)));

  auto r = run_reader({out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK: window"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BLAKE3"), std::string::npos) << "the reader must say what it skips";

  // Every window, including empty ones, and with the public key passed explicitly.
  const std::string pub = (out / "_meta" / "keys" / "node.pub").string();
  for (int i = 0; i < 5; ++i) {
    r = run_reader({out.string(), "--window", std::to_string(i), "--pubkey", pub});
    EXPECT_EQ(r.exit_code, 0) << "window " << i << "\n" << r.out << r.err;
  }
}

// Changes one character of a text string in the block (the atom stays valid canonical CBOR)
// and re-compresses it. Prefers a change whose re-compressed size equals the original, so the
// block passes every size check and only the digests and roots can tell: the reader, which
// cannot check BLAKE3, must still catch it through the micro root.
bool tamper_block(const fs::path& block, bool* same_size) {
  const Bytes original = test::read_file_bytes(block);
  auto raw = zstd_decompress(original, 64u << 20);
  if (!raw.ok()) return false;
  std::vector<size_t> positions;  // the second character of known strings
  for (const std::string needle : {"proc", "/etc/hosts", "/usr/bin/tool", "--flag"}) {
    for (size_t i = 0; i + needle.size() <= raw->size(); ++i) {
      if (std::equal(needle.begin(), needle.end(), raw->begin() + static_cast<ptrdiff_t>(i))) {
        positions.push_back(i + 1);
      }
    }
  }
  if (positions.empty()) return false;
  std::optional<Bytes> fallback;
  for (size_t pos : positions) {
    Bytes changed = *raw;
    changed[pos] ^= 0x01;  // 'r'->'s', 'e'->'d', 'u'->'t', '-'->',': still ASCII text
    for (int level = 1; level <= 19; ++level) {
      auto z = zstd_compress(changed, level);
      if (!z.ok()) return false;
      if (z->size() == original.size()) {
        test::write_file_bytes(block, *z);
        *same_size = true;
        return true;
      }
      if (!fallback) fallback = *z;
    }
  }
  test::write_file_bytes(block, *fallback);
  *same_size = false;
  return true;
}

TEST(PythonReader, RejectsChangedBlockContent) {
  REQUIRE_PYTHON_READER_DEPS();
  test::TempDir dir;
  const fs::path out = dir / "RITMA_OUT";
  NamedSigningKey key{"ritma-node-test", SigningKey::generate()};
  ASSERT_NO_FATAL_FAILURE(seal_store(out, std::move(key)));
  ASSERT_EQ(run_reader({out.string()}).exit_code, 0);

  // The newest block belongs to the last window with events, which the reader checks by
  // default.
  const auto blocks = block_files(out);
  ASSERT_FALSE(blocks.empty());
  const fs::path block = blocks.back();
  bool same_size = false;
  ASSERT_TRUE(tamper_block(block, &same_size));

  auto r = run_reader({out.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(block.filename().string()), std::string::npos)
      << "the failure must name the block file\n"
      << r.out;
  if (same_size) {
    EXPECT_NE(r.out.find("micro_root"), std::string::npos)
        << "same-size change: only the micro root can catch it\n"
        << r.out;
  } else {
    std::cout << "note: no same-size re-compression found; the block size check caught it\n";
  }
}

TEST(PythonReader, RejectsWrongPublicKey) {
  REQUIRE_PYTHON_READER_DEPS();
  test::TempDir dir;
  const fs::path out = dir / "RITMA_OUT";
  NamedSigningKey key{"ritma-node-test", SigningKey::generate()};
  ASSERT_NO_FATAL_FAILURE(seal_store(out, std::move(key)));

  const fs::path other = dir / "other.pub";
  const SigningKey other_key = SigningKey::generate();
  ASSERT_TRUE(write_public_key_file(other, "ritma-node-test", other_key.public_key()).ok());
  auto r = run_reader({out.string(), "--pubkey", other.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

}  // namespace
}  // namespace ritma
