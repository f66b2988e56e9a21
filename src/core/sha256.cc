// SHA-256 via EVP. The digest implementation is fetched once per process; contexts are
// reused so hashing millions of Merkle leaves does not allocate per hash.
#include "core/sha256.h"

#include <cstdlib>

namespace ritma {
namespace {

const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();  // libcrypto without SHA-256 is unusable
    return m;
  }();
  return md;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr) != 1) std::abort();
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
