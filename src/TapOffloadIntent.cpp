#include "src/TapOffloadIntent.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "base/UniqueFd.hpp"
#include "src/EthtoolFeatures.hpp"

namespace tvf {

namespace {

std::uint32_t word(const FeatureWords& w, std::size_t i) { return i < w.size() ? w[i] : 0; }

}  // namespace

void OffloadIntent::observe(const FeatureWords& requested) {
  if (last_.empty()) return;
  const std::size_t n = std::max({requested.size(), last_.size(), off_.size()});
  off_.resize(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t turnedOff = word(last_, i) & ~word(requested, i);
    const std::uint32_t turnedOn = ~word(last_, i) & word(requested, i);
    off_[i] = (off_[i] | turnedOff) & ~turnedOn;
  }
}

FeatureWords OffloadIntent::toClear(const FeatureWords& requested) const {
  FeatureWords out(requested.size(), 0);
  bool any = false;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    out[i] = requested[i] & word(off_, i);
    any = any || out[i];
  }
  if (!any) out.clear();
  return out;
}

Result<FeatureWords> readRequestedFeatures(const std::string& ifname) {
  auto sock = UniqueFd::inetDgram();
  if (!sock) return sock.error();
  auto count = ethtoolFeatureCount(sock->get(), ifname);
  if (!count) return count.error();
  const std::uint32_t blocks = (*count + 31) / 32;
  std::vector<std::uint8_t> buf(sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block));
  auto* gf = reinterpret_cast<ethtool_gfeatures*>(buf.data());
  gf->cmd = ETHTOOL_GFEATURES;
  gf->size = blocks;
  if (auto st = ethtoolRequest(sock->get(), ifname, gf, "ETHTOOL_GFEATURES"); !st) return st.error();
  FeatureWords out(blocks);
  for (std::uint32_t i = 0; i < blocks; ++i) out[i] = gf->features[i].requested;
  return out;
}

Status clearRequestedFeatures(const std::string& ifname, const FeatureWords& mask) {
  auto sock = UniqueFd::inetDgram();
  if (!sock) return sock.status();
  const auto blocks = static_cast<std::uint32_t>(mask.size());
  std::vector<std::uint8_t> buf(sizeof(ethtool_sfeatures) + blocks * sizeof(ethtool_set_features_block));
  auto* sf = reinterpret_cast<ethtool_sfeatures*>(buf.data());
  sf->cmd = ETHTOOL_SFEATURES;
  sf->size = blocks;
  for (std::uint32_t i = 0; i < blocks; ++i) {
    sf->features[i].valid = mask[i];
    sf->features[i].requested = 0;
  }
  // A positive return (ETHTOOL_F_WISH etc.) says the kernel kept some bits:
  // the ioctl still succeeded, and the log shows what tvf0 has.
  return ethtoolRequest(sock->get(), ifname, sf, "ETHTOOL_SFEATURES");
}

std::vector<std::string> featureNames(const std::string& ifname, const FeatureWords& mask) {
  std::vector<std::string> out;
  auto sock = UniqueFd::inetDgram();
  if (!sock) return out;
  auto count = ethtoolFeatureCount(sock->get(), ifname);
  if (!count || *count == 0) return out;
  std::vector<std::uint8_t> strs(sizeof(ethtool_gstrings) + *count * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<ethtool_gstrings*>(strs.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_FEATURES;
  gs->len = *count;
  if (!ethtoolRequest(sock->get(), ifname, gs, "ETHTOOL_GSTRINGS")) return out;
  for (std::uint32_t i = 0; i < *count; ++i) {
    if (!(word(mask, i / 32) & (1u << (i % 32)))) continue;
    const char* name = reinterpret_cast<const char*>(gs->data + i * ETH_GSTRING_LEN);
    out.emplace_back(name, strnlen(name, ETH_GSTRING_LEN));
  }
  return out;
}

std::uint32_t GsoLimitIntent::next(std::uint32_t now, std::uint32_t paths) {
  if (written_ != 0 && now != 0 && now != written_) operator_ = now;
  return operator_ != 0 ? std::min(paths, operator_) : paths;
}

}  // namespace tvf
