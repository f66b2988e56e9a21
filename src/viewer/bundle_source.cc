// The viewer's evidence from a ProofPack (docs/FORMAT.md §12), a directory or a .tar.zst, read
// whole into memory with seal::load_pack: its windows (seal::open_pack), their atoms, event
// proofs built from the pack's files, and the report of seal::verify_pack.
#include <mutex>

#include "seal/proofpack.h"
#include "viewer/evidence_source.h"

namespace ritma::viewer {
namespace {

namespace fs = std::filesystem;

class BundleSource final : public EvidenceSource {
 public:
  BundleSource(seal::PackFiles files, seal::OpenedPack opened)
      : files_(std::move(files)), opened_(std::move(opened)) {
    auto s = std::make_shared<Snapshot>();
    s->store = opened_.store;
    s->newest_checkpoint = opened_.newest_checkpoint;
    s->newest_size = opened_.newest_size;
    s->newest_root = to_hex(opened_.newest_root);
    for (const auto& w : opened_.windows) {
      WindowView v;
      v.micro = w.micro;
      v.micro_bytes = w.micro_bytes;
      v.sealed = w.log_index < opened_.newest_size;
      v.has_blocks = w.has_blocks;
      s->windows.push_back(std::move(v));
    }
    snapshot_ = std::move(s);
  }

  std::string kind() const override { return "bundle"; }
  std::string location() const override { return files_.source; }

  Result<std::shared_ptr<const Snapshot>> snapshot() override { return snapshot_; }

  Result<std::vector<Bytes>> window_atoms(const WindowView& w) override {
    const seal::OpenedPackWindow* pw = find(w.micro.log_index);
    if (!pw || !pw->has_blocks) return make_error("the bundle holds no events of this window");
    return seal::pack_window_atoms(files_, *pw);
  }

  Result<seal::EventProof> event_proof(const Snapshot&, const WindowView& w,
                                       uint64_t leaf_index) override {
    const seal::OpenedPackWindow* pw = find(w.micro.log_index);
    if (!pw || !pw->has_blocks) return make_error("the bundle holds no events of this window");
    return seal::pack_event_proof(files_, opened_, *pw, leaf_index);
  }

  Result<nlohmann::json> report() override {
    std::lock_guard lock(mu_);
    if (report_) return *report_;
    RITMA_ASSIGN_OR_RETURN(seal::PackReport r, seal::verify_pack(files_));
    nlohmann::json j = verify_report_json(r.store);
    j["source"] = {{"kind", "bundle"},
                   {"path", r.source},
                   {"archive", r.archive},
                   {"created_ns", r.created_ns},
                   {"from_ns", r.from_ns},
                   {"to_ns", r.to_ns},
                   {"manifest_files", r.manifest_files},
                   {"events_in_range", r.events_in_range},
                   {"first_log_index", r.first_log_index},
                   {"last_log_index", r.last_log_index},
                   {"newest_size", r.newest_size},
                   {"newest_root", r.newest_root}};
    report_ = std::move(j);
    return *report_;
  }

  Result<Bytes> artifact(const std::string& relative_path) override {
    // Only the pack's own files, by their exact (already checked) path: nothing on disk.
    const auto it = files_.files.find(relative_path);
    if (it == files_.files.end()) return make_error("no such artifact");
    return it->second;
  }

 private:
  const seal::OpenedPackWindow* find(uint64_t log_index) const {
    for (const auto& w : opened_.windows)
      if (w.log_index == log_index) return &w;
    return nullptr;
  }

  seal::PackFiles files_;
  seal::OpenedPack opened_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::mutex mu_;
  std::optional<nlohmann::json> report_;
};

}  // namespace

Result<std::unique_ptr<EvidenceSource>> open_bundle_source(const fs::path& path) {
  RITMA_ASSIGN_OR_RETURN(seal::PackFiles files, seal::load_pack(path));
  RITMA_ASSIGN_OR_RETURN(seal::OpenedPack opened, seal::open_pack(files));
  return std::unique_ptr<EvidenceSource>(
      std::make_unique<BundleSource>(std::move(files), std::move(opened)));
}

}  // namespace ritma::viewer
