// FeatureReport: the outcome of one kernel feature probe (`ritma doctor`, `requiem doctor`).
// A probe tries the feature for real (loads, attaches, restricts, creates) and records what it
// observed; it never infers availability from configuration files alone.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ritma {

struct FeatureReport {
  enum class Status {
    kAvailable,     // tried, and it worked
    kUnavailable,   // tried as a sufficiently privileged user, and the kernel refused
    kNotPermitted,  // refused, but only because this process lacks privileges
    kError,         // the probe itself failed in an unexpected way; says nothing either way
  };

  std::string name;  // stable, machine-readable: "raw_tracepoint", "seccomp", ...
  Status status = Status::kError;
  std::string detail;  // what was tried and observed, e.g. "load failed: EPERM"
  std::string cost;    // what the user loses without it; empty when available

  bool available() const { return status == Status::kAvailable; }
};

// "available", "unavailable", "not_permitted" or "error" (the JSON spelling).
constexpr std::string_view to_string(FeatureReport::Status s) {
  switch (s) {
    case FeatureReport::Status::kAvailable:
      return "available";
    case FeatureReport::Status::kUnavailable:
      return "unavailable";
    case FeatureReport::Status::kNotPermitted:
      return "not_permitted";
    case FeatureReport::Status::kError:
      return "error";
  }
  return "error";
}

// A report whose `cost` is filled in only when the feature is not available.
inline FeatureReport make_report(std::string name, FeatureReport::Status status,
                                 std::string detail, std::string_view cost_if_missing) {
  FeatureReport r;
  r.name = std::move(name);
  r.status = status;
  r.detail = std::move(detail);
  if (status != FeatureReport::Status::kAvailable) r.cost = std::string(cost_if_missing);
  return r;
}

// What a set of probes means for one part of the product, e.g. "capture: ready (...)".
struct Readiness {
  bool ready = false;
  std::string summary;  // one line for people
};

}  // namespace ritma
