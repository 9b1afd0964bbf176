#include "ports/VerbsRawPort.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "tvf/VnetHdr.hpp"

namespace tvf {
namespace {
constexpr std::size_t kPollBatch = 64;
}  // namespace

Result<PortPtr> VerbsRawPort::open(RawQueueProvider& provider, RawQueueSpec spec, const VerbsPortOptions& opts) {
  if (opts.recvSlots == 0 || opts.sendSlots == 0) return Error{EINVAL, "verbs port needs receive and send slots"};
  const std::size_t bytes = std::size_t(opts.recvSlots) * kRecvSlotBytes + std::size_t(opts.sendSlots) * kSendSlotBytes;
  std::unique_ptr<VerbsRawPort> port(new VerbsRawPort(opts, std::make_unique<std::uint8_t[]>(bytes)));
  spec.recvSlots = opts.recvSlots;
  spec.sendSlots = opts.sendSlots;
  auto queue = provider.open(spec, {port->region_.get(), bytes});
  if (!queue) return queue.error();
  port->queue_ = std::move(queue).value();
  port->caps_ = port->queue_->caps();
  for (std::uint32_t i = 0; i < opts.recvSlots; ++i) {
    if (int rc = port->queue_->postReceive(i, port->recvSlot(i) + kRecvHeadroom,
                                           static_cast<std::uint32_t>(kRecvSlotBytes - kRecvHeadroom));
        rc < 0)
      return Error{-rc, "post receive buffers on " + spec.rdmaDevice};
  }
  if (int rc = port->queue_->armReceive(); rc < 0) return Error{-rc, "arm completions on " + spec.rdmaDevice};
  return PortPtr(std::move(port));
}

VerbsRawPort::VerbsRawPort(VerbsPortOptions opts, std::unique_ptr<std::uint8_t[]> region)
    : opts_(opts), region_(std::move(region)) {
  freeSend_.reserve(opts_.sendSlots);
  for (std::uint32_t i = opts_.sendSlots; i-- > 0;) freeSend_.push_back(i);
}

int VerbsRawPort::receiveBatch(FrameSink& sink, int budget) noexcept {
  std::array<RawCompletion, kPollBatch> done;
  int delivered = 0;
  bool armed = false;
  while (delivered < budget) {
    const std::size_t want = std::min<std::size_t>(done.size(), std::size_t(budget - delivered));
    const int n = queue_->pollReceive({done.data(), want});
    if (n < 0) return delivered > 0 ? delivered : n;
    if (n == 0) {
      // Empty: ask for a notification, then look once more, so that a
      // completion landing between the two is not left unseen.
      if (armed) break;
      if (int rc = queue_->armReceive(); rc < 0) return delivered > 0 ? delivered : rc;
      armed = true;
      continue;
    }
    // Completions already taken are all handed up; a sink that says stop
    // ends the batch after them.
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      const RawCompletion& c = done[static_cast<std::size_t>(i)];
      std::uint8_t* frame = recvSlot(c.slot) + kRecvHeadroom;
      if (c.ok && c.byteLen >= 14 && c.byteLen <= kRecvSlotBytes - kRecvHeadroom) {
        VnetHdr h{};
        h.flags = c.checksumOk ? kVnetFlagDataValid : 0;
        std::memcpy(frame - kVnetHdrLen, &h, sizeof h);
        if (!sink.deliver({frame - kVnetHdrLen, c.byteLen + kVnetHdrLen})) stop = true;
        ++delivered;
      } else {
        ++recvDrops_;
      }
      if (queue_->postReceive(c.slot, frame, static_cast<std::uint32_t>(kRecvSlotBytes - kRecvHeadroom)) < 0)
        ++recvDrops_;  // one buffer fewer until the port is reopened
    }
    if (stop) break;
  }
  return delivered;
}

std::uint64_t VerbsRawPort::takeReceiveDrops() noexcept { return std::exchange(recvDrops_, 0); }

int VerbsRawPort::reclaimSends() noexcept {
  std::array<RawCompletion, kPollBatch> done;
  for (;;) {
    const int n = queue_->pollSend(done);
    if (n < 0) return n;
    for (int i = 0; i < n; ++i) freeSend_.push_back(done[static_cast<std::size_t>(i)].slot);
    if (n < static_cast<int>(done.size())) return 0;
  }
}

int VerbsRawPort::postOne(std::span<const std::uint8_t> wire, const RawSendOptions& o, bool finishCsum,
                          std::uint16_t csumStart, std::uint16_t csumOffset) noexcept {
  if (wire.size() > kSendSlotBytes) return -EMSGSIZE;
  if (freeSend_.empty()) return -ENOBUFS;
  const std::uint32_t slot = freeSend_.back();
  std::uint8_t* buf = sendSlot(slot);
  std::memcpy(buf, wire.data(), wire.size());
  if (finishCsum && !finishChecksum({buf, wire.size()}, csumStart, csumOffset)) return -EINVAL;
  RawSendOptions held = o;
  held.more = true;  // flush() rings once per batch
  const int rc = queue_->postSend(slot, buf, static_cast<std::uint32_t>(wire.size()), held);
  if (rc == 0) freeSend_.pop_back();
  return rc;
}

int VerbsRawPort::sendSegmented(const GsoSegmenter& seg) noexcept {
  if (seg.maxSegmentLen() > kSendSlotBytes) return -EINVAL;
  // All or nothing: a TCP sender recovers a lost super-frame more cleanly
  // than a hole in the middle of one.
  if (freeSend_.size() < seg.segments()) return -ENOBUFS;
  for (std::size_t i = 0; i < seg.segments(); ++i) {
    const std::uint32_t slot = freeSend_.back();
    std::uint8_t* buf = sendSlot(slot);
    const std::size_t len = seg.write(i, {buf, kSendSlotBytes});
    if (len == 0) return -EINVAL;
    RawSendOptions held;
    held.more = true;  // one doorbell for the whole super-frame, at flush()
    if (int rc = queue_->postSend(slot, buf, static_cast<std::uint32_t>(len), held); rc < 0) return rc;
    freeSend_.pop_back();
  }
  return 0;
}

int VerbsRawPort::send(std::span<const std::uint8_t> frame) noexcept {
  if (int rc = reclaimSends(); rc < 0) return rc;
  if (frame.size() < kVnetHdrLen + 14) return -EINVAL;
  VnetHdr h;
  std::memcpy(&h, frame.data(), sizeof h);
  const auto wire = frame.subspan(kVnetHdrLen);
  const bool partial = h.flags & kVnetFlagNeedsCsum;
  if (h.gsoType != kVnetGsoNone) {
    const GsoSegmenter seg(wire, h.gsoType, h.gsoSize, h.csumStart);
    if (!seg.valid()) return -EINVAL;
    if (!seg.udp() && caps_.maxTsoHeader >= seg.headerLen() && caps_.checksum &&
        wire.size() - seg.headerLen() <= caps_.maxTso) {
      RawSendOptions o;
      o.deviceChecksum = true;
      o.tsoMss = h.gsoSize;
      o.tsoHeaderLen = static_cast<std::uint16_t>(seg.headerLen());
      return postOne(wire, o, false, 0, 0);
    }
    return sendSegmented(seg);
  }
  RawSendOptions o;
  o.deviceChecksum = partial && caps_.checksum;
  return postOne(wire, o, partial && !caps_.checksum, h.csumStart, h.csumOffset);
}

}  // namespace tvf
