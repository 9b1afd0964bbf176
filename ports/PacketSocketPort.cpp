#include "ports/PacketSocketPort.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include "tvf/VnetHdr.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cstring>

namespace tvf {
namespace {

// Headroom before tp_mac for re-inserting a VLAN tag the kernel stripped.
constexpr unsigned kVlanReserve = 4;

Error sockError(const char* what, int ifindex) {
  return Error{errno, std::string(what) + " on ifindex " + std::to_string(ifindex)};
}

}  // namespace

Result<PortPtr> PacketSocketPort::open(int ifindex, const PacketPortOptions& opts) {
  int raw = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (raw < 0) return sockError("socket(AF_PACKET)", ifindex);
  UniqueFd fd(raw);
  const int one = 1;
  if (::setsockopt(raw, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0)
    return sockError("PACKET_VNET_HDR", ifindex);
  const int version = TPACKET_V2;
  if (::setsockopt(raw, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0)
    return sockError("PACKET_VERSION", ifindex);
  const unsigned reserve = kVlanReserve;
  if (::setsockopt(raw, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve) < 0)
    return sockError("PACKET_RESERVE", ifindex);
  const std::uint32_t perBlock = opts.frameSize ? opts.blockSize / opts.frameSize : 0;
  if (perBlock == 0 || opts.ringFrames == 0 || opts.ringFrames % perBlock != 0) {
    errno = EINVAL;
    return sockError("RX ring geometry", ifindex);
  }
  tpacket_req req{};
  req.tp_block_size = opts.blockSize;
  req.tp_block_nr = opts.ringFrames / perBlock;
  req.tp_frame_size = opts.frameSize;
  req.tp_frame_nr = opts.ringFrames;
  if (::setsockopt(raw, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
    return sockError("PACKET_RX_RING", ifindex);
  const std::size_t bytes = std::size_t(opts.blockSize) * req.tp_block_nr;
  void* ring = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, raw, 0);
  if (ring == MAP_FAILED) ring = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, raw, 0);
  if (ring == MAP_FAILED) return sockError("mmap rx ring", ifindex);
  std::unique_ptr<PacketSocketPort> port(
      new PacketSocketPort(std::move(fd), static_cast<std::uint8_t*>(ring), bytes, opts));

  if (opts.qdiscBypass) ::setsockopt(raw, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  ::setsockopt(raw, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  const int buf = 4 << 20;
  if (::setsockopt(raw, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) < 0)
    ::setsockopt(raw, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(raw, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) return sockError("bind", ifindex);
  if (opts.fanoutGroup >= 0) {
    const int arg = (opts.fanoutGroup & 0xffff) | (PACKET_FANOUT_HASH << 16);
    if (::setsockopt(raw, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0)
      return sockError("PACKET_FANOUT", ifindex);
  }
  return PortPtr(std::move(port));
}

PacketSocketPort::~PacketSocketPort() {
  if (ring_) ::munmap(ring_, ringBytes_);
}

int PacketSocketPort::pendingError() noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
  return err ? -err : 0;
}

bool PacketSocketPort::framesWaiting() const noexcept {
  const auto* hdr = reinterpret_cast<const tpacket2_hdr*>(slot(next_));
  return __atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

int PacketSocketPort::receiveBatch(FrameSink& sink, int budget) noexcept {
  int delivered = 0;
  while (delivered < budget) {
    auto* hdr = reinterpret_cast<tpacket2_hdr*>(slot(next_));
    const std::uint32_t status = __atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) break;
    std::uint8_t* mac = reinterpret_cast<std::uint8_t*>(hdr) + hdr->tp_mac;
    std::uint8_t* start = mac - kVnetHdrLen;
    std::size_t len = hdr->tp_snaplen + kVnetHdrLen;
    bool ok = hdr->tp_snaplen == hdr->tp_len && hdr->tp_snaplen >= ETH_HLEN;
    if (ok && (status & TP_STATUS_VLAN_VALID)) {
      // The kernel stripped the 802.1Q tag into tp_vlan_tci: put it back
      // after the two MAC addresses, in the reserved headroom.
      std::memmove(start - 4, start, kVnetHdrLen + 12);
      start -= 4;
      len += 4;
      const std::uint16_t tpid = htons((status & TP_STATUS_VLAN_TPID_VALID) && hdr->tp_vlan_tpid
                                           ? hdr->tp_vlan_tpid : ETH_P_8021Q);
      const std::uint16_t tci = htons(hdr->tp_vlan_tci);
      std::memcpy(start + kVnetHdrLen + 12, &tpid, 2);
      std::memcpy(start + kVnetHdrLen + 14, &tci, 2);
      auto* vh = reinterpret_cast<VnetHdr*>(start);
      if (vh->flags & kVnetFlagNeedsCsum) vh->csumStart = static_cast<std::uint16_t>(vh->csumStart + 4);
      if (vh->gsoType != kVnetGsoNone) vh->hdrLen = static_cast<std::uint16_t>(vh->hdrLen + 4);
    }
    if (ok) {
      if (!sink.deliver({start, len})) {
        __atomic_store_n(&hdr->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        next_ = (next_ + 1) % opts_.ringFrames;
        ++delivered;
        break;
      }
    } else {
      ++truncated_;
    }
    __atomic_store_n(&hdr->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    next_ = (next_ + 1) % opts_.ringFrames;
    ++delivered;
  }
  if (delivered == 0) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & POLLERR)) {
      const int e = pendingError();
      if (e) return e;
    }
  }
  return delivered;
}

std::uint64_t PacketSocketPort::takeReceiveDrops() noexcept {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  std::uint64_t drops = truncated_;
  truncated_ = 0;
  // Reading the statistics resets them in the kernel.
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops += st.tp_drops;
  return drops;
}

int PacketSocketPort::send(std::span<const std::uint8_t> frame) noexcept {
  for (;;) {
    const ssize_t n = ::send(fd_.get(), frame.data(), frame.size(), 0);
    if (n >= 0) return 0;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int PacketSocketPort::sendBatch(std::span<const std::span<const std::uint8_t>> frames) noexcept {
  constexpr std::size_t kMax = 64;
  std::array<iovec, kMax> iov{};
  std::array<mmsghdr, kMax> msgs{};
  const std::size_t n = std::min(frames.size(), kMax);
  if (n == 0) return 0;
  for (std::size_t i = 0; i < n; ++i) {
    iov[i] = {const_cast<std::uint8_t*>(frames[i].data()), frames[i].size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    const int sent = ::sendmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(n), 0);
    if (sent >= 0) return sent;
    if (errno == EINTR) continue;
    return -errno;
  }
}

}  // namespace tvf
