// SHA-256 through OpenSSL's libcrypto, which uses the CPU's SHA extensions (SHA-NI) when
// present. Used for RFC 9162 Merkle trees and C2SP key ids.
#pragma once

#include <openssl/evp.h>

#include <string_view>

#include "core/bytes.h"

namespace ritma {

// Incremental SHA-256. Reusable: finalize() resets it for the next message.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(ByteSpan data);
  void update(std::string_view data) { update(as_bytes(data)); }
  void update_byte(uint8_t b) { update(ByteSpan(&b, 1)); }
  Hash32 finalize();

 private:
  EVP_MD_CTX* ctx_;
};

Hash32 sha256(ByteSpan data);

// The process's SHA-256 implementation, fetched once (OpenSSL initialised without reading its
// configuration file).
const EVP_MD* sha256_evp();

}  // namespace ritma
