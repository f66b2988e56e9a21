// C2SP signed-note signing, parsing and verification, and tlog-checkpoint bodies.
#include "core/signed_note.h"

#include <charconv>

#include "core/utf8.h"

namespace ritma::note {
namespace {

constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, space
constexpr size_t kMaxSignatures = 100;

// Note text is valid UTF-8 with no control characters other than newline.
Status check_note_text(std::string_view s) {
  if (auto problem = find_invalid_utf8(as_bytes(s))) {
    return make_error("note text is not valid UTF-8 at byte " + std::to_string(problem->index) +
                      ": " + problem->reason);
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) {
      return make_error("note text contains a control character at byte " + std::to_string(i));
    }
  }
  return {};
}

}  // namespace

Result<std::string> sign(std::string_view body, const std::vector<const NamedSigningKey*>& keys) {
  if (body.empty() || body.back() != '\n') return make_error("note body must end with a newline");
  if (body.find("\n\n") != std::string_view::npos) {
    return make_error("note body must not contain a blank line");
  }
  RITMA_TRY(check_note_text(body));
  if (keys.empty()) return make_error("a note needs at least one signer");
  std::string out(body);
  out += '\n';
  for (const NamedSigningKey* k : keys) {
    RITMA_TRY(check_key_name(k->name));
    const uint32_t id = note_key_id(k->name, k->key.public_key());
    const Signature sig = k->key.sign(as_bytes(body));
    Bytes blob = {uint8_t(id >> 24), uint8_t(id >> 16), uint8_t(id >> 8), uint8_t(id)};
    append(blob, sig);
    out += kSigPrefix;
    out += k->name;
    out += ' ';
    out += to_base64(blob);
    out += '\n';
  }
  return out;
}

Result<VerifiedNote> open(std::string_view text, const std::vector<NamedPublicKey>& known) {
  RITMA_TRY(check_note_text(text));
  const size_t split = text.rfind("\n\n");
  if (split == std::string_view::npos) return make_error("malformed note: no signature block");
  VerifiedNote out;
  out.body = std::string(text.substr(0, split + 1));
  std::string_view sigs = text.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return make_error("malformed note: signature block must end with a newline");
  }
  size_t count = 0;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (++count > kMaxSignatures) return make_error("note has too many signatures");
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return make_error("malformed note: signature line does not start with an em dash");
    }
    line.remove_prefix(kSigPrefix.size());
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos)
      return make_error("malformed note: signature line lacks a key name");
    const std::string_view name = line.substr(0, sp);
    RITMA_TRY(check_key_name(name));
    auto blob = from_base64(line.substr(sp + 1));
    if (!blob || blob->size() < 5) return make_error("malformed note: bad signature encoding");
    const uint32_t id = (uint32_t{(*blob)[0]} << 24) | (uint32_t{(*blob)[1]} << 16) |
                        (uint32_t{(*blob)[2]} << 8) | (*blob)[3];
    const NamedPublicKey* key = nullptr;
    for (const auto& k : known) {
      if (k.name == name && note_key_id(k.name, k.key) == id) key = &k;
    }
    if (key == nullptr) {
      ++out.unknown_signatures;
      continue;
    }
    const ByteSpan sig = ByteSpan(*blob).subspan(4);
    if (!verify_signature(key->key, as_bytes(out.body), sig)) {
      return make_error("invalid signature by known key " + std::string(name));
    }
    for (const auto& v : out.verified_by) {
      if (v == name) return make_error("note has two signatures by key " + std::string(name));
    }
    out.verified_by.emplace_back(name);
  }
  if (out.verified_by.empty()) return make_error("note has no signature by a known key");
  return out;
}

std::string checkpoint_body(const Checkpoint& c) {
  std::string out = c.origin + "\n" + std::to_string(c.size) + "\n" + to_base64(c.root) + "\n";
  for (const auto& e : c.extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> parse_checkpoint_body(std::string_view body) {
  if (body.empty() || body.back() != '\n') return make_error("checkpoint must end with a newline");
  std::vector<std::string_view> lines;
  std::string_view rest = body;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return make_error("checkpoint needs origin, size and root lines");
  for (auto l : lines) {
    if (l.empty()) return make_error("checkpoint has an empty line");
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  const std::string_view size = lines[1];
  if (size.size() > 1 && size[0] == '0') return make_error("checkpoint size has a leading zero");
  auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), c.size);
  if (ec != std::errc() || ptr != size.data() + size.size()) {
    return make_error("checkpoint size is not a decimal number");
  }
  auto root = from_base64(lines[2]);
  if (!root || root->size() != 32) return make_error("checkpoint root is not base64 of 32 bytes");
  std::copy(root->begin(), root->end(), c.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) c.extensions.emplace_back(lines[i]);
  return c;
}

}  // namespace ritma::note
