// Environment contract and RITMA_OUT/ paths.
#include "store/store_layout.h"

#include <cctype>
#include <cstdlib>

#include "core/durable_file.h"

namespace ritma::store {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

}  // namespace

StorePaths resolve_store_paths(const std::optional<std::filesystem::path>& base_dir_override) {
  StorePaths p;
  const bool overridden = base_dir_override && !base_dir_override->empty();
  p.base_dir = overridden ? *base_dir_override
                          : std::filesystem::path(env("RITMA_BASE_DIR").value_or("/var/lib/ritma"));
  const auto out = overridden ? std::nullopt : env("RITMA_OUT_DIR");
  p.out_dir = out ? std::filesystem::path(*out) : p.base_dir / "RITMA_OUT";
  const auto db = overridden ? std::nullopt : env("INDEX_DB_PATH");
  p.index_db = db ? std::filesystem::path(*db) : p.base_dir / "index_db.sqlite";
  p.lock_dir = env("RITMA_SIDECAR_LOCK_DIR").value_or("/run/ritma/locks");
  return p;
}

Status check_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return make_error("node id must be 1 to 64 characters");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return make_error("node id \"" + std::string(id) +
                        "\" may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return {};
}

Result<NodeId> resolve_node_id(const std::optional<std::string>& override_id) {
  if (override_id) {
    RITMA_TRY(check_node_id(*override_id));
    return NodeId{*override_id, false};
  }
  if (auto v = env("RITMA_NODE_ID")) {
    RITMA_TRY(check_node_id(*v));
    return NodeId{*v, false};
  }
  auto machine_id = read_file("/etc/machine-id", 4096);
  if (!machine_id || machine_id->size() < 12) {
    return make_error(
        "RITMA_NODE_ID is not set and /etc/machine-id is unreadable; set RITMA_NODE_ID");
  }
  std::string id = "dev-";
  for (size_t i = 0; i < 12; ++i) {
    const char c = static_cast<char>((*machine_id)[i]);
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return make_error("/etc/machine-id is malformed; set RITMA_NODE_ID");
    }
    id += c;
  }
  return NodeId{id, true};
}

}  // namespace ritma::store
