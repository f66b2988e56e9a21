// Ed25519 key files in the text formats of C2SP signed notes (the same strings Go's
// golang.org/x/mod/sumdb/note reads), so other tools can use Ritma's keys directly:
//
//   private: PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>
//   public:  <name>+<key id, 8 hex>+<base64(0x01 || 32-byte public key)>
//
// each followed by one newline. The key id is the first 4 bytes, big-endian, of
// SHA-256(name || 0x0A || 0x01 || public key). A private key file must be mode 0600 (or
// stricter) and owned by the reader; anything group/other-readable is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/ed25519.h"
#include "core/result.h"

namespace ritma {

// A key name must be non-empty UTF-8 with no whitespace and no '+'.
Status check_key_name(std::string_view name);
uint32_t note_key_id(std::string_view name, const PublicKey& key);

struct NamedSigningKey {
  std::string name;
  SigningKey key;
};
struct NamedPublicKey {
  std::string name;
  PublicKey key{};
  uint32_t key_id = 0;
};

std::string format_private_key(const NamedSigningKey& k);
std::string format_public_key(const std::string& name, const PublicKey& key);
Result<NamedSigningKey> parse_private_key(std::string_view text);
Result<NamedPublicKey> parse_public_key(std::string_view text);

// Writes the private key atomically with mode 0600; refuses to replace an existing file.
Status write_private_key_file(const std::filesystem::path& path, const NamedSigningKey& k);
Status write_public_key_file(const std::filesystem::path& path, const std::string& name,
                             const PublicKey& key);
// Refuses a file that is not a regular file, is readable or writable by group or others, or is
// not owned by the effective user, naming the fix.
Result<NamedSigningKey> load_private_key_file(const std::filesystem::path& path);
Result<NamedPublicKey> load_public_key_file(const std::filesystem::path& path);

}  // namespace ritma
