// Ed25519 via libsodium (crypto_sign_*); deterministic signatures per RFC 8032.
#include "core/ed25519.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include "core/sha256.h"

namespace ritma {

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // no usable randomness or CPU features: nothing can be signed
}

void SigningKey::SecretDeleter::operator()(uint8_t* p) const {
  sodium_free(p);
}

namespace {
uint8_t* alloc_secret() {
  ensure_sodium();
  auto* p = static_cast<uint8_t*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (p == nullptr) std::abort();
  return p;
}
}  // namespace

SigningKey SigningKey::generate() {
  SigningKey k;
  k.secret_.reset(alloc_secret());
  crypto_sign_keypair(k.public_key_.data(), k.secret_.get());
  return k;
}

Result<SigningKey> SigningKey::from_seed(ByteSpan seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return make_error("Ed25519 private key must be 32 bytes, got " + std::to_string(seed.size()));
  }
  SigningKey k;
  k.secret_.reset(alloc_secret());
  crypto_sign_seed_keypair(k.public_key_.data(), k.secret_.get(), seed.data());
  return k;
}

ByteSpan SigningKey::seed() const {
  return ByteSpan(secret_.get(), crypto_sign_SEEDBYTES);
}

Signature SigningKey::sign(ByteSpan message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.get());
  return sig;
}

bool verify_signature(const PublicKey& key, ByteSpan message, ByteSpan signature) {
  ensure_sodium();
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

std::string key_fingerprint(const PublicKey& key) {
  Sha256 h;
  h.update(std::string_view("ritma-keyfp@1\0", 14));
  h.update_byte(0x01);
  h.update(key);
  const Hash32 d = h.finalize();
  return to_hex(d);
}

}  // namespace ritma
