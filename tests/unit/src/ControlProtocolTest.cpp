// The control protocol's parsing, the status JSON contract, the Prometheus
// exposition, and the announcement frames.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "src/ControlServer.hpp"
#include "src/PathFrames.hpp"
#include "protocol/StatusReport.hpp"

namespace tvf {
namespace {

PairStatus sample() {
  PairStatus s;
  s.name = "tvf0";
  s.tap = "tvf0";
  s.state = PairState::Active;
  s.active = PathKind::Vf;
  s.synthetic = {"eth0", 2, true, "packet"};
  s.vf = PairStatus::Backend{"vf0", 5, true, "packet"};
  s.caps.offloads = {Offload::ScatterGather, Offload::Tso4};
  s.caps.gsoMaxSize = 16384;
  s.caps.gsoMaxSegs = 64;
  s.mtu = 1500;
  s.vfCounters.rxPackets = 10;
  s.syntheticCounters.txDropped = 2;
  s.switches = 3;
  s.datapath.mode = "kernel";
  s.datapath.reason = "auto: BPF programs loaded, VF backend is a netdev";
  s.datapath.fallbacks = 7;
  s.datapath.mirror = true;
  s.held = true;
  s.candidates = {"vf9"};
  s.operatorOffloadsOff = {"tx-tcp-segmentation"};
  return s;
}

TEST(ControlProtocol, ParsesRequestsAndRejectsTheRest) {
  EXPECT_TRUE(parseRequest(R"({"cmd":"status"})"));
  EXPECT_EQ(parseRequest("{not json").error().what, "malformed JSON request");
  EXPECT_EQ(parseRequest("[1,2]").error().what, "a request must be a JSON object");
  EXPECT_EQ(parseRequest(R"({"cmd":5})").error().what, "a request needs a string \"cmd\"");
  EXPECT_EQ(errorReply("x"), (nlohmann::json{{"ok", false}, {"error", "x"}}));
}

TEST(StatusJson, HasEveryFieldOfTheContract) {
  auto j = pairStatusJson(sample());
  for (const char* k : {"name", "tap", "transparent", "state", "active", "synthetic", "vf", "caps", "counters", "switches"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["state"], "active");
  EXPECT_EQ(j["active"], "vf");
  EXPECT_EQ(j["synthetic"], (nlohmann::json{{"ifname", "eth0"}, {"ifindex", 2}, {"carrier", true}}));
  EXPECT_EQ(j["vf"]["datapath"], "packet");
  EXPECT_EQ(j["caps"]["offloads"], (nlohmann::json{"tx-scatter-gather", "tx-tcp-segmentation"}));
  EXPECT_EQ(j["caps"]["gso_max_size"], 16384);
  EXPECT_EQ(j["caps"]["gso_max_segs"], 64);
  EXPECT_EQ(j["caps"]["mtu"], 1500);
  EXPECT_EQ(j["caps"]["operator_off"], (nlohmann::json{"tx-tcp-segmentation"}));
  for (const char* path : {"synthetic", "vf"})
    for (const char* k : {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_dropped", "tx_dropped"})
      EXPECT_TRUE(j["counters"][path].contains(k)) << path << "." << k;
  EXPECT_EQ(j["counters"]["vf"]["rx_packets"], 10);
  EXPECT_EQ(j["switches"], 3);
  EXPECT_EQ(j["candidates"], (nlohmann::json{"vf9"}));
  EXPECT_TRUE(j["attach_only"].is_null());
  PairStatus pinned = sample();
  pinned.attachOnly = "vf1";
  EXPECT_EQ(pairStatusJson(pinned)["attach_only"], "vf1");
  PairStatus none = sample();
  none.vf.reset();
  EXPECT_TRUE(pairStatusJson(none)["vf"].is_null());
}

TEST(StatusTable, IsReadable) {
  auto t = statusTable(statusJson({sample()}, {}));
  EXPECT_NE(t.find("tvf0"), std::string::npos);
  EXPECT_NE(t.find("active"), std::string::npos);
  EXPECT_NE(t.find("vf0"), std::string::npos);
  EXPECT_NE(t.find("VF present, not taken: vf9 (held: tvfctl attach tvf0 takes it)"), std::string::npos) << t;
  // Not held, but the name `tvfctl attach tvf0 vf1` gave is why vf9 waits.
  PairStatus pinned = sample();
  pinned.held = false;
  pinned.attachOnly = "vf1";
  t = statusTable(statusJson({pinned}, {}));
  EXPECT_NE(t.find("VF present, not taken: vf9 (only vf1 may attach, as tvfctl attach named it; tvfctl attach tvf0 "
                   "lifts that)"),
            std::string::npos)
      << t;
}

// Why the pair runs its datapath, unless the reason is the key's own words.
TEST(StatusTable, SaysWhyTheDatapathRunsOnlyWhenItSaysMore) {
  auto t = statusTable(statusJson({sample()}, {}));
  EXPECT_NE(t.find("  datapath: kernel (auto: BPF programs loaded, VF backend is a netdev), mirroring egress"), std::string::npos)
      << t;
  PairStatus asked = sample();
  asked.datapath.mode = "user";
  asked.datapath.reason = "datapath: user";
  t = statusTable(statusJson({asked}, {}));
  EXPECT_NE(t.find("  datapath: user\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("(datapath: user)"), std::string::npos) << t;
}

// A strict reading of the Prometheus text format (version 0.0.4): every
// sample belongs to a family declared by HELP and TYPE before it.
TEST(Metrics, FollowTheTextFormat) {
  const std::string text = metricsText({sample()}, {});
  std::istringstream in(text);
  std::string line, family;
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
  const std::regex sampleRe(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? -?[0-9]+(\.[0-9]+)?)");
  int samples = 0;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, help)) {
      family = m[1];
    } else if (std::regex_match(line, m, type)) {
      EXPECT_EQ(m[1], family) << line;
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sampleRe)) << line;
      EXPECT_EQ(m[1], family) << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 20);
  EXPECT_NE(text.find("tvf_path_rx_packets_total{pair=\"tvf0\",path=\"vf\"} 10"), std::string::npos);
  EXPECT_NE(text.find("tvf_pair_state{pair=\"tvf0\",state=\"active\"} 1"), std::string::npos);
  EXPECT_NE(text.find("tvf_switches_total{pair=\"tvf0\"} 3"), std::string::npos);
  // Which datapath, and why; the kernel datapath's own figures.
  EXPECT_NE(text.find("tvf_pair_datapath{pair=\"tvf0\",mode=\"kernel\",reason=\"auto: BPF programs loaded, VF backend is "
                      "a netdev\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tvf_kernel_fallbacks_total{pair=\"tvf0\"} 7"), std::string::npos);
  EXPECT_NE(text.find("tvf_egress_mirror{pair=\"tvf0\"} 1"), std::string::npos);
}

TEST(PathFrames, GratuitousArpAnnouncesTheAddress) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const auto f = gratuitousArp(mac, {198, 18, 0, 2});
  ASSERT_EQ(f.size(), 60u);
  EXPECT_EQ(f[12], 0x08);
  EXPECT_EQ(f[13], 0x06);
  EXPECT_TRUE(std::equal(f.begin() + 28, f.begin() + 32, f.begin() + 38));  // sender = target IP
  EXPECT_EQ(f[28], 198);
  EXPECT_TRUE(std::equal(f.begin() + 6, f.begin() + 12, mac.bytes().begin()));
}

TEST(PathFrames, AnArpRequestIsUnicastToTheNeighbour) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const auto host = *MacAddress::parse("02:00:c6:12:00:01");
  const auto f = arpRequest(mac, {198, 18, 0, 2}, host, {198, 18, 0, 1});
  ASSERT_EQ(f.size(), 60u);
  EXPECT_TRUE(std::equal(f.begin(), f.begin() + 6, host.bytes().begin()));  // not broadcast
  EXPECT_EQ(f[21], 1);                                                     // request
  EXPECT_EQ(f[31], 2);                                                     // sender IP
  EXPECT_EQ(f[41], 1);                                                     // target IP
}

TEST(PathFrames, OnlyAnArpReplyToOurMacIsTakenAsOne) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const auto host = *MacAddress::parse("02:00:c6:12:00:01");
  // The host's reply to our request: its request turned around.
  auto reply = arpRequest(host, {198, 18, 0, 1}, mac, {198, 18, 0, 2});
  reply[21] = 2;
  std::copy(mac.bytes().begin(), mac.bytes().end(), reply.begin() + 32);
  const auto from = arpReplyTo(reply, mac);
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(*from, (Ipv4{198, 18, 0, 1}));
  EXPECT_FALSE(arpReplyTo(reply, host).has_value());  // addressed to another MAC
  auto request = reply;
  request[21] = 1;
  EXPECT_FALSE(arpReplyTo(request, mac).has_value());
  EXPECT_FALSE(arpReplyTo(gratuitousArp(mac, {198, 18, 0, 2}), mac).has_value());
  EXPECT_FALSE(arpReplyTo(std::span<const std::uint8_t>(reply.data(), 41), mac).has_value());  // short
}

TEST(PathFrames, UnsolicitedNaHasAValidChecksum) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const Ipv6 ip = {0xfd, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const auto f = unsolicitedNa(mac, ip);
  ASSERT_EQ(f.size(), 14u + 40u + 32u);
  EXPECT_EQ(f[54], 136);   // NA
  EXPECT_EQ(f[58], 0x20);  // override, not solicited
  const Ipv6 allNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  // Recomputing over the message, checksum included, gives zero.
  EXPECT_EQ(icmpv6Checksum(ip, allNodes, &f[54], 32), 0);
}

TEST(PathFrames, UnsolicitedNaCarriesTheRouterFlagWhenAsked) {
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  const Ipv6 ip = {0xfd, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const auto f = unsolicitedNa(mac, ip, true);
  EXPECT_EQ(f[58], 0xa0);  // router + override, not solicited
  const Ipv6 allNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(icmpv6Checksum(ip, allNodes, &f[54], 32), 0);
}

}  // namespace
}  // namespace tvf
