#include "src/EthtoolFeatures.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cstring>
#include <vector>

#include "base/UniqueFd.hpp"

namespace tvf {
Status ethtoolRequest(int fd, const std::string& ifname, void* data, const char* what) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  if (::ioctl(fd, SIOCETHTOOL, &ifr) < 0) return Status::fail(errno, std::string(what) + " " + ifname);
  return Status::ok();
}

Result<std::uint32_t> ethtoolFeatureCount(int fd, const std::string& ifname) {
  std::vector<std::uint8_t> sset(sizeof(ethtool_sset_info) + sizeof(std::uint32_t));
  auto* info = reinterpret_cast<ethtool_sset_info*>(sset.data());
  info->cmd = ETHTOOL_GSSET_INFO;
  info->sset_mask = 1ULL << ETH_SS_FEATURES;
  if (auto st = ethtoolRequest(fd, ifname, info, "ETHTOOL_GSSET_INFO"); !st) return st.error();
  return info->sset_mask ? info->data[0] : 0u;
}

Result<OffloadSet> readActiveOffloads(const std::string& ifname) {
  auto sock = UniqueFd::inetDgram();
  if (!sock) return sock.error();
  const int fd = sock->get();

  auto counted = ethtoolFeatureCount(fd, ifname);
  if (!counted) return counted.error();
  const std::uint32_t count = *counted;
  if (count == 0) return OffloadSet{};

  std::vector<std::uint8_t> strs(sizeof(ethtool_gstrings) + count * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<ethtool_gstrings*>(strs.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_FEATURES;
  gs->len = count;
  if (auto st = ethtoolRequest(fd, ifname, gs, "ETHTOOL_GSTRINGS"); !st) return st.error();

  const std::uint32_t blocks = (count + 31) / 32;
  std::vector<std::uint8_t> feat(sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block));
  auto* gf = reinterpret_cast<ethtool_gfeatures*>(feat.data());
  gf->cmd = ETHTOOL_GFEATURES;
  gf->size = blocks;
  if (auto st = ethtoolRequest(fd, ifname, gf, "ETHTOOL_GFEATURES"); !st) return st.error();

  OffloadSet out;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!(gf->features[i / 32].active & (1u << (i % 32)))) continue;
    const char* name = reinterpret_cast<const char*>(gs->data + i * ETH_GSTRING_LEN);
    std::string n(name, strnlen(name, ETH_GSTRING_LEN));
    if (auto o = offloadFromName(n)) out.set(*o);
  }
  return out;
}

}  // namespace tvf
