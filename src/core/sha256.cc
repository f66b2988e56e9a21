// SHA-256 via EVP. The digest implementation is fetched once per process; contexts are
// reused so hashing millions of Merkle leaves does not allocate per hash.
#include "core/sha256.h"

#include <openssl/crypto.h>

#include <cstdlib>

namespace ritma {

const EVP_MD* sha256_evp() {
  static const EVP_MD* md = [] {
    // Hashing needs no configuration: skipping /etc/ssl/openssl.cnf saves milliseconds on
    // every short-lived process (`requiem exec`, `ritma verify`).
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();  // libcrypto without SHA-256 is unusable
    return m;
  }();
  return md;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, sha256_evp(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256::update(ByteSpan data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

Hash32 Sha256::finalize() {
  Hash32 out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.data(), &len);
  EVP_DigestInit_ex2(ctx_, nullptr, nullptr);
  return out;
}

Hash32 sha256(ByteSpan data) {
  thread_local Sha256 h;
  h.update(data);
  return h.finalize();
}

}  // namespace ritma
