// `ritma events` and `ritma tree`: questions to the hot index, answered as an aligned table
// for people or as JSON for programs.
#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "capture/event.h"
#include "cli/commands.h"
#include "cli/event_json.h"
#include "cli/siem_format.h"
#include "cli/time_text.h"
#include "core/bytes.h"
#include "seal/sealed_reader.h"
#include "store/hot_index.h"
#include "store/store_layout.h"

namespace ritma::cli {
namespace {

using capture::Event;
using capture::EventType;

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

[[noreturn]] void fail(const char* command, const std::string& message, int code) {
  std::cerr << "ritma " << command << ": " << message << "\n";
  throw CLI::RuntimeError(code);
}

// ---- Time ------------------------------------------------------------------------------------

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Local time in RFC 3339 with milliseconds: 2026-11-22T04:12:00.123+01:00 (Z when UTC).
std::string format_local_time(int64_t wall_ns) {
  const int64_t secs = floor_div(wall_ns, 1000000000LL);
  const int64_t ms = (wall_ns - secs * 1000000000LL) / 1000000;
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  if (localtime_r(&t, &tm) == nullptr) return std::to_string(wall_ns);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char tail[64];
  const int millis = static_cast<int>(ms);  // 0..999
  const long off = tm.tm_gmtoff;
  if (off == 0) {
    std::snprintf(tail, sizeof tail, ".%03dZ", millis);
  } else {
    const int a = static_cast<int>((off < 0 ? -off : off) % 86400);
    std::snprintf(tail, sizeof tail, ".%03d%c%02d:%02d", millis, off < 0 ? '-' : '+', a / 3600,
                  (a % 3600) / 60);
  }
  return out + tail;
}

// ---- Text ------------------------------------------------------------------------------------

// `s` made safe for a terminal: control characters, C1 controls and bytes that are not valid
// UTF-8 become \xNN, so hostile argv or paths cannot move the cursor or change colours.
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  };
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = b[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f || c == '\\') {
        if (c == '\\') {
          out += "\\\\";
        } else {
          escape(c);
        }
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (b[i + k] & 0xc0) == 0x80;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    ok = ok && cp >= min_cp && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
         !(cp >= 0x80 && cp <= 0x9f);
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      escape(c);
      ++i;
    }
  }
  return out;
}

// An argument as a shell would need it quoted to read it back.
std::string quote_arg(std::string_view a) {
  const std::string p = printable(a);
  if (!p.empty() && p.find_first_of(" \t'\"$`") == std::string::npos) return p;
  std::string out = "'";
  for (char c : p) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string errno_name(int64_t negative_result) {
  const int64_t e = -negative_result;
  if (e > 0 && e < 4096) {
    if (const char* name = strerrorname_np(static_cast<int>(e))) return name;
  }
  return "errno " + std::to_string(e);
}

std::string signal_name(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

// task->exit_code of an exit event: (status << 8) | signal, 0x80 set for a core dump.
std::string exit_summary(int64_t code) {
  const int sig = static_cast<int>(code & 0x7f);
  if (sig == 0) return "exit " + std::to_string((code >> 8) & 0xff);
  std::string s = "killed by " + signal_name(sig);
  if (code & 0x80) s += " (core dumped)";
  return s;
}

std::string open_flags(uint64_t flags) {
  std::string out;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      out = "O_RDONLY";
      break;
    case O_WRONLY:
      out = "O_WRONLY";
      break;
    case O_RDWR:
      out = "O_RDWR";
      break;
    default:
      out = "O_ACCMODE";
      break;
  }
  uint64_t rest = flags & ~static_cast<uint64_t>(O_ACCMODE);
  struct Named {
    uint64_t bits;
    const char* name;
  };
  // Composite flags first, so O_TMPFILE is not printed as O_DIRECTORY|0x400000.
  static constexpr Named kFlags[] = {
      {O_TMPFILE, "O_TMPFILE"},     {O_SYNC, "O_SYNC"},         {O_CREAT, "O_CREAT"},
      {O_EXCL, "O_EXCL"},           {O_NOCTTY, "O_NOCTTY"},     {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},       {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"},
      {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_CLOEXEC, "O_CLOEXEC"},
      {O_PATH, "O_PATH"},           {O_DIRECT, "O_DIRECT"},     {O_NOATIME, "O_NOATIME"},
      {O_LARGEFILE, "O_LARGEFILE"},
  };
  for (const auto& f : kFlags) {
    if (f.bits != 0 && (rest & f.bits) == f.bits) {
      out += "|";
      out += f.name;
      rest &= ~f.bits;
    }
  }
  if (rest != 0) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "|0x%" PRIx64, rest);
    out += hex;
  }
  return out;
}

