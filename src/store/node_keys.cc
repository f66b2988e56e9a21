// Node key creation and lookup.
#include "store/node_keys.h"

#include "core/durable_file.h"

namespace ritma::store {
namespace {

NodeKeyInfo describe(const StorePaths& paths, const std::string& name, const PublicKey& key) {
  NodeKeyInfo info;
  info.name = name;
  info.public_key_base64 = to_base64(key);
  info.verifier_key = format_public_key(name, key);
  info.fingerprint = key_fingerprint(key);
  info.key_id = note_key_id(name, key);
  info.private_key_path = paths.node_private_key();
  info.public_key_path = paths.node_public_key();
  return info;
}

}  // namespace

std::string node_key_name(std::string_view node_id) {
  return "ritma-node-" + std::string(node_id);
}

Result<NodeKeyInfo> init_node_key(const StorePaths& paths, std::string_view node_id) {
  RITMA_TRY(check_node_id(node_id));
  std::error_code ec;
  if (std::filesystem::exists(paths.node_private_key(), ec)) {
    auto existing = show_node_key(paths);
    return make_error("a node key already exists at " + paths.node_private_key().string() +
                      (existing ? " (fingerprint " + existing->fingerprint + ")" : "") +
                      "; refusing to replace it");
  }
  RITMA_TRY(make_directories(paths.meta_dir(), 0755));
  RITMA_TRY(make_directories(paths.keys_dir(), 0700));
  NamedSigningKey k{node_key_name(node_id), SigningKey::generate()};
  RITMA_TRY(write_private_key_file(paths.node_private_key(), k));
  RITMA_TRY(write_public_key_file(paths.node_public_key(), k.name, k.key.public_key()));
  return describe(paths, k.name, k.key.public_key());
}

Result<NodeKeyInfo> show_node_key(const StorePaths& paths) {
  std::error_code ec;
  if (!std::filesystem::exists(paths.node_public_key(), ec)) {
    return make_error("no node key at " + paths.node_public_key().string() +
                      "; create one with: ritma keys init");
  }
  RITMA_ASSIGN_OR_RETURN(NamedPublicKey pub, load_public_key_file(paths.node_public_key()));
  return describe(paths, pub.name, pub.key);
}

Result<NamedSigningKey> load_node_signing_key(const StorePaths& paths) {
  return load_private_key_file(paths.node_private_key());
}

}  // namespace ritma::store
