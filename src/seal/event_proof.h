// The inclusion proof of one sealed event, `ritma-evproof@1` (docs/FORMAT.md §11): a small,
// self-contained file that carries the event's atom, its path to the window's micro root, the
// signed micro record, that record's path to the newest signed checkpoint of the window log,
// and the store and keys records, so that anyone can check offline, without the store, that
// the event was sealed by the node and which key vouches for it.
//
// prove_event() reads a store and builds a proof; verify_event_proof() checks one. Nothing in
// the verifier touches the disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/event.h"
#include "core/bytes.h"
#include "core/merkle.h"
#include "core/result.h"
#include "seal/seal_format.h"

namespace ritma::seal {

inline constexpr std::string_view kEventProofTag = "ritma-evproof@1";
inline constexpr size_t kMaxEventProofBytes = 16u << 20;  // bound for reading a proof file
inline constexpr size_t kMaxProofPathHashes = 64;         // a tree below 2^64 leaves

struct EventProof {          // §11
  Bytes atom;                // the event's `ritma-ev@1` atom (the Merkle leaf data)
  uint64_t seq = 0;          // the seq the proof is about
  uint64_t leaf_index = 0;   // the atom's index among the window's atoms
  uint64_t leaf_count = 0;   // the window's event count
  merkle::Proof event_path;  // PATH(leaf_index, atoms) up to the micro root
  Bytes micro;               // the micro record: exactly the window-log frame
  Bytes micro_sig;           // its detached signature record (§10.2)
  uint64_t log_index = 0;    // the micro record's index in the window log
  uint64_t log_size = 0;     // the size of the checkpoint below
  merkle::Proof log_path;    // PATH(log_index, window log[0:log_size]) up to the checkpoint root
  std::string checkpoint;    // the checkpoint note text (§5.2, §10.6)
  Bytes store;               // _meta/store.cbor
  Bytes keys;                // _meta/keys/keys.cbor
};

Bytes encode(const EventProof& p);
// Strict: canonical CBOR, the tag, arity, types, 32-byte path hashes, at most
// kMaxProofPathHashes per path. Says nothing about whether the proof holds.
Result<EventProof> decode_event_proof(ByteSpan b);

// ---- making a proof from a store

struct ProveCandidate {  // a sealed window holding the seq asked for
  uint64_t run_id = 0;
  std::string boot_id;  // hex
  uint64_t log_index = 0;
  std::string window;  // stem path
  uint64_t first_seq = 0;
  uint64_t event_count = 0;
};

struct SealedRunSpan {  // the seqs one run sealed (for saying what there is)
  uint64_t run_id = 0;
  std::string boot_id;  // hex
  uint64_t first_seq = 0;
  uint64_t end_seq = 0;  // one past the last; == first_seq when the run sealed no event
};

struct ProveOutcome {
  enum class Failure {
    kNone,
    kNotSealed,   // no sealed window holds the seq (or none a checkpoint covers yet)
    kAmbiguous,   // several runs sealed that seq: `candidates`; pick one with a run id
    kUnreadable,  // no store, or a file cannot be read
    kInvalid,     // the store's own evidence for the event does not hold
  };
  Failure failure = Failure::kNone;
  std::string message;  // what went wrong (failure != kNone)
  std::vector<ProveCandidate> candidates;
  std::vector<SealedRunSpan> sealed_runs;  // filled for kNotSealed

  std::optional<EventProof> proof;  // failure == kNone
  std::string window;               // stem path of the window
  uint64_t block = 0;               // block number K and index within it
  uint64_t index_in_block = 0;
};

// Builds the proof of the event with `seq` (of run `run_id`, when given) from the sealed store
// at out_dir, against the newest checkpoint of log/checkpoints.log. The blocks are checked
// against the micro record (BLAKE3, sizes, the micro root) before anything is taken from them,
// and the finished proof is verified (unpinned) before it is handed back.
ProveOutcome prove_event(const std::filesystem::path& out_dir, uint64_t seq,
                         std::optional<uint64_t> run_id = std::nullopt);

// ---- checking a proof

// A pinned key as a fingerprint (64 lowercase hex): from a fingerprint (§4.2), a C2SP verifier
// key string (name+keyid+base64), or the path of a public key file. An error means the text is
// none of these (a usage error, not an invalid proof).
Result<std::string> key_pin_fingerprint(std::string_view spec);

struct VerifiedEventProof {
  capture::Event event;
  capture::BootId boot_id{};
  StoreRecord store;
  MicroRecord micro;
  std::string window;  // stem path
  uint64_t leaf_index = 0;
  uint64_t leaf_count = 0;
  uint64_t log_index = 0;
  uint64_t checkpoint_size = 0;
  Hash32 checkpoint_root{};
  std::string origin;
  // The key that signed the micro record, and the one whose signature on the checkpoint was
  // accepted (the same key unless the store's key was rotated after the window was sealed).
  std::string key_name, key_fingerprint;
  std::string checkpoint_key_name, checkpoint_key_fingerprint;
  bool pinned = false;             // a pin was given (and it is one of the store's keys)
  std::string pinned_fingerprint;  // the pin, when given
};

// Checks everything §11.2 lists. `pinned_fingerprint` empty: the keys record is taken as found
// (internally consistent, NOT pinned). An error names the first check that failed.
Result<VerifiedEventProof> verify_event_proof(ByteSpan proof_bytes,
                                              const std::string& pinned_fingerprint = "");

}  // namespace ritma::seal