std::string octal(uint64_t mode) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0%" PRIo64, mode);
  return buf;
}

std::string argv_line(const Event& e) {
  std::string out;
  for (const auto& a : e.argv) {
    if (!out.empty()) out += ' ';
    out += quote_arg(a);
  }
  if (out.empty()) out = printable(e.path);
  if (e.flags & RITMA_F_ARGV_TRUNCATED) out += " [argv truncated]";
  return out;
}

// The SUMMARY column: what the event did, in a few words.
std::string summary(const Event& e) {
  std::string s;
  const std::string_view name = capture::event_name(e.type, e.op);
  switch (e.type) {
    case EventType::kExec:
      s = argv_line(e);
      break;
    case EventType::kFork:
      s = e.arg0 == e.pid ? "thread " + std::to_string(e.tid)
                          : "child pid " + std::to_string(e.arg0);
      break;
    case EventType::kExit:
      return exit_summary(e.result);
    case EventType::kFile:
      s = printable(e.path);
      if (!e.path2.empty()) s += " -> " + printable(e.path2);
      if (e.op == RITMA_OP_OPEN) {
        s += " " + open_flags(e.arg0);
        if ((e.arg0 & O_CREAT) || (e.arg0 & O_TMPFILE) == O_TMPFILE) s += " " + octal(e.arg1);
      } else if (e.op == RITMA_OP_CHMOD || e.op == RITMA_OP_MKDIR) {
        s += " " + octal(e.arg1);
      } else if (e.op == RITMA_OP_CHOWN) {
        s += " " + std::to_string(static_cast<int32_t>(e.arg3 >> 32)) + ":" +
             std::to_string(static_cast<int32_t>(e.arg3 & 0xffffffffu));
      }
      break;
    case EventType::kNet:
      if (name == "dns") {
        s = printable(e.dns_name) + " type " + std::to_string(e.dns_type);
        if (e.addr.family != 0) s += " via " + printable(e.addr.to_string());
      } else {
        s = printable(e.addr.to_string());
        if (name == "listen")
          s += (s.empty() ? "" : " ") + std::string("backlog ") + std::to_string(e.arg1);
      }
      break;
    case EventType::kLoss:
    case EventType::kFiltered:
      s = std::to_string(e.count) + " events";
      if (!e.path.empty()) s += " (" + printable(e.path) + ")";
      break;
    default: {
      s = printable(e.path);
      if (!e.path2.empty()) s += " -> " + printable(e.path2);
      const uint64_t args[] = {e.arg0, e.arg1, e.arg2, e.arg3};
      for (int i = 0; i < 4; ++i) {
        if (args[i] != 0)
          s += (s.empty() ? "" : " ") + ("arg" + std::to_string(i)) + "=" + std::to_string(args[i]);
      }
      if (e.count != 0) s += (s.empty() ? "" : " ") + ("count=" + std::to_string(e.count));
    }
  }
  if (e.result < 0) s += (s.empty() ? "= " : " = ") + errno_name(e.result);
  return s;
}

nlohmann::json event_json(const Event& e) {
  nlohmann::json j = {
      {"seq", e.seq},
      {"time", format_local_time(e.wall_ns)},
      {"wall_ns", e.wall_ns},
      {"mono_ns", e.mono_ns},
      {"type", capture::event_name(e.type, e.op)},
      {"type_id", static_cast<int>(e.type)},
      {"op", e.op},
      {"flags", e.flags},
      {"result", e.result},
      {"pid", e.pid},
      {"tid", e.tid},
      {"ppid", e.ppid},
      {"uid", e.uid},
      {"euid", e.euid},
      {"gid", e.gid},
      {"egid", e.egid},
      {"start_ns", e.start_ns},
      {"actor", to_hex(e.actor)},
      {"comm", e.comm},
      {"exe", e.exe},
      {"cgroup_id", e.cgroup_id},
      {"container_id", e.container_id},
      {"unit", e.unit},
      {"mntns", e.mntns},
      {"pidns", e.pidns},
      {"netns", e.netns},
      {"path", e.path},
      {"path2", e.path2},
      {"argv", e.argv},
      {"arg0", e.arg0},
      {"arg1", e.arg1},
      {"arg2", e.arg2},
      {"arg3", e.arg3},
      {"addr", e.addr.to_string()},
      {"dns_name", e.dns_name},
      {"dns_type", e.dns_type},
      {"count", e.count},
  };
  j["errno"] = e.result < 0 && e.type != EventType::kExit ? nlohmann::json(errno_name(e.result))
                                                          : nlohmann::json(nullptr);
  return j;
}

