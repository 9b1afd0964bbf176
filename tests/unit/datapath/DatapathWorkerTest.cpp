// WorkerDatapath's real worker threads against FakePorts, with a
// SOCK_SEQPACKET socketpair standing in for the TAP queue.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "fakes/FakeBackend.hpp"
#include "fakes/FakePort.hpp"
#include "datapath/WorkerDatapath.hpp"

namespace tvf {
namespace {

using namespace std::chrono_literals;
using testing::FakePort;

const int kQuiet = (spdlog::set_level(spdlog::level::off), 0);

bool waitFor(const std::function<bool()>& pred) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

FakePort::Frame frame(std::uint8_t tag, std::size_t len = 64) {
  FakePort::Frame f(kVnetHdrLen + len, 0);
  f[kVnetHdrLen + 14] = tag;  // first payload byte identifies the frame
  return f;
}

class DatapathWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    dp = std::make_unique<WorkerDatapath>(
        "tvf0", std::vector<int>{fds[0]},
        testing::fakeBackends([this](const LinkInfo&, unsigned, unsigned) -> Result<PortPtr> {
          auto p = std::make_unique<FakePort>();
          synth = p.get();
          return PortPtr(std::move(p));
        },
        [this](const LinkInfo&, unsigned, unsigned) -> Result<PortPtr> {
          if (failVfOpen) return Error{EBUSY, "vf busy"};
          vfAlive = std::make_shared<bool>(false);
          auto p = std::make_unique<FakePort>(vfAlive);
          vf = p.get();
          return PortPtr(std::move(p));
        }));
    LinkInfo s;
    s.ifname = "eth0";
    ASSERT_TRUE(dp->start(s));
  }
  void TearDown() override {
    dp.reset();
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void stackSends(const FakePort::Frame& f) { ASSERT_EQ(::write(fds[1], f.data(), f.size()), static_cast<ssize_t>(f.size())); }
  std::optional<FakePort::Frame> stackReceives() {
    FakePort::Frame buf(70000);
    std::optional<FakePort::Frame> got;
    waitFor([&] {
      const ssize_t n = ::read(fds[1], buf.data(), buf.size());
      if (n > 0) got = FakePort::Frame(buf.begin(), buf.begin() + n);
      return got.has_value();
    });
    return got;
  }
  void openVf() {
    LinkInfo v;
    v.ifname = "vf0";
    ASSERT_TRUE(dp->openVfPort(v, 7));
  }
  // Pumps the control side until the datapath reports retirement.
  std::optional<PathCounters> awaitRetire() {
    std::optional<PathCounters> out;
    waitFor([&] {
      auto ev = dp->drainEvents();
      if (ev.vfRetired) out = ev.vfRetired;
      return out.has_value();
    });
    return out;
  }

  int fds[2] = {-1, -1};
  std::unique_ptr<WorkerDatapath> dp;
  FakePort* synth = nullptr;
  FakePort* vf = nullptr;
  std::shared_ptr<bool> vfAlive;
  bool failVfOpen = false;
};

TEST_F(DatapathWorkerTest, TxGoesToTheSyntheticByDefault) {
  stackSends(frame(1));
  ASSERT_TRUE(waitFor([&] { return synth->sent().size() == 1; }));
  EXPECT_EQ(synth->sent()[0], frame(1));
  EXPECT_TRUE(waitFor([&] { return dp->liveCounters(PathKind::Synthetic).txPackets == 1; }));
  EXPECT_EQ(dp->liveCounters(PathKind::Synthetic).txBytes, 64u);
}

TEST_F(DatapathWorkerTest, SwitchMovesTxToTheVfAndBack) {
  openVf();
  EXPECT_TRUE(dp->hasVfPort());
  EXPECT_EQ(dp->vfMechanism(), "fake");
  dp->switchTx(PathKind::Vf);
  stackSends(frame(2));
  ASSERT_TRUE(waitFor([&] { return vf->sent().size() == 1; }));
  EXPECT_TRUE(synth->sent().empty());
  dp->switchTx(PathKind::Synthetic);
  stackSends(frame(3));
  ASSERT_TRUE(waitFor([&] { return synth->sent().size() == 1; }));
  EXPECT_EQ(vf->sent().size(), 1u);
}

TEST_F(DatapathWorkerTest, RxFromEveryPortEntersTheTap) {
  synth->inject(frame(4));
  auto a = stackReceives();
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, frame(4));
  openVf();
  // The RX worker picks up the VF's port once it applied the command.
  ASSERT_TRUE(waitFor([&] {
    vf->inject(frame(5));
    auto b = stackReceives();
    return b && *b == frame(5);
  }));
  EXPECT_GE(dp->liveCounters(PathKind::Vf).rxPackets, 1u);
  EXPECT_EQ(dp->liveCounters(PathKind::Synthetic).rxPackets, 1u);
}

TEST_F(DatapathWorkerTest, VfFailureSendsThroughTheSyntheticAndIsReported) {
  openVf();
  dp->switchTx(PathKind::Vf);
  vf->failSends(ENXIO);
  stackSends(frame(6));
  stackSends(frame(7));
  // Nothing is lost: both frames leave through the synthetic.
  ASSERT_TRUE(waitFor([&] { return synth->sent().size() == 2; }));
  std::vector<std::pair<std::uint64_t, int>> errors;
  ASSERT_TRUE(waitFor([&] {
    auto ev = dp->drainEvents();
    errors.insert(errors.end(), ev.vfPortErrors.begin(), ev.vfPortErrors.end());
    return !errors.empty();
  }));
  EXPECT_EQ(errors[0].first, 7u);  // the generation of the VF port
  EXPECT_EQ(errors[0].second, ENXIO);
  EXPECT_EQ(errors.size(), 1u);  // once, not once per frame
}

