// The verification report (seal::VerifyReport) as one JSON object: every count, key, unsealed
// item and problem. `ritma verify --json` prints it; the viewer serves it.
#pragma once

#include <nlohmann/json.hpp>

#include "seal/store_verifier.h"

namespace ritma::cli {

nlohmann::json verify_report_to_json(const seal::VerifyReport& r);

}  // namespace ritma::cli
