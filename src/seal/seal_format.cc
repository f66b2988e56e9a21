#include "seal/seal_format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/cbor.h"

namespace ritma::seal {
namespace {

using cbor::Value;
using cbor::Writer;

// ---- encoding helpers ----

void put_ref(Writer& w, const CheckpointRef& c) {
  w.array(2);
  w.uint(c.tree_size);
  w.bytes(c.root);
}

// ---- strict decoding helpers: each names the structure and the field ----

class Fields {
 public:
  Fields(const Value& v, std::string_view what) : v_(v), what_(what) {}
  Status shape(std::string_view tag, size_t n) const {
    if (!v_.is_array()) return make_error(std::string(what_) + ": not an array");
    const auto& a = v_.as_array();
    if (a.size() != n)
      return make_error(std::string(what_) + ": " + std::to_string(a.size()) +
                        " fields, expected " + std::to_string(n));
    if (a[0].type() != cbor::Type::kText || a[0].as_text() != tag)
      return make_error(std::string(what_) + ": tag is not \"" + std::string(tag) + "\"");
    return {};
  }
  const Value& at(size_t i) const { return v_.as_array()[i]; }
  Result<uint64_t> u(size_t i) const { return uint_of(at(i), i); }
  Result<uint64_t> uint_of(const Value& x, size_t i) const {
    if (!x.is_unsigned()) return err(i, "an unsigned integer");
    return x.as_uint();
  }
  Result<int64_t> s(size_t i) const { return int_of(at(i), i); }
  Result<int64_t> int_of(const Value& x, size_t i) const {
    if (x.type() != cbor::Type::kUnsigned && x.type() != cbor::Type::kNegative)
      return err(i, "an integer");
    auto r = x.to_int64();
    if (!r.ok()) return err(i, "an integer in int64 range");
    return *r;
  }
  Result<std::string> t(size_t i) const { return text_of(at(i), i); }
  Result<std::string> text_of(const Value& x, size_t i) const {
    if (x.type() != cbor::Type::kText) return err(i, "a text string");
    return x.as_text();
  }
  template <size_t N>
  Result<std::array<uint8_t, N>> fixed(size_t i) const {
    return fixed_of<N>(at(i), i);
  }
  template <size_t N>
  Result<std::array<uint8_t, N>> fixed_of(const Value& x, size_t i) const {
    if (x.type() != cbor::Type::kBytes || x.as_bytes().size() != N)
      return err(i, "a byte string of " + std::to_string(N) + " bytes");
    std::array<uint8_t, N> out{};
    std::copy(x.as_bytes().begin(), x.as_bytes().end(), out.begin());
    return out;
  }
  Result<const Value::Array*> arr(size_t i) const { return arr_of(at(i), i); }
  Result<const Value::Array*> arr_of(const Value& x, size_t i) const {
    if (!x.is_array()) return err(i, "an array");
    return &x.as_array();
  }
  Result<CheckpointRef> ref(const Value& x, size_t i) const {
    if (!x.is_array() || x.as_array().size() != 2) return err(i, "[tree_size, root]");
    CheckpointRef c;
    RITMA_ASSIGN_OR_RETURN(c.tree_size, uint_of(x.as_array()[0], i));
    RITMA_ASSIGN_OR_RETURN(c.root, fixed_of<32>(x.as_array()[1], i));
    return c;
  }
  Error err(size_t i, const std::string& want) const {
    return Error{std::string(what_) + ": field " + std::to_string(i) + " is not " + want};
  }

