// The locks that keep a second tvfd off a running one's state and pairs.
// flock(2) locks belong to an open file description and the abstract names
// to a socket, so a second take in this one process conflicts as a second
// process would.
#include "src/InstanceLock.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include <filesystem>
#include <fstream>

namespace tvf {
namespace {

class InstanceLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tvf-lock-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(InstanceLockTest, StateDirectoryIsCreatedLockedAndNamesTheHolder) {
  auto first = lockStateDirectory((dir_ / "run").string());
  ASSERT_TRUE(first) << first.error().describe();
  std::ifstream pidFile(dir_ / "run" / "tvfd.lock");
  std::string pid;
  pidFile >> pid;
  EXPECT_EQ(pid, std::to_string(::getpid()));

  auto second = lockStateDirectory((dir_ / "run").string());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EBUSY);
  EXPECT_NE(second.error().what.find("another tvfd (pid " + pid + ") uses the state directory " + (dir_ / "run").string()),
            std::string::npos)
      << second.error().what;

  // Released with the descriptor: the next daemon takes it.
  first.value().reset();
  EXPECT_TRUE(lockStateDirectory((dir_ / "run").string()));
}

// Mode 0600 (also for a file an older run left 0644): a user who could open
// it could flock it and keep tvfd from starting.
TEST_F(InstanceLockTest, TheLockFileIsTheOwnersOnly) {
  std::filesystem::create_directories(dir_ / "run");
  { std::ofstream(dir_ / "run" / "tvfd.lock") << "1\n"; }
  std::filesystem::permissions(dir_ / "run" / "tvfd.lock", std::filesystem::perms(0644));
  auto lock = lockStateDirectory((dir_ / "run").string());
  ASSERT_TRUE(lock) << lock.error().describe();
  EXPECT_EQ(std::filesystem::status(dir_ / "run" / "tvfd.lock").permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0600));
}

// Abstract names have no permissions: a process that is not root binding
// tvfd's name first only squats it. tvfd goes on without that lock.
TEST_F(InstanceLockTest, AnUnprivilegedSquatterOfThePairNameDoesNotStopTvfd) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the squatter as nobody";
  const std::string pair = "tvfq" + std::to_string(::getpid() % 100000);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  // Everything the child needs is made before fork(): it only makes syscalls.
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string path = "tvfd/pair/" + pair;
  std::memcpy(a.sun_path + 1, path.data(), path.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(1);
    const int s = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), len) != 0) ::_exit(2);
    (void)!::write(ready[1], "r", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the squatter did not bind";
  ::close(ready[0]);
  const auto holders = abstractNameHolders("tvfd/pair/" + pair);
  auto lock = lockPairName(pair);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_EQ(holders.size(), 1u);
  EXPECT_EQ(holders[0].pid, child);
  EXPECT_EQ(holders[0].uid, 65534);
  ASSERT_TRUE(lock) << lock.error().describe();
  EXPECT_FALSE(lock.value().valid()) << "no lock taken: the squatter holds the name";
}

// The directory may be writable by others: a symbolic link planted as the
// lock file is not followed (its target is never truncated).
TEST_F(InstanceLockTest, ALockFileThatIsASymbolicLinkIsRefused) {
  std::filesystem::create_directories(dir_ / "run");
  { std::ofstream(dir_ / "target") << "precious\n"; }
  std::filesystem::create_symlink(dir_ / "target", dir_ / "run" / "tvfd.lock");
  auto lock = lockStateDirectory((dir_ / "run").string());
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().code, ELOOP) << lock.error().describe();
  std::ifstream in(dir_ / "target");
  std::string word;
  in >> word;
  EXPECT_EQ(word, "precious");
}

TEST_F(InstanceLockTest, PairNameIsHeldOnceAndReleasedWithItsSocket) {
  const std::string pair = "tvfl" + std::to_string(::getpid() % 100000);
  auto first = lockPairName(pair);
  ASSERT_TRUE(first) << first.error().describe();
  auto second = lockPairName(pair);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EBUSY);
  EXPECT_EQ(second.error().what,
            "another tvfd in this network namespace runs pair " + pair + " (pid " + std::to_string(::getpid()) + ")");
  EXPECT_TRUE(lockPairName(pair + "x")) << "another pair's name is free";
  first.value().reset();
  EXPECT_TRUE(lockPairName(pair));
}

TEST_F(InstanceLockTest, SyntheticMacIsHeldOnce) {
  const auto mac = MacAddress::parse("02:00:c6:12:7e:" + std::to_string(10 + ::getpid() % 89));
  ASSERT_TRUE(mac);
  auto first = lockSyntheticMac(*mac);
  ASSERT_TRUE(first) << first.error().describe();
  auto second = lockSyntheticMac(*mac);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EBUSY);
  EXPECT_EQ(second.error().what, "another tvfd in this network namespace runs a pair on the synthetic " +
                                     mac->toString() + " (pid " + std::to_string(::getpid()) + ")");
}

}  // namespace
}  // namespace tvf
