// The user datapath's packet port (ports/PacketSocketPort) on its own,
// without tvfd: a veth pair of the test's own in the guest namespace, the
// port on one end, raw frames sent into it from the other.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "ports/PacketSocketPort.hpp"
#include "tvf/VnetHdr.hpp"
#include "Topology.hpp"

namespace tvf::it {
namespace {

class CountingSink final : public FrameSink {
 public:
  bool deliver(std::span<const std::uint8_t> frame) noexcept override {
    sizes.push_back(frame.size() - kVnetHdrLen);
    return true;
  }
  std::vector<std::size_t> sizes;
};

class PacketPort : public TopologyTest {
 protected:
  void SetUp() override {
    TopologyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // pa receives through the port; pb is where the test sends from.
    ASSERT_EQ(topo->inGuest("ip link add pa mtu 65535 type veth peer name pb mtu 65535 && "
                            "sysctl -qw net.ipv6.conf.pa.disable_ipv6=1 net.ipv6.conf.pb.disable_ipv6=1 && "
                            "ip link set pa up && ip link set pb up").status, 0);
    ns_ = std::make_unique<NetnsGuard>(topo->guest());
    ASSERT_TRUE(ns_->ok());
    pa_ = static_cast<int>(if_nametoindex("pa"));
    pb_ = static_cast<int>(if_nametoindex("pb"));
    ASSERT_GT(pa_, 0);
    ASSERT_GT(pb_, 0);
    sender_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ASSERT_GE(sender_, 0);
  }
  void TearDown() override {
    if (sender_ >= 0) ::close(sender_);
    ns_.reset();
    TopologyTest::TearDown();
  }
  // One Ethernet frame of `bytes` (headers included) out of pb into pa.
  bool sendFrame(std::size_t bytes, std::uint32_t seq) {
    std::vector<std::uint8_t> f(bytes, 0xab);
    const std::uint8_t dst[6] = {0x02, 0, 0xc6, 0x12, 0, 0x02}, src[6] = {0x02, 0, 0xc6, 0x12, 0, 0x09};
    std::memcpy(f.data(), dst, 6);
    std::memcpy(f.data() + 6, src, 6);
    f[12] = 0x88;  // 0x88b5: the IEEE local experimental EtherType
    f[13] = 0xb5;
    std::memcpy(f.data() + 14, &seq, sizeof seq);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = pb_;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, dst, 6);
    return ::sendto(sender_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(f.size());
  }
  // Reads the port until `want` frames came or 5 s passed.
  void drain(Port& port, CountingSink& sink, std::size_t want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sink.sizes.size() < want && std::chrono::steady_clock::now() < deadline) {
      if (port.receiveBatch(sink, 64) == 0) {
        pollfd p{port.pollFd(), POLLIN, 0};
        ::poll(&p, 1, 100);
      }
    }
  }
  std::unique_ptr<NetnsGuard> ns_;
  int pa_ = -1, pb_ = -1, sender_ = -1;
};

// A burst of 230 frames that nobody reads meanwhile is held whole: the
// ring has 240 slots (it had 128, which dropped 102 of them).
TEST_F(PacketPort, ABurstOf230UnreadFramesIsHeldWhole) {
  auto opened = PacketSocketPort::open(pa_, PacketPortOptions{});
  ASSERT_TRUE(opened) << opened.error().describe();
  auto port = std::move(opened).value();
  constexpr std::uint32_t kBurst = 230;
  for (std::uint32_t i = 0; i < kBurst; ++i) ASSERT_TRUE(sendFrame(100, i)) << std::strerror(errno);
  CountingSink sink;
  drain(*port, sink, kBurst);
  EXPECT_EQ(sink.sizes.size(), kBurst);
  EXPECT_EQ(port->takeReceiveDrops(), 0u);
}

// The smaller slots still hold the largest frame a 64 KiB GSO super-frame
// makes: 65,535 bytes of payload behind an Ethernet header.
TEST_F(PacketPort, A64KiBFrameArrivesWhole) {
  auto opened = PacketSocketPort::open(pa_, PacketPortOptions{});
  ASSERT_TRUE(opened) << opened.error().describe();
  auto port = std::move(opened).value();
  ASSERT_TRUE(sendFrame(65535 + ETH_HLEN, 1)) << std::strerror(errno);
  CountingSink sink;
  drain(*port, sink, 1);
  ASSERT_EQ(sink.sizes.size(), 1u);
  EXPECT_EQ(sink.sizes[0], 65535u + ETH_HLEN);
  EXPECT_EQ(port->takeReceiveDrops(), 0u);
}

// A geometry the kernel would refuse is refused before it gets there.
TEST_F(PacketPort, ARingOfPartBlocksIsRefusedWithEinval) {
  PacketPortOptions opts;
  opts.ringFrames = 241;  // not a multiple of 15 slots per block
  auto opened = PacketSocketPort::open(pa_, opts);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, EINVAL);
}

}  // namespace
}  // namespace tvf::it