 private:
  const Value& v_;
  std::string_view what_;
};

Result<Value> decode_top(ByteSpan b, std::string_view what) {
  auto v = cbor::decode(b);
  if (!v.ok()) return make_error(std::string(what) + ": " + v.error().message);
  return std::move(v).value();
}

std::tm utc(int64_t ns) {
  const time_t secs =
      static_cast<time_t>(ns >= 0 ? ns / 1'000'000'000 : (ns + 1) / 1'000'000'000 - 1);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

int64_t floor_to(int64_t t, int64_t unit) {
  // A hostile record's time near INT64_MIN must not overflow: clamp instead.
  int64_t q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  if (q < INT64_MIN / unit) return INT64_MIN;
  return q * unit;
}

}  // namespace

// ---------------------------------------------------------------- encoders

Bytes encode(const StoreRecord& r) {
  Bytes out;
  Writer w(out);
  w.array(6);
  w.text("ritma-store@1");
  w.uint(r.format_version);
  w.bytes(r.store_id);
  w.text(r.node_id);
  w.int64(r.created_ns);
  w.uint(r.window_ns);
  return out;
}

Bytes encode(const SignatureRecord& r) {
  Bytes out;
  Writer w(out);
  w.array(4);
  w.text("ritma-sig@1");
  w.text(r.key_name);
  w.bytes(r.public_key);
  w.bytes(r.signature);
  return out;
}

Bytes encode(const MicroRecord& r) {
  Bytes out;
  out.reserve(512 + 80 * r.blocks.size());
  Writer w(out);
  w.array(19);
  w.text("ritma-micro@1");
  w.bytes(r.store_id);
  w.text(r.node_id);
  w.uint(r.log_index);
  w.int64(r.slot_start_ns);
  w.uint(r.window_ns);
  w.uint(r.part);
  w.uint(r.first_seq);
  w.uint(r.event_count);
  w.uint(r.loss_count);
  w.uint(r.filtered_count);
  w.int64(r.min_wall_ns);
  w.int64(r.max_wall_ns);
  w.bytes(r.micro_root);
  w.array(r.blocks.size());
  for (const auto& b : r.blocks) {
    w.array(5);
    w.text(b.file);
    w.bytes(b.b3);
    w.uint(b.zstd_bytes);
    w.uint(b.raw_bytes);
    w.uint(b.event_count);
  }
  w.array(r.type_counts.size());
  for (const auto& [type, count] : r.type_counts) {
    w.array(2);
    w.uint(type);
    w.uint(count);
  }
  w.array(4);
  w.uint(r.run.run_id);
  w.bytes(r.run.boot_id);
  w.text(r.run.sensor_version);
  w.text(r.run.config_digest);
  w.text(r.privacy);
  w.int64(r.sealed_ns);
  return out;
}

Bytes encode(const HourRecord& r) {
  Bytes out;
  Writer w(out);
  w.array(10);
  w.text("ritma-hour@1");
  w.bytes(r.store_id);
  w.text(r.node_id);
  w.int64(r.hour_start_ns);
  w.uint(r.first_log_index);
  w.uint(r.window_count);
  w.bytes(r.hour_root);
  w.uint(r.event_count);
  put_ref(w, r.closing);
  w.int64(r.closed_ns);
  return out;
}

Bytes encode(const ChainRecord& r) {
  Bytes out;
  Writer w(out);
  w.array(8);
  w.text("ritma-chain@1");
  w.bytes(r.store_id);
  w.text(r.node_id);
  w.int64(r.hour_start_ns);
  if (r.previous) {
    w.array(3);
    w.int64(r.previous->first);
    w.uint(r.previous->second.tree_size);
    w.bytes(r.previous->second.root);
  } else {
    w.null();
  }
  put_ref(w, r.closing);
  w.bytes(r.hour_root_b3);
  w.int64(r.closed_ns);
  return out;
}

Bytes encode(const KeysRecord& r) {
  Bytes out;
  Writer w(out);
  w.array(2);
  w.text("ritma-keys@1");
  w.array(r.keys.size());
  for (const auto& k : r.keys) {
    w.array(5);
    w.text(k.name);
    w.bytes(k.public_key);
    w.int64(k.valid_from_ns);
    if (k.valid_until_ns)
      w.int64(*k.valid_until_ns);
    else
      w.null();
    if (k.handover) {
      w.array(2);
      w.bytes(k.handover->first);
      w.bytes(k.handover->second);
    } else {
      w.null();
    }
  }
  return out;
}

Bytes encode(const TimeIndexEntry& r) {
  Bytes out;
  Writer w(out);
  w.array(5);
  w.text("ritma-tidx@1");
  w.int64(r.bucket_start_ns);
  w.uint(r.log_index);
  w.uint(r.block);
  w.uint(r.event);
  return out;
}

Bytes encode_handover_message(const KeyEntry& k) {
  Bytes out;
  Writer w(out);
  w.array(4);
  w.text("ritma-handover@1");
  w.text(k.name);
  w.bytes(k.public_key);
  w.int64(k.valid_from_ns);
  return out;
}

// ---------------------------------------------------------------- decoders

Result<StoreRecord> decode_store(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "store record"));
  Fields f(v, "store record");
  RITMA_TRY(f.shape("ritma-store@1", 6));
  StoreRecord r;
  RITMA_ASSIGN_OR_RETURN(r.format_version, f.u(1));
  if (r.format_version != 1)
    return make_error("store record: format version " + std::to_string(r.format_version) +
                      " is not supported (this build reads 1)");
  RITMA_ASSIGN_OR_RETURN(r.store_id, f.fixed<16>(2));
  RITMA_ASSIGN_OR_RETURN(r.node_id, f.t(3));
  RITMA_ASSIGN_OR_RETURN(r.created_ns, f.s(4));
  RITMA_ASSIGN_OR_RETURN(r.window_ns, f.u(5));
  if (r.window_ns == 0 || kHourNs % r.window_ns != 0)
    return make_error("store record: window_ns does not divide an hour");
  return r;
}

