// `ritma doctor` and `requiem doctor`: what this kernel allows, measured by trying (see
// capture/bpf_feature_probe.h and exec/sandbox_feature_probe.h). The doctor reports; it does
// not judge: it exits 0 whenever the probes ran, whatever they found.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "capture/bpf_feature_probe.h"
#include "cli/commands.h"
#include "core/feature_report.h"
#include "exec/sandbox_feature_probe.h"

namespace ritma::cli {
namespace {

struct DoctorOptions {
  bool json = false;
};

struct KernelIdentity {
  std::string release;
  std::string machine;
};

KernelIdentity kernel_identity() {
  utsname u{};
  if (::uname(&u) != 0) return {"unknown", "unknown"};
  return {u.release, u.machine};
}

// The column mark of a status: ok / NO / n/a / ERR.
std::string_view mark(FeatureReport::Status s) {
  switch (s) {
    case FeatureReport::Status::kAvailable:
      return "ok";
    case FeatureReport::Status::kUnavailable:
      return "NO";
    case FeatureReport::Status::kNotPermitted:
      return "n/a";
    case FeatureReport::Status::kError:
      return "ERR";
  }
  return "ERR";
}

void print_human(const std::string& program, const KernelIdentity& kernel, bool with_capture,
                 bool bpf_privileged, const std::vector<FeatureReport>& features,
                 const Readiness* capture, const Readiness& sandbox) {
  const uid_t euid = ::geteuid();
  std::cout << program << " doctor: kernel " << kernel.release << " (" << kernel.machine
            << "), euid " << euid << (euid == 0 ? " (root)" : "") << "\n";
  if (with_capture && !bpf_privileged) {
    std::cout << "NOTE: not running as root (or with CAP_BPF+CAP_PERFMON): the BPF probes need\n"
                 "      those privileges. Probes refused for lack of them are marked n/a\n"
                 "      (not_permitted), which says nothing about what the kernel allows.\n"
                 "      Run `sudo "
              << program << " doctor` for the kernel's real answer.\n";
  }
  size_t name_width = 0;
  for (const auto& f : features) name_width = std::max(name_width, f.name.size());
  const std::string indent(2 + 4 + name_width + 2, ' ');
  for (const auto& f : features) {
    std::string m(mark(f.status));
    m.resize(4, ' ');
    std::string name = f.name;
    name.resize(name_width + 2, ' ');
    std::cout << "  " << m << name << f.detail << "\n";
    if (!f.available() && !f.cost.empty()) std::cout << indent << "cost: " << f.cost << "\n";
  }
  if (capture != nullptr) std::cout << capture->summary << "\n";
  std::cout << sandbox.summary << "\n";
  std::cout << "(ok = tried and works; NO = the kernel refused; n/a = not permitted for this "
               "user; ERR = the probe itself failed)\n";
}

void print_json(const std::string& scope, const KernelIdentity& kernel, bool with_capture,
                bool bpf_privileged, const std::vector<FeatureReport>& features,
                const Readiness* capture, const Readiness& sandbox) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& f : features) {
    list.push_back({{"name", f.name},
                    {"status", std::string(to_string(f.status))},
                    {"detail", f.detail},
                    {"cost", f.cost}});
  }
  nlohmann::ordered_json out = {{"kernel", kernel.release},
                                {"machine", kernel.machine},
                                {"euid", ::geteuid()},
                                {"scope", scope},
                                {"features", list}};
  // Never a false "ready" for probes that did not run: null when capture was not probed.
  out["capture_ready"] =
      capture != nullptr ? nlohmann::ordered_json(capture->ready) : nlohmann::ordered_json();
  if (capture != nullptr) out["capture_summary"] = capture->summary;
  out["sandbox_ready"] = sandbox.ready;
  out["sandbox_summary"] = sandbox.summary;
  if (with_capture) out["bpf_privileged"] = bpf_privileged;
  // Details may quote kernel logs: replace invalid UTF-8 rather than throw.
  std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

void run_doctor(const std::string& scope, const DoctorOptions& opts) {
  const bool with_capture = scope == "all";
  const std::string program = with_capture ? "ritma" : "requiem";
  const KernelIdentity kernel = kernel_identity();
  const bool bpf_privileged = with_capture && capture::has_bpf_privileges();

  if (with_capture && !bpf_privileged && opts.json) {
    std::cerr << program
              << " doctor: not running as root (or with CAP_BPF+CAP_PERFMON); BPF probes refused "
                 "for lack of privileges are reported as not_permitted\n";
  }

  std::vector<FeatureReport> features;
  std::optional<Readiness> capture_readiness;
  if (with_capture) {
    features = capture::probe_capture_features();
    capture_readiness = capture::assess_capture(features);
  }
  std::vector<FeatureReport> sandbox_features = exec::probe_sandbox_features();
  const Readiness sandbox_readiness = exec::assess_sandbox(sandbox_features);
  features.insert(features.end(), std::make_move_iterator(sandbox_features.begin()),
                  std::make_move_iterator(sandbox_features.end()));

  if (opts.json) {
    print_json(scope, kernel, with_capture, bpf_privileged, features,
               capture_readiness ? &*capture_readiness : nullptr, sandbox_readiness);
  } else {
    print_human(program, kernel, with_capture, bpf_privileged, features,
                capture_readiness ? &*capture_readiness : nullptr, sandbox_readiness);
  }
}

}  // namespace

void register_doctor_command(CLI::App& app, const std::string& scope) {
  auto opts = std::make_shared<DoctorOptions>();
  const std::string description =
      scope == "all"
          ? "Report what this kernel allows for capture (eBPF) and sandboxing, by trying each "
            "feature (BPF probes need root)"
          : "Report what sandboxing this kernel allows (user namespaces, seccomp, Landlock, "
            "cgroups), by trying each feature";
  CLI::App* doctor = app.add_subcommand("doctor", description);
  doctor->add_flag("--json", opts->json,
                   "Print {kernel, euid, features: [{name, status, detail, cost}], "
                   "capture_ready, sandbox_ready} as JSON");
  doctor->footer(
      "Statuses: available (tried and works), unavailable (the kernel refused),\n"
      "not_permitted (refused for lack of privileges), error (the probe itself failed).\n"
      "Exits 0 whenever the probes ran, whatever they found.");
  doctor->callback([opts, scope] { run_doctor(scope, *opts); });
}

}  // namespace ritma::cli
