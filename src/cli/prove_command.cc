// `ritma prove --seq N` and `ritma verify-event PROOF`: the inclusion proof of one sealed event
// (`ritma-evproof@1`, docs/FORMAT.md §11) as a small self-contained file, and its offline check.
#include <time.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "capture/event.h"
#include "cli/commands.h"
#include "cli/event_json.h"
#include "core/durable_file.h"
#include "core/utf8.h"
#include "seal/event_proof.h"
#include "seal/seal_format.h"
#include "store/hot_index.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotPinned = 3;

[[noreturn]] void fail(const char* command, const std::string& message, int code) {
  std::cerr << "ritma " << command << ": " << message << "\n";
  throw CLI::RuntimeError(code);
}

// A kernel string for a terminal: control bytes and invalid UTF-8 as \xNN.
std::string printable(std::string_view s) {
  std::string out;
  const ByteSpan b = as_bytes(s);
  for (size_t i = 0; i < b.size();) {
    const uint8_t c = b[i];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : 4;
    const bool ok = c >= 0x20 && c != 0x7f && c != '\\' &&
                    (c < 0x80 || (i + len <= b.size() && !find_invalid_utf8(b.subspan(i, len))));
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
      ++i;
    }
  }
  return out;
}

// One line about the event: what, when, who, and its path or command line.
std::string describe_event(const capture::Event& e) {
  std::string s = "seq " + std::to_string(e.seq) + " " +
                  std::string(capture::event_name(e.type, e.op)) + " at " +
                  seal::utc_rfc3339(e.wall_ns) + ", pid " + std::to_string(e.pid);
  if (!e.comm.empty()) s += " (" + printable(e.comm) + ")";
  if (!e.path.empty()) s += ", path " + printable(e.path);
  if (!e.path2.empty()) s += " -> " + printable(e.path2);
  if (!e.argv.empty()) {
    s += ", argv:";
    for (const auto& a : e.argv) s += " " + printable(a);
  }
  const std::string addr = e.addr.to_string();
  if (!addr.empty()) s += ", " + printable(addr);
  if (!e.dns_name.empty()) s += ", dns " + printable(e.dns_name);
  if (e.count != 0) s += ", count " + std::to_string(e.count);
  return s;
}

// Kernel strings are bytes: JSON output replaces invalid UTF-8 rather than failing (the atom's
// hex is in the output too, so nothing is lost).
std::string dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json verified_json(const seal::VerifiedEventProof& v) {
  const seal::MicroRecord& m = v.micro;
  return {
      {"event", event_to_json(v.event)},
      {"boot_id", to_hex(v.boot_id)},
      {"window",
       {{"stem_path", v.window},
        {"log_index", v.log_index},
        {"leaf_index", v.leaf_index},
        {"event_count", v.leaf_count},
        {"first_seq", m.first_seq},
        {"micro_root", to_hex(m.micro_root)},
        {"sealed_ns", m.sealed_ns},
        {"sealed", seal::utc_rfc3339(m.sealed_ns)},
        {"run_id", m.run.run_id},
        {"privacy", m.privacy}}},
      {"checkpoint",
       {{"origin", v.origin}, {"size", v.checkpoint_size}, {"root", to_hex(v.checkpoint_root)}}},
      {"key",
       {{"name", v.key_name},
        {"fingerprint", v.key_fingerprint},
        {"checkpoint_key_name", v.checkpoint_key_name},
        {"checkpoint_key_fingerprint", v.checkpoint_key_fingerprint},
        {"pinned", v.pinned}}},
      {"store",
       {{"node_id", v.store.node_id},
        {"store_id", to_hex(v.store.store_id)},
        {"window_ns", v.store.window_ns}}},
  };
}

