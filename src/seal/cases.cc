// Cases (docs/FORMAT.md §13): the case files' encodings and strict decoders, the freezes that
// retention and the catalog honour, and the operations behind `ritma case ...`.
#include "seal/cases.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/utf8.h"
#include "core/zstd_codec.h"
#include "seal/cbor_fields.h"
#include "seal/derived.h"
#include "seal/proofpack.h"
#include "seal/retention.h"

namespace ritma::seal {

namespace fs = std::filesystem;

namespace {

using Array = cbor::Value::Array;

Result<cbor::Value> decode_doc(ByteSpan b, std::string_view what) {
  auto v = cbor::decode(b);
  if (!v.ok()) return make_error(std::string(what) + ": " + v.error().message);
  return std::move(v).value();
}

Status check_text(const FieldReader& r, const std::string& s, const char* name, bool may_be_empty) {
  if (!may_be_empty && s.empty()) return r.error(std::string(name) + " is empty");
  if (s.size() > kMaxCaseTextBytes)
    return r.error(std::string(name) + " is longer than " + std::to_string(kMaxCaseTextBytes) +
                   " bytes");
  return {};
}

Status check_stem_path(const FieldReader& r, const std::string& s) {
  if (!s.starts_with("windows/") || s.find("/micro/") == std::string::npos || !valid_pack_path(s) ||
      s.size() > 256)
    return r.error("stem_path \"" + s + "\" is not windows/YYYY/MM/DD/HH/micro/<stem>");
  return {};
}

std::string rel_case(const std::string& id, const char* file) {
  return std::string(kCasesDir) + "/" + id + "/" + file;
}

// The store's keys (keys.cbor, §10.9).
Result<KeysRecord> store_keys(const fs::path& out) {
  auto b = read_file(out / kKeysFile, kMaxRecordBytes);
  if (!b.ok()) return make_error(std::string(kKeysFile) + ": " + b.error().message);
  auto k = decode_keys(*b);
  if (!k.ok()) return make_error(std::string(kKeysFile) + ": " + k.error().message);
  if (k->keys.empty()) return make_error(std::string(kKeysFile) + ": lists no key");
  return std::move(k).value();
}

Result<StoreRecord> store_record(const fs::path& out) {
  auto b = read_file(out / kStoreFile, kMaxRecordBytes);
  if (!b.ok()) return make_error(std::string(kStoreFile) + ": " + b.error().message);
  auto s = decode_store(*b);
  if (!s.ok()) return make_error(std::string(kStoreFile) + ": " + s.error().message);
  return std::move(s).value();
}

bool is_store_key(const KeysRecord& keys, const std::string& name, const PublicKey& pk) {
  return std::any_of(keys.keys.begin(), keys.keys.end(), [&](const KeyEntry& k) {
    return k.public_key == pk && (name.empty() || k.name == name);
  });
}

bool access_signature_ok(const KeysRecord& keys, const AccessFrame& f) {
  const Bytes msg = signature_message(f.record_bytes);
  return std::any_of(keys.keys.begin(), keys.keys.end(), [&](const KeyEntry& k) {
    return verify_signature(k.public_key, msg, f.signature);
  });
}

Result<Bytes> read_case_file(const fs::path& out, const std::string& id, const char* file) {
  auto b = read_file(out / kCasesDir / id / file, kMaxCaseFileBytes);
  if (!b.ok()) return make_error(rel_case(id, file) + ": " + b.error().message);
  return std::move(b).value();
}

template <typename T>
Result<T> named(Result<T> r, const std::string& rel) {
  if (!r.ok()) return make_error(rel + ": " + r.error().message);
  return r;
}

// The window log's micro records (the frame index is the log index).
struct WindowLog {
  Bytes data;
  FrameScan scan;
};

Result<WindowLog> read_window_log(const fs::path& out) {
  WindowLog w;
  auto b = read_file(out / kWindowLogFile, uint64_t{1} << 40);
  if (!b.ok()) return make_error(std::string(kWindowLogFile) + ": " + b.error().message);
  w.data = std::move(b).value();
  w.scan = scan_frames(w.data);
  return w;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {  // H. Hinnant's algorithm
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Status check_case_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxCaseIdBytes)
    return make_error("case id \"" + std::string(id) + "\" must be 1.." +
                      std::to_string(kMaxCaseIdBytes) + " characters");
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok)
      return make_error("case id \"" + std::string(id) +
                        "\" has a character outside [A-Za-z0-9_-]");
  }
  return {};
}

// ---------------------------------------------------------------- encodings

Bytes encode(const CaseHeader& h) {
  Bytes out;
  cbor::Writer w(out);
  w.array(8);
  w.text(kCaseHeaderTag);
  w.text(h.case_id);
  w.text(h.title);
  w.text(h.description);
  w.int64(h.created_ns);
  w.bytes(h.store_id);
  w.text(h.node_id);
  w.text(h.created_by);
  return out;
}

Bytes encode(const CaseFreezes& f) {
  Bytes out;
  cbor::Writer w(out);
  w.array(3);
  w.text(kCaseFreezesTag);
  w.text(f.case_id);
  w.array(f.freezes.size());
  for (const Freeze& z : f.freezes) {
    w.array(6);
    w.int64(z.from_ns);
    w.int64(z.to_ns);
    w.text(z.reason);
    w.int64(z.frozen_ns);
    w.text(z.actor);
    w.array(z.windows.size());
    for (const FrozenWindow& x : z.windows) {
      w.array(3);
      w.uint(x.log_index);
      w.text(x.stem_path);
      w.bytes(x.micro_root);
    }
  }
  return out;
}

