#include "WorkerDatapath.hpp"

#include <linux/if_ether.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "Log.hpp"
#include "tvf/Assert.hpp"

namespace tvf {

namespace {
constexpr int kBatch = 64;
enum CommandKind { kAddRx, kRemoveRx, kSync, kStop };
}  // namespace

struct WorkerCommand {
  int kind = kSync;
  PortSet* set = nullptr;
  std::uint64_t epoch = 0;
};

struct WorkerReport {
  PortSet* set = nullptr;
  int err = 0;
};

PathCounters PortSet::snapshot() const {
  PathCounters c;
  for (std::size_t q = 0; q < ports.size(); ++q) {
    const auto& k = counters[q];
    c.rxPackets += k.rxPackets.load(std::memory_order_relaxed);
    c.rxBytes += k.rxBytes.load(std::memory_order_relaxed);
    c.rxDropped += k.rxDropped.load(std::memory_order_relaxed);
    c.txPackets += k.txPackets.load(std::memory_order_relaxed);
    c.txBytes += k.txBytes.load(std::memory_order_relaxed);
    c.txDropped += k.txDropped.load(std::memory_order_relaxed);
  }
  return c;
}

// One thread: one direction of one queue.
class DatapathWorker final : private FrameSink {
 public:
  enum class Direction { Tx, Rx };

  DatapathWorker(WorkerDatapath& owner, Direction dir, unsigned queue, int tapFd, int notifyFd)
      : owner_(owner), dir_(dir), queue_(queue), tapFd_(tapFd), notifyFd_(notifyFd),
        wake_(std::move(UniqueFd::eventFd().value())) {
    if (dir_ == Direction::Tx) buffer_.resize(kMaxFrameLen + kVnetHdrLen);
  }

