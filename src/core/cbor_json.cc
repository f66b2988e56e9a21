// The JSON view of decoded CBOR (see cbor_json.h): what `ritma` prints and the web viewer reads.
#include "core/cbor_json.h"

#include <string>

namespace ritma::cbor {
namespace {

// JavaScript numbers are exact up to 2^53; beyond that a viewer would silently round.
constexpr uint64_t kMaxExactJsonMagnitude = uint64_t{1} << 53;

// Decimal of n + 1 without overflowing when n is UINT64_MAX (the value -2^64).
std::string decimal_plus_one(uint64_t n) {
  std::string digits = std::to_string(n);
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it != '9') {
      ++*it;
      return digits;
    }
    *it = '0';
  }
  return "1" + digits;
}

}  // namespace

nlohmann::json to_json(const Value& v) {
  switch (v.type()) {
    case Type::kUnsigned:
      if (v.as_uint() <= kMaxExactJsonMagnitude) return v.as_uint();
      return std::to_string(v.as_uint());
    case Type::kNegative:
      // The value is -1 - n, so its magnitude is n + 1.
      if (v.negative_n() < kMaxExactJsonMagnitude) return -1 - static_cast<int64_t>(v.negative_n());
      return "-" + decimal_plus_one(v.negative_n());
    case Type::kBytes:
      return to_hex(v.as_bytes());
    case Type::kText:
      return v.as_text();
    case Type::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (const Value& item : v.as_array()) out.push_back(to_json(item));
      return out;
    }
    case Type::kMap: {
      const Value::Map& pairs = v.as_map();
      bool all_text_keys = true;
      for (const auto& pair : pairs)
        all_text_keys = all_text_keys && pair.first.type() == Type::kText;
      if (all_text_keys) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, value] : pairs) out[key.as_text()] = to_json(value);
        return out;
      }
      nlohmann::json out = nlohmann::json::array();
      for (const auto& [key, value] : pairs) {
        out.push_back(nlohmann::json::array({to_json(key), to_json(value)}));
      }
      return out;
    }
    case Type::kBool:
      return v.as_bool();
    case Type::kNull:
      return nullptr;
  }
  return nullptr;  // unreachable: every Type is handled above
}

}  // namespace ritma::cbor
