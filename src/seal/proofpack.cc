#include "seal/proofpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <system_error>

#include "capture/event_atom.h"
#include "core/blake3_hasher.h"
#include "core/cbor.h"
#include "core/durable_file.h"
#include "core/ed25519.h"
#include "core/frame_log.h"
#include "core/signed_note.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/cbor_fields.h"
#include "seal/retention.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kManifestVersion = 1;
constexpr size_t kManifestFields = 8;
constexpr size_t kPackProofFields = 5;
constexpr size_t kMaxSigBytes = 4096;

}  // namespace

// ---------------------------------------------------------------- manifest and proof.cbor

Bytes encode(const Manifest& m) {
  Bytes out;
  cbor::Writer w(out);
  w.array(kManifestFields);
  w.text(kManifestTag);
  w.uint(kManifestVersion);
  w.bytes(m.store_id);
  w.text(m.node_id);
  w.int64(m.created_ns);
  w.int64(m.from_ns);
  w.int64(m.to_ns);
  w.array(m.files.size());
  for (const auto& f : m.files) {
    w.array(3);
    w.text(f.path);
    w.uint(f.size);
    w.bytes(f.b3);
  }
  return out;
}

Result<Manifest> decode_manifest(ByteSpan b) {
  const FieldReader r{kManifestFile};
  auto v = cbor::decode(b);
  if (!v.ok()) return r.error(v.error().message);
  RITMA_ASSIGN_OR_RETURN(const auto* a, r.tagged_array(*v, kManifestTag, kManifestFields));
  Manifest m;
  RITMA_ASSIGN_OR_RETURN(const uint64_t version, r.get_uint(*a, 1, "format_version"));
  if (version != kManifestVersion)
    return r.error("format_version " + std::to_string(version) + " is not 1");
  RITMA_ASSIGN_OR_RETURN(m.store_id, r.get_fixed<16>(*a, 2, "store_id"));
  RITMA_ASSIGN_OR_RETURN(m.node_id, r.get_text(*a, 3, "node_id"));
  RITMA_ASSIGN_OR_RETURN(m.created_ns, r.get_int(*a, 4, "created_ns"));
  RITMA_ASSIGN_OR_RETURN(m.from_ns, r.get_int(*a, 5, "from_ns"));
  RITMA_ASSIGN_OR_RETURN(m.to_ns, r.get_int(*a, 6, "to_ns"));
  if (m.from_ns >= m.to_ns) return r.error("the range is empty (from_ns >= to_ns)");
  if (!(*a)[7].is_array()) return r.field_error(7, "files", "an array");
  for (const auto& e : (*a)[7].as_array()) {
    if (!e.is_array() || e.as_array().size() != 3)
      return r.field_error(7, "files", "an array of [path, size, b3]");
    const auto& f = e.as_array();
    ManifestEntry me;
    RITMA_ASSIGN_OR_RETURN(me.path, r.get_text(f, 0, "files.path"));
    RITMA_ASSIGN_OR_RETURN(me.size, r.get_uint(f, 1, "files.size"));
    RITMA_ASSIGN_OR_RETURN(me.b3, r.get_fixed<32>(f, 2, "files.b3"));
    if (!valid_pack_path(me.path)) return r.error("file path \"" + me.path + "\" is not valid");
    if (me.path == kManifestFile || me.path == kManifestSigFile)
      return r.error("lists " + me.path + " (the manifest does not list itself)");
    if (!m.files.empty() && !(m.files.back().path < me.path))
      return r.error("file paths are not in ascending order without repeats at \"" + me.path +
                     "\"");
    m.files.push_back(std::move(me));
  }
  return m;
}

Bytes encode(const PackProof& p) {
  Bytes out;
  cbor::Writer w(out);
  w.array(kPackProofFields);
  w.text(kPackProofTag);
  w.bytes(p.store_id);
  w.array(p.checkpoints.size());
  for (const auto& c : p.checkpoints) w.text(c);
  w.array(p.consistency.size());
  for (const auto& c : p.consistency) put_path(w, c);
  w.array(p.windows.size());
  for (const auto& x : p.windows) {
    w.array(4);
    w.uint(x.log_index);
    w.text(x.micro_file);
    w.boolean(x.has_blocks);
    put_path(w, x.log_path);
  }
  return out;
}

Result<PackProof> decode_pack_proof(ByteSpan b) {
  const FieldReader r{kPackProofFile};
  auto v = cbor::decode(b);
  if (!v.ok()) return r.error(v.error().message);
  RITMA_ASSIGN_OR_RETURN(const auto* a, r.tagged_array(*v, kPackProofTag, kPackProofFields));
  PackProof p;
  RITMA_ASSIGN_OR_RETURN(p.store_id, r.get_fixed<16>(*a, 1, "store_id"));
  if (!(*a)[2].is_array()) return r.field_error(2, "checkpoints", "an array of texts");
  for (const auto& c : (*a)[2].as_array()) {
    if (c.type() != cbor::Type::kText) return r.field_error(2, "checkpoints", "an array of texts");
    p.checkpoints.push_back(c.as_text());
  }
  if (!(*a)[3].is_array()) return r.field_error(3, "consistency", "an array of paths");
  const auto& cons = (*a)[3].as_array();
  for (size_t i = 0; i < cons.size(); ++i) {
    RITMA_ASSIGN_OR_RETURN(auto path, r.get_path(cons, i, "consistency"));
    p.consistency.push_back(std::move(path));
  }
  if (!(*a)[4].is_array()) return r.field_error(4, "windows", "an array");
  for (const auto& e : (*a)[4].as_array()) {
    if (!e.is_array() || e.as_array().size() != 4)
      return r.field_error(4, "windows", "an array of [log_index, micro_file, has_blocks, path]");
    const auto& f = e.as_array();
    PackWindowRef w;
    RITMA_ASSIGN_OR_RETURN(w.log_index, r.get_uint(f, 0, "windows.log_index"));
    RITMA_ASSIGN_OR_RETURN(w.micro_file, r.get_text(f, 1, "windows.micro_file"));
    if (f[2].type() != cbor::Type::kBool) return r.field_error(4, "windows.has_blocks", "a bool");
    w.has_blocks = f[2].as_bool();
    RITMA_ASSIGN_OR_RETURN(w.log_path, r.get_path(f, 3, "windows.log_path"));
    if (!valid_pack_path(w.micro_file))
      return r.error("window micro file \"" + w.micro_file + "\" is not a valid path");
    p.windows.push_back(std::move(w));
  }
  return p;
}

