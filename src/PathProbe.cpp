#include "src/PathProbe.hpp"

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "base/Log.hpp"
#include "src/PacketAnnouncer.hpp"

namespace tvf {

namespace {

// Best first: a neighbour the stack confirmed recently answers soonest.
int rank(std::uint16_t state) {
  if (state & NUD_REACHABLE) return 0;
  if (state & (NUD_STALE | NUD_DELAY | NUD_PROBE)) return 1;
  if (state & NUD_PERMANENT) return 2;
  return -1;  // INCOMPLETE, FAILED, NOARP, NONE: no MAC worth asking
}

bool unicastMac(const MacAddress& m) {
  const auto& b = m.bytes();
  return !(b[0] & 1) && std::any_of(b.begin(), b.end(), [](std::uint8_t x) { return x != 0; });
}

// Passes ARP replies (EtherType 0x0806, opcode 2) and nothing else.
constexpr std::array<sock_filter, 6> kArpReplyFilter = {{
    {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, ETH_P_ARP},
    {BPF_LD | BPF_H | BPF_ABS, 0, 0, 20},
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 2},
    {BPF_RET | BPF_K, 0, 0, 0xffff},
    {BPF_RET | BPF_K, 0, 0, 0},
}};

}  // namespace

std::vector<ProbeTarget> probeTargets(NetlinkRequester& nl, int tapIndex, std::size_t limit) {
  std::vector<std::pair<int, ProbeTarget>> found;
  auto st = nl.dump(RTM_GETNEIGH, AF_INET, [&](const nlmsghdr* h) {
    auto n = parseNeighbourMessage(h);
    if (!n || n->family != AF_INET || n->ifindex != tapIndex || n->address.size() != 4 || !n->lladdr) return;
    const int r = rank(n->state);
    if (r < 0 || !unicastMac(*n->lladdr)) return;
    ProbeTarget t;
    std::memcpy(t.ip.data(), n->address.data(), 4);
    t.mac = *n->lladdr;
    found.emplace_back(r, t);
  }, "neighbour dump");
  std::vector<ProbeTarget> out;
  if (!st) return out;
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [r, t] : found) {
    if (out.size() == limit) break;
    out.push_back(t);
  }
  return out;
}

PathProbe::PathProbe(NetlinkRequester& nl, const Clock& clock, std::string pairName, int tapIndex, MacAddress mac,
                     Watch watch, Proven proven)
    : nl_(nl),
      clock_(clock),
      pairName_(std::move(pairName)),
      tapIndex_(tapIndex),
      mac_(mac),
      watch_(std::move(watch)),
      proven_(std::move(proven)),
      log_(moduleLogger("failover")) {}

PathProbe::~PathProbe() { stopProof(); }

bool PathProbe::startProof(const LinkInfo& vf, std::uint64_t generation) {
  stopProof();
  auto addrs = readAddresses(nl_, tapIndex_);
  if (!addrs || addrs->v4.empty()) {
    log_->debug("{}: no IPv4 address on the TAP to prove VF {} with", pairName_, vf.ifname);
    return false;
  }
  auto targets = probeTargets(nl_, tapIndex_, kMaxNeighbours);
  if (targets.empty()) {
    log_->debug("{}: no IPv4 neighbour with a known MAC to prove VF {} with", pairName_, vf.ifname);
    return false;
  }
  // Protocol 0 until the filter is on: the socket sees no frame before it.
  UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    log_->warn("{}: path probe socket: {}", pairName_, std::strerror(errno));
    return false;
  }
  sock_fprog prog{static_cast<unsigned short>(kArpReplyFilter.size()),
                  const_cast<sock_filter*>(kArpReplyFilter.data())};
  const int one = 1;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = vf.ifindex;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
      ::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 ||
      ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    log_->warn("{}: path probe on VF {}: {}", pairName_, vf.ifname, std::strerror(errno));
    return false;
  }
  fd_ = std::move(fd);
  vfIndex_ = vf.ifindex;
  generation_ = generation;
  senderIp_ = addrs->v4.front();
  targets_ = std::move(targets);
  watch_(fd_.get(), true);
  sendRequests();
  return true;
}

void PathProbe::stopProof() {
  if (!fd_) return;
  watch_(fd_.get(), false);
  fd_.reset();
  targets_.clear();
}

void PathProbe::sendRequests() {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = vfIndex_;
  to.sll_halen = 6;
  for (const auto& t : targets_) {
    const auto frame = arpRequest(mac_, senderIp_, t.mac, t.ip);
    std::memcpy(to.sll_addr, t.mac.bytes().data(), 6);
    if (::sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0)
      ++sent_;
  }
  resendAt_ = clock_.now() + kResend;
}

void PathProbe::onReadable() {
  std::array<std::uint8_t, 128> buf;
  while (fd_) {
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0) return;  // EAGAIN: all read
    const auto from = arpReplyTo(std::span<const std::uint8_t>(buf.data(), std::min<std::size_t>(n, buf.size())), mac_);
    if (!from) continue;
    const bool asked = std::any_of(targets_.begin(), targets_.end(), [&](const ProbeTarget& t) { return t.ip == *from; });
    if (!asked) continue;
    ++proofs_;
    const auto generation = generation_;
    stopProof();
    proven_(generation);  // may start another proof: nothing of this one is used after it
    return;
  }
}

std::optional<Clock::TimePoint> PathProbe::nextDeadline() const {
  if (!fd_) return std::nullopt;
  return resendAt_;
}

void PathProbe::onTick() {
  if (fd_ && clock_.now() >= resendAt_) sendRequests();
}

}  // namespace tvf
