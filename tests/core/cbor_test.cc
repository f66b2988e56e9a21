// Canonical CBOR: the RFC 8949 Appendix A vectors for our subset (written with Writer, built as
// Values, decoded back), a seeded round-trip property over random documents, and one test per
// rule the strict decoder enforces, each checking that the error names the rule.
#include "core/cbor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ritma::cbor {
namespace {

using ::testing::HasSubstr;

Bytes hex(std::string_view h) {
  auto b = from_hex(h);
  EXPECT_TRUE(b.ok()) << h;
  return b.ok() ? *b : Bytes{};
}

Bytes written(const std::function<void(Writer&)>& write) {
  Bytes out;
  Writer w(out);
  write(w);
  return out;
}

// Structural equality, so the round-trip tests do not only compare encodings.
bool same_value(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kUnsigned:
      return a.as_uint() == b.as_uint();
    case Type::kNegative:
      return a.negative_n() == b.negative_n();
    case Type::kBytes:
      return a.as_bytes() == b.as_bytes();
    case Type::kText:
      return a.as_text() == b.as_text();
    case Type::kArray: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!same_value(x[i], y[i])) return false;
      }
      return true;
    }
    case Type::kMap: {
      const auto& x = a.as_map();
      const auto& y = b.as_map();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!same_value(x[i].first, y[i].first) || !same_value(x[i].second, y[i].second)) {
          return false;
        }
      }
      return true;
    }
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kNull:
      return true;
  }
  return false;
}

DecodeLimits with_maps() {
  DecodeLimits limits;
  limits.allow_maps = true;
  return limits;
}

// Decodes `h`, expecting failure, and returns the message.
std::string decode_error(std::string_view h, const DecodeLimits& limits = {}) {
  const Bytes in = hex(h);
  auto v = decode(in, limits);
  if (v.ok()) {
    ADD_FAILURE() << "decode accepted " << h;
    return "";
  }
  return v.error().message;
}

Value ints(std::initializer_list<uint64_t> values) {
  Value::Array items;
  for (uint64_t v : values) items.push_back(Value::unsigned_int(v));
  return Value::array(std::move(items));
}

// ---- RFC 8949 Appendix A ----

struct AppendixVector {
  std::string name;
  std::string hex;
  std::function<void(Writer&)> write;
  Value value;
  bool is_map = false;
};

