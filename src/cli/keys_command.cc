// `ritma keys init|show`.
#include <time.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "core/durable_file.h"
#include "core/single_writer_lock.h"
#include "seal/key_rotation.h"
#include "store/node_keys.h"

namespace ritma::cli {
namespace {

struct KeysOptions {
  std::string base_dir;
  std::string node_id;
  bool json = false;
};

void print_key(const store::NodeKeyInfo& k, bool json, bool created) {
  if (json) {
    char id[9];
    std::snprintf(id, sizeof id, "%08x", k.key_id);
    nlohmann::json j = {{"name", k.name},
                        {"algorithm", "ed25519"},
                        {"public_key", k.public_key_base64},
                        {"fingerprint", k.fingerprint},
                        {"note_key_id", id},
                        {"verifier_key", k.verifier_key},
                        {"public_key_path", k.public_key_path.string()},
                        {"private_key_path", k.private_key_path.string()},
                        {"created", created}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (created) std::cout << "created node key " << k.private_key_path.string() << " (mode 0600)\n";
  std::cout << "name:         " << k.name << "\n"
            << "algorithm:    ed25519\n"
            << "public key:   " << k.public_key_base64 << "\n"
            << "fingerprint:  " << k.fingerprint << "\n"
            << "verifier key: " << k.verifier_key << "\n"
            << "public file:  " << k.public_key_path.string() << "\n"
            << "Pin this key when verifying: ritma verify BUNDLE --key " << k.fingerprint << "\n";
}

void fail(const Error& e) {
  std::cerr << "ritma keys: " << e.message << "\n";
  throw CLI::RuntimeError(1);
}

std::optional<std::filesystem::path> base_override(const KeysOptions& o) {
  if (o.base_dir.empty()) return std::nullopt;
  return std::filesystem::path(o.base_dir);
}

}  // namespace

void register_keys_command(CLI::App& app) {
  auto opts = std::make_shared<KeysOptions>();
  CLI::App* keys = app.add_subcommand("keys", "Manage the node's Ed25519 signing key");
  keys->require_subcommand(1);

  CLI::App* init = keys->add_subcommand(
      "init", "Create the node signing key under RITMA_OUT/_meta/keys/ (refuses to replace one)");
  init->add_option("--base-dir", opts->base_dir,
                   "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  init->add_option("--node-id", opts->node_id,
                   "Node id for the key name (default: $RITMA_NODE_ID, else derived from "
                   "/etc/machine-id for development)");
  init->add_flag("--json", opts->json, "Print the key as JSON");
  init->callback([opts] {
    const store::StorePaths paths = store::resolve_store_paths(base_override(*opts));
    auto node = store::resolve_node_id(
        opts->node_id.empty() ? std::nullopt : std::optional<std::string>(opts->node_id));
    if (!node) fail(node.error());
    if (node->derived) {
      std::cerr << "ritma keys: warning: RITMA_NODE_ID is not set; using development node id "
                << node->id << " derived from /etc/machine-id\n";
    }
    auto key = store::init_node_key(paths, node->id);
    if (!key) fail(key.error());
    print_key(*key, opts->json, true);
  });

  CLI::App* show = keys->add_subcommand("show", "Print the node's public key and fingerprint");
  show->add_option("--base-dir", opts->base_dir,
                   "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  show->add_flag("--json", opts->json, "Print the key as JSON");
  show->callback([opts] {
    auto key = store::show_node_key(store::resolve_store_paths(base_override(*opts)));
    if (!key) fail(key.error());
    print_key(*key, opts->json, false);
  });

  CLI::App* rotate = keys->add_subcommand(
      "rotate",
      "Replace the node key with a new one; the old key signs the hand-over in "
      "_meta/keys/keys.cbor (the sensor must be stopped)");
  rotate->add_option("--base-dir", opts->base_dir,
                     "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
  rotate->add_flag("--json", opts->json, "Print the new key as JSON");
  rotate->callback([opts] {
    const store::StorePaths paths = store::resolve_store_paths(base_override(*opts));
    auto store_bytes = read_file(paths.out_dir / seal::kStoreFile, seal::kMaxRecordBytes);
    if (!store_bytes) fail(store_bytes.error());
    auto store = seal::decode_store(*store_bytes);
    if (!store) fail(store.error());
    // Hold the node's writer lock: no sensor may sign while the key changes.
    auto lock = SingleWriterLock::acquire(
        paths.lock_dir / ("ritma-sensor." + store->node_id + ".lock"), "ritma-sensor");
    if (!lock) {
      fail(Error{lock.error().message + "; stop the sensor before rotating its key"});
    }
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    const int64_t now = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    auto rotated = seal::rotate_store_key(paths.out_dir, paths.node_private_key(),
                                          paths.node_public_key(), now);
    if (!rotated) fail(rotated.error());
    auto key = store::show_node_key(paths);
    if (!key) fail(key.error());
    if (!opts->json) {
      std::cout << "rotated: the previous key " << key_fingerprint(rotated->previous.public_key)
                << " signed the hand-over and is valid until now\n";
    }
    print_key(*key, opts->json, true);
  });
}

}  // namespace ritma::cli
