#include "src/NetlinkLinkControl.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "src/EthtoolFeatures.hpp"
#include "base/UniqueFd.hpp"

namespace tvf {
namespace {

std::string describe(const char* what, int ifindex, const std::string& value = "") {
  return std::string(what) + (value.empty() ? "" : " " + value) + " on ifindex " + std::to_string(ifindex);
}

Status multicastIoctl(const std::string& ifname, const MacAddress& mac, unsigned long request) {
  auto sock = UniqueFd::inetDgram();
  if (!sock) return sock.status();
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_hwaddr.sa_family = AF_UNSPEC;
  std::memcpy(ifr.ifr_hwaddr.sa_data, mac.bytes().data(), 6);
  if (::ioctl(sock->get(), request, &ifr) < 0)
    return Status::fail(errno, (request == SIOCADDMULTI ? "add " : "remove ") + mac.toString() + " on " + ifname);
  return Status::ok();
}

}  // namespace

Result<Capabilities> capabilitiesFromLink(const LinkInfo& link) {
  auto offloads = readActiveOffloads(link.ifname);
  if (!offloads) return offloads.error();
  Capabilities c;
  c.offloads = *offloads;
  c.gsoMaxSize = link.gsoMaxSize;
  c.gsoMaxSegs = link.gsoMaxSegs;
  c.tsoMaxSize = link.tsoMaxSize;
  c.tsoMaxSegs = link.tsoMaxSegs;
  c.minMtu = link.minMtu;
  c.maxMtu = link.maxMtu;
  c.rxQueues = link.numRxQueues;
  c.txQueues = link.numTxQueues;
  return c;
}

Result<Capabilities> NetlinkLinkControl::readCapabilities(int ifindex) {
  auto link = nl_.getLink(ifindex);
  if (!link) return link.error();
  return capabilitiesFromLink(*link);
}

Status NetlinkLinkControl::setMtu(int ifindex, std::uint32_t mtu) {
  return nl_.setU32(ifindex, IFLA_MTU, mtu, describe("set mtu", ifindex, std::to_string(mtu)));
}

Status NetlinkLinkControl::setUp(int ifindex, bool up) {
  return nl_.setFlags(ifindex, up ? IFF_UP : 0, IFF_UP, describe(up ? "set up" : "set down", ifindex));
}

Status NetlinkLinkControl::setPromisc(int ifindex, bool on) {
  return nl_.setFlags(ifindex, on ? IFF_PROMISC : 0, IFF_PROMISC,
                      describe(on ? "promisc on" : "promisc off", ifindex));
}

Status NetlinkLinkControl::setAllmulti(int ifindex, bool on) {
  return nl_.setFlags(ifindex, on ? IFF_ALLMULTI : 0, IFF_ALLMULTI,
                      describe(on ? "allmulti on" : "allmulti off", ifindex));
}

Status NetlinkLinkControl::setMulticast(int ifindex, const std::vector<MacAddress>& groups) {
  auto link = nl_.getLink(ifindex);
  if (!link) return link.status();
  auto& have = multicast_[ifindex];
  for (const auto& g : groups) {
    if (std::find(have.begin(), have.end(), g) != have.end()) continue;
    if (auto st = multicastIoctl(link->ifname, g, SIOCADDMULTI); !st) return st;
    have.push_back(g);
  }
  for (auto it = have.begin(); it != have.end();) {
    if (std::find(groups.begin(), groups.end(), *it) == groups.end()) {
      (void)multicastIoctl(link->ifname, *it, SIOCDELMULTI);
      it = have.erase(it);
    } else {
      ++it;
    }
  }
  return Status::ok();
}

Status NetlinkLinkControl::claimBackend(int ifindex) {
  auto st = claimer_.claim(ifindex);
  // What tvf added to a backend that vanished unreleased is gone with it.
  for (auto it = multicast_.begin(); it != multicast_.end();)
    it = claimer_.claimed(it->first) || it->first == ifindex ? std::next(it) : multicast_.erase(it);
  return st;
}

void NetlinkLinkControl::releaseAll() {
  while (!multicast_.empty()) {
    const int ifindex = multicast_.begin()->first;
    (void)setMulticast(ifindex, {});
    multicast_.erase(ifindex);
  }
  claimer_.releaseAll();
}

Status NetlinkLinkControl::releaseBackend(int ifindex) {
  if (auto it = multicast_.find(ifindex); it != multicast_.end()) {
    (void)setMulticast(ifindex, {});
    multicast_.erase(ifindex);
  }
  return claimer_.release(ifindex);
}

}  // namespace tvf