std::vector<AppendixVector> appendix_vectors() {
  std::vector<AppendixVector> v;
  auto uint_vector = [&](uint64_t n, std::string h) {
    v.push_back(
        {std::to_string(n), std::move(h), [n](Writer& w) { w.uint(n); }, Value::unsigned_int(n)});
  };
  uint_vector(0, "00");
  uint_vector(1, "01");
  uint_vector(10, "0a");
  uint_vector(23, "17");
  uint_vector(24, "1818");
  uint_vector(25, "1819");
  uint_vector(100, "1864");
  uint_vector(1000, "1903e8");
  uint_vector(1000000, "1a000f4240");
  uint_vector(1000000000000, "1b000000e8d4a51000");
  uint_vector(18446744073709551615u, "1bffffffffffffffff");
  auto int_vector = [&](int64_t n, std::string h) {
    v.push_back(
        {std::to_string(n), std::move(h), [n](Writer& w) { w.int64(n); }, Value::integer(n)});
  };
  int_vector(-1, "20");
  int_vector(-10, "29");
  int_vector(-100, "3863");
  int_vector(-1000, "3903e7");
  v.push_back({"-18446744073709551616", "3bffffffffffffffff",
               [](Writer& w) { w.negative(18446744073709551615u); },
               Value::negative_int(18446744073709551615u)});
  v.push_back({"h''", "40", [](Writer& w) { w.bytes({}); }, Value::byte_string({})});
  v.push_back({"h'01020304'", "4401020304",
               [](Writer& w) {
                 w.bytes(Bytes{1, 2, 3, 4});
               },
               Value::byte_string({1, 2, 3, 4})});
  auto text_vector = [&](std::string s, std::string h) {
    v.push_back(
        {"\"" + s + "\"", std::move(h), [s](Writer& w) { w.text(s); }, Value::text_string(s)});
  };
  text_vector("", "60");
  text_vector("a", "6161");
  text_vector("IETF", "6449455446");
  text_vector("\"\\", "62225c");
  text_vector("\u00fc", "62c3bc");
  text_vector("\u6c34", "63e6b0b4");
  text_vector("\U00010151", "64f0908591");  // "\ud800\udd51" in the RFC's notation
  v.push_back({"[]", "80", [](Writer& w) { w.array(0); }, Value::array({})});
  v.push_back({"[1,2,3]", "83010203",
               [](Writer& w) {
                 w.array(3);
                 for (uint64_t i = 1; i <= 3; ++i) w.uint(i);
               },
               ints({1, 2, 3})});
  v.push_back({"[1,[2,3],[4,5]]", "8301820203820405",
               [](Writer& w) {
                 w.array(3);
                 w.uint(1);
                 w.array(2);
                 w.uint(2);
                 w.uint(3);
                 w.array(2);
                 w.uint(4);
                 w.uint(5);
               },
               Value::array({Value::unsigned_int(1), ints({2, 3}), ints({4, 5})})});
  Value::Array twenty_five;
  for (uint64_t i = 1; i <= 25; ++i) twenty_five.push_back(Value::unsigned_int(i));
  v.push_back({"[1..25]", "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
               [](Writer& w) {
                 w.array(25);
                 for (uint64_t i = 1; i <= 25; ++i) w.uint(i);
               },
               Value::array(std::move(twenty_five))});
  v.push_back({"{}", "a0", [](Writer& w) { w.map(0); }, Value::map({}), true});
  v.push_back({"{1:2,3:4}", "a201020304",
               [](Writer& w) {
                 w.map(2);
                 for (uint64_t i = 1; i <= 4; ++i) w.uint(i);
               },
               Value::map({{Value::unsigned_int(1), Value::unsigned_int(2)},
                           {Value::unsigned_int(3), Value::unsigned_int(4)}}),
               true});
  v.push_back({"{\"a\":1,\"b\":[2,3]}", "a26161016162820203",
               [](Writer& w) {
                 w.map(2);
                 w.text("a");
                 w.uint(1);
                 w.text("b");
                 w.array(2);
                 w.uint(2);
                 w.uint(3);
               },
               Value::map({{Value::text_string("a"), Value::unsigned_int(1)},
                           {Value::text_string("b"), ints({2, 3})}}),
               true});
  v.push_back({"[\"a\",{\"b\":\"c\"}]", "826161a161626163",
               [](Writer& w) {
                 w.array(2);
                 w.text("a");
                 w.map(1);
                 w.text("b");
                 w.text("c");
               },
               Value::array({Value::text_string("a"),
                             Value::map({{Value::text_string("b"), Value::text_string("c")}})}),
               true});
  v.push_back({"false", "f4", [](Writer& w) { w.boolean(false); }, Value::boolean(false)});
  v.push_back({"true", "f5", [](Writer& w) { w.boolean(true); }, Value::boolean(true)});
  v.push_back({"null", "f6", [](Writer& w) { w.null(); }, Value::null()});
  return v;
}

TEST(CborAppendixA, WriterProducesExactBytes) {
  for (const auto& vec : appendix_vectors()) {
    EXPECT_EQ(to_hex(written(vec.write)), vec.hex) << vec.name;
  }
}

TEST(CborAppendixA, EncodeOfValueProducesExactBytes) {
  for (const auto& vec : appendix_vectors()) {
    EXPECT_EQ(to_hex(encode(vec.value)), vec.hex) << vec.name;
  }
}

TEST(CborAppendixA, DecodesToTheSameValueAndReencodesIdentically) {
  for (const auto& vec : appendix_vectors()) {
    const DecodeLimits limits = vec.is_map ? with_maps() : DecodeLimits{};
    auto decoded = decode(hex(vec.hex), limits);
    ASSERT_TRUE(decoded.ok()) << vec.name << ": " << decoded.error().message;
    EXPECT_TRUE(same_value(*decoded, vec.value)) << vec.name;
    EXPECT_EQ(to_hex(encode(*decoded)), vec.hex) << vec.name;
  }
}