// ---------------------------------------------------------------- reading a pack

bool pack_keeps_bytes(std::string_view path) {
  return path == kManifestFile || path == kManifestSigFile || path == kPackProofFile ||
         path.starts_with(kPackStoreDir);
}

namespace {

struct ArchiveReader {
  archive* a = archive_read_new();
  ~ArchiveReader() { archive_read_free(a); }
};

// Counts one file against the bounds and checks its path.
Status admit_pack_file(const PackFiles& pack, uint64_t& total, const std::string& rel,
                       uint64_t size) {
  if (!valid_pack_path(rel)) return make_error("the path \"" + rel + "\" is not allowed in a pack");
  if (pack.files.size() + pack.digested.size() >= kMaxPackFiles)
    return make_error("more than " + std::to_string(kMaxPackFiles) + " files");
  total += size;
  if (total > kMaxPackBytes)
    return make_error("more than " + std::to_string(kMaxPackBytes) + " bytes");
  if (pack.files.count(rel) != 0 || pack.digested.count(rel) != 0)
    return make_error("the path \"" + rel + "\" appears twice");
  return {};
}

}  // namespace

Result<PackFiles> load_pack_archive(ByteSpan data, const std::string& source) {
  PackFiles pack;
  pack.source = source;
  pack.archive = true;
  ArchiveReader r;
  if (r.a == nullptr) return make_error("libarchive: out of memory");
  archive_read_support_filter_zstd(r.a);
  archive_read_support_format_tar(r.a);
  if (archive_read_open_memory(r.a, data.data(), data.size()) != ARCHIVE_OK)
    return make_error(source + ": not a .tar.zst pack: " + archive_error_string(r.a));
  uint64_t total = 0;
  std::string top;
  std::vector<uint8_t> chunk(1u << 20);
  for (;;) {
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(r.a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) {
      const char* why = archive_error_string(r.a);
      return make_error(source + ": truncated or corrupt archive: " +
                        (why != nullptr ? why : "unreadable entry"));
    }
    const char* name_c = archive_entry_pathname(e);
    std::string name = name_c != nullptr ? name_c : "";
    const auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG)
      return make_error(source + ": entry \"" + name + "\" is not a regular file");
    // Every entry lies under one top directory, which is not part of the pack's paths.
    const size_t slash = name.find('/');
    if (slash == std::string::npos || slash == 0)
      return make_error(source + ": entry \"" + name + "\" is not under the pack's top directory");
    const std::string this_top = name.substr(0, slash);
    if (top.empty()) top = this_top;
    if (this_top != top || this_top == "..")
      return make_error(source + ": entry \"" + name + "\" is not under the top directory \"" +
                        top + "\"");
    const la_int64_t size = archive_entry_size(e);
    if (size < 0 || static_cast<uint64_t>(size) > kMaxPackFileBytes)
      return make_error(source + ": entry \"" + name + "\" is too large");
    const std::string rel = name.substr(slash + 1);
    auto st = admit_pack_file(pack, total, rel, static_cast<uint64_t>(size));
    if (!st.ok()) return make_error(source + ": " + st.error().message);
    // Read in chunks: memory follows the data that is really there, not the header's claim.
    const bool keep = pack_keeps_bytes(rel);
    Bytes bytes;
    Blake3Hasher hasher;
    uint64_t got = 0;
    while (got < static_cast<uint64_t>(size)) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - got));
      const la_ssize_t n = archive_read_data(r.a, chunk.data(), want);
      if (n < 0)
        return make_error(source + ": truncated or corrupt archive in \"" + name +
                          "\": " + archive_error_string(r.a));
      if (n == 0) return make_error(source + ": truncated archive: \"" + name + "\" ends early");
      const ByteSpan part(chunk.data(), static_cast<size_t>(n));
      if (keep) {
        bytes.insert(bytes.end(), part.begin(), part.end());
      } else {
        hasher.update(part);
      }
      got += static_cast<uint64_t>(n);
    }
    if (keep) {
      pack.files.emplace(rel, std::move(bytes));
    } else {
      pack.digested.emplace(rel, PackFiles::Digest{got, hasher.finalize()});
    }
  }
  if (!pack.files.empty() || !pack.digested.empty()) {
    if (archive_filter_code(r.a, 0) != ARCHIVE_FILTER_ZSTD)
      return make_error(source + ": not zstd-compressed (a pack archive is a .tar.zst)");
  }
  return pack;
}