Bytes encode(const CaseManifest& m) {
  Bytes out;
  cbor::Writer w(out);
  w.array(8);
  w.text(kCaseManifestTag);
  w.text(m.case_id);
  w.bytes(m.store_id);
  w.text(m.node_id);
  w.int64(m.updated_ns);
  w.uint(m.access_seq);
  w.bytes(m.access_b3);
  w.array(m.files.size());
  for (const CaseFileDigest& f : m.files) {
    w.array(3);
    w.text(f.name);
    w.uint(f.size);
    w.bytes(f.b3);
  }
  return out;
}

Bytes encode(const AccessRecord& r) {
  Bytes out;
  cbor::Writer w(out);
  w.array(7);
  w.text(kCaseAccessTag);
  w.uint(r.seq);
  w.int64(r.time_ns);
  w.text(r.action);
  w.text(r.actor);
  w.text(r.detail);
  w.bytes(r.prev);
  return out;
}

Result<CaseHeader> decode_case_header(ByteSpan b) {
  const FieldReader r{"case header"};
  RITMA_ASSIGN_OR_RETURN(cbor::Value v, decode_doc(b, r.what));
  RITMA_ASSIGN_OR_RETURN(const Array* a, r.tagged_array(v, kCaseHeaderTag, 8));
  CaseHeader h;
  RITMA_ASSIGN_OR_RETURN(h.case_id, r.get_text(*a, 1, "case_id"));
  if (auto st = check_case_id(h.case_id); !st.ok()) return r.error(st.error().message);
  RITMA_ASSIGN_OR_RETURN(h.title, r.get_text(*a, 2, "title"));
  RITMA_TRY(check_text(r, h.title, "title", false));
  RITMA_ASSIGN_OR_RETURN(h.description, r.get_text(*a, 3, "description"));
  RITMA_TRY(check_text(r, h.description, "description", true));
  RITMA_ASSIGN_OR_RETURN(h.created_ns, r.get_int(*a, 4, "created_ns"));
  RITMA_ASSIGN_OR_RETURN(h.store_id, r.get_fixed<16>(*a, 5, "store_id"));
  RITMA_ASSIGN_OR_RETURN(h.node_id, r.get_text(*a, 6, "node_id"));
  RITMA_TRY(check_text(r, h.node_id, "node_id", false));
  RITMA_ASSIGN_OR_RETURN(h.created_by, r.get_text(*a, 7, "created_by"));
  RITMA_TRY(check_text(r, h.created_by, "created_by", true));
  return h;
}

Result<CaseFreezes> decode_case_freezes(ByteSpan b) {
  const FieldReader r{"case freezes"};
  RITMA_ASSIGN_OR_RETURN(cbor::Value v, decode_doc(b, r.what));
  RITMA_ASSIGN_OR_RETURN(const Array* a, r.tagged_array(v, kCaseFreezesTag, 3));
  CaseFreezes f;
  RITMA_ASSIGN_OR_RETURN(f.case_id, r.get_text(*a, 1, "case_id"));
  if (auto st = check_case_id(f.case_id); !st.ok()) return r.error(st.error().message);
  if (!(*a)[2].is_array()) return r.field_error(2, "freezes", "an array");
  const Array& list = (*a)[2].as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string what = "case freezes: freeze " + std::to_string(i);
    const FieldReader fr{what};
    if (!list[i].is_array() || list[i].as_array().size() != 6)
      return fr.error("is not an array of 6 fields");
    const Array& z = list[i].as_array();
    Freeze x;
    RITMA_ASSIGN_OR_RETURN(x.from_ns, fr.get_int(z, 0, "from_ns"));
    RITMA_ASSIGN_OR_RETURN(x.to_ns, fr.get_int(z, 1, "to_ns"));
    if (x.from_ns >= x.to_ns) return fr.error("from_ns is not before to_ns");
    RITMA_ASSIGN_OR_RETURN(x.reason, fr.get_text(z, 2, "reason"));
    RITMA_TRY(check_text(fr, x.reason, "reason", false));
    RITMA_ASSIGN_OR_RETURN(x.frozen_ns, fr.get_int(z, 3, "frozen_ns"));
    RITMA_ASSIGN_OR_RETURN(x.actor, fr.get_text(z, 4, "actor"));
    RITMA_TRY(check_text(fr, x.actor, "actor", true));
    if (!z[5].is_array()) return fr.field_error(5, "windows", "an array");
    for (const cbor::Value& wv : z[5].as_array()) {
      const std::string wwhat = what + ": window " + std::to_string(x.windows.size());
      const FieldReader wr{wwhat};
      if (!wv.is_array() || wv.as_array().size() != 3)
        return wr.error("is not an array of 3 fields");
      const Array& wa = wv.as_array();
      FrozenWindow fw;
      RITMA_ASSIGN_OR_RETURN(fw.log_index, wr.get_uint(wa, 0, "log_index"));
      RITMA_ASSIGN_OR_RETURN(fw.stem_path, wr.get_text(wa, 1, "stem_path"));
      RITMA_TRY(check_stem_path(wr, fw.stem_path));
      RITMA_ASSIGN_OR_RETURN(fw.micro_root, wr.get_fixed<32>(wa, 2, "micro_root"));
      if (!x.windows.empty() && fw.log_index <= x.windows.back().log_index)
        return wr.error("log_index is not above the previous window's");
      x.windows.push_back(std::move(fw));
    }
    f.freezes.push_back(std::move(x));
  }
  return f;
}

