// PathProbe: the production PathProver (include/tvf/PairEnvironment.hpp).
// It proves the path behind a fresh VF by asking the TAP's neighbours for
// their MAC with unicast ARP requests sent out of the VF, and listening on
// the VF for a reply addressed to the pair's MAC: a reply can only come
// back through the VF if the switch port behind it forwards both ways (the
// request taught the switch the MAC's new port).
//
//  - Neighbours: the TAP's IPv4 neighbour entries with a known MAC
//    (REACHABLE first, then STALE/DELAY/PROBE/PERMANENT), at most
//    kMaxNeighbours; the sender address is the TAP's first IPv4 address.
//    Without either, startProof() returns false (IPv6-only networks get
//    the fixed takeover delay).
//  - The requests are resent every kResend until the pair stops the proof
//    (TX moved, at the latest at the pair's limit, or the VF left).
//  - The listening socket exists only while a proof is under way: an
//    AF_PACKET socket on the VF with a classic BPF filter that passes only
//    ARP replies (so it copies no data frame), bound after the filter is on.
//    It sees frames before tc, so the kernel datapath's ingress redirect
//    and the user datapath's drop do not hide the reply from it.
//
// Errors: none thrown; a socket or netlink failure makes startProof()
// return false (logged), and the pair falls back to the takeover delay.
// Thread: the control thread. Counters: requests sent, proofs seen.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/UniqueFd.hpp"
#include "src/NetlinkRequester.hpp"
#include "src/PathFrames.hpp"
#include "tvf/Clock.hpp"
#include "tvf/PairEnvironment.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

// A neighbour that can answer a probe.
struct ProbeTarget {
  Ipv4 ip;
  MacAddress mac;
};

// The TAP's IPv4 neighbours worth asking, best first, at most `limit`:
// entries of `tapIndex` with a MAC that is not multicast or zero, in state
// REACHABLE, then STALE, DELAY, PROBE or PERMANENT. An empty list when the
// dump fails.
std::vector<ProbeTarget> probeTargets(NetlinkRequester& nl, int tapIndex, std::size_t limit);

class PathProbe final : public PathProver {
 public:
  static constexpr std::size_t kMaxNeighbours = 4;
  static constexpr std::chrono::milliseconds kResend{50};

  // `watch(fd, add)` adds or removes the listening socket to the daemon's
  // poll set; `proven(generation)` is called from onReadable() when a reply
  // arrived (the daemon hands it to Pair::onPathProven).
  using Watch = std::function<void(int fd, bool add)>;
  using Proven = std::function<void(std::uint64_t generation)>;
  PathProbe(NetlinkRequester& nl, const Clock& clock, std::string pairName, int tapIndex, MacAddress mac,
            Watch watch, Proven proven);
  ~PathProbe() override;
  PathProbe(const PathProbe&) = delete;
  PathProbe& operator=(const PathProbe&) = delete;

  bool startProof(const LinkInfo& vf, std::uint64_t generation) override;
  void stopProof() override;

  // The listening socket is readable: reads every frame waiting.
  void onReadable();
  // When the next resend is due; nullopt when no proof is under way.
  std::optional<Clock::TimePoint> nextDeadline() const;
  // Resends when due.
  void onTick();

  std::uint64_t requestsSent() const { return sent_; }
  std::uint64_t proofs() const { return proofs_; }

 private:
  void sendRequests();

  NetlinkRequester& nl_;
  const Clock& clock_;
  std::string pairName_;
  int tapIndex_;
  MacAddress mac_;
  Watch watch_;
  Proven proven_;
  std::shared_ptr<spdlog::logger> log_;

  UniqueFd fd_;  // valid while a proof is under way
  int vfIndex_ = 0;
  std::uint64_t generation_ = 0;
  Ipv4 senderIp_{};
  std::vector<ProbeTarget> targets_;
  Clock::TimePoint resendAt_{};
  std::uint64_t sent_ = 0;
  std::uint64_t proofs_ = 0;
};

}  // namespace tvf