  void start() { thread_ = std::thread([this] { run(); }); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  // Control thread side.
  bool post(const WorkerCommand& c) {
    const bool ok = commands_.push(c);
    kickEventFd(wake_.get());
    return ok;
  }
  std::uint64_t acked() const { return acked_.load(std::memory_order_acquire); }
  bool popReport(WorkerReport& r) { return reports_.pop(r); }

 private:
  void run() noexcept {
    if (dir_ == Direction::Tx)
      runTx();
    else
      runRx();
  }

  // Applies pending commands; false on Stop.
  bool applyCommands() noexcept {
    WorkerCommand c;
    bool any = false, keepGoing = true;
    std::uint64_t epoch = acked_.load(std::memory_order_relaxed);
    while (commands_.pop(c)) {
      any = true;
      epoch = std::max(epoch, c.epoch);
      switch (c.kind) {
        case kAddRx:
          if (rxCount_ < rxSets_.size()) rxSets_[rxCount_++] = c.set;
          break;
        case kRemoveRx:
          for (std::size_t i = 0; i < rxCount_; ++i) {
            if (rxSets_[i] == c.set) {
              rxSets_[i] = rxSets_[--rxCount_];
              break;
            }
          }
          break;
        case kStop:
          keepGoing = false;
          break;
        default:
          break;
      }
    }
    if (any) {
      failedSet_ = nullptr;  // a new publication: try the active set again
      for (auto& r : reported_) r = nullptr;
      acked_.store(epoch, std::memory_order_release);
      kickEventFd(notifyFd_);
    }
    return keepGoing;
  }

  void report(PortSet* set, int err) noexcept {
    for (auto* r : reported_)
      if (r == set) return;  // once per set until the next publication
    for (auto& r : reported_) {
      if (!r) {
        r = set;
        break;
      }
    }
    reports_.push({set, err});
    kickEventFd(notifyFd_);
  }

  // ---- TX: TAP queue -> active port --------------------------------------
  void runTx() noexcept {
    pollfd fds[2] = {{tapFd_, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    PortSet* synth = owner_.syntheticSet();
    for (;;) {
      if (!applyCommands()) return;
      PortSet* set = owner_.txSet.load(std::memory_order_acquire);
      if (!set || set == failedSet_) set = synth;
      int n = 0;
      for (; n < kBatch; ++n) {
        const ssize_t r = ::read(tapFd_, buffer_.data(), buffer_.size());
        if (r < 0) break;  // EAGAIN, or the TAP is down
        if (static_cast<std::size_t>(r) < kVnetHdrLen + ETH_HLEN) continue;
        set = transmit(set, synth, {buffer_.data(), static_cast<std::size_t>(r)});
      }
      if (n == kBatch) continue;
      // A kick after this poll's wake-up stays pending in the eventfd, so
      // draining only when it fired never loses a command.
      if (::poll(fds, 2, -1) > 0 && (fds[1].revents & POLLIN)) drainCounterFd(wake_.get());
    }
  }

  PortSet* transmit(PortSet* set, PortSet* synth, std::span<const std::uint8_t> frame) noexcept {
    int rc = set->ports[queue_]->send(frame);
    if (rc == -EAGAIN || rc == -ENOBUFS) {
      pollfd p{set->ports[queue_]->pollFd(), POLLOUT, 0};
      ::poll(&p, 1, 1);
      rc = set->ports[queue_]->send(frame);
    }
    if (rc == 0) {
      QueueCounters::bump(set->counters[queue_].txPackets);
      QueueCounters::bump(set->counters[queue_].txBytes, frame.size() - kVnetHdrLen);
      return set;
    }
    if (isPathFailure(rc) && set != synth) {
      // The VF went away under us: report it, and send this frame and the
      // rest of the batch through the synthetic rather than dropping them.
      report(set, -rc);
      failedSet_ = set;
      return transmit(synth, synth, frame);
    }
    QueueCounters::bump(set->counters[queue_].txDropped);
    return set;
  }

  // ---- RX: every port -> TAP ----------------------------------------------
  bool deliver(std::span<const std::uint8_t> frame) noexcept override {
    auto& c = current_->counters[queue_];
    if (::write(tapFd_, frame.data(), frame.size()) < 0) {
      QueueCounters::bump(c.rxDropped);
      return true;
    }
    QueueCounters::bump(c.rxPackets);
    QueueCounters::bump(c.rxBytes, frame.size() - kVnetHdrLen);
    return true;
  }

  void runRx() noexcept {
    std::array<pollfd, 5> fds{};
    bool timedOut = false;
    for (;;) {
      if (!applyCommands()) return;
      bool busy = false;
      for (std::size_t i = 0; i < rxCount_; ++i) {
        current_ = rxSets_[i];
        const int rc = current_->ports[queue_]->receiveBatch(*this, kBatch);
        if (rc >= kBatch) busy = true;
        if (rc < 0 && isPathFailure(rc) && current_ != owner_.syntheticSet()) report(current_, -rc);
      }
      if (busy) continue;
      // Collect what the ports dropped before we could read it: a syscall,
      // so not on every wake-up (at low rates that is every packet), but on
      // every 64th and when a second passed without any.
      if (++idleWakes_ % 64 == 0 || timedOut) {
        for (std::size_t i = 0; i < rxCount_; ++i) {
          if (const auto d = rxSets_[i]->ports[queue_]->takeReceiveDrops())
            QueueCounters::bump(rxSets_[i]->counters[queue_].rxDropped, d);
        }
      }
      std::size_t n = 0;
      fds[n++] = {wake_.get(), POLLIN, 0};
      for (std::size_t i = 0; i < rxCount_; ++i) fds[n++] = {rxSets_[i]->ports[queue_]->pollFd(), POLLIN, 0};
      // A ring with frames polls readable, so nothing lands unseen.
      const int ready = ::poll(fds.data(), n, 1000);
      timedOut = ready == 0;
      if (ready > 0 && (fds[0].revents & POLLIN)) drainCounterFd(wake_.get());
    }
  }

  WorkerDatapath& owner_;
  Direction dir_;
  unsigned queue_;
  int tapFd_;
  int notifyFd_;
  UniqueFd wake_;
  SpscRing<WorkerCommand, 64> commands_;
  SpscRing<WorkerReport, 64> reports_;
  std::atomic<std::uint64_t> acked_{0};
  std::vector<std::uint8_t> buffer_;
  std::array<PortSet*, 4> rxSets_{};
  std::size_t rxCount_ = 0;
  PortSet* current_ = nullptr;
  PortSet* failedSet_ = nullptr;
  std::uint64_t idleWakes_ = 0;
  std::array<PortSet*, 4> reported_{};
  std::thread thread_;
};

WorkerDatapath::WorkerDatapath(std::string name, std::vector<int> queueFds, PortOpener syntheticOpener,
                               PortOpener vfOpener)
    : name_(std::move(name)), queueFds_(std::move(queueFds)), syntheticOpener_(std::move(syntheticOpener)), vfOpener_(std::move(vfOpener)),
      notify_(std::move(UniqueFd::eventFd().value())), log_(moduleLogger("datapath")) {}

WorkerDatapath::~WorkerDatapath() { stop(); }

std::unique_ptr<PortSet> WorkerDatapath::openSet(PathKind path, const LinkInfo& link,
                                                 std::uint64_t generation, const PortOpener& opener,
                                                 Status& st) {
  auto set = std::make_unique<PortSet>();
  set->path = path;
  set->generation = generation;
  set->ifname = link.ifname;
  const unsigned queues = static_cast<unsigned>(queueFds_.size());
  set->counters = std::make_unique<QueueCounters[]>(queues);
  for (unsigned q = 0; q < queues; ++q) {
    auto port = opener(link, q, queues);
    if (!port) {
      st = port.status();
      return nullptr;
    }
    set->ports.push_back(std::move(port).value());
  }
  st = Status::ok();
  return set;
}

Status WorkerDatapath::start(const LinkInfo& synthetic) {
  Status st;
  synthSet_ = openSet(PathKind::Synthetic, synthetic, 0, syntheticOpener_, st);
  if (!synthSet_) return st;
  txSet.store(synthSet_.get(), std::memory_order_release);
  const unsigned queues = static_cast<unsigned>(queueFds_.size());
  for (unsigned q = 0; q < queues; ++q) {
    workers_.push_back(std::make_unique<DatapathWorker>(*this, DatapathWorker::Direction::Tx, q,
                                                        queueFds_[q], notify_.get()));
    workers_.push_back(std::make_unique<DatapathWorker>(*this, DatapathWorker::Direction::Rx, q,
                                                        queueFds_[q], notify_.get()));
  }
  ++epoch_;
  for (unsigned q = 0; q < queues; ++q) workers_[q * 2 + 1]->post({kAddRx, synthSet_.get(), epoch_});
  for (auto& w : workers_) w->start();
  log_->info("{}: {} queue(s), {} worker threads on synthetic {}", name_, queueFds_.size(),
             workers_.size(), synthetic.ifname);
  return Status::ok();
}

void WorkerDatapath::stop() {
  if (workers_.empty()) return;
  ++epoch_;
  for (auto& w : workers_) w->post({kStop, nullptr, epoch_});
  for (auto& w : workers_) w->join();
  workers_.clear();
  vfSet_.reset();
  synthSet_.reset();
}

void WorkerDatapath::broadcast(int kind, PortSet* set, bool rx, bool tx) {
  ++epoch_;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const bool isRx = i % 2 == 1;
    if ((isRx && rx) || (!isRx && tx)) {
      // A full ring means a worker is stuck for 64 commands; it is an
      // invariant that the control thread never gets that far ahead.
      TVF_ASSERT(workers_[i]->post({kind, set, epoch_}));
    } else {
      workers_[i]->post({kSync, nullptr, epoch_});
    }
  }
}

Status WorkerDatapath::openVfPort(const LinkInfo& vf, std::uint64_t generation) {
  if (vfSet_) return Status::fail(EBUSY, "a VF port is still open on " + name_);
  Status st;
  auto set = openSet(PathKind::Vf, vf, generation, vfOpener_, st);
  if (!set) return st;
  vfSet_ = std::move(set);
  broadcast(kAddRx, vfSet_.get(), true, false);
  log_->info("{}: VF port open on {} ({})", name_, vf.ifname, vfMechanism());
  return Status::ok();
}

void WorkerDatapath::switchTx(PathKind path) {
  PortSet* target = path == PathKind::Vf && vfSet_ ? vfSet_.get() : synthSet_.get();
  if (!target) return;
  txSet.store(target, std::memory_order_release);
  broadcast(kSync, nullptr, false, true);
}

void WorkerDatapath::retireVfPort() {
  if (!vfSet_ || retiring_) return;
  if (txSet.load() == vfSet_.get()) txSet.store(synthSet_.get(), std::memory_order_release);
  retiring_ = true;
  broadcast(kRemoveRx, vfSet_.get(), true, false);
  retireEpoch_ = epoch_;
}

PathCounters WorkerDatapath::liveCounters(PathKind path) const {
  const PortSet* set = path == PathKind::Vf ? vfSet_.get() : synthSet_.get();
  return set ? set->snapshot() : PathCounters{};
}

std::string WorkerDatapath::vfMechanism() const {
  if (!vfSet_ || vfSet_->ports.empty()) return "";
  return std::string(vfSet_->ports[0]->mechanism());
}

DatapathEvents WorkerDatapath::onNotify() {
  drainCounterFd(notify_.get());
  DatapathEvents ev;
  for (auto& w : workers_) {
    WorkerReport r;
    while (w->popReport(r)) {
      if (vfSet_ && r.set == vfSet_.get() && !retiring_) {
        ev.vfPortErrors.emplace_back(vfSet_->generation, r.err);
      } else if (r.set == synthSet_.get()) {
        log_->warn("{}: synthetic port error: {}", name_, std::strerror(r.err));
      }
    }
  }
  if (retiring_) {
    const bool quiescent = std::all_of(workers_.begin(), workers_.end(),
                                       [&](const auto& w) { return w->acked() >= retireEpoch_; });
    if (quiescent) {
      ev.vfRetired = vfSet_->snapshot();
      log_->info("{}: VF port on {} retired", name_, vfSet_->ifname);
      vfSet_.reset();
      retiring_ = false;
    }
  }
  return ev;
}

}  // namespace tvf
