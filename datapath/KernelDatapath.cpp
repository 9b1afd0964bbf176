#include "datapath/KernelDatapath.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "base/Log.hpp"

namespace tvf {

namespace {
RedirectSlot slotOf(PathKind p) { return p == PathKind::Vf ? RedirectSlot::Vf : RedirectSlot::Synthetic; }

PathCounters minus(const PathCounters& a, const PathCounters& b) {
  PathCounters d;
  d.rxPackets = a.rxPackets - b.rxPackets;
  d.rxBytes = a.rxBytes - b.rxBytes;
  d.txPackets = a.txPackets - b.txPackets;
  d.txBytes = a.txBytes - b.txBytes;
  d.rxDropped = a.rxDropped - b.rxDropped;
  d.txDropped = a.txDropped - b.txDropped;
  return d;
}
}  // namespace

int packetSocketsOn(int ifindex) {
  std::ifstream in("/proc/net/packet");
  std::string line;
  std::getline(in, line);  // header: sk RefCnt Type Proto Iface R Rmem User Inode
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk, ref, type, proto;
    int iface = -1;
    if (f >> sk >> ref >> type >> proto >> iface && iface == ifindex) ++n;
  }
  return n;
}

KernelDatapath::KernelDatapath(std::string name, int tapIfindex, std::vector<int> queueFds, TcRedirectPtr programs,
                               IngressHooks& hooks, std::string reason)
    : name_(std::move(name)), tapIfindex_(tapIfindex), queueFds_(std::move(queueFds)),
      programs_(std::move(programs)), hooks_(hooks), reason_(std::move(reason)), log_(moduleLogger("datapath")) {}

KernelDatapath::~KernelDatapath() = default;

Status KernelDatapath::start(const LinkInfo& synthetic) {
  auto ep = UniqueFd::epoll();
  if (!ep) return ep.status();
  epoll_ = std::move(ep).value();
  auto ev = UniqueFd::eventFd();
  if (!ev) return ev.status();
  notify_ = std::move(ev).value();
  for (int fd : queueFds_) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &e) < 0) return Status::fail(errno, "watch TAP queue");
  }
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.fd = notify_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, notify_.get(), &e) < 0) return Status::fail(errno, "watch eventfd");

  syntheticIndex_ = synthetic.ifindex;
  // The whole configuration, written before anything is attached: on maps
  // adopted from a previous run these writes change nothing in flight.
  if (auto st = programs_->setTap(tapIfindex_); !st) return st;
  if (auto st = programs_->setBackend(RedirectSlot::Synthetic, synthetic.ifindex); !st) return st;
  if (auto st = programs_->setActive(RedirectSlot::Synthetic); !st) return st;
  if (auto st = programs_->setMirror(false); !st) return st;
  if (auto st = programs_->setMode(RedirectMode::Kernel); !st) return st;
  if (auto st = hooks_.useIngressProgram(synthetic.ifindex, programs_->ingressProgramFd(), "tvf_ingress"); !st)
    return st;
  if (auto st = programs_->attachEgress(tapIfindex_); !st) return st;
  log_->info("{}: kernel datapath (tc-BPF redirect, {}) on synthetic {}{}", name_,
             programs_->attachPoint() == TcAttachPoint::Tcx ? "tcx" : "clsact", synthetic.ifname,
             programs_->adopted() ? ", programs of the previous run adopted" : "");
  return Status::ok();
}

Status KernelDatapath::replaceSynthetic(const LinkInfo& synthetic) {
  // The slot first: egress redirects to the new netdev from the next frame.
  // The ingress hook's program is named for the claim, which attaches it.
  if (auto st = programs_->setBackend(RedirectSlot::Synthetic, synthetic.ifindex); !st) return st;
  if (auto st = hooks_.useIngressProgram(synthetic.ifindex, programs_->ingressProgramFd(), "tvf_ingress"); !st)
    return st;
  log_->info("{}: synthetic now {} (ifindex {}, was {})", name_, synthetic.ifname, synthetic.ifindex, syntheticIndex_);
  syntheticIndex_ = synthetic.ifindex;
  return Status::ok();
}

void KernelDatapath::stop() {
  if (!programs_ || tapIfindex_ == 0) return;
  // A clean exit: tvf0's egress program goes; the backends' ingress
  // programs go with their claims' release.
  // tvf0 is our TAP: an empty clsact on it that held the program of a run
  // killed before this one goes too (an operator's empty one stays).
  if (auto st = programs_->detachEgress(tapIfindex_, ClsactCleanup::IfCreatedOrEmpty); !st)
    log_->warn("{}: detach egress program: {}", name_, st.error().describe());
  tapIfindex_ = 0;
}

Result<BackendFeatures> KernelDatapath::probeVf(const LinkInfo& vf) {
  // The VF's own netdev carries the frames: validate_xmit_skb() segments
  // and checksums in software what the VF cannot, so the kernel datapath
  // narrows nothing; the VF netdev's features still enter the intersection.
  // Its ingress hook runs the redirect from the claim on.
  if (auto st = hooks_.useIngressProgram(vf.ifindex, programs_->ingressProgramFd(), "tvf_ingress"); !st)
    return st.error();
  return BackendFeatures::full("kernel");
}

