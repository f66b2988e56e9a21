#include "core/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace ritma {
namespace {

using nlohmann::json;

// For a message: a name from the input, JSON-escaped (ASCII only) and cut at 64 bytes.
std::string quoted_name(std::string_view s) {
  std::string q =
      json(std::string(s.substr(0, 64))).dump(-1, ' ', true, json::error_handler_t::replace);
  if (s.size() > 64) q += "...";
  return q;
}

class StrictJsonCheck final : public json::json_sax_t {
 public:
  explicit StrictJsonCheck(int max_depth) : max_depth_(max_depth) {}
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return deeper();
  }
  bool key(string_t& k) override {
    if (keys_.back().insert(k).second) return true;
    error = "duplicate member name " + quoted_name(k);
    return false;
  }
  bool end_object() override { return shallower(); }
  bool start_array(std::size_t) override {
    keys_.emplace_back();  // keeps keys_.size() == depth_
    return deeper();
  }
  bool end_array() override { return shallower(); }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // nlohmann's message quotes the bytes it read; escape them like any other input.
    const std::string what =
        json(std::string(ex.what())).dump(-1, ' ', true, json::error_handler_t::replace);
    error = "not valid JSON: " + what.substr(1, std::min<size_t>(what.size() - 2, 400));
    return false;
  }

 private:
  bool deeper() {
    if (++depth_ <= max_depth_) return true;
    error = "nested deeper than " + std::to_string(max_depth_) + " levels";
    return false;
  }
  bool shallower() {
    keys_.pop_back();
    --depth_;
    return true;
  }
  int max_depth_;
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

Result<nlohmann::json> parse_strict_json(std::string_view text, int max_depth) {
  try {
    StrictJsonCheck check(max_depth);
    if (!json::sax_parse(text, &check, json::input_format_t::json, /*strict=*/true,
                         /*ignore_comments=*/false)) {
      return make_error(check.error.empty() ? "not valid JSON" : check.error);
    }
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return make_error("not valid JSON");
    return value;
  } catch (const std::exception&) {
    // Only allocation can throw here: the parser reports through the checker.
    return make_error("not valid JSON");
  }
}

}  // namespace ritma
