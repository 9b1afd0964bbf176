// A Port over AF_PACKET bound to one netdev, shared by the synthetic and
// the packet VF datapath.
//  - PACKET_VNET_HDR: checksum and GSO metadata pass both ways, so a 64 KB
//    TSO segment leaves as one send and a GRO'd frame arrives as one frame.
//  - RX: a TPACKET_V2 ring of 240 slots of 68 KiB (a 64 KiB GSO super-frame
//    and its headers fit), 15 slots to each 1 MiB block: 16 MiB, as the
//    earlier 128 slots of 128 KiB were, but a burst of 240 frames fits
//    (12 ms at 20,000 frames/s) where 128 did not (the kernel allocates a
//    block in powers of two pages, so a 68 KiB block would cost 128 KiB).
//    V3 was measured to add ~0.7 ms RTT here (block retire timer).
//  - TX: send() through the device's qdisc. PACKET_QDISC_BYPASS measured the
//    same here (0.58-0.63 of the kernel path against 0.61 without it) and
//    would drop frames when a real VF's TX ring is full instead of queueing
//    them, so it is off. PACKET_IGNORE_OUTGOING keeps our own TX out of the ring.
//  - queues > 1: the sockets of one netdev join a PACKET_FANOUT_HASH group.
//
// Thread: built and destroyed by the control thread; used by one datapath
// worker (receiveBatch, framesWaiting and send).
#pragma once

#include <cstdint>
#include <string>

#include "base/UniqueFd.hpp"
#include "tvf/Port.hpp"
#include "tvf/Result.hpp"

namespace tvf {

struct PacketPortOptions {
  // RX ring geometry, bytes. frameSize is a multiple of 16 and holds the
  // tpacket2 header, the vnet header, 4 bytes of VLAN room and the frame;
  // blockSize is a multiple of the page size; ringFrames a multiple of
  // blockSize / frameSize (else open() fails with EINVAL).
  std::uint32_t ringFrames = 240;
  std::uint32_t frameSize = 68 * 1024;
  std::uint32_t blockSize = 1024 * 1024;
  int fanoutGroup = -1;  // >= 0: join this PACKET_FANOUT_HASH group
  bool qdiscBypass = false;  // see above: the qdisc gives backpressure
};

class PacketSocketPort final : public Port {
 public:
  static Result<PortPtr> open(int ifindex, const PacketPortOptions& opts);
  ~PacketSocketPort() override;

  int pollFd() const noexcept override { return fd_.get(); }
  int receiveBatch(FrameSink& sink, int budget) noexcept override;
  bool framesWaiting() const noexcept override;
  int send(std::span<const std::uint8_t> frame) noexcept override;
  // One sendmmsg for the whole batch.
  int sendBatch(std::span<const std::span<const std::uint8_t>> frames) noexcept override;
  std::string_view mechanism() const noexcept override { return "packet"; }
  // PACKET_STATISTICS' tp_drops (ring full) plus truncated frames.
  std::uint64_t takeReceiveDrops() noexcept override;


 private:
  PacketSocketPort(UniqueFd fd, std::uint8_t* ring, std::size_t ringBytes, PacketPortOptions opts)
      : fd_(std::move(fd)), ring_(ring), ringBytes_(ringBytes), opts_(opts),
        framesPerBlock_(opts.blockSize / opts.frameSize) {}
  int pendingError() noexcept;
  std::uint8_t* slot(std::uint32_t i) const noexcept {
    return ring_ + std::size_t(i / framesPerBlock_) * opts_.blockSize +
           std::size_t(i % framesPerBlock_) * opts_.frameSize;
  }

  UniqueFd fd_;
  std::uint8_t* ring_;
  std::size_t ringBytes_;
  PacketPortOptions opts_;
  std::uint32_t framesPerBlock_;
  std::uint32_t next_ = 0;
  std::uint64_t truncated_ = 0;
};

}  // namespace tvf
