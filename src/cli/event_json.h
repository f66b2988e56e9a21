// One event as JSON, the same object `ritma events --json` prints (every field; time in local
// RFC 3339; errno name for failed syscalls). Shared by the commands that show events.
#pragma once

#include <nlohmann/json.hpp>

#include "capture/event.h"

namespace ritma::cli {

nlohmann::json event_to_json(const capture::Event& e);

}  // namespace ritma::cli
