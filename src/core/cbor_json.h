// The JSON view of a CBOR artifact, for people and for the web viewer. Byte strings render as
// lowercase hex strings; text, integers, booleans and null map to their JSON kinds; arrays to
// arrays; maps to objects when every key is text, else to an array of [key, value] pairs.
// Integers outside JSON's exact range (|v| > 2^53) render as decimal strings.
#pragma once

#include <nlohmann/json.hpp>

#include "core/cbor.h"

namespace ritma::cbor {

nlohmann::json to_json(const Value& v);

}  // namespace ritma::cbor
