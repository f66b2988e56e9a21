#include "seal/event_proof.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <system_error>
#include <utility>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/key_file.h"
#include "core/signed_note.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/cbor_fields.h"
#include "seal/key_rotation.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;

constexpr size_t kProofFields = 14;
constexpr size_t kMaxSigBytes = 4096;

// ---- small helpers

bool valid_at(const KeyEntry& k, int64_t t) {
  return t >= k.valid_from_ns && (!k.valid_until_ns || t < *k.valid_until_ns);
}

std::string key_label(const KeyEntry& k) {
  return k.name + " (" + key_fingerprint(k.public_key) + ")";
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// Reads a framed file (§6) frame by frame without holding it in memory. Stops at the end, at a
// torn tail or at a frame above max_frame (both left to the store verifier to report).
template <typename OnFrame>
Status for_each_frame(const fs::path& path, size_t max_frame, OnFrame on_frame) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path.string());
  Bytes payload;
  for (uint64_t i = 0;; ++i) {
    uint8_t len_bytes[4];
    in.read(reinterpret_cast<char*>(len_bytes), 4);
    if (in.gcount() != 4) break;
    const uint32_t len =
        static_cast<uint32_t>(len_bytes[0]) | static_cast<uint32_t>(len_bytes[1]) << 8 |
        static_cast<uint32_t>(len_bytes[2]) << 16 | static_cast<uint32_t>(len_bytes[3]) << 24;
    if (len > max_frame) break;
    payload.resize(len);
    in.read(reinterpret_cast<char*>(payload.data()), static_cast<std::streamsize>(len));
    if (static_cast<uint64_t>(in.gcount()) != len) break;
    on_frame(i, ByteSpan(payload));
  }
  if (in.bad()) return make_error("cannot read " + path.string());
  return {};
}

}  // namespace

// ---------------------------------------------------------------- encoding

Bytes encode(const EventProof& p) {
  Bytes out;
  cbor::Writer w(out);
  w.array(kProofFields);
  w.text(kEventProofTag);
  w.bytes(p.atom);
  w.uint(p.seq);
  w.uint(p.leaf_index);
  w.uint(p.leaf_count);
  put_path(w, p.event_path);
  w.bytes(p.micro);
  w.bytes(p.micro_sig);
  w.uint(p.log_index);
  w.uint(p.log_size);
  put_path(w, p.log_path);
  w.text(p.checkpoint);
  w.bytes(p.store);
  w.bytes(p.keys);
  return out;
}

Result<EventProof> decode_event_proof(ByteSpan b) {
  const FieldReader r{"proof"};
  if (b.size() > kMaxEventProofBytes)
    return r.error(std::to_string(b.size()) + " bytes, more than the " +
                   std::to_string(kMaxEventProofBytes) + " a proof may have");
  auto v = cbor::decode(b);
  if (!v.ok()) return r.error(v.error().message);
  RITMA_ASSIGN_OR_RETURN(const auto* ap, r.tagged_array(*v, kEventProofTag, kProofFields));
  const auto& a = *ap;
  EventProof p;
  RITMA_ASSIGN_OR_RETURN(p.atom, r.get_bytes(a, 1, "atom"));
  RITMA_ASSIGN_OR_RETURN(p.seq, r.get_uint(a, 2, "seq"));
  RITMA_ASSIGN_OR_RETURN(p.leaf_index, r.get_uint(a, 3, "leaf_index"));
  RITMA_ASSIGN_OR_RETURN(p.leaf_count, r.get_uint(a, 4, "leaf_count"));
  RITMA_ASSIGN_OR_RETURN(p.event_path, r.get_path(a, 5, "event_path"));
  RITMA_ASSIGN_OR_RETURN(p.micro, r.get_bytes(a, 6, "micro"));
  RITMA_ASSIGN_OR_RETURN(p.micro_sig, r.get_bytes(a, 7, "micro_sig"));
  RITMA_ASSIGN_OR_RETURN(p.log_index, r.get_uint(a, 8, "log_index"));
  RITMA_ASSIGN_OR_RETURN(p.log_size, r.get_uint(a, 9, "log_size"));
  RITMA_ASSIGN_OR_RETURN(p.log_path, r.get_path(a, 10, "log_path"));
  RITMA_ASSIGN_OR_RETURN(p.checkpoint, r.get_text(a, 11, "checkpoint"));
  RITMA_ASSIGN_OR_RETURN(p.store, r.get_bytes(a, 12, "store"));
  RITMA_ASSIGN_OR_RETURN(p.keys, r.get_bytes(a, 13, "keys"));
  return p;
}

