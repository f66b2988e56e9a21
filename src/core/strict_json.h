// JSON text parsed strictly, for input from outside (requests, tokens, key sets): a first pass
// over the text refuses what nlohmann would accept silently or only at a cost (duplicate member
// names, which it collapses to the last; nesting deep enough to exhaust the stack), and reports
// the parser's own error with its position, all without exceptions. Only then is the document
// built.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/result.h"

namespace ritma {

// Errors: "not valid JSON: <the parser's message>", "nested deeper than N levels",
// "duplicate member name \"k\"". Invalid UTF-8 in a string, comments and trailing bytes are
// "not valid JSON".
Result<nlohmann::json> parse_strict_json(std::string_view text, int max_depth);

}  // namespace ritma