Status KernelDatapath::openVfPort(const LinkInfo& vf, std::uint64_t) {
  if (vf_) return Status::fail(EBUSY, "a VF port is still open on " + name_);
  if (auto st = programs_->setBackend(RedirectSlot::Vf, vf.ifindex); !st) return st;
  vf_ = vf;
  // The first VF port of this run counts from the slot's total, which maps
  // adopted from a previous run carry over (kill -9 and restart): the VF
  // counters of the status never go backwards, as the synthetic's (read
  // straight from the slot) do not. Later ports count from their opening;
  // the pair sums the retired ones.
  vfBase_ = vfPortsOpened_++ == 0 ? PathCounters{} : slotCounters(RedirectSlot::Vf);
  log_->info("{}: VF {} in the redirect map", name_, vf.ifname);
  return Status::ok();
}

void KernelDatapath::switchTx(PathKind path) {
  const RedirectSlot slot = path == PathKind::Vf && vf_ ? RedirectSlot::Vf : RedirectSlot::Synthetic;
  if (auto st = programs_->setActive(slot); !st) log_->error("{}: switch TX: {}", name_, st.error().describe());
}

void KernelDatapath::retireVfPort() {
  if (!vf_ || retired_) return;
  (void)programs_->setActive(RedirectSlot::Synthetic);
  // Frames already redirected sit in the VF's qdisc or ring and drain while
  // it stays up; clearing the slot only stops new ones. The VF's ingress
  // redirect stays until its claim is released, so late RX still goes up.
  if (auto st = programs_->clearBackend(RedirectSlot::Vf); !st)
    log_->warn("{}: clear the VF slot: {}", name_, st.error().describe());
  retired_ = minus(slotCounters(RedirectSlot::Vf), vfBase_);
  vf_.reset();
  const std::uint64_t one = 1;
  (void)!::write(notify_.get(), &one, sizeof one);
}

PathCounters KernelDatapath::slotCounters(RedirectSlot slot) const {
  PathCounters c;
  auto r = programs_->readCounters(slot);
  if (!r) return c;
  c.txPackets = r->tx.packets;
  c.txBytes = r->tx.bytes;
  c.txDropped = r->tx.drops;
  c.rxPackets = r->rx.packets;
  c.rxBytes = r->rx.bytes;
  c.rxDropped = r->rx.drops;
  return c;
}

PathCounters KernelDatapath::liveCounters(PathKind path) const {
  if (path == PathKind::Vf) return vf_ ? minus(slotCounters(RedirectSlot::Vf), vfBase_) : PathCounters{};
  return slotCounters(slotOf(path));
}

PathCounters KernelDatapath::unclaimedVfCounters() const {
  // The first VF port counts from the slot's total (openVfPort): until one
  // opens, that total is the previous run's alone.
  return !vf_ && vfPortsOpened_ == 0 ? slotCounters(RedirectSlot::Vf) : PathCounters{};
}

DatapathStatus KernelDatapath::describe() const {
  DatapathStatus d;
  d.mode = "kernel";
  d.reason = reason_;
  d.mirror = mirror_;
  d.hook = programs_->attachPoint() == TcAttachPoint::Tcx ? "tcx" : "clsact";
  d.hookReason = programs_->attachPointReason();
  if (auto c = programs_->readCounters(RedirectSlot::Vf)) d.fallbacks = c->tx.fallbacks;
  if (auto c = programs_->readCounters(RedirectSlot::Synthetic)) d.fallbacks += c->tx.fallbacks;
  return d;
}

void KernelDatapath::discardTapFrames() {
  static thread_local std::vector<std::uint8_t> buf(kMaxFrameLen);
  for (int fd : queueFds_) {
    for (int i = 0; i < 256; ++i) {
      if (::read(fd, buf.data(), buf.size()) <= 0) break;
      ++mirrored_;
    }
  }
}

DatapathEvents KernelDatapath::drainEvents() {
  drainCounterFd(notify_.get());
  discardTapFrames();
  DatapathEvents ev;
  if (retired_) {
    ev.vfRetired = *retired_;
    retired_.reset();
  }
  return ev;
}

void KernelDatapath::refresh() {
  // tvf0's egress program removed behind tvf's back (tc qdisc del dev tvf0
  // clsact, a bpftool detach): tvf0's frames would go to the TAP, where
  // nothing but the mirror's discard reads them.
  const auto now = std::chrono::steady_clock::now();
  if (tapIfindex_ != 0 && egressRetry_.due(now) && !TcRedirect::attachedOn(tapIfindex_, TcHook::Egress)) {
    if (auto st = programs_->attachEgress(tapIfindex_); st) {
      log_->warn("{}: tvf_egress was removed from {} behind tvf's back (tc qdisc del? bpftool?): put back", name_,
                 name_);
      egressRetry_.reset();
    } else if (egressRetry_.failed(now)) {
      log_->warn("{}: tvf_egress was removed from {} and cannot be put back (tried again after 1 s, 2, 4 ... 30): {}",
                 name_, name_, st.error().describe());
    }
  }
  const bool want = tapIfindex_ != 0 && packetSocketsOn(tapIfindex_) > 0;
  if (want == mirror_) return;
  if (auto st = programs_->setMirror(want); !st) {
    log_->warn("{}: mirroring for packet sockets on {}: {}", name_, name_, st.error().describe());
    return;
  }
  mirror_ = want;
  log_->info("{}: a packet socket is {} {}: egress mirroring {}", name_, want ? "bound to" : "no longer on", name_,
             want ? "on" : "off");
}

}  // namespace tvf