// ---------------------------------------------------------------- the pinned key

Result<std::string> key_pin_fingerprint(std::string_view spec_in) {
  std::string spec(spec_in);
  while (!spec.empty() && (spec.back() == '\n' || spec.back() == ' ')) spec.pop_back();
  if (is_hex64(spec)) {
    std::transform(spec.begin(), spec.end(), spec.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c); });
    return spec;
  }
  if (auto k = parse_public_key(spec + "\n"); k.ok()) return key_fingerprint(k->key);
  std::error_code ec;
  if (!spec.empty() && fs::exists(spec, ec)) {
    auto f = load_public_key_file(spec);
    if (!f.ok()) return make_error("--key " + spec + ": " + f.error().message);
    return key_fingerprint(f->key);
  }
  return make_error("--key \"" + spec +
                    "\" is not a key fingerprint (64 hex digits), a verifier key "
                    "(name+keyid+base64) or a public key file");
}

// ---------------------------------------------------------------- verification

Result<VerifiedEventProof> verify_event_proof(ByteSpan proof_bytes,
                                              const std::string& pinned_fingerprint) {
  RITMA_ASSIGN_OR_RETURN(EventProof p, decode_event_proof(proof_bytes));
  VerifiedEventProof out;
  out.pinned_fingerprint = pinned_fingerprint;

  // 1. The store and its keys; the trusted keys.
  auto store = decode_store(p.store);
  if (!store.ok()) return make_error(store.error().message);
  out.store = std::move(store).value();
  auto keys_rec = decode_keys(p.keys);
  if (!keys_rec.ok()) return make_error(keys_rec.error().message);
  const std::vector<KeyEntry>& keys = keys_rec->keys;
  if (auto chain = check_key_chain(*keys_rec); !chain.ok())
    return make_error("keys record: " + chain.error().message);
  for (const auto& k : keys) {
    if (!check_key_name(k.name).ok())
      return make_error("keys record: invalid key name \"" + k.name + "\"");
  }
  size_t first_trusted = 0;
  if (!pinned_fingerprint.empty()) {
    std::optional<size_t> found;
    std::string have;
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string fp = key_fingerprint(keys[i].public_key);
      if (fp == pinned_fingerprint && !found) found = i;
      have += (have.empty() ? "" : ", ") + keys[i].name + " " + fp;
    }
    if (!found)
      return make_error("key: the pinned key " + pinned_fingerprint +
                        " is none of the store's keys (the proof's keys record lists: " + have +
                        ")");
    first_trusted = *found;
    out.pinned = true;
  }
  auto find_key = [&](const PublicKey& pk) -> std::optional<size_t> {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].public_key == pk) return i;
    }
    return std::nullopt;
  };

  // 2. The atom.
  auto event = capture::decode_event_atom(p.atom, &out.boot_id);
  if (!event.ok()) return make_error("event atom: " + event.error().message);
  out.event = std::move(event).value();
  if (out.event.seq != p.seq)
    return make_error("event atom: its seq is " + std::to_string(out.event.seq) +
                      ", but the proof is for seq " + std::to_string(p.seq));

  // 3. The micro record, and how the atom fits in it.
  auto micro = decode_micro(p.micro);
  if (!micro.ok()) return make_error(micro.error().message);
  out.micro = std::move(micro).value();
  const MicroRecord& m = out.micro;
  out.window = stem_path(m);
  const std::string win =
      "micro record " + out.window + " (log index " + std::to_string(m.log_index) + ")";
  if (m.store_id != out.store.store_id)
    return make_error(win + ": store id " + to_hex(m.store_id) + " is not the store record's " +
                      to_hex(out.store.store_id));
  if (m.node_id != out.store.node_id)
    return make_error(win + ": node id \"" + m.node_id + "\" is not the store record's \"" +
                      out.store.node_id + "\"");
  if (m.window_ns != out.store.window_ns)
    return make_error(win + ": window_ns " + std::to_string(m.window_ns) +
                      " is not the store record's " + std::to_string(out.store.window_ns));
  if (m.log_index != p.log_index)
    return make_error(win + ": its log index is " + std::to_string(m.log_index) +
                      ", but the proof places it at " + std::to_string(p.log_index));
  if (m.event_count != p.leaf_count)
    return make_error(win + ": it holds " + std::to_string(m.event_count) +
                      " events, but the proof says the window has " + std::to_string(p.leaf_count));
  if (p.leaf_index >= p.leaf_count)
    return make_error("leaf index: " + std::to_string(p.leaf_index) +
                      " is not below the window's event count " + std::to_string(p.leaf_count));
  if (m.first_seq + p.leaf_index < m.first_seq || m.first_seq + p.leaf_index != p.seq)
    return make_error("leaf index: the window's events start at seq " +
                      std::to_string(m.first_seq) + ", so leaf " + std::to_string(p.leaf_index) +
                      " is not seq " + std::to_string(p.seq));
  if (out.boot_id != m.run.boot_id)
    return make_error("event atom: boot id " + to_hex(out.boot_id) + " is not the window's " +
                      to_hex(m.run.boot_id));
  out.leaf_index = p.leaf_index;
  out.leaf_count = p.leaf_count;
  out.log_index = p.log_index;

  // 4. The atom's leaf up to the micro root.
  auto micro_root = merkle::root_from_inclusion_proof(merkle::leaf_hash(p.atom), p.leaf_index,
                                                      p.leaf_count, p.event_path);
  if (!micro_root.ok())
    return make_error("event inclusion path: " + micro_root.error().message + " (leaf " +
                      std::to_string(p.leaf_index) + " of " + std::to_string(p.leaf_count) + ", " +
                      std::to_string(p.event_path.size()) + " hashes)");
  if (*micro_root != m.micro_root)
    return make_error("event inclusion path: the atom's leaf and path lead to root " +
                      to_hex(*micro_root) + ", not the micro record's micro_root " +
                      to_hex(m.micro_root) + " (the atom, its leaf index or the path differs)");

  // 5. The micro record's signature: a trusted key of the store, valid when it was sealed.
  auto sig = decode_signature(p.micro_sig);
  if (!sig.ok()) return make_error("micro signature: " + sig.error().message);
  const auto ki = find_key(sig->public_key);
  if (!ki)
    return make_error("micro signature: signed by a key that is not one of the store's keys (" +
                      sig->key_name + ", " + key_fingerprint(sig->public_key) + ")");
  const KeyEntry& mk = keys[*ki];
  if (sig->key_name != mk.name)
    return make_error("micro signature: names the key \"" + sig->key_name +
                      "\" but its public key is " + mk.name + "'s");
  if (!check_signature(*sig, p.micro))
    return make_error("micro signature: does not verify over the micro record of " + out.window);
  if (!valid_at(mk, m.sealed_ns))
    return make_error("micro signature: signed by " + key_label(mk) +
                      ", which was not the store's key at " + utc_rfc3339(m.sealed_ns) +
                      " when the window was sealed");
  if (*ki < first_trusted)
    return make_error("micro signature: signed by " + key_label(mk) +
                      ", which the pinned key does not vouch for (it was handed over before "
                      "the pinned key)");
  out.key_name = mk.name;
  out.key_fingerprint = key_fingerprint(mk.public_key);

  // 6. The checkpoint: its signature, origin and size, and the record's path to its root.
  const size_t split = p.checkpoint.rfind("\n\n");
  if (split == std::string::npos) return make_error("checkpoint: not a signed note");
  auto cp = note::parse_checkpoint_body(std::string_view(p.checkpoint).substr(0, split + 1));
  if (!cp.ok()) return make_error("checkpoint: " + cp.error().message);
  std::optional<size_t> signer;
  auto signed_by = [&](size_t i) {
    const KeyEntry& k = keys[i];
    NamedPublicKey named{k.name, k.public_key, note_key_id(k.name, k.public_key)};
    return note::open(p.checkpoint, {named}).ok();
  };
  // The key of the window's time first; a later one when the key was rotated since.
  if (signed_by(*ki)) signer = *ki;
  for (size_t i = 0; !signer && i < keys.size(); ++i) {
    if (i != *ki && signed_by(i)) signer = i;
  }
  if (!signer) {
    std::vector<NamedPublicKey> all;
    for (const auto& k : keys)
      all.push_back(NamedPublicKey{k.name, k.public_key, note_key_id(k.name, k.public_key)});
    auto v = note::open(p.checkpoint, all);
    return make_error("checkpoint: " +
                      (v.ok() ? std::string("no signature by a key of the store")
                              : v.error().message + " (no key of the store signed it)"));
  }
  const KeyEntry& ck = keys[*signer];
  if (*signer < first_trusted)
    return make_error("checkpoint: signed by " + key_label(ck) +
                      ", which the pinned key does not vouch for");
  if (ck.valid_until_ns && *ck.valid_until_ns <= m.sealed_ns)
    return make_error("checkpoint: signed by " + key_label(ck) + ", whose validity ended at " +
                      utc_rfc3339(*ck.valid_until_ns) + ", before the window was sealed (" +
                      utc_rfc3339(m.sealed_ns) + ")");
  out.checkpoint_key_name = ck.name;
  out.checkpoint_key_fingerprint = key_fingerprint(ck.public_key);
  out.origin = checkpoint_origin(out.store.node_id, out.store.store_id);
  if (cp->origin != out.origin)
    return make_error("checkpoint: origin \"" + cp->origin + "\", expected \"" + out.origin +
                      "\" (a checkpoint of another log)");
  if (!cp->extensions.empty()) return make_error("checkpoint: has extension lines");
  if (cp->size != p.log_size)
    return make_error("checkpoint: it is for a log of " + std::to_string(cp->size) +
                      " records, but the proof's path is for a log of " +
                      std::to_string(p.log_size));
  auto log_root = merkle::root_from_inclusion_proof(merkle::leaf_hash(p.micro), p.log_index,
                                                    p.log_size, p.log_path);
  if (!log_root.ok())
    return make_error("window-log inclusion path: " + log_root.error().message + " (record " +
                      std::to_string(p.log_index) + " of " + std::to_string(p.log_size) + ", " +
                      std::to_string(p.log_path.size()) + " hashes)");
  if (*log_root != cp->root)
    return make_error("window-log inclusion path: the micro record's leaf and path lead to root " +
                      to_hex(*log_root) + ", not the checkpoint's root " + to_hex(cp->root) +
                      " (the micro record, its log index or the path differs)");
  out.checkpoint_size = cp->size;
  out.checkpoint_root = cp->root;
  return out;
}

