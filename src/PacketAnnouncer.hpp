// Announces a pair's path over a raw packet socket on the chosen backend:
// gratuitous ARPs for the TAP's IPv4 addresses and unsolicited NAs for its
// IPv6 ones, and membership reports for the multicast groups it has joined
// (and the same for each device stacked on the TAP, with its own MAC), so
// the host's switch learns every MAC's and every group's new port at once. Also
// starts the on_switch hook through HookRunner. It subscribes to its pair's
// announceRequested and datapathSwitched on the EventBus.
//
// Thread: the control thread. Counters: frames sent, send failures.
#pragma once

#include <memory>

#include <boost/signals2/connection.hpp>

#include "src/HookRunner.hpp"
#include "src/NetlinkRequester.hpp"
#include "src/PathFrames.hpp"
#include "tvf/Config.hpp"
#include "failover/EventBus.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

struct TapAddresses {
  std::vector<Ipv4> v4;
  std::vector<Ipv6> v6;
};
// The unicast addresses on `ifindex` (IPv6: not tentative, not DAD-failed;
// never a multicast group added with `autojoin`).
Result<TapAddresses> readAddresses(NetlinkRequester& nl, int ifindex);
// Whether `ifname` forwards IPv6 (/proc/sys/net/ipv6/conf/IFNAME/forwarding;
// net.ipv6.conf.all.forwarding=1 sets every interface's): the NA's Router flag.
bool forwardsIpv6(const std::string& ifname);
// The up devices stacked on `ifindex` (macvlan, macvtap, vlan, ipvlan,
// macsec whose IFLA_LINK is it, and those stacked on them), from a link dump.
// An empty list when the dump fails.
std::vector<LinkInfo> upperDevices(NetlinkRequester& nl, int ifindex);

// Appends the membership reports for the multicast groups `ifindex` has
// joined (src/MulticastMembership) to `frames`, from `mac` and the device's
// addresses; returns the log's ", G IPv4 + H IPv6 multicast group(s)", or
// "" when it has joined none.
std::string addMembershipReports(std::vector<std::vector<std::uint8_t>>& frames, int ifindex, const MacAddress& mac,
                                 const TapAddresses& addrs);

class PacketAnnouncer final {
 public:
  PacketAnnouncer(NetlinkRequester& nl, HookRunner& hooks, EventBus& bus, PairConfigPtr cfg, int tapIndex,
                  MacAddress mac);
  void announce(PathKind path, int ifindex, unsigned count);
  void runSwitchHook(const std::string& pair, PathKind path, const std::string& ifname);
  void reconfigure(PairConfigPtr cfg) { cfg_ = std::move(cfg); }
  std::uint64_t framesSent() const { return sent_; }

 private:
  NetlinkRequester& nl_;
  HookRunner& hooks_;
  PairConfigPtr cfg_;
  int tapIndex_;
  MacAddress mac_;
  std::uint64_t sent_ = 0;
  std::shared_ptr<spdlog::logger> log_;
  // Last: they disconnect before the rest of the announcer goes.
  boost::signals2::scoped_connection announceConnection_;
  boost::signals2::scoped_connection switchConnection_;
};

}  // namespace tvf