Result<PackFiles> load_pack(const fs::path& path, bool* damaged) {
  if (damaged != nullptr) *damaged = false;
  std::error_code ec;
  const auto st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return make_error(path.string() + ": no such file or directory");
  if (fs::is_regular_file(fs::status(path, ec))) {
    auto bytes = read_file(path, kMaxPackBytes);
    if (!bytes.ok()) return bytes.error();
    auto pack = load_pack_archive(*bytes, path.string());
    if (!pack.ok() && damaged != nullptr) *damaged = true;
    return pack;
  }
  if (!fs::is_directory(fs::status(path, ec)))
    return make_error(path.string() + ": neither a pack directory nor a .tar.zst file");
  PackFiles pack;
  pack.source = path.string();
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != end(it);
       it.increment(ec)) {
    const auto s = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_directory(s)) continue;
    // Lexically: fs::relative resolves symlinks, which would name a link by its target.
    const std::string rel = it->path().lexically_relative(path).generic_string();
    if (!fs::is_regular_file(s)) {
      if (damaged != nullptr) *damaged = true;
      return make_error(path.string() + ": \"" + rel +
                        "\" is not a regular file (a pack holds only files)");
    }
    const uint64_t size = it->file_size(ec);
    if (ec) break;
    auto added = admit_pack_file(pack, total, rel, size);
    if (!added.ok()) {
      if (damaged != nullptr) *damaged = true;
      return make_error(path.string() + ": " + added.error().message);
    }
    if (size > kMaxPackFileBytes)
      return make_error(path.string() + ": \"" + rel + "\" is larger than a pack file may be");
    if (pack_keeps_bytes(rel)) {
      auto bytes = read_file(it->path(), kMaxPackFileBytes);
      if (!bytes.ok()) return bytes.error();
      pack.files.emplace(rel, std::move(bytes).value());
    } else {
      auto b3 = blake3_file(it->path());
      if (!b3.ok()) return b3.error();
      pack.digested.emplace(rel, PackFiles::Digest{size, *b3});
    }
  }
  if (ec) return make_error(path.string() + ": cannot list: " + ec.message());
  return pack;
}

// ---------------------------------------------------------------- verifying

Result<PackReport> verify_pack(const PackFiles& pack, const std::string& pinned_key) {
  std::optional<std::string> pinned_fp;
  if (!pinned_key.empty()) {
    RITMA_ASSIGN_OR_RETURN(auto fp, key_pin_fingerprint(pinned_key));
    pinned_fp = std::move(fp);
  }
  PackReport rep;
  rep.source = pack.source;
  rep.archive = pack.archive;
  rep.store.out_dir = pack.source;
  rep.store.pinned_fingerprint = pinned_fp.value_or("");
  const auto t0 = std::chrono::steady_clock::now();
  auto problem = [&](const std::string& file, const std::string& msg) {
    VerifyProblem p;
    p.file = file;
    p.message = msg;
    rep.store.problems.push_back(std::move(p));
  };
  auto finish = [&]() -> Result<PackReport> {
    rep.store.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rep.store.events_per_second =
        rep.store.elapsed_seconds > 0
            ? static_cast<double>(rep.store.events) / rep.store.elapsed_seconds
            : 0;
    return rep;
  };

  auto mf = pack.files.find(kManifestFile);
  if (mf == pack.files.end()) {
    problem(kManifestFile, "missing: nothing in the pack can be checked without it");
    return finish();
  }
  auto manifest = decode_manifest(mf->second);
  if (!manifest.ok()) {
    problem(kManifestFile, manifest.error().message);
    return finish();
  }
  rep.created_ns = manifest->created_ns;
  rep.from_ns = manifest->from_ns;
  rep.to_ns = manifest->to_ns;
  rep.manifest_files = manifest->files.size();
  // Every file listed, with its size and BLAKE3; nothing unlisted.
  std::set<std::string> listed;
  for (const auto& e : manifest->files) {
    listed.insert(e.path);
    std::optional<PackFiles::Digest> have;
    if (auto it = pack.files.find(e.path); it != pack.files.end()) {
      have = PackFiles::Digest{it->second.size(), {}};
      if (it->second.size() == e.size) have->b3 = blake3(it->second);
    } else if (auto d = pack.digested.find(e.path); d != pack.digested.end()) {
      have = d->second;
    }
    if (!have) {
      problem(e.path, "listed in the manifest but not in the pack");
    } else if (have->size != e.size) {
      problem(e.path, "is " + std::to_string(have->size) + " bytes, the manifest says " +
                          std::to_string(e.size));
    } else if (have->b3 != e.b3) {
      problem(e.path, "BLAKE3 differs from the manifest's");
    }
  }
  auto unlisted = [&](const std::string& path) {
    if (path != kManifestFile && path != kManifestSigFile && listed.count(path) == 0)
      problem(path, "in the pack but not listed in the manifest");
  };
  for (const auto& [path, bytes] : pack.files) unlisted(path);
  for (const auto& [path, digest] : pack.digested) unlisted(path);
  auto pf = pack.files.find(kPackProofFile);
  if (pf == pack.files.end()) {
    problem(kPackProofFile, "missing: the windows cannot be linked to a checkpoint");
    return finish();
  }
  auto proof = decode_pack_proof(pf->second);
  if (!proof.ok()) {
    problem(kPackProofFile, proof.error().message);
    return finish();
  }
  detail::verify_pack_evidence(pack, *manifest, mf->second, *proof, pinned_fp, rep.store);
  rep.store.range_limited = true;
  rep.store.from_ns = manifest->from_ns;
  rep.store.to_ns = manifest->to_ns;
  rep.events_in_range = rep.store.events_in_range;
  bool any = false;
  for (const auto& w : proof->windows) {
    if (!w.has_blocks) continue;
    if (!any) rep.first_log_index = w.log_index;
    rep.last_log_index = w.log_index;
    any = true;
  }
  if (!proof->checkpoints.empty()) {
    const std::string& text = proof->checkpoints.back();
    const size_t split = text.rfind("\n\n");
    if (split != std::string::npos) {
      if (auto cp = note::parse_checkpoint_body(std::string_view(text).substr(0, split + 1));
          cp.ok()) {
        rep.newest_size = cp->size;
        rep.newest_root = to_hex(cp->root);
      }
    }
  }
  return finish();
}

