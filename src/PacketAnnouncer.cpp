#include "src/PacketAnnouncer.hpp"
#include "src/MulticastMembership.hpp"

#include <linux/if_addr.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <set>

#include "base/Log.hpp"
#include "base/UniqueFd.hpp"
#include "src/NetlinkTypes.hpp"

namespace tvf {

Result<TapAddresses> readAddresses(NetlinkRequester& nl, int ifindex) {
  TapAddresses out;
  auto st = nl.dump(RTM_GETADDR, AF_UNSPEC, [&](const nlmsghdr* h) {
    auto a = parseAddressMessage(h);
    if (!a || !a->added || a->ifindex != ifindex) return;
    if (a->family == AF_INET) {
      const auto& b = a->local.empty() ? a->address : a->local;
      // A multicast group joined with `ip addr add ... autojoin` is listed
      // as an address: no ARP, nor a source, is ever about it.
      if (b.size() == 4 && (b[0] & 0xf0) != 0xe0) {
        Ipv4 ip;
        std::memcpy(ip.data(), b.data(), 4);
        out.v4.push_back(ip);
      }
    } else if (a->family == AF_INET6) {
      if (a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) return;
      const auto& b = a->address.empty() ? a->local : a->address;
      if (b.size() == 16 && b[0] != 0xff) {
        Ipv6 ip;
        std::memcpy(ip.data(), b.data(), 16);
        out.v6.push_back(ip);
      }
    }
  }, "address dump");
  if (!st) return st.error();
  return out;
}

bool forwardsIpv6(const std::string& ifname) {
  std::ifstream f("/proc/sys/net/ipv6/conf/" + ifname + "/forwarding");
  int v = 0;
  return f >> v && v != 0;
}

std::vector<LinkInfo> upperDevices(NetlinkRequester& nl, int ifindex) {
  static const std::set<std::string> kStacked = {"macvlan", "macvtap", "vlan", "ipvlan", "ipvtap", "macsec"};
  std::vector<LinkInfo> all;
  auto st = nl.dump(RTM_GETLINK, AF_UNSPEC, [&](const nlmsghdr* h) {
    if (auto parsed = parseLinkMessage(h); parsed && parsed->kind == LinkMessageKind::New)
      all.push_back(parsed->link);
  }, "link dump");
  std::vector<LinkInfo> out;
  if (!st) return out;
  // Stacked on the TAP or on what is stacked on it (a VLAN on a macvlan).
  std::set<int> lower = {ifindex};
  for (bool grew = true; grew;) {
    grew = false;
    for (const LinkInfo& l : all) {
      if (l.up && kStacked.count(l.kind) && lower.count(l.linkIndex) && !lower.count(l.ifindex)) {
        lower.insert(l.ifindex);
        out.push_back(l);
        grew = true;
      }
    }
  }
  return out;
}

std::string addMembershipReports(std::vector<std::vector<std::uint8_t>>& frames, int ifindex, const MacAddress& mac,
                                 const TapAddresses& addrs) {
  const MulticastMembership groups = readMulticastMembership(ifindex);
  if (groups.v4.empty() && groups.v6.empty()) return "";
  const Ipv4 src4 = addrs.v4.empty() ? Ipv4{} : addrs.v4.front();
  Ipv6 src6{};  // :: until a link-local address has passed DAD
  for (const auto& ip : addrs.v6) {
    if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) {
      src6 = ip;
      break;
    }
  }
  for (auto& f : igmpReports(mac, src4, groups.v4, groups.igmpVersion, groups.v4Sources))
    frames.push_back(std::move(f));
  for (auto& f : mldv2Reports(mac, src6, groups.v6, groups.v6Sources)) frames.push_back(std::move(f));
  return fmt::format(", {} IPv4 + {} IPv6 multicast group(s)", groups.v4.size(), groups.v6.size());
}

PacketAnnouncer::PacketAnnouncer(NetlinkRequester& nl, HookRunner& hooks, EventBus& bus, PairConfigPtr cfg,
                                 int tapIndex, MacAddress mac)
    : nl_(nl), hooks_(hooks), cfg_(std::move(cfg)), tapIndex_(tapIndex), mac_(mac), log_(moduleLogger("announce")) {
  announceConnection_ = bus.announceRequested.connect(
      [this](const std::string& pair, PathKind path, int ifindex, unsigned count) {
        if (pair == cfg_->name) announce(path, ifindex, count);
      });
  switchConnection_ = bus.datapathSwitched.connect(
      [this](const std::string& pair, PathKind path, const std::string& ifname) {
        if (pair == cfg_->name) runSwitchHook(pair, path, ifname);
      });
}

void PacketAnnouncer::announce(PathKind path, int ifindex, unsigned count) {
  if (count == 0) return;
  auto addrs = readAddresses(nl_, tapIndex_);
  if (!addrs) {
    log_->warn("{}: cannot read addresses to announce: {}", cfg_->name, addrs.error().describe());
    return;
  }
  int raw = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (raw < 0) {
    log_->warn("{}: announce socket: {}", cfg_->name, std::strerror(errno));
    return;
  }
  UniqueFd fd(raw);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::vector<std::vector<std::uint8_t>> frames;
  for (const auto& ip : addrs->v4) frames.push_back(gratuitousArp(mac_, ip));
  const bool router = forwardsIpv6(cfg_->name);
  for (const auto& ip : addrs->v6) frames.push_back(unsolicitedNa(mac_, ip, router));
  const std::string groupsLog = addMembershipReports(frames, tapIndex_, mac_, *addrs);
  // Devices stacked on the TAP (macvlan, VLAN, ...) have MACs of their own
  // behind the same port: each is announced with its MAC and addresses.
  std::string uppersLog;
  for (const LinkInfo& up : upperDevices(nl_, tapIndex_)) {
    auto own = readAddresses(nl_, up.ifindex);
    if (!own) continue;
    const bool upRouter = forwardsIpv6(up.ifname);
    for (const auto& ip : own->v4) frames.push_back(gratuitousArp(up.mac, ip));
    for (const auto& ip : own->v6) frames.push_back(unsolicitedNa(up.mac, ip, upRouter));
    uppersLog += fmt::format("; upper {} ({}): {} IPv4 + {} IPv6{}", up.ifname, up.mac.toString(), own->v4.size(),
                             own->v6.size(), addMembershipReports(frames, up.ifindex, up.mac, *own));
  }
  unsigned failures = 0;
  for (unsigned i = 0; i < count; ++i) {
    for (const auto& f : frames) {
      std::memcpy(to.sll_addr, f.data(), 6);
      if (::sendto(raw, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
        ++failures;
      else
        ++sent_;
    }
  }
  log_->info("{}: announced {} IPv4 + {} IPv6 address(es){}{}{} x{} on {} (ifindex {}){}", cfg_->name,
             addrs->v4.size(), addrs->v6.size(), router ? " (IPv6 router)" : "", groupsLog, uppersLog, count,
             pathName(path), ifindex, failures ? fmt::format(", {} send failures", failures) : "");
}

void PacketAnnouncer::runSwitchHook(const std::string& pair, PathKind path, const std::string& ifname) {
  if (cfg_->onSwitch.empty()) return;
  hooks_.run(cfg_->onSwitch, {pair, pathName(path), ifname}, cfg_->hookTimeout);
}

}  // namespace tvf
