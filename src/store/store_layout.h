// Where a Ritma store lives: the deployment environment contract and the file layout of
// RITMA_OUT/. This is the one place that names these paths.
//
//   RITMA_BASE_DIR          default /var/lib/ritma
//   RITMA_OUT_DIR           default $RITMA_BASE_DIR/RITMA_OUT
//   INDEX_DB_PATH           default $RITMA_BASE_DIR/index_db.sqlite
//   RITMA_SIDECAR_LOCK_DIR  default /run/ritma/locks
//   RITMA_NODE_ID           required in production; a development default derives from
//                           /etc/machine-id (with a warning)
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace ritma::store {

struct StorePaths {
  std::filesystem::path base_dir;
  std::filesystem::path out_dir;
  std::filesystem::path index_db;
  std::filesystem::path lock_dir;

  std::filesystem::path meta_dir() const { return out_dir / "_meta"; }
  std::filesystem::path keys_dir() const { return meta_dir() / "keys"; }
  std::filesystem::path node_private_key() const { return keys_dir() / "node.key"; }
  std::filesystem::path node_public_key() const { return keys_dir() / "node.pub"; }
};

// Resolves paths from the environment. A non-empty base_dir_override (a --base-dir flag)
// replaces RITMA_BASE_DIR and makes the derived defaults follow it; RITMA_OUT_DIR and
// INDEX_DB_PATH still apply when set and no override is given.
StorePaths resolve_store_paths(const std::optional<std::filesystem::path>& base_dir_override);

struct NodeId {
  std::string id;
  bool derived = false;  // true when taken from /etc/machine-id rather than RITMA_NODE_ID
};

// A node id is 1..64 characters of [A-Za-z0-9._-].
Status check_node_id(std::string_view id);
// RITMA_NODE_ID, else (development default) "dev-" + the first 12 hex digits of
// /etc/machine-id, with derived = true so callers can warn.
Result<NodeId> resolve_node_id(const std::optional<std::string>& override_id);

}  // namespace ritma::store
