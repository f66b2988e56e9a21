// The node's signing key in RITMA_OUT/_meta/keys/: node.key (private, 0600, directory 0700)
// and node.pub (public). The key name is "ritma-node-<node id>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/key_file.h"
#include "store/store_layout.h"

namespace ritma::store {

struct NodeKeyInfo {
  std::string name;
  std::string public_key_base64;  // the raw 32-byte key
  std::string verifier_key;       // C2SP note verifier key string (node.pub's content)
  std::string fingerprint;        // key_fingerprint()
  uint32_t key_id = 0;            // C2SP note key id
  std::filesystem::path private_key_path;
  std::filesystem::path public_key_path;
};

std::string node_key_name(std::string_view node_id);

// Creates a new key. Fails, naming the existing key's fingerprint, if one already exists.
Result<NodeKeyInfo> init_node_key(const StorePaths& paths, std::string_view node_id);
// Reads node.pub (no private key access needed).
Result<NodeKeyInfo> show_node_key(const StorePaths& paths);
// Loads the private key for signing (the sensor).
Result<NamedSigningKey> load_node_signing_key(const StorePaths& paths);

}  // namespace ritma::store
