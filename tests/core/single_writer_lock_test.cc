// One writer per node: a second holder is told who holds the lock.
#include "core/single_writer_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace ritma {
namespace {

TEST(SingleWriterLock, SecondAcquireNamesHolderPid) {
  test::TempDir dir;
  const auto lock_path = dir / "sensor.lock";
  int ready[2];
  int release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = SingleWriterLock::acquire(lock_path, "ritma-sensor");
    char c = lock.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(release[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto second = SingleWriterLock::acquire(lock_path, "ritma-sensor");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("ritma-sensor already running (pid " +
                                        std::to_string(child) + ")"),
            std::string::npos)
      << second.error().message;
  (void)!write(release[1], "x", 1);
  int status = 0;
  waitpid(child, &status, 0);
  // The holder exited: the kernel dropped its lock.
  auto third = SingleWriterLock::acquire(lock_path, "ritma-sensor");
  EXPECT_TRUE(third.ok()) << third.error().message;
  for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
}

TEST(SingleWriterLock, ReleasedOnDestructionAndMove) {
  test::TempDir dir;
  {
    auto a = SingleWriterLock::acquire(dir / "l", "x");
    ASSERT_TRUE(a.ok());
    SingleWriterLock moved = std::move(a).value();
    EXPECT_EQ(moved.path(), dir / "l");
  }
  EXPECT_TRUE(SingleWriterLock::acquire(dir / "l", "x").ok());
}

TEST(SingleWriterLock, ClearErrorForUnwritableDirectory) {
  auto r = SingleWriterLock::acquire("/nonexistent-dir/ritma/x.lock", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot open lock file"), std::string::npos);
}

}  // namespace
}  // namespace ritma