// ---------------------------------------------------------------- exporting

namespace {

// All levels of the window-log tree (RFC 9162: a last node without a sibling moves up as it
// is), so each path is read off in O(log n) instead of recomputing the tree per window.
class TreeLevels {
 public:
  explicit TreeLevels(std::vector<Hash32> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() > 1) {
      const auto& below = levels_.back();
      std::vector<Hash32> up;
      up.reserve((below.size() + 1) / 2);
      for (size_t i = 0; i + 1 < below.size(); i += 2)
        up.push_back(merkle::node_hash(below[i], below[i + 1]));
      if (below.size() % 2 == 1) up.push_back(below.back());
      levels_.push_back(std::move(up));
    }
  }
  merkle::Proof path(uint64_t index) const {
    merkle::Proof p;
    for (size_t l = 0; l + 1 < levels_.size(); ++l) {
      const uint64_t sib = index ^ 1;
      if (sib < levels_[l].size()) p.push_back(levels_[l][sib]);
      index >>= 1;
    }
    return p;
  }

 private:
  std::vector<std::vector<Hash32>> levels_;
};

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string pack_readme(const Manifest& m, const ExportOutcome& o, const std::string& signer,
                        const std::string& fingerprint) {
  std::string r;
  r += "Ritma ProofPack (ritma-pack@1)\n==============================\n\n";
  r += "Node:        " + m.node_id + "\n";
  r += "Store:       " + to_hex(m.store_id) + "\n";
  r += "Range:       " + utc_rfc3339(m.from_ns) + " to " + utc_rfc3339(m.to_ns) +
       " (end excluded)\n";
  r += "Exported:    " + utc_rfc3339(m.created_ns) + "\n";
  r += "Windows:     " + std::to_string(o.windows) + " with events (blocks), " +
       std::to_string(o.context_windows) + " more for their hours' roots\n";
  r += "Events:      " + std::to_string(o.events) + " in those windows, " +
       std::to_string(o.events_in_range) + " with a time in the range\n";
  r += "Signed by:   " + signer + "\n";
  r += "Fingerprint: " + fingerprint + "\n\n";
  r += R"(How to verify
-------------
Get the node key's fingerprint from a source you trust (not from this pack: anyone who
altered the pack could have replaced its keys too), then run, with no store needed:

    ritma verify <this pack (directory or .tar.zst)> --key <fingerprint>

Exit status 0: every file's BLAKE3 matches the signed manifest, every event was recomputed
into its window's Merkle root, every window record and checkpoint signature verifies with a
key the pinned key vouches for, every window is included in the newest checkpoint, and the
checkpoints are consistent with each other. 3: all of that holds, but no key was pinned
(internally consistent only). 1: something is wrong; each problem names the file. 2: usage,
or the pack could not be read.

What is in here: MANIFEST.cbor (+ .sig) lists every file with its size and BLAKE3;
proof.cbor holds the window-log checkpoints, the consistency proofs between them and each
window's inclusion path; store/ holds the store's own signed files for the range; events/
holds JSON views of the events (informative: the evidence is store/). docs/FORMAT.md §12
of Ritma describes every byte, for writing an independent verifier.
)";
  return r;
}

// A tar.zst of the files under one top directory, written atomically.
Status write_archive(const fs::path& out, const std::string& top,
                     const std::map<std::string, Bytes>& files) {
  const fs::path tmp = out.parent_path() / ("." + out.filename().string() + ".tmp");
  archive* a = archive_write_new();
  if (a == nullptr) return make_error("libarchive: out of memory");
  struct Closer {
    archive* a;
    ~Closer() { archive_write_free(a); }
  } closer{a};
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_zstd(a);
  if (archive_write_open_filename(a, tmp.c_str()) != ARCHIVE_OK)
    return make_error(tmp.string() + ": " + archive_error_string(a));
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::set<std::string> dirs;
  auto add_dir = [&](const std::string& d) -> Status {
    if (!dirs.insert(d).second) return {};
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, d.c_str());
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_mtime(e, now, 0);
    const int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) return make_error(std::string("archive: ") + archive_error_string(a));
    return {};
  };
  RITMA_TRY(add_dir(top + "/"));
  for (const auto& [rel, bytes] : files) {
    for (size_t p = rel.find('/'); p != std::string::npos; p = rel.find('/', p + 1))
      RITMA_TRY(add_dir(top + "/" + rel.substr(0, p + 1)));
    archive_entry* e = archive_entry_new();
    const std::string name = top + "/" + rel;
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_mtime(e, now, 0);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) return make_error(std::string("archive: ") + archive_error_string(a));
    if (!bytes.empty() &&
        archive_write_data(a, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size()))
      return make_error(std::string("archive: ") + archive_error_string(a));
  }
  if (archive_write_close(a) != ARCHIVE_OK)
    return make_error(std::string("archive: ") + archive_error_string(a));
  std::error_code ec;
  fs::rename(tmp, out, ec);
  if (ec) return make_error("cannot rename " + tmp.string() + ": " + ec.message());
  return fsync_directory(out.parent_path().empty() ? fs::path(".") : out.parent_path());
}

