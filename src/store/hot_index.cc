// The hot index on SQLite: schema, batched appends through prepared statements, queries.
#include "store/hot_index.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/bytes.h"
#include "core/unique_fd.h"
#include "store/sqlite_handles.h"

namespace ritma::store {
namespace {


// Version 1. Each statement is one element; they run in order inside one transaction.
//
// Every event row keeps its own actor fields (pid, actor, container, ...), but the indexes for
// "which process" questions live on a small `contexts` table: one row per (actor, cgroup,
// container) the writer has seen, with `events.ctx` pointing to it. One scattered index on
// events(ctx, wall_ns) then answers pid, actor and container queries, where an index per
// column would cost one random B-tree insert each per event (measured: the pid and actor
// indexes together halved the insert rate). Paths work the same way: `paths` holds each
// distinct path once, and events(path_id, wall_ns) is indexed instead of the long path text,
// so a batch dirties far fewer index pages (measured: 1.2x the insert rate with 5,000
// distinct paths).
//
// Strings that are empty are stored as NULL and integers that are zero as 0 (SQLite keeps
// both in the record header alone), so the rows stay thin.
constexpr const char* kSchemaV1[] = {
    R"(CREATE TABLE runs (
  run_id INTEGER PRIMARY KEY,
  boot_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  started_wall_ns INTEGER NOT NULL,
  sensor_version TEXT NOT NULL,
  config_digest TEXT NOT NULL,
  ended_wall_ns INTEGER,
  end_reason TEXT
))",
    R"(CREATE TABLE contexts (
  ctx INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  actor BLOB NOT NULL,
  pid INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  cgroup_id INTEGER NOT NULL,
  container_id TEXT
))",
    "CREATE INDEX contexts_pid ON contexts(pid)",
    "CREATE INDEX contexts_actor ON contexts(actor)",
    "CREATE INDEX contexts_container ON contexts(container_id) WHERE container_id IS NOT NULL",
    R"(CREATE TABLE paths (
  path_id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE
))",
    R"(CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  wall_ns INTEGER NOT NULL,
  mono_ns INTEGER NOT NULL,
  type INTEGER NOT NULL,
  op INTEGER NOT NULL,
  name TEXT NOT NULL,
  ctx INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  tid INTEGER NOT NULL,
  ppid INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  euid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  actor BLOB NOT NULL,
  start_ns INTEGER NOT NULL,
  comm TEXT,
  exe TEXT,
  cgroup_id INTEGER NOT NULL,
  container_id TEXT,
  unit TEXT,
  path TEXT,
  path_id INTEGER,
  path2 TEXT,
  addr TEXT,
  result INTEGER NOT NULL,
  argv TEXT,
  dns_name TEXT,
  count INTEGER NOT NULL,
  extra TEXT
))",
    "CREATE UNIQUE INDEX events_run_seq ON events(run_id, seq)",
    "CREATE INDEX events_time ON events(wall_ns, seq)",
    "CREATE INDEX events_ctx ON events(ctx, wall_ns)",
    "CREATE INDEX events_name ON events(name, wall_ns)",
    "CREATE INDEX events_path ON events(path_id, wall_ns) WHERE path_id IS NOT NULL",
};

constexpr const char* kInsertEvent =
    "INSERT INTO events(run_id, seq, wall_ns, mono_ns, type, op, name, pid, tid, ppid, uid, euid,"
    " gid, actor, start_ns, comm, exe, cgroup_id, container_id, unit, path, path2, addr, result,"
    " argv, dns_name, count, extra, ctx, path_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
    " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,"
    " ?28, ?29, ?30)";

constexpr const char* kInsertContext =
    "INSERT INTO contexts(run_id, actor, pid, start_ns, cgroup_id, container_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

constexpr const char* kSelectPath = "SELECT path_id FROM paths WHERE path = ?1";
constexpr const char* kInsertPath = "INSERT INTO paths(path) VALUES (?1)";

// Contexts (and paths) the writer remembers (beyond this it forgets them all and starts again; a
// context seen again then gets a second row, which queries handle like any other).
constexpr size_t kMaxCachedContexts = 1 << 18;
constexpr size_t kMaxCachedPaths = 1 << 18;

// Columns read back by query(), in this order.
constexpr const char* kEventColumns =
    "seq, wall_ns, mono_ns, type, op, pid, tid, ppid, uid, euid, gid, actor, start_ns, comm, exe,"
    " cgroup_id, container_id, unit, path, path2, addr, result, argv, dns_name, count, extra";

constexpr const char* kRunColumns =
    "run_id, boot_id, node_id, started_wall_ns, sensor_version, config_digest, ended_wall_ns,"
    " end_reason";

std::string errmsg(sqlite3* db, int rc) {
  const char* m = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return std::string(m != nullptr ? m : sqlite3_errstr(rc));
}