TEST(CborAppendixA, DecodedScalarsHaveTheRightTypesAndValues) {
  auto big = decode(hex("1bffffffffffffffff"));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->type(), Type::kUnsigned);
  EXPECT_EQ(big->as_uint(), std::numeric_limits<uint64_t>::max());

  auto most_negative = decode(hex("3bffffffffffffffff"));
  ASSERT_TRUE(most_negative.ok());
  EXPECT_EQ(most_negative->type(), Type::kNegative);
  EXPECT_EQ(most_negative->negative_n(), std::numeric_limits<uint64_t>::max());

  auto water = decode(hex("63e6b0b4"));
  ASSERT_TRUE(water.ok());
  EXPECT_EQ(water->as_text(), "\u6c34");

  auto bytes = decode(hex("4401020304"));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->as_bytes(), (Bytes{1, 2, 3, 4}));

  auto t = decode(hex("f5"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->type(), Type::kBool);
  EXPECT_TRUE(t->as_bool());

  auto n = decode(hex("f6"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->type(), Type::kNull);
}

// ---- Writer and Value details ----

TEST(CborWriter, NegativeInt64WritesMajorTypeOne) {
  EXPECT_EQ(to_hex(written([](Writer& w) { w.int64(-1); })), "20");
  EXPECT_EQ(to_hex(written([](Writer& w) { w.int64(-25); })), "3818");
  EXPECT_EQ(to_hex(written([](Writer& w) { w.int64(std::numeric_limits<int64_t>::min()); })),
            "3b7fffffffffffffff");
  EXPECT_EQ(to_hex(written([](Writer& w) { w.int64(std::numeric_limits<int64_t>::max()); })),
            "1b7fffffffffffffff");
}

TEST(CborWriter, ShortestFormAtEveryWidthBoundary) {
  const std::vector<std::pair<uint64_t, std::string>> cases = {
      {23, "17"},
      {24, "1818"},
      {255, "18ff"},
      {256, "190100"},
      {65535, "19ffff"},
      {65536, "1a00010000"},
      {4294967295u, "1affffffff"},
      {4294967296u, "1b0000000100000000"},
  };
  for (const auto& [n, h] : cases) {
    EXPECT_EQ(to_hex(written([n = n](Writer& w) { w.uint(n); })), h);
    auto back = decode(hex(h));
    ASSERT_TRUE(back.ok()) << h;
    EXPECT_EQ(back->as_uint(), n);
  }
  // Lengths follow the same rule.
  EXPECT_EQ(to_hex(written([](Writer& w) { w.bytes(Bytes(24, 0)); })).substr(0, 4), "5818");
  EXPECT_EQ(to_hex(written([](Writer& w) { w.array(256); })), "990100");
  EXPECT_EQ(to_hex(written([](Writer& w) { w.map(65536); })), "ba00010000");
}

TEST(CborWriter, AppendsToExistingBuffer) {
  Bytes out = {0xaa};
  Writer w(out);
  w.uint(1);
  w.text("x");
  EXPECT_EQ(to_hex(out), "aa016178");
}

TEST(CborValue, ToInt64CoversExactlyTheInt64Range) {
  EXPECT_EQ(*Value::unsigned_int(0).to_int64(), 0);
  EXPECT_EQ(*Value::integer(std::numeric_limits<int64_t>::max()).to_int64(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*Value::integer(std::numeric_limits<int64_t>::min()).to_int64(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*Value::integer(-1).to_int64(), -1);
  EXPECT_FALSE(Value::unsigned_int(uint64_t{1} << 63).to_int64().ok());
  EXPECT_FALSE(Value::negative_int(uint64_t{1} << 63).to_int64().ok());
  EXPECT_FALSE(Value::text_string("1").to_int64().ok());
  EXPECT_FALSE(Value::null().to_int64().ok());
}

TEST(CborValue, IntegerPicksTheMajorTypeBySign) {
  EXPECT_EQ(Value::integer(5).type(), Type::kUnsigned);
  EXPECT_EQ(Value::integer(-5).type(), Type::kNegative);
  EXPECT_EQ(Value::integer(-5).negative_n(), 4u);
}

// ---- Acceptance at the edges of each rule ----

TEST(CborDecode, AcceptsValidUtf8AtEveryBoundary) {
  for (const char* h : {"617f", "62c280", "62dfbf", "63e0a080", "63ed9fbf", "63ee8080", "63efbfbf",
                        "64f0908080", "64f48fbfbf", "64f1808080"}) {
    auto v = decode(hex(h));
    EXPECT_TRUE(v.ok()) << h << ": " << (v.ok() ? "" : v.error().message);
  }
  // Long ASCII with one multi-byte character after the eight-byte fast path.
  std::string text(40, 'x');
  text += "\u00e9";
  Bytes in;
  Writer(in).text(text);
  auto v = decode(in);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->as_text(), text);
}

TEST(CborDecode, AcceptsCanonicallyOrderedKeysOfDifferentLengths) {
  // 10 (0x0a) sorts before 100 (0x18 0x64) and before "a" (0x61 0x61): bytewise on encodings.
  auto v = decode(hex("a30a001864006161f6"), with_maps());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->as_map().size(), 3u);
}

TEST(CborDecode, AcceptsNestingExactlyAtTheLimit) {
  Bytes in(16, 0x81);
  in.back() = 0x80;  // 16 arrays deep, the innermost empty
  EXPECT_TRUE(decode(in).ok());
}

TEST(CborDecode, AcceptsExactlyMaxItems) {
  DecodeLimits limits;
  limits.max_items = 4;
  EXPECT_TRUE(decode(hex("83010203"), limits).ok());
}

// ---- One test per rejection rule ----

TEST(CborReject, RejectsNonShortestInteger) {
  EXPECT_THAT(decode_error("1805"), HasSubstr("offset 0: non-shortest integer"));
  EXPECT_THAT(decode_error("1817"), HasSubstr("non-shortest integer"));
  EXPECT_THAT(decode_error("1900ff"), HasSubstr("non-shortest integer"));
  EXPECT_THAT(decode_error("1a0000ffff"), HasSubstr("non-shortest integer"));
  EXPECT_THAT(decode_error("1b00000000ffffffff"), HasSubstr("non-shortest integer"));
  EXPECT_THAT(decode_error("3805"), HasSubstr("non-shortest integer"));
  EXPECT_THAT(decode_error("82011805"), HasSubstr("offset 2: non-shortest integer"));
}

TEST(CborReject, RejectsNonShortestLength) {
  EXPECT_THAT(decode_error("580100"), HasSubstr("offset 0: non-shortest length"));
  EXPECT_THAT(decode_error("78016161"), HasSubstr("non-shortest length"));
  EXPECT_THAT(decode_error("79000161"), HasSubstr("non-shortest length"));
  EXPECT_THAT(decode_error("980100"), HasSubstr("non-shortest length"));
  EXPECT_THAT(decode_error("b8010102", with_maps()), HasSubstr("non-shortest length"));
}

TEST(CborReject, RejectsIndefiniteLength) {
  // Additional information 31 under every major type that has a length or argument.
  for (const char* h : {"5fff", "7fff", "9fff", "1f", "3f"}) {
    EXPECT_THAT(decode_error(h), HasSubstr("offset 0: indefinite length")) << h;
  }
  EXPECT_THAT(decode_error("bfff", with_maps()), HasSubstr("indefinite length"));
  EXPECT_THAT(decode_error("ff"), HasSubstr("indefinite length"));  // a lone break code
  EXPECT_THAT(decode_error("8101ff"), HasSubstr("offset 2"));
}

TEST(CborReject, RejectsReservedAdditionalInfo) {
  for (const char* h : {"1c", "1d", "1e", "3c", "5c", "7d", "9e", "fc", "fd", "fe"}) {
    EXPECT_THAT(decode_error(h), HasSubstr("offset 0: reserved additional information")) << h;
  }
  EXPECT_THAT(decode_error("bc", with_maps()), HasSubstr("reserved additional information"));
}

TEST(CborReject, RejectsMapWhenSchemaHasNone) {
  EXPECT_THAT(decode_error("a0"), HasSubstr("offset 0: map not allowed"));
  EXPECT_THAT(decode_error("8201a10102"), HasSubstr("offset 2: map not allowed"));
}

TEST(CborReject, RejectsUnsortedMapKeys) {
  EXPECT_THAT(decode_error("a203040102", with_maps()),
              HasSubstr("offset 3: map keys not in canonical order"));
  // Bytewise order of encodings, not numeric or length-first-by-value: 100 > 10.
  EXPECT_THAT(decode_error("a21864000a00", with_maps()), HasSubstr("not in canonical order"));
  // Text keys: "b" before "a" is out of order; an array key sorts by its encoding too.
  EXPECT_THAT(decode_error("a2616201616101", with_maps()), HasSubstr("not in canonical order"));
  EXPECT_THAT(decode_error("a282010200810100", with_maps()), HasSubstr("not in canonical order"));
}

TEST(CborReject, RejectsDuplicateMapKeys) {
  EXPECT_THAT(decode_error("a201020103", with_maps()), HasSubstr("offset 3: duplicate map key"));
  EXPECT_THAT(decode_error("a2616101616102", with_maps()), HasSubstr("duplicate map key"));
  EXPECT_THAT(decode_error("a282010200820102f6", with_maps()), HasSubstr("duplicate map key"));
}

TEST(CborReject, RejectsTrailingBytes) {
  EXPECT_THAT(decode_error("0000"), HasSubstr("offset 1: trailing bytes"));
  EXPECT_THAT(decode_error("80f6f6"), HasSubstr("offset 1: trailing bytes"));
}

TEST(CborReject, RejectsNestingBeyondLimit) {
  Bytes in(17, 0x81);
  in.back() = 0x80;  // 17 arrays deep
  auto v = decode(in);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("offset 16: nesting deeper than max_depth=16"));

  DecodeLimits shallow;
  shallow.max_depth = 1;
  EXPECT_TRUE(decode(hex("820102"), shallow).ok());
  EXPECT_THAT(decode_error("8180", shallow), HasSubstr("nesting deeper than max_depth=1"));

  // A deep bomb is refused at the limit, however deep it claims to go.
  Bytes bomb(100000, 0x81);
  auto deep = decode(bomb);
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.error().message, HasSubstr("nesting deeper"));
}

