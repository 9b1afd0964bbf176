// Mutation fuzzing of every parser that takes input from outside the
// process: the YAML config, control socket requests, rtnetlink link
// messages and /proc/net/dev_mcast. Seeded (repeatable), so a failure is a
// regression a developer can reproduce; run under TVF_SANITIZE to catch
// memory errors, not only crashes.
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <fstream>
#include <random>
#include <sstream>

#include "src/ConfigLoader.hpp"
#include "src/ControlServer.hpp"
#include "src/LinkMulticast.hpp"
#include "src/NetlinkTypes.hpp"

namespace tvf {
namespace {

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> in, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 5), byte(0, 255);
  const int rounds = 1 + static_cast<int>(rng() % 8);
  for (int r = 0; r < rounds; ++r) {
    const std::size_t at = in.empty() ? 0 : rng() % in.size();
    switch (op(rng)) {
      case 0: if (!in.empty()) in[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
      case 1: if (!in.empty()) in[at] = static_cast<std::uint8_t>(byte(rng)); break;
      case 2: in.insert(in.begin() + static_cast<long>(at), static_cast<std::uint8_t>(byte(rng))); break;
      case 3: if (!in.empty()) in.erase(in.begin() + static_cast<long>(at)); break;
      case 4: in.resize(at); break;  // truncate
      case 5: {                      // duplicate a slice
        const std::size_t len = std::min<std::size_t>(in.size() - std::min(at, in.size()), rng() % 16);
        std::vector<std::uint8_t> slice(in.begin() + static_cast<long>(at), in.begin() + static_cast<long>(at + len));
        in.insert(in.begin() + static_cast<long>(at), slice.begin(), slice.end());
        break;
      }
    }
  }
  return in;
}

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

TEST(Fuzz, ConfigLoaderNeverCrashesAndAlwaysAnswers) {
  std::ifstream f(TVF_SOURCE_DIR "/conf/tvf.yaml");
  std::stringstream ss;
  ss << f.rdbuf();
  const auto seeds = {bytes(ss.str()), bytes("pairs:\n  - name: tvf0\n    synthetic: mac:02:00:c6:12:00:02\n")};
  std::mt19937 rng(2);
  int problems = 0;
  for (const auto& seed : seeds) {
    for (int i = 0; i < 1500; ++i) {
      auto r = ConfigLoader::loadString(text(mutate(seed, rng)));
      if (auto* p = std::get_if<std::vector<ConfigProblem>>(&r)) {
        ASSERT_FALSE(p->empty());  // an invalid file always says why
        for (const auto& x : *p) ASSERT_FALSE(x.message.empty());
        ++problems;
      }
    }
  }
  EXPECT_GT(problems, 100);  // the mutations really reached the checks
}

TEST(Fuzz, ControlRequestsParseOrGetAnError) {
  const auto seeds = {bytes(R"({"cmd":"detach","pair":"tvf0","wait":true})"), bytes(R"({"cmd":"status"})"),
                      bytes(R"({"cmd":"attach","pair":"tvf0","ifname":"vf1"})")};
  std::mt19937 rng(3);
  int errors = 0;
  for (const auto& seed : seeds) {
    for (int i = 0; i < 5000; ++i) {
      auto r = parseRequest(text(mutate(seed, rng)));
      if (!r) {
        ASSERT_FALSE(r.error().what.empty());
        ++errors;
      } else {
        ASSERT_TRUE((*r)["cmd"].is_string());
      }
    }
  }
  EXPECT_GT(errors, 1000);
}

TEST(Fuzz, LinkMessagesNeverCrashTheParser) {
  NlMsgPtr msg(nlmsg_alloc_simple(RTM_NEWLINK, 0));
  ifinfomsg ifi{};
  ifi.ifi_index = 5;
  ifi.ifi_type = 1;
  nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nla_put_string(msg.get(), IFLA_IFNAME, "vf0");
  const std::uint8_t mac[6] = {2, 0, 0xc6, 0x12, 0, 2};
  nla_put(msg.get(), IFLA_ADDRESS, 6, mac);
  nla_put_u32(msg.get(), IFLA_MTU, 1500);
  nla_put_u32(msg.get(), IFLA_GSO_MAX_SIZE, 65536);
  nlattr* li = nla_nest_start(msg.get(), IFLA_LINKINFO);
  nla_put_string(msg.get(), IFLA_INFO_KIND, "veth");
  nla_nest_end(msg.get(), li);
  const auto* h = nlmsg_hdr(msg.get());
  const std::vector<std::uint8_t> seed(reinterpret_cast<const std::uint8_t*>(h),
                                       reinterpret_cast<const std::uint8_t*>(h) + h->nlmsg_len);
  std::mt19937 rng(4);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    auto m = mutate(seed, rng);
    if (m.size() < sizeof(nlmsghdr)) continue;
    // libnl only hands over messages whose length fits what was received.
    auto* hdr = reinterpret_cast<nlmsghdr*>(m.data());
    hdr->nlmsg_len = static_cast<std::uint32_t>(m.size());
    if (auto p = parseLinkMessage(hdr)) {
      ++parsed;
      ASSERT_LE(p->link.ifname.size(), m.size());
    }
  }
  EXPECT_GT(parsed, 1000);
}

TEST(Fuzz, DevMcastLinesNeverCrashTheParser) {
  const auto seed = bytes("5    tvf0            1     0     333300000001\n5    tvf0            1     0     01005e000001\n");
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; ++i) {
    for (const auto& mac : parseDevMcast(text(mutate(seed, rng)), 5)) ASSERT_FALSE(mac.toString().empty());
  }
  EXPECT_EQ(parseDevMcast(text(seed), 5).size(), 2u);
}

}  // namespace
}  // namespace tvf
