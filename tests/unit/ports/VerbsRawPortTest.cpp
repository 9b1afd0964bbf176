// The verbs VF port against a fake raw-packet queue: receive with vnet
// headers, send with device or software checksum and segmentation, send
// slot accounting, and a device that vanishes. Real rdma-core is not
// exercised here (no RDMA device on the test machines).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "fakes/FakeRawQueue.hpp"
#include "ports/SoftwareOffload.hpp"
#include "ports/VerbsRawPort.hpp"
#include "vf/PairBackendRegistry.hpp"
#include "tvf/VnetHdr.hpp"

namespace tvf {
namespace {

using testing::FakeRawQueue;
using testing::FakeRawQueueProvider;
using Bytes = std::vector<std::uint8_t>;

// ---- packets -----------------------------------------------------------------

void put16(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
std::uint32_t get16(const Bytes& b, std::size_t at) { return std::uint32_t(b[at]) << 8 | b[at + 1]; }
std::uint32_t get32(const Bytes& b, std::size_t at) { return get16(b, at) << 16 | get16(b, at + 2); }
std::uint64_t sum(const Bytes& b, std::size_t from, std::size_t n, std::uint64_t acc = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) acc += get16(b, from + i);
  if (n & 1) acc += std::uint32_t(b[from + n - 1]) << 8;
  return acc;
}
std::uint16_t fold(std::uint64_t a) {
  while (a >> 16) a = (a & 0xffff) + (a >> 16);
  return static_cast<std::uint16_t>(a);
}

struct Layout {
  bool v6 = false;
  bool udp = false;
  bool vlan = false;
  std::size_t l3() const { return vlan ? 18 : 14; }
  std::size_t l4() const { return l3() + (v6 ? 40 : 20); }
  std::size_t hdr() const { return l4() + (udp ? 8 : 20); }
};

std::uint64_t pseudo(const Bytes& f, const Layout& l, std::size_t l4Len) {
  const std::uint8_t proto = l.udp ? 17 : 6;
  return l.v6 ? sum(f, l.l3() + 8, 32) + l4Len + proto : sum(f, l.l3() + 12, 8) + l4Len + proto;
}

// An Ethernet frame as a TAP hands it over: L4 checksum field holding the
// pseudo-header sum (CHECKSUM_PARTIAL), the IPv4 header checksum final.
Bytes frame(const Layout& l, std::size_t payload, std::uint8_t tcpFlags = 0x18) {
  Bytes f(l.hdr() + payload, 0);
  for (int i = 0; i < 6; ++i) f[static_cast<std::size_t>(i)] = 0x02, f[static_cast<std::size_t>(6 + i)] = 0x04;
  std::size_t et = 12;
  if (l.vlan) {
    put16(f, 12, 0x8100);
    put16(f, 14, 42);
    et = 16;
  }
  put16(f, et, l.v6 ? 0x86dd : 0x0800);
  const std::size_t ip = l.l3(), l4 = l.l4(), l4Len = f.size() - l4;
  if (l.v6) {
    f[ip] = 0x60;
    put16(f, ip + 4, static_cast<std::uint32_t>(l4Len));
    f[ip + 6] = l.udp ? 17 : 6;
    f[ip + 7] = 64;
    f[ip + 8] = 0xfd, f[ip + 23] = 2;
    f[ip + 24] = 0xfd, f[ip + 39] = 1;
  } else {
    f[ip] = 0x45;
    put16(f, ip + 2, static_cast<std::uint32_t>(f.size() - ip));
    put16(f, ip + 4, 0x1234);
    put16(f, ip + 6, 0x4000);
    f[ip + 8] = 64;
    f[ip + 9] = l.udp ? 17 : 6;
    f[ip + 12] = 198, f[ip + 13] = 18, f[ip + 14] = 0, f[ip + 15] = 2;
    f[ip + 16] = 198, f[ip + 17] = 18, f[ip + 18] = 0, f[ip + 19] = 1;
    put16(f, ip + 10, static_cast<std::uint16_t>(~fold(sum(f, ip, 20))));
  }
  put16(f, l4, 40000);
  put16(f, l4 + 2, 5201);
  std::size_t check = l4 + 6;
  if (l.udp) {
    put16(f, l4 + 4, static_cast<std::uint32_t>(l4Len));
  } else {
    put16(f, l4 + 4, 0x0001);  // seq 0x000103e8
    put16(f, l4 + 6, 0x03e8);
    f[l4 + 12] = 0x50;
    f[l4 + 13] = tcpFlags;
    put16(f, l4 + 14, 0xffff);
    check = l4 + 16;
  }
  for (std::size_t i = l.hdr(); i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i % 251);
  put16(f, check, fold(pseudo(f, l, l4Len)));
  return f;
}

bool checksumsValid(const Bytes& f, const Layout& l) {
  if (!l.v6 && fold(sum(f, l.l3(), 20)) != 0xffff) return false;
  const std::size_t l4Len = f.size() - l.l4();
  return fold(sum(f, l.l4(), l4Len, pseudo(f, l, l4Len))) == 0xffff;
}

Bytes withVnet(const Bytes& f, std::uint8_t gsoType, std::uint16_t gsoSize, const Layout& l, bool partial = true) {
  VnetHdr h{};
  h.flags = partial ? kVnetFlagNeedsCsum : 0;
  h.gsoType = gsoType;
  h.gsoSize = gsoSize;
  h.hdrLen = static_cast<std::uint16_t>(l.hdr());
  h.csumStart = static_cast<std::uint16_t>(l.l4());
  h.csumOffset = l.udp ? 6 : 16;
  Bytes out(sizeof h + f.size());
  std::memcpy(out.data(), &h, sizeof h);
  std::copy(f.begin(), f.end(), out.begin() + static_cast<std::ptrdiff_t>(sizeof h));
  return out;
}

// ---- the port --------------------------------------------------------------------

struct Collect final : FrameSink {
  bool deliver(std::span<const std::uint8_t> f) noexcept override {
    frames.emplace_back(f.begin(), f.end());
    return true;
  }
  std::vector<Bytes> frames;
};

class VerbsRawPortTest : public ::testing::Test {
 protected:
  void open(RawQueueCaps caps = {}, VerbsPortOptions opts = {8, 8}) {
    provider.caps = caps;
    RawQueueSpec spec;
    spec.rdmaDevice = "mlx5_0";
    spec.mac = *MacAddress::parse("02:00:c6:12:00:02");
    auto p = VerbsRawPort::open(provider, spec, opts);
    ASSERT_TRUE(p) << p.error().describe();
    port = std::move(p).value();
    queue = provider.queue;
  }
  std::span<const std::uint8_t> span(const Bytes& b) { return {b.data(), b.size()}; }

