// A Port over an ibverbs raw-packet queue pair (mlx5, mana VFs): frames
// bypass the VF netdev's stack entirely, as DPDK's mlx5 and mana PMDs do,
// while the netdev stays for link state and control operations.
//
//  - RX: `recvSlots` buffers of kRecvSlotBytes stay posted; each completion
//    is handed up with a vnet header written in front of it (DATA_VALID when
//    the device verified the checksums) and the buffer is posted again.
//  - TX: the vnet header is consumed here. A GSO frame goes out as one TSO
//    work request when the QP has TSO, else it is segmented in software;
//    a CHECKSUM_PARTIAL frame gets the device's checksum or one computed in
//    software. Every send is one copy into a registered send slot.
//  - Errors: a device that is gone (fatal async event, flushed completions)
//    reads as -ENXIO on both sides, which the workers report as a path
//    failure.
//
// Thread: built and destroyed by the control thread; used by one datapath
// worker. The receive and send sides touch disjoint members. It keeps
// Port::framesWaiting's default (true): polling the completion queue costs
// no system call, but re-arming an empty one does, so a worker busy with
// TAP frames re-arms once per pass (not run on hardware, see README).
// Counters: receive drops (error completions, failed re-posts, truncated
// frames) through takeReceiveDrops.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "ports/RawQueue.hpp"
#include "ports/SoftwareOffload.hpp"
#include "tvf/Port.hpp"

namespace tvf {

struct VerbsPortOptions {
  std::uint32_t recvSlots = 512;
  std::uint32_t sendSlots = 64;
};

class VerbsRawPort final : public Port {
 public:
  // Receive slots hold a 9216-byte jumbo frame plus the vnet header room.
  static constexpr std::size_t kRecvSlotBytes = 9728;
  static constexpr std::size_t kRecvHeadroom = 64;  // vnet header goes in here
  // Send slots hold the largest frame the TAP hands over.
  static constexpr std::size_t kSendSlotBytes = kMaxFrameLen;

  static Result<PortPtr> open(RawQueueProvider& provider, RawQueueSpec spec, const VerbsPortOptions& opts);

  int pollFd() const noexcept override { return queue_->eventFd(); }
  int receiveBatch(FrameSink& sink, int budget) noexcept override;
  // Posts without ringing the doorbell; flush() rings once for the batch.
  int send(std::span<const std::uint8_t> frame) noexcept override;
  int flush() noexcept override { return queue_->flushSend(); }
  std::uint64_t takeReceiveDrops() noexcept override;
  std::string_view mechanism() const noexcept override { return "verbs"; }

 private:
  VerbsRawPort(VerbsPortOptions opts, std::unique_ptr<std::uint8_t[]> region);
  std::uint8_t* recvSlot(std::uint32_t i) noexcept { return region_.get() + std::size_t(i) * kRecvSlotBytes; }
  std::uint8_t* sendSlot(std::uint32_t i) noexcept {
    return region_.get() + std::size_t(opts_.recvSlots) * kRecvSlotBytes + std::size_t(i) * kSendSlotBytes;
  }
  int reclaimSends() noexcept;
  int postOne(std::span<const std::uint8_t> wire, const RawSendOptions& o, bool finishCsum,
              std::uint16_t csumStart, std::uint16_t csumOffset) noexcept;
  int sendSegmented(const GsoSegmenter& seg) noexcept;

  VerbsPortOptions opts_;
  // The registered memory: recvSlots receive slots, then sendSlots send
  // slots. Declared before queue_ so that the queue (and its memory
  // registration) is destroyed first.
  std::unique_ptr<std::uint8_t[]> region_;
  RawQueuePtr queue_;
  RawQueueCaps caps_;
  // RX worker only.
  std::uint64_t recvDrops_ = 0;
  // TX worker only: send slots free to use (a stack, reserved at open).
  std::vector<std::uint32_t> freeSend_;
};

}  // namespace tvf