// `proving`: the summary of `ritma prove`, where nothing is pinned yet.
void print_verified(const seal::VerifiedEventProof& v, bool proving = false) {
  std::cout << "event:        " << describe_event(v.event) << "\n";
  std::cout << "window:       " << v.window << " (log index " << v.log_index << "), event "
            << v.leaf_index << " of " << v.leaf_count << ", run " << v.micro.run.run_id
            << ", sealed " << seal::utc_rfc3339(v.micro.sealed_ns) << "\n";
  std::cout << "checkpoint:   " << v.origin << " size " << v.checkpoint_size << " root "
            << to_hex(v.checkpoint_root) << "\n";
  std::cout << "key:          " << v.key_name << " " << v.key_fingerprint;
  if (proving) {
    std::cout << "\n";
  } else if (v.pinned) {
    std::cout << " (pinned with --key)\n";
  } else {
    std::cout << " NOT pinned: this proves consistency, not origin; pass --key FINGERPRINT "
                 "(from `ritma keys show` on a trusted copy)\n";
  }
  if (v.checkpoint_key_fingerprint != v.key_fingerprint)
    std::cout << "              checkpoint signed by " << v.checkpoint_key_name << " "
              << v.checkpoint_key_fingerprint << " (the key after a rotation)\n";
}

// ---- ritma prove

struct ProveOptions {
  uint64_t seq = 0;
  std::optional<uint64_t> run;
  std::string base_dir;
  std::string out;
  bool json = false;
};

// When the seq is not sealed: does the hot index hold it (recorded, not sealed yet)?
std::string hot_index_note(const store::StorePaths& paths, const ProveOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(paths.index_db, ec)) return "";
  auto index = store::HotIndex::open_reader(paths.index_db);
  if (!index.ok()) return "";
  auto ranges = index->run_seq_ranges();
  if (!ranges.ok()) return "";
  for (const auto& r : *ranges) {
    if (o.run && static_cast<uint64_t>(r.run_id) != *o.run) continue;
    if (o.seq >= r.min_seq && o.seq <= r.max_seq)
      return "the hot index holds it (run " + std::to_string(r.run_id) +
             "): it was recorded but is not sealed yet (a window is sealed every few seconds "
             "while the sensor runs; after a crash, the next run's gap event names it)";
  }
  return "";
}

