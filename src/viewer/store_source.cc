// The viewer's evidence from a sealed store (RITMA_OUT/, docs/FORMAT.md §10): the window log's
// records, the newest checkpoint, blocks checked against their records, event proofs from
// seal::prove_event and the report of seal::verify_store.
#include <mutex>

#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/signed_note.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "viewer/evidence_source.h"

namespace ritma::viewer {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxLogBytes = size_t{1} << 30;

uint64_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// The newest checkpoint: the last complete frame of log/checkpoints.log.
Status read_newest_checkpoint(const fs::path& out, Snapshot& s) {
  const fs::path path = out / seal::kCheckpointLogFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(path, kMaxLogBytes));
  const FrameScan scan = scan_frames(data);
  if (scan.frames.empty()) return {};
  const ByteSpan last = scan.frames.back();
  s.newest_checkpoint.assign(reinterpret_cast<const char*>(last.data()), last.size());
  const size_t split = s.newest_checkpoint.rfind("\n\n");
  if (split == std::string::npos)
    return make_error(std::string(seal::kCheckpointLogFile) + ": the newest checkpoint is no note");
  RITMA_ASSIGN_OR_RETURN(note::Checkpoint c,
                         note::parse_checkpoint_body(s.newest_checkpoint.substr(0, split + 1)));
  s.newest_size = c.size;
  s.newest_root = to_hex(c.root);
  return {};
}

class StoreSource final : public EvidenceSource {
 public:
  explicit StoreSource(fs::path out) : out_(std::move(out)) {}

  std::string kind() const override { return "store"; }
  std::string location() const override { return out_.string(); }

  Result<std::shared_ptr<const Snapshot>> snapshot() override {
    const auto key = std::make_pair(size_or_zero(out_ / seal::kWindowLogFile),
                                    size_or_zero(out_ / seal::kCheckpointLogFile));
    std::lock_guard lock(mu_);
    if (cached_ && key == cached_key_) return cached_;
    auto s = std::make_shared<Snapshot>();
    RITMA_ASSIGN_OR_RETURN(Bytes store_bytes, read_file(out_ / seal::kStoreFile, 1u << 20));
    RITMA_ASSIGN_OR_RETURN(s->store, seal::decode_store(store_bytes));
    // The checkpoint first: every record it covers is in the window log read after it.
    RITMA_TRY(read_newest_checkpoint(out_, *s));
    std::error_code ec;
    if (fs::exists(out_ / seal::kWindowLogFile, ec)) {
      RITMA_ASSIGN_OR_RETURN(Bytes log, read_file(out_ / seal::kWindowLogFile, kMaxLogBytes));
      const FrameScan scan = scan_frames(log);
      for (size_t i = 0; i < scan.frames.size(); ++i) {
        auto micro = seal::decode_micro(scan.frames[i]);
        if (!micro.ok())
          return make_error(std::string(seal::kWindowLogFile) + ": frame " + std::to_string(i) +
                            ": " + micro.error().message);
        WindowView w;
        w.micro = std::move(*micro);
        w.micro_bytes.assign(scan.frames[i].begin(), scan.frames[i].end());
        w.sealed = i < s->newest_size;
        w.has_blocks = true;
        s->windows.push_back(std::move(w));
      }
    }
    cached_ = s;
    cached_key_ = key;
    return std::shared_ptr<const Snapshot>(s);
  }

  Result<std::vector<Bytes>> window_atoms(const WindowView& w) override {
    std::vector<Bytes> atoms;
    std::vector<seal::ScannedAtom> scanned;
    const std::string dir = seal::block_dir(w.micro);
    for (const auto& b : w.micro.blocks) {
      const std::string rel = dir + "/" + b.file;
      RITMA_ASSIGN_OR_RETURN(Bytes z, read_file(out_ / rel, kMaxLogBytes));
      if (z.size() != b.zstd_bytes || blake3(z) != b.b3)
        return make_error(rel + ": does not match its micro record (size or BLAKE3)");
      RITMA_ASSIGN_OR_RETURN(Bytes raw, zstd_decompress(z, b.raw_bytes));
      if (raw.size() != b.raw_bytes) return make_error(rel + ": decompressed size differs");
      if (auto err = seal::scan_atoms(raw, scanned)) return make_error(rel + ": " + err->message());
      for (const auto& a : scanned) {
        const ByteSpan bytes = a.bytes(raw);
        atoms.emplace_back(bytes.begin(), bytes.end());
      }
    }
    if (atoms.size() != w.micro.event_count)
      return make_error(seal::stem_path(w.micro) + ": the blocks hold " +
                        std::to_string(atoms.size()) + " atoms, the record says " +
                        std::to_string(w.micro.event_count));
    return atoms;
  }

  Result<seal::EventProof> event_proof(const Snapshot&, const WindowView& w,
                                       uint64_t leaf_index) override {
    if (leaf_index >= w.micro.event_count) return make_error("no such event in the window");
    seal::ProveOutcome r =
        seal::prove_event(out_, w.micro.first_seq + leaf_index, w.micro.run.run_id);
    if (r.failure != seal::ProveOutcome::Failure::kNone) return make_error(r.message);
    return std::move(*r.proof);
  }

  Result<nlohmann::json> report() override {
    RITMA_ASSIGN_OR_RETURN(auto snap, snapshot());
    std::lock_guard lock(report_mu_);
    if (report_ && report_snapshot_ == snap) return *report_;
    RITMA_ASSIGN_OR_RETURN(seal::VerifyReport r, seal::verify_store(out_));
    report_ = verify_report_json(r);
    (*report_)["source"] = {{"kind", "store"}, {"path", out_.string()}};
    report_snapshot_ = snap;
    return *report_;
  }

  Result<Bytes> artifact(const std::string& relative_path) override {
    std::error_code ec;
    const fs::path root = fs::canonical(out_, ec);
    if (ec) return make_error("the store is not readable");
    // canonical() resolves symlinks: what it names must still lie inside the root.
    const fs::path p = fs::canonical(root / relative_path, ec);
    if (ec || !fs::is_regular_file(p, ec)) return make_error("no such artifact");
    const std::string rs = root.string() + "/";
    if (p.string().compare(0, rs.size(), rs) != 0) return make_error("no such artifact");
    return read_file(p, kMaxLogBytes);
  }

 private:
  fs::path out_;
  std::mutex mu_;
  std::shared_ptr<const Snapshot> cached_;
  std::pair<uint64_t, uint64_t> cached_key_{};
  std::mutex report_mu_;
  std::optional<nlohmann::json> report_;
  std::shared_ptr<const Snapshot> report_snapshot_;
};

}  // namespace

Result<std::unique_ptr<EvidenceSource>> open_store_source(const fs::path& out_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(out_dir / seal::kStoreFile, ec))
    return make_error("no sealed store at " + out_dir.string() + " (no " + seal::kStoreFile +
                      "; set --base-dir or RITMA_BASE_DIR, or run the sensor first)");
  auto src = std::make_unique<StoreSource>(out_dir);
  RITMA_TRY(src->snapshot());
  return std::unique_ptr<EvidenceSource>(std::move(src));
}

}  // namespace ritma::viewer
