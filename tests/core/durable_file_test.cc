// Atomic writes survive a writer killed (SIGKILL) at every step: the target always holds
// either the old content or the new, never a mix, never nothing.
#include "core/durable_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace ritma {
namespace {

const AtomicWriteStep kSteps[] = {AtomicWriteStep::kTempCreated, AtomicWriteStep::kHalfWritten,
                                  AtomicWriteStep::kWritten,     AtomicWriteStep::kSynced,
                                  AtomicWriteStep::kRenamed,     AtomicWriteStep::kDirSynced};

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31);
  return b;
}

TEST(AtomicWrite, KilledAtEachStepLeavesOldOrNewContent) {
  const Bytes old_content = pattern(100000, 1);
  const Bytes new_content = pattern(150001, 2);
  for (AtomicWriteStep kill_at : kSteps) {
    test::TempDir dir;
    const auto target = dir / "sealed.bin";
    ASSERT_TRUE(atomic_write_file(target, old_content).ok());
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      (void)atomic_write_file(target, new_content, 0644, [kill_at](AtomicWriteStep s) {
        if (s == kill_at) kill(getpid(), SIGKILL);
      });
      _exit(0);  // not reached when the step is hit
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer was not killed at step " << int(kill_at);
    ASSERT_EQ(WTERMSIG(status), SIGKILL);
    const Bytes now = test::read_file_bytes(target);
    const bool is_old = now == old_content;
    const bool is_new = now == new_content;
    EXPECT_TRUE(is_old || is_new) << "step " << int(kill_at) << ": " << now.size() << " bytes";
    if (kill_at >= AtomicWriteStep::kRenamed) {
      EXPECT_TRUE(is_new) << "after rename the new content must be visible";
    } else {
      EXPECT_TRUE(is_old) << "before rename the old content must be visible";
    }
  }
}

TEST(AtomicWrite, KilledWhileCreatingLeavesNoTargetOrFullTarget) {
  for (AtomicWriteStep kill_at : kSteps) {
    test::TempDir dir;
    const auto target = dir / "fresh.bin";
    const Bytes content = pattern(5000, 9);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      (void)atomic_write_file(target, content, 0600, [kill_at](AtomicWriteStep s) {
        if (s == kill_at) kill(getpid(), SIGKILL);
      });
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (std::filesystem::exists(target)) {
      EXPECT_EQ(test::read_file_bytes(target), content);
      struct stat st;
      ASSERT_EQ(stat(target.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u);
    } else {
      EXPECT_LT(kill_at, AtomicWriteStep::kRenamed);
    }
  }
}

TEST(AtomicWrite, SetsModeAndRemovesTempOnSuccess) {
  test::TempDir dir;
  ASSERT_TRUE(atomic_write_file(dir / "f", as_bytes("hello"), 0640).ok());
  struct stat st;
  ASSERT_EQ(stat((dir / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(AtomicWrite, FailsCleanlyInMissingDirectory) {
  test::TempDir dir;
  auto s = atomic_write_file(dir / "nope" / "f", as_bytes("x"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot create"), std::string::npos);
}

TEST(ReadFile, EnforcesLimit) {
  test::TempDir dir;
  ASSERT_TRUE(atomic_write_file(dir / "f", pattern(1000, 3)).ok());
  EXPECT_TRUE(read_file(dir / "f", 1000).ok());
  EXPECT_FALSE(read_file(dir / "f", 999).ok());
  EXPECT_FALSE(read_file(dir / "missing").ok());
}

TEST(CreateDirectories, CreatesNestedWithMode) {
  test::TempDir dir;
  ASSERT_TRUE(make_directories(dir / "a" / "b" / "c", 0700).ok());
  struct stat st;
  ASSERT_EQ(stat((dir / "a" / "b" / "c").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_TRUE(make_directories(dir / "a" / "b" / "c", 0700).ok());
  ASSERT_TRUE(atomic_write_file(dir / "file", as_bytes("x")).ok());
  EXPECT_FALSE(make_directories(dir / "file" / "sub").ok());
}

}  // namespace
}  // namespace ritma