// An error about the index at `path`, with advice for the failures a person can act on.
Error db_error(const std::filesystem::path& path, sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const std::string p = path.string();
  if (primary == SQLITE_NOTADB) {
    return make_error(p +
                      " is not a Ritma hot index (not a SQLite database, or its header is "
                      "damaged); move it aside and the sensor will create a new one");
  }
  if (primary == SQLITE_CORRUPT) {
    return make_error("hot index " + p + " is corrupt (" + errmsg(db, rc) +
                      "); move it aside and the sensor will create a new one — the sealed "
                      "evidence in RITMA_OUT is not affected");
  }
  if (primary == SQLITE_CANTOPEN) {
    return make_error("cannot open hot index " + p + " (" + errmsg(db, rc) +
                      "); a reader needs read access to the file, its -wal and -shm files, "
                      "and search access to the directory");
  }
  if (primary == SQLITE_READONLY) {
    return make_error("hot index " + p + ": " + std::string(what) + ": " + errmsg(db, rc) +
                      "; a user without write access to its directory can read it only while "
                      "its -wal and -shm files exist (the sensor keeps them), and the sensor "
                      "needs write access to the file and the directory");
  }
  if (primary == SQLITE_BUSY) {
    return make_error("hot index " + p + " is locked by another process (" + std::string(what) +
                      "); there must be one writer");
  }
  return make_error("hot index " + p + ": " + std::string(what) + ": " + errmsg(db, rc));
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v, int& rc) {
  // SQLITE_STATIC: every bound buffer outlives the step that reads it.
  rc |= v.empty() ? sqlite3_bind_null(s, i)
                  : sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_text_not_null(sqlite3_stmt* s, int i, std::string_view v, int& rc) {
  rc |=
      sqlite3_bind_text(s, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_i64(sqlite3_stmt* s, int i, int64_t v, int& rc) {
  rc |= sqlite3_bind_int64(s, i, v);
}
void bind_u64(sqlite3_stmt* s, int i, uint64_t v, int& rc) {
  rc |= sqlite3_bind_int64(s, i, static_cast<int64_t>(v));  // stored as its bit pattern
}

std::string_view column_text(sqlite3_stmt* s, int i) {
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  if (t == nullptr) return {};
  return std::string_view(t, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}
int64_t column_i64(sqlite3_stmt* s, int i) {
  return sqlite3_column_int64(s, i);
}
uint64_t column_u64(sqlite3_stmt* s, int i) {
  return static_cast<uint64_t>(sqlite3_column_int64(s, i));
}
uint32_t column_u32(sqlite3_stmt* s, int i) {
  return static_cast<uint32_t>(sqlite3_column_int64(s, i));
}

// Appends `s` as a JSON string. Invalid UTF-8 bytes become U+FFFD, so the text is always
// valid JSON. Hand-written rather than nlohmann::json because it runs for every exec event on
// the sensor's hot path, where building a json value per argument would allocate.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = b[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: its length and the allowed range of its second byte
    // (RFC 3629 §4), which excludes overlong forms and surrogates.
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    }
    bool valid = len != 0 && i + len <= n && b[i + 1] >= lo && b[i + 1] <= hi;
    for (size_t k = 2; valid && k < len; ++k) valid = b[i + k] >= 0x80 && b[i + k] <= 0xbf;
    if (valid) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  out += '"';
}

void append_json_u64(std::string& out, std::string_view key, uint64_t v) {
  if (v == 0) return;
  out += out.size() > 1 ? ",\"" : "\"";
  out += key;
  out += "\":";
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Inverse of NetAddress::to_string(); leaves family 0 when the text is not one of its forms.
capture::NetAddress parse_net_address(std::string_view text) {
  capture::NetAddress a;
  if (text.empty()) return a;
  if (text.rfind("unix:", 0) == 0) {
    a.family = AF_UNIX;
    a.unix_path = std::string(text.substr(5));
    return a;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return a;
  unsigned port = 0;
  const std::string_view port_text = text.substr(colon + 1);
  const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || port > 65535) {
    return a;
  }
  std::string host(text.substr(0, colon));
  int family = AF_INET;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    family = AF_INET6;
  }
  if (inet_pton(family, host.c_str(), a.ip.data()) != 1) return a;
  a.family = static_cast<uint16_t>(family);
  a.port = static_cast<uint16_t>(port);
  return a;
}

void parse_argv(std::string_view text, std::vector<std::string>& out) {
  if (text.empty()) return;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return;
  for (const auto& v : j) out.push_back(v.is_string() ? v.get<std::string>() : std::string());
}

void parse_extra(std::string_view text, capture::Event& e) {
  if (text.empty()) return;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  auto get = [&j](const char* key) -> uint64_t {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
  };
  e.arg0 = get("arg0");
  e.arg1 = get("arg1");
  e.arg2 = get("arg2");
  e.arg3 = get("arg3");
  e.flags = static_cast<uint32_t>(get("flags"));
  e.dns_type = static_cast<uint16_t>(get("dns_type"));
  e.egid = static_cast<uint32_t>(get("egid"));
  e.mntns = static_cast<uint32_t>(get("mntns"));
  e.pidns = static_cast<uint32_t>(get("pidns"));
  e.netns = static_cast<uint32_t>(get("netns"));
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The blob range [lo, hi) of actor ids that start with the hex digits `h`; hi is unset when
// the range is unbounded above.
Result<std::pair<std::string, std::optional<std::string>>> actor_range(const std::string& h) {
  if (h.empty() || h.size() > 32 || !is_hex(h)) {
    return make_error("actor must be 1 to 32 hex digits, got \"" + h + "\"");
  }
  // An odd number of digits leaves a half byte: [h0, hf] covers every id with prefix h.
  const bool odd = h.size() % 2 != 0;
  RITMA_ASSIGN_OR_RETURN(Bytes lo, from_hex(odd ? h + "0" : h));
  RITMA_ASSIGN_OR_RETURN(Bytes top, from_hex(odd ? h + "f" : h));
  return std::make_pair(std::string(as_chars(lo)), prefix_successor(as_chars(top)));
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A value bound into a dynamically built query.
struct QueryParam {
  enum Kind { kInt, kText, kBlob } kind = kInt;
  int64_t i = 0;
  std::string s;
};

}  // namespace

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(s.back());
    if (last != 0xff) {
      ++last;
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

struct HotIndex::Impl {
  std::filesystem::path path;
  DbPtr db;  // declared before the statements, so destroyed after them
  StmtPtr begin;
  StmtPtr commit;
  StmtPtr rollback;
  StmtPtr insert_event;
  StmtPtr insert_context;
  StmtPtr select_path;
  StmtPtr insert_path;
  StmtPtr insert_run;
  StmtPtr update_run;
  StmtPtr select_last_run;
  std::optional<int64_t> current_run;
  // (actor, cgroup id, container id) -> contexts.ctx, for the current run.
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> contexts;
  std::string context_key;
  // path -> paths.path_id.
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> paths;

  // Forgets cached ids, after a rollback removed rows they point to.
  void forget_cached_ids() {
    contexts.clear();
    paths.clear();
  }
  // Reused per-row buffers (bound with SQLITE_STATIC).
  std::string argv_json;
  std::string extra_json;
  std::string addr_text;

  Error error(int rc, std::string_view what) const { return db_error(path, db.get(), rc, what); }

  Result<StmtPtr> prepare(std::string_view sql, bool persistent = false) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                      persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, nullptr);
    if (rc != SQLITE_OK) return error(rc, "preparing a statement");
    return StmtPtr(s);
  }

  // Runs SQL that returns no rows we need.
  Status exec(const char* sql, std::string_view what) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(db.get(), sql, nullptr, nullptr, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) return error(rc, what);
    return {};
  }

  Status step_done(sqlite3_stmt* s, std::string_view what) {
    StmtReset reset(s);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(rc, what);
    return {};
  }

  // Runs a one-row, one-column integer query (a PRAGMA or an aggregate).
  Result<std::optional<int64_t>> query_int(const char* sql, std::string_view what) {
    RITMA_ASSIGN_OR_RETURN(StmtPtr s, prepare(sql));
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return std::optional<int64_t>();
    if (rc != SQLITE_ROW) return error(rc, what);
    if (sqlite3_column_type(s.get(), 0) == SQLITE_NULL) return std::optional<int64_t>();
    return std::optional<int64_t>(sqlite3_column_int64(s.get(), 0));
  }

  Result<int64_t> pragma_int(const char* sql) {
    RITMA_ASSIGN_OR_RETURN(auto v, query_int(sql, sql));
    return v.value_or(0);
  }

  // Checks application_id and user_version. Returns the version (0 for an empty database).
  Result<int> check_header() {
    RITMA_ASSIGN_OR_RETURN(const int64_t app, pragma_int("PRAGMA application_id"));
    RITMA_ASSIGN_OR_RETURN(const int64_t version, pragma_int("PRAGMA user_version"));
    const std::string p = path.string();
    if (app != 0 && app != kHotIndexApplicationId) {
      return make_error(p + " is a SQLite database of another application (application_id " +
                        std::to_string(app) + "), not a Ritma hot index");
    }
    if (version > kHotIndexSchemaVersion) {
      return make_error("hot index " + p + " has schema version " + std::to_string(version) +
                        ", newer than this build understands (" +
                        std::to_string(kHotIndexSchemaVersion) +
                        "); use a newer ritma, or move the file aside");
    }
    if (version == 0 && app == kHotIndexApplicationId) {
      return make_error("hot index " + p + " has application_id but no schema version");
    }
    if (version != 0 && app == 0) {
      return make_error(p + " is a SQLite database of another application (user_version " +
                        std::to_string(version) + ", no Ritma application_id)");
    }
    return static_cast<int>(version);
  }

  Status create_schema() {
    RITMA_TRY(exec("BEGIN IMMEDIATE", "starting schema creation"));
    auto undo = [this](Error e) -> Status {
      (void)exec("ROLLBACK", "rollback");
      return e;
    };
    // Re-checked inside the write transaction: another writer may have created it meanwhile.
    auto version = check_header();
    if (!version) return undo(version.error());
    if (*version == kHotIndexSchemaVersion) return exec("COMMIT", "commit");
    auto tables = query_int("SELECT count(*) FROM sqlite_schema", "reading the schema");
    if (!tables) return undo(tables.error());
    if (tables->value_or(0) != 0) {
      return undo(make_error(path.string() +
                             " is a SQLite database with other tables, not a Ritma hot index"));
    }
    for (const char* sql : kSchemaV1) {
      if (auto s = exec(sql, "creating the schema"); !s) return undo(s.error());
    }
    const std::string tag = "PRAGMA application_id=" + std::to_string(kHotIndexApplicationId) +
                            "; PRAGMA user_version=" + std::to_string(kHotIndexSchemaVersion);
    if (auto s = exec(tag.c_str(), "tagging the schema"); !s) return undo(s.error());
    return exec("COMMIT", "committing the schema");
  }

  // The context row of `e`, created (inside the caller's transaction) on first sight.
  Result<int64_t> context_of(const capture::Event& e, int64_t run_id) {
    context_key.assign(reinterpret_cast<const char*>(e.actor.data()), e.actor.size());
    context_key.append(reinterpret_cast<const char*>(&e.cgroup_id), sizeof e.cgroup_id);
    context_key.append(e.container_id);
    if (auto it = contexts.find(std::string_view(context_key)); it != contexts.end()) {
      return it->second;
    }
    sqlite3_stmt* s = insert_context.get();
    int rc = 0;
    bind_i64(s, 1, run_id, rc);
    rc |= sqlite3_bind_blob(s, 2, e.actor.data(), static_cast<int>(e.actor.size()), SQLITE_STATIC);
    bind_i64(s, 3, e.pid, rc);
    bind_u64(s, 4, e.start_ns, rc);
    bind_u64(s, 5, e.cgroup_id, rc);
    bind_text(s, 6, e.container_id, rc);
    if (rc != SQLITE_OK) return error(rc, "binding a context");
    RITMA_TRY(step_done(s, "inserting a context"));
    const int64_t ctx = sqlite3_last_insert_rowid(db.get());
    if (contexts.size() >= kMaxCachedContexts) contexts.clear();
    contexts.emplace(context_key, ctx);
    return ctx;
  }

  // The paths row of a non-empty path, created on first sight.
  Result<int64_t> path_id_of(const std::string& p) {
    if (auto it = paths.find(std::string_view(p)); it != paths.end()) return it->second;
    int64_t id = 0;
    {
      sqlite3_stmt* s = select_path.get();
      StmtReset reset(s);
      int rc = 0;
      bind_text(s, 1, p, rc);
      if (rc != SQLITE_OK) return error(rc, "binding a path");
      rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
      } else if (rc != SQLITE_DONE) {
        return error(rc, "looking up a path");
      }
    }
    if (id == 0) {
      sqlite3_stmt* s = insert_path.get();
      int rc = 0;
      bind_text(s, 1, p, rc);
      if (rc != SQLITE_OK) return error(rc, "binding a path");
      RITMA_TRY(step_done(s, "inserting a path"));
      id = sqlite3_last_insert_rowid(db.get());
    }
    if (paths.size() >= kMaxCachedPaths) paths.clear();
    paths.emplace(p, id);
    return id;
  }

  Status insert(const capture::Event& e, int64_t run_id) {
    RITMA_ASSIGN_OR_RETURN(const int64_t ctx, context_of(e, run_id));
    int64_t path_id = 0;
    if (!e.path.empty()) {
      RITMA_ASSIGN_OR_RETURN(path_id, path_id_of(e.path));
    }
    sqlite3_stmt* s = insert_event.get();
    int rc = 0;
    bind_i64(s, 1, run_id, rc);
    bind_u64(s, 2, e.seq, rc);
    bind_i64(s, 3, e.wall_ns, rc);
    bind_u64(s, 4, e.mono_ns, rc);
    bind_i64(s, 5, static_cast<int64_t>(e.type), rc);
    bind_i64(s, 6, e.op, rc);
    bind_text(s, 7, capture::event_name(e.type, e.op), rc);  // a string literal
    bind_i64(s, 8, e.pid, rc);
    bind_i64(s, 9, e.tid, rc);
    bind_i64(s, 10, e.ppid, rc);
    bind_i64(s, 11, e.uid, rc);
    bind_i64(s, 12, e.euid, rc);
    bind_i64(s, 13, e.gid, rc);
    rc |= sqlite3_bind_blob(s, 14, e.actor.data(), static_cast<int>(e.actor.size()), SQLITE_STATIC);
    bind_u64(s, 15, e.start_ns, rc);
    bind_text(s, 16, e.comm, rc);
    bind_text(s, 17, e.exe, rc);
    bind_u64(s, 18, e.cgroup_id, rc);
    bind_text(s, 19, e.container_id, rc);
    bind_text(s, 20, e.unit, rc);
    bind_text(s, 21, e.path, rc);
    bind_text(s, 22, e.path2, rc);
    if (e.addr.family != 0) {
      addr_text = e.addr.to_string();
      bind_text(s, 23, addr_text, rc);
    } else {
      rc |= sqlite3_bind_null(s, 23);
    }
    bind_i64(s, 24, e.result, rc);
    argv_json.clear();
    if (!e.argv.empty()) {
      argv_json += '[';
      for (size_t i = 0; i < e.argv.size(); ++i) {
        if (i != 0) argv_json += ',';
        append_json_string(argv_json, e.argv[i]);
      }
      argv_json += ']';
    }
    bind_text(s, 25, argv_json, rc);
    bind_text(s, 26, e.dns_name, rc);
    bind_u64(s, 27, e.count, rc);
    extra_json.assign("{");
    append_json_u64(extra_json, "arg0", e.arg0);
    append_json_u64(extra_json, "arg1", e.arg1);
    append_json_u64(extra_json, "arg2", e.arg2);
    append_json_u64(extra_json, "arg3", e.arg3);
    append_json_u64(extra_json, "flags", e.flags);
    append_json_u64(extra_json, "dns_type", e.dns_type);
    append_json_u64(extra_json, "egid", e.egid);
    append_json_u64(extra_json, "mntns", e.mntns);
    append_json_u64(extra_json, "pidns", e.pidns);
    append_json_u64(extra_json, "netns", e.netns);
    if (extra_json.size() == 1) {
      extra_json.clear();
    } else {
      extra_json += '}';
    }
    bind_text(s, 28, extra_json, rc);
    bind_i64(s, 29, ctx, rc);
    rc |= path_id != 0 ? sqlite3_bind_int64(s, 30, path_id) : sqlite3_bind_null(s, 30);
    if (rc != SQLITE_OK) return error(rc, "binding an event");

    StmtReset reset(s);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return {};
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      return make_error("hot index " + path.string() + ": event seq " + std::to_string(e.seq) +
                        " of run " + std::to_string(run_id) + " is already in the index");
    }
    return error(rc, "inserting an event");
  }
};

