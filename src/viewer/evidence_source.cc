// Shared pieces of the viewer's evidence sources: the artifact path check and the report JSON.
#include "viewer/evidence_source.h"

#include "cli/verify_json.h"
#include "seal/proofpack.h"

namespace ritma::viewer {

const WindowView* Snapshot::find(uint64_t log_index) const {
  for (const auto& w : windows)
    if (w.micro.log_index == log_index) return &w;
  return nullptr;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<ArtifactKind> safe_artifact_path(std::string_view path) {
  constexpr size_t kMaxPath = 512;
  if (path.size() > kMaxPath || !seal::valid_pack_path(path)) return std::nullopt;
  for (const char c : path) {
    if (c == '%' || c == ':' || c == 0x7f) return std::nullopt;
  }
  if (path == "log/checkpoint") return ArtifactKind::kCheckpoint;
  if (ends_with(path, ".cbor.zst")) return ArtifactKind::kCompressedCbor;
  if (ends_with(path, ".zst")) return ArtifactKind::kBlock;
  if (ends_with(path, ".cbor")) return ArtifactKind::kCbor;
  if (ends_with(path, ".sig")) return ArtifactKind::kSignature;
  return std::nullopt;
}

nlohmann::json verify_report_json(const seal::VerifyReport& r) {
  nlohmann::json j = cli::verify_report_to_json(r);
  j["result"] = r.ok() ? (r.pinned ? "verified" : "consistent, signing key NOT pinned") : "invalid";
  return j;
}

}  // namespace ritma::viewer
