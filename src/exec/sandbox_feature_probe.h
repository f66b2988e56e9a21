// What sandboxing this kernel allows, measured by trying: each probe forks a child that
// applies the mechanism to itself (a user namespace, a seccomp filter, a Landlock ruleset)
// and checks that it took effect, or creates and removes a real child cgroup. The calling
// process is never restricted, and nothing is left behind.
//
// Report names (stable; `requiem doctor --json` prints them): user_namespaces, seccomp,
// landlock, cgroups.
#pragma once

#include <span>
#include <vector>

#include "core/feature_report.h"

namespace ritma::exec {

// Runs every sandbox probe, in the order of the names above. Forks (and reaps) a few short
// children; call it before starting threads. Cgroup probes create
// <hierarchy>/<own cgroup>/ritma-doctor-<pid>/probe and remove it again.
std::vector<FeatureReport> probe_sandbox_features();

// Whether the full sandbox can be built: user namespaces, seccomp, Landlock and cgroup limits
// (memory and pids) all available.
Readiness assess_sandbox(std::span<const FeatureReport> reports);

}  // namespace ritma::exec
