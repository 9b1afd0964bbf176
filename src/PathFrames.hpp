// Builds the frames that tell a switch where a MAC lives: a gratuitous ARP
// per IPv4 address and an unsolicited neighbour advertisement (override
// flag set, Router flag when the interface forwards) per IPv6 address; and
// the unicast ARP request and the reply check that prove a path
// (src/PathProbe); and the multicast membership reports that tell a
// snooping switch which groups live behind the port. Pure functions,
// unit-tested.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "tvf/MacAddress.hpp"

namespace tvf {

using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;

std::vector<std::uint8_t> gratuitousArp(const MacAddress& mac, const Ipv4& ip);
// A unicast ARP request (RFC 1122's unicast poll) from mac/senderIp to a
// neighbour whose MAC is known: 60 bytes, padded.
std::vector<std::uint8_t> arpRequest(const MacAddress& mac, const Ipv4& senderIp, const MacAddress& neighbourMac,
                                     const Ipv4& neighbourIp);
// The sender IPv4 address of `frame` when it is an Ethernet/IPv4 ARP reply
// whose target hardware address is `mac`; nullopt for anything else
// (shorter than 42 bytes, another EtherType, opcode or target).
std::optional<Ipv4> arpReplyTo(std::span<const std::uint8_t> frame, const MacAddress& mac);
// `router`: the Router flag, set when the interface forwards IPv6 (its
// conf/IF/forwarding sysctl), as the kernel's own NA does.
std::vector<std::uint8_t> unsolicitedNa(const MacAddress& mac, const Ipv6& ip, bool router = false);
// Membership reports for `groups`, as a host answers a query: a group
// with sources in `include` as INCLUDE {them} (a source-specific join), any
// other as "every source", EXCLUDE {} (never less than a member asked
// for). `igmpVersion` 3 (RFC 3376): reports to 224.0.0.22 of at most 1472
// bytes of IP (180 groups without sources); 1 or 2 (an older querier was
// heard): an IGMPv1 or v2 report per group to the group itself, sources
// unsaid. From `src` (0.0.0.0 when the device has no address, as RFC 3376
// allows), TTL 1, Router Alert option.
std::vector<std::vector<std::uint8_t>> igmpReports(const MacAddress& mac, const Ipv4& src,
                                                   const std::vector<Ipv4>& groups, int igmpVersion = 3,
                                                   const std::map<Ipv4, std::vector<Ipv4>>& include = {});
// MLDv2 reports (RFC 3810) for `groups` (`include` as above), to ff02::16
// with hop limit 1 and a hop-by-hop Router Alert, at most 1456 bytes of
// IPv6 each (70 groups without sources); `src` is the device's link-local
// address (:: when it has none yet, as RFC 3810 allows).
std::vector<std::vector<std::uint8_t>> mldv2Reports(const MacAddress& mac, const Ipv6& src,
                                                    const std::vector<Ipv6>& groups,
                                                    const std::map<Ipv6, std::vector<Ipv6>>& include = {});
// Internet checksum of the ICMPv6 message with its IPv6 pseudo-header.
std::uint16_t icmpv6Checksum(const Ipv6& src, const Ipv6& dst, const std::uint8_t* msg, std::size_t len);

}  // namespace tvf
