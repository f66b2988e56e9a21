// Ritma events as SIEM records: Elastic Common Schema (ECS) and Open Cybersecurity Schema
// Framework (OCSF) JSON objects, one per event, for `ritma events --format ecs|ocsf`.
//
// Schemas followed: ECS 8.11 (field reference and the event.category / event.type allowed
// values) and OCSF 1.1.0 (classes 0, 1001, 1002, 1003, 1007, 4001, 4003, 6002). The mapping
// and its choices are listed in docs/SENSOR.md, "SIEM output".
#pragma once

#include <nlohmann/json.hpp>

#include "capture/event.h"

namespace ritma::cli {

inline constexpr const char* kEcsVersion = "8.11.0";
inline constexpr const char* kOcsfVersion = "1.1.0";

// One ECS document: @timestamp, event.*, process.*, user.*, file.*, destination.* ... and a
// `ritma` object with what ECS has no field for. Only what the event holds is set.
nlohmann::json to_ecs(const capture::Event& e);

// One OCSF event of the class that fits the event (Process Activity, File System Activity,
// Network Activity, DNS Activity, ...), with `unmapped` for what the class has no field for.
nlohmann::json to_ocsf(const capture::Event& e);

}  // namespace ritma::cli
