#include "datapath/WorkerDatapath.hpp"

#include <linux/if_ether.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/Log.hpp"
#include "tvf/Assert.hpp"

namespace tvf {

namespace {
constexpr int kBatch = 64;
// TAP frames read before one batched send (sendmmsg on a packet port): 8
// slots of the largest frame, about 0.5 MB per worker.
constexpr std::size_t kTxBurst = 8;
constexpr std::size_t kTxSlot = kMaxFrameLen + kVnetHdrLen;
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

// One thread per TAP queue, both directions: every open port -> TAP queue,
// then TAP queue -> active port. A TCP flow's ACKs and the data they
// release are handled back to back without waking a second thread for
// each; at SCHED_FIFO that is what keeps both directions fast
// (docs/architecture.md, "Workers").
class DatapathWorker final : private FrameSink {
 public:
  DatapathWorker(WorkerDatapath& owner, unsigned queue, int tapFd, int notifyFd)
      : owner_(owner), queue_(queue), tapFd_(tapFd), notifyFd_(notifyFd),
        wake_(std::move(UniqueFd::eventFd().value())), burst_(kTxBurst * kTxSlot) {}

  void start() { thread_ = std::thread([this] { run(); }); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  pthread_t nativeHandle() { return thread_.native_handle(); }

  // Control thread side.
  bool post(const WorkerCommand& c) {
    const bool ok = commands_.push(c);
    kickEventFd(wake_.get());
    return ok;
  }
  std::uint64_t acked() const { return acked_.load(std::memory_order_acquire); }
  bool popReport(WorkerReport& r) { return reports_.pop(r); }

 private:
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
              drainRx(c.set);
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
      rxFlagged_ = {};       // the poll results no longer match the sets
      acked_.store(epoch, std::memory_order_release);
      kickEventFd(notifyFd_);
    }
    return keepGoing;
  }

