// metrics_listen: the address grammar (ListenAddress) and the loader's
// handling of the key, with the exact problem message.
#include <gtest/gtest.h>

#include "src/ConfigLoader.hpp"
#include "base/ListenAddress.hpp"

namespace tvf {
namespace {

TEST(ListenAddress, TakesNumericIpv4AndBracketedIpv6WithAPort) {
  auto v4 = ListenAddress::parse("127.0.0.1:9417");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9417);
  EXPECT_FALSE(v4->ipv6);
  EXPECT_EQ(v4->toString(), "127.0.0.1:9417");
  auto v6 = ListenAddress::parse("[fd00::1]:65535");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->toString(), "[fd00::1]:65535");
  EXPECT_TRUE(ListenAddress::parse("0.0.0.0:1"));
  EXPECT_TRUE(ListenAddress::parse("[::]:9417"));
}

TEST(ListenAddress, RefusesNamesBadPortsAndJunk) {
  for (const char* s : {"", "9417", ":9417", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                        "127.0.0.1:99999999", "127.0.0.1:94a7", "127.0.0.1:-1", "localhost:9417", "fd00::1:9417",
                        "[fd00::1]", "[127.0.0.1]:9417", "[fd00::zz]:9417", "256.0.0.1:9417", "127.0.0.1 :9417"})
    EXPECT_FALSE(ListenAddress::parse(s)) << s;
}

TEST(MetricsListenConfig, DefaultsToOffAndAcceptsAnAddress) {
  auto off = ConfigLoader::loadString("pairs:\n  - name: tvf0\n    synthetic: eth0\n");
  ASSERT_TRUE(std::holds_alternative<Config>(off));
  EXPECT_EQ(std::get<Config>(off).metricsListen, "");
  auto on = ConfigLoader::loadString("metrics_listen: \"[::1]:9417\"\npairs:\n  - name: tvf0\n    synthetic: eth0\n");
  ASSERT_TRUE(std::holds_alternative<Config>(on));
  EXPECT_EQ(std::get<Config>(on).metricsListen, "[::1]:9417");
}

TEST(MetricsListenConfig, ABadAddressIsAProblemWithItsLine) {
  auto r = ConfigLoader::loadString("log_level: info\nmetrics_listen: localhost:9417\npairs:\n  - name: tvf0\n"
                                    "    synthetic: eth0\n");
  auto* ps = std::get_if<std::vector<ConfigProblem>>(&r);
  ASSERT_TRUE(ps);
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].path, "metrics_listen");
  EXPECT_EQ((*ps)[0].line, 2);
  EXPECT_EQ((*ps)[0].message,
            "expected IPv4:PORT or [IPv6]:PORT with a numeric address and a port 1..65535, got 'localhost:9417'");
}

}  // namespace
}  // namespace tvf