Result<SignatureRecord> decode_signature(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "signature"));
  Fields f(v, "signature");
  RITMA_TRY(f.shape("ritma-sig@1", 4));
  SignatureRecord r;
  RITMA_ASSIGN_OR_RETURN(r.key_name, f.t(1));
  RITMA_ASSIGN_OR_RETURN(r.public_key, f.fixed<32>(2));
  RITMA_ASSIGN_OR_RETURN(r.signature, f.fixed<64>(3));
  return r;
}

Result<MicroRecord> decode_micro(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "micro record"));
  Fields f(v, "micro record");
  RITMA_TRY(f.shape("ritma-micro@1", 19));
  MicroRecord r;
  RITMA_ASSIGN_OR_RETURN(r.store_id, f.fixed<16>(1));
  RITMA_ASSIGN_OR_RETURN(r.node_id, f.t(2));
  RITMA_ASSIGN_OR_RETURN(r.log_index, f.u(3));
  RITMA_ASSIGN_OR_RETURN(r.slot_start_ns, f.s(4));
  RITMA_ASSIGN_OR_RETURN(r.window_ns, f.u(5));
  if (r.window_ns == 0 || kHourNs % r.window_ns != 0)
    return make_error("micro record: window_ns does not divide an hour");
  if (r.slot_start_ns % static_cast<int64_t>(r.window_ns) != 0)
    return make_error("micro record: slot_start_ns is not a multiple of window_ns");
  RITMA_ASSIGN_OR_RETURN(r.part, f.u(6));
  RITMA_ASSIGN_OR_RETURN(r.first_seq, f.u(7));
  RITMA_ASSIGN_OR_RETURN(r.event_count, f.u(8));
  RITMA_ASSIGN_OR_RETURN(r.loss_count, f.u(9));
  RITMA_ASSIGN_OR_RETURN(r.filtered_count, f.u(10));
  RITMA_ASSIGN_OR_RETURN(r.min_wall_ns, f.s(11));
  RITMA_ASSIGN_OR_RETURN(r.max_wall_ns, f.s(12));
  RITMA_ASSIGN_OR_RETURN(r.micro_root, f.fixed<32>(13));
  RITMA_ASSIGN_OR_RETURN(const Value::Array* blocks, f.arr(14));
  for (const auto& x : *blocks) {
    if (!x.is_array() || x.as_array().size() != 5) return f.err(14, "a list of 5-field blocks");
    const auto& a = x.as_array();
    BlockRef br;
    RITMA_ASSIGN_OR_RETURN(br.file, f.text_of(a[0], 14));
    RITMA_ASSIGN_OR_RETURN(br.b3, f.fixed_of<32>(a[1], 14));
    RITMA_ASSIGN_OR_RETURN(br.zstd_bytes, f.uint_of(a[2], 14));
    RITMA_ASSIGN_OR_RETURN(br.raw_bytes, f.uint_of(a[3], 14));
    RITMA_ASSIGN_OR_RETURN(br.event_count, f.uint_of(a[4], 14));
    if (br.file.empty() || br.file.find('/') != std::string::npos || br.file[0] == '.')
      return f.err(14, "a plain block file name");
    r.blocks.push_back(std::move(br));
  }
  RITMA_ASSIGN_OR_RETURN(const Value::Array* types, f.arr(15));
  for (const auto& x : *types) {
    if (!x.is_array() || x.as_array().size() != 2) return f.err(15, "a list of [type, count]");
    uint64_t t = 0, c = 0;
    RITMA_ASSIGN_OR_RETURN(t, f.uint_of(x.as_array()[0], 15));
    RITMA_ASSIGN_OR_RETURN(c, f.uint_of(x.as_array()[1], 15));
    if (c == 0 || (!r.type_counts.empty() && r.type_counts.back().first >= t))
      return f.err(15, "ascending types with non-zero counts");
    r.type_counts.emplace_back(t, c);
  }
  RITMA_ASSIGN_OR_RETURN(const Value::Array* run, f.arr(16));
  if (run->size() != 4) return f.err(16, "[run_id, boot_id, version, config_digest]");
  RITMA_ASSIGN_OR_RETURN(r.run.run_id, f.uint_of((*run)[0], 16));
  RITMA_ASSIGN_OR_RETURN(r.run.boot_id, f.fixed_of<16>((*run)[1], 16));
  RITMA_ASSIGN_OR_RETURN(r.run.sensor_version, f.text_of((*run)[2], 16));
  RITMA_ASSIGN_OR_RETURN(r.run.config_digest, f.text_of((*run)[3], 16));
  RITMA_ASSIGN_OR_RETURN(r.privacy, f.t(17));
  if (r.privacy != "raw" && r.privacy != "hash-only") return f.err(17, "\"raw\" or \"hash-only\"");
  RITMA_ASSIGN_OR_RETURN(r.sealed_ns, f.s(18));
  return r;
}

