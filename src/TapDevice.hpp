// The TAP the OS uses: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (| IFF_MULTI_QUEUE),
// one fd per queue, MAC = the synthetic's, offloads via TUNSETOFFLOAD, GSO
// limits via rtnetlink, carrier via TUNSETCARRIER. With persist it survives
// a restart and is re-opened by name.
//
// Thread: the control thread; queue fds are lent to datapath workers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/NetlinkRequester.hpp"
#include "src/TapOffloadIntent.hpp"
#include "base/UniqueFd.hpp"
#include "tvf/PairEnvironment.hpp"

namespace tvf {

class TapDevice final : public TapFront {
 public:
  // Opens or creates `name` with `queues` queues. `created` tells whether it
  // was new (a restarted daemon re-adopts a persistent one).
  static Result<std::unique_ptr<TapDevice>> open(const std::string& name, unsigned queues,
                                                 bool persist, NetlinkRequester& nl);

  int ifindex() const override { return ifindex_; }
  Status applyCapabilities(const Capabilities& caps) override;
  Status setCarrier(bool on) override;
  Status setMtu(std::uint32_t mtu) override;

  Status setMac(const MacAddress& mac) override;
  Result<MacAddress> readMac() override;
  std::vector<std::string> operatorOffloadsOff() override;
  std::pair<std::uint32_t, std::uint32_t> gsoLimitsWritten() const override {
    return {gsoSize_.written(), gsoSegs_.written()};
  }
  // What tvf knows of the operator's choices on this TAP (offloads turned
  // off, GSO ceilings) and what it last wrote, as JSON for the state
  // directory: a daemon restarted on the persistent TAP restores it before
  // its first switch, which would otherwise take the operator's changes
  // for the TAP's defaults. restoreIntent() ignores what it cannot read.
  nlohmann::json intentJson() const;
  void restoreIntent(const nlohmann::json& j);
  // Makes a persistent TAP transient so it disappears with the daemon.
  Status setPersist(bool persist);
  int queueFd(unsigned q) const { return queues_[q].get(); }
  unsigned queueCount() const { return static_cast<unsigned>(queues_.size()); }
  bool created() const { return created_; }
  const std::string& name() const { return name_; }

 private:
  TapDevice(std::string name, std::vector<UniqueFd> queues, int ifindex, bool created, NetlinkRequester& nl)
      : name_(std::move(name)), queues_(std::move(queues)), ifindex_(ifindex), created_(created), nl_(nl) {}
  std::string name_;
  std::vector<UniqueFd> queues_;
  int ifindex_;
  bool created_;
  NetlinkRequester& nl_;
  OffloadIntent offloadIntent_;  // what the operator turned off with ethtool -K
  GsoLimitIntent gsoSize_, gsoSegs_;  // the operator's gso_max_size/segs (ip link set)
};

}  // namespace tvf
