// The JSON view of CBOR: each kind's rendering, the 2^53 cut-over for integers, and both map
// shapes (objects for all-text keys, [key, value] pairs otherwise).
#include "core/cbor_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace ritma::cbor {
namespace {

using nlohmann::json;

constexpr uint64_t kTwoTo53 = uint64_t{1} << 53;

TEST(CborJson, BytesRenderAsLowercaseHex) {
  EXPECT_EQ(to_json(Value::byte_string({0xde, 0xad, 0xBE, 0xef})), json("deadbeef"));
  EXPECT_EQ(to_json(Value::byte_string({})), json(""));
}

TEST(CborJson, ScalarsMapToTheirJsonKinds) {
  EXPECT_EQ(to_json(Value::text_string("h\u00e9")), json("h\u00e9"));
  EXPECT_EQ(to_json(Value::boolean(true)), json(true));
  EXPECT_EQ(to_json(Value::boolean(false)), json(false));
  EXPECT_EQ(to_json(Value::null()), json(nullptr));
  EXPECT_EQ(to_json(Value::unsigned_int(0)), json(0));
  EXPECT_EQ(to_json(Value::integer(-1)), json(-1));
  EXPECT_TRUE(to_json(Value::unsigned_int(7)).is_number_integer());
}

TEST(CborJson, IntegersWithinTwoToThe53AreNumbers) {
  EXPECT_EQ(to_json(Value::unsigned_int(kTwoTo53)).dump(), "9007199254740992");
  EXPECT_EQ(to_json(Value::integer(-static_cast<int64_t>(kTwoTo53))).dump(), "-9007199254740992");
}

TEST(CborJson, IntegersBeyondTwoToThe53AreDecimalStrings) {
  EXPECT_EQ(to_json(Value::unsigned_int(kTwoTo53 + 1)), json("9007199254740993"));
  EXPECT_EQ(to_json(Value::integer(-static_cast<int64_t>(kTwoTo53) - 1)),
            json("-9007199254740993"));
  EXPECT_EQ(to_json(Value::unsigned_int(std::numeric_limits<uint64_t>::max())),
            json("18446744073709551615"));
  EXPECT_EQ(to_json(Value::integer(std::numeric_limits<int64_t>::min())),
            json("-9223372036854775808"));
  // -2^64, whose magnitude does not fit in uint64_t.
  EXPECT_EQ(to_json(Value::negative_int(std::numeric_limits<uint64_t>::max())),
            json("-18446744073709551616"));
  EXPECT_EQ(to_json(Value::negative_int(9999999999999999999u)), json("-10000000000000000000"));
}

TEST(CborJson, ArraysNest) {
  const Value v =
      Value::array({Value::unsigned_int(1), Value::array({Value::text_string("a"), Value::null()}),
                    Value::array({})});
  EXPECT_EQ(to_json(v).dump(), R"([1,["a",null],[]])");
}

TEST(CborJson, MapWithAllTextKeysIsAnObject) {
  const Value v = Value::map({{Value::text_string("a"), Value::unsigned_int(1)},
                              {Value::text_string("bb"), Value::byte_string({0x01})}});
  EXPECT_EQ(to_json(v), json::parse(R"({"a":1,"bb":"01"})"));
  EXPECT_TRUE(to_json(Value::map({})).is_object());
}

TEST(CborJson, MapWithAnyNonTextKeyIsAnArrayOfPairs) {
  const Value ints = Value::map({{Value::unsigned_int(1), Value::unsigned_int(2)},
                                 {Value::unsigned_int(3), Value::unsigned_int(4)}});
  EXPECT_EQ(to_json(ints).dump(), "[[1,2],[3,4]]");
  const Value mixed = Value::map({{Value::unsigned_int(1), Value::boolean(true)},
                                  {Value::text_string("a"), Value::byte_string({0xff})}});
  EXPECT_EQ(to_json(mixed).dump(), R"([[1,true],["a","ff"]])");
}

TEST(CborJson, DecodedDocumentRendersAsExpected) {
  // {"a": 1, "b": [2, 3]} from RFC 8949 Appendix A, plus a byte string and a negative number.
  auto bytes = from_hex("a461610161628202036163420a0b616439ffff");
  ASSERT_TRUE(bytes.ok());
  DecodeLimits limits;
  limits.allow_maps = true;
  auto v = decode(*bytes, limits);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(to_json(*v).dump(), R"({"a":1,"b":[2,3],"c":"0a0b","d":-65536})");
}

}  // namespace
}  // namespace ritma::cbor
