// Claims a backend netdev so the kernel stack never handles its traffic
// twice: its addresses are removed, IPv6 is disabled on it, and a clsact
// ingress cls_bpf program (two instructions: return TC_ACT_SHOT), attached
// with libbpf's TC API, drops every frame after the packet taps saw it.
// release() restores the addresses, the disable_ipv6 value and the qdisc,
// then the routes through the backend that the claim found (removing the
// addresses and IPv6 took them away with them).
//
// A claim belongs to one netdev, not to an ifindex: a netdev that leaves
// the namespace (deleted, or moved away: it may come back with the same
// ifindex) is forgotten, and one that comes back is claimed afresh.
//
// Thread: the control thread. Counters: claims and releases.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "base/StateFile.hpp"
#include "src/NetlinkRequester.hpp"
#include "tvf/IngressHooks.hpp"
#include "tvf/Result.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

class BackendClaimer final : public IngressHooks {
 public:
  // `stateFile`: where claim records are kept so that a daemon restarted
  // after SIGKILL restores what was there before the FIRST claim, not the
  // claimed state it finds. Empty: in memory only.
  BackendClaimer(NetlinkRequester& nl, std::string stateFile);
  ~BackendClaimer() override;

  Status claim(int ifindex);
  Status release(int ifindex);
  void releaseAll();
  bool claimed(int ifindex) const { return claims_.count(ifindex) != 0; }
  // The netdev `ifindex` left the namespace (RTM_DELLINK: deleted, or moved
  // to another namespace, where its qdiscs, addresses and sysctls did not
  // follow it). Drops its claim, its record of a previous run and the
  // ingress program a datapath named for it; nothing is restored (nothing
  // of the claim is left on it). A link that comes back is claimed afresh.
  void forget(int ifindex);

  // Puts back what someone changed on a claimed backend behind tvf's back:
  // its ingress program (a clsact or filter deleted), IPv6 off, and no
  // address (each added one is removed, not restored on release). Each fix
  // is a warning (at most one per kind and claim in 10 s); a hook that
  // cannot be put back is tried again after 1 s, 2, 4 ... 30. Follows a
  // claimed link's renames. Called every 250 ms: per claim an RTM_GETLINK,
  // a tc filter query, a sysctl read and an address dump of that link.
  void holdClaims();

  // IngressHooks: this class owns the ingress hook of every backend it claims.
  Status useIngressProgram(int ifindex, int progFd, const std::string& name) override;
  Status useIngressDrop(int ifindex) override;
  std::vector<std::pair<int, std::string>> inheritedHooks() const override;
  // The previous run's claims not yet re-claimed: ifindex -> name then.
  std::map<int, std::string> inheritedClaims() const;
  bool hasInheritedClaims() const { return !inherited_.empty(); }
  // Releases the previous run's claims not yet re-claimed, but for those in
  // `keep` (what pairs may still take back): a backend no pair takes again
  // gets back what it had before that run's claim. A record whose netdev is
  // gone, or whose ifindex another netdev now has, is dropped.
  void releaseInherited(const std::set<int>& keep);

 private:
  // Warnings of one kind of repair on one claim: at most one per 10 s,
  // the next one saying how many went unlogged (a tool fighting tvf every
  // 100 ms would otherwise fill the log).
  class RepairLog {
   public:
    bool due(std::chrono::steady_clock::time_point now);  // log this one?
    std::string since();  // " (and N more time(s) ...)" or "", for the message
   private:
    std::chrono::steady_clock::time_point said_{};
    unsigned quiet_ = 0;
  };
  struct Claim {
    std::string ifname;
    std::vector<std::vector<std::uint8_t>> addresses;  // RTM_NEWADDR messages
    std::vector<std::vector<std::uint8_t>> routes;     // RTM_NEWROUTE messages: routes out of it
    std::string disableIpv6;                           // previous sysctl value
    bool createdClsact = false;
    bool filterAttached = false;
    std::string ingressProgram;  // what the hook runs: "tvf_drop", or a datapath's program
    std::optional<LinkInfo> before;  // MTU and flags to restore
    // holdClaims' state (not saved): the hook's retry pause after a failed
    // repair, and its warnings.
    RetryBackoff hookRetry;
    RepairLog ipv6Repairs, addressRepairs;
  };
  // The netdev's current name, "" when it is gone. Asks over the open netlink
  // socket, so it needs no new fd.
  std::string ifnameOf(int ifindex);
  // Drops the claims on netdevs that no longer exist (ENODEV).
  void forgetVanished();
  // Attaches the hook's program (a datapath's, else the drop).
  Status attachIngress(int ifindex, Claim& c);
  // Loads the drop program and puts it on the clsact ingress.
  Status attachDrop(int ifindex, Claim& c);
  // Puts `progFd` (named `name`) at our handle/priority on the clsact ingress.
  Status attachOnClsact(int ifindex, Claim& c, int progFd, const std::string& name);
  // The RTM_NEWADDR messages of the addresses on `ifindexes`.
  Result<std::vector<std::vector<std::uint8_t>>> addressesOn(const std::set<int>& ifindexes);
  // Sends `newaddr` back as RTM_DELADDR; a failure is logged.
  void removeAddress(const std::vector<std::uint8_t>& newaddr, const std::string& ifname);
  void saveRecords() const;
  std::optional<Claim> takeRecord(int ifindex, const std::string& ifname);
  void detachIngress(int ifindex, Claim& c);

  NetlinkRequester& nl_;
  std::string stateFile_;
  std::map<int, Claim> claims_;
  std::map<int, Claim> inherited_;  // records of a previous run, not yet re-claimed
  struct Program {
    int fd;  // borrowed from the datapath that set it
    std::string name;
  };
  std::map<int, Program> programs_;  // ingress programs datapaths asked for, by ifindex
  std::shared_ptr<spdlog::logger> log_;
};

// The sysctl file of an interface's IPv6 setting.
std::string ipv6SysctlPath(const std::string& ifname, const char* key);
Result<std::string> readSysctl(const std::string& path);
Status writeSysctl(const std::string& path, const std::string& value);

}  // namespace tvf
