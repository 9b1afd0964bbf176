// Builds the frames that tell a switch where a MAC lives: a gratuitous ARP
// per IPv4 address and an unsolicited neighbour advertisement (override
// flag set, Router flag when the interface forwards) per IPv6 address.
// Pure functions, unit-tested.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tvf/MacAddress.hpp"

namespace tvf {

using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;

std::vector<std::uint8_t> gratuitousArp(const MacAddress& mac, const Ipv4& ip);
// `router`: the Router flag, set when the interface forwards IPv6 (its
// conf/IF/forwarding sysctl), as the kernel's own NA does.
std::vector<std::uint8_t> unsolicitedNa(const MacAddress& mac, const Ipv6& ip, bool router = false);
// Internet checksum of the ICMPv6 message with its IPv6 pseudo-header.
std::uint16_t icmpv6Checksum(const Ipv6& src, const Ipv6& dst, const std::uint8_t* msg, std::size_t len);

}  // namespace tvf
