#include "seal/sealed_reader.h"

#include <set>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/seal_format.h"

namespace ritma::seal {

namespace fs = std::filesystem;

std::optional<int64_t> sealed_earliest_wall_ns(const fs::path& out) {
  auto log = read_file(out / kWindowLogFile, size_t{1} << 34);
  if (!log.ok()) return std::nullopt;
  for (ByteSpan f : scan_frames(*log).frames) {
    auto r = decode_micro(f);
    if (!r.ok()) return std::nullopt;
    if (r->event_count > 0) return r->min_wall_ns;
  }
  return std::nullopt;
}

Result<SealedRange> read_sealed_events(const fs::path& out, std::optional<int64_t> from,
                                       std::optional<int64_t> to) {
  SealedRange result;
  RITMA_ASSIGN_OR_RETURN(Bytes log, read_file(out / kWindowLogFile, size_t{1} << 34));
  const FrameScan scan = scan_frames(log);
  const auto overlaps = [&](int64_t lo, int64_t hi) {
    return (!from || hi >= *from) && (!to || lo < *to);
  };

  // Candidate windows: from the time index where an hour has one, else from the records.
  std::set<uint64_t> candidates;
  std::set<int64_t> hours_indexed;
  // The finer index for short ranges: fewer windows opened for nothing.
  const uint64_t bucket_s = from && to && *to - *from <= int64_t{3600} * 1'000'000'000 ? 10 : 60;
  if (from && to && *to - *from <= int64_t{7} * 24 * 3600 * 1'000'000'000) {
    for (int64_t h = hour_start(*from); h < *to; h += static_cast<int64_t>(kHourNs)) {
      const fs::path idx = out / time_index_path(bucket_s, h);
      if (!fs::exists(idx)) continue;
      RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(idx, size_t{1} << 30));
      for (ByteSpan f : scan_frames(data).frames) {
        RITMA_ASSIGN_OR_RETURN(TimeIndexEntry e, decode_time_index_entry(f));
        if (overlaps(e.bucket_start_ns,
                     e.bucket_start_ns + static_cast<int64_t>(bucket_s) * 1'000'000'000 - 1))
          candidates.insert(e.log_index);
      }
      hours_indexed.insert(h);
    }
  }
  std::vector<MicroRecord> records;
  for (size_t i = 0; i < scan.frames.size(); ++i) {
    auto rec = decode_micro(scan.frames[i]);
    if (!rec.ok())
      return make_error(std::string(kWindowLogFile) + " record " + std::to_string(i) + ": " +
                        rec.error().message);
    if (rec->event_count == 0) continue;
    const bool indexed = hours_indexed.count(hour_start(rec->slot_start_ns)) != 0;
    const bool want =
        indexed ? candidates.count(i) != 0 : overlaps(rec->min_wall_ns, rec->max_wall_ns);
    if (want) records.push_back(std::move(rec).value());
  }
  result.used_time_index = !hours_indexed.empty();

  for (const MicroRecord& r : records) {
    ++result.windows_read;
    for (const BlockRef& b : r.blocks) {
      const fs::path file = out / block_dir(r) / b.file;
      RITMA_ASSIGN_OR_RETURN(Bytes z, read_file(file, size_t{256} << 20));
      if (blake3(z) != b.b3)
        return make_error(file.string() + ": BLAKE3 does not match its micro record (" +
                          stem_path(r) + "); run `ritma verify --store`");
      RITMA_ASSIGN_OR_RETURN(Bytes raw, zstd_decompress(z, b.raw_bytes));
      std::vector<ScannedAtom> atoms;
      if (auto err = scan_atoms(raw, atoms))
        return make_error(file.string() + ": " + err->message());
      for (const ScannedAtom& a : atoms) {
        if (!overlaps(a.wall_ns, a.wall_ns) || (to && a.wall_ns >= *to)) continue;
        auto ev = capture::decode_event_atom(a.bytes(raw));
        if (!ev.ok())
          return make_error(file.string() + " at byte " + std::to_string(a.offset) + ": " +
                            ev.error().message);
        result.events.push_back(std::move(ev).value());
      }
    }
  }
  return result;
}

}  // namespace ritma::seal