Result<CaseManifest> decode_case_manifest(ByteSpan b) {
  const FieldReader r{"case manifest"};
  RITMA_ASSIGN_OR_RETURN(cbor::Value v, decode_doc(b, r.what));
  RITMA_ASSIGN_OR_RETURN(const Array* a, r.tagged_array(v, kCaseManifestTag, 8));
  CaseManifest m;
  RITMA_ASSIGN_OR_RETURN(m.case_id, r.get_text(*a, 1, "case_id"));
  if (auto st = check_case_id(m.case_id); !st.ok()) return r.error(st.error().message);
  RITMA_ASSIGN_OR_RETURN(m.store_id, r.get_fixed<16>(*a, 2, "store_id"));
  RITMA_ASSIGN_OR_RETURN(m.node_id, r.get_text(*a, 3, "node_id"));
  RITMA_TRY(check_text(r, m.node_id, "node_id", false));
  RITMA_ASSIGN_OR_RETURN(m.updated_ns, r.get_int(*a, 4, "updated_ns"));
  RITMA_ASSIGN_OR_RETURN(m.access_seq, r.get_uint(*a, 5, "access_seq"));
  RITMA_ASSIGN_OR_RETURN(m.access_b3, r.get_fixed<32>(*a, 6, "access_b3"));
  if (!(*a)[7].is_array()) return r.field_error(7, "files", "an array");
  for (const cbor::Value& fv : (*a)[7].as_array()) {
    const std::string fwhat = "case manifest: file " + std::to_string(m.files.size());
    const FieldReader fr{fwhat};
    if (!fv.is_array() || fv.as_array().size() != 3) return fr.error("is not an array of 3 fields");
    const Array& fa = fv.as_array();
    CaseFileDigest d;
    RITMA_ASSIGN_OR_RETURN(d.name, fr.get_text(fa, 0, "name"));
    RITMA_ASSIGN_OR_RETURN(d.size, fr.get_uint(fa, 1, "size"));
    RITMA_ASSIGN_OR_RETURN(d.b3, fr.get_fixed<32>(fa, 2, "b3"));
    m.files.push_back(std::move(d));
  }
  // Exactly the header and the freezes, sorted by name.
  if (m.files.size() != 2 || m.files[0].name != kCaseHeaderFile ||
      m.files[1].name != kCaseFreezesFile)
    return r.error(std::string("files must list exactly ") + kCaseHeaderFile + " and " +
                   kCaseFreezesFile + ", in that order");
  return m;
}

Result<AccessRecord> decode_access_record(ByteSpan b) {
  const FieldReader r{"access record"};
  RITMA_ASSIGN_OR_RETURN(cbor::Value v, decode_doc(b, r.what));
  RITMA_ASSIGN_OR_RETURN(const Array* a, r.tagged_array(v, kCaseAccessTag, 7));
  AccessRecord x;
  RITMA_ASSIGN_OR_RETURN(x.seq, r.get_uint(*a, 1, "seq"));
  RITMA_ASSIGN_OR_RETURN(x.time_ns, r.get_int(*a, 2, "time_ns"));
  RITMA_ASSIGN_OR_RETURN(x.action, r.get_text(*a, 3, "action"));
  RITMA_TRY(check_text(r, x.action, "action", false));
  RITMA_ASSIGN_OR_RETURN(x.actor, r.get_text(*a, 4, "actor"));
  RITMA_TRY(check_text(r, x.actor, "actor", true));
  RITMA_ASSIGN_OR_RETURN(x.detail, r.get_text(*a, 5, "detail"));
  RITMA_TRY(check_text(r, x.detail, "detail", true));
  RITMA_ASSIGN_OR_RETURN(x.prev, r.get_fixed<32>(*a, 6, "prev"));
  return x;
}

Bytes encode_access_frame(const AccessRecord& r, const SigningKey& key) {
  Bytes out = encode(r);
  const Signature sig = key.sign(signature_message(out));
  append(out, ByteSpan(sig.data(), sig.size()));
  return out;
}

Result<AccessFrame> decode_access_frame(ByteSpan payload) {
  if (payload.size() <= 64)
    return make_error("access record: frame of " + std::to_string(payload.size()) +
                      " bytes is too short for a record and its 64-byte signature");
  AccessFrame f;
  const ByteSpan rec = payload.first(payload.size() - 64);
  RITMA_ASSIGN_OR_RETURN(f.record, decode_access_record(rec));
  f.record_bytes.assign(rec.begin(), rec.end());
  std::copy(payload.end() - 64, payload.end(), f.signature.begin());
  return f;
}

// ---------------------------------------------------------------- freezes

WindowSpan window_span(const MicroRecord& r) {
  return WindowSpan{r.log_index,   r.slot_start_ns, r.window_ns,
                    r.event_count, r.min_wall_ns,   r.max_wall_ns};
}

