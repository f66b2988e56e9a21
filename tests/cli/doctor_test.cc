// `ritma doctor` and `requiem doctor`, run as a user would. The shape tests hold anywhere; the
// machine test checks the verdicts against what this project's machines are measured to
// allow (kernel 6.18 with BTF: raw/BTF tracepoints and ring buffers load and attach; no
// kprobe PMU; fentry and lsm/* refused at load; user namespaces, seccomp, Landlock allowed).
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace ritma {
namespace {

using test::run_program;

const std::set<std::string> kStatuses = {"available", "unavailable", "not_permitted", "error"};
const std::set<std::string> kSandboxFeatures = {"user_namespaces", "seccomp", "landlock",
                                                "cgroups"};

nlohmann::json run_doctor_json(const std::string& program) {
  auto r = run_program({program, "doctor", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "not JSON:\n" << r.out;
  return parsed;
}

// name -> status
std::map<std::string, std::string> statuses(const nlohmann::json& report) {
  std::map<std::string, std::string> out;
  for (const auto& f : report.at("features")) out[f.at("name")] = f.at("status");
  return out;
}

// The kernel probes need root; without it, skip locally and fail in CI.
#define RITMA_REQUIRE_ROOT()                                                                  \
  do {                                                                                        \
    if (::geteuid() != 0) {                                                                   \
      if (test::in_ci()) FAIL() << "CI=true but not root: the doctor's BPF probes need root"; \
      GTEST_SKIP() << "not root: the doctor's BPF probes need root (or CAP_BPF+CAP_PERFMON)"; \
    }                                                                                         \
  } while (0)

TEST(Doctor, JsonHasTheDocumentedShape) {
  const auto report = run_doctor_json(RITMA_BIN);
  ASSERT_TRUE(report.is_object());
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(report.at("kernel"), u.release);
  EXPECT_EQ(report.at("euid"), ::geteuid());
  EXPECT_EQ(report.at("scope"), "all");
  EXPECT_TRUE(report.at("capture_ready").is_boolean());
  EXPECT_TRUE(report.at("sandbox_ready").is_boolean());
  const auto& features = report.at("features");
  ASSERT_TRUE(features.is_array());
  std::set<std::string> names;
  for (const auto& f : features) {
    const std::string name = f.at("name");
    const std::string status = f.at("status");
    EXPECT_TRUE(names.insert(name).second) << "duplicate feature " << name;
    EXPECT_TRUE(kStatuses.count(status)) << name << ": " << status;
    EXPECT_FALSE(f.at("detail").get<std::string>().empty()) << name;
    // A cost says what is lost, so exactly the features that are not available carry one.
    EXPECT_EQ(f.at("cost").get<std::string>().empty(), status == "available") << name;
  }
  for (const char* expected :
       {"btf", "bpf_syscall", "ringbuf", "raw_tracepoint", "btf_tracepoint", "tracepoint", "kprobe",
        "fentry", "bpf_lsm", "user_namespaces", "seccomp", "landlock", "cgroups"}) {
    EXPECT_TRUE(names.count(expected)) << "missing " << expected;
  }
}

TEST(Doctor, ReportsThisMachinesKernel) {
  RITMA_REQUIRE_ROOT();
  const auto report = run_doctor_json(RITMA_BIN);
  ASSERT_TRUE(report.is_object());
  const auto s = statuses(report);
  // Allowed here, and found by loading and attaching.
  EXPECT_EQ(s.at("btf"), "available");
  EXPECT_EQ(s.at("bpf_syscall"), "available");
  EXPECT_EQ(s.at("ringbuf"), "available");
  EXPECT_EQ(s.at("raw_tracepoint"), "available");
  EXPECT_EQ(s.at("btf_tracepoint"), "available");
  // Refused here: no kprobe PMU; fentry and lsm/* fail with EPERM at load.
  EXPECT_EQ(s.at("kprobe"), "unavailable");
  EXPECT_EQ(s.at("fentry"), "unavailable");
  EXPECT_EQ(s.at("bpf_lsm"), "unavailable");
  // Sandboxing.
  EXPECT_EQ(s.at("user_namespaces"), "available");
  EXPECT_EQ(s.at("seccomp"), "available");
  EXPECT_EQ(s.at("landlock"), "available");
  EXPECT_EQ(report.at("capture_ready"), true) << report.at("capture_summary");
  for (const auto& f : report.at("features")) {
    if (f.at("name") == "fentry" || f.at("name") == "bpf_lsm") {
      EXPECT_NE(f.at("detail").get<std::string>().find("EPERM"), std::string::npos) << f;
    }
    if (f.at("name") == "kprobe") {
      EXPECT_NE(f.at("detail").get<std::string>().find("no kprobe PMU"), std::string::npos) << f;
    }
  }
}

TEST(Doctor, HumanOutputHasOneLinePerFeature) {
  const auto report = run_doctor_json(RITMA_BIN);
  ASSERT_TRUE(report.is_object());
  auto r = run_program({RITMA_BIN, "doctor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::regex feature_line(R"(^  (ok|NO|n/a|ERR) +([a-z_]+) +\S.*$)");
  std::map<std::string, std::string> marks;  // name -> mark, from the human output
  std::istringstream lines(r.out);
  std::string line;
  bool capture_summary = false;
  bool sandbox_summary = false;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, feature_line)) {
      EXPECT_TRUE(marks.emplace(m[2], m[1]).second) << "two lines for " << m[2] << ":\n" << r.out;
    }
    capture_summary |= line.rfind("capture: ", 0) == 0;
    sandbox_summary |= line.rfind("sandbox: ", 0) == 0;
  }
  const std::map<std::string, std::string> expected_marks = {
      {"available", "ok"}, {"unavailable", "NO"}, {"not_permitted", "n/a"}, {"error", "ERR"}};
  const auto s = statuses(report);
  EXPECT_EQ(marks.size(), s.size()) << r.out;
  for (const auto& [name, status] : s) {
    ASSERT_TRUE(marks.count(name)) << "no line for " << name << ":\n" << r.out;
    EXPECT_EQ(marks.at(name), expected_marks.at(status)) << name;
  }
  EXPECT_TRUE(capture_summary) << r.out;
  EXPECT_TRUE(sandbox_summary) << r.out;
}

TEST(Doctor, RequiemReportsOnlySandboxFeatures) {
  const auto report = run_doctor_json(REQUIEM_BIN);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report.at("scope"), "sandbox");
  EXPECT_TRUE(report.at("capture_ready").is_null());  // not probed, so not claimed either way
  EXPECT_TRUE(report.at("sandbox_ready").is_boolean());
  std::set<std::string> names;
  for (const auto& f : report.at("features")) names.insert(f.at("name").get<std::string>());
  EXPECT_EQ(names, kSandboxFeatures);

  auto r = run_program({REQUIEM_BIN, "doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("capture:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sandbox: "), std::string::npos) << r.out;
}

// As root, drop to nobody with setpriv: refusals must then read not_permitted, never
// unavailable, and the report must say why at the top.
TEST(Doctor, UnprivilegedRunSaysNotPermitted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop to an unprivileged user";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "/usr/bin/setpriv not installed";
  auto r = run_program({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        RITMA_BIN, "doctor", "--json"});
  if (r.exit_code != 0) {
    GTEST_SKIP() << "could not run " << RITMA_BIN << " as uid 65534 (is the build directory "
                 << "readable by others?): " << r.err;
  }
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report.at("euid"), 65534);
  EXPECT_EQ(report.at("bpf_privileged"), false);
  EXPECT_NE(r.err.find("not_permitted"), std::string::npos) << r.err;
  const auto s = statuses(report);
  for (const char* name : {"bpf_syscall", "ringbuf", "raw_tracepoint", "btf_tracepoint"}) {
    EXPECT_EQ(s.at(name), "not_permitted") << name;
  }
  EXPECT_EQ(report.at("capture_ready"), false);

  auto human = run_program({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            RITMA_BIN, "doctor"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("NOTE: not running as root"), std::string::npos) << human.out;
}

}  // namespace
}  // namespace ritma
