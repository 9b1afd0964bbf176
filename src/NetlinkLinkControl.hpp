// LinkControl against the kernel: rtnetlink for MTU and flags, the ethtool
// ioctl plus rtnetlink for capabilities, SIOCADDMULTI for multicast lists,
// and BackendClaimer for claiming.
//
// Thread: the control thread.
#pragma once

#include <map>
#include <vector>

#include "src/BackendClaim.hpp"
#include "src/NetlinkRequester.hpp"
#include "tvf/PairEnvironment.hpp"

namespace tvf {

class NetlinkLinkControl final : public LinkControl {
 public:
  NetlinkLinkControl(NetlinkRequester& nl, std::string claimStateFile)
      : nl_(nl), claimer_(nl, std::move(claimStateFile)) {}

  Result<Capabilities> readCapabilities(int ifindex) override;
  Status setMtu(int ifindex, std::uint32_t mtu) override;
  Status setUp(int ifindex, bool up) override;
  Status setPromisc(int ifindex, bool on) override;
  Status setAllmulti(int ifindex, bool on) override;
  Status setMulticast(int ifindex, const std::vector<MacAddress>& groups) override;
  Status claimBackend(int ifindex) override;
  Status releaseBackend(int ifindex) override;
  // A clean exit: every backend released, the multicast addresses tvf
  // added to each removed first (as releaseBackend does for one).
  void releaseAll();
  Result<LinkInfo> currentLink(int ifindex) override { return nl_.getLink(ifindex); }

  BackendClaimer& claimer() { return claimer_; }
  // The netdev `ifindex` left the namespace: what tvf knew of it (its claim,
  // the multicast groups tvf added) went with it. A link that comes back,
  // even with the same ifindex, is a new one.
  void forgetLink(int ifindex) {
    multicast_.erase(ifindex);
    claimer_.forget(ifindex);
  }

 private:
  NetlinkRequester& nl_;
  BackendClaimer claimer_;
  std::map<int, std::vector<MacAddress>> multicast_;  // what tvf added, per ifindex
};

Result<Capabilities> capabilitiesFromLink(const LinkInfo& link);

}  // namespace tvf
