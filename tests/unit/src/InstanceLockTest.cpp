// The locks that keep a second tvfd off a running one's state and pairs.
// flock(2) locks belong to an open file description and the abstract names
// to a socket, so a second take in this one process conflicts as a second
// process would.
#include "src/InstanceLock.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

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
  EXPECT_EQ(second.error().what, "another tvfd in this network namespace runs pair " + pair);
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
  EXPECT_EQ(second.error().what, "another tvfd in this network namespace runs a pair on the synthetic " + mac->toString());
}

}  // namespace
}  // namespace tvf