HotIndex::HotIndex(std::unique_ptr<Impl> impl, std::filesystem::path path, bool writable)
    : impl_(std::move(impl)), path_(std::move(path)), writable_(writable) {}
HotIndex::HotIndex(HotIndex&&) noexcept = default;
HotIndex& HotIndex::operator=(HotIndex&&) noexcept = default;
HotIndex::~HotIndex() = default;

Result<HotIndex> HotIndex::open_writer(const std::filesystem::path& path) {
  return open_writer(path, WriterOptions{});
}

Result<HotIndex> HotIndex::open_writer(const std::filesystem::path& path,
                                       const WriterOptions& options) {
  // Create the file ourselves so its mode is exactly file_mode (SQLite would apply the umask);
  // SQLite gives the -wal and -shm files the database file's mode.
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.file_mode));
    if (fd.valid()) {
      if (::fchmod(fd.get(), options.file_mode) != 0) {
        return make_error("cannot set mode of " + path.string() + ": " + std::strerror(errno));
      }
    } else if (errno != EEXIST) {
      return make_error("cannot create hot index " + path.string() + ": " + std::strerror(errno));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) return impl->error(rc, "opening for writing");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  RITMA_ASSIGN_OR_RETURN(const int version, impl->check_header());
  if (version == 0) {
    // Page size can only be chosen before the first table exists and before WAL mode.
    RITMA_TRY(impl->exec("PRAGMA page_size=8192", "setting the page size"));
  }
  // journal_mode returns the mode in effect; anything but "wal" means WAL is unavailable.
  {
    RITMA_ASSIGN_OR_RETURN(StmtPtr s, impl->prepare("PRAGMA journal_mode=WAL"));
    rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return impl->error(rc, "switching to WAL mode");
    const std::string mode = lower(column_text(s.get(), 0));
    if (mode != "wal") {
      return make_error("hot index " + path.string() + ": cannot use WAL mode (journal mode is " +
                        mode + ")");
    }
  }
  const std::string pragmas =
      "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
      " PRAGMA journal_size_limit=" +
      std::to_string(options.journal_size_limit) +
      "; PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages) +
      "; PRAGMA cache_size=" + std::to_string(-static_cast<int64_t>(options.cache_kib)) + ";";
  RITMA_TRY(impl->exec(pragmas.c_str(), "setting pragmas"));
  // Keep -wal and -shm after the last close: unprivileged readers cannot create them.
  int persist = 1;
  sqlite3_file_control(raw, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);

  if (version < kHotIndexSchemaVersion) RITMA_TRY(impl->create_schema());

  RITMA_ASSIGN_OR_RETURN(impl->begin, impl->prepare("BEGIN IMMEDIATE", true));
  RITMA_ASSIGN_OR_RETURN(impl->commit, impl->prepare("COMMIT", true));
  RITMA_ASSIGN_OR_RETURN(impl->rollback, impl->prepare("ROLLBACK", true));
  RITMA_ASSIGN_OR_RETURN(impl->insert_event, impl->prepare(kInsertEvent, true));
  RITMA_ASSIGN_OR_RETURN(impl->insert_context, impl->prepare(kInsertContext, true));
  RITMA_ASSIGN_OR_RETURN(impl->select_path, impl->prepare(kSelectPath, true));
  RITMA_ASSIGN_OR_RETURN(impl->insert_path, impl->prepare(kInsertPath, true));
  RITMA_ASSIGN_OR_RETURN(
      impl->insert_run,
      impl->prepare("INSERT INTO runs(boot_id, node_id, started_wall_ns, sensor_version,"
                    " config_digest) VALUES (?1, ?2, ?3, ?4, ?5)",
                    true));
  RITMA_ASSIGN_OR_RETURN(
      impl->update_run,
      impl->prepare("UPDATE runs SET ended_wall_ns = ?2, end_reason = ?3 WHERE run_id = ?1", true));
  RITMA_ASSIGN_OR_RETURN(
      impl->select_last_run,
      impl->prepare(
          std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY run_id DESC LIMIT 1", true));
  return HotIndex(std::move(impl), path, true);
}

Result<HotIndex> HotIndex::open_reader(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return make_error("cannot access hot index " + path.string() + ": " + ec.message());
    return make_error("no hot index at " + path.string());
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) return impl->error(rc, "opening for reading");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  RITMA_ASSIGN_OR_RETURN(const int version, impl->check_header());
  if (version == 0) {
    return make_error("hot index " + path.string() +
                      " has no schema yet (the sensor creates it when it starts)");
  }
  RITMA_ASSIGN_OR_RETURN(
      impl->select_last_run,
      impl->prepare(
          std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY run_id DESC LIMIT 1", true));
  return HotIndex(std::move(impl), path, false);
}

Result<int64_t> HotIndex::begin_run(const RunStart& run) {
  if (!writable_) return make_error("hot index " + path_.string() + " is open read-only");
  if (run.boot_id.empty() || !is_hex(run.boot_id)) {
    return make_error("run boot id must be hex digits, got \"" + run.boot_id + "\"");
  }
  if (!is_hex(run.config_digest)) {
    return make_error("run config digest must be hex digits, got \"" + run.config_digest + "\"");
  }
  const std::string boot = lower(run.boot_id);
  const std::string digest = lower(run.config_digest);
  sqlite3_stmt* s = impl_->insert_run.get();
  int rc = 0;
  bind_text_not_null(s, 1, boot, rc);
  bind_text_not_null(s, 2, run.node_id, rc);
  bind_i64(s, 3, run.started_wall_ns, rc);
  bind_text_not_null(s, 4, run.sensor_version, rc);
  bind_text_not_null(s, 5, digest, rc);
  if (rc != SQLITE_OK) return impl_->error(rc, "binding a run");
  RITMA_TRY(impl_->step_done(s, "recording a run"));
  const int64_t id = sqlite3_last_insert_rowid(impl_->db.get());
  impl_->current_run = id;
  impl_->forget_cached_ids();
  return id;
}

Status HotIndex::end_run(int64_t run_id, int64_t ended_wall_ns, std::string_view reason) {
  if (!writable_) return make_error("hot index " + path_.string() + " is open read-only");
  sqlite3_stmt* s = impl_->update_run.get();
  int rc = 0;
  bind_i64(s, 1, run_id, rc);
  bind_i64(s, 2, ended_wall_ns, rc);
  bind_text(s, 3, reason, rc);
  if (rc != SQLITE_OK) return impl_->error(rc, "binding a run");
  RITMA_TRY(impl_->step_done(s, "ending a run"));
  if (sqlite3_changes(impl_->db.get()) == 0) {
    return make_error("hot index " + path_.string() + " has no run " + std::to_string(run_id));
  }
  if (impl_->current_run == run_id) impl_->current_run.reset();
  return {};
}

Result<std::optional<RunRecord>> HotIndex::last_run() {
  sqlite3_stmt* s = impl_->select_last_run.get();
  StmtReset reset(s);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<RunRecord>();
  if (rc != SQLITE_ROW) return impl_->error(rc, "reading the last run");
  RunRecord r;
  r.run_id = column_i64(s, 0);
  r.boot_id = column_text(s, 1);
  r.node_id = column_text(s, 2);
  r.started_wall_ns = column_i64(s, 3);
  r.sensor_version = column_text(s, 4);
  r.config_digest = column_text(s, 5);
  if (sqlite3_column_type(s, 6) != SQLITE_NULL) r.ended_wall_ns = column_i64(s, 6);
  r.end_reason = column_text(s, 7);
  return std::optional<RunRecord>(std::move(r));
}

Result<std::vector<HotIndex::RunSeqRange>> HotIndex::run_seq_ranges() {
  // The (run_id, seq) index makes this one pass over its entries.
  RITMA_ASSIGN_OR_RETURN(
      StmtPtr st, impl_->prepare("SELECT e.run_id, min(e.seq), max(e.seq), count(*), "
                                 "r.ended_wall_ns IS NOT NULL FROM events e JOIN runs r "
                                 "ON r.run_id = e.run_id GROUP BY e.run_id ORDER BY e.run_id"));
  std::vector<RunSeqRange> out;
  for (;;) {
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return impl_->error(rc, "reading runs' sequence ranges");
    RunSeqRange r;
    r.run_id = column_i64(st.get(), 0);
    r.min_seq = column_u64(st.get(), 1);
    r.max_seq = column_u64(st.get(), 2);
    r.events = column_u64(st.get(), 3);
    r.ended = column_i64(st.get(), 4) != 0;
    out.push_back(r);
  }
  return out;
}

Status HotIndex::append(std::span<const capture::Event> events) {
  if (!writable_) return make_error("hot index " + path_.string() + " is open read-only");
  if (!impl_->current_run) {
    return make_error("hot index " + path_.string() + ": append before begin_run");
  }
  if (events.empty()) return {};
  const int64_t run_id = *impl_->current_run;
  RITMA_TRY(impl_->step_done(impl_->begin.get(), "starting a batch"));
  for (const auto& e : events) {
    if (auto s = impl_->insert(e, run_id); !s) {
      (void)impl_->step_done(impl_->rollback.get(), "rolling back a batch");
      impl_->forget_cached_ids();  // ids created in this batch were rolled back too
      return s;
    }
  }
  if (auto s = impl_->step_done(impl_->commit.get(), "committing a batch"); !s) {
    if (!sqlite3_get_autocommit(impl_->db.get())) {
      (void)impl_->step_done(impl_->rollback.get(), "rolling back a batch");
    }
    impl_->forget_cached_ids();
    return s;
  }
  return {};
}

Result<std::vector<capture::Event>> HotIndex::query(const EventQuery& q) {
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE 1";
  std::vector<QueryParam> params;
  auto add_int = [&](const char* cond, int64_t v) {
    sql += cond;
    params.push_back({QueryParam::kInt, v, {}});
  };
  if (q.from_wall_ns) add_int(" AND wall_ns >= ?", *q.from_wall_ns);
  if (q.to_wall_ns) add_int(" AND wall_ns < ?", *q.to_wall_ns);
  if (!q.names.empty()) {
    sql += " AND name IN (";
    for (size_t i = 0; i < q.names.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.push_back({QueryParam::kText, 0, q.names[i]});
    }
    sql += ")";
  }
  // Which-process filters select contexts first (events_ctx index), then are checked again on
  // each row so the result is exact whatever the contexts say.
  std::string ctx_sql;
  std::vector<QueryParam> ctx_params;
  std::string row_sql;
  std::vector<QueryParam> row_params;
  auto add_process_filter = [&](const std::string& cond, const std::vector<QueryParam>& ps) {
    ctx_sql += " AND " + cond;
    row_sql += " AND " + cond;
    ctx_params.insert(ctx_params.end(), ps.begin(), ps.end());
    row_params.insert(row_params.end(), ps.begin(), ps.end());
  };
  auto add_prefix = [&](const char* column, QueryParam::Kind kind, std::string lo,
                        std::optional<std::string> hi) {
    std::string cond = std::string(column) + " >= ?";
    std::vector<QueryParam> ps{{kind, 0, std::move(lo)}};
    if (hi) {
      cond += std::string(" AND ") + column + " < ?";
      ps.push_back({kind, 0, std::move(*hi)});
    }
    add_process_filter(cond, ps);
  };
  if (q.pid) add_process_filter("pid = ?", {{QueryParam::kInt, *q.pid, {}}});
  if (q.start_ns) {
    add_process_filter("start_ns = ?", {{QueryParam::kInt, static_cast<int64_t>(*q.start_ns), {}}});
  }
  if (!q.actor_hex_prefix.empty()) {
    RITMA_ASSIGN_OR_RETURN(auto range, actor_range(q.actor_hex_prefix));
    add_prefix("actor", QueryParam::kBlob, std::move(range.first), std::move(range.second));
  }
  if (!q.container_prefix.empty()) {
    add_prefix("container_id", QueryParam::kText, q.container_prefix,
               prefix_successor(q.container_prefix));
  }
  if (!ctx_sql.empty()) {
    sql += " AND ctx IN (SELECT ctx FROM contexts WHERE 1" + ctx_sql + ")" + row_sql;
    params.insert(params.end(), ctx_params.begin(), ctx_params.end());
    params.insert(params.end(), row_params.begin(), row_params.end());
  }
  if (!q.path_prefix.empty()) {
    // Distinct paths first (paths' unique index), then their events (events_path).
    const auto hi = prefix_successor(q.path_prefix);
    const std::string range = hi ? "path >= ? AND path < ?" : "path >= ?";
    sql += " AND path_id IN (SELECT path_id FROM paths WHERE " + range + ") AND " + range;
    for (int i = 0; i < 2; ++i) {
      params.push_back({QueryParam::kText, 0, q.path_prefix});
      if (hi) params.push_back({QueryParam::kText, 0, *hi});
    }
  }
  sql +=
      q.newest_first ? " ORDER BY wall_ns DESC, seq DESC, id DESC" : " ORDER BY wall_ns, seq, id";
  if (q.limit != 0) {
    sql += " LIMIT ?";
    params.push_back({QueryParam::kInt, static_cast<int64_t>(q.limit), {}});
  }

  RITMA_ASSIGN_OR_RETURN(StmtPtr stmt, impl_->prepare(sql));
  sqlite3_stmt* s = stmt.get();
  int rc = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const int n = static_cast<int>(i + 1);
    const QueryParam& p = params[i];
    switch (p.kind) {
      case QueryParam::kInt:
        rc |= sqlite3_bind_int64(s, n, p.i);
        break;
      case QueryParam::kText:
        rc |= sqlite3_bind_text(s, n, p.s.data(), static_cast<int>(p.s.size()), SQLITE_STATIC);
        break;
      case QueryParam::kBlob:
        rc |= sqlite3_bind_blob(s, n, p.s.data(), static_cast<int>(p.s.size()), SQLITE_STATIC);
        break;
    }
  }
  if (rc != SQLITE_OK) return impl_->error(rc, "binding a query");

  std::vector<capture::Event> out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    capture::Event e;
    e.seq = column_u64(s, 0);
    e.wall_ns = column_i64(s, 1);
    e.mono_ns = column_u64(s, 2);
    e.type = static_cast<capture::EventType>(column_i64(s, 3));
    e.op = static_cast<uint16_t>(column_i64(s, 4));
    e.pid = column_u32(s, 5);
    e.tid = column_u32(s, 6);
    e.ppid = column_u32(s, 7);
    e.uid = column_u32(s, 8);
    e.euid = column_u32(s, 9);
    e.gid = column_u32(s, 10);
    const void* actor = sqlite3_column_blob(s, 11);
    if (actor != nullptr && sqlite3_column_bytes(s, 11) == static_cast<int>(e.actor.size())) {
      std::memcpy(e.actor.data(), actor, e.actor.size());
    }
    e.start_ns = column_u64(s, 12);
    e.comm = column_text(s, 13);
    e.exe = column_text(s, 14);
    e.cgroup_id = column_u64(s, 15);
    e.container_id = column_text(s, 16);
    e.unit = column_text(s, 17);
    e.path = column_text(s, 18);
    e.path2 = column_text(s, 19);
    e.addr = parse_net_address(column_text(s, 20));
    e.result = column_i64(s, 21);
    parse_argv(column_text(s, 22), e.argv);
    e.dns_name = column_text(s, 23);
    e.count = column_u64(s, 24);
    parse_extra(column_text(s, 25), e);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return impl_->error(rc, "querying events");
  return out;
}

Result<std::vector<capture::ActorId>> HotIndex::find_actors(std::string_view hex_prefix,
                                                            size_t limit) {
  RITMA_ASSIGN_OR_RETURN(auto range, actor_range(std::string(hex_prefix)));
  std::string sql = "SELECT actor, max(ctx) AS last FROM contexts WHERE actor >= ?1";
  if (range.second) sql += " AND actor < ?2";
  sql += " GROUP BY actor ORDER BY last DESC LIMIT ?3";
  RITMA_ASSIGN_OR_RETURN(StmtPtr stmt, impl_->prepare(sql));
  sqlite3_stmt* s = stmt.get();
  int rc = sqlite3_bind_blob(s, 1, range.first.data(), static_cast<int>(range.first.size()),
                             SQLITE_STATIC);
  if (range.second) {
    rc |= sqlite3_bind_blob(s, 2, range.second->data(), static_cast<int>(range.second->size()),
                            SQLITE_STATIC);
  }
  rc |= sqlite3_bind_int64(s, 3, limit == 0 ? -1 : static_cast<int64_t>(limit));
  if (rc != SQLITE_OK) return impl_->error(rc, "binding a query");
  std::vector<capture::ActorId> out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    capture::ActorId a{};
    if (sqlite3_column_bytes(s, 0) == static_cast<int>(a.size())) {
      std::memcpy(a.data(), sqlite3_column_blob(s, 0), a.size());
      out.push_back(a);
    }
  }
  if (rc != SQLITE_DONE) return impl_->error(rc, "finding actors");
  return out;
}

