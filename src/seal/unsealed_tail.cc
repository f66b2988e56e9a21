#include "seal/unsealed_tail.h"

#include <map>

#include "core/durable_file.h"
#include "core/frame_log.h"
#include "seal/seal_format.h"

namespace ritma::seal {

std::string UnsealedRange::describe() const {
  return "run " + std::to_string(run_id) + ": seq " + std::to_string(first_seq) + ".." +
         std::to_string(last_seq) + " (" + std::to_string(events) +
         " events) are in the hot index but not sealed" +
         (run_ended_cleanly ? ""
                            : " — the window in flight when the run ended uncleanly (or the "
                              "open window of a running sensor)");
}

Result<std::vector<RunSealed>> sealed_extent_by_run(const std::filesystem::path& out_dir) {
  RITMA_ASSIGN_OR_RETURN(Bytes log, read_file(out_dir / kWindowLogFile, size_t{1} << 34));
  std::map<uint64_t, RunSealed> runs;
  for (ByteSpan f : scan_frames(log).frames) {
    auto r = decode_micro(f);
    if (!r.ok()) continue;  // the verifier reports it
    RunSealed& s = runs[r->run.run_id];
    s.run_id = r->run.run_id;
    if (r->event_count > 0) {
      s.any = true;
      s.end_seq = std::max(s.end_seq, r->end_seq());
    }
  }
  std::vector<RunSealed> out;
  for (auto& [id, s] : runs) out.push_back(s);
  return out;
}

}  // namespace ritma::seal
