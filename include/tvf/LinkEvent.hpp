// Link events as tvf value types. The netlink monitor translates RTM_NEWLINK /
// RTM_DELLINK into these at the boundary; failover logic never sees libnl.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "tvf/MacAddress.hpp"

namespace tvf {

inline constexpr std::uint16_t kArphrdEther = 1;

struct LinkInfo {
  int ifindex = 0;
  std::string ifname;
  MacAddress mac;
  std::uint16_t arpType = kArphrdEther;
  std::string kind;        // IFLA_INFO_KIND: "veth", "vlan", "bridge", "tun", "" ...
  int masterIndex = 0;     // IFLA_MASTER
  int linkIndex = 0;       // IFLA_LINK: a macvlan's or VLAN's lower device (0: none)
  bool up = false;         // IFF_UP
  bool running = false;    // IFF_RUNNING
  bool carrier = false;    // IFF_LOWER_UP
  bool promisc = false;    // IFF_PROMISC
  bool allmulti = false;   // IFF_ALLMULTI
  // The kernel's counters (tcpdump, macvlan, multicast routing raise them
  // without the user flags above); the flag counts in them too.
  std::uint32_t promiscuity = 0;    // IFLA_PROMISCUITY
  std::uint32_t allmultiCount = 0;  // IFLA_ALLMULTI
  std::uint32_t mtu = 0;
  std::uint32_t minMtu = 0;
  std::uint32_t maxMtu = 0;
  std::uint32_t gsoMaxSize = 0;
  std::uint32_t gsoMaxSegs = 0;
  std::uint32_t tsoMaxSize = 0;
  std::uint32_t tsoMaxSegs = 0;
  std::uint32_t numRxQueues = 0;
  std::uint32_t numTxQueues = 0;

  // Acts promiscuous / all-multicast: the flag or the counter.
  bool actsPromisc() const { return promisc || promiscuity > 0; }
  bool actsAllmulti() const { return allmulti || allmultiCount > 0; }

  bool operator==(const LinkInfo&) const = default;
};

struct LinkAdded {
  LinkInfo link;
};
struct LinkRemoved {
  int ifindex = 0;
  std::string ifname;
};
struct LinkChanged {
  LinkInfo link;
};

using LinkEvent = std::variant<LinkAdded, LinkRemoved, LinkChanged>;

}  // namespace tvf