Status write_directory(const fs::path& out, const std::map<std::string, Bytes>& files) {
  const fs::path tmp = out.parent_path() / ("." + out.filename().string() + ".tmp");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  for (const auto& [rel, bytes] : files) {
    const fs::path p = tmp / rel;
    RITMA_TRY(make_directories(p.parent_path()));
    RITMA_TRY(atomic_write_file(p, bytes, 0644));
  }
  fs::rename(tmp, out, ec);
  if (ec) return make_error("cannot rename " + tmp.string() + ": " + ec.message());
  return fsync_directory(out.parent_path().empty() ? fs::path(".") : out.parent_path());
}

}  // namespace

ExportOutcome export_pack(const fs::path& out_dir, const ExportOptions& opt) {
  ExportOutcome o;
  auto fail = [&](ExportOutcome::Failure f, std::string msg) {
    o.failure = f;
    o.message = std::move(msg);
    return o;
  };
  auto say = [&](const std::string& line) {
    if (opt.progress) opt.progress(line);
  };
  int64_t from = 0, to = 0;
  if (opt.at_ns) {
    if (opt.from_ns || opt.to_ns)
      return fail(ExportOutcome::Failure::kUsage, "--at excludes --from/--to");
    from = *opt.at_ns;
    to = *opt.at_ns + 1;
  } else {
    if (!opt.from_ns || !opt.to_ns)
      return fail(ExportOutcome::Failure::kUsage, "give --at T, or both --from and --to");
    from = *opt.from_ns;
    to = *opt.to_ns;
    if (from >= to)
      return fail(ExportOutcome::Failure::kUsage,
                  "the range is empty (--from must be before --to)");
  }
  o.from_ns = from;
  o.to_ns = to;
  std::error_code ec;
  if (opt.out.empty()) return fail(ExportOutcome::Failure::kUsage, "no output path");
  if (fs::exists(opt.out, ec))
    return fail(ExportOutcome::Failure::kUsage,
                opt.out.string() + " already exists (not overwritten)");

  // The store's identity and keys.
  std::map<std::string, Bytes> files;
  auto read_store_file = [&](const std::string& rel, size_t max) -> Result<Bytes> {
    return read_file(out_dir / rel, max);
  };
  for (const char* rel : {kStoreFile, kStoreSigFile, kKeysFile}) {
    auto b = read_store_file(rel, kMaxRecordBytes);
    if (!b.ok())
      return fail(ExportOutcome::Failure::kUnreadable,
                  "no sealed store at " + out_dir.string() + ": " + b.error().message);
    files[std::string(kPackStoreDir) + rel] = std::move(b).value();
  }
  auto store = decode_store(files[std::string(kPackStoreDir) + kStoreFile]);
  if (!store.ok())
    return fail(ExportOutcome::Failure::kInvalid,
                std::string(kStoreFile) + ": " + store.error().message);
  auto keys = decode_keys(files[std::string(kPackStoreDir) + kKeysFile]);
  if (!keys.ok() || keys->keys.empty())
    return fail(ExportOutcome::Failure::kInvalid,
                std::string(kKeysFile) + ": " + (keys.ok() ? "no key" : keys.error().message));
  if (!opt.signing_key)
    return fail(ExportOutcome::Failure::kUsage, "no signing key for the manifest");
  const NamedSigningKey& signer = *opt.signing_key;
  const PublicKey signer_pub = signer.key.public_key();
  const KeyEntry& current = keys->keys.back();
  if (current.public_key != signer_pub || current.name != signer.name)
    return fail(ExportOutcome::Failure::kInvalid,
                "the signing key given is not the store's current key " + current.name);

  // The checkpoints first, then the window log (the sealer appends in the other order).
  say("reading the window log");
  auto cp_log = read_store_file(kCheckpointLogFile, size_t{1} << 34);
  if (!cp_log.ok()) return fail(ExportOutcome::Failure::kUnreadable, cp_log.error().message);
  auto win_log = read_store_file(kWindowLogFile, size_t{1} << 34);
  if (!win_log.ok()) return fail(ExportOutcome::Failure::kUnreadable, win_log.error().message);
  const FrameScan cps = scan_frames(*cp_log, static_cast<uint32_t>(kMaxRecordBytes));
  const FrameScan wins = scan_frames(*win_log, static_cast<uint32_t>(kMaxRecordBytes));
  if (cps.frames.empty())
    return fail(ExportOutcome::Failure::kNoWindow, "no window has been sealed yet");
  auto cp_at = [&](uint64_t size) -> Result<note::Checkpoint> {
    if (size == 0 || size > cps.frames.size())
      return make_error("no checkpoint of size " + std::to_string(size));
    const std::string_view text = as_chars(cps.frames[size - 1]);
    const size_t split = text.rfind("\n\n");
    if (split == std::string_view::npos)
      return make_error("checkpoint frame " + std::to_string(size - 1) + " is not a signed note");
    auto cp = note::parse_checkpoint_body(text.substr(0, split + 1));
    if (!cp.ok()) return cp.error();
    if (cp->size != size)
      return make_error("checkpoint frame " + std::to_string(size - 1) + " is for size " +
                        std::to_string(cp->size));
    return cp;
  };
  const uint64_t n = cps.frames.size();
  if (n > wins.frames.size())
    return fail(ExportOutcome::Failure::kInvalid, "checkpoints cover " + std::to_string(n) +
                                                      " windows, the window log holds " +
                                                      std::to_string(wins.frames.size()));
  auto newest = cp_at(n);
  if (!newest.ok())
    return fail(ExportOutcome::Failure::kInvalid,
                std::string(kCheckpointLogFile) + ": " + newest.error().message);
  std::vector<MicroRecord> recs;
  std::vector<Hash32> leaves;
  recs.reserve(n);
  leaves.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    auto m = decode_micro(wins.frames[i]);
    if (!m.ok() || m->log_index != i)
      return fail(ExportOutcome::Failure::kInvalid,
                  std::string(kWindowLogFile) + ": frame " + std::to_string(i) + ": " +
                      (m.ok() ? "wrong log_index" : m.error().message));
    recs.push_back(std::move(m).value());
    leaves.push_back(merkle::leaf_hash(wins.frames[i]));
  }
  const TreeLevels tree(leaves);
  if (merkle::root_from_leaf_hashes(leaves) != newest->root)
    return fail(ExportOutcome::Failure::kInvalid,
                "the newest checkpoint's root is not the window log's (run ritma verify --store)");

  // The windows of the range.
  std::optional<uint64_t> a, b;
  for (uint64_t i = 0; i < n; ++i) {
    if (!window_overlaps(recs[i], from, to)) continue;
    if (!a) a = i;
    b = i;
  }
  if (!a) {
    // The nearest sealed windows on each side of the range: up to two before, two after.
    uint64_t after = 0;
    while (after < n && recs[after].slot_start_ns < to) ++after;
    const uint64_t first = after >= 2 ? after - 2 : 0;
    for (uint64_t i = first; i < n && i < after + 2; ++i) {
      const MicroRecord& m = recs[i];
      o.nearest.push_back(NearbyWindow{m.log_index, stem_path(m), m.slot_start_ns, m.window_ns,
                                       m.event_count, m.min_wall_ns, m.max_wall_ns});
    }
    std::sort(o.nearest.begin(), o.nearest.end(), [](const NearbyWindow& x, const NearbyWindow& y) {
      return x.log_index < y.log_index;
    });
    return fail(ExportOutcome::Failure::kNoWindow,
                "no sealed window holds " +
                    (opt.at_ns ? utc_rfc3339(from) : utc_rfc3339(from) + " .. " + utc_rfc3339(to)));
  }
  // Windows of the range whose events retention deleted (§14) cannot be exported.
  {
    auto pruned = read_retention_records(out_dir);
    if (!pruned.ok()) return fail(ExportOutcome::Failure::kInvalid, pruned.error().message);
    for (const RetentionRecord& r : *pruned) {
      uint64_t count = 0, first = 0, last = 0;
      for (const PrunedWindow& p : r.windows) {
        if (p.log_index < *a || p.log_index > *b) continue;
        if (count++ == 0) first = p.log_index;
        last = p.log_index;
      }
      if (count != 0)
        return fail(ExportOutcome::Failure::kInvalid,
                    std::to_string(count) + " window(s) of the range (log index " +
                        std::to_string(first) + ".." + std::to_string(last) +
                        ") were pruned by retention at " + utc_rfc3339(r.time_ns, 0) + " (" +
                        retention_path(r.index) + ", " + r.policy +
                        "): their events are gone; export a range of windows that remain");
    }
  }
  // Complete hours touched by the range: all their windows (for the hour roots), their proofs,
  // and the checkpoints that close them.
  uint64_t c = *a, d = *b;
  std::set<uint64_t> sizes{*b + 1, n};
  std::vector<int64_t> hours;
  for (uint64_t i = *a; i <= *b; ++i) {
    const int64_t h = hour_start(recs[i].slot_start_ns);
    if (hours.empty() || hours.back() != h) hours.push_back(h);
  }
  for (const int64_t h : hours) {
    const std::string proofs = hour_dir(h) + "/proofs/";
    if (!fs::exists(out_dir / (proofs + "hour_root.cbor"), ec)) continue;
    uint64_t hs = *a, he = *b;
    while (hs > 0 && hour_start(recs[hs - 1].slot_start_ns) == h) --hs;
    while (hs < n && hour_start(recs[hs].slot_start_ns) != h) ++hs;
    he = hs;
    while (he + 1 < n && hour_start(recs[he + 1].slot_start_ns) == h) ++he;
    c = std::min(c, hs);
    d = std::max(d, he);
    sizes.insert(he + 1);
    for (const char* f : {"hour_root.cbor", "hour_root.sig", "chain.cbor", "chain.sig"}) {
      auto bytes = read_store_file(proofs + f, kMaxRecordBytes);
      if (!bytes.ok()) return fail(ExportOutcome::Failure::kUnreadable, bytes.error().message);
      if (std::string(f) == "chain.cbor" && h == hours.front()) {
        auto ch = decode_chain(*bytes);
        if (!ch.ok())
          return fail(ExportOutcome::Failure::kInvalid, proofs + f + ": " + ch.error().message);
        if (ch->previous) sizes.insert(ch->previous->second.tree_size);
      }
      files[std::string(kPackStoreDir) + proofs + f] = std::move(bytes).value();
    }
    ++o.hours;
  }
  if (d + 1 > n)
    return fail(ExportOutcome::Failure::kInvalid,
                "an hour's windows reach beyond the newest checkpoint");

  // Checkpoints and the consistency proofs between them.
  PackProof proof;
  proof.store_id = store->store_id;
  std::optional<uint64_t> prev_size;
  for (const uint64_t size : sizes) {
    if (size == 0 || size > n) continue;
    auto cp = cp_at(size);
    if (!cp.ok())
      return fail(ExportOutcome::Failure::kInvalid,
                  std::string(kCheckpointLogFile) + ": " + cp.error().message);
    proof.checkpoints.emplace_back(as_chars(cps.frames[size - 1]));
    if (prev_size)
      proof.consistency.push_back(
          merkle::consistency_proof(std::span<const Hash32>(leaves.data(), size), *prev_size));
    prev_size = size;
  }

  // The windows: micro records and signatures, blocks for those in range (checked against
  // their records on the way), and the JSON views.
  say("copying windows " + std::to_string(c) + ".." + std::to_string(d));
  std::string events_jsonl;
  std::string windows_json = "[\n";
  for (uint64_t i = c; i <= d; ++i) {
    const MicroRecord& m = recs[i];
    const bool blocks = i >= *a && i <= *b;
    PackWindowRef ref;
    ref.log_index = i;
    ref.micro_file = micro_path(m);
    ref.has_blocks = blocks;
    ref.log_path = tree.path(i);
    proof.windows.push_back(ref);
    files[std::string(kPackStoreDir) + micro_path(m)] =
        Bytes(wins.frames[i].begin(), wins.frames[i].end());
    auto sig = read_store_file(micro_sig_path(m), kMaxSigBytes);
    if (!sig.ok()) return fail(ExportOutcome::Failure::kUnreadable, sig.error().message);
    files[std::string(kPackStoreDir) + micro_sig_path(m)] = std::move(sig).value();
    windows_json +=
        std::string(i == c ? "" : ",\n") + "  {\"log_index\": " + std::to_string(i) +
        ", \"window\": \"" + json_escape(stem_path(m)) + "\", \"slot_start\": \"" +
        utc_rfc3339(m.slot_start_ns) + "\", \"events\": " + std::to_string(m.event_count) +
        ", \"first_seq\": " + std::to_string(m.first_seq) + ", \"micro_root\": \"" +
        to_hex(m.micro_root) + "\", \"blocks_included\": " + (blocks ? "true" : "false") + "}";
    if (!blocks) {
      ++o.context_windows;
      continue;
    }
    ++o.windows;
    uint64_t leaf = 0;
    for (size_t k = 0; k < m.blocks.size(); ++k) {
      const std::string rel = block_dir(m) + "/" + m.blocks[k].file;
      auto bytes = read_store_file(rel, 64u << 20);
      if (!bytes.ok()) return fail(ExportOutcome::Failure::kUnreadable, bytes.error().message);
      if (blake3(*bytes) != m.blocks[k].b3)
        return fail(ExportOutcome::Failure::kInvalid,
                    rel + ": BLAKE3 differs from its micro record's (run ritma verify --store)");
      auto raw = zstd_decompress(*bytes, kBlockMaxRawBytes);
      if (!raw.ok())
        return fail(ExportOutcome::Failure::kInvalid, rel + ": " + raw.error().message);
      std::vector<ScannedAtom> atoms;
      if (auto err = scan_atoms(*raw, atoms))
        return fail(ExportOutcome::Failure::kInvalid, rel + ": " + err->message());
      for (const ScannedAtom& at : atoms) {
        ++o.events;
        if (at.wall_ns >= from && at.wall_ns < to) ++o.events_in_range;
        if (opt.event_json) {
          auto ev = capture::decode_event_atom(at.bytes(*raw));
          if (!ev.ok())
            return fail(ExportOutcome::Failure::kInvalid, rel + ": " + ev.error().message);
          events_jsonl += opt.event_json(*ev, i, leaf);
          events_jsonl += '\n';
        }
        ++leaf;
      }
      files[std::string(kPackStoreDir) + rel] = std::move(bytes).value();
    }
  }
  windows_json += "\n]\n";
  files["events/events.jsonl"] = Bytes(events_jsonl.begin(), events_jsonl.end());
  files["events/windows.json"] = Bytes(windows_json.begin(), windows_json.end());
  files[kPackProofFile] = encode(proof);

  Manifest man;
  man.store_id = store->store_id;
  man.node_id = store->node_id;
  man.created_ns = std::max<int64_t>(
      static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()),
      current.valid_from_ns);
  man.from_ns = from;
  man.to_ns = to;
  const std::string readme = pack_readme(man, o, current.name, key_fingerprint(current.public_key));
  files[kPackReadmeFile] = Bytes(readme.begin(), readme.end());
  for (const auto& [path, bytes] : files)
    man.files.push_back(ManifestEntry{path, bytes.size(), blake3(bytes)});
  const Bytes man_bytes = encode(man);
  files[kManifestSigFile] = encode(make_signature(signer.name, signer.key, man_bytes));
  files[kManifestFile] = man_bytes;

  for (const auto& [path, bytes] : files) o.bytes += bytes.size();
  o.files = files.size();
  const std::string out_name = opt.out.filename().string();
  say("writing " + opt.out.string());
  Status st;
  if (out_name.size() > 8 && out_name.ends_with(".tar.zst")) {
    st = write_archive(opt.out, out_name.substr(0, out_name.size() - 8), files);
  } else {
    st = write_directory(opt.out, files);
  }
  if (!st.ok())
    return fail(ExportOutcome::Failure::kUnreadable,
                "writing " + opt.out.string() + ": " + st.error().message);
  o.written = opt.out;
  return o;
}

