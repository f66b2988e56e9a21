// What eBPF capture this kernel allows, measured by trying: each probe loads a tiny
// hand-written BPF program (or creates a map), attaches it where the sensor would, observes
// the result and detaches again. Nothing is inferred from kernel config files.
//
// Report names (stable; `ritma doctor --json` prints them): btf, bpf_syscall, ringbuf,
// raw_tracepoint, btf_tracepoint, tracepoint, kprobe, fentry, bpf_lsm.
#pragma once

#include <span>
#include <vector>

#include "core/feature_report.h"

namespace ritma::capture {

// True when the effective capability set holds CAP_SYS_ADMIN, or both CAP_BPF and
// CAP_PERFMON: enough to load and attach tracing programs. Without it, a refusal is reported
// as not_permitted rather than unavailable.
bool has_bpf_privileges();

// Runs every capture probe, in the order of the names above. Raises RLIMIT_MEMLOCK to
// infinity when permitted (kernels before 5.11 charge BPF memory to it). libbpf's own log is
// captured for the run (its last message ends up in a detail) and the previous printer is
// restored afterwards. Leaves no program, map, link or perf event behind. Not thread-safe:
// libbpf's printer is process-global.
std::vector<FeatureReport> probe_capture_features();

// Whether the sensor's base can run: bpf() usable, vmlinux BTF (CO-RE), a BPF ring buffer,
// and raw or BTF tracepoints. kprobe, fentry, bpf_lsm and classic tracepoints are optional.
Readiness assess_capture(std::span<const FeatureReport> reports);

}  // namespace ritma::capture
