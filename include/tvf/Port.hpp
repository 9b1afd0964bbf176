// The datapath interface a worker drives: one backend netdev's frames.
// Frames carry a leading 10-byte virtio_net_hdr (TAP and AF_PACKET vnet
// headers are byte-identical), so a worker relays buffers unchanged.
//
// Thread: a Port is created and destroyed by the control thread; between
// publication and retirement it is used only by datapath workers. All
// datapath calls are noexcept and never allocate, lock or log.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace tvf {

inline constexpr std::size_t kVnetHdrLen = 10;
// Largest frame a port must carry: a 64 KB GSO super-frame plus headers.
inline constexpr std::size_t kMaxFrameLen = 65536 + 256;

// Receives frames from Port::receiveBatch. Returning false stops the batch.
class FrameSink {
 public:
  virtual bool deliver(std::span<const std::uint8_t> frame) noexcept = 0;

 protected:
  ~FrameSink() = default;
};

class Port {
 public:
  virtual ~Port() = default;

  // A pollable fd: readable when frames wait, POLLERR when the link fails.
  virtual int pollFd() const noexcept = 0;

  // Hands up to `budget` received frames to `sink`. Returns the number
  // delivered (0 when none wait), or -errno: -ENETDOWN (link down, maybe
  // gone), -ENXIO / -ENODEV (the netdev is gone: the port must be retired).
  virtual int receiveBatch(FrameSink& sink, int budget) noexcept = 0;

  // A cheap look, without a system call, at whether receiveBatch would
  // deliver anything. A port that cannot tell says true.
  virtual bool framesWaiting() const noexcept { return true; }

  // Sends one frame (vnet header included). Returns 0, -EAGAIN / -ENOBUFS
  // (transient: the frame is dropped and counted), or -ENETDOWN / -ENXIO /
  // -ENODEV (path failure: reported to the control thread).
  virtual int send(std::span<const std::uint8_t> frame) noexcept = 0;

  // Sends frames in order, as send() each, then flush(). Returns how many
  // were taken (a prefix), or the -errno of the first that was not.
  virtual int sendBatch(std::span<const std::span<const std::uint8_t>> frames) noexcept {
    int n = 0;
    for (const auto& f : frames) {
      if (const int rc = send(f); rc < 0) {
        (void)flush();
        return n ? n : rc;
      }
      ++n;
    }
    const int rc = flush();
    return rc < 0 && n == 0 ? rc : n;
  }

  // A doorbell-style port (verbs, AF_XDP) may hold frames given to send()
  // until flush(), ringing once per batch; the worker flushes after each
  // batch. Returns 0, or -errno as send(). Others: nothing to do.
  virtual int flush() noexcept { return 0; }

  // Frames the kernel or the port dropped on receive since the last call
  // (ring overflow, truncation). Called by the worker when it goes idle.
  virtual std::uint64_t takeReceiveDrops() noexcept { return 0; }

  // "packet" or "verbs": shown as vf.datapath in status.
  virtual std::string_view mechanism() const noexcept = 0;
};

using PortPtr = std::unique_ptr<Port>;

// True for errors that mean the port's netdev went away or down.
inline bool isPathFailure(int negErrno) noexcept {
  return negErrno == -ENETDOWN || negErrno == -ENXIO || negErrno == -ENODEV;
}

}  // namespace tvf
