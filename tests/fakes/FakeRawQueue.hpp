// An in-memory raw-packet queue: receive buffers the port posted wait in a
// list; inject() "receives" a frame into the oldest one; sends are recorded
// and complete at once or when the test says so; vanish() is a hot-unplug.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <vector>

#include "ports/RawQueue.hpp"

namespace tvf::testing {

class FakeRawQueue final : public RawQueue {
 public:
  explicit FakeRawQueue(RawQueueCaps caps) : caps_(caps), fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FakeRawQueue() override { ::close(fd_); }

  RawQueueCaps caps() const noexcept override { return caps_; }
  int eventFd() const noexcept override { return fd_; }
  int armReceive() noexcept override {
    ++arms;
    std::uint64_t v;
    while (::read(fd_, &v, sizeof v) > 0) {
    }
    return gone ? -ENXIO : 0;
  }
  int postReceive(std::uint32_t slot, std::uint8_t* buf, std::uint32_t len) noexcept override {
    if (gone) return -ENXIO;
    if (failPostReceive) return failPostReceive;
    posted.push_back({slot, buf, len});
    return 0;
  }
  int postSend(std::uint32_t slot, const std::uint8_t* buf, std::uint32_t len,
               const RawSendOptions& o) noexcept override {
    if (gone) return -ENXIO;
    sent.emplace_back(buf, buf + len);
    sentOptions.push_back(o);
    if (o.more) {
      ++heldForDoorbell;
    } else {
      ++doorbells;
      heldForDoorbell = 0;
    }
    (holdSends ? heldSends : sendDone).push_back({slot, len, true, false});
    return 0;
  }
  int flushSend() noexcept override {
    if (heldForDoorbell) ++doorbells;
    heldForDoorbell = 0;
    return gone ? -ENXIO : 0;
  }
  int pollReceive(std::span<RawCompletion> out) noexcept override { return take(recvDone, out); }
  int pollSend(std::span<RawCompletion> out) noexcept override { return take(sendDone, out); }

  // Test side.
  bool inject(const std::vector<std::uint8_t>& frame, bool checksumOk = false, bool ok = true) {
    if (posted.empty()) return false;
    Posted p = posted.front();
    posted.pop_front();
    const std::size_t n = std::min<std::size_t>(frame.size(), p.len);
    std::memcpy(p.buf, frame.data(), n);
    recvDone.push_back({p.slot, static_cast<std::uint32_t>(n), ok, checksumOk});
    const std::uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
    return true;
  }
  void completeHeldSends() {
    sendDone.insert(sendDone.end(), heldSends.begin(), heldSends.end());
    heldSends.clear();
  }
  void vanish() { gone = true; }

  struct Posted {
    std::uint32_t slot;
    std::uint8_t* buf;
    std::uint32_t len;
  };
  RawQueueCaps caps_;
  int fd_;
  std::deque<Posted> posted;
  std::deque<RawCompletion> recvDone, sendDone, heldSends;
  std::vector<std::vector<std::uint8_t>> sent;
  std::vector<RawSendOptions> sentOptions;
  int doorbells = 0;        // rings: a send without `more`, or a flush of held ones
  int heldForDoorbell = 0;  // sends posted with `more` since the last ring
  bool holdSends = false;
  bool gone = false;
  int failPostReceive = 0;
  int arms = 0;

 private:
  int take(std::deque<RawCompletion>& from, std::span<RawCompletion> out) {
    if (gone) return -ENXIO;
    std::size_t n = 0;
    while (n < out.size() && !from.empty()) {
      out[n++] = from.front();
      from.pop_front();
    }
    return static_cast<int>(n);
  }
};

class FakeRawQueueProvider final : public RawQueueProvider {
 public:
  Result<RawQueuePtr> open(const RawQueueSpec& spec, std::span<std::uint8_t> region) override {
    if (failOpen) return Error{failOpen, "open " + spec.rdmaDevice};
    lastSpec = spec;
    lastRegion = region;
    auto q = std::make_unique<FakeRawQueue>(caps);
    queue = q.get();
    return RawQueuePtr(std::move(q));
  }
  RawQueueCaps caps;
  int failOpen = 0;
  RawQueueSpec lastSpec;
  std::span<std::uint8_t> lastRegion;
  FakeRawQueue* queue = nullptr;  // owned by the port
};

}  // namespace tvf::testing