// ---------------------------------------------------------------- reading (the viewer)

Result<OpenedPack> open_pack(const PackFiles& pack) {
  auto find = [&](const std::string& p) -> Result<const Bytes*> {
    auto it = pack.files.find(p);
    if (it == pack.files.end()) return make_error(pack.source + ": no " + p);
    return &it->second;
  };
  OpenedPack o;
  RITMA_ASSIGN_OR_RETURN(const Bytes* mb, find(kManifestFile));
  RITMA_ASSIGN_OR_RETURN(o.manifest, decode_manifest(*mb));
  RITMA_ASSIGN_OR_RETURN(const Bytes* pb, find(kPackProofFile));
  RITMA_ASSIGN_OR_RETURN(o.proof, decode_pack_proof(*pb));
  RITMA_ASSIGN_OR_RETURN(const Bytes* sb, find(std::string(kPackStoreDir) + kStoreFile));
  RITMA_ASSIGN_OR_RETURN(o.store, decode_store(*sb));
  if (o.proof.checkpoints.empty())
    return make_error(pack.source + ": proof.cbor holds no checkpoint");
  o.newest_checkpoint = o.proof.checkpoints.back();
  const size_t split = o.newest_checkpoint.rfind("\n\n");
  if (split == std::string::npos)
    return make_error(pack.source + ": the newest checkpoint is not a signed note");
  RITMA_ASSIGN_OR_RETURN(auto cp, note::parse_checkpoint_body(
                                      std::string_view(o.newest_checkpoint).substr(0, split + 1)));
  o.newest_size = cp.size;
  o.newest_root = cp.root;
  for (const auto& r : o.proof.windows) {
    RITMA_ASSIGN_OR_RETURN(const Bytes* m, find(std::string(kPackStoreDir) + r.micro_file));
    OpenedPackWindow w;
    w.log_index = r.log_index;
    RITMA_ASSIGN_OR_RETURN(w.micro, decode_micro(*m));
    w.micro_bytes = *m;
    w.has_blocks = r.has_blocks;
    w.log_path = r.log_path;
    o.windows.push_back(std::move(w));
  }
  return o;
}

