// Ed25519 key files in C2SP signed-note key formats.
#include "core/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/durable_file.h"
#include "core/sha256.h"

namespace ritma {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;
constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";

std::string hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string_view trim_newline(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

struct KeyParts {
  std::string name;
  uint32_t id = 0;
  Bytes key;  // without the algorithm byte
};

// Parses "<name>+<8 hex>+<base64(0x01 || 32 bytes)>".
Result<KeyParts> parse_parts(std::string_view s, const char* kind) {
  // Names and ids never contain '+'; the base64 key may, so split from the left.
  const size_t p1 = s.find('+');
  const size_t p2 = p1 == std::string_view::npos ? p1 : s.find('+', p1 + 1);
  if (p1 == 0 || p2 == std::string_view::npos) {
    return make_error(std::string("malformed ") + kind + " key: expected NAME+ID+KEY");
  }
  KeyParts parts;
  parts.name = std::string(s.substr(0, p1));
  RITMA_TRY(check_key_name(parts.name));
  const std::string_view id_hex = s.substr(p1 + 1, p2 - p1 - 1);
  if (id_hex.size() != 8) return make_error(std::string(kind) + " key id must be 8 hex digits");
  RITMA_ASSIGN_OR_RETURN(Bytes id, from_hex(id_hex));
  parts.id = (uint32_t{id[0]} << 24) | (uint32_t{id[1]} << 16) | (uint32_t{id[2]} << 8) | id[3];
  auto raw = from_base64(s.substr(p2 + 1));
  if (!raw) return make_error(std::string(kind) + " key: " + raw.error().message);
  if (raw->size() != 33 || (*raw)[0] != kAlgEd25519) {
    return make_error(std::string(kind) + " key is not an Ed25519 key (algorithm 0x01, 32 bytes)");
  }
  parts.key.assign(raw->begin() + 1, raw->end());
  return parts;
}

}  // namespace

Status check_key_name(std::string_view name) {
  if (name.empty()) return make_error("key name is empty");
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f || c == '+') {
      return make_error("key name \"" + std::string(name) +
                        "\" contains whitespace, a control character or '+'");
    }
  }
  return {};
}

uint32_t note_key_id(std::string_view name, const PublicKey& key) {
  Sha256 h;
  h.update(name);
  h.update_byte('\n');
  h.update_byte(kAlgEd25519);
  h.update(key);
  const Hash32 d = h.finalize();
  return (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
}

std::string format_private_key(const NamedSigningKey& k) {
  Bytes raw{kAlgEd25519};
  append(raw, k.key.seed());
  std::string out = std::string(kPrivatePrefix) + k.name + "+" +
                    hex32(note_key_id(k.name, k.key.public_key())) + "+" + to_base64(raw);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string format_public_key(const std::string& name, const PublicKey& key) {
  Bytes raw{kAlgEd25519};
  append(raw, key);
  return name + "+" + hex32(note_key_id(name, key)) + "+" + to_base64(raw);
}

Result<NamedSigningKey> parse_private_key(std::string_view text) {
  std::string_view s = trim_newline(text);
  if (s.substr(0, kPrivatePrefix.size()) != kPrivatePrefix) {
    return make_error("not a private key: expected it to start with PRIVATE+KEY+");
  }
  RITMA_ASSIGN_OR_RETURN(KeyParts parts, parse_parts(s.substr(kPrivatePrefix.size()), "private"));
  RITMA_ASSIGN_OR_RETURN(SigningKey key, SigningKey::from_seed(parts.key));
  sodium_memzero(parts.key.data(), parts.key.size());
  if (note_key_id(parts.name, key.public_key()) != parts.id) {
    return make_error("private key id does not match its name and key");
  }
  return NamedSigningKey{parts.name, std::move(key)};
}

Result<NamedPublicKey> parse_public_key(std::string_view text) {
  RITMA_ASSIGN_OR_RETURN(KeyParts parts, parse_parts(trim_newline(text), "public"));
  NamedPublicKey out;
  out.name = parts.name;
  std::copy(parts.key.begin(), parts.key.end(), out.key.begin());
  out.key_id = parts.id;
  if (note_key_id(out.name, out.key) != parts.id) {
    return make_error("public key id does not match its name and key");
  }
  return out;
}

Status write_private_key_file(const std::filesystem::path& path, const NamedSigningKey& k) {
  if (std::filesystem::exists(std::filesystem::symlink_status(path))) {
    return make_error("refusing to overwrite existing key " + path.string());
  }
  std::string text = format_private_key(k) + "\n";
  Status s = atomic_write_file(path, as_bytes(text), 0600);
  sodium_memzero(text.data(), text.size());
  return s;
}

Status write_public_key_file(const std::filesystem::path& path, const std::string& name,
                             const PublicKey& key) {
  const std::string text = format_public_key(name, key) + "\n";
  return atomic_write_file(path, as_bytes(text), 0644);
}

Result<NamedSigningKey> load_private_key_file(const std::filesystem::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return make_error("cannot open private key " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return make_error("private key " + path.string() + " is not a regular file");
  }
  if (st.st_mode & 077) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error("refusing to load private key " + path.string() + ": its mode " + mode +
                      " lets group or others access it; run: chmod 600 " + path.string());
  }
  if (st.st_uid != geteuid()) {
    close(fd);
    return make_error("refusing to load private key " + path.string() + ": owned by uid " +
                      std::to_string(st.st_uid) + ", not by the current user (uid " +
                      std::to_string(geteuid()) + ")");
  }
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 0) return make_error("cannot read private key " + path.string());
  if (n == ssize_t(sizeof buf))
    return make_error("private key file " + path.string() + " too large");
  auto key = parse_private_key(std::string_view(buf, static_cast<size_t>(n)));
  sodium_memzero(buf, sizeof buf);
  if (!key) return make_error(path.string() + ": " + key.error().message);
  return key;
}

Result<NamedPublicKey> load_public_key_file(const std::filesystem::path& path) {
  RITMA_ASSIGN_OR_RETURN(Bytes text, read_file(path, 4096));
  auto key = parse_public_key(as_chars(text));
  if (!key) return make_error(path.string() + ": " + key.error().message);
  return key;
}

}  // namespace ritma