  FakeRawQueueProvider provider;
  PortPtr port;
  FakeRawQueue* queue = nullptr;
};

TEST_F(VerbsRawPortTest, OpenPostsEveryReceiveBufferAndArms) {
  open({}, {16, 4});
  EXPECT_EQ(queue->posted.size(), 16u);
  EXPECT_EQ(queue->arms, 1);
  EXPECT_EQ(provider.lastSpec.recvSlots, 16u);
  EXPECT_EQ(provider.lastSpec.sendSlots, 4u);
  EXPECT_EQ(provider.lastRegion.size(),
            16 * VerbsRawPort::kRecvSlotBytes + 4 * VerbsRawPort::kSendSlotBytes);
  EXPECT_EQ(port->pollFd(), queue->eventFd());
  EXPECT_EQ(port->mechanism(), "verbs");
}

TEST_F(VerbsRawPortTest, OpenFailureIsAnError) {
  provider.failOpen = EOPNOTSUPP;
  RawQueueSpec spec;
  spec.rdmaDevice = "mana_0";
  auto p = VerbsRawPort::open(provider, spec, {});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, EOPNOTSUPP);
}

TEST_F(VerbsRawPortTest, ReceivedFramesGoUpWithAVnetHeaderAndBuffersAreReposted) {
  open();
  const Layout l;
  const Bytes a = frame(l, 100), b = frame(l, 1400);
  ASSERT_TRUE(queue->inject(a, true));
  ASSERT_TRUE(queue->inject(b, false));
  Collect sink;
  EXPECT_EQ(port->receiveBatch(sink, 64), 2);
  ASSERT_EQ(sink.frames.size(), 2u);
  VnetHdr h;
  std::memcpy(&h, sink.frames[0].data(), sizeof h);
  EXPECT_EQ(h.flags, kVnetFlagDataValid);  // the device checked it
  EXPECT_EQ(h.gsoType, kVnetGsoNone);
  EXPECT_EQ(Bytes(sink.frames[0].begin() + kVnetHdrLen, sink.frames[0].end()), a);
  std::memcpy(&h, sink.frames[1].data(), sizeof h);
  EXPECT_EQ(h.flags, 0);  // the stack verifies it
  EXPECT_EQ(Bytes(sink.frames[1].begin() + kVnetHdrLen, sink.frames[1].end()), b);
  EXPECT_EQ(queue->posted.size(), 8u);
  // Empty again: the queue is armed for the next notification.
  const int arms = queue->arms;
  EXPECT_EQ(port->receiveBatch(sink, 64), 0);
  EXPECT_EQ(queue->arms, arms + 1);
}

TEST_F(VerbsRawPortTest, ABatchStopsAtItsBudget) {
  open();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(queue->inject(frame({}, 60)));
  Collect sink;
  EXPECT_EQ(port->receiveBatch(sink, 4), 4);
  EXPECT_EQ(port->receiveBatch(sink, 4), 2);
  EXPECT_EQ(sink.frames.size(), 6u);
}

TEST_F(VerbsRawPortTest, ErrorCompletionsAndFailedRepostsAreCountedAsDrops) {
  open();
  ASSERT_TRUE(queue->inject(frame({}, 60), false, false));
  ASSERT_TRUE(queue->inject(Bytes(8, 0)));  // shorter than an Ethernet header
  ASSERT_TRUE(queue->inject(frame({}, 60)));
  queue->failPostReceive = -ENOBUFS;
  Collect sink;
  EXPECT_EQ(port->receiveBatch(sink, 64), 1);
  EXPECT_EQ(port->takeReceiveDrops(), 2u + 3u);
  EXPECT_EQ(port->takeReceiveDrops(), 0u);
}

TEST_F(VerbsRawPortTest, AVanishedDeviceReadsAsEnxioBothWays) {
  open();
  queue->vanish();
  Collect sink;
  EXPECT_EQ(port->receiveBatch(sink, 64), -ENXIO);
  EXPECT_EQ(port->send(span(withVnet(frame({}, 100), 0, 0, {}, false))), -ENXIO);
}

TEST_F(VerbsRawPortTest, PlainFrameLeavesWithoutTheVnetHeader) {
  open();
  const Bytes f = frame({}, 200);
  ASSERT_EQ(port->send(span(withVnet(f, 0, 0, {}, false))), 0);
  ASSERT_EQ(queue->sent.size(), 1u);
  EXPECT_EQ(queue->sent[0], f);
  EXPECT_FALSE(queue->sentOptions[0].deviceChecksum);
  EXPECT_EQ(queue->sentOptions[0].tsoMss, 0);
}

// A doorbell-style port rings once per batch: sends are held until flush().
TEST_F(VerbsRawPortTest, ABatchRingsTheDoorbellOnce) {
  open();
  const Bytes f = withVnet(frame({}, 200), 0, 0, {}, false);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(port->send(span(f)), 0);
  EXPECT_EQ(queue->sent.size(), 5u);  // posted
  EXPECT_EQ(queue->doorbells, 0);     // not yet rung
  ASSERT_EQ(port->flush(), 0);
  EXPECT_EQ(queue->doorbells, 1);
  ASSERT_EQ(port->flush(), 0);  // nothing held: no ring
  EXPECT_EQ(queue->doorbells, 1);
  // sendBatch is the same in one call.
  std::vector<std::span<const std::uint8_t>> batch(3, span(f));
  EXPECT_EQ(port->sendBatch(batch), 3);
  EXPECT_EQ(queue->doorbells, 2);
  EXPECT_EQ(queue->sent.size(), 8u);
}

TEST_F(VerbsRawPortTest, PartialChecksumIsFinishedInSoftwareWhenTheDeviceCannot) {
  open();
  for (const Layout l : {Layout{}, Layout{true, false, false}, Layout{false, true, false}, Layout{false, false, true}}) {
    const Bytes f = frame(l, 333);
    ASSERT_FALSE(checksumsValid(f, l));
    queue->sent.clear();
    ASSERT_EQ(port->send(span(withVnet(f, 0, 0, l))), 0);
    ASSERT_EQ(queue->sent.size(), 1u);
    EXPECT_TRUE(checksumsValid(queue->sent[0], l)) << "v6=" << l.v6 << " udp=" << l.udp << " vlan=" << l.vlan;
  }
}

TEST_F(VerbsRawPortTest, PartialChecksumIsLeftToTheDeviceWhenItCan) {
  open({true, 0, 0});
  const Bytes f = frame({}, 333);
  ASSERT_EQ(port->send(span(withVnet(f, 0, 0, {}))), 0);
  EXPECT_EQ(queue->sent[0], f);
  EXPECT_TRUE(queue->sentOptions[0].deviceChecksum);
}

TEST_F(VerbsRawPortTest, GsoFrameIsOneTsoRequestWhenTheQpHasTso) {
  open({true, 192, 262144});
  const Layout l;
  const Bytes f = frame(l, 60000);
  ASSERT_EQ(port->send(span(withVnet(f, kVnetGsoTcpv4, 1448, l))), 0);
  ASSERT_EQ(queue->sent.size(), 1u);
  EXPECT_EQ(queue->sent[0], f);
  EXPECT_EQ(queue->sentOptions[0].tsoMss, 1448);
  EXPECT_EQ(queue->sentOptions[0].tsoHeaderLen, l.hdr());
  EXPECT_TRUE(queue->sentOptions[0].deviceChecksum);
}

// Segments of a software-cut super-frame: each a valid wire frame, in
// order, carrying the payload once.
void expectSegments(const std::vector<Bytes>& segs, const Bytes& whole, const Layout& l, std::size_t mss) {
  const std::size_t payload = whole.size() - l.hdr();
  ASSERT_EQ(segs.size(), (payload + mss - 1) / mss);
  Bytes joined;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const Bytes& s = segs[i];
    const std::size_t chunk = std::min(mss, payload - i * mss);
    ASSERT_EQ(s.size(), l.hdr() + chunk) << i;
    EXPECT_TRUE(checksumsValid(s, l)) << "segment " << i;
    if (l.v6) {
      EXPECT_EQ(get16(s, l.l3() + 4), s.size() - l.l3() - 40);
    } else {
      EXPECT_EQ(get16(s, l.l3() + 2), s.size() - l.l3());
      EXPECT_EQ(get16(s, l.l3() + 4), 0x1234 + i);
    }
    if (l.udp) {
      EXPECT_EQ(get16(s, l.l4() + 4), s.size() - l.l4());
    } else {
      EXPECT_EQ(get32(s, l.l4() + 4), 0x000103e8 + i * mss);
      const bool last = i + 1 == segs.size();
      EXPECT_EQ((s[l.l4() + 13] & 0x08) != 0, last) << "PSH only on the last segment";
      EXPECT_EQ((s[l.l4() + 13] & 0x10) != 0, true) << "ACK on every segment";
    }
    joined.insert(joined.end(), s.begin() + static_cast<std::ptrdiff_t>(l.hdr()), s.end());
  }
  EXPECT_EQ(joined, Bytes(whole.begin() + static_cast<std::ptrdiff_t>(l.hdr()), whole.end()));
}

