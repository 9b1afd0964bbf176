// The groups an announcement reports (src/MulticastMembership) and the
// IGMP/MLD report frames (src/PathFrames).
#include <gtest/gtest.h>

#include "base/InternetChecksum.hpp"
#include "src/MulticastMembership.hpp"
#include "src/PathFrames.hpp"

namespace tvf {
namespace {

// Captured from this kernel (6.18): tvf0 is ifindex 7, in IGMPv3 mode.
const char* kIgmp =
    "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
    "1\tlo        :     1      V3\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "7\ttvf0      :     3      V3\n"
    "\t\t\t\t040201EF     1 0:00000000\t\t0\n"
    "\t\t\t\tFB0000E0     1 0:00000000\t\t0\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "8\tother     :     2      V2\n"
    "\t\t\t\t090201EF     1 0:00000000\t\t0\n";
const char* kIgmp6 =
    "1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
    "7    tvf0            ff0e0000000000000000000000040005     1 00000004 0\n"
    "7    tvf0            ff0200000000000000000001ff000002     1 00000004 0\n"
    "7    tvf0            ff020000000000000000000000000001     1 0000000C 0\n"
    "7    tvf0            ff010000000000000000000000000001     1 00000008 0\n"
    "8    other           ff0e0000000000000000000000000009     1 00000004 0\n";

TEST(MulticastMembership, ReadsTheDevicesGroupsButNotTheUnreportedOnes) {
  const auto m = parseMulticastMembership(kIgmp, kIgmp6, 7);
  ASSERT_EQ(m.v4.size(), 2u);  // 224.0.0.1 is never reported
  EXPECT_EQ(m.v4[0], (Ipv4{239, 1, 2, 4}));
  EXPECT_EQ(m.v4[1], (Ipv4{224, 0, 0, 251}));
  EXPECT_EQ(m.igmpVersion, 3);
  ASSERT_EQ(m.v6.size(), 2u);  // ff02::1 and interface-local ff01::1 are not
  EXPECT_EQ(m.v6[0][1], 0x0e);
  EXPECT_EQ(m.v6[0][15], 5);
  EXPECT_EQ(m.v6[1][11], 0x01);
  EXPECT_EQ(m.v6[1][12], 0xff);
}

TEST(MulticastMembership, TakesTheIgmpVersionAnOlderQuerierSet) {
  const auto m = parseMulticastMembership(kIgmp, kIgmp6, 8);
  EXPECT_EQ(m.igmpVersion, 2);
  ASSERT_EQ(m.v4.size(), 1u);
  EXPECT_EQ(m.v4[0], (Ipv4{239, 1, 2, 9}));
  EXPECT_EQ(m.v6.size(), 1u);
}

TEST(MulticastMembership, AnUnknownDeviceOrGarbageGivesNothing) {
  EXPECT_TRUE(parseMulticastMembership(kIgmp, kIgmp6, 99).v4.empty());
  const auto m = parseMulticastMembership("7\ttvf0 : 1 V3\n\t\tZZZZZZZZ 1\n\t\t0102\n", "7 tvf0 ff0e00zz\n", 7);
  EXPECT_TRUE(m.v4.empty());
  EXPECT_TRUE(m.v6.empty());
}

// /proc/net/mcfilter prints with ntohl(): 0xe8010101 is 232.1.1.1.
TEST(MulticastMembership, SourceSpecificGroupsTakeTheirIncludedSources) {
  auto m = parseMulticastMembership(
      "7\ttvf0      :     2      V3\n\t\t\t\t010101E8     1 0:00000000\t\t0\n"
      "\t\t\t\t040201EF     1 0:00000000\t\t0\n",
      "7    tvf0            ff3e0000000000000000000000000001     1 00000004 0\n", 7);
  parseSourceFilters(m,
                     "Idx Device        MCA        SRC    INC    EXC\n"
                     "  7   tvf0 0xe8010101 0xc6120001      1      0\n"
                     "  7   tvf0 0xe8010101 0xc6120009      0      1\n"   // excluded: not reported
                     "  7   tvf0 0xef010204 0xc6120001      1      0\n"   // not the SSM range
                     "  8  other 0xe8010101 0xc6120005      1      0\n",  // another device
                     "Idx Device                Multicast Address                   Source Address    INC    EXC\n"
                     "  7   tvf0 ff3e0000000000000000000000000001 fd000018000000000000000000000001      1      0\n",
                     7);
  ASSERT_EQ(m.v4Sources.size(), 1u);
  EXPECT_EQ(m.v4Sources.begin()->first, (Ipv4{232, 1, 1, 1}));
  EXPECT_EQ(m.v4Sources.begin()->second, (std::vector<Ipv4>{{198, 18, 0, 1}}));
  ASSERT_EQ(m.v6Sources.size(), 1u);
  EXPECT_EQ(m.v6Sources.begin()->second[0][0], 0xfd);
  EXPECT_TRUE(sourceSpecific(Ipv4{232, 0, 0, 1}));
  EXPECT_FALSE(sourceSpecific(Ipv4{239, 0, 0, 1}));
}

TEST(PathFrames, ASourceSpecificGroupIsReportedIncludeItsSources) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const Ipv4 ssm{232, 1, 1, 1};
  const auto frames = igmpReports(mac, {198, 18, 0, 2}, {{239, 1, 2, 4}, ssm}, 3,
                                  {{ssm, {{198, 18, 0, 1}, {198, 18, 0, 3}}}});
  ASSERT_EQ(frames.size(), 1u);
  const auto& f = frames[0];
  EXPECT_EQ(f.size(), 14u + 24 + 8 + 8 + 8 + 2 * 4);
  EXPECT_EQ(f[46], 2);       // 239.1.2.4: EXCLUDE {}
  EXPECT_EQ(f[54], 1);       // 232.1.1.1: INCLUDE
  EXPECT_EQ(f[57], 2);       // two sources
  EXPECT_EQ(f[62 + 3], 1);   // 198.18.0.1
  EXPECT_EQ(f[66 + 3], 3);   // 198.18.0.3
  EXPECT_EQ(checksumOf(onesSum(&f[38], f.size() - 38)), 0);
  const Ipv6 g6 = {0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Ipv6 s6 = {0xfd, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const auto mld = mldv2Reports(mac, {}, {g6}, {{g6, {s6}}});
  ASSERT_EQ(mld.size(), 1u);
  EXPECT_EQ(mld[0][70], 1);  // INCLUDE
  EXPECT_EQ(mld[0][73], 1);  // one source
  EXPECT_EQ(mld[0][90], 0xfd);
  const Ipv6 dst = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16};
  EXPECT_EQ(icmpv6Checksum({}, dst, &mld[0][62], mld[0].size() - 62), 0);
}

TEST(PathFrames, Igmpv3ReportCarriesEveryGroupWithValidChecksums) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  std::vector<Ipv4> groups;
  for (int i = 0; i < 200; ++i) groups.push_back({239, 1, 0, static_cast<std::uint8_t>(i)});
  const auto frames = igmpReports(mac, {198, 18, 0, 2}, groups);
  ASSERT_EQ(frames.size(), 2u);  // 180 + 20
  std::size_t records = 0;
  for (const auto& f : frames) {
    EXPECT_LE(f.size(), 1514u);
    EXPECT_EQ(f[0], 0x01);
    EXPECT_EQ(f[5], 0x16);  // 01:00:5e:00:00:16
    EXPECT_EQ(f[14], 0x46);  // with the Router Alert option
    EXPECT_EQ(f[22], 1);     // TTL
    EXPECT_EQ(checksumOf(onesSum(&f[14], 24)), 0);
    EXPECT_EQ(f[38], 0x22);
    const std::size_t n = f[44] << 8 | f[45];
    EXPECT_EQ(f.size(), 14 + 24 + 8 + 8 * n);
    EXPECT_EQ(checksumOf(onesSum(&f[38], f.size() - 38)), 0);
    EXPECT_EQ(f[46], 2);  // MODE_IS_EXCLUDE
    records += n;
  }
  EXPECT_EQ(records, 200u);
  EXPECT_EQ(frames[1][46 + 4 + 3], 180);  // 239.1.0.180 opens the second
}

TEST(PathFrames, Igmpv2ReportsGoToEachGroup) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const auto frames = igmpReports(mac, {}, {{239, 129, 2, 4}}, 2);
  ASSERT_EQ(frames.size(), 1u);
  const auto& f = frames[0];
  EXPECT_EQ(f[3], 0x01);  // 01:00:5e:01:02:04: the low 23 bits
  EXPECT_EQ(f[5], 0x04);
  EXPECT_EQ(f[38], 0x16);
  EXPECT_EQ(f[30 + 3], 4);  // IP destination: the group
  EXPECT_EQ(checksumOf(onesSum(&f[38], 8)), 0);
  EXPECT_EQ(igmpReports(mac, {}, {{239, 1, 2, 4}}, 1)[0][38], 0x12);
}

TEST(PathFrames, Mldv2ReportHasTheRouterAlertAndAValidChecksum) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const Ipv6 ll = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const Ipv6 g = {0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 5};
  const auto frames = mldv2Reports(mac, ll, std::vector<Ipv6>(71, g));
  ASSERT_EQ(frames.size(), 2u);  // 70 + 1
  const auto& f = frames[1];
  EXPECT_EQ(f[1], 0x33);
  EXPECT_EQ(f[5], 0x16);
  EXPECT_EQ(f[20], 0);   // hop-by-hop first
  EXPECT_EQ(f[21], 1);   // hop limit
  EXPECT_EQ(f[54], 58);  // then ICMPv6
  EXPECT_EQ(f[56], 5);   // Router Alert
  EXPECT_EQ(f[62], 143);
  EXPECT_EQ(f[69], 1);
  const std::size_t icmpLen = f.size() - 62;
  EXPECT_EQ((f[18] << 8 | f[19]), static_cast<int>(8 + icmpLen));
  const Ipv6 dst = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16};
  EXPECT_EQ(icmpv6Checksum(ll, dst, &f[62], icmpLen), 0);
}

}  // namespace
}  // namespace tvf
