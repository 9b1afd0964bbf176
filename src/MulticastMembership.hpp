// The IP multicast groups a device has joined (sockets' IP_ADD_MEMBERSHIP,
// `ip addr add ... autojoin`, the IPv6 solicited-node groups), read from
// /proc/net/igmp and /proc/net/igmp6, for the membership reports an
// announcement carries: a snooping switch learns a group's port from those
// reports only, so after a switch it would keep sending the group to the
// old port until its next query (125 s by default) without them. The
// kernel's own announcement (netdev_notify_peers) re-sends them too.
//
// Thread: any; no state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "src/PathFrames.hpp"

namespace tvf {

struct MulticastMembership {
  std::vector<Ipv4> v4;  // network byte order; never 224.0.0.1 (all hosts: never reported)
  std::vector<Ipv6> v6;  // never ff02::1 nor a scope below link-local (the kernel reports neither)
  // The IGMP version the kernel speaks on the device: 3, or 1/2 after an
  // older querier was heard (the Querier column of /proc/net/igmp).
  int igmpVersion = 3;
  // The sources that sockets asked for (IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_
  // SOURCE_GROUP) on groups of the source-specific range (232.0.0.0/8,
  // ff3x::/32), where a router ignores any-source (EXCLUDE) reports (RFC
  // 4604): those groups are reported INCLUDE {these}. From /proc/net/mcfilter
  // and mcfilter6, sources with an include count.
  std::map<Ipv4, std::vector<Ipv4>> v4Sources;
  std::map<Ipv6, std::vector<Ipv6>> v6Sources;
};

// Whether `group` is in the source-specific multicast range.
bool sourceSpecific(const Ipv4& group);
bool sourceSpecific(const Ipv6& group);

// Parses /proc/net/igmp text (a "IDX NAME : COUNT Vn" line per device, then
// its "HEXGROUP USERS TIMER REPORTER" lines; the group is the kernel's __be32
// printed as %08X) and /proc/net/igmp6 text ("IDX NAME HEXGROUP USERS FLAGS
// TIMER" lines) for `ifindex`.
MulticastMembership parseMulticastMembership(const std::string& igmp, const std::string& igmp6, int ifindex);
// Adds the include-mode sources of `ifindex`'s source-specific groups from
// /proc/net/mcfilter text ("IDX NAME 0xGROUP 0xSOURCE INC EXC", both as
// host-order hex of the address) and mcfilter6 text ("IDX NAME HEXGROUP
// HEXSOURCE INC EXC").
void parseSourceFilters(MulticastMembership& m, const std::string& mcfilter, const std::string& mcfilter6,
                        int ifindex);
// The same from /proc; empty lists when neither file can be read, and no
// IPv6 groups when IPv6 is off on the device (its disable_ipv6 sysctl).
MulticastMembership readMulticastMembership(int ifindex);

}  // namespace tvf