TEST_F(VerbsRawPortTest, GsoFrameIsSegmentedInSoftwareWithoutTso) {
  open({}, {8, 64});
  const struct {
    Layout l;
    std::uint8_t type;
  } cases[] = {{{}, kVnetGsoTcpv4}, {{true, false, false}, kVnetGsoTcpv6}, {{false, true, false}, kVnetGsoUdpL4},
               {{true, true, true}, kVnetGsoUdpL4}, {{false, false, true}, kVnetGsoTcpv4 | kVnetGsoEcn}};
  for (const auto& c : cases) {
    queue->sent.clear();
    const Bytes f = frame(c.l, 5000);
    ASSERT_EQ(port->send(span(withVnet(f, c.type, 1448, c.l))), 0);
    expectSegments(queue->sent, f, c.l, 1448);
    for (const auto& o : queue->sentOptions) EXPECT_EQ(o.tsoMss, 0);
  }
}

TEST_F(VerbsRawPortTest, FinClearedOnAllButTheLastSegment) {
  open({}, {8, 64});
  const Bytes f = frame({}, 3000, 0x19);  // FIN|PSH|ACK
  ASSERT_EQ(port->send(span(withVnet(f, kVnetGsoTcpv4, 1000, {}))), 0);
  ASSERT_EQ(queue->sent.size(), 3u);
  EXPECT_EQ(queue->sent[0][Layout{}.l4() + 13], 0x10);
  EXPECT_EQ(queue->sent[1][Layout{}.l4() + 13], 0x10);
  EXPECT_EQ(queue->sent[2][Layout{}.l4() + 13], 0x19);
}