namespace {

bool freeze_covers(const CaseFreeze& z, const WindowSpan& w) {
  if (std::find(z.log_indexes.begin(), z.log_indexes.end(), w.log_index) != z.log_indexes.end())
    return true;
  MicroRecord r;
  r.slot_start_ns = w.slot_start_ns;
  r.window_ns = w.window_ns;
  r.event_count = w.event_count;
  r.min_wall_ns = w.min_wall_ns;
  r.max_wall_ns = w.max_wall_ns;
  return window_overlaps(r, z.from_ns, z.to_ns);
}

}  // namespace

bool frozen(const std::vector<CaseFreeze>& f, const WindowSpan& w) {
  return std::any_of(f.begin(), f.end(), [&](const CaseFreeze& z) { return freeze_covers(z, w); });
}

bool frozen(const std::vector<CaseFreeze>& f, const MicroRecord& r) {
  return frozen(f, window_span(r));
}

std::vector<std::string> freezing_cases(const std::vector<CaseFreeze>& f, const WindowSpan& w) {
  std::set<std::string> ids;
  for (const CaseFreeze& z : f) {
    if (freeze_covers(z, w)) ids.insert(z.case_id);
  }
  return {ids.begin(), ids.end()};
}

std::optional<WindowSpan> catalog_window_span(const CatalogWindow& w, uint64_t window_ns) {
  // windows/YYYY/MM/DD/HH/micro/w<slot>[-<part>]
  std::string_view s = w.stem_path;
  if (!s.starts_with("windows/") || window_ns == 0) return std::nullopt;
  s.remove_prefix(8);
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    const size_t slash = s.find('/');
    parts.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  if (parts.size() != 6 || parts[4] != "micro" || !parts[5].starts_with("w")) return std::nullopt;
  const auto y = parse_uint(parts[0]), mo = parse_uint(parts[1]), d = parse_uint(parts[2]),
             h = parse_uint(parts[3]);
  std::string_view stem = parts[5].substr(1);
  stem = stem.substr(0, stem.find('-'));
  const auto slot = parse_uint(stem);
  if (!y || !mo || !d || !h || !slot || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *y > 9999 || *slot >= kHourNs / window_ns)
    return std::nullopt;
  const int64_t day = days_from_civil(static_cast<int64_t>(*y), static_cast<unsigned>(*mo),
                                      static_cast<unsigned>(*d));
  WindowSpan span;
  span.log_index = w.log_index;
  // Years outside what int64 nanoseconds hold (1677..2262) name no window (found by fuzzing).
  int64_t day_ns = 0;
  if (__builtin_mul_overflow(day, static_cast<int64_t>(kDayNs), &day_ns) ||
      __builtin_add_overflow(day_ns, static_cast<int64_t>(*h * kHourNs + *slot * window_ns),
                             &span.slot_start_ns))
    return std::nullopt;
  span.window_ns = window_ns;
  span.event_count = w.event_count;
  span.min_wall_ns = w.min_wall_ns;
  span.max_wall_ns = w.max_wall_ns;
  return span;
}

void apply_freezes(const std::vector<CaseFreeze>& f, uint64_t window_ns, CatalogWindow& w) {
  const std::optional<WindowSpan> span = catalog_window_span(w, window_ns);
  WindowSpan s;
  if (span) {
    s = *span;
  } else {  // an unparsable stem: only the listed log indexes can match
    s.log_index = w.log_index;
    s.slot_start_ns = INT64_MIN;
    s.window_ns = 1;
  }
  w.case_ids = freezing_cases(f, s);
  w.retention_lock = !w.case_ids.empty();
}

std::string cases_fingerprint(const fs::path& out_dir) {
  std::error_code ec;
  const fs::path root = out_dir / kCasesDir;
  std::vector<std::string> items;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".")) continue;
    struct stat st {};
    const fs::path m = it->path() / kCaseManifestFile;
    std::string item = name;
    if (::stat(m.c_str(), &st) == 0) {
      item += ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
              std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    } else {
      item += ":-";
    }
    items.push_back(std::move(item));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) items.push_back("!" + ec.message());
  std::sort(items.begin(), items.end());
  std::string out;
  for (const std::string& s : items) out += s + "\n";
  return out;
}

Result<std::vector<std::string>> list_case_ids(const fs::path& out_dir) {
  std::vector<std::string> ids;
  const fs::path root = out_dir / kCasesDir;
  std::error_code ec;
  if (!fs::exists(root, ec)) return ids;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".")) continue;  // the lock, temporary directories
    if (!it->is_directory(ec))
      return make_error(std::string(kCasesDir) + "/" + name + ": not a case directory");
    if (auto st = check_case_id(name); !st.ok())
      return make_error(std::string(kCasesDir) + "/" + name + ": " + st.error().message);
    ids.push_back(name);
  }
  if (ec) return make_error(std::string(kCasesDir) + ": cannot list: " + ec.message());
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

