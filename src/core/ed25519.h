// Ed25519 signatures through libsodium. Secret keys live in libsodium's guarded, locked memory
// and are wiped when their owner is destroyed.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

// Initialises libsodium once per process (safe to call from anywhere, any number of times).
void ensure_sodium();

class SigningKey {
 public:
  static SigningKey generate();
  // The 32-byte RFC 8032 private key (seed).
  static Result<SigningKey> from_seed(ByteSpan seed);

  const PublicKey& public_key() const { return public_key_; }
  Signature sign(ByteSpan message) const;
  // The 32-byte seed; only for writing key files.
  ByteSpan seed() const;

 private:
  struct SecretDeleter {
    void operator()(uint8_t* p) const;
  };
  SigningKey() = default;
  std::unique_ptr<uint8_t, SecretDeleter> secret_;  // libsodium's 64-byte secret key
  PublicKey public_key_{};
};

bool verify_signature(const PublicKey& key, ByteSpan message, ByteSpan signature);

// The key's fingerprint: lowercase hex of SHA-256("ritma-keyfp@1" 0x00 0x01 || public key)
// (0x01 is the Ed25519 algorithm byte that C2SP signed notes also use).
std::string key_fingerprint(const PublicKey& key);

}  // namespace ritma