void run_prove(const ProveOptions& o) {
  if (o.json && o.out == "-")
    fail("prove", "--json and --out - both write to stdout; choose one", kExitUsage);
  const store::StorePaths paths = store::resolve_store_paths(
      o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
  seal::ProveOutcome r = seal::prove_event(paths.out_dir, o.seq, o.run);
  using F = seal::ProveOutcome::Failure;
  switch (r.failure) {
    case F::kNone:
      break;
    case F::kNotSealed: {
      const std::string hot = hot_index_note(paths, o);
      fail("prove", r.message + (hot.empty() ? "" : "; " + hot), kExitInvalid);
    }
    case F::kAmbiguous: {
      std::string list;
      for (const auto& c : r.candidates) {
        list += "\n  --run " + std::to_string(c.run_id) + "  (boot " + c.boot_id + ") window " +
                c.window + " (log index " + std::to_string(c.log_index) + "), seq " +
                std::to_string(c.first_seq) + ".." +
                std::to_string(c.first_seq + c.event_count - 1);
      }
      fail("prove", r.message + ":" + list, kExitUsage);
    }
    case F::kUnreadable:
      fail("prove", r.message, kExitUsage);
    case F::kInvalid:
      fail("prove", r.message + " (run `ritma verify --store` for the whole story)", kExitInvalid);
  }
  const Bytes bytes = seal::encode(*r.proof);
  auto v = seal::verify_event_proof(bytes);
  if (!v.ok()) fail("prove", v.error().message, kExitInvalid);  // prove_event checked it
  const std::string out = o.out.empty() ? "evproof-" + std::to_string(o.seq) + ".cbor" : o.out;
  if (out == "-") {
    std::cout.write(reinterpret_cast<const char*>(bytes.data()),
                    static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    if (!std::cout) fail("prove", "cannot write the proof to stdout", kExitUsage);
    return;
  }
  if (auto st = atomic_write_file(out, bytes, 0644); !st.ok())
    fail("prove", st.error().message, kExitUsage);
  if (o.json) {
    nlohmann::json j = verified_json(*v);
    j["proof"] = out;
    j["bytes"] = bytes.size();
    j["format"] = std::string(seal::kEventProofTag);
    j["block"] = r.block;
    j["index_in_block"] = r.index_in_block;
    std::cout << dump(j) << "\n";
    return;
  }
  std::cout << "proof:        " << out << " (" << bytes.size() << " bytes, " << seal::kEventProofTag
            << ")\n";
  print_verified(*v, true);
  std::cout << "block:        " << r.block << ", event " << r.index_in_block << " within it\n";
  std::cout << "check with:   ritma verify-event " << out << " --key " << v->key_fingerprint
            << "   (compare the fingerprint with a trusted copy)\n";
}

// ---- ritma verify-event

struct VerifyEventOptions {
  std::string proof;
  std::string key;
  bool json = false;
};

void run_verify_event(const VerifyEventOptions& o) {
  std::string pin;
  if (!o.key.empty()) {
    auto fp = seal::key_pin_fingerprint(o.key);
    if (!fp.ok()) fail("verify-event", fp.error().message, kExitUsage);
    pin = *fp;
  }
  auto bytes = read_file(o.proof, seal::kMaxEventProofBytes);
  if (!bytes.ok()) fail("verify-event", bytes.error().message, kExitUsage);
  auto v = seal::verify_event_proof(*bytes, pin);
  if (!v.ok()) {
    if (o.json) {
      std::cout << dump({{"ok", false},
                         {"result", "invalid"},
                         {"proof", o.proof},
                         {"pinned_fingerprint",
                          pin.empty() ? nlohmann::json(nullptr) : nlohmann::json(pin)},
                         {"error", v.error().message}})
                << "\n";
    } else {
      std::cout << "proof:        " << o.proof << "\n";
      std::cout << "result:       INVALID: " << v.error().message << "\n";
    }
    throw CLI::RuntimeError(kExitInvalid);
  }
  if (o.json) {
    nlohmann::json j = verified_json(*v);
    j["ok"] = true;
    j["result"] = v->pinned ? "verified" : "consistent, key not pinned";
    j["pinned"] = v->pinned;
    j["pinned_fingerprint"] = pin.empty() ? nlohmann::json(nullptr) : nlohmann::json(pin);
    j["proof"] = o.proof;
    j["atom"] = to_hex(seal::decode_event_proof(*bytes)->atom);
    std::cout << dump(j) << "\n";
  } else {
    std::cout << "proof:        " << o.proof << " (" << seal::kEventProofTag << ")\n";
    std::cout << "result:       "
              << (v->pinned ? "VERIFIED: the event was sealed by the pinned key's node"
                            : "CONSISTENT, signing key NOT pinned")
              << "\n";
    print_verified(*v);
  }
  if (!v->pinned) throw CLI::RuntimeError(kExitNotPinned);
}

}  // namespace

void register_prove_command(CLI::App& app) {
  auto opts = std::make_shared<ProveOptions>();
  CLI::App* cmd = app.add_subcommand(
      "prove",
      "Write the inclusion proof of one sealed event (ritma-evproof@1), checkable offline with "
      "`ritma verify-event` (exit 0 written, 1 not sealed or the store's evidence does not hold, "
      "2 usage, unreadable store, or seq in several runs)");
  cmd->add_option("--seq", opts->seq, "The event's seq")->required();
  cmd->add_option("--run", opts->run, "The run id, when several runs (boots) sealed that seq");
  cmd->add_option("--base-dir", opts->base_dir,
                  "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  cmd->add_option("--out", opts->out,
                  "Proof file to write (default evproof-<seq>.cbor; - for stdout)");
  cmd->add_flag("--json", opts->json, "Print what was proven as one JSON object");
  cmd->callback([opts] { run_prove(*opts); });
}

void register_verify_event_command(CLI::App& app) {
  auto opts = std::make_shared<VerifyEventOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify-event",
      "Check an event inclusion proof offline (exit 0 verified with --key, 1 invalid, 2 usage or "
      "unreadable, 3 consistent but the signing key is NOT pinned)");
  cmd->add_option("proof", opts->proof, "The proof file (from `ritma prove`)")->required();
  cmd->add_option("--key", opts->key,
                  "Pin the signing key: its fingerprint (64 hex, `ritma keys show`), its verifier "
                  "key string, or a public key file");
  cmd->add_flag("--json", opts->json, "Print the result and the decoded event as one JSON object");
  cmd->callback([opts] { run_verify_event(*opts); });
}

}  // namespace ritma::cli
