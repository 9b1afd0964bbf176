// The thin interface between the verbs VF port and rdma-core: one raw-packet
// queue pair with its completion queues, registered buffers and steering
// rules. VerbsRawPort is written and unit-tested against this interface
// (tests/fakes/FakeRawQueue.hpp); IbverbsRawQueue implements it with
// libibverbs and is built only with TVF_WITH_VERBS.
//
// Buffers: the port owns one memory region, handed to the provider at open
// to be registered; every post names a slot number (returned in its
// completion) and a pointer inside that region.
//
// Thread: opened and closed by the control thread. Receive calls come from
// one RX worker, send calls from one TX worker; the two sides share no
// state (separate completion queues), so they need no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tvf/MacAddress.hpp"
#include "tvf/Result.hpp"

namespace tvf {

struct RawCompletion {
  std::uint32_t slot = 0;     // as given to postReceive / postSend
  std::uint32_t byteLen = 0;  // receive: the frame's length
  bool ok = true;             // false: an error completion (flushed, too long...)
  bool checksumOk = false;    // receive: the device verified the IP and L4 checksums
};

struct RawSendOptions {
  bool deviceChecksum = false;     // the device fills the IP and L4 checksums
  std::uint16_t tsoMss = 0;        // > 0: one TSO work request of mss-sized segments
  std::uint16_t tsoHeaderLen = 0;  // L2 + L3 + L4 header bytes before the payload
  bool more = false;               // more sends follow: the doorbell may wait for flushSend()
};

// What the queue can do, read from the device at open.
struct RawQueueCaps {
  bool checksum = false;           // IBV_RAW_PACKET_CAP_IP_CSUM (TX) and IP_CSUM_OK (RX)
  std::uint32_t maxTsoHeader = 0;  // 0: no TSO on this QP
  std::uint32_t maxTso = 0;        // largest TSO payload the device takes
};

class RawQueue {
 public:
  virtual ~RawQueue() = default;

  virtual RawQueueCaps caps() const noexcept = 0;

  // Readable when a receive completion waits (once armed) or the device
  // failed. Stays the same fd for the queue's life.
  virtual int eventFd() const noexcept = 0;

  // Consumes pending notifications and asks for the next one. 0 or -errno.
  virtual int armReceive() noexcept = 0;

  // 0, or -ENOBUFS (the work queue is full), -ENXIO (the device is gone).
  virtual int postReceive(std::uint32_t slot, std::uint8_t* buf, std::uint32_t len) noexcept = 0;
  virtual int postSend(std::uint32_t slot, const std::uint8_t* buf, std::uint32_t len,
                       const RawSendOptions& opts) noexcept = 0;
  // Rings the doorbell once for the sends posted with `more` since the last
  // ring. 0, or -errno as postSend.
  virtual int flushSend() noexcept { return 0; }

  // Fills `out` with up to out.size() completions; returns how many, or
  // -ENXIO once the device reported a fatal error (hot-unplug).
  virtual int pollReceive(std::span<RawCompletion> out) noexcept = 0;
  virtual int pollSend(std::span<RawCompletion> out) noexcept = 0;
};

using RawQueuePtr = std::unique_ptr<RawQueue>;

// Where a VF's raw queue lives and how big it is.
struct RawQueueSpec {
  std::string rdmaDevice;  // e.g. mlx5_0, from /sys/class/net/IF/device/infiniband
  std::uint8_t portNum = 1;
  MacAddress mac;          // steered to this QP, with broadcast and multicast
  std::uint32_t recvSlots = 0;
  std::uint32_t sendSlots = 0;
};

// Opens queues; the real one is IbverbsRawQueueProvider.
class RawQueueProvider {
 public:
  virtual ~RawQueueProvider() = default;
  // Registers `region` for both directions. ENODEV: no such RDMA device;
  // EOPNOTSUPP: it has no raw-packet QP.
  virtual Result<RawQueuePtr> open(const RawQueueSpec& spec, std::span<std::uint8_t> region) = 0;
};

}  // namespace tvf