TEST(CborReject, RejectsDeclaredLengthLargerThanInput) {
  EXPECT_THAT(decode_error("44010203"), HasSubstr("offset 0: declared length 4 larger"));
  EXPECT_THAT(decode_error("7affffffff61"), HasSubstr("declared length"));
  // Arrays and maps: each element needs at least one byte.
  EXPECT_THAT(decode_error("830102"), HasSubstr("declared length of 3 items larger"));
  EXPECT_THAT(decode_error("9bffffffffffffffff00"), HasSubstr("declared length"));
  EXPECT_THAT(decode_error("a2010201", with_maps()), HasSubstr("declared length of 2 pairs"));
  EXPECT_THAT(decode_error("82018201"), HasSubstr("offset 2: declared length"));
}

TEST(CborReject, RejectsOneGibibyteDeclaredLengthWithoutAllocating) {
  // A byte string claiming 2^30 bytes, then four bytes of content: nine bytes in all.
  const Bytes in = hex("5a4000000001020304");
  ASSERT_EQ(in.size(), 9u);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  auto v = decode(in);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("offset 0: declared length 1073741824 larger"));
  // Touching a 1 GiB buffer would raise the peak resident set by about that much.
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "KiB of peak RSS growth";
}

TEST(CborReject, RejectsNestedHeadersThatEachClaimTheRestOfTheInput) {
  // Sixteen arrays, each declaring as many items as bytes remain after its head; the innermost
  // is filled, and the input then ends with every outer array still open.
  constexpr size_t kSize = 1 << 20;
  Bytes in;
  for (int level = 0; level < 16; ++level) {
    Writer(in).array(kSize - in.size() - 5);  // each head is five bytes here
  }
  in.resize(kSize, 0x00);
  auto v = decode(in);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("unexpected end of input"));
}

