#include "src/TapDevice.hpp"

#include <algorithm>
#include "tvf/Capabilities.hpp"
#include "tvf/VnetHdr.hpp"
#include "base/Log.hpp"

#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>

#include <cstring>

namespace tvf {

namespace {
constexpr std::uint32_t kTapGsoMaxSize = 65536;  // GSO_LEGACY_MAX_SIZE: a TAP takes no more
constexpr std::uint32_t kTapGsoMaxSegs = 65535;
}  // namespace

Result<std::unique_ptr<TapDevice>> TapDevice::open(const std::string& name, unsigned queues,
                                                   bool persist, NetlinkRequester& nl) {
  const bool existed = if_nametoindex(name.c_str()) != 0;
  int flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (queues > 1) flags |= IFF_MULTI_QUEUE;
  std::vector<UniqueFd> fds;
  for (unsigned q = 0; q < queues; ++q) {
    auto fd = UniqueFd::tap(name, flags);
    if (!fd) {
      Error e = fd.error();
      if (existed && e.code == EINVAL)
        e.what += " (an existing " + name + " has other flags: is it a TAP with queues=" +
                  std::to_string(queues) + " and vnet headers?)";
      if (existed && e.code == EBUSY) e.what += " (" + name + " is held by another process)";
      return e;
    }
    int hdr = sizeof(VnetHdr);
    if (::ioctl(fd->get(), TUNSETVNETHDRSZ, &hdr) < 0) return Error{errno, "TUNSETVNETHDRSZ " + name};
    fds.push_back(std::move(fd).value());
  }
  if (::ioctl(fds[0].get(), TUNSETPERSIST, persist ? 1 : 0) < 0) return Error{errno, "TUNSETPERSIST " + name};
  const int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (ifindex == 0) return Error{ENODEV, "TAP " + name + " vanished after creation"};
  return std::unique_ptr<TapDevice>(new TapDevice(name, std::move(fds), ifindex, !existed, nl));
}

std::vector<std::string> TapDevice::operatorOffloadsOff() {
  // What the operator changed since tvf last wrote the bits counts too;
  // the bits read become the base the next look compares with, so that a
  // feature turned off and on again between two looks reads as on.
  if (auto now = readRequestedFeatures(name_)) {
    offloadIntent_.observe(*now);
    offloadIntent_.applied(*now);
  }
  const FeatureWords& off = offloadIntent_.operatorOff();
  if (std::none_of(off.begin(), off.end(), [](std::uint32_t w) { return w != 0; })) return {};
  // In the names caps.offloads uses (`ethtool -k`'s) where tvf knows the
  // feature; the kernel's feature string otherwise.
  std::vector<std::string> names;
  for (const auto& n : featureNames(name_, off)) {
    const auto o = offloadFromName(n);
    names.emplace_back(o ? std::string(offloadName(*o)) : n);
  }
  return names;
}

Status TapDevice::applyCapabilities(const Capabilities& caps) {
  const unsigned flags = toTunOffloadFlags(caps.offloads);
  // TUNSETOFFLOAD rewrites the wanted features: what the operator turned
  // off with ethtool -K is read first and cleared again after.
  if (auto before = readRequestedFeatures(name_)) offloadIntent_.observe(*before);
  if (::ioctl(queues_[0].get(), TUNSETOFFLOAD, flags) < 0)
    return Status::fail(errno, "TUNSETOFFLOAD " + std::to_string(flags) + " on " + name_);
  if (auto after = readRequestedFeatures(name_)) {
    const FeatureWords clear = offloadIntent_.toClear(*after);
    if (!clear.empty()) {
      auto log = moduleLogger("tap");
      std::string names;
      for (const auto& n : featureNames(name_, clear)) names += (names.empty() ? "" : " ") + n;
      if (auto st = clearRequestedFeatures(name_, clear); !st) {
        log->warn("{}: cannot keep the operator's offloads off ({}): {}", name_, names,
                  st.error().describe());
      } else {
        log->info("{}: kept off as the operator set them: {}", name_, names);
      }
    }
    if (auto now = readRequestedFeatures(name_)) offloadIntent_.applied(*now);
  }
  // The GSO limits both paths allow, under what the operator set on tvf0.
  const std::uint32_t pathsSize = minLimit(caps.gsoMaxSize, kTapGsoMaxSize);
  const std::uint32_t pathsSegs = minLimit(caps.gsoMaxSegs, kTapGsoMaxSegs);
  const auto link = nl_.getLink(ifindex_);
  const std::uint32_t size = gsoSize_.next(link ? link->gsoMaxSize : 0, pathsSize);
  const std::uint32_t segs = gsoSegs_.next(link ? link->gsoMaxSegs : 0, pathsSegs);
  if (size < pathsSize || segs < pathsSegs)
    moduleLogger("tap")->info("{}: gso_max_size {} gso_max_segs {} kept as the operator set them (the paths allow {} and {})",
                              name_, size, segs, pathsSize, pathsSegs);
  if (auto st = nl_.setU32(ifindex_, IFLA_GSO_MAX_SIZE, size, "gso_max_size " + std::to_string(size) + " on " + name_); !st)
    return st;
  gsoSize_.applied(size);
  if (auto st = nl_.setU32(ifindex_, IFLA_GSO_MAX_SEGS, segs, "gso_max_segs " + std::to_string(segs) + " on " + name_); !st)
    return st;
  gsoSegs_.applied(segs);
  return Status::ok();
}

nlohmann::json TapDevice::intentJson() const {
  return {{"offloads_applied", offloadIntent_.lastApplied()},
          {"offloads_operator_off", offloadIntent_.operatorOff()},
          {"gso_max_size", {{"written", gsoSize_.written()}, {"operator", gsoSize_.operatorCeiling()}}},
          {"gso_max_segs", {{"written", gsoSegs_.written()}, {"operator", gsoSegs_.operatorCeiling()}}}};
}

void TapDevice::restoreIntent(const nlohmann::json& j) {
  try {
    offloadIntent_.restore(j.at("offloads_applied").get<FeatureWords>(), j.at("offloads_operator_off").get<FeatureWords>());
    gsoSize_.restore(j.at("gso_max_size").at("written").get<std::uint32_t>(),
                     j.at("gso_max_size").at("operator").get<std::uint32_t>());
    gsoSegs_.restore(j.at("gso_max_segs").at("written").get<std::uint32_t>(),
                     j.at("gso_max_segs").at("operator").get<std::uint32_t>());
  } catch (const nlohmann::json::exception& e) {
    moduleLogger("tap")->warn("{}: ignoring the saved operator choices: {}", name_, e.what());
  }
}

Status TapDevice::setCarrier(bool on) {
  int v = on ? 1 : 0;
  if (::ioctl(queues_[0].get(), TUNSETCARRIER, &v) < 0) return Status::fail(errno, "TUNSETCARRIER " + name_);
  return Status::ok();
}

Status TapDevice::setMtu(std::uint32_t mtu) {
  return nl_.setU32(ifindex_, IFLA_MTU, mtu, "set mtu " + std::to_string(mtu) + " on " + name_);
}

Status TapDevice::setMac(const MacAddress& mac) {
  auto sock = UniqueFd::inetDgram();
  if (!sock) return sock.status();
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(ifr.ifr_hwaddr.sa_data, mac.bytes().data(), 6);
  if (::ioctl(sock->get(), SIOCSIFHWADDR, &ifr) < 0)
    return Status::fail(errno, "set MAC " + mac.toString() + " on " + name_);
  return Status::ok();
}

Result<MacAddress> TapDevice::readMac() {
  auto sock = UniqueFd::inetDgram();
  if (!sock) return sock.error();
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
  if (::ioctl(sock->get(), SIOCGIFHWADDR, &ifr) < 0) return Error{errno, "read MAC of " + name_};
  std::array<std::uint8_t, 6> b{};
  std::memcpy(b.data(), ifr.ifr_hwaddr.sa_data, 6);
  return MacAddress(b);
}

Status TapDevice::setPersist(bool persist) {
  if (::ioctl(queues_[0].get(), TUNSETPERSIST, persist ? 1 : 0) < 0)
    return Status::fail(errno, "TUNSETPERSIST " + name_);
  return Status::ok();
}

}  // namespace tvf