Result<HourRecord> decode_hour(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "hour root"));
  Fields f(v, "hour root");
  RITMA_TRY(f.shape("ritma-hour@1", 10));
  HourRecord r;
  RITMA_ASSIGN_OR_RETURN(r.store_id, f.fixed<16>(1));
  RITMA_ASSIGN_OR_RETURN(r.node_id, f.t(2));
  RITMA_ASSIGN_OR_RETURN(r.hour_start_ns, f.s(3));
  RITMA_ASSIGN_OR_RETURN(r.first_log_index, f.u(4));
  RITMA_ASSIGN_OR_RETURN(r.window_count, f.u(5));
  RITMA_ASSIGN_OR_RETURN(r.hour_root, f.fixed<32>(6));
  RITMA_ASSIGN_OR_RETURN(r.event_count, f.u(7));
  RITMA_ASSIGN_OR_RETURN(r.closing, f.ref(f.at(8), 8));
  RITMA_ASSIGN_OR_RETURN(r.closed_ns, f.s(9));
  return r;
}

Result<ChainRecord> decode_chain(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "chain record"));
  Fields f(v, "chain record");
  RITMA_TRY(f.shape("ritma-chain@1", 8));
  ChainRecord r;
  RITMA_ASSIGN_OR_RETURN(r.store_id, f.fixed<16>(1));
  RITMA_ASSIGN_OR_RETURN(r.node_id, f.t(2));
  RITMA_ASSIGN_OR_RETURN(r.hour_start_ns, f.s(3));
  const Value& prev = f.at(4);
  if (prev.type() != cbor::Type::kNull) {
    if (!prev.is_array() || prev.as_array().size() != 3)
      return f.err(4, "null or [hour_start_ns, tree_size, root]");
    const auto& a = prev.as_array();
    int64_t h = 0;
    CheckpointRef c;
    RITMA_ASSIGN_OR_RETURN(h, f.int_of(a[0], 4));
    RITMA_ASSIGN_OR_RETURN(c.tree_size, f.uint_of(a[1], 4));
    RITMA_ASSIGN_OR_RETURN(c.root, f.fixed_of<32>(a[2], 4));
    r.previous = std::make_pair(h, c);
  }
  RITMA_ASSIGN_OR_RETURN(r.closing, f.ref(f.at(5), 5));
  RITMA_ASSIGN_OR_RETURN(r.hour_root_b3, f.fixed<32>(6));
  RITMA_ASSIGN_OR_RETURN(r.closed_ns, f.s(7));
  return r;
}