TEST(CborDecode, DecodesALargeArray) {
  Bytes in;
  Writer w(in);
  w.array(100000);
  for (uint64_t i = 0; i < 100000; ++i) w.uint(i);
  DecodeLimits limits;
  limits.max_items = 200000;
  auto v = decode(in, limits);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->as_array().size(), 100000u);
  EXPECT_EQ(v->as_array().back().as_uint(), 99999u);
  EXPECT_EQ(encode(*v), in);
}

TEST(CborReject, RejectsTooManyItems) {
  DecodeLimits limits;
  limits.max_items = 3;
  EXPECT_THAT(decode_error("83010203", limits), HasSubstr("offset 3: too many items"));
  limits.max_items = 1;
  EXPECT_THAT(decode_error("8100", limits), HasSubstr("too many items"));
}

TEST(CborReject, RejectsInvalidUtf8) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"62c080", "overlong"},      // U+0000 in two bytes
      {"62c1bf", "overlong"},      // U+007F in two bytes
      {"63e08080", "overlong"},    // three-byte overlong
      {"63e09fbf", "overlong"},    // U+07FF in three bytes
      {"64f0808080", "overlong"},  // four-byte overlong
      {"64f08fbfbf", "overlong"},  // U+FFFF in four bytes
      {"63eda080", "surrogate"},   // U+D800
      {"63edbfbf", "surrogate"},   // U+DFFF
      {"64f4908080", "above U+10FFFF"},
      {"64f5808080", "above U+10FFFF"},
      {"61ff", "never occurs"},
      {"6180", "unexpected continuation"},
      {"61c3", "truncated"},
      {"62e282", "truncated"},
      {"63f09080", "truncated"},
      {"62c341", "invalid continuation"},
      {"63e28241", "invalid continuation"},
  };
  for (const auto& [h, reason] : cases) {
    const std::string message = decode_error(h);
    EXPECT_THAT(message, HasSubstr("invalid UTF-8")) << h;
    EXPECT_THAT(message, HasSubstr(reason)) << h;
  }
  // The offset points at the offending byte inside the input.
  EXPECT_THAT(decode_error("65616263ff61"), HasSubstr("offset 4: invalid UTF-8"));
}