Result<std::vector<Bytes>> pack_window_atoms(const PackFiles& pack, const OpenedPackWindow& w) {
  if (!w.has_blocks)
    return make_error("the pack does not hold the blocks of window " + stem_path(w.micro));
  std::vector<Bytes> out;
  std::vector<ScannedAtom> atoms;
  for (const auto& b : w.micro.blocks) {
    const std::string rel = std::string(kPackStoreDir) + block_dir(w.micro) + "/" + b.file;
    auto it = pack.files.find(rel);
    if (it == pack.files.end()) return make_error(rel + ": not in the pack");
    if (blake3(it->second) != b.b3)
      return make_error(rel + ": BLAKE3 differs from the micro record's");
    RITMA_ASSIGN_OR_RETURN(auto raw, zstd_decompress(it->second, kBlockMaxRawBytes));
    if (auto err = scan_atoms(raw, atoms)) return make_error(rel + ": " + err->message());
    for (const auto& a : atoms) {
      const ByteSpan s = a.bytes(raw);
      out.emplace_back(s.begin(), s.end());
    }
  }
  return out;
}

Result<EventProof> pack_event_proof(const PackFiles& pack, const OpenedPack& opened,
                                    const OpenedPackWindow& w, uint64_t leaf_index) {
  RITMA_ASSIGN_OR_RETURN(auto atoms, pack_window_atoms(pack, w));
  if (leaf_index >= atoms.size())
    return make_error("window " + stem_path(w.micro) + " has " + std::to_string(atoms.size()) +
                      " events");
  std::vector<Hash32> leaves;
  leaves.reserve(atoms.size());
  for (const auto& a : atoms) leaves.push_back(merkle::leaf_hash(a));
  EventProof p;
  p.atom = atoms[leaf_index];
  auto ev = capture::decode_event_atom(p.atom);
  if (!ev.ok()) return ev.error();
  p.seq = ev->seq;
  p.leaf_index = leaf_index;
  p.leaf_count = atoms.size();
  p.event_path = TreeLevels(leaves).path(leaf_index);
  p.micro = w.micro_bytes;
  auto sig = pack.files.find(std::string(kPackStoreDir) + micro_sig_path(w.micro));
  if (sig == pack.files.end()) return make_error(micro_sig_path(w.micro) + ": not in the pack");
  p.micro_sig = sig->second;
  p.log_index = w.log_index;
  p.log_size = opened.newest_size;
  p.log_path = w.log_path;
  p.checkpoint = opened.newest_checkpoint;
  p.store = pack.files.at(std::string(kPackStoreDir) + kStoreFile);
  auto keys = pack.files.find(std::string(kPackStoreDir) + kKeysFile);
  if (keys == pack.files.end()) return make_error(std::string(kKeysFile) + ": not in the pack");
  p.keys = keys->second;
  return p;
}

}  // namespace ritma::seal