Result<CaseData> read_case_files(const fs::path& out_dir, const std::string& case_id,
                                 bool with_access) {
  RITMA_TRY(check_case_id(case_id));
  std::error_code ec;
  if (!fs::is_directory(out_dir / kCasesDir / case_id, ec))
    return make_error("no case \"" + case_id + "\" under " + (out_dir / kCasesDir).string());
  CaseData c;
  {
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_case_file(out_dir, case_id, kCaseHeaderFile));
    RITMA_ASSIGN_OR_RETURN(c.header,
                           named(decode_case_header(b), rel_case(case_id, kCaseHeaderFile)));
  }
  {
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_case_file(out_dir, case_id, kCaseFreezesFile));
    RITMA_ASSIGN_OR_RETURN(c.freezes,
                           named(decode_case_freezes(b), rel_case(case_id, kCaseFreezesFile)));
  }
  {
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_case_file(out_dir, case_id, kCaseManifestFile));
    RITMA_ASSIGN_OR_RETURN(c.manifest,
                           named(decode_case_manifest(b), rel_case(case_id, kCaseManifestFile)));
  }
  if (c.header.case_id != case_id || c.freezes.case_id != case_id || c.manifest.case_id != case_id)
    return make_error(rel_case(case_id, "") + ": a file names another case id");
  if (!with_access) return c;
  const std::string log_rel = rel_case(case_id, kCaseAccessLogFile);
  RITMA_ASSIGN_OR_RETURN(Bytes log, read_case_file(out_dir, case_id, kCaseAccessLogFile));
  const FrameScan scan = scan_frames(log);
  if (scan.torn) return make_error(log_rel + ": " + *scan.torn);
  for (size_t i = 0; i < scan.frames.size(); ++i) {
    auto f = decode_access_frame(scan.frames[i]);
    if (!f.ok())
      return make_error(log_rel + ": record " + std::to_string(i) + ": " + f.error().message);
    c.access.push_back(std::move(f).value());
  }
  return c;
}

}  // namespace

Result<CaseData> read_case(const fs::path& out_dir, const std::string& case_id) {
  return read_case_files(out_dir, case_id, true);
}