TEST_F(VerbsRawPortTest, MalformedGsoFrameIsRefused) {
  open({}, {8, 64});
  Bytes f = frame({}, 3000);
  EXPECT_EQ(port->send(span(withVnet(f, kVnetGsoUdp, 1000, {}))), -EINVAL);    // UFO: not supported
  EXPECT_EQ(port->send(span(withVnet(f, kVnetGsoTcpv6, 1000, {}))), -EINVAL);  // TCPv6 on an IPv4 frame
  EXPECT_EQ(port->send(span(withVnet(f, kVnetGsoTcpv4, 0, {}))), -EINVAL);         // no segment size
  EXPECT_TRUE(queue->sent.empty());
}

TEST_F(VerbsRawPortTest, SendSlotsRunOutAndComeBackWithCompletions) {
  open({}, {8, 4});
  queue->holdSends = true;
  const Bytes f = withVnet(frame({}, 100), 0, 0, {}, false);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(port->send(span(f)), 0) << i;
  EXPECT_EQ(port->send(span(f)), -ENOBUFS);
  // A super-frame needing more slots than are free is refused whole.
  queue->completeHeldSends();
  EXPECT_EQ(port->send(span(withVnet(frame({}, 9000), kVnetGsoTcpv4, 1448, {}))), -ENOBUFS);
  EXPECT_EQ(port->send(span(f)), 0);
  EXPECT_EQ(queue->sent.size(), 5u);
}

