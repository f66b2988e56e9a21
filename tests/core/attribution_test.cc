// Attribution: boot id, actor ids, cgroup paths -> containers/units, and the process table
// (seeded from a fake /proc and from the real one, maintained from fork/exec/exit records).
#include <blake3.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "capture/cgroup_resolver.h"
#include "capture/process_table.h"
#include "core/bytes.h"
#include "test_util.h"

extern char** environ;

namespace ritma::capture {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kTick = 10'000'000;  // 100 Hz, as the fake /proc assumes
const char kId[] = "3f4e5d6c7b8a99881726354453627180aabbccddeeff00112233445566778899";
const char kId2[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

BootId test_boot_id() {
  BootId b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
  return b;
}

void write_text(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  ASSERT_TRUE(f.good()) << p;
}

uint64_t inode_of(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// The privileged tests skip without root, but must not in CI.
#define RITMA_REQUIRE_ROOT(what)                                                         \
  do {                                                                                   \
    if (geteuid() != 0) {                                                                \
      if (test::in_ci()) FAIL() << what << " needs root, and CI=true forbids skipping";  \
      GTEST_SKIP() << what << " needs root (creates a cgroup); run as root to check it"; \
    }                                                                                    \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Boot id

TEST(BootId, ParsesKernelText) {
  Result<BootId> id = parse_boot_id("ec2684df-5d04-492b-829b-0b3789375ad8\n");
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(to_hex(*id), "ec2684df5d04492b829b0b3789375ad8");
}

TEST(BootId, AcceptsNoNewlineAndUpperCase) {
  Result<BootId> a = parse_boot_id("EC2684DF-5D04-492B-829B-0B3789375AD8");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(to_hex(*a), "ec2684df5d04492b829b0b3789375ad8");
}

TEST(BootId, RejectsMalformed) {
  const char* bad[] = {
      "",
      "\n",
      "ec2684df5d04492b829b0b3789375ad8",          // no dashes
      "ec2684df-5d04-492b-829b-0b3789375ad",       // short
      "ec2684df-5d04-492b-829b-0b3789375ad8a",     // long
      "ec2684df-5d04-492b-829b-0b3789375ad8\n\n",  // two newlines
      " ec2684df-5d04-492b-829b-0b3789375ad8",     // leading space
      "ec2684df-5d04-492b-829b-0b3789375ad8 ",     // trailing space
      "ec2684df-5d04-492b-829b-0b3789375adg",      // non-hex
      "ec2684df_5d04-492b-829b-0b3789375ad8",      // wrong separator
      "ec2684d-f5d04-492b-829b-0b3789375ad8",      // dash misplaced
      "{c2684df-5d04-492b-829b-0b3789375ad}",      // braces
  };
  for (const char* text : bad) {
    EXPECT_FALSE(parse_boot_id(text).ok()) << "accepted: '" << text << "'";
  }
  EXPECT_FALSE(parse_boot_id(std::string_view("ec2684df-5d04-492b-829b-0b3789375a\0d", 36)).ok());
}

TEST(BootId, ReadsTheRealBootId) {
  Result<BootId> id = read_boot_id();
  ASSERT_TRUE(id.ok()) << id.error().message;
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string text;
  std::getline(f, text);
  text.erase(std::remove(text.begin(), text.end(), '-'), text.end());
  EXPECT_EQ(to_hex(*id), text);
  EXPECT_NE(*id, BootId{});
}

TEST(BootId, ReadFailsWithPathOnMissingOrBadFile) {
  test::TempDir dir;
  Result<BootId> missing = read_boot_id((dir / "nope").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  write_text(dir / "bad", "not a uuid\n");
  Result<BootId> bad = read_boot_id((dir / "bad").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Actor id

TEST(ActorId, KnownAnswer) {
  const BootId boot = test_boot_id();
  const uint32_t tgid = 1234;
  const uint64_t start_ns = 0x0123456789abcdefull;
  // Independently, with the BLAKE3 C API over the bytes written out by hand.
  const uint8_t message[] = {'r',  'i',  't',  'm',  'a',  '-',  'a',  'c',  't',  'o',
                             'r',  '@',  '1',  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                             0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,  // boot id
                             0xd2, 0x04, 0x00, 0x00,                                // u32le 1234
                             0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};       // u64le
  static_assert(sizeof message == 13 + 16 + 4 + 8);
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, message, sizeof message);
  uint8_t expected[16];
  blake3_hasher_finalize(&h, expected, sizeof expected);

  const ActorId id = compute_actor_id(boot, tgid, start_ns);
  EXPECT_EQ(to_hex(id), to_hex(ByteSpan(expected, sizeof expected)));
  // And pinned (b3sum over the same 41 bytes), so the definition cannot drift unnoticed.
  EXPECT_EQ(to_hex(id), "7e81bd40b211baa30a646e2bbaadc4bf");
}

TEST(ActorId, DeterministicAndDistinct) {
  const BootId boot = test_boot_id();
  EXPECT_EQ(compute_actor_id(boot, 42, 1000), compute_actor_id(boot, 42, 1000));
  // Same pid, different start: pid reuse must give a different actor.
  EXPECT_NE(compute_actor_id(boot, 42, 1000), compute_actor_id(boot, 42, 1001));
  EXPECT_NE(compute_actor_id(boot, 42, 1000), compute_actor_id(boot, 43, 1000));
  BootId other = boot;
  other[15] ^= 1;
  EXPECT_NE(compute_actor_id(boot, 42, 1000), compute_actor_id(other, 42, 1000));
}

// ---------------------------------------------------------------------------------------------
// Cgroup paths

ContainerInfo parse(std::string_view path) {
  return CgroupResolver::parse_cgroup_path(path);
}

ContainerInfo unit_only(std::string unit) {
  ContainerInfo info;
  info.unit = std::move(unit);
  return info;
}

TEST(CgroupPath, Docker) {
  const std::string id = kId;
  for (const std::string& path :
       {"/docker/" + id, "/system.slice/docker-" + id + ".scope", "docker-" + id + ".scope",
        "/docker/" + std::string(kId2) + "/docker/" + id}) {
    const ContainerInfo info = parse(path);
    EXPECT_EQ(info.container_id, id) << path;
    EXPECT_EQ(info.runtime, ContainerRuntime::kDocker) << path;
    EXPECT_FALSE(info.monitor) << path;
    EXPECT_EQ(info.unit, "") << path;
    EXPECT_EQ(info.pod_uid, "") << path;
  }
  EXPECT_EQ(runtime_name(ContainerRuntime::kDocker), "docker");
}

TEST(CgroupPath, ContainerdAndKubernetes) {
  const std::string id = kId;
  ContainerInfo a = parse("/system.slice/cri-containerd-" + id + ".scope");
  EXPECT_EQ(a.container_id, id);
  EXPECT_EQ(a.runtime, ContainerRuntime::kContainerd);
  EXPECT_EQ(a.unit, "");

  ContainerInfo b = parse(
      "/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod8dd3cd4a_1b2c_4d5e_8f90_0123456789ab.slice/cri-containerd-" +
      id + ".scope");
  EXPECT_EQ(b.container_id, id);
  EXPECT_EQ(b.runtime, ContainerRuntime::kContainerd);
  EXPECT_EQ(b.pod_uid, "8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  EXPECT_EQ(b.unit, "");

  // Guaranteed QoS pods sit directly under kubepods.
  ContainerInfo c = parse(
      "/kubepods.slice/kubepods-pod8dd3cd4a_1b2c_4d5e_8f90_0123456789ab.slice/"
      "cri-containerd-" +
      id + ".scope");
  EXPECT_EQ(c.pod_uid, "8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  EXPECT_EQ(c.container_id, id);

  // cgroupfs driver: a bare id under kubepods; the path does not name the runtime.
  ContainerInfo d = parse("/kubepods/burstable/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789ab/" + id);
  EXPECT_EQ(d.container_id, id);
  EXPECT_EQ(d.runtime, ContainerRuntime::kCri);
  EXPECT_EQ(d.pod_uid, "8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  ContainerInfo e = parse("/kubepods/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789ab/" + id);
  EXPECT_EQ(e.container_id, id);
  EXPECT_EQ(e.pod_uid, "8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  // Static pods: kubelet's 32-hex config hash as the UID.
  ContainerInfo f = parse("/kubepods/besteffort/pod0123456789abcdef0123456789abcdef/" + id);
  EXPECT_EQ(f.pod_uid, "0123456789abcdef0123456789abcdef");
  // kind: Kubernetes nodes as docker containers; the innermost container wins.
  ContainerInfo g = parse("/docker/" + std::string(kId2) +
                          "/kubepods/besteffort/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789ab/" + id);
  EXPECT_EQ(g.container_id, id);
  EXPECT_EQ(g.runtime, ContainerRuntime::kCri);
  // The pod itself (no container yet) has a pod uid and no container.
  ContainerInfo h = parse("/kubepods/burstable/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  EXPECT_EQ(h.container_id, "");
  EXPECT_EQ(h.pod_uid, "8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  EXPECT_EQ(runtime_name(ContainerRuntime::kContainerd), "containerd");
  EXPECT_EQ(runtime_name(ContainerRuntime::kCri), "cri");
}

TEST(CgroupPath, Crio) {
  const std::string id = kId;
  ContainerInfo a = parse(
      "/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-pod8dd3cd4a_1b2c_4d5e_8f90_0123456789ab.slice/"
      "crio-" +
      id + ".scope");
  EXPECT_EQ(a.container_id, id);
  EXPECT_EQ(a.runtime, ContainerRuntime::kCrio);
  EXPECT_FALSE(a.monitor);
  EXPECT_EQ(a.pod_uid, "8dd3cd4a-1b2c-4d5e-8f90-0123456789ab");
  EXPECT_EQ(a.unit, "");

  ContainerInfo b = parse("/kubepods.slice/crio-conmon-" + id + ".scope");
  EXPECT_EQ(b.container_id, id);
  EXPECT_EQ(b.runtime, ContainerRuntime::kCrio);
  EXPECT_TRUE(b.monitor);
  EXPECT_EQ(b.unit, "");

  ContainerInfo c = parse("/kubepods/burstable/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789ab/crio-" + id);
  EXPECT_EQ(c.container_id, id);
  EXPECT_EQ(c.runtime, ContainerRuntime::kCrio);
  EXPECT_EQ(runtime_name(ContainerRuntime::kCrio), "cri-o");
}

TEST(CgroupPath, Podman) {
  const std::string id = kId;
  ContainerInfo a = parse("/machine.slice/libpod-" + id + ".scope");
  EXPECT_EQ(a.container_id, id);
  EXPECT_EQ(a.runtime, ContainerRuntime::kPodman);
  EXPECT_FALSE(a.monitor);
  EXPECT_EQ(a.unit, "");

  ContainerInfo b = parse("/machine.slice/libpod-conmon-" + id + ".scope");
  EXPECT_EQ(b.container_id, id);
  EXPECT_EQ(b.runtime, ContainerRuntime::kPodman);
  EXPECT_TRUE(b.monitor);

  ContainerInfo c = parse("/machine.slice/libpod-" + id + ".scope/container");
  EXPECT_EQ(c.container_id, id);
  EXPECT_EQ(c.runtime, ContainerRuntime::kPodman);
  EXPECT_EQ(c.unit, "");

  ContainerInfo d = parse("/libpod_parent/libpod-" + id);
  EXPECT_EQ(d.container_id, id);

  // Rootless: the container inside the user's manager; the unit is the manager's.
  ContainerInfo e =
      parse("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope");
  EXPECT_EQ(e.container_id, id);
  EXPECT_EQ(e.unit, "user@1000.service");
  EXPECT_EQ(runtime_name(ContainerRuntime::kPodman), "podman");
}

TEST(CgroupPath, SystemdUnits) {
  EXPECT_EQ(parse("/system.slice/ssh.service"), unit_only("ssh.service"));
  EXPECT_EQ(parse("/user.slice/user-1000.slice/session-3.scope"), unit_only("session-3.scope"));
  EXPECT_EQ(parse("/init.scope").unit, "init.scope");
  EXPECT_EQ(parse("/user.slice/user-1000.slice/user@1000.service/app.slice/"
                  "app-org.gnome.Terminal.slice/vte-spawn-1.scope")
                .unit,
            "vte-spawn-1.scope");
  EXPECT_EQ(parse("/system.slice/containerd.service").unit, "containerd.service");
  // A unit inside a container (systemd running in it) is reported with the container.
  ContainerInfo in = parse("/system.slice/docker-" + std::string(kId) +
                           ".scope/system.slice/"
                           "nginx.service");
  EXPECT_EQ(in.container_id, kId);
  EXPECT_EQ(in.unit, "nginx.service");
  // Trailing and doubled slashes do not matter.
  EXPECT_EQ(parse("//system.slice//cron.service/").unit, "cron.service");
}

TEST(CgroupPath, Negatives) {
  const ContainerInfo none;
  const std::string id = kId;
  for (const std::string& path : std::vector<std::string>{
           "", "/", "/user.slice", "/system.slice", "garbage", "(((", "/.service", "/.scope",
           "/system.slice/ssh.socket", "/kubepods", "/kubepods/burstable",
           // ids of the wrong length or not lowercase hex
           "/docker/" + id.substr(0, 12), "/docker/" + id.substr(0, 63), "/docker/" + id + "0",
           "/docker/" + std::string(63, 'a') + "g", "/docker/" + std::string(64, 'A'),
           // a bare id outside docker/kubepods is not a container
           "/" + id, "/system.slice/" + id, "/lxc/" + id,
           // the pod prefix outside kubepods is not a pod
           "/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789ab"}) {
    EXPECT_EQ(parse(path), none) << path;
  }
  // A container-looking scope with a bad id is only a scope unit, never a container.
  for (const std::string& comp :
       {"docker-" + id.substr(0, 12) + ".scope", "docker-" + std::string(64, 'z') + ".scope",
        "cri-containerd-" + id + "00.scope", "crio-" + id.substr(1) + ".scope",
        "libpod-" + std::string(64, 'F') + ".scope"}) {
    const ContainerInfo info = parse("/system.slice/" + comp);
    EXPECT_EQ(info.container_id, "") << comp;
    EXPECT_EQ(info.runtime, ContainerRuntime::kNone) << comp;
    EXPECT_EQ(info.unit, comp) << comp;
  }
  // docker and cri-containerd ids only come as .scope units.
  EXPECT_EQ(parse("/system.slice/docker-" + id).container_id, "");
  EXPECT_EQ(parse("/system.slice/cri-containerd-" + id).container_id, "");
  // A malformed pod uid is not a pod uid.
  EXPECT_EQ(parse("/kubepods/burstable/pod8dd3cd4a-1b2c-4d5e-8f90-0123456789a/" + id).pod_uid, "");
  EXPECT_EQ(parse("/kubepods/burstable/pod8dd3cd4a1b2c-4d5e-8f90-0123456789abc/" + id).pod_uid, "");
  EXPECT_EQ(runtime_name(ContainerRuntime::kNone), "");
}

// ---------------------------------------------------------------------------------------------
// Cgroup mount and resolver

TEST(CgroupMount, FindsHybridAndPureV2Mounts) {
  const char hybrid[] =
      "25 30 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
      "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
      "27 25 0:25 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n";
  Result<std::string> a = CgroupResolver::find_cgroup2_mount(hybrid);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(*a, "/sys/fs/cgroup/unified");

  const char pure[] =
      "40 30 0:37 / /mnt/other\\040cg rw - cgroup2 cgroup2 rw\n"
      "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";
  Result<std::string> b = CgroupResolver::find_cgroup2_mount(pure);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, "/sys/fs/cgroup");

  // Elsewhere, with an escaped space in the mount point and no optional fields.
  Result<std::string> c =
      CgroupResolver::find_cgroup2_mount("40 30 0:37 / /mnt/my\\040cg rw - cgroup2 none rw\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, "/mnt/my cg");
}

TEST(CgroupMount, FailsWithoutCgroup2) {
  EXPECT_FALSE(CgroupResolver::find_cgroup2_mount("").ok());
  EXPECT_FALSE(CgroupResolver::find_cgroup2_mount(
                   "27 25 0:25 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n")
                   .ok());
  // The fstype is the field after "-", not any field that says cgroup2.
  EXPECT_FALSE(
      CgroupResolver::find_cgroup2_mount("1 2 0:3 / /cgroup2 rw - tmpfs cgroup2 rw\n").ok());
  EXPECT_FALSE(CgroupResolver::find_cgroup2_mount("garbage\n- cgroup2\n").ok());
  test::TempDir dir;
  EXPECT_FALSE(CgroupResolver::open_system((dir / "missing").string()).ok());
}

TEST(CgroupMount, OpensTheSystemHierarchy) {
  Result<CgroupResolver> r = CgroupResolver::open_system();
  if (!r.ok()) {
    if (test::in_ci()) FAIL() << r.error().message;
    GTEST_SKIP() << "no cgroup v2 on this machine: " << r.error().message;
  }
  // The root cgroup's id is the inode of the mount point.
  const uint64_t root_id = inode_of(r->root());
  ASSERT_NE(root_id, 0u);
  EXPECT_EQ(r->path_for_id(root_id), std::optional<std::string>("/"));
}

TEST(CgroupResolver, WalksAHierarchy) {
  test::TempDir dir;
  const fs::path root = dir / "cg";
  fs::create_directories(root / "system.slice" / "ssh.service");
  fs::create_directories(root / "system.slice" / ("docker-" + std::string(kId) + ".scope"));
  fs::create_directories(root / "user.slice" / "user-1000.slice" / "session-3.scope");
  write_text(root / "cgroup.procs", "");  // files are not cgroups
  CgroupResolver resolver(root);

  EXPECT_EQ(resolver.path_for_id(inode_of(root)), std::optional<std::string>("/"));
  EXPECT_EQ(resolver.path_for_id(inode_of(root / "system.slice" / "ssh.service")),
            std::optional<std::string>("/system.slice/ssh.service"));
  EXPECT_EQ(resolver.path_for_id(inode_of(root / "user.slice/user-1000.slice/session-3.scope")),
            std::optional<std::string>("/user.slice/user-1000.slice/session-3.scope"));
  EXPECT_EQ(resolver.path_for_id(inode_of(root / "cgroup.procs")), std::nullopt);
  EXPECT_EQ(resolver.walks(), 1u);  // one walk answered all of these (the miss was rate-limited)
  EXPECT_EQ(resolver.cached_paths(), 7u);

  const ContainerInfo* info = resolver.info_for_id(
      inode_of(root / "system.slice" / ("docker-" + std::string(kId) + ".scope")));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->container_id, kId);
  EXPECT_EQ(info->runtime, ContainerRuntime::kDocker);
  const ContainerInfo* unit = resolver.info_for_id(inode_of(root / "system.slice" / "ssh.service"));
  ASSERT_NE(unit, nullptr);
  EXPECT_EQ(unit->unit, "ssh.service");
  EXPECT_EQ(resolver.info_for_id(999'999'999), nullptr);

  EXPECT_EQ(resolver.id_for_path("/system.slice/ssh.service"),
            std::optional<uint64_t>(inode_of(root / "system.slice" / "ssh.service")));
  EXPECT_EQ(resolver.id_for_path("system.slice/ssh.service/"),
            std::optional<uint64_t>(inode_of(root / "system.slice" / "ssh.service")));
  EXPECT_EQ(resolver.id_for_path("/"), std::optional<uint64_t>(inode_of(root)));
  EXPECT_EQ(resolver.id_for_path("/nope"), std::nullopt);
  EXPECT_EQ(resolver.id_for_path("/system.slice/../../etc"), std::nullopt);
  EXPECT_EQ(resolver.id_for_path("/cgroup.procs"), std::nullopt);
}

TEST(CgroupResolver, FindsNewCgroupsOnAMissAndRateLimitsWalks) {
  test::TempDir dir;
  const fs::path root = dir / "cg";
  fs::create_directories(root / "a");
  CgroupResolver eager(root,
                       CgroupResolverOptions{.min_refresh_interval = std::chrono::milliseconds(0)});
  CgroupResolver lazy(root, CgroupResolverOptions{.min_refresh_interval = std::chrono::hours(1)});
  EXPECT_EQ(eager.path_for_id(inode_of(root / "a")), std::optional<std::string>("/a"));
  EXPECT_EQ(lazy.path_for_id(inode_of(root / "a")), std::optional<std::string>("/a"));

  fs::create_directories(root / "b" / "c");
  const uint64_t c = inode_of(root / "b" / "c");
  EXPECT_EQ(eager.path_for_id(c), std::optional<std::string>("/b/c"));
  EXPECT_EQ(eager.walks(), 2u);
  // Within the interval a miss does not walk; an explicit refresh does.
  EXPECT_EQ(lazy.path_for_id(c), std::nullopt);
  EXPECT_EQ(lazy.walks(), 1u);
  lazy.refresh();
  EXPECT_EQ(lazy.path_for_id(c), std::optional<std::string>("/b/c"));

  // An id a complete walk did not find is not walked for again.
  const uint64_t walks = eager.walks();
  EXPECT_EQ(eager.path_for_id(123'456'789'012ull), std::nullopt);
  EXPECT_EQ(eager.walks(), walks + 1);
  EXPECT_EQ(eager.path_for_id(123'456'789'012ull), std::nullopt);
  EXPECT_EQ(eager.walks(), walks + 1);

  // A removed cgroup keeps its entry: in-flight events may still name it.
  fs::remove(root / "b" / "c");
  eager.refresh();
  EXPECT_EQ(eager.path_for_id(c), std::optional<std::string>("/b/c"));
}

TEST(CgroupResolver, WalkIsBounded) {
  test::TempDir dir;
  const fs::path root = dir / "cg";
  fs::create_directories(root / "l1" / "l2" / "l3" / "l4");
  for (int i = 0; i < 20; ++i) fs::create_directories(root / "wide" / std::to_string(i));
  CgroupResolver shallow(root, CgroupResolverOptions{.max_depth = 2});
  EXPECT_TRUE(shallow.path_for_id(inode_of(root / "l1" / "l2")).has_value());
  shallow.refresh();
  EXPECT_FALSE(shallow.path_for_id(inode_of(root / "l1" / "l2" / "l3")).has_value());

  CgroupResolver few(root, CgroupResolverOptions{.max_cgroups = 5});
  EXPECT_EQ(few.refresh(), 5u);
  EXPECT_LE(few.cached_paths(), 5u);
}

// Creates <v2 root>/<unique>/docker-<id>.scope, moves a child process into it, and checks
// that the resolver and the process table attribute it to that container.
TEST(CgroupResolver, RealHierarchyResolvesADockerScope) {
  RITMA_REQUIRE_ROOT("the real cgroup test");
  Result<CgroupResolver> opened = CgroupResolver::open_system(
      "/proc/self/mountinfo",
      CgroupResolverOptions{.min_refresh_interval = std::chrono::milliseconds(0)});
  if (!opened.ok()) {
    if (test::in_ci()) FAIL() << opened.error().message;
    GTEST_SKIP() << "no cgroup v2 on this machine: " << opened.error().message;
  }
  CgroupResolver& resolver = *opened;
  ASSERT_TRUE(resolver.path_for_id(inode_of(resolver.root())).has_value());  // builds the map

  std::random_device rd;
  const std::string parent_name =
      "ritma-attribution-test-" + std::to_string(getpid()) + "-" + std::to_string(rd());
  const fs::path parent = resolver.root() / parent_name;
  const fs::path scope = parent / ("docker-" + std::string(kId) + ".scope");
  struct Cleanup {
    fs::path parent, scope;
    pid_t child = -1;
    ~Cleanup() {
      if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
      }
      for (int i = 0; i < 100 && ::rmdir(scope.c_str()) != 0 && errno == EBUSY; ++i) usleep(10000);
      ::rmdir(parent.c_str());
    }
  } cleanup{parent, scope};
  if (::mkdir(parent.c_str(), 0755) != 0) {
    const std::string why = std::strerror(errno);
    if (test::in_ci()) FAIL() << "cannot create " << parent << ": " << why;
    GTEST_SKIP() << "cannot create a cgroup under " << resolver.root() << ": " << why;
  }
  ASSERT_EQ(::mkdir(scope.c_str(), 0755), 0) << std::strerror(errno);
  const uint64_t id = inode_of(scope);
  ASSERT_NE(id, 0u);

  EXPECT_EQ(resolver.path_for_id(id), std::optional<std::string>("/" + parent_name + "/docker-" +
                                                                 std::string(kId) + ".scope"));
  const ContainerInfo* info = resolver.info_for_id(id);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->container_id, kId);
  EXPECT_EQ(info->runtime, ContainerRuntime::kDocker);

  // A process in that cgroup is attributed to the container from /proc.
  const char* argv[] = {"/bin/sleep", "30", nullptr};
  ASSERT_EQ(posix_spawn(&cleanup.child, "/bin/sleep", nullptr, nullptr,
                        const_cast<char* const*>(argv), environ),
            0);
  {
    const std::string procs = (scope / "cgroup.procs").string();
    const std::string pid_text = std::to_string(cleanup.child);
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << procs << ": " << std::strerror(errno);
    const ssize_t n = ::write(fd, pid_text.data(), pid_text.size());
    const int write_errno = errno;
    ::close(fd);
    ASSERT_EQ(n, static_cast<ssize_t>(pid_text.size())) << std::strerror(write_errno);
  }
  ProcessTable table(*read_boot_id(), &resolver);
  ASSERT_TRUE(table.seed_from_proc().ok());
  const ProcessInfo* p = table.find_live(static_cast<uint32_t>(cleanup.child));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->cgroup_id, id);
  Event ev;
  ev.type = EventType::kFile;
  ev.pid = p->tgid;
  ev.start_ns = p->start_ns + 1;
  ev.cgroup_id = id;
  table.enrich(ev);
  EXPECT_EQ(ev.container_id, kId);
  EXPECT_EQ(ev.unit, "");
  EXPECT_EQ(ev.exe, fs::canonical("/bin/sleep").string());
}

// ---------------------------------------------------------------------------------------------
// Process table: a fake /proc

std::string stat_line(uint32_t pid, std::string_view comm, uint32_t ppid, uint64_t start_ticks) {
  // Fields 3..52; field 4 is ppid and field 22 starttime.
  std::string s = std::to_string(pid) + " (" + std::string(comm) + ") S " + std::to_string(ppid);
  for (int field = 5; field <= 21; ++field) s += " " + std::to_string(field == 20 ? 1 : 0);
  s += " " + std::to_string(start_ticks);
  for (int field = 23; field <= 52; ++field) s += " 0";
  return s + "\n";
}

std::string status_text(std::string_view name, uint32_t uid, uint32_t euid, uint32_t gid) {
  return "Name:\t" + std::string(name) + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1\n" +
         "Uid:\t" + std::to_string(uid) + "\t" + std::to_string(euid) + "\t" +
         std::to_string(euid) + "\t" + std::to_string(euid) + "\n" + "Gid:\t" +
         std::to_string(gid) + "\t" + std::to_string(gid) + "\t" + std::to_string(gid) + "\t" +
         std::to_string(gid) + "\nFDSize:\t64\n";
}

struct FakeProc {
  test::TempDir dir;
  fs::path proc = dir / "proc";
  fs::path cg = dir / "cg";

  void add(uint32_t pid, std::string_view comm, uint32_t ppid, uint64_t ticks,
           std::string_view cmdline, std::string_view exe, std::string_view cgroup,
           uint32_t uid = 0, uint32_t euid = 0, uint32_t gid = 0) {
    const fs::path d = proc / std::to_string(pid);
    write_text(d / "stat", stat_line(pid, comm, ppid, ticks));
    write_text(d / "status", status_text(comm, uid, euid, gid));
    write_text(d / "cmdline", cmdline);
    if (!exe.empty()) fs::create_symlink(exe, d / "exe");
    write_text(d / "cgroup",
               "12:pids:/whatever\n1:name=systemd:/x\n0::" + std::string(cgroup) + "\n");
  }

  FakeProc() {
    fs::create_directories(cg / "system.slice" / "ssh.service");
    fs::create_directories(cg / "system.slice" / ("docker-" + std::string(kId) + ".scope"));
    fs::create_directories(cg / "init.scope");
    using namespace std::string_view_literals;
    add(1, "systemd", 0, 1, "/sbin/init\0splash\0"sv, "/usr/lib/systemd/systemd", "/init.scope");
    add(2, "kthreadd", 0, 1, "", "", "/");
    add(100, "(a) b)", 1, 500, "weird\0--flag\0x y\0"sv, "/usr/bin/weird",
        "/system.slice/ssh.service", 1000, 0, 1000);
    add(101, "child", 100, 600, "/usr/bin/child\0"sv, "/usr/bin/child",
        "/system.slice/docker-" + std::string(kId) + ".scope");
    // ppid 100, but started before 100: its parent died and pid 100 was reused since.
    add(102, "orphan", 100, 400, "orphan", "/usr/bin/orphan", "/system.slice/ssh.service");
    // Vanished before anything could be read; vanished between stat and status; unparsable.
    fs::create_directories(proc / "4242");
    write_text(proc / "4343" / "stat", stat_line(4343, "gone", 1, 700));
    write_text(proc / "4444" / "stat", "4444 (x S 1 1");
    write_text(proc / "4444" / "status", status_text("x", 0, 0, 0));
    // Not processes.
    fs::create_directory_symlink("100", proc / "self");
    fs::create_directories(proc / "sys" / "kernel");
    write_text(proc / "uptime", "1.0 1.0\n");
  }
};

ProcessTableOptions fake_options() {
  return ProcessTableOptions{.ns_per_tick = kTick};
}

TEST(ProcessTable, SeedsFromAFakeProc) {
  FakeProc fake;
  CgroupResolver resolver(fake.cg);
  ProcessTable table(test_boot_id(), &resolver, fake_options());
  Result<size_t> n = table.seed_from_proc(fake.proc.string());
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(table.size(), 5u);
  for (uint32_t gone : {4242u, 4343u, 4444u}) EXPECT_EQ(table.find_live(gone), nullptr) << gone;

  const ProcessInfo* weird = table.find_live(100);
  ASSERT_NE(weird, nullptr);
  EXPECT_EQ(weird->comm, "(a) b)");
  EXPECT_EQ(weird->ppid, 1u);
  EXPECT_EQ(weird->start_ticks, 500u);
  EXPECT_EQ(weird->start_ns, 500 * kTick);
  EXPECT_FALSE(weird->start_exact);
  EXPECT_EQ(weird->actor, ActorId{});  // not known until the exact start is
  EXPECT_EQ(weird->exe, "/usr/bin/weird");
  EXPECT_EQ(weird->argv, (std::vector<std::string>{"weird", "--flag", "x y"}));
  EXPECT_FALSE(weird->argv_truncated);
  EXPECT_EQ(weird->creds, (Credentials{.uid = 1000, .gid = 1000, .euid = 0}));
  EXPECT_EQ(weird->cgroup_id, inode_of(fake.cg / "system.slice" / "ssh.service"));
  EXPECT_TRUE(weird->seeded_from_proc);
  EXPECT_FALSE(weird->exited);
  EXPECT_TRUE(weird->parent_start_known);
  EXPECT_EQ(weird->parent_start_ticks, 1u);

  const ProcessInfo* kthread = table.find_live(2);
  ASSERT_NE(kthread, nullptr);
  EXPECT_EQ(kthread->comm, "kthreadd");
  EXPECT_EQ(kthread->exe, "");
  EXPECT_TRUE(kthread->argv.empty());
  EXPECT_EQ(kthread->cgroup_id, inode_of(fake.cg));

  const ProcessInfo* orphan = table.find_live(102);
  ASSERT_NE(orphan, nullptr);
  EXPECT_FALSE(orphan->parent_start_known);  // pid 100 started after it: not its parent

  // Without a resolver, cgroup ids stay unknown.
  ProcessTable plain(test_boot_id(), nullptr, fake_options());
  ASSERT_TRUE(plain.seed_from_proc(fake.proc.string()).ok());
  ASSERT_NE(plain.find_live(100), nullptr);
  EXPECT_EQ(plain.find_live(100)->cgroup_id, 0u);

  // Seeding again refreshes; it never duplicates.
  ASSERT_TRUE(table.seed_from_proc(fake.proc.string()).ok());
  EXPECT_EQ(table.size(), 5u);

  EXPECT_FALSE(table.seed_from_proc((fake.dir / "no-such-proc").string()).ok());
}

TEST(ProcessTable, BoundsArgvFromProc) {
  FakeProc fake;
  std::string long_cmdline;
  for (int i = 0; i < 100; ++i) long_cmdline += "argument-" + std::to_string(i) + '\0';
  fake.add(200, "long", 1, 900, long_cmdline, "/usr/bin/long", "/");
  ProcessTable table(
      test_boot_id(), nullptr,
      ProcessTableOptions{.ns_per_tick = kTick, .max_argv_entries = 8, .max_argv_bytes = 64});
  ASSERT_TRUE(table.seed_from_proc(fake.proc.string()).ok());
  const ProcessInfo* p = table.find_live(200);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->argv_truncated);
  EXPECT_LE(p->argv.size(), 8u);
  size_t bytes = 0;
  for (const auto& a : p->argv) bytes += a.size() + 1;
  EXPECT_LE(bytes, 64u);
  ASSERT_FALSE(p->argv.empty());
  EXPECT_EQ(p->argv[0], "argument-0");
}

TEST(ProcessTable, UpgradesTicksToExactStart) {
  FakeProc fake;
  ProcessTable table(test_boot_id(), nullptr, fake_options());
  ASSERT_TRUE(table.seed_from_proc(fake.proc.string()).ok());
  const uint64_t exact = 500 * kTick + 4321;
  // A start in another tick is another process.
  EXPECT_EQ(table.lookup(100, 501 * kTick), nullptr);
  EXPECT_EQ(table.lookup(100, 500 * kTick - 1), nullptr);
  EXPECT_FALSE(table.find_live(100)->start_exact);

  ProcessInfo* p = table.lookup(100, exact);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->start_exact);
  EXPECT_EQ(p->start_ns, exact);
  EXPECT_EQ(p->comm, "(a) b)");
  EXPECT_EQ(p->actor, compute_actor_id(test_boot_id(), 100, exact));
  EXPECT_EQ(table.stats().upgraded, 1u);
  // Now exact: another ns in the same tick is a different process.
  EXPECT_EQ(table.lookup(100, exact + 1), nullptr);
  EXPECT_EQ(table.lookup(100, exact), p);
  EXPECT_EQ(table.stats().upgraded, 1u);

  // Enrich upgrades too, and the actor comes from the event's own start.
  Event ev;
  ev.type = EventType::kNet;
  ev.pid = 101;
  ev.ppid = 100;
  ev.start_ns = 600 * kTick + 7;
  table.enrich(ev);
  EXPECT_EQ(ev.actor, compute_actor_id(test_boot_id(), 101, 600 * kTick + 7));
  EXPECT_TRUE(table.find_live(101)->start_exact);
  EXPECT_EQ(ev.exe, "/usr/bin/child");
  EXPECT_EQ(ev.comm, "child");

  // The children seeded with the parent's tick still find it after the upgrade.
  const std::vector<ProcessInfo> chain = table.lineage(101, 600 * kTick + 7);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[1].tgid, 100u);
  EXPECT_EQ(chain[1].start_ns, exact);
}

TEST(ProcessTable, EnrichFillsContainerUnitExeAndActor) {
  FakeProc fake;
  CgroupResolver resolver(fake.cg);
  ProcessTable table(test_boot_id(), &resolver, fake_options());
  ASSERT_TRUE(table.seed_from_proc(fake.proc.string()).ok());

  Event in_container;
  in_container.type = EventType::kFile;
  in_container.pid = 101;
  in_container.ppid = 100;
  in_container.start_ns = 600 * kTick + 1;
  in_container.cgroup_id =
      inode_of(fake.cg / "system.slice" / ("docker-" + std::string(kId) + ".scope"));
  table.enrich(in_container);
  EXPECT_EQ(in_container.container_id, kId);
  EXPECT_EQ(in_container.unit, "");
  EXPECT_EQ(in_container.exe, "/usr/bin/child");
  EXPECT_EQ(in_container.actor, compute_actor_id(test_boot_id(), 101, 600 * kTick + 1));

  Event in_unit;
  in_unit.type = EventType::kExec;
  in_unit.pid = 100;
  in_unit.ppid = 1;
  in_unit.start_ns = 500 * kTick + 1;
  in_unit.comm = "weird";
  in_unit.exe = "/already/set";
  in_unit.cgroup_id = inode_of(fake.cg / "system.slice" / "ssh.service");
  table.enrich(in_unit);
  EXPECT_EQ(in_unit.unit, "ssh.service");
  EXPECT_EQ(in_unit.container_id, "");
  EXPECT_EQ(in_unit.exe, "/already/set");  // only empty fields are filled
  EXPECT_EQ(in_unit.comm, "weird");

  // A process the table did not know is learnt from its record.
  Event fresh;
  fresh.type = EventType::kNet;
  fresh.pid = 5000;
  fresh.ppid = 101;
  fresh.start_ns = 800 * kTick;
  fresh.comm = "curl";
  fresh.uid = 7;
  table.enrich(fresh);
  EXPECT_EQ(fresh.actor, compute_actor_id(test_boot_id(), 5000, 800 * kTick));
  const ProcessInfo* learnt = table.find_live(5000);
  ASSERT_NE(learnt, nullptr);
  EXPECT_EQ(learnt->comm, "curl");
  EXPECT_EQ(learnt->creds.uid, 7u);
  EXPECT_EQ(table.lineage(5000, 800 * kTick).size(), 4u);  // 5000 -> 101 -> 100 -> 1

  // Records without an actor are left alone.
  Event loss;
  loss.type = EventType::kLoss;
  loss.count = 3;
  table.enrich(loss);
  EXPECT_EQ(loss.actor, ActorId{});
  // An exit record never adds a process.
  Event exit_rec;
  exit_rec.type = EventType::kExit;
  exit_rec.pid = 6000;
  exit_rec.start_ns = 900 * kTick;
  table.enrich(exit_rec);
  EXPECT_EQ(table.find_live(6000), nullptr);
  EXPECT_EQ(exit_rec.actor, compute_actor_id(test_boot_id(), 6000, 900 * kTick));
}

// ---------------------------------------------------------------------------------------------
// Process table: maintenance from kernel records

TaskSnapshot task(uint32_t tgid, uint64_t start_ns, uint32_t ppid = 1, uint64_t parent_start = 0,
                  std::string_view comm = "") {
  TaskSnapshot t;
  t.tgid = tgid;
  t.start_ns = start_ns;
  t.ppid = ppid;
  t.parent_start_ns = parent_start;
  t.comm = comm;
  t.creds = Credentials{.uid = 1000, .gid = 1000, .euid = 1000};
  t.cgroup_id = 77;
  return t;
}

TEST(ProcessTable, ForkExecExit) {
  ProcessTable table(test_boot_id(), nullptr, fake_options());
  table.on_exec(task(500, 1'000, 1, 10, "bash"), "/usr/bin/bash", {"bash", "-l"});
  ProcessInfo* shell = table.lookup(500, 1'000);
  ASSERT_NE(shell, nullptr);
  EXPECT_EQ(shell->exe, "/usr/bin/bash");
  EXPECT_EQ(shell->exec_count, 1u);

  table.on_fork(task(500, 1'000, 1, 10, "bash"), 501, 2'000);
  ProcessInfo* child = table.lookup(501, 2'000);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->ppid, 500u);
  EXPECT_TRUE(child->parent_start_exact);
  EXPECT_EQ(child->parent_start_ns, 1'000u);
  EXPECT_EQ(child->exe, "/usr/bin/bash");  // inherited until it execs
  EXPECT_EQ(child->argv, (std::vector<std::string>{"bash", "-l"}));
  EXPECT_EQ(child->comm, "bash");
  EXPECT_EQ(child->cgroup_id, 77u);
  EXPECT_EQ(child->exec_count, 0u);
  EXPECT_EQ(child->actor, compute_actor_id(test_boot_id(), 501, 2'000));

  // A thread is not a process.
  table.on_fork(task(500, 1'000, 1, 10, "bash"), 500, 2'500);
  EXPECT_EQ(table.size(), 2u);

  TaskSnapshot after_exec = task(501, 2'000, 500, 1'000, "");
  after_exec.creds.euid = 0;  // a setuid binary
  table.on_exec(after_exec, "/usr/bin/sudo", {"sudo", "id"});
  child = table.lookup(501, 2'000);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->exe, "/usr/bin/sudo");
  EXPECT_EQ(child->argv, (std::vector<std::string>{"sudo", "id"}));
  EXPECT_EQ(child->comm, "sudo");  // from the filename when the record has no comm
  EXPECT_EQ(child->creds.euid, 0u);
  EXPECT_EQ(child->exec_count, 1u);
  table.on_exec(task(501, 2'000, 500, 1'000, "id"), "/usr/bin/id", {"id"});
  EXPECT_EQ(table.lookup(501, 2'000)->exec_count, 2u);
  EXPECT_EQ(table.lookup(501, 2'000)->comm, "id");

  table.on_exit(501, 2'000, 256, 50'000);
  child = table.lookup(501, 2'000);
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(child->exited);
  EXPECT_EQ(child->exit_status, 256);
  EXPECT_EQ(child->exit_ns, 50'000u);
  EXPECT_EQ(table.find_live(501), nullptr);
  EXPECT_NE(table.find(501, 2'000), nullptr);

  // Exits of unknown processes are ignored.
  table.on_exit(999, 1, 0, 60'000);
  table.on_exit(501, 2'001, 0, 60'000);
  EXPECT_EQ(table.size(), 2u);

  EXPECT_EQ(table.reap(50'000), 0u);  // exited at 50'000, not before
  EXPECT_EQ(table.reap(50'001), 1u);
  EXPECT_EQ(table.lookup(501, 2'000), nullptr);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.stats().reaped, 1u);
}

TEST(ProcessTable, ExecArgvIsBounded) {
  ProcessTable table(test_boot_id(), nullptr,
                     ProcessTableOptions{.ns_per_tick = kTick, .max_argv_entries = 3});
  table.on_exec(task(10, 5), "/bin/echo", {"echo", "a", "b", "c", "d"});
  const ProcessInfo* p = table.find(10, 5);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->argv, (std::vector<std::string>{"echo", "a", "b"}));
  EXPECT_TRUE(p->argv_truncated);
  // The kernel's own truncation is kept.
  table.on_exec(task(10, 5), "/bin/echo", {"echo"}, /*argv_truncated=*/true);
  EXPECT_TRUE(table.find(10, 5)->argv_truncated);
  table.on_exec(task(10, 5), "/bin/echo", {"echo"});
  EXPECT_FALSE(table.find(10, 5)->argv_truncated);
}

TEST(ProcessTable, PidReuseNeverMergesTwoProcesses) {
  const BootId boot = test_boot_id();
  ProcessTable table(boot, nullptr, fake_options());
  table.on_fork(task(1, 100, 0, 0, "init"), 700, 1'000);
  table.on_exec(task(700, 1'000, 1, 100, "old"), "/usr/bin/old", {"old"});
  table.on_exit(700, 1'000, 0, 5'000);

  // pid 700 comes back as a new process.
  table.on_fork(task(1, 100, 0, 0, "init"), 700, 9'000);
  table.on_exec(task(700, 9'000, 1, 100, "new"), "/usr/bin/new", {"new"});
  const ProcessInfo* fresh = table.find(700, 9'000);
  ASSERT_NE(fresh, nullptr);
  EXPECT_FALSE(fresh->exited);
  EXPECT_EQ(fresh->exe, "/usr/bin/new");
  EXPECT_EQ(table.find(700, 1'000), nullptr);  // the old one was displaced
  EXPECT_EQ(table.stats().pid_reuses, 1u);
  const ActorId fresh_actor = fresh->actor;
  EXPECT_EQ(fresh_actor, compute_actor_id(boot, 700, 9'000));
  EXPECT_NE(compute_actor_id(boot, 700, 1'000), fresh_actor);

  // A late record of the old process: its own entry and actor, none of the new one's data.
  Event late;
  late.type = EventType::kFile;
  late.pid = 700;
  late.start_ns = 1'000;
  table.enrich(late);
  EXPECT_EQ(late.actor, compute_actor_id(boot, 700, 1'000));
  EXPECT_NE(late.actor, fresh_actor);
  EXPECT_EQ(late.exe, "");
  const ProcessInfo* old = table.find(700, 1'000);
  ASSERT_NE(old, nullptr);
  EXPECT_TRUE(old->exited);  // older than the live holder of the pid
  fresh = table.find(700, 9'000);
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(old, fresh);
  EXPECT_EQ(table.find_live(700), fresh);

  // The old one's exit never marks the new one.
  table.on_exit(700, 1'000, 9, 10'000);
  fresh = table.find(700, 9'000);
  ASSERT_NE(fresh, nullptr);
  EXPECT_FALSE(fresh->exited);
  EXPECT_EQ(table.find(700, 1'000)->exit_status, 9);
  // Nor does an exit in the same tick with another ns.
  table.on_exit(700, 9'001, 0, 10'000);
  EXPECT_FALSE(table.find(700, 9'000)->exited);

  // Same tick, different ns: still two processes (exact starts are compared exactly).
  ProcessTable fast(boot, nullptr, fake_options());
  fast.on_fork(task(1, 100, 0, 0, "init"), 800, 3 * kTick + 1);
  fast.on_exit(800, 3 * kTick + 1, 0, 3 * kTick + 2);
  fast.on_fork(task(1, 100, 0, 0, "init"), 800, 3 * kTick + 3);
  EXPECT_EQ(fast.find(800, 3 * kTick + 1), nullptr);
  ASSERT_NE(fast.find(800, 3 * kTick + 3), nullptr);
  EXPECT_FALSE(fast.find(800, 3 * kTick + 3)->exited);
}

TEST(ProcessTable, PidReuseAfterSeedingDisplacesTheStaleEntry) {
  FakeProc fake;
  ProcessTable table(test_boot_id(), nullptr, fake_options());
  ASSERT_TRUE(table.seed_from_proc(fake.proc.string()).ok());
  // pid 101 (seeded, tick 600) exits unseen; a new 101 forks at tick 900.
  table.on_fork(task(100, 500 * kTick + 3, 1, 0, "(a) b)"), 101, 900 * kTick + 5);
  const ProcessInfo* p = table.find_live(101);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->start_ns, 900 * kTick + 5);
  EXPECT_EQ(p->exe, "/usr/bin/weird");  // from its parent, not from the old 101
  EXPECT_EQ(table.find(101, 600 * kTick), nullptr);
}

TEST(ProcessTable, LineageFollowsOnlyTrueParents) {
  ProcessTable table(test_boot_id(), nullptr, fake_options());
  table.on_fork(task(1, 10, 0, 0, "init"), 20, 100);
  table.on_fork(task(20, 100, 1, 10, "sshd"), 30, 200);
  table.on_fork(task(30, 200, 20, 100, "bash"), 40, 300);
  std::vector<ProcessInfo> chain = table.lineage(40, 300);
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_EQ(chain[0].tgid, 40u);
  EXPECT_EQ(chain[1].tgid, 30u);
  EXPECT_EQ(chain[2].tgid, 20u);
  EXPECT_EQ(chain[3].tgid, 1u);
  EXPECT_EQ(table.lineage(40, 300, 2).size(), 2u);
  EXPECT_TRUE(table.lineage(40, 301).empty());
  EXPECT_TRUE(table.lineage(41, 300).empty());

  // 30 exits and its pid is reused: 40's ancestry stops instead of adopting the newcomer.
  table.on_exit(30, 200, 0, 400);
  table.on_fork(task(1, 10, 0, 0, "init"), 30, 500);
  chain = table.lineage(40, 300);
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0].tgid, 40u);

  // Without a recorded parent start, only a parent that started no later is taken.
  Event ev;
  ev.type = EventType::kFile;
  ev.pid = 50;
  ev.ppid = 30;
  ev.start_ns = 450;  // before the new 30 (500)
  table.enrich(ev);
  EXPECT_EQ(table.lineage(50, 450).size(), 1u);
  ev.pid = 51;
  ev.start_ns = 600;  // after it
  table.enrich(ev);
  chain = table.lineage(51, 600);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[1].tgid, 30u);
  EXPECT_EQ(chain[1].start_ns, 500u);
}

TEST(ProcessTable, EvictsOldestExitedFirst) {
  ProcessTable table(test_boot_id(), nullptr,
                     ProcessTableOptions{.max_entries = 4, .ns_per_tick = kTick});
  for (uint32_t pid = 1; pid <= 4; ++pid) table.on_exec(task(pid, pid * 10), "/bin/x", {"x"});
  EXPECT_EQ(table.size(), 4u);
  table.on_exit(3, 30, 0, 1'000);
  table.on_exit(2, 20, 0, 2'000);
  table.on_exec(task(5, 50), "/bin/x", {"x"});
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.find(3, 30), nullptr);  // exited first, evicted first
  EXPECT_NE(table.find(2, 20), nullptr);
  table.on_exec(task(6, 60), "/bin/x", {"x"});
  EXPECT_EQ(table.find(2, 20), nullptr);
  EXPECT_NE(table.find(1, 10), nullptr);
  // No exited entries left: the live process that started first goes.
  table.on_exec(task(7, 70), "/bin/x", {"x"});
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.find(1, 10), nullptr);
  for (uint32_t pid : {4u, 5u, 6u, 7u}) EXPECT_NE(table.find(pid, pid * 10), nullptr) << pid;
  EXPECT_EQ(table.stats().evicted, 3u);
}

TEST(ProcessTable, TaskSnapshotFromKernelRecord) {
  ritma_task t{};
  t.start_ns = 123;
  t.parent_start_ns = 45;
  t.cgroup_id = 9;
  t.pid = 77;
  t.tid = 78;
  t.ppid = 5;
  t.uid = 1;
  t.gid = 2;
  t.euid = 3;
  std::memcpy(t.comm, "0123456789abcdef", sizeof t.comm);  // filled to the bound, no NUL
  const TaskSnapshot s = TaskSnapshot::from_kernel(t);
  EXPECT_EQ(s.tgid, 77u);
  EXPECT_EQ(s.ppid, 5u);
  EXPECT_EQ(s.start_ns, 123u);
  EXPECT_EQ(s.parent_start_ns, 45u);
  EXPECT_EQ(s.cgroup_id, 9u);
  EXPECT_EQ(s.creds, (Credentials{.uid = 1, .gid = 2, .euid = 3}));
  EXPECT_EQ(s.comm, "0123456789abcdef");
  std::memcpy(t.comm, "sh\0junk", 7);
  EXPECT_EQ(TaskSnapshot::from_kernel(t).comm, "sh");
}

// ---------------------------------------------------------------------------------------------
// Process table: the real /proc

TEST(ProcessTable, SeedsFromTheRealProc) {
  const char* argv[] = {"/bin/sleep", "30", nullptr};
  pid_t child = -1;
  ASSERT_EQ(
      posix_spawn(&child, "/bin/sleep", nullptr, nullptr, const_cast<char* const*>(argv), environ),
      0);
  struct Reap {
    pid_t pid;
    ~Reap() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reap{child};

  Result<CgroupResolver> cgroups = CgroupResolver::open_system();
  ProcessTable table(*read_boot_id(), cgroups.ok() ? &*cgroups : nullptr);
  Result<size_t> n = table.seed_from_proc();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_GE(*n, 2u);

  const ProcessInfo* self = table.find_live(static_cast<uint32_t>(getpid()));
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->ppid, static_cast<uint32_t>(getppid()));
  EXPECT_EQ(self->exe, fs::read_symlink("/proc/self/exe").string());
  ASSERT_FALSE(self->argv.empty());
  EXPECT_EQ(self->argv[0], program_invocation_name);
  EXPECT_EQ(self->creds.uid, getuid());
  EXPECT_EQ(self->creds.euid, geteuid());
  EXPECT_EQ(self->creds.gid, getgid());
  if (cgroups.ok()) {
    EXPECT_NE(self->cgroup_id, 0u);
  }

  const ProcessInfo* sleeper = table.find_live(static_cast<uint32_t>(child));
  ASSERT_NE(sleeper, nullptr);
  EXPECT_EQ(sleeper->ppid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(sleeper->argv, (std::vector<std::string>{"/bin/sleep", "30"}));
  EXPECT_EQ(sleeper->exe, fs::canonical("/bin/sleep").string());
  EXPECT_EQ(sleeper->comm, "sleep");
  EXPECT_GE(sleeper->start_ticks, self->start_ticks);

  // The child's lineage runs through this process up to pid 1 (or this pid namespace's top).
  const std::vector<ProcessInfo> chain = table.lineage(sleeper->tgid, sleeper->start_ns);
  ASSERT_GE(chain.size(), 2u);
  EXPECT_EQ(chain[1].tgid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(chain.back().ppid, 0u);
}

}  // namespace
}  // namespace ritma::capture