Result<KeysRecord> decode_keys(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "keys record"));
  Fields f(v, "keys record");
  RITMA_TRY(f.shape("ritma-keys@1", 2));
  RITMA_ASSIGN_OR_RETURN(const Value::Array* keys, f.arr(1));
  KeysRecord r;
  for (const auto& x : *keys) {
    if (!x.is_array() || x.as_array().size() != 5) return f.err(1, "a list of 5-field keys");
    const auto& a = x.as_array();
    KeyEntry k;
    RITMA_ASSIGN_OR_RETURN(k.name, f.text_of(a[0], 1));
    RITMA_ASSIGN_OR_RETURN(k.public_key, f.fixed_of<32>(a[1], 1));
    RITMA_ASSIGN_OR_RETURN(k.valid_from_ns, f.int_of(a[2], 1));
    if (a[3].type() != cbor::Type::kNull) {
      int64_t until = 0;
      RITMA_ASSIGN_OR_RETURN(until, f.int_of(a[3], 1));
      k.valid_until_ns = until;
    }
    if (a[4].type() != cbor::Type::kNull) {
      if (!a[4].is_array() || a[4].as_array().size() != 2)
        return f.err(1, "a key whose hand-over is null or [previous key, signature]");
      PublicKey pk{};
      Signature sig{};
      RITMA_ASSIGN_OR_RETURN(pk, f.fixed_of<32>(a[4].as_array()[0], 1));
      RITMA_ASSIGN_OR_RETURN(sig, f.fixed_of<64>(a[4].as_array()[1], 1));
      k.handover = std::make_pair(pk, sig);
    }
    r.keys.push_back(std::move(k));
  }
  return r;
}

Result<TimeIndexEntry> decode_time_index_entry(ByteSpan b) {
  RITMA_ASSIGN_OR_RETURN(Value v, decode_top(b, "time index entry"));
  Fields f(v, "time index entry");
  RITMA_TRY(f.shape("ritma-tidx@1", 5));
  TimeIndexEntry e;
  RITMA_ASSIGN_OR_RETURN(e.bucket_start_ns, f.s(1));
  RITMA_ASSIGN_OR_RETURN(e.log_index, f.u(2));
  RITMA_ASSIGN_OR_RETURN(e.block, f.u(3));
  RITMA_ASSIGN_OR_RETURN(e.event, f.u(4));
  return e;
}

// ---------------------------------------------------------------- signatures

Bytes signature_message(ByteSpan file_bytes) {
  Bytes msg;
  msg.reserve(12 + file_bytes.size());
  append(msg, std::string_view("ritma-sig@1"));
  msg.push_back(0);
  append(msg, file_bytes);
  return msg;
}

SignatureRecord make_signature(const std::string& key_name, const SigningKey& key,
                               ByteSpan file_bytes) {
  SignatureRecord s;
  s.key_name = key_name;
  s.public_key = key.public_key();
  s.signature = key.sign(signature_message(file_bytes));
  return s;
}