// Strings in the index are bytes; JSON output replaces invalid UTF-8 rather than failing.
std::string dump(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- Shared options --------------------------------------------------------------------------

struct StoreOptions {
  std::string db;
  std::string base_dir;
};

void add_store_options(CLI::App* cmd, StoreOptions& o) {
  cmd->add_option("--db", o.db,
                  "Hot index file (default: $INDEX_DB_PATH, else $RITMA_BASE_DIR/index_db.sqlite)");
  cmd->add_option("--base-dir", o.base_dir,
                  "Store base directory (default: $RITMA_BASE_DIR or /var/lib/ritma)");
}

store::HotIndex open_index(const char* command, const StoreOptions& o) {
  std::filesystem::path db;
  std::string where;
  if (!o.db.empty()) {
    db = o.db;
    where = "--db " + o.db;
  } else {
    const auto paths = store::resolve_store_paths(
        o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
    db = paths.index_db;
    const char* env_db = std::getenv("INDEX_DB_PATH");
    where = o.base_dir.empty() && env_db != nullptr && *env_db != '\0'
                ? "INDEX_DB_PATH=" + std::string(env_db)
                : "RITMA_BASE_DIR=" + paths.base_dir.string();
  }
  std::error_code ec;
  if (!std::filesystem::exists(db, ec) && !ec) {
    fail(command, "no hot index at " + db.string() + "; is ritma-sensor running? (" + where + ")",
         kExitRuntime);
  }
  auto index = store::HotIndex::open_reader(db);
  if (!index) fail(command, index.error().message, kExitRuntime);
  return std::move(index).value();
}

int64_t parse_time_or_fail(const char* command, const char* option, const std::string& text) {
  const auto t = parse_time(text);
  if (!t)
    fail(command, std::string("invalid ") + option + " \"" + text + "\": " + kTimeFormats,
         kExitUsage);
  return *t;
}

// Every name event_name() gives, in a stable order.
std::vector<std::string> known_event_names() {
  std::vector<std::string> names;
  std::set<std::string> seen;
  auto add = [&](EventType t, uint16_t op) {
    const std::string n(capture::event_name(t, op));
    if (n != "unknown" && seen.insert(n).second) names.push_back(n);
  };
  for (EventType t : {EventType::kExec, EventType::kFork, EventType::kExit}) add(t, 0);
  for (uint16_t op = 1; op < 32; ++op) add(EventType::kFile, op);
  for (uint16_t op = 32; op < 64; ++op) add(EventType::kNet, op);
  for (uint16_t op = 64; op < 128; ++op) add(EventType::kPriv, op);
  for (EventType t : {EventType::kLoss, EventType::kFiltered, EventType::kRun, EventType::kGap}) {
    add(t, 0);
  }
  return names;
}

// `--type` values: event names, or the groups file, net and priv.
std::vector<std::string> resolve_type_names(const std::vector<std::string>& requested) {
  const auto known = known_event_names();
  std::vector<std::string> out;
  auto group = [&](EventType t, uint16_t lo, uint16_t hi) {
    for (uint16_t op = lo; op < hi; ++op) {
      const std::string n(capture::event_name(t, op));
      if (n != "unknown") out.push_back(n);
    }
  };
  for (const auto& r : requested) {
    if (r.empty()) continue;
    if (r == "file") {
      group(EventType::kFile, 1, 32);
    } else if (r == "net") {
      group(EventType::kNet, 32, 64);
    } else if (r == "priv") {
      group(EventType::kPriv, 64, 128);
    } else if (std::find(known.begin(), known.end(), r) != known.end()) {
      out.push_back(r);
    } else {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail("events",
           "unknown event type \"" + r + "\"; known types: " + list +
               " (and the groups file, net, priv)",
           kExitUsage);
    }
  }
  return out;
}

// ---- ritma events ----------------------------------------------------------------------------

struct EventsOptions {
  StoreOptions store;
  std::string since;
  std::string from;
  std::string to;
  std::vector<std::string> types;
  uint32_t pid = 0;
  CLI::Option* pid_option = nullptr;
  std::string actor;
  std::string container;
  std::string path_prefix;
  size_t limit = 1000;
  bool json = false;
  std::string format = "table";
  CLI::Option* format_option = nullptr;
  std::string source = "auto";
};

// The hot index's filters, applied to events read from the sealed store.
bool matches(const store::EventQuery& q, const Event& e) {
  if (q.from_wall_ns && e.wall_ns < *q.from_wall_ns) return false;
  if (q.to_wall_ns && e.wall_ns >= *q.to_wall_ns) return false;
  if (!q.names.empty() &&
      std::find(q.names.begin(), q.names.end(), std::string(capture::event_name(e.type, e.op))) ==
          q.names.end())
    return false;
  if (q.pid && e.pid != *q.pid) return false;
  if (q.start_ns && e.start_ns != *q.start_ns) return false;
  if (!q.actor_hex_prefix.empty()) {
    std::string want = q.actor_hex_prefix;
    std::transform(want.begin(), want.end(), want.begin(), ::tolower);
    if (to_hex(e.actor).rfind(want, 0) != 0) return false;
  }
  if (!q.container_prefix.empty() && e.container_id.rfind(q.container_prefix, 0) != 0) return false;
  if (!q.path_prefix.empty() && e.path.rfind(q.path_prefix, 0) != 0) return false;
  return true;
}

std::vector<Event> query_sealed(const StoreOptions& o, const store::EventQuery& q) {
  const auto paths = store::resolve_store_paths(
      o.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.base_dir));
  auto range = seal::read_sealed_events(paths.out_dir, q.from_wall_ns, q.to_wall_ns);
  if (!range)
    fail("events", "sealed store " + paths.out_dir.string() + ": " + range.error().message,
         kExitRuntime);
  std::vector<Event> out;
  for (auto& e : range->events)
    if (matches(q, e)) out.push_back(std::move(e));
  std::stable_sort(out.begin(), out.end(), [&](const Event& a, const Event& b) {
    return q.newest_first ? std::tie(b.wall_ns, b.seq) < std::tie(a.wall_ns, a.seq)
                          : std::tie(a.wall_ns, a.seq) < std::tie(b.wall_ns, b.seq);
  });
  if (q.limit != 0 && out.size() > q.limit) out.resize(q.limit);
  std::cerr << "ritma events: read " << range->windows_read << " sealed window(s) from "
            << paths.out_dir.string()
            << (range->used_time_index ? " (via the time index)" : " (via the window log)") << "\n";
  return out;
}

void print_table(const std::vector<Event>& events) {
  struct Row {
    std::string cells[7];
    std::string summary;
  };
  static constexpr const char* kHeader[] = {"TIME", "SEQ", "TYPE", "PID", "PPID", "UID", "COMM"};
  std::vector<Row> rows;
  rows.reserve(events.size());
  size_t width[7];
  for (int i = 0; i < 7; ++i) width[i] = std::strlen(kHeader[i]);
  for (const auto& e : events) {
    Row r{{format_local_time(e.wall_ns), std::to_string(e.seq),
           std::string(capture::event_name(e.type, e.op)), std::to_string(e.pid),
           std::to_string(e.ppid), std::to_string(e.uid), printable(e.comm)},
          summary(e)};
    for (int i = 0; i < 7; ++i) width[i] = std::max(width[i], r.cells[i].size());
    rows.push_back(std::move(r));
  }
  // Numbers align right, text left.
  static constexpr bool kRight[] = {false, true, false, true, true, true, false};
  auto line = [&](const std::string* cells, const std::string& last) {
    std::string out;
    for (int i = 0; i < 7; ++i) {
      const std::string pad(width[i] - cells[i].size(), ' ');
      out += kRight[i] ? pad + cells[i] : cells[i] + pad;
      out += "  ";
    }
    out += last;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  std::string header[7];
  for (int i = 0; i < 7; ++i) header[i] = kHeader[i];
  line(header, "SUMMARY");
  for (const auto& r : rows) line(r.cells, r.summary);
}

void run_events(const EventsOptions& o) {
  // --json is short for --format json; with any other --format it is a contradiction.
  if (o.json && o.format_option->count() != 0 && o.format != "json") {
    fail("events", "--json is --format json; it cannot be combined with --format " + o.format,
         kExitUsage);
  }
  const std::string format = o.json ? "json" : o.format;
  store::EventQuery q;
  if (!o.since.empty()) {
    const auto d = parse_duration(o.since);
    if (!d) {
      fail("events",
           "invalid --since \"" + o.since +
               "\": expected a duration such as 30s, 10m, 1h, 2d or 1h30m",
           kExitUsage);
    }
    q.from_wall_ns = now_ns() - *d;
  }
  if (!o.from.empty()) q.from_wall_ns = parse_time_or_fail("events", "--from", o.from);
  if (!o.to.empty()) q.to_wall_ns = parse_time_or_fail("events", "--to", o.to);
  if (q.from_wall_ns && q.to_wall_ns && *q.from_wall_ns >= *q.to_wall_ns) {
    fail("events", "--from must be before --to", kExitUsage);
  }
  q.names = resolve_type_names(o.types);
  if (!o.types.empty() && q.names.empty())
    fail("events", "--type needs at least one type", kExitUsage);
  if (o.pid_option->count() != 0) q.pid = o.pid;
  if (!o.actor.empty()) {
    const bool hex = o.actor.size() <= 32 &&
                     o.actor.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (!hex)
      fail("events", "invalid --actor \"" + o.actor + "\": expected 1 to 32 hex digits",
           kExitUsage);
    q.actor_hex_prefix = o.actor;
  }
  q.container_prefix = o.container;
  q.path_prefix = o.path_prefix;
  q.limit = o.limit;

  // The hot index answers unless asked for the sealed store, or unless the range begins
  // before the oldest event the hot index still holds (rotated or pruned).
  bool sealed = o.source == "sealed";
  std::optional<store::HotIndex> index;
  if (!sealed) {
    index.emplace(open_index("events", o.store));
    if (o.source == "auto" && q.from_wall_ns) {
      // Only when the sealed store holds older events than the hot index (it was rotated or
      // pruned); a range that merely starts before recording began stays with the index.
      auto st = index->stats();
      const auto paths = store::resolve_store_paths(
          o.store.base_dir.empty() ? std::nullopt
                                   : std::optional<std::filesystem::path>(o.store.base_dir));
      if (st && (!st->min_wall_ns || *q.from_wall_ns < *st->min_wall_ns)) {
        const auto sealed_from = seal::sealed_earliest_wall_ns(paths.out_dir);
        if (sealed_from && (!st->min_wall_ns || *sealed_from < *st->min_wall_ns)) {
          sealed = true;
          std::cerr << "ritma events: the hot index does not reach back to --from but the sealed "
                       "store does; reading the sealed store\n";
        }
      }
    }
  }
  Result<std::vector<Event>> events =
      sealed ? Result<std::vector<Event>>(query_sealed(o.store, q)) : index->query(q);
  if (!events) fail("events", events.error().message, kExitRuntime);
  if (format == "json") {
    for (const auto& e : *events) std::cout << dump(event_json(e)) << "\n";
  } else if (format == "ecs") {
    for (const auto& e : *events) std::cout << dump(to_ecs(e)) << "\n";
  } else if (format == "ocsf") {
    for (const auto& e : *events) std::cout << dump(to_ocsf(e)) << "\n";
  } else {
    print_table(*events);
  }
  if (events->empty()) {
    std::cerr << "ritma events: no matching events\n";
  } else if (o.limit != 0 && events->size() == o.limit) {
    std::cerr << "ritma events: showing the first " << o.limit
              << " matching events; narrow the query or raise --limit (0 for no limit)\n";
  }
}

// ---- ritma tree ------------------------------------------------------------------------------

struct TreeOptions {
  StoreOptions store;
  uint32_t pid = 0;
  CLI::Option* pid_option = nullptr;
  std::string actor;
  std::string at;
  bool json = false;
};

// A process in the tree: one actor (pid + start time within a boot).
struct ProcessNode {
  capture::ActorId actor{};
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint64_t start_ns = 0;
  std::optional<int64_t> start_wall_ns;
  std::string comm;
  std::vector<Event> execs;
  std::optional<Event> exit;
  std::vector<std::pair<uint32_t, uint64_t>> children;  // (pid, start_ns) from fork events
  std::string parent_link;  // how its parent was found: "fork", "ppid", or "" (not found)
  bool known = false;       // the index has events of this process
};

constexpr size_t kMaxTreeProcesses = 1000;
constexpr size_t kMaxAncestors = 64;
constexpr size_t kMaxEventsPerProcess = 10000;

class TreeBuilder {
 public:
  explicit TreeBuilder(store::HotIndex& index) : index_(index) {}

  // The process with this actor id.
  ProcessNode load(const capture::ActorId& actor) {
    ProcessNode n;
    n.actor = actor;
    store::EventQuery q;
    q.actor_hex_prefix = to_hex(actor);
    q.limit = 1;
    const auto first = run(q);
    if (first.empty()) return n;
    n.known = true;
    fill_identity(n, first.front());
    q.names = {"exec", "fork", "exit"};
    q.limit = kMaxEventsPerProcess;
    for (const auto& e : run(q)) {
      switch (e.type) {
        case EventType::kExec:
          n.execs.push_back(e);
          break;
        case EventType::kExit:
          n.exit = e;
          break;
        case EventType::kFork:
          if (e.arg0 != e.pid) n.children.emplace_back(static_cast<uint32_t>(e.arg0), e.arg1);
          break;
        default:
          break;
      }
      if (!e.comm.empty()) n.comm = e.comm;
    }
    return n;
  }

  // The process that had `pid` at `at` (or most recently, without `at`).
  std::optional<capture::ActorId> actor_of_pid(uint32_t pid, std::optional<int64_t> at) {
    store::EventQuery q;
    q.pid = pid;
    if (at) q.to_wall_ns = *at + 1;
    q.newest_first = true;
    q.limit = 1;
    const auto events = run(q);
    if (events.empty()) return std::nullopt;
    return events.front().actor;
  }

  // The process forked as (pid, start_ns), if the index has any of its events.
  std::optional<capture::ActorId> actor_of_child(uint32_t pid, uint64_t start_ns) {
    store::EventQuery q;
    q.pid = pid;
    q.start_ns = start_ns;
    q.limit = 1;
    const auto events = run(q);
    if (events.empty()) return std::nullopt;
    return events.front().actor;
  }

  // The parent of `n`: the process whose fork event created it, else the process that had
  // pid == n.ppid when n started.
  std::optional<capture::ActorId> parent_of(ProcessNode& n) {
    if (!n.known || n.ppid == 0) return std::nullopt;
    store::EventQuery q;
    q.pid = n.ppid;
    q.names = {"fork"};
    if (n.start_wall_ns) q.to_wall_ns = *n.start_wall_ns + 1000000000LL;
    q.newest_first = true;
    q.limit = kMaxEventsPerProcess;
    for (const auto& e : run(q)) {
      if (e.arg0 == n.pid && e.arg1 == n.start_ns) {
        n.parent_link = "fork";
        return e.actor;
      }
    }
    const auto by_ppid = actor_of_pid(n.ppid, n.start_wall_ns);
    if (by_ppid) n.parent_link = "ppid";
    return by_ppid;
  }

 private:
  std::vector<Event> run(const store::EventQuery& q) {
    auto r = index_.query(q);
    if (!r) fail("tree", r.error().message, kExitRuntime);
    return std::move(r).value();
  }

  static void fill_identity(ProcessNode& n, const Event& e) {
    n.pid = e.pid;
    n.ppid = e.ppid;
    n.start_ns = e.start_ns;
    n.comm = e.comm;
    // start_ns and mono_ns are both boot-time clocks; the event's wall time anchors them.
    if (e.mono_ns >= e.start_ns) {
      n.start_wall_ns = e.wall_ns - static_cast<int64_t>(e.mono_ns - e.start_ns);
    }
  }

  store::HotIndex& index_;
};

struct TreeNodeOut {
  ProcessNode process;
  bool target = false;
  std::vector<TreeNodeOut> children;
};

nlohmann::json tree_json(const TreeNodeOut& t) {
  const ProcessNode& p = t.process;
  nlohmann::json execs = nlohmann::json::array();
  for (const auto& e : p.execs) {
    execs.push_back({{"time", format_local_time(e.wall_ns)},
                     {"wall_ns", e.wall_ns},
                     {"path", e.path},
                     {"argv", e.argv},
                     {"result", e.result},
                     {"errno", e.result < 0 ? nlohmann::json(errno_name(e.result)) : nullptr}});
  }
  nlohmann::json j = {
      {"pid", p.pid},
      {"ppid", p.ppid},
      {"actor", to_hex(p.actor)},
      {"comm", p.comm},
      {"start_ns", p.start_ns},
      {"start", p.start_wall_ns ? nlohmann::json(format_local_time(*p.start_wall_ns)) : nullptr},
      {"execs", execs},
      {"parent_link",
       p.parent_link.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.parent_link)},
      {"in_index", p.known},
      {"target", t.target},
  };
  if (p.exit) {
    j["exit"] = {{"time", format_local_time(p.exit->wall_ns)},
                 {"code", p.exit->result},
                 {"status", (p.exit->result >> 8) & 0xff},
                 {"signal", p.exit->result & 0x7f},
                 {"summary", exit_summary(p.exit->result)}};
  } else {
    j["exit"] = nullptr;
  }
  nlohmann::json children = nlohmann::json::array();
  for (const auto& c : t.children) children.push_back(tree_json(c));
  j["children"] = std::move(children);
  return j;
}

void print_tree(const TreeNodeOut& t, const std::string& prefix, bool last, bool root) {
  const ProcessNode& p = t.process;
  const std::string branch = root ? "" : (last ? "└─ " : "├─ ");
  const std::string inner = root ? "" : (last ? "   " : "│  ");
  std::string line = prefix + branch + (t.target ? "* " : "") +
                     printable(p.comm.empty() ? "?" : p.comm) + " (pid " + std::to_string(p.pid) +
                     ")";
  if (p.start_wall_ns) line += " started " + format_local_time(*p.start_wall_ns);
  if (p.exit) line += ", " + exit_summary(p.exit->result);
  if (!p.known) line += " [no events in the index]";
  if (p.parent_link == "ppid") line += " [parent by ppid]";
  line += "  actor " + to_hex(p.actor).substr(0, 12);
  std::cout << line << "\n";
  const std::string body = prefix + inner + (t.children.empty() ? "   " : "│  ");
  for (const auto& e : p.execs) {
    std::string x = "exec " + argv_line(e);
    if (e.result < 0) x += " = " + errno_name(e.result);
    std::cout << body << x << "\n";
  }
  for (size_t i = 0; i < t.children.size(); ++i) {
    print_tree(t.children[i], prefix + inner, i + 1 == t.children.size(), false);
  }
}

void run_tree(const TreeOptions& o) {
  const bool by_pid = o.pid_option->count() != 0;
  if (by_pid == !o.actor.empty()) fail("tree", "give exactly one of --pid and --actor", kExitUsage);
  std::optional<int64_t> at;
  if (!o.at.empty()) at = parse_time_or_fail("tree", "--at", o.at);
  if (!o.actor.empty() &&
      (o.actor.size() > 32 ||
       o.actor.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)) {
    fail("tree", "invalid --actor \"" + o.actor + "\": expected 1 to 32 hex digits", kExitUsage);
  }
  store::HotIndex index = open_index("tree", o.store);
  TreeBuilder builder(index);

  capture::ActorId target{};
  if (!o.actor.empty()) {
    auto actors = index.find_actors(o.actor, 5);
    if (!actors) fail("tree", actors.error().message, kExitRuntime);
    if (actors->empty())
      fail("tree", "no process with actor id " + o.actor + " in the index", kExitRuntime);
    if (actors->size() > 1) {
      std::string list;
      for (const auto& a : *actors) list += " " + to_hex(a);
      fail("tree", "actor prefix " + o.actor + " is ambiguous; it matches:" + list, kExitRuntime);
    }
    target = actors->front();
  } else {
    const auto a = builder.actor_of_pid(o.pid, at);
    if (!a) {
      fail("tree",
           "no events of pid " + std::to_string(o.pid) + (at ? " at or before " + o.at : "") +
               " in the index",
           kExitRuntime);
    }
    target = *a;
  }

  // Descendants, depth first, bounded.
  size_t count = 0;
  bool truncated = false;
  std::set<capture::ActorId> seen;
  std::function<TreeNodeOut(const capture::ActorId&, int)> down = [&](const capture::ActorId& a,
                                                                      int depth) {
    TreeNodeOut t;
    t.process = builder.load(a);
    seen.insert(a);
    ++count;
    for (const auto& [pid, start] : t.process.children) {
      if (count >= kMaxTreeProcesses || depth >= 64) {
        truncated = true;
        break;
      }
      const auto child = builder.actor_of_child(pid, start);
      if (child && seen.count(*child) == 0) {
        t.children.push_back(down(*child, depth + 1));
        t.children.back().process.parent_link = "fork";
      } else if (!child) {
        // Forked, but it did nothing the index recorded (or its events are gone).
        TreeNodeOut unknown;
        unknown.process.pid = pid;
        unknown.process.ppid = t.process.pid;
        unknown.process.start_ns = start;
        unknown.process.parent_link = "fork";
        t.children.push_back(std::move(unknown));
        ++count;
      }
    }
    return t;
  };
  TreeNodeOut tree = down(target, 0);
  tree.target = true;
  if (!tree.process.known) fail("tree", "no events of that process in the index", kExitRuntime);

  // Ancestors, each wrapping the tree so far.
  for (size_t i = 0; i < kMaxAncestors; ++i) {
    const auto parent = builder.parent_of(tree.process);
    if (!parent || seen.count(*parent) != 0) break;
    seen.insert(*parent);
    TreeNodeOut up;
    up.process = builder.load(*parent);
    if (!up.process.known) break;
    up.process.children.clear();
    up.children.push_back(std::move(tree));
    tree = std::move(up);
  }

  if (o.json) {
    nlohmann::json j = tree_json(tree);
    j["truncated"] = truncated;
    std::cout << dump(j, 2) << "\n";
  } else {
    print_tree(tree, "", true, true);
    std::cout << "* = the process asked about\n";
  }
  if (truncated) {
    std::cerr << "ritma tree: tree truncated at " << kMaxTreeProcesses << " processes\n";
  }
}

}  // namespace