// ---------------------------------------------------------------- making a proof

ProveOutcome prove_event(const fs::path& out_dir, uint64_t seq, std::optional<uint64_t> run_id) {
  ProveOutcome o;
  auto fail = [&o](ProveOutcome::Failure f, std::string msg) {
    o.failure = f;
    o.message = std::move(msg);
    return o;
  };
  using F = ProveOutcome::Failure;
  std::error_code ec;
  if (!fs::exists(out_dir / kStoreFile, ec))
    return fail(F::kUnreadable,
                "no sealed store at " + out_dir.string() + ": " + kStoreFile + " does not exist");
  auto store_bytes = read_file(out_dir / kStoreFile, kMaxRecordBytes);
  if (!store_bytes.ok()) return fail(F::kUnreadable, store_bytes.error().message);
  auto keys_bytes = read_file(out_dir / kKeysFile, kMaxRecordBytes);
  if (!keys_bytes.ok()) return fail(F::kUnreadable, keys_bytes.error().message);

  // The newest checkpoint first, then the window log (the sealer appends in the other order,
  // so every record a checkpoint covers is in the log read after it).
  std::string checkpoint;
  uint64_t checkpoint_frames = 0;
  if (fs::exists(out_dir / kCheckpointLogFile, ec)) {
    auto st =
        for_each_frame(out_dir / kCheckpointLogFile, kMaxRecordBytes, [&](uint64_t i, ByteSpan f) {
          checkpoint.assign(as_chars(f));
          checkpoint_frames = i + 1;
        });
    if (!st.ok()) return fail(F::kUnreadable, st.error().message);
  }
  if (!fs::exists(out_dir / kWindowLogFile, ec))
    return fail(F::kNotSealed, "seq " + std::to_string(seq) + " is not sealed: " + kWindowLogFile +
                                   " does not exist (no window sealed yet)");
  std::vector<Hash32> leaves;
  std::vector<std::pair<MicroRecord, Bytes>> found;  // records holding the seq
  std::map<std::pair<uint64_t, std::string>, SealedRunSpan> runs;
  std::vector<std::pair<uint64_t, std::string>> run_order;
  auto st = for_each_frame(out_dir / kWindowLogFile, kMaxRecordBytes, [&](uint64_t, ByteSpan f) {
    leaves.push_back(merkle::leaf_hash(f));
    auto r = decode_micro(f);
    if (!r.ok()) return;
    const std::string boot = to_hex(r->run.boot_id);
    const auto key = std::make_pair(r->run.run_id, boot);
    auto it = runs.find(key);
    if (it == runs.end()) {
      run_order.push_back(key);
      it = runs.emplace(key, SealedRunSpan{r->run.run_id, boot, r->first_seq, r->first_seq}).first;
    }
    if (r->event_count > 0) {
      if (it->second.end_seq == it->second.first_seq) it->second.first_seq = r->first_seq;
      it->second.end_seq = std::max(it->second.end_seq, r->end_seq());
    }
    if (r->event_count > 0 && seq >= r->first_seq && seq < r->end_seq() &&
        (!run_id || r->run.run_id == *run_id))
      found.emplace_back(std::move(r).value(), Bytes(f.begin(), f.end()));
  });
  if (!st.ok()) return fail(F::kUnreadable, st.error().message);
  for (const auto& k : run_order) o.sealed_runs.push_back(runs[k]);

  const std::string what =
      "seq " + std::to_string(seq) + (run_id ? " of run " + std::to_string(*run_id) : "");
  if (found.empty()) {
    std::string have;
    for (const auto& r : o.sealed_runs) {
      if (r.end_seq == r.first_seq) continue;
      have += (have.empty() ? "" : ", ") +
              ("run " + std::to_string(r.run_id) + " seq " + std::to_string(r.first_seq) + ".." +
               std::to_string(r.end_seq - 1));
    }
    return fail(F::kNotSealed,
                what + " is not in any sealed window of " + out_dir.string() +
                    (have.empty() ? " (no event is sealed yet)" : " (sealed: " + have + ")"));
  }
  if (found.size() > 1) {
    for (const auto& [r, bytes] : found) {
      o.candidates.push_back(ProveCandidate{r.run.run_id, to_hex(r.run.boot_id), r.log_index,
                                            stem_path(r), r.first_seq, r.event_count});
    }
    return fail(F::kAmbiguous, what + " is in " + std::to_string(found.size()) +
                                   " sealed windows of different runs" +
                                   (run_id ? std::string() : "; choose one with --run"));
  }
  const MicroRecord m = found[0].first;
  const Bytes micro = std::move(found[0].second);
  o.window = stem_path(m);
  const std::string win = o.window + " (log index " + std::to_string(m.log_index) + ")";

  // The checkpoint: the last frame of checkpoints.log; it must cover the window.
  if (checkpoint_frames == 0)
    return fail(F::kNotSealed, what + " is in window " + win +
                                   ", but no checkpoint has been signed yet (" +
                                   kCheckpointLogFile + " is empty or missing)");
  const size_t split = checkpoint.rfind("\n\n");
  if (split == std::string::npos)
    return fail(F::kInvalid, std::string(kCheckpointLogFile) + ": the last frame (" +
                                 std::to_string(checkpoint_frames - 1) + ") is not a signed note");
  auto cp = note::parse_checkpoint_body(std::string_view(checkpoint).substr(0, split + 1));
  if (!cp.ok())
    return fail(F::kInvalid,
                std::string(kCheckpointLogFile) + ": the last frame: " + cp.error().message);
  if (cp->size > leaves.size())
    return fail(F::kInvalid, std::string(kCheckpointLogFile) + ": the newest checkpoint is for " +
                                 std::to_string(cp->size) + " records, but " + kWindowLogFile +
                                 " holds " + std::to_string(leaves.size()));
  if (m.log_index >= leaves.size() || leaves[m.log_index] != merkle::leaf_hash(micro))
    return fail(F::kInvalid,
                "window " + win + ": its log index is not its place in " + kWindowLogFile);
  if (m.log_index >= cp->size)
    return fail(F::kNotSealed, what + " is in window " + win +
                                   ", which no checkpoint covers yet (the newest is for " +
                                   std::to_string(cp->size) +
                                   " records): an unsealed tail; the sensor signs it when it "
                                   "starts again");

  // The window's blocks: checked against the record, split into atoms, hashed.
  std::vector<Hash32> atom_leaves;
  atom_leaves.reserve(m.event_count);
  const uint64_t index = seq - m.first_seq;
  Bytes atom;
  std::vector<ScannedAtom> scanned;
  for (size_t k = 0; k < m.blocks.size(); ++k) {
    const BlockRef& b = m.blocks[k];
    const std::string rel = block_dir(m) + "/" + b.file;
    if (b.file !=
        block_file_name(window_stem(slot_in_hour(m.slot_start_ns, m.window_ns), m.part), k))
      return fail(F::kInvalid, "window " + win + ": block " + std::to_string(k) + " is named \"" +
                                   b.file + "\"");
    auto z = read_file(out_dir / rel, kMaxFrameBytes);
    if (!z.ok()) return fail(F::kUnreadable, z.error().message);
    if (z->size() != b.zstd_bytes || blake3(*z) != b.b3)
      return fail(F::kInvalid, rel + ": does not match its micro record (size or BLAKE3)");
    if (b.raw_bytes > 2 * static_cast<uint64_t>(kBlockMaxRawBytes))
      return fail(F::kInvalid, rel + ": declares " + std::to_string(b.raw_bytes) + " raw bytes");
    auto raw = zstd_decompress(*z, static_cast<size_t>(b.raw_bytes));
    if (!raw.ok() || raw->size() != b.raw_bytes)
      return fail(F::kInvalid,
                  rel + ": " + (raw.ok() ? "decompresses to another size" : raw.error().message));
    if (auto bad = scan_atoms(*raw, scanned)) return fail(F::kInvalid, rel + ": " + bad->message());
    if (scanned.size() != b.event_count)
      return fail(F::kInvalid, rel + ": holds " + std::to_string(scanned.size()) +
                                   " atoms, its micro record says " +
                                   std::to_string(b.event_count));
    for (size_t i = 0; i < scanned.size(); ++i) {
      const ByteSpan a = scanned[i].bytes(*raw);
      if (atom_leaves.size() == index) {
        atom.assign(a.begin(), a.end());
        o.block = k;
        o.index_in_block = i;
      }
      atom_leaves.push_back(merkle::leaf_hash(a));
    }
  }
  if (atom_leaves.size() != m.event_count ||
      merkle::root_from_leaf_hashes(atom_leaves) != m.micro_root)
    return fail(F::kInvalid, "window " + win +
                                 ": its blocks' atoms do not give the micro record's event count "
                                 "and micro root");

  auto sig = read_file(out_dir / micro_sig_path(m), kMaxSigBytes);
  if (!sig.ok()) return fail(F::kUnreadable, sig.error().message);

  EventProof p;
  p.atom = std::move(atom);
  p.seq = seq;
  p.leaf_index = index;
  p.leaf_count = m.event_count;
  p.event_path = merkle::inclusion_proof(atom_leaves, index);
  p.micro = micro;
  p.micro_sig = std::move(sig).value();
  p.log_index = m.log_index;
  p.log_size = cp->size;
  p.log_path =
      merkle::inclusion_proof(std::span<const Hash32>(leaves).first(cp->size), m.log_index);
  p.checkpoint = std::move(checkpoint);
  p.store = std::move(store_bytes).value();
  p.keys = std::move(keys_bytes).value();

  // Never hand out a proof that does not hold.
  auto check = verify_event_proof(encode(p));
  if (!check.ok())
    return fail(F::kInvalid,
                "the store's evidence for " + what + " does not hold: " + check.error().message);
  o.proof = std::move(p);
  return o;
}

}  // namespace ritma::seal