bool check_signature(const SignatureRecord& sig, ByteSpan file_bytes) {
  return verify_signature(sig.public_key, signature_message(file_bytes), sig.signature);
}

// ---------------------------------------------------------------- paths

int64_t hour_start(int64_t t) {
  return floor_to(t, static_cast<int64_t>(kHourNs));
}
int64_t day_start(int64_t t) {
  return floor_to(t, static_cast<int64_t>(kDayNs));
}

std::string day_path(int64_t t) {
  const std::tm tm = utc(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string day_label(int64_t t) {
  const std::tm tm = utc(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string utc_rfc3339(int64_t t, int fraction_digits) {
  const std::tm tm = utc(t);
  int64_t frac = t % 1'000'000'000;
  if (frac < 0) frac += 1'000'000'000;
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (fraction_digits > 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%09lld", static_cast<long long>(frac));
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%.*s",
                       std::min(fraction_digits, 9), digits);
  }
  std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "Z");
  return buf;
}

std::string hour_dir(int64_t t) {
  const std::tm tm = utc(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "windows/%04d/%02d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour);
  return buf;
}

uint64_t slot_in_hour(int64_t slot_start_ns, uint64_t window_ns) {
  return static_cast<uint64_t>(slot_start_ns - hour_start(slot_start_ns)) / window_ns;
}

std::string window_stem(uint64_t slot, uint64_t part) {
  char buf[48];
  if (part == 0)
    std::snprintf(buf, sizeof buf, "w%03llu", static_cast<unsigned long long>(slot));
  else
    std::snprintf(buf, sizeof buf, "w%03llu-%llu", static_cast<unsigned long long>(slot),
                  static_cast<unsigned long long>(part));
  return buf;
}

bool window_overlaps(const MicroRecord& r, int64_t from, int64_t to) {
  const int64_t slot_end = r.slot_start_ns + static_cast<int64_t>(r.window_ns);
  const bool slot_overlaps = r.slot_start_ns < to && slot_end > from;
  const bool events_overlap = r.event_count > 0 && r.min_wall_ns < to && r.max_wall_ns >= from;
  return slot_overlaps || events_overlap;
}

std::string stem_path(const MicroRecord& r) {
  return hour_dir(r.slot_start_ns) + "/micro/" +
         window_stem(slot_in_hour(r.slot_start_ns, r.window_ns), r.part);
}
std::string micro_path(const MicroRecord& r) {
  return stem_path(r) + ".cbor";
}
std::string micro_sig_path(const MicroRecord& r) {
  return stem_path(r) + ".sig";
}
std::string block_dir(const MicroRecord& r) {
  return hour_dir(r.slot_start_ns) + "/blocks";
}
std::string block_file_name(const std::string& stem, uint64_t k) {
  return stem + ".b" + std::to_string(k) + ".zst";
}

std::string time_index_path(uint64_t bucket_s, int64_t bucket_start_ns) {
  const std::tm tm = utc(bucket_start_ns);
  char buf[96];
  std::snprintf(buf, sizeof buf, "index/t_%llus/%04d/%02d/%02d/%02d.idx",
                static_cast<unsigned long long>(bucket_s), tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour);
  return buf;
}

std::string catalog_path(int64_t day_ns) {
  return "catalog/" + day_path(day_ns) + "/day.cbor.zst";
}
std::string accounting_path(int64_t day_ns) {
  return "accounting/" + day_path(day_ns) + "/account.cbor.zst";
}

std::string checkpoint_origin(const std::string& node_id, const StoreId& store_id) {
  return "ritma-windows/" + node_id + "/" + to_hex(store_id);
}

bool valid_pack_path(std::string_view p) {
  if (p.empty() || p.size() > 1024 || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return std::none_of(p.begin(), p.end(), [](char c) {
    return c == '\0' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
}

}  // namespace ritma::seal