TEST(CborReject, RejectsTag) {
  EXPECT_THAT(decode_error("c11a514b67b0"), HasSubstr("offset 0: tag"));
  EXPECT_THAT(decode_error("d818456449455446"), HasSubstr("tag"));
  EXPECT_THAT(decode_error("8201c000"), HasSubstr("offset 2: tag"));
}

TEST(CborReject, RejectsFloat) {
  EXPECT_THAT(decode_error("f90000"), HasSubstr("offset 0: float"));
  EXPECT_THAT(decode_error("fa47c35000"), HasSubstr("float"));
  EXPECT_THAT(decode_error("fb3ff199999999999a"), HasSubstr("float"));
}

TEST(CborReject, RejectsUnassignedSimple) {
  EXPECT_THAT(decode_error("e0"), HasSubstr("offset 0: unassigned simple value 0"));
  EXPECT_THAT(decode_error("f3"), HasSubstr("unassigned simple value 19"));
  EXPECT_THAT(decode_error("f7"), HasSubstr("simple value 23 (undefined)"));
  EXPECT_THAT(decode_error("f820"), HasSubstr("two-byte simple value"));
  EXPECT_THAT(decode_error("f8ff"), HasSubstr("two-byte simple value"));
  EXPECT_THAT(decode_error("f814"), HasSubstr("two-byte simple value"));  // false, non-shortest
}

TEST(CborReject, RejectsEmptyInput) {
  auto v = decode(ByteSpan{});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("offset 0: empty input"));
}

TEST(CborReject, RejectsTruncatedHead) {
  for (const char* h :
       {"18", "1900", "1a000000", "1b00000000000000", "59", "7a0000", "99ff", "3b"}) {
    EXPECT_THAT(decode_error(h), HasSubstr("offset 0: truncated head")) << h;
  }
  EXPECT_THAT(decode_error("820118"), HasSubstr("offset 2: truncated head"));
}

TEST(CborReject, RejectsContainerMissingItems) {
  // Counts pass the one-byte-per-item check, but the input ends inside the container.
  EXPECT_THAT(decode_error("82420000"), HasSubstr("offset 4: unexpected end of input"));
  EXPECT_THAT(decode_error("82814100"), HasSubstr("unexpected end of input"));
}

// ---- Round-trip property ----

class RandomDocument {
 public:
  explicit RandomDocument(uint64_t seed) : rng_(seed) {}

  Value value(int depth) {
    const int kinds = depth >= 6 ? 7 : 9;
    switch (pick(kinds)) {
      case 0:
        return Value::unsigned_int(interesting_uint());
      case 1:
        return Value::negative_int(interesting_uint());
      case 2: {
        Bytes b(pick(3) == 0 ? pick(300) : pick(8));
        for (auto& byte : b) byte = static_cast<uint8_t>(rng_());
        return Value::byte_string(std::move(b));
      }
      case 3:
        return Value::text_string(text());
      case 4:
        return Value::boolean(pick(2) == 1);
      case 5:
        return Value::null();
      case 6:
        return Value::integer(static_cast<int64_t>(rng_()));
      case 7: {
        Value::Array items(pick(pick(10) == 0 ? 40 : 5));
        for (auto& item : items) item = value(depth + 1);
        return Value::array(std::move(items));
      }
      default:
        return map(depth);
    }
  }