TEST_F(DatapathWorkerTest, RetiredPortIsFreedOnlyAfterEveryWorkerQuiesced) {
  openVf();
  dp->switchTx(PathKind::Vf);
  stackSends(frame(8));
  ASSERT_TRUE(waitFor([&] { return vf->sent().size() == 1; }));
  dp->switchTx(PathKind::Synthetic);
  dp->retireVfPort();
  auto final = awaitRetire();
  ASSERT_TRUE(final);
  EXPECT_EQ(final->txPackets, 1u);
  EXPECT_FALSE(dp->hasVfPort());
  EXPECT_FALSE(*vfAlive);  // the port object is gone
  EXPECT_EQ(dp->liveCounters(PathKind::Vf), PathCounters{});
  stackSends(frame(9));
  ASSERT_TRUE(waitFor([&] { return synth->sent().size() == 1; }));
}

TEST_F(DatapathWorkerTest, FramesAPortAlreadyReceivedGoUpWhenItIsRetired) {
  openVf();
  vf->inject(frame(20));  // the worker has taken the VF's port up
  ASSERT_TRUE(stackReceives());
  // Received just before a surprise removal, not yet read: the retire
  // command is what wakes the worker.
  vf->injectQuietly(frame(21));
  vf->injectQuietly(frame(22));
  dp->retireVfPort();
  auto a = stackReceives();
  auto b = stackReceives();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, frame(21));
  EXPECT_EQ(*b, frame(22));
  auto final = awaitRetire();
  ASSERT_TRUE(final);
  EXPECT_EQ(final->rxPackets, 3u);
}

TEST_F(DatapathWorkerTest, OpenFailureLeavesNoPort) {
  failVfOpen = true;
  LinkInfo v;
  v.ifname = "vf0";
  auto st = dp->openVfPort(v, 1);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.code(), EBUSY);
  EXPECT_FALSE(dp->hasVfPort());
  failVfOpen = false;
  openVf();
  EXPECT_EQ(dp->openVfPort(v, 2).code(), EBUSY);  // one VF port at a time
}

TEST_F(DatapathWorkerTest, RxIsServedWhileTheTapKeepsTheWorkerBusy) {
  // One thread serves both directions, so a frame from a port must not
  // wait for the TAP queue to run dry. Fill the TAP queue, make each send
  // take 1 ms, then inject an RX frame mid-batch: it must reach the stack while most
  // of the TAP's frames are still waiting.
  synth->slowSends(1ms);
  const auto f = frame(11);
  std::size_t queued = 0;
  while (::write(fds[1], f.data(), f.size()) > 0) ++queued;
  ASSERT_GE(queued, 150u);  // a full socketpair holds a few hundred
  ASSERT_TRUE(waitFor([&] { return synth->sent().size() >= 5; }));  // mid-batch
  synth->inject(frame(12));
  auto got = stackReceives();
  const std::size_t sentBefore = synth->sent().size();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, frame(12));
  EXPECT_LT(sentBefore, queued - 50) << "the RX frame waited for the TAP queue to drain";
  synth->slowSends(0us);
  EXPECT_TRUE(waitFor([&] { return synth->sent().size() == queued; }));
}

TEST_F(DatapathWorkerTest, WorkersRunAsOrdinaryThreadsAtPriorityZero) {
  EXPECT_EQ(dp->workerCount(), 1u);
  EXPECT_EQ(dp->scheduling(), "other");
}

// Threads of this process with SCHED_FIFO at `prio`, from /proc.
int fifoThreads(int prio) {
  int n = 0;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(t.path() / "stat");
    std::string line;
    std::getline(in, line);
    // Fields after the ")" that ends the thread's name: 3 = state ...
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
    // stat(5): rt_priority is field 40, policy field 41; f[0] is field 3.
    if (f.size() > 38 && std::stoi(f[37]) == prio && std::stoi(f[38]) == SCHED_FIFO) ++n;
  }
  return n;
}

TEST_F(DatapathWorkerTest, WorkersRunAtTheConfiguredFifoPriority) {
  WorkerDatapath rt("tvf1", {fds[0]}, testing::fakeBackends([](const LinkInfo&, unsigned, unsigned) -> Result<PortPtr> {
    return PortPtr(std::make_unique<FakePort>());
  }, nullptr), 7);
  LinkInfo s;
  s.ifname = "eth1";
  ASSERT_TRUE(rt.start(s));
  if (::geteuid() != 0) {
    // Without CAP_SYS_NICE the kernel refuses: the workers say so and run.
    EXPECT_EQ(rt.scheduling().rfind("other (fifo:7 refused: ", 0), 0u) << rt.scheduling();
    EXPECT_EQ(fifoThreads(7), 0);
    return;
  }
  EXPECT_EQ(rt.scheduling(), "fifo:7");
  EXPECT_EQ(fifoThreads(7), 1);
  rt.stop();
  EXPECT_EQ(fifoThreads(7), 0);
}

TEST_F(DatapathWorkerTest, RuntFramesFromTheTapAreIgnored) {
  FakePort::Frame runt(kVnetHdrLen + 4, 0);
  stackSends(runt);
  stackSends(frame(10));
  ASSERT_TRUE(waitFor([&] { return synth->sent().size() == 1; }));
  EXPECT_EQ(synth->sent()[0], frame(10));
}

}  // namespace
}  // namespace tvf
