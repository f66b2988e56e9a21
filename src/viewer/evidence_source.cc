// Shared pieces of the viewer's evidence sources: the artifact path check and the report JSON.
#include "viewer/evidence_source.h"

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
  if (path.empty() || path.size() > kMaxPath || path.front() == '/') return std::nullopt;
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\' || c == '%' || c == ':') return std::nullopt;
  }
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    start = end + 1;
  }
  if (path == "log/checkpoint") return ArtifactKind::kCheckpoint;
  if (ends_with(path, ".cbor.zst")) return ArtifactKind::kCompressedCbor;
  if (ends_with(path, ".zst")) return ArtifactKind::kBlock;
  if (ends_with(path, ".cbor")) return ArtifactKind::kCbor;
  if (ends_with(path, ".sig")) return ArtifactKind::kSignature;
  return std::nullopt;
}

nlohmann::json verify_report_json(const seal::VerifyReport& r) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : r.keys)
    keys.push_back({{"name", k.name},
                    {"fingerprint", k.fingerprint},
                    {"valid_from_ns", k.valid_from_ns},
                    {"valid_until_ns", opt(k.valid_until_ns)},
                    {"trusted", k.trusted},
                    {"pinned", k.pinned},
                    {"signatures", k.signatures}});
  nlohmann::json unsealed = nlohmann::json::array();
  for (const auto& u : r.unsealed)
    unsealed.push_back({{"kind", u.kind},
                        {"file", u.file},
                        {"window", u.window},
                        {"run_id", opt(u.run_id)},
                        {"first_seq", opt(u.first_seq)},
                        {"last_seq", opt(u.last_seq)},
                        {"message", u.message}});
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : r.problems)
    problems.push_back({{"file", p.file},
                        {"window", p.window},
                        {"log_index", opt(p.log_index)},
                        {"seq", opt(p.seq)},
                        {"message", p.message},
                        {"text", p.to_string()}});
  return {{"ok", r.ok()},
          {"result",
           r.ok() ? (r.pinned ? "verified" : "consistent, signing key NOT pinned") : "invalid"},
          {"node_id", r.node_id},
          {"store_id", r.store_id},
          {"window_ns", r.window_ns},
          {"pinned", r.pinned},
          {"signer", {{"name", r.signer_name}, {"fingerprint", r.signer_fingerprint}}},
          {"keys", keys},
          {"log_records", r.log_records},
          {"windows", r.windows},
          {"empty_windows", r.empty_windows},
          {"blocks", r.blocks},
          {"events", r.events},
          {"loss_events", r.loss_events},
          {"lost_records", r.lost_records},
          {"filtered_records", r.filtered_records},
          {"first_seq", opt(r.first_seq)},
          {"last_seq", opt(r.last_seq)},
          {"checkpoints", r.checkpoints},
          {"checkpoints_consistent", r.checkpoints_consistent},
          {"hours_closed", r.hours_closed},
          {"unsealed_tail", r.unsealed_tail},
          {"unsealed", unsealed},
          {"problems", problems},
          {"problems_omitted", r.problems_omitted},
          {"notes", r.notes},
          {"elapsed_seconds", r.elapsed_seconds}};
}

}  // namespace ritma::viewer