Result<HotIndexStats> HotIndex::stats() {
  HotIndexStats st;
  // One read transaction, so the figures describe one snapshot.
  RITMA_TRY(impl_->exec("BEGIN", "starting a read"));
  auto read = [&]() -> Status {
    RITMA_ASSIGN_OR_RETURN(auto rows, impl_->query_int("SELECT count(*) FROM events", "counting"));
    st.rows = rows.value_or(0);
    RITMA_ASSIGN_OR_RETURN(st.min_wall_ns,
                           impl_->query_int("SELECT min(wall_ns) FROM events", "reading stats"));
    RITMA_ASSIGN_OR_RETURN(st.max_wall_ns,
                           impl_->query_int("SELECT max(wall_ns) FROM events", "reading stats"));
    RITMA_ASSIGN_OR_RETURN(
        StmtPtr last, impl_->prepare("SELECT run_id, seq FROM events ORDER BY id DESC LIMIT 1"));
    const int rc = sqlite3_step(last.get());
    if (rc == SQLITE_ROW) {
      st.last_run_id = column_i64(last.get(), 0);
      st.last_seq = column_u64(last.get(), 1);
    } else if (rc != SQLITE_DONE) {
      return impl_->error(rc, "reading stats");
    }
    RITMA_ASSIGN_OR_RETURN(const int64_t pages, impl_->pragma_int("PRAGMA page_count"));
    RITMA_ASSIGN_OR_RETURN(const int64_t page_size, impl_->pragma_int("PRAGMA page_size"));
    st.db_bytes = pages * page_size;
    return {};
  };
  const Status s = read();
  (void)impl_->exec("COMMIT", "ending a read");
  if (!s) return s.error();
  struct stat wal;
  if (::stat((path_.string() + "-wal").c_str(), &wal) == 0) st.wal_bytes = wal.st_size;
  return st;
}

}  // namespace ritma::store