  // What a retired port already received (its ring outlives a netdev that
  // was deleted) still goes up to the stack. Bounded: a port that keeps
  // receiving stops after kMaxDrainBatches.
  void drainRx(PortSet* set) noexcept {
    current_ = set;
    for (int b = 0; b < kMaxDrainBatches; ++b)
      if (set->ports[queue_]->receiveBatch(*this, kBatch) < kBatch) break;
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

  void run() noexcept {
    PortSet* const synth = owner_.syntheticSet();
    bool timedOut = false;
    for (;;) {
      if (!applyCommands()) return;
      // Receive first: the ACKs it hands to the stack release the data
      // that the TX half then finds waiting on the TAP.
      const bool rxBusy = receive(synth);
      const bool txBusy = transmitBatch(synth);
      if (rxBusy || txBusy) continue;
      // Collect what the ports dropped before we could read it: a syscall,
      // so not on every wake-up (at low rates that is every packet), but on
      // every 64th and when a second passed without any.
      if (++idleWakes_ % 64 == 0 || timedOut) {
        for (std::size_t i = 0; i < rxCount_; ++i) {
          if (const auto d = rxSets_[i]->ports[queue_]->takeReceiveDrops())
            QueueCounters::bump(rxSets_[i]->counters[queue_].rxDropped, d);
        }
      }
      timedOut = waitForWork();
    }
  }

  // ---- RX: every port -> TAP ----------------------------------------------
  // True when a port filled a whole batch (more may wait).
  bool receive(PortSet* synth) noexcept {
    bool busy = false;
    for (std::size_t i = 0; i < rxCount_; ++i) {
      current_ = rxSets_[i];
      Port& port = *current_->ports[queue_];
      // Flagged by poll (frames or an error), or frames seen without a
      // syscall: only then is the port asked.
      if (!rxFlagged_[i] && !port.framesWaiting()) continue;
      rxFlagged_[i] = false;
      const int rc = port.receiveBatch(*this, kBatch);
      if (rc >= kBatch) busy = true;
      if (rc < 0 && isPathFailure(rc) && current_ != synth) report(current_, -rc);
    }
    return busy;
  }

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

  // ---- TX: TAP queue -> active port ---------------------------------------
  // True when a whole batch was read (more may wait).
  bool transmitBatch(PortSet* synth) noexcept {
    PortSet* set = owner_.txSet.load(std::memory_order_acquire);
    if (!set || set == failedSet_) set = synth;
    bool full = true;
    int read = 0;
    while (full && read < kBatch) {
      // Up to kTxBurst frames from the TAP, then one batched send.
      std::array<std::span<const std::uint8_t>, kTxBurst> frames;
      std::size_t n = 0;
      while (n < kTxBurst && read < kBatch) {
        std::uint8_t* slot = burst_.data() + n * kTxSlot;
        const ssize_t r = ::read(tapFd_, slot, kTxSlot);
        if (r < 0) {  // EAGAIN, or the TAP is down
          full = false;
          break;
        }
        ++read;
        if (static_cast<std::size_t>(r) < kVnetHdrLen + ETH_HLEN) continue;
        frames[n++] = {slot, static_cast<std::size_t>(r)};
      }
      set = transmitBurst(set, synth, {frames.data(), n});
    }
    // A doorbell-style port rings once for the batch.
    if (const int rc = set->ports[queue_]->flush(); rc < 0 && isPathFailure(rc) && set != synth) report(set, -rc);
    return full;
  }

  // Sends a burst with one batched call where the port has one; a frame it
  // refuses goes through transmit(), which retries, fails over or drops it.
  PortSet* transmitBurst(PortSet* set, PortSet* synth, std::span<const std::span<const std::uint8_t>> frames) noexcept {
    std::size_t done = 0;
    while (done < frames.size()) {
      const int rc = set->ports[queue_]->sendBatch(frames.subspan(done));
      if (rc > 0) {
        std::uint64_t bytes = 0;
        for (std::size_t i = done; i < done + static_cast<std::size_t>(rc); ++i) bytes += frames[i].size() - kVnetHdrLen;
        QueueCounters::bump(set->counters[queue_].txPackets, static_cast<std::uint64_t>(rc));
        QueueCounters::bump(set->counters[queue_].txBytes, bytes);
        done += static_cast<std::size_t>(rc);
        continue;
      }
      set = transmit(set, synth, frames[done]);
      ++done;
    }
    return set;
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

  // Sleeps until a command, a TAP frame, or a port's frames or error; true
  // when a second passed without any. A kick after this poll's wake-up
  // stays pending in the eventfd, so draining only when it fired never
  // loses a command; a ring with frames polls readable, so nothing lands
  // unseen.
  bool waitForWork() noexcept {
    std::array<pollfd, 2 + kMaxRxSets> fds{};
    std::size_t n = 0;
    fds[n++] = {wake_.get(), POLLIN, 0};
    fds[n++] = {tapFd_, POLLIN, 0};
    for (std::size_t i = 0; i < rxCount_; ++i) fds[n++] = {rxSets_[i]->ports[queue_]->pollFd(), POLLIN, 0};
    const int ready = ::poll(fds.data(), n, 1000);
    if (ready <= 0) return ready == 0;
    if (fds[0].revents & POLLIN) drainCounterFd(wake_.get());
    for (std::size_t i = 0; i < rxCount_; ++i) rxFlagged_[i] = fds[2 + i].revents != 0;
    return false;
  }

  static constexpr std::size_t kMaxRxSets = 4;
  static constexpr int kMaxDrainBatches = 8;

  WorkerDatapath& owner_;
  unsigned queue_;
  int tapFd_;
  int notifyFd_;
  UniqueFd wake_;
  SpscRing<WorkerCommand, 64> commands_;
  SpscRing<WorkerReport, 64> reports_;
  std::atomic<std::uint64_t> acked_{0};
  std::vector<std::uint8_t> burst_;  // kTxBurst slots of kTxSlot bytes: TAP frames awaiting a batched send
  std::array<PortSet*, kMaxRxSets> rxSets_{};
  std::array<bool, kMaxRxSets> rxFlagged_{};
  std::size_t rxCount_ = 0;
  PortSet* current_ = nullptr;
  PortSet* failedSet_ = nullptr;
  std::uint64_t idleWakes_ = 0;
  std::array<PortSet*, kMaxRxSets> reported_{};
  std::thread thread_;
};

WorkerDatapath::WorkerDatapath(std::string name, std::vector<int> queueFds, BackendRegistryPtr backends,
                               int workerPriority, std::string reason)
    : name_(std::move(name)), queueFds_(std::move(queueFds)), backends_(std::move(backends)),
      priority_(workerPriority), reason_(std::move(reason)),
      notify_(std::move(UniqueFd::eventFd().value())), log_(moduleLogger("datapath")) {}

WorkerDatapath::~WorkerDatapath() { stop(); }

std::unique_ptr<PortSet> WorkerDatapath::openSet(PathKind path, const LinkInfo& link,
                                                 std::uint64_t generation, Backend& backend,
                                                 const BackendFeatures& features, Status& st) {
  auto set = std::make_unique<PortSet>();
  set->path = path;
  set->generation = generation;
  set->ifname = link.ifname;
  const unsigned queues = static_cast<unsigned>(queueFds_.size());
  set->counters = std::make_unique<QueueCounters[]>(queues);
  for (unsigned q = 0; q < queues; ++q) {
    auto port = backend.open(link, q, features);
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
  const unsigned queueCount = static_cast<unsigned>(queueFds_.size());
  Backend& backend = backends_->synthetic();
  auto features = backend.probe(synthetic, queueCount);
  if (!features) return features.status();
  Status st;
  synthSet_ = openSet(PathKind::Synthetic, synthetic, 0, backend, *features, st);
  if (!synthSet_) return st;
  txSet.store(synthSet_.get(), std::memory_order_release);
  startWorkers();
  log_->info("{}: {} worker thread(s), {}, on synthetic {}", name_, workers_.size(), scheduling_,
             synthetic.ifname);
  return Status::ok();
}

void WorkerDatapath::startWorkers() {
  const unsigned queues = static_cast<unsigned>(queueFds_.size());
  for (unsigned q = 0; q < queues; ++q)
    workers_.push_back(std::make_unique<DatapathWorker>(*this, q, queueFds_[q], notify_.get()));
  ++epoch_;
  for (auto& w : workers_) w->post({kAddRx, synthSet_.get(), epoch_});
  if (vfSet_ && !retiring_)
    for (auto& w : workers_) w->post({kAddRx, vfSet_.get(), epoch_});
  for (auto& w : workers_) w->start();
  applyScheduling();
}

// Rare (the synthetic was re-created or came back from another namespace),
// so the simple way: the workers, which hold the synthetic's ports for their
// whole run, stop; the new ports open; new workers start on them. The VF's
// ports stay open throughout, and a retirement in flight completes when the
// new workers acknowledge their first commands.
Status WorkerDatapath::replaceSynthetic(const LinkInfo& synthetic) {
  const unsigned queueCount = static_cast<unsigned>(queueFds_.size());
  Backend& backend = backends_->synthetic();
  auto features = backend.probe(synthetic, queueCount);
  if (!features) return features.status();
  Status st;
  auto next = openSet(PathKind::Synthetic, synthetic, 0, backend, *features, st);
  if (!next) return st;
  const bool txOnVf = vfSet_ && txSet.load() == vfSet_.get();
  if (!workers_.empty()) {
    ++epoch_;
    for (auto& w : workers_) w->post({kStop, nullptr, epoch_});
    for (auto& w : workers_) w->join();
    workers_.clear();
  }
  if (synthSet_) synthEarlier_ += synthSet_->snapshot();  // the synthetic's counters never go backwards
  synthSet_ = std::move(next);
  txSet.store(txOnVf ? vfSet_.get() : synthSet_.get(), std::memory_order_release);
  startWorkers();
  log_->info("{}: synthetic ports reopened on {} (ifindex {})", name_, synthetic.ifname, synthetic.ifindex);
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

void WorkerDatapath::broadcast(int kind, PortSet* set) {
  ++epoch_;
  // A full ring means a worker is stuck for 64 commands; it is an invariant
  // that the control thread never gets that far ahead.
  for (auto& w : workers_) TVF_ASSERT(w->post({kind, set, epoch_}));
}

void WorkerDatapath::applyScheduling() {
  if (priority_ == 0) {
    scheduling_ = "other";
    return;
  }
  sched_param param{};
  param.sched_priority = priority_;
  for (auto& w : workers_) {
    if (const int rc = ::pthread_setschedparam(w->nativeHandle(), SCHED_FIFO, &param); rc != 0) {
      // Not fatal: without CAP_SYS_NICE, or in a cgroup with no real-time
      // budget, the workers run as ordinary threads and say so.
      scheduling_ = fmt::format("other (fifo:{} refused: {})", priority_, std::strerror(rc));
      log_->warn("{}: workers stay at normal priority: SCHED_FIFO {} refused: {}", name_, priority_,
                 std::strerror(rc));
      param.sched_priority = 0;
      for (auto& x : workers_) ::pthread_setschedparam(x->nativeHandle(), SCHED_OTHER, &param);
      return;
    }
  }
  scheduling_ = fmt::format("fifo:{}", priority_);
}

Result<BackendFeatures> WorkerDatapath::probeVf(const LinkInfo& vf) {
  auto backend = backends_->vf(vf);
  if (!backend) return backend.error();
  auto features = (*backend)->probe(vf, static_cast<unsigned>(queueFds_.size()));
  if (!features) {
    Backend* fallback = backends_->fallbackVf();
    if (!fallback || fallback == *backend) return features.error();
    log_->warn("{}: {} backend for {} cannot be had ({}); using {}", name_, (*backend)->mechanism(), vf.ifname,
               features.error().describe(), fallback->mechanism());
    backend = fallback;
    features = fallback->probe(vf, static_cast<unsigned>(queueFds_.size()));
    if (!features) return features.error();
  }
  vfBackend_ = *backend;
  vfFeatures_ = *features;
  return *features;
}

Status WorkerDatapath::openVfPort(const LinkInfo& vf, std::uint64_t generation) {
  if (vfSet_) return Status::fail(EBUSY, "a VF port is still open on " + name_);
  if (!vfBackend_) {
    if (auto probed = probeVf(vf); !probed) return probed.status();
  }
  Status st;
  auto set = openSet(PathKind::Vf, vf, generation, *vfBackend_, vfFeatures_, st);
  if (!set) {
    // auto: a VF whose verbs port cannot be opened still has its netdev.
    // Once per attach, never per packet.
    Backend* fallback = backends_->fallbackVf();
    if (!fallback || fallback == vfBackend_) {
      vfBackend_ = nullptr;
      return st;
    }
    log_->warn("{}: {} port on {} failed ({}); using {}", name_, vfBackend_->mechanism(), vf.ifname,
               st.error().describe(), fallback->mechanism());
    auto features = fallback->probe(vf, static_cast<unsigned>(queueFds_.size()));
    vfBackend_ = nullptr;
    if (!features) return features.status();
    set = openSet(PathKind::Vf, vf, generation, *fallback, *features, st);
    if (!set) return st;
  }
  vfBackend_ = nullptr;
  vfSet_ = std::move(set);
  broadcast(kAddRx, vfSet_.get());
  log_->info("{}: VF port open on {} ({})", name_, vf.ifname, vfMechanism());
  return Status::ok();
}

void WorkerDatapath::switchTx(PathKind path) {
  PortSet* target = path == PathKind::Vf && vfSet_ ? vfSet_.get() : synthSet_.get();
  if (!target) return;
  txSet.store(target, std::memory_order_release);
  broadcast(kSync, nullptr);
}

void WorkerDatapath::retireVfPort() {
  if (!vfSet_ || retiring_) return;
  if (txSet.load() == vfSet_.get()) txSet.store(synthSet_.get(), std::memory_order_release);
  retiring_ = true;
  broadcast(kRemoveRx, vfSet_.get());
  retireEpoch_ = epoch_;
}

PathCounters WorkerDatapath::liveCounters(PathKind path) const {
  const PortSet* set = path == PathKind::Vf ? vfSet_.get() : synthSet_.get();
  const PathCounters live = set ? set->snapshot() : PathCounters{};
  return path == PathKind::Vf ? live : live + synthEarlier_;
}

std::string WorkerDatapath::vfMechanism() const {
  if (!vfSet_ || vfSet_->ports.empty()) return "";
  return std::string(vfSet_->ports[0]->mechanism());
}

DatapathStatus WorkerDatapath::describe() const {
  DatapathStatus d;
  d.mode = "user";
  d.reason = reason_;
  d.workers = workers_.size();
  d.scheduling = scheduling_;
  return d;
}

DatapathEvents WorkerDatapath::drainEvents() {
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
