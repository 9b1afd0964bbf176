// A numeric listen address, "IPv4:port" or "[IPv6]:port", as the config key
// metrics_listen takes it. No host names: tvfd resolves nothing at startup.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tvf {

struct ListenAddress {
  std::string host;    // numeric, without brackets: "127.0.0.1", "::1"
  std::uint16_t port;  // 1..65535
  bool ipv6 = false;

  // Parses "198.18.0.1:9417" or "[fd00::1]:9417". nullopt on anything else
  // (a host name, a missing or zero port, a port above 65535, junk).
  static std::optional<ListenAddress> parse(std::string_view s) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon + 1 >= s.size()) return std::nullopt;
    std::string host(s.substr(0, colon));
    const std::string_view portText = s.substr(colon + 1);
    bool v6 = false;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
      v6 = true;
    }
    unsigned char buf[16];
    if (v6 ? ::inet_pton(AF_INET6, host.c_str(), buf) != 1 : ::inet_pton(AF_INET, host.c_str(), buf) != 1)
      return std::nullopt;
    if (portText.size() > 5) return std::nullopt;
    unsigned long port = 0;
    for (char c : portText) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    return ListenAddress{std::move(host), static_cast<std::uint16_t>(port), v6};
  }

  // Back to the config's spelling.
  std::string toString() const {
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

}  // namespace tvf
