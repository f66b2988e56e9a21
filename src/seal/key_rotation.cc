#include "seal/key_rotation.h"

#include "core/durable_file.h"

namespace ritma::seal {

namespace fs = std::filesystem;

Status check_key_chain(const KeysRecord& keys) {
  if (keys.keys.empty()) return make_error("keys.cbor lists no key");
  for (size_t i = 0; i < keys.keys.size(); ++i) {
    const KeyEntry& k = keys.keys[i];
    const bool last = i + 1 == keys.keys.size();
    if (last != !k.valid_until_ns)
      return make_error("keys.cbor: key " + std::to_string(i) + " (" + k.name + ") " +
                        (last ? "is the current key but has an end of validity"
                              : "is not the current key but has no end of validity"));
    if (k.valid_until_ns && *k.valid_until_ns < k.valid_from_ns)
      return make_error("keys.cbor: key " + std::to_string(i) + " ends before it starts");
    if (i == 0) {
      if (k.handover) return make_error("keys.cbor: the first key cannot have a hand-over");
      continue;
    }
    const KeyEntry& prev = keys.keys[i - 1];
    if (!k.handover)
      return make_error("keys.cbor: key " + std::to_string(i) + " (" + k.name +
                        ") has no hand-over from the key before it");
    if (k.handover->first != prev.public_key)
      return make_error("keys.cbor: key " + std::to_string(i) +
                        " names a previous key that is not the key before it");
    if (*prev.valid_until_ns != k.valid_from_ns)
      return make_error("keys.cbor: validity of key " + std::to_string(i - 1) +
                        " does not end where key " + std::to_string(i) + " begins");
    if (!verify_signature(prev.public_key, signature_message(encode_handover_message(k)),
                          k.handover->second))
      return make_error("keys.cbor: the hand-over signature of key " + std::to_string(i) + " (" +
                        k.name + ") does not verify with the previous key");
  }
  return {};
}

Result<RotationResult> rotate_store_key(const fs::path& out_dir, const fs::path& private_key_file,
                                        const fs::path& public_key_file, int64_t now_ns) {
  const fs::path keys_file = out_dir / kKeysFile;
  if (!fs::exists(keys_file))
    return make_error(keys_file.string() +
                      " does not exist: nothing has been sealed with this store's key yet, so "
                      "there is nothing to hand over (the sensor creates it on its first run)");
  RITMA_ASSIGN_OR_RETURN(Bytes kb, read_file(keys_file, kMaxRecordBytes));
  RITMA_ASSIGN_OR_RETURN(KeysRecord keys, decode_keys(kb));
  RITMA_TRY(check_key_chain(keys));
  RITMA_ASSIGN_OR_RETURN(NamedSigningKey old_key, load_private_key_file(private_key_file));
  if (keys.keys.back().public_key != old_key.key.public_key())
    return make_error(private_key_file.string() + " is not the store's current key (" +
                      keys_file.string() + "); refusing to rotate");
  if (now_ns <= keys.keys.back().valid_from_ns)
    return make_error("the clock is not after the current key's start of validity");

  NamedSigningKey fresh{old_key.name, SigningKey::generate()};
  KeyEntry entry;
  entry.name = fresh.name;
  entry.public_key = fresh.key.public_key();
  entry.valid_from_ns = now_ns;
  entry.handover =
      std::make_pair(old_key.key.public_key(),
                     old_key.key.sign(signature_message(encode_handover_message(entry))));
  keys.keys.back().valid_until_ns = now_ns;
  keys.keys.push_back(entry);
  RITMA_TRY(check_key_chain(keys));

  const fs::path new_private = private_key_file.string() + ".new";
  const fs::path new_public = public_key_file.string() + ".new";
  RITMA_TRY(write_private_key_file(new_private, fresh));
  RITMA_TRY(write_public_key_file(new_public, fresh.name, fresh.key.public_key()));
  RITMA_TRY(atomic_write_file(keys_file, encode(keys), 0644));
  std::error_code ec;
  fs::rename(new_private, private_key_file, ec);
  if (!ec) fs::rename(new_public, public_key_file, ec);
  if (ec)
    return make_error("keys.cbor now names the new key, but moving it into place failed: " +
                      ec.message() + "; rename " + new_private.string() + " to " +
                      private_key_file.string() + " (and the .pub likewise) by hand");
  RITMA_TRY(fsync_directory(private_key_file.parent_path()));
  return RotationResult{keys.keys[keys.keys.size() - 2], keys.keys.back()};
}

}  // namespace ritma::seal