// ---- choosing the datapath ---------------------------------------------------

TEST(VfDatapathChoice, AutoTakesVerbsOnlyWhereItCan) {
  EXPECT_EQ(*chooseVfDatapath(VfDatapath::Auto, "vf0", "mlx5_0", true, 1), VfDatapath::Verbs);
  EXPECT_EQ(*chooseVfDatapath(VfDatapath::Auto, "vf0", "", true, 1), VfDatapath::Packet);
  EXPECT_EQ(*chooseVfDatapath(VfDatapath::Auto, "vf0", "mlx5_0", false, 1), VfDatapath::Packet);
  EXPECT_EQ(*chooseVfDatapath(VfDatapath::Auto, "vf0", "mlx5_0", true, 4), VfDatapath::Packet);
  EXPECT_EQ(*chooseVfDatapath(VfDatapath::Packet, "vf0", "mlx5_0", true, 1), VfDatapath::Packet);
}

TEST(VfDatapathChoice, VerbsAskedForButUnavailableSaysWhy) {
  auto r = chooseVfDatapath(VfDatapath::Verbs, "vf0", "mlx5_0", false, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EOPNOTSUPP);
  EXPECT_NE(r.error().what.find("built without rdma-core"), std::string::npos);
  r = chooseVfDatapath(VfDatapath::Verbs, "vf0", "", true, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENODEV);
  EXPECT_NE(r.error().what.find("vf0: it has no RDMA device"), std::string::npos);
  r = chooseVfDatapath(VfDatapath::Verbs, "vf0", "mlx5_0", true, 2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
}

}  // namespace
}  // namespace tvf