namespace {

// The checks load_freezes needs: the files decode, the manifest is signed by a store key and
// its digests match, and the case belongs to this store.
Result<CaseData> load_checked_case(const fs::path& out, const std::string& id,
                                   const KeysRecord& keys, const StoreRecord& store) {
  RITMA_ASSIGN_OR_RETURN(CaseData c, read_case_files(out, id, false));
  RITMA_ASSIGN_OR_RETURN(Bytes mb, read_case_file(out, id, kCaseManifestFile));
  RITMA_ASSIGN_OR_RETURN(Bytes sb, read_case_file(out, id, kCaseManifestSigFile));
  const std::string sig_rel = rel_case(id, kCaseManifestSigFile);
  RITMA_ASSIGN_OR_RETURN(SignatureRecord sig, named(decode_signature(sb), sig_rel));
  if (!is_store_key(keys, sig.key_name, sig.public_key))
    return make_error(sig_rel + ": signed by " + sig.key_name + " (" +
                      key_fingerprint(sig.public_key) + "), not a key of this store");
  if (!check_signature(sig, mb))
    return make_error(sig_rel + ": the signature does not match " + kCaseManifestFile);
  for (const CaseFileDigest& d : c.manifest.files) {
    RITMA_ASSIGN_OR_RETURN(Bytes fb, read_case_file(out, id, d.name.c_str()));
    if (fb.size() != d.size || blake3(fb) != d.b3)
      return make_error(rel_case(id, d.name.c_str()) + ": its size or BLAKE3 differs from " +
                        kCaseManifestFile + " (the file was changed)");
  }
  if (c.header.store_id != store.store_id || c.manifest.store_id != store.store_id)
    return make_error(rel_case(id, kCaseHeaderFile) + ": the case belongs to another store");
  return c;
}

std::vector<CaseFreeze> freezes_of(const CaseData& c) {
  std::vector<CaseFreeze> out;
  for (const Freeze& z : c.freezes.freezes) {
    CaseFreeze f;
    f.case_id = c.header.case_id;
    f.from_ns = z.from_ns;
    f.to_ns = z.to_ns;
    for (const FrozenWindow& w : z.windows) {
      f.log_indexes.push_back(w.log_index);
      f.stem_paths.push_back(w.stem_path);
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Result<std::vector<CaseFreeze>> load_freezes(const fs::path& out_dir) {
  RITMA_ASSIGN_OR_RETURN(std::vector<std::string> ids, list_case_ids(out_dir));
  std::vector<CaseFreeze> out;
  if (ids.empty()) return out;
  RITMA_ASSIGN_OR_RETURN(KeysRecord keys, store_keys(out_dir));
  RITMA_ASSIGN_OR_RETURN(StoreRecord store, store_record(out_dir));
  for (const std::string& id : ids) {
    RITMA_ASSIGN_OR_RETURN(CaseData c, load_checked_case(out_dir, id, keys, store));
    for (CaseFreeze& f : freezes_of(c)) out.push_back(std::move(f));
  }
  return out;
}

// ---------------------------------------------------------------- lock

Result<CatalogLock> CatalogLock::acquire(const fs::path& out_dir) {
  const fs::path p = out_dir / kCatalogLockFile;
  RITMA_TRY(make_directories(p.parent_path()));
  const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot open " + p.string() + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const std::string e = std::strerror(errno);
    ::close(fd);
    return make_error("cannot lock " + p.string() + ": " + e);
  }
  return CatalogLock(fd);
}

CatalogLock::~CatalogLock() {
  if (fd_ >= 0) ::close(fd_);
}

// ---------------------------------------------------------------- operations

namespace {

Status write_manifest(const fs::path& dir, const NamedSigningKey& key, CaseManifest m) {
  m.files.clear();
  for (const char* name : {kCaseHeaderFile, kCaseFreezesFile}) {
    RITMA_ASSIGN_OR_RETURN(Bytes b, read_file(dir / name, kMaxCaseFileBytes));
    m.files.push_back(CaseFileDigest{name, b.size(), blake3(b)});
  }
  const Bytes mb = encode(m);
  RITMA_TRY(atomic_write_file(dir / kCaseManifestFile, mb, 0644));
  return atomic_write_file(dir / kCaseManifestSigFile,
                           encode(make_signature(key.name, key.key, mb)), 0644);
}

// Appends one record after the log's last (the caller holds the lock); returns it and its
// frame's BLAKE3.
Result<std::pair<AccessRecord, Hash32>> append_locked(const fs::path& dir,
                                                      const NamedSigningKey& key,
                                                      const CaseActor& who,
                                                      const std::string& action,
                                                      const std::string& detail) {
  const fs::path p = dir / kCaseAccessLogFile;
  AccessRecord r;
  std::error_code ec;
  if (fs::exists(p, ec)) {
    RITMA_ASSIGN_OR_RETURN(Bytes log, read_file(p, kMaxCaseFileBytes));
    const FrameScan scan = scan_frames(log);
    if (scan.torn) return make_error(p.string() + ": " + *scan.torn + "; not appending");
    if (!scan.frames.empty()) {
      auto last = decode_access_frame(scan.frames.back());
      if (!last.ok())
        return make_error(p.string() + ": last record: " + last.error().message +
                          "; not appending");
      r.seq = last->record.seq + 1;
      r.prev = blake3(scan.frames.back());
    }
  }
  r.time_ns = who.now_ns;
  r.action = action;
  r.actor = who.actor.substr(0, kMaxCaseTextBytes);
  r.detail = detail.substr(0, kMaxCaseTextBytes);
  if (!is_valid_utf8(r.actor) || !is_valid_utf8(r.detail))
    return make_error("access record: actor or detail is not valid UTF-8");
  const Bytes frame = encode_access_frame(r, key.key);
  RITMA_ASSIGN_OR_RETURN(FrameWriter w, FrameWriter::open(p, FrameWriter::TornTail::kRefuse));
  RITMA_TRY(w.append(frame));
  RITMA_TRY(w.sync());
  return std::make_pair(r, blake3(frame));
}

Status check_key_is_current(const fs::path& out, const NamedSigningKey& key) {
  RITMA_ASSIGN_OR_RETURN(KeysRecord keys, store_keys(out));
  if (keys.keys.back().public_key != key.key.public_key())
    return make_error("the signing key " + key.name + " (" + key_fingerprint(key.key.public_key()) +
                      ") is not the current key of " + kKeysFile);
  return {};
}

Status check_input_text(const std::string& s, const char* name, bool may_be_empty) {
  if (!may_be_empty && s.empty()) return make_error(std::string(name) + " must not be empty");
  if (s.size() > kMaxCaseTextBytes)
    return make_error(std::string(name) + " is longer than " + std::to_string(kMaxCaseTextBytes) +
                      " bytes");
  if (!is_valid_utf8(s)) return make_error(std::string(name) + " is not valid UTF-8");
  return {};
}

std::string compact_utc(int64_t ns) {
  std::string out;
  for (char c : utc_rfc3339(ns, 0)) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

}  // namespace

Result<CaseHeader> create_case(const fs::path& out_dir, const NamedSigningKey& key,
                               const CaseActor& who, const std::string& title,
                               const std::string& description, std::string case_id) {
  RITMA_TRY(check_input_text(title, "the title", false));
  RITMA_TRY(check_input_text(description, "the description", true));
  RITMA_ASSIGN_OR_RETURN(StoreRecord store, store_record(out_dir));
  RITMA_TRY(check_key_is_current(out_dir, key));
  if (case_id.empty()) {
    std::random_device rd;
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(rd()));
    case_id = "CASE_" + compact_utc(who.now_ns) + "_" + hex;
  }
  RITMA_TRY(check_case_id(case_id));
  RITMA_ASSIGN_OR_RETURN(CatalogLock lock, CatalogLock::acquire(out_dir));
  const fs::path root = out_dir / kCasesDir;
  const fs::path dir = root / case_id;
  std::error_code ec;
  if (fs::exists(dir, ec)) return make_error("case \"" + case_id + "\" already exists");
  // Built in a hidden directory and renamed into place, so a case is whole or absent.
  const fs::path tmp = root / (".new-" + case_id);
  fs::remove_all(tmp, ec);
  RITMA_TRY(make_directories(tmp, 0755));
  CaseHeader h;
  h.case_id = case_id;
  h.title = title;
  h.description = description;
  h.created_ns = who.now_ns;
  h.store_id = store.store_id;
  h.node_id = store.node_id;
  h.created_by = who.actor;
  RITMA_TRY(atomic_write_file(tmp / kCaseHeaderFile, encode(h), 0644));
  CaseFreezes f;
  f.case_id = case_id;
  RITMA_TRY(atomic_write_file(tmp / kCaseFreezesFile, encode(f), 0644));
  RITMA_ASSIGN_OR_RETURN(auto rec, append_locked(tmp, key, who, "create", "title: " + title));
  CaseManifest m;
  m.case_id = case_id;
  m.store_id = store.store_id;
  m.node_id = store.node_id;
  m.updated_ns = who.now_ns;
  m.access_seq = rec.first.seq;
  m.access_b3 = rec.second;
  RITMA_TRY(write_manifest(tmp, key, m));
  if (::rename(tmp.c_str(), dir.c_str()) != 0)
    return make_error("cannot rename " + tmp.string() + " to " + dir.string() + ": " +
                      std::strerror(errno));
  RITMA_TRY(fsync_directory(root));
  return h;
}

Result<std::vector<std::string>> relock_catalogs(const fs::path& out_dir,
                                                 const std::vector<CaseFreeze>& freezes,
                                                 const std::vector<int64_t>& days_ns) {
  RITMA_ASSIGN_OR_RETURN(StoreRecord store, store_record(out_dir));
  std::vector<std::string> written;
  for (int64_t day : std::set<int64_t>(days_ns.begin(), days_ns.end())) {
    const std::string rel = catalog_path(day);
    const fs::path p = out_dir / rel;
    std::error_code ec;
    if (!fs::exists(p, ec)) continue;  // the sealer writes it with the locks applied
    auto c = read_catalog_file(p);
    if (!c.ok()) return make_error(rel + ": " + c.error().message);
    Catalog next = *c;
    for (CatalogWindow& w : next.windows) apply_freezes(freezes, store.window_ns, w);
    if (next == *c) continue;
    RITMA_ASSIGN_OR_RETURN(Bytes z, zstd_compress(encode(next)));
    RITMA_TRY(atomic_write_file(p, z, 0644));
    written.push_back(rel);
  }
  return written;
}

Result<FreezeOutcome> freeze_case(const fs::path& out_dir, const NamedSigningKey& key,
                                  const CaseActor& who, const std::string& case_id, int64_t from_ns,
                                  int64_t to_ns, const std::string& reason) {
  RITMA_TRY(check_case_id(case_id));
  if (from_ns >= to_ns) return make_error("the range is empty: --from must be before --to");
  RITMA_TRY(check_input_text(reason, "the reason", false));
  RITMA_TRY(check_key_is_current(out_dir, key));
  RITMA_ASSIGN_OR_RETURN(KeysRecord keys, store_keys(out_dir));
  RITMA_ASSIGN_OR_RETURN(StoreRecord store, store_record(out_dir));
  RITMA_ASSIGN_OR_RETURN(CatalogLock lock, CatalogLock::acquire(out_dir));
  RITMA_ASSIGN_OR_RETURN(CaseData c, load_checked_case(out_dir, case_id, keys, store));

  // The sealed windows of the range, from the window log.
  RITMA_ASSIGN_OR_RETURN(WindowLog log, read_window_log(out_dir));
  FreezeOutcome out;
  Freeze& z = out.freeze;
  z.from_ns = from_ns;
  z.to_ns = to_ns;
  z.reason = reason;
  z.frozen_ns = who.now_ns;
  z.actor = who.actor;
  std::vector<int64_t> days;
  uint64_t pruned = 0;
  std::set<uint64_t> pruned_indexes;  // windows retention already emptied (§14)
  {
    RITMA_ASSIGN_OR_RETURN(std::vector<RetentionRecord> recs, read_retention_records(out_dir));
    for (const RetentionRecord& rr : recs)
      for (const PrunedWindow& p : rr.windows) pruned_indexes.insert(p.log_index);
  }
  for (size_t i = 0; i < log.scan.frames.size(); ++i) {
    auto r = decode_micro(log.scan.frames[i]);
    if (!r.ok())
      return make_error(std::string(kWindowLogFile) + ": record " + std::to_string(i) + ": " +
                        r.error().message);
    if (!window_overlaps(*r, from_ns, to_ns)) continue;
    if (pruned_indexes.count(r->log_index)) {  // its events are gone
      ++pruned;
      continue;
    }
    z.windows.push_back(FrozenWindow{r->log_index, stem_path(*r), r->micro_root});
    days.push_back(day_start(r->slot_start_ns));
  }
  if (z.windows.empty())
    return make_error(
        "no sealed window overlaps [" + utc_rfc3339(from_ns) + ", " + utc_rfc3339(to_ns) + ")" +
        (pruned != 0
             ? " (" + std::to_string(pruned) + " overlapping windows were pruned by retention)"
             : std::string()) +
        "; nothing to freeze");

  const fs::path dir = out_dir / kCasesDir / case_id;
  RITMA_ASSIGN_OR_RETURN(
      auto rec,
      append_locked(dir, key, who, "freeze",
                    "range [" + utc_rfc3339(from_ns) + ", " + utc_rfc3339(to_ns) + "), " +
                        std::to_string(z.windows.size()) + " windows (log index " +
                        std::to_string(z.windows.front().log_index) + ".." +
                        std::to_string(z.windows.back().log_index) + ")" +
                        (pruned != 0 ? ", " + std::to_string(pruned) + " pruned windows not held"
                                     : std::string()) +
                        ", reason: " + reason));
  c.freezes.freezes.push_back(z);
  RITMA_TRY(atomic_write_file(dir / kCaseFreezesFile, encode(c.freezes), 0644));
  CaseManifest m = c.manifest;
  m.updated_ns = who.now_ns;
  m.access_seq = rec.first.seq;
  m.access_b3 = rec.second;
  RITMA_TRY(write_manifest(dir, key, m));

  RITMA_ASSIGN_OR_RETURN(std::vector<CaseFreeze> all, load_freezes(out_dir));
  RITMA_ASSIGN_OR_RETURN(out.catalogs_rewritten, relock_catalogs(out_dir, all, days));
  return out;
}

Result<AccessRecord> append_access(const fs::path& out_dir, const NamedSigningKey& key,
                                   const CaseActor& who, const std::string& case_id,
                                   const std::string& action, const std::string& detail) {
  RITMA_TRY(check_case_id(case_id));
  std::error_code ec;
  const fs::path dir = out_dir / kCasesDir / case_id;
  if (!fs::is_directory(dir, ec))
    return make_error("no case \"" + case_id + "\" under " + (out_dir / kCasesDir).string());
  RITMA_ASSIGN_OR_RETURN(CatalogLock lock, CatalogLock::acquire(out_dir));
  RITMA_ASSIGN_OR_RETURN(auto rec, append_locked(dir, key, who, action, detail));
  return rec.first;
}

std::vector<std::string> verify_case(const fs::path& out_dir, const std::string& case_id) {
  std::vector<std::string> problems;
  if (auto st = check_case_id(case_id); !st.ok()) return {st.error().message};
  auto keys = store_keys(out_dir);
  if (!keys.ok()) return {keys.error().message};
  auto store = store_record(out_dir);
  if (!store.ok()) return {store.error().message};
  const fs::path dir = out_dir / kCasesDir / case_id;
  const std::string log_rel = rel_case(case_id, kCaseAccessLogFile);

  // Manifest, its signature and digests, and the files' decoding.
  auto c = load_checked_case(out_dir, case_id, *keys, *store);
  if (!c.ok()) problems.push_back(c.error().message);

  // The access log, record by record (independently of the rest, so that a broken record is
  // named even when the files are fine).
  auto log = read_file(dir / kCaseAccessLogFile, kMaxCaseFileBytes);
  std::optional<std::pair<uint64_t, Hash32>> head_seen;
  if (!log.ok()) {
    problems.push_back(log_rel + ": " + log.error().message);
  } else {
    const FrameScan scan = scan_frames(*log);
    if (scan.frames.empty()) problems.push_back(log_rel + ": holds no record");
    Hash32 prev{};
    for (size_t i = 0; i < scan.frames.size(); ++i) {
      const std::string name = log_rel + ": record " + std::to_string(i);
      const Hash32 h = blake3(scan.frames[i]);
      auto f = decode_access_frame(scan.frames[i]);
      if (!f.ok()) {
        problems.push_back(name + ": " + f.error().message);
      } else {
        if (f->record.seq != i)
          problems.push_back(name + ": seq is " + std::to_string(f->record.seq) + ", expected " +
                             std::to_string(i) + " (a record was removed or reordered)");
        if (f->record.prev != prev)
          problems.push_back(name + ": prev is not the BLAKE3 of record " +
                             (i == 0 ? std::string("-1 (32 zero bytes)") : std::to_string(i - 1)) +
                             ": the chain is broken (a record was changed, removed or reordered)");
        if (!access_signature_ok(*keys, *f))
          problems.push_back(name + ": the signature does not verify with a key of this store");
        if (c.ok() && f->record.seq == c->manifest.access_seq) head_seen = {i, h};
      }
      prev = h;
    }
    if (scan.torn) problems.push_back(log_rel + ": " + *scan.torn);
    if (c.ok()) {
      if (!head_seen)
        problems.push_back(log_rel + ": record " + std::to_string(c->manifest.access_seq) +
                           ", which " + kCaseManifestFile +
                           " names as the access head, is missing (records were removed)");
      else if (head_seen->second != c->manifest.access_b3)
        problems.push_back(log_rel + ": record " + std::to_string(head_seen->first) +
                           " is not the record " + kCaseManifestFile + " names as its access head");
    }
  }

  // Every frozen window still exists and matches the window log.
  if (c.ok()) {
    auto wl = read_window_log(out_dir);
    if (!wl.ok()) {
      problems.push_back(wl.error().message);
    } else {
      for (size_t k = 0; k < c->freezes.freezes.size(); ++k) {
        for (const FrozenWindow& w : c->freezes.freezes[k].windows) {
          const std::string name = rel_case(case_id, kCaseFreezesFile) + ": freeze " +
                                   std::to_string(k) + ": " + w.stem_path + " (log index " +
                                   std::to_string(w.log_index) + ")";
          if (w.log_index >= wl->scan.frames.size()) {
            problems.push_back(name + ": not in the window log");
            continue;
          }
          const ByteSpan logged = wl->scan.frames[w.log_index];
          auto lr = decode_micro(logged);
          if (!lr.ok() || lr->log_index != w.log_index || lr->micro_root != w.micro_root ||
              stem_path(*lr) != w.stem_path) {
            problems.push_back(name + ": the window log's record differs (micro root or path)");
            continue;
          }
          auto mb = read_file(out_dir / (w.stem_path + ".cbor"), kMaxRecordBytes);
          if (!mb.ok()) {
            problems.push_back(name + ": micro record missing: " + mb.error().message);
            continue;
          }
          if (!std::equal(mb->begin(), mb->end(), logged.begin(), logged.end()))
            problems.push_back(name + ": the micro record differs from the window log's");
        }
      }
    }
  }
  return problems;
}

}  // namespace ritma::seal
