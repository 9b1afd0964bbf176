#include <gtest/gtest.h>

#include "tvf/Capabilities.hpp"

namespace tvf {
namespace {

Capabilities full() {
  Capabilities c;
  c.offloads = OffloadSet::all();
  return c;
}

TEST(Capabilities, NamesRoundTripAsEthtoolPrintsThem) {
  for (std::size_t i = 0; i < kOffloadCount; ++i) {
    const auto o = static_cast<Offload>(i);
    EXPECT_EQ(offloadFromName(offloadName(o)), o);
    EXPECT_EQ(offloadFromName(offloadKernelName(o)), o);
  }
  EXPECT_EQ(offloadName(Offload::Tso4), "tx-tcp-segmentation");
  EXPECT_EQ(offloadName(Offload::Gro), "generic-receive-offload");
  EXPECT_EQ(offloadKernelName(Offload::Gro), "rx-gro");
  EXPECT_FALSE(offloadFromName("no-such-feature").has_value());
}

TEST(Capabilities, IntersectionAndsFeatures) {
  Capabilities a, b;
  a.offloads = {Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::Tso4, Offload::Gro};
  b.offloads = {Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::Tso6, Offload::Gro};
  const auto r = intersect(a, b);
  EXPECT_EQ(r.offloads, (OffloadSet{Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::Gro}));
  EXPECT_EQ(r.offloads.names(),
            (std::vector<std::string>{"tx-checksum-ip-generic", "tx-scatter-gather", "generic-receive-offload"}));
}

TEST(Capabilities, GenericChecksumMeetsProtocolChecksums) {
  Capabilities a, b;
  a.offloads = {Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::Tso4, Offload::Tso6};
  b.offloads = {Offload::ScatterGather, Offload::TxChecksumIpv4, Offload::Tso4, Offload::Tso6};
  const auto r = intersect(a, b);
  EXPECT_TRUE(r.offloads.has(Offload::TxChecksumIpv4));
  EXPECT_FALSE(r.offloads.has(Offload::TxChecksumIpv6));
  EXPECT_FALSE(r.offloads.has(Offload::TxChecksumIpGeneric));
  EXPECT_TRUE(r.offloads.has(Offload::Tso4));
  EXPECT_FALSE(r.offloads.has(Offload::Tso6));  // no IPv6 checksum on b
}

TEST(Capabilities, MaximumsTakeTheMinAndZeroIsUnlimited) {
  Capabilities a = full(), b = full();
  a.gsoMaxSize = 65536;
  b.gsoMaxSize = 16384;
  a.gsoMaxSegs = 0;  // unlimited
  b.gsoMaxSegs = 64;
  a.tsoMaxSize = 0;
  b.tsoMaxSize = 0;
  a.tsoMaxSegs = 100;
  b.tsoMaxSegs = 0;
  a.maxMtu = 9000;
  b.maxMtu = 0;
  a.rxQueues = 8;
  b.rxQueues = 4;
  a.txQueues = 0;
  b.txQueues = 2;
  const auto r = intersect(a, b);
  EXPECT_EQ(r.gsoMaxSize, 16384u);
  EXPECT_EQ(r.gsoMaxSegs, 64u);
  EXPECT_EQ(r.tsoMaxSize, 0u);
  EXPECT_EQ(r.tsoMaxSegs, 100u);
  EXPECT_EQ(r.maxMtu, 9000u);
  EXPECT_EQ(r.rxQueues, 4u);
  EXPECT_EQ(r.txQueues, 2u);
}

TEST(Capabilities, MinimumsTakeTheMax) {
  Capabilities a, b;
  a.minMtu = 68;
  b.minMtu = 1280;
  EXPECT_EQ(intersect(a, b).minMtu, 1280u);
  EXPECT_EQ(intersect(b, a).minMtu, 1280u);
}

TEST(Capabilities, IntersectionIsCommutative) {
  Capabilities a = full(), b;
  b.offloads = {Offload::ScatterGather, Offload::TxChecksumIpv4, Offload::Tso4};
  b.gsoMaxSize = 1000;
  EXPECT_EQ(intersect(a, b), intersect(b, a));
}

TEST(Capabilities, AcceptsMtu) {
  Capabilities c;
  c.minMtu = 68;
  c.maxMtu = 9000;
  EXPECT_TRUE(c.acceptsMtu(1500));
  EXPECT_TRUE(c.acceptsMtu(9000));
  EXPECT_FALSE(c.acceptsMtu(9001));
  EXPECT_FALSE(c.acceptsMtu(67));
  c.maxMtu = 0;
  EXPECT_TRUE(c.acceptsMtu(65535));
}

TEST(FixDependencies, NoTsoWithoutScatterGather) {
  OffloadSet s{Offload::TxChecksumIpGeneric, Offload::Tso4, Offload::Tso6, Offload::TsoEcn,
               Offload::TsoMangleId, Offload::Gso};
  const auto r = fixOffloadDependencies(s);
  EXPECT_EQ(r, OffloadSet{Offload::TxChecksumIpGeneric});
}

TEST(FixDependencies, NoTso4WithoutIpv4Checksum) {
  OffloadSet s{Offload::ScatterGather, Offload::TxChecksumIpv6, Offload::Tso4, Offload::Tso6,
               Offload::TsoEcn};
  const auto r = fixOffloadDependencies(s);
  EXPECT_FALSE(r.has(Offload::Tso4));
  EXPECT_TRUE(r.has(Offload::Tso6));
  EXPECT_FALSE(r.has(Offload::TsoEcn));  // dropped with TSO4
}

TEST(FixDependencies, NoTso6WithoutIpv6Checksum) {
  OffloadSet s{Offload::ScatterGather, Offload::TxChecksumIpv4, Offload::Tso4, Offload::Tso6};
  const auto r = fixOffloadDependencies(s);
  EXPECT_TRUE(r.has(Offload::Tso4));
  EXPECT_FALSE(r.has(Offload::Tso6));
}

TEST(FixDependencies, GenericChecksumCoversBothAndWinsOverIpChecksums) {
  OffloadSet s{Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::TxChecksumIpv4,
               Offload::Tso4, Offload::Tso6};
  const auto r = fixOffloadDependencies(s);
  EXPECT_FALSE(r.has(Offload::TxChecksumIpv4));
  EXPECT_TRUE(r.has(Offload::Tso4));
  EXPECT_TRUE(r.has(Offload::Tso6));
}

TEST(FixDependencies, EcnAndMangleIdNeedTso) {
  OffloadSet s{Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::TsoEcn,
               Offload::TsoMangleId};
  EXPECT_EQ(fixOffloadDependencies(s),
            (OffloadSet{Offload::ScatterGather, Offload::TxChecksumIpGeneric}));
  s.set(Offload::Tso6);
  const auto r = fixOffloadDependencies(s);
  EXPECT_TRUE(r.has(Offload::TsoEcn));        // TSO6 is enough for ECN
  EXPECT_FALSE(r.has(Offload::TsoMangleId));  // MANGLEID needs TSO4
}

TEST(FixDependencies, GsoAndUsoNeedScatterGatherAndUsoNeedsChecksum) {
  EXPECT_EQ(fixOffloadDependencies({Offload::Gso, Offload::UdpSegmentation}), OffloadSet{});
  EXPECT_EQ(fixOffloadDependencies({Offload::ScatterGather, Offload::UdpSegmentation}),
            OffloadSet{Offload::ScatterGather});
  OffloadSet ok{Offload::ScatterGather, Offload::TxChecksumIpv4, Offload::UdpSegmentation};
  EXPECT_EQ(fixOffloadDependencies(ok), ok);
}

TEST(FixDependencies, LroNeedsRxChecksum) {
  EXPECT_EQ(fixOffloadDependencies({Offload::Lro, Offload::Gro}), OffloadSet{Offload::Gro});
  OffloadSet ok{Offload::Lro, Offload::RxChecksum};
  EXPECT_EQ(fixOffloadDependencies(ok), ok);
}

TEST(FixDependencies, AppliedAfterTheAnd) {
  // Each side alone is consistent; their AND is not (SG only on one side).
  Capabilities a, b;
  a.offloads = {Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::Tso4};
  b.offloads = {Offload::TxChecksumIpGeneric, Offload::Tso4, Offload::RxChecksum};
  EXPECT_EQ(intersect(a, b).offloads, OffloadSet{Offload::TxChecksumIpGeneric});
}

TEST(TunFlags, MapsTheSetTheTapCanExpress) {
  OffloadSet s{Offload::ScatterGather, Offload::TxChecksumIpGeneric, Offload::Tso4, Offload::Tso6,
               Offload::TsoEcn, Offload::UdpSegmentation};
  EXPECT_EQ(toTunOffloadFlags(s), kTunFCsum | kTunFTso4 | kTunFTso6 | kTunFTsoEcn | kTunFUso4 | kTunFUso6);
  // IPv4 and IPv6 checksums together are as good as the generic one.
  EXPECT_EQ(toTunOffloadFlags({Offload::ScatterGather, Offload::TxChecksumIpv4,
                               Offload::TxChecksumIpv6, Offload::Tso4}),
            kTunFCsum | kTunFTso4);
  // Only IPv4 checksum: the TAP's generic checksum would over-claim.
  EXPECT_EQ(toTunOffloadFlags({Offload::ScatterGather, Offload::TxChecksumIpv4, Offload::Tso4}), 0u);
  EXPECT_EQ(toTunOffloadFlags({Offload::TxChecksumIpGeneric}), kTunFCsum);
  EXPECT_EQ(toTunOffloadFlags({}), 0u);
}

TEST(TunFlags, TapOffloadsForFlags) {
  const auto s = tapOffloadsFor(kTunFCsum | kTunFTso4);
  EXPECT_TRUE(s.has(Offload::TxChecksumIpGeneric));
  EXPECT_TRUE(s.has(Offload::Tso4));
  EXPECT_FALSE(s.has(Offload::Tso6));
  EXPECT_FALSE(tapOffloadsFor(0).has(Offload::Tso4));
  EXPECT_TRUE(tapOffloadsFor(kTunFCsum | kTunFTso6 | kTunFTsoEcn | kTunFUso4).has(Offload::UdpSegmentation));
  EXPECT_EQ(toTunOffloadFlags(tapOffloadsFor(kTunFCsum | kTunFTso4 | kTunFTso6)),
            kTunFCsum | kTunFTso4 | kTunFTso6);
}

}  // namespace
}  // namespace tvf