nlohmann::json event_to_json(const capture::Event& e) {
  return event_json(e);
}

void register_events_command(CLI::App& app) {
  auto opts = std::make_shared<EventsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "events", "List events from the hot index, oldest first (time in local RFC 3339)");
  auto* since =
      cmd->add_option("--since", opts->since, "Only the last DURATION: 30s, 10m, 1h, 2d, 1h30m");
  auto* from = cmd->add_option("--from", opts->from,
                               "From time T (inclusive): RFC 3339 (2026-11-22T03:12:00Z, "
                               "...+01:00) or epoch seconds (1795316000.5)");
  cmd->add_option("--to", opts->to, "To time T (exclusive), same formats as --from");
  since->excludes(from);
  cmd->add_option("--type", opts->types,
                  "Event types, comma-separated: exec, fork, exit, open, unlink, rename, connect, "
                  "accept, bind, listen, dns, setuid, ptrace, mount, ... or the groups file, net, "
                  "priv")
      ->delimiter(',');
  opts->pid_option = cmd->add_option("--pid", opts->pid, "Process id");
  cmd->add_option("--actor", opts->actor, "Actor id or a hex prefix of one");
  cmd->add_option("--container", opts->container, "Container id or a prefix of one");
  cmd->add_option("--path-prefix", opts->path_prefix,
                  "Paths starting with P (literally: no wildcards)");
  cmd->add_option("--limit", opts->limit, "At most N events (default 1000; 0 for no limit)");
  opts->format_option =
      cmd->add_option("--format", opts->format,
                      "table (default) | json (JSON lines, every field) | ecs (JSON lines in "
                      "Elastic Common Schema 8.11) | ocsf (JSON lines in OCSF 1.1.0)")
          ->check(CLI::IsMember({"table", "json", "ecs", "ocsf"}));
  cmd->add_flag("--json", opts->json, "Same as --format json");
  cmd->add_option("--source", opts->source,
                  "auto (default: the hot index, or the sealed store when --from/--since reaches "
                  "back before the hot index) | hot | sealed")
      ->check(CLI::IsMember({"auto", "hot", "sealed"}));
  add_store_options(cmd, opts->store);
  cmd->callback([opts] { run_events(*opts); });
}

void register_tree_command(CLI::App& app) {
  auto opts = std::make_shared<TreeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tree", "Show a process's exec lineage: its ancestors and descendants, from the hot index");
  opts->pid_option = cmd->add_option("--pid", opts->pid,
                                     "The process that had this pid (at --at, or most recently)");
  cmd->add_option("--actor", opts->actor, "Actor id or a unique hex prefix of one");
  cmd->add_option("--at", opts->at, "Time T for --pid: RFC 3339 or epoch seconds");
  cmd->add_flag("--json", opts->json, "Print the tree as one JSON object");
  add_store_options(cmd, opts->store);
  cmd->callback([opts] { run_tree(*opts); });
}

}  // namespace ritma::cli