 private:
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // Concentrated near the width boundaries, where encoders go wrong.
  uint64_t interesting_uint() {
    static constexpr uint64_t kEdges[] = {
        0, 23, 24, 255, 256, 65535, 65536, 4294967295u, 4294967296u, UINT64_MAX - 1, UINT64_MAX};
    switch (pick(3)) {
      case 0:
        return kEdges[pick(std::size(kEdges))];
      case 1:
        return rng_() >> pick(64);
      default:
        return pick(30);
    }
  }

  std::string text() {
    static constexpr const char* kPieces[] = {
        "a",      "Z",      " ",      "\"",         "\\",         "\u00fc", "\u07ff",
        "\u0800", "\u6c34", "\uffff", "\U00010151", "\U0010ffff", "\x7f",   "\x01"};
    std::string s;
    const uint64_t n = pick(4) == 0 ? pick(60) : pick(6);
    for (uint64_t i = 0; i < n; ++i) s += kPieces[pick(std::size(kPieces))];
    return s;
  }

  // Keys are sorted by their encodings and deduplicated, as a canonical map must be.
  Value map(int depth) {
    std::vector<std::pair<Bytes, Value>> keyed;
    const uint64_t n = pick(6);
    for (uint64_t i = 0; i < n; ++i) {
      Value key = value(depth + 1);
      Bytes encoded = encode(key);
      keyed.emplace_back(std::move(encoded), std::move(key));
    }
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    keyed.erase(std::unique(keyed.begin(), keyed.end(),
                            [](const auto& x, const auto& y) { return x.first == y.first; }),
                keyed.end());
    Value::Map pairs;
    for (auto& [encoded, key] : keyed) pairs.emplace_back(std::move(key), value(depth + 1));
    return Value::map(std::move(pairs));
  }

  std::mt19937_64 rng_;
};

TEST(CborRoundTrip, RandomDocumentsDecodeToThemselvesAndReencodeIdentically) {
  RandomDocument gen(0x5249544d41);  // "RITMA"
  DecodeLimits limits = with_maps();
  for (int i = 0; i < 3000; ++i) {
    const Value original = gen.value(1);
    const Bytes encoded = encode(original);
    auto decoded = decode(encoded, limits);
    ASSERT_TRUE(decoded.ok()) << "document " << i << ": " << decoded.error().message << "\n"
                              << to_hex(encoded);
    ASSERT_TRUE(same_value(*decoded, original)) << "document " << i;
    ASSERT_EQ(encode(*decoded), encoded) << "document " << i;
  }
}

TEST(CborRoundTrip, EveryProperPrefixOfAValidDocumentIsRejected) {
  // Truncation anywhere must fail, never crash or succeed.
  RandomDocument gen(7);
  for (int i = 0; i < 200; ++i) {
    const Bytes encoded = encode(gen.value(1));
    for (size_t len = 0; len < encoded.size(); ++len) {
      ASSERT_FALSE(decode(ByteSpan(encoded).first(len), with_maps()).ok())
          << to_hex(encoded) << " cut at " << len;
    }
  }
}

TEST(CborRoundTrip, SingleByteFlipsNeverYieldANonCanonicalAcceptance) {
  // Any mutation that still decodes must re-encode to the mutated bytes exactly.
  RandomDocument gen(11);
  for (int i = 0; i < 60; ++i) {
    Bytes encoded = encode(gen.value(1));
    for (size_t at = 0; at < encoded.size(); ++at) {
      for (uint8_t bit : {0x01, 0x02, 0x10, 0x20, 0x80}) {
        encoded[at] ^= bit;
        auto decoded = decode(encoded, with_maps());
        if (decoded.ok()) {
          ASSERT_EQ(encode(*decoded), encoded);
        }
        encoded[at] ^= bit;
      }
    }
  }
}

}  // namespace
}  // namespace ritma::cbor
