#include "src/Daemon.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>

#include "src/BackendClaim.hpp"
#include "src/ConfigLoader.hpp"
#include "src/InstanceLock.hpp"
#include "src/LinkMulticast.hpp"
#include "base/Log.hpp"
#include "base/StateFile.hpp"
#include "synthetic/SyntheticBackend.hpp"
#include "tvf/Assert.hpp"
#include "tvf/ConfigKeys.hpp"

#include <nlohmann/json.hpp>

namespace tvf {


Daemon::Daemon(Config config, std::string configPath, DatapathFactoryPtr datapaths)
    : config_(std::move(config)), configPath_(std::move(configPath)), datapaths_(std::move(datapaths)),
      log_(moduleLogger("tvfd")) {}

Daemon::~Daemon() { tearDown(); }

void Daemon::watch(int fd, bool add) {
  if (add) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  } else {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  }
}

Status Daemon::setUp() {
  static const int kSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
  auto sig = UniqueFd::signalFd(kSignals, 4);
  if (!sig) return sig.status();
  signals_ = std::move(sig).value();
  auto ep = UniqueFd::epoll();
  if (!ep) return ep.status();
  epoll_ = std::move(ep).value();
  auto tm = UniqueFd::timerFd();
  if (!tm) return tm.status();
  timer_ = std::move(tm).value();

  // First: a second tvfd started on this state directory must fail before
  // it reads or rewrites the running one's claim records.
  auto lock = lockStateDirectory(stateDir());
  if (!lock) return lock.status();
  stateLock_ = std::move(lock).value();

  auto nl = NetlinkRequester::open();
  if (!nl) return nl.status();
  nl_ = std::make_unique<NetlinkRequester>(std::move(nl).value());
  auto mon = NetlinkLinkMonitor::open([this](const LinkEvent& e) { onLinkEvent(e); });
  if (!mon) return mon.status();
  monitor_ = std::move(mon).value();
  if (auto st = monitor_->resync(); !st) return st;
  // Every pair's locks before the claim records are read: a tvfd refused
  // here leaves them to the daemon that holds the pair (its release would
  // otherwise rewrite them without restoring anything).
  if (auto st = lockPairs(); !st) return st;
  // Claim records live beside the control socket (a runtime directory).
  const auto stateFile = (stateDir() / "claims.json").string();
  links_ = std::make_unique<NetlinkLinkControl>(*nl_, stateFile);

  for (const auto& pc : config_.pairs) {
    if (auto st = setUpPair(pc); !st) return st;
  }
  pairsReady_ = true;
  // Detach --wait replies when a pair's state moves; the metrics count
  // switches by the path TX moved to.
  waitersConnection_ = bus_.pairStateChanged.connect([this](const std::string&, PairState, PairState) {
    if (control_) checkWaiters();
  });
  switchesConnection_ = bus_.datapathSwitched.connect(
      [this](const std::string& pair, PathKind path, const std::string&) { ++switchesTo_[{pair, pathName(path)}]; });
  auto early = std::move(early_);
  for (const auto& e : early) onLinkEvent(e);

  auto ctl = ControlServer::open(
      config_.controlSocket, config_.controlGroup,
      [this](ControlServer::ClientId id, const nlohmann::json& req) { onControl(id, req); });
  if (!ctl) return ctl.status();
  control_ = std::move(ctl).value();
  if (auto addr = ListenAddress::parse(config_.metricsListen)) {
    auto http = MetricsHttpServer::start(*addr);
    if (!http) return http.status();
    metricsHttp_ = std::move(http).value();
    publishMetrics();
    log_->info("metrics served at http://{}/metrics", addr->toString());
  }

  watch(signals_.get(), true);
  watch(timer_.get(), true);
  watch(monitor_->fd(), true);
  watch(control_->fd(), true);
  for (auto& rt : pairs_) {
    if (rt->datapath->eventFd() >= 0) watch(rt->datapath->eventFd(), true);
  }
  log_->info("tvfd ready: {} pair(s), control socket {}", pairs_.size(), config_.controlSocket);
  return Status::ok();
}

Status Daemon::lockPairs() {
  std::map<int, std::string> bySynthetic;  // ifindex -> the pair that names it
  for (const auto& cfg : config_.pairs) {
    auto syn = findSynthetic(cfg, monitor_->table().links());
    if (!syn) return Status::fail(ENODEV, "pair " + cfg.name + ": synthetic " + cfg.syntheticSpec() + " not found");
    // One synthetic named twice in this config (by name and by `mac:`),
    // which --check cannot see: said as such, not as another tvfd.
    if (auto [it, fresh] = bySynthetic.emplace(syn->ifindex, cfg.name); !fresh)
      return Status::fail(EINVAL, "pairs " + it->second + " and " + cfg.name + " name the same synthetic " +
                                      syn->ifname + " (" + syn->mac.toString() + ")");
    // Before the TAP: with queues > 1 TUNSETIFF would attach more queues to
    // another daemon's tvf0 rather than fail.
    auto pairLock = lockPairName(cfg.name);
    if (!pairLock) return pairLock.status();
    auto syntheticLock = lockSyntheticMac(syn->mac);
    if (!syntheticLock) return syntheticLock.status();
    auto& held = pairLocks_[cfg.name];
    held.push_back(std::move(pairLock).value());
    held.push_back(std::move(syntheticLock).value());
  }
  return Status::ok();
}

Status Daemon::setUpPair(const PairConfig& cfg) {
  auto syn = findSynthetic(cfg, monitor_->table().links());
  if (!syn) return Status::fail(ENODEV, "pair " + cfg.name + ": synthetic " + cfg.syntheticSpec() + " not found");
  auto tap = TapDevice::open(cfg.name, cfg.queues, cfg.persist, *nl_);
  if (!tap) return tap.status();
  auto rt = std::make_unique<PairRuntime>();
  rt->config = std::make_shared<const PairConfig>(cfg);
  rt->tap = std::move(tap).value();
  auto tapLink = nl_->getLink(rt->tap->ifindex());
  if (!tapLink) return tapLink.status();
  if (tapLink->mac != syn->mac) {
    if (auto st = rt->tap->setMac(syn->mac); !st) return st;
  }
  if (rt->tap->created()) {
    if (auto st = rt->tap->setMtu(syn->mtu); !st) return st;
    // tvf0's carrier goes off when the last TAP queue closes (a kill -9 of
    // tvfd, while the kernel datapath forwards on) and when neither backend
    // has carrier: neither means another network, so its neighbour entries
    // stay. By default the kernel flushes them on carrier loss, and a
    // datagram sent at that moment through an entry in use is dropped
    // (neigh_flush_dev points it at neigh_blackhole). Set once, at creation:
    // an operator's value on a re-adopted tvf0 stays.
    for (const auto& [path, what] :
         {std::pair{"/proc/sys/net/ipv4/conf/" + cfg.name + "/arp_evict_nocarrier", "ARP"},
          std::pair{ipv6SysctlPath(cfg.name, "ndisc_evict_nocarrier"), "neighbour discovery"}}) {
      if (auto st = writeSysctl(path, "0"); !st)
        log_->info("{}: {} entries will be flushed on carrier loss: {}", cfg.name, what, st.error().describe());
    }
  } else {
    log_->info("{}: re-adopted the existing TAP (ifindex {})", cfg.name, rt->tap->ifindex());
    // The operator's offload and GSO choices on it, as the last run knew
    // them: restored before the first switch rewrites offloads and limits.
    if (auto j = readStateJson(intentPath(cfg.name), "operator choices", cfg.name); j && cfg.persist) {
      if (j->is_object()) rt->tap->restoreIntent(*j);
      else log_->warn("{}: ignoring unreadable operator choices {}", cfg.name, intentPath(cfg.name));
    }
  }

  DatapathSpec spec;
  spec.config = cfg;
  spec.tapIfindex = rt->tap->ifindex();
  spec.workerPriority = config_.workerPriority;
  spec.ingress = &links_->claimer();
  for (unsigned q = 0; q < rt->tap->queueCount(); ++q) spec.queueFds.push_back(rt->tap->queueFd(q));
  auto datapath = datapaths_->make(spec);
  if (!datapath) return datapath.status();
  rt->datapath = std::move(datapath).value();
  if (auto st = rt->datapath->start(*syn); !st) return st;
  // Claimed after the datapath's start, which names the program of its
  // ingress hook (the kernel datapath's redirect): a restart re-claiming
  // the synthetic then swaps the previous run's redirect for this one's in
  // place, not for the drop first (frames arriving meanwhile were lost).
  if (auto st = links_->claimBackend(syn->ifindex); !st) {
    rt->datapath->stop();
    return st;
  }
  rt->announcer = std::make_unique<PacketAnnouncer>(*nl_, hooks_, bus_, rt->config, rt->tap->ifindex(), syn->mac);
  PairRuntime* const self = rt.get();
  rt->probe = std::make_unique<PathProbe>(
      *nl_, clock_, cfg.name, rt->tap->ifindex(), syn->mac,
      [this, self](int fd, bool add) {
        watch(fd, add);
        if (add) probeFds_[fd] = self;
        else probeFds_.erase(fd);
      },
      [self](std::uint64_t generation) { self->pair->onPathProven(generation); });
  rt->pair = std::make_unique<Pair>(rt->config,
                                    PairDeps{*links_, *rt->tap, *rt->datapath, clock_, bus_, rt->probe.get()});
  // What the previous run had claimed (its records, not yet re-claimed): its
  // VF is taken back without attach_wait.
  rt->pair->resumeAfterRestart(links_->claimer().inheritedClaims());
  // A planned detach survives a restart: the hold is back before the pair
  // can take a VF (link events wait in early_ until every pair is set up).
  rt->holdOnFile = holdJson(cfg.name, false, std::nullopt);  // no file: not held
  if (auto j = readStateJson(holdPath(cfg.name), "hold state", cfg.name)) {
    const auto held = j->is_object() ? j->find("held") : j->end();
    const auto pair = j->is_object() ? j->find("pair") : j->end();
    const auto only = j->is_object() ? j->find("attach_only") : j->end();
    if (held == j->end() || !held->is_boolean() || pair == j->end() || *pair != cfg.name ||
        (only != j->end() && !only->is_null() && !only->is_string())) {
      log_->warn("{}: ignoring unreadable hold state {}", cfg.name, holdPath(cfg.name));
    } else {
      if (held->get<bool>()) rt->pair->startHeld();
      if (only != j->end() && only->is_string()) rt->pair->startAttachOnly(only->get<std::string>());
      rt->holdOnFile = holdJson(cfg.name, rt->pair->held(), rt->pair->attachOnly());
    }
  }
  if (cfg.persist) {
    if (auto text = readStateFile(countersPath(cfg.name)); text || text.error().code != ENOENT) {
      if (!text) log_->warn("{}: ignoring counters: {}", cfg.name, text.error().describe());
      auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json(nlohmann::json::value_t::discarded);
      // A count near 2^64 is no count tvf wrote (it would wrap on the next
      // frame): such a file is ignored and rewritten.
      auto plausible = [](const PathCounters& c) {
        constexpr std::uint64_t kMax = std::uint64_t{1} << 62;
        return c.rxPackets < kMax && c.rxBytes < kMax && c.txPackets < kMax && c.txBytes < kMax &&
               c.rxDropped < kMax && c.txDropped < kMax;
      };
      const PathCounters synBase =
          j.is_object() ? countersFromJson(j.value("synthetic", nlohmann::json{})) : PathCounters{};
      const PathCounters vfBase = j.is_object() ? countersFromJson(j.value("vf", nlohmann::json{})) : PathCounters{};
      if (j.is_object() && (!plausible(synBase) || !plausible(vfBase))) {
        log_->warn("{}: ignoring counters {} with a count beyond 2^62; they start from 0", cfg.name,
                   countersPath(cfg.name));
        rt->countersRestored = true;
      } else if (j.is_object()) {
        rt->pair->restoreCounterBase(synBase, vfBase);
        const auto idx = j.find("vf_ifindex");
        const auto name = j.find("vf_ifname");
        if (idx != j.end() && idx->is_number_integer() && name != j.end() && name->is_string())
          rt->pair->resumeAfterRestart({{idx->get<int>(), name->get<std::string>()}});
        rt->countersRestored = true;
      } else {
        log_->warn("{}: ignoring unreadable counters {}; they start from 0 and it is not rewritten", cfg.name,
                   countersPath(cfg.name));
      }
    } else {
      rt->countersRestored = true;  // none yet
    }
    if (auto saved = loadTimeline(timelinePath(cfg.name))) {
      rt->savedSeq = saved->lastSeq();
      rt->pair->restoreTimeline(std::move(saved).value());
    } else if (saved.error().code != ENOENT) {
      log_->warn("{}: switch timeline not restored: {}", cfg.name, saved.error().describe());
    }
  }
  auto synNow = nl_->getLink(syn->ifindex);
  tapLink = nl_->getLink(rt->tap->ifindex());
  if (!synNow) return synNow.status();
  if (!tapLink) return tapLink.status();
  if (auto st = rt->pair->start(*synNow, *tapLink); !st) return st;
  router_.addPair(*rt->pair, syn->mac);
  pairs_.push_back(std::move(rt));
  return Status::ok();
}

void Daemon::tearDown() {
  saveTimelines();
  saveIntents();
  saveCounters(true);
  metricsHttp_.reset();
  control_.reset();
  for (auto it = pairs_.rbegin(); it != pairs_.rend(); ++it) {
    auto& rt = **it;
    if (rt.datapath) {
      rt.datapath->switchTx(PathKind::Synthetic);
      rt.datapath->stop();
    }
  }
  if (links_) links_->releaseAll();
  for (auto it = pairs_.rbegin(); it != pairs_.rend(); ++it) {
    (*it)->pair.reset();
    (*it)->announcer.reset();
    (*it)->datapath.reset();
    (*it)->tap.reset();
  }
  pairs_.clear();
}

void Daemon::onLinkEvent(const LinkEvent& e) {
  if (!pairsReady_) {
    early_.push_back(e);
    return;
  }
  const LinkInfo* present = nullptr;
  if (const auto* a = std::get_if<LinkAdded>(&e)) present = &a->link;
  if (const auto* c = std::get_if<LinkChanged>(&e)) present = &c->link;
  // Before the router: the returning synthetic must not be offered as a VF.
  if (present) {
    for (auto& rt : pairs_)
      if (rt->pair->syntheticGone() && isReturningSynthetic(*rt, *present)) adoptSynthetic(*rt, *present);
  }
  bus_.linkEvent(e);
  router_.onLinkEvent(e);
  if (const auto* removed = std::get_if<LinkRemoved>(&e)) {
    for (auto& rt : pairs_)
      if (rt->pair->syntheticIndex() == removed->ifindex) rt->pair->onSyntheticRemoved();
    // A link that left is forgotten: if it comes back (moved back, or a new
    // netdev with its ifindex), it is claimed afresh.
    links_->forgetLink(removed->ifindex);
  }
}

bool Daemon::isReturningSynthetic(const PairRuntime& rt, const LinkInfo& link) const {
  if (link.ifindex == rt.tap->ifindex()) return false;
  if (const auto& vf = rt.pair->vf(); vf && vf->ifindex == link.ifindex) return false;
  return findSynthetic(*rt.config, {{link.ifindex, link}}).has_value();
}

void Daemon::adoptSynthetic(PairRuntime& rt, const LinkInfo& link) {
  const std::string& name = rt.config->name;
  // The datapath first: the kernel datapath names its redirect for the
  // ingress hook, which the claim then attaches.
  if (auto st = rt.datapath->replaceSynthetic(link); !st) {
    log_->error("{}: synthetic {} is back but its datapath side cannot move to it: {}", name, link.ifname,
                st.error().describe());
    return;
  }
  if (auto st = links_->claimBackend(link.ifindex); !st) {
    log_->error("{}: synthetic {} is back but cannot be claimed: {}", name, link.ifname, st.error().describe());
    return;
  }
  auto now = nl_->getLink(link.ifindex);
  rt.pair->replaceSynthetic(now ? *now : link);
  log_->info("{}: synthetic {} re-claimed (ifindex {})", name, link.ifname, link.ifindex);
  // The switch learns the MAC behind the synthetic's new port.
  if (rt.pair->txPath() == PathKind::Synthetic)
    bus_.announceRequested(name, PathKind::Synthetic, link.ifindex, rt.config->announceCount);
}

Daemon::PairRuntime* Daemon::findPair(const std::string& name) {
  for (auto& rt : pairs_)
    if (rt->config->name == name) return rt.get();
  return nullptr;
}

std::vector<PairStatus> Daemon::statuses() const {
  std::vector<PairStatus> out;
  for (const auto& rt : pairs_) out.push_back(rt->pair->status());
  return out;
}

DaemonStats Daemon::stats() const {
  DaemonStats s;
  s.netlinkEvents = monitor_ ? monitor_->events() : 0;
  s.netlinkResyncs = monitor_ ? monitor_->resyncs() : 0;
  s.hooksStarted = hooks_.started();
  s.hooksFailed = hooks_.failed();
  s.controlRequests = control_ ? control_->requests() : 0;
  s.controlErrors = control_ ? control_->errors() : 0;
  s.controlClientsDropped = control_ ? control_->clientsDropped() : 0;
  s.controlClientsEvicted = control_ ? control_->clientsEvicted() : 0;
  s.controlClientsRefused = control_ ? control_->clientsRefused() : 0;
  s.verbsBuilt = datapaths_->verbsBuilt();
  for (const auto& [key, n] : switchesTo_) s.switchesTo.push_back({key.first, key.second, n});
  return s;
}

void Daemon::onControl(ControlServer::ClientId id, const nlohmann::json& req) {
  if (auto reply = commands_.handle(id, req)) control_->reply(id, *reply);
}

void Daemon::checkWaiters() {
  for (auto& [id, reply] : commands_.takeFinishedWaits()) {
    if (control_->connected(id)) control_->reply(id, reply);
  }
}

const Daemon::PairRuntime& Daemon::pairNamed(const std::string& name) const {
  for (const auto& rt : pairs_)
    if (rt->config->name == name) return *rt;
  TVF_ASSERT(false && "ControlCommands checks pair names first");
  return *pairs_.front();
}

nlohmann::json Daemon::status() { return statusJson(statuses(), stats()); }

std::vector<std::string> Daemon::pairNames() const {
  std::vector<std::string> names;
  for (const auto& rt : pairs_) names.push_back(rt->config->name);
  return names;
}

PairState Daemon::plannedDetach(const std::string& pair) {
  auto& p = *pairNamed(pair).pair;
  p.plannedDetach();
  saveHolds();  // on file before any reply: a kill -9 right after keeps it
  return p.state();
}

bool Daemon::detachComplete(const std::string& pair) const { return pairNamed(pair).pair->detachComplete(); }
PairState Daemon::pairState(const std::string& pair) const { return pairNamed(pair).pair->state(); }

Status Daemon::requestAttach(const std::string& pair, const std::optional<std::string>& ifname) {
  auto st = pairNamed(pair).pair->requestAttach(ifname);
  saveHolds();
  return st;
}

Status Daemon::resync() { return monitor_->resync(); }

nlohmann::json Daemon::events(const std::optional<std::string>& pair, const nlohmann::json& after) {
  auto all = timelines();
  if (pair) std::erase_if(all, [&](const NamedTimeline& t) { return t.first != *pair; });
  return timelineReply(all, after);
}

Result<std::vector<std::string>> Daemon::reload() {
  sd_notify(0, "RELOADING=1");
  struct Ready {
    ~Ready() { sd_notify(0, "READY=1"); }
  } ready;
  auto r = ConfigLoader::loadFile(configPath_);
  if (auto* problems = std::get_if<std::vector<ConfigProblem>>(&r)) {
    std::string all;
    for (const auto& p : *problems) {
      log_->error("reload: {}", p.format(configPath_));
      if (!all.empty()) all += '\n';
      all += p.format(configPath_);
    }
    log_->error("reload: configuration kept unchanged");
    return Error{EINVAL, all + "\nconfiguration kept unchanged"};
  }
  std::vector<std::string> warnings;
  auto warn = [&](std::string w) {
    log_->warn("reload: {}", w);
    warnings.push_back(std::move(w));
  };
  Config next = std::get<Config>(std::move(r));
  for (const auto& key : reloadDaemon(config_, next)) warn(key + " changes only on restart");
  applyLogLevel(config_.logLevel);
  for (const auto& pc : next.pairs) {
    auto* rt = findPair(pc.name);
    if (!rt) {
      warn("new pair " + pc.name + " needs a restart");
      continue;
    }
    PairConfig snapshot = *rt->config;
    for (const auto& key : reloadPair(snapshot, pc))
      warn(pc.name + ": " + key + " changes only on restart");
    rt->config = std::make_shared<const PairConfig>(std::move(snapshot));
    rt->pair->reconfigure(rt->config);
    rt->announcer->reconfigure(rt->config);
  }
  log_->info("configuration reloaded from {}", configPath_);
  return warnings;
}

void Daemon::onSignal() {
  signalfd_siginfo si{};
  while (::read(signals_.get(), &si, sizeof si) == sizeof si) {
    switch (si.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        log_->info("signal {}: shutting down", si.ssi_signo);
        running_ = false;
        break;
      case SIGHUP:
        (void)reload();  // the log says what happened
        break;
      case SIGCHLD:
        hooks_.reap();
        break;
      default:
        break;
    }
  }
}

void Daemon::armTimer() {
  std::optional<Clock::TimePoint> next;
  for (auto& rt : pairs_) {
    if (auto d = rt->pair->nextDeadline(); d && (!next || *d < *next)) next = d;
    if (auto d = rt->probe->nextDeadline(); d && (!next || *d < *next)) next = d;
  }
  if (auto h = hooks_.nextDeadline(); h && (!next || *h < *next)) next = *h;
  if (!next || nextMulticastPoll_ < *next) next = nextMulticastPoll_;
  itimerspec its{};
  if (next) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next->time_since_epoch()).count();
    if (ns <= 0) ns = 1;
    its.it_value.tv_sec = ns / 1000000000;
    its.it_value.tv_nsec = ns % 1000000000;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  }
  ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr);
}

// The TAP's multicast list has no netlink event; a 250 ms poll of
// /proc/net/dev_mcast mirrors joins and leaves to the backends.
void Daemon::pollMulticast() {
  for (auto& rt : pairs_) {
    rt->pair->onTapMulticast(readLinkMulticast(rt->tap->ifindex()));
    rt->datapath->refresh();
  }
  // On the same cadence: what someone changed on a claimed backend.
  links_->claimer().holdClaims();
  // The previous run's claims that no pair is taking back (its synthetic,
  // the VF it has or waits for) are released: by the first pass the
  // startup's links were offered and a VF held before the restart taken.
  if (links_->claimer().hasInheritedClaims()) {
    std::set<int> keep;
    for (auto& rt : pairs_) {
      keep.insert(rt->pair->syntheticIndex());
      if (const auto& vf = rt->pair->vf()) keep.insert(vf->ifindex);
    }
    links_->claimer().releaseInherited(keep);
  }
  nextMulticastPoll_ = clock_.now() + std::chrono::milliseconds(250);
}

// The HTTP thread serves the latest text; it never calls into the daemon.
void Daemon::publishMetrics() {
  if (metricsHttp_) metricsHttp_->publish(metrics());
}

std::string Daemon::metrics() { return metricsText(statuses(), stats()) + timelineMetrics(timelines()); }

std::vector<NamedTimeline> Daemon::timelines() const {
  std::vector<NamedTimeline> out;
  for (const auto& rt : pairs_)
    if (rt->pair) out.emplace_back(rt->config->name, &rt->pair->timeline());
  return out;
}

// Beside the control socket, in the runtime directory that survives a
// daemon restart (RuntimeDirectoryPreserve=yes), as the claim records do.
std::string Daemon::timelinePath(const std::string& pair) const {
  return (stateDir() / ("events-" + pair + ".json")).string();
}

void Daemon::saveTimelines() {
  for (auto& rt : pairs_) {
    if (!rt->pair || !rt->config->persist || rt->pair->timeline().lastSeq() == rt->savedSeq) continue;
    // Tried once per new switch: a failure is logged once, not every 250 ms.
    if (auto st = saveTimeline(timelinePath(rt->config->name), rt->pair->timeline()); !st)
      log_->warn("{}: switch timeline not saved: {}", rt->config->name, st.error().describe());
    rt->savedSeq = rt->pair->timeline().lastSeq();
  }
}

std::string Daemon::holdPath(const std::string& pair) const {
  return (stateDir() / ("hold-" + pair + ".json")).string();
}

std::filesystem::path Daemon::stateDir() const {
  return std::filesystem::path(config_.controlSocket).parent_path();
}

void Daemon::saveHolds() {
  for (auto& rt : pairs_) {
    if (!rt->pair) continue;
    writeStateFile(rt->holdOnFile, holdPath(rt->config->name), holdJson(rt->config->name, rt->pair->held(), rt->pair->attachOnly()),
                   "hold state", rt->config->name);
  }
}

std::optional<nlohmann::json> Daemon::readStateJson(const std::string& path, std::string_view what,
                                                    const std::string& pair) {
  auto text = readStateFile(path);
  if (!text) {
    if (text.error().code != ENOENT) log_->warn("{}: ignoring {}: {}", pair, what, text.error().describe());
    return std::nullopt;
  }
  return nlohmann::json::parse(*text, nullptr, false);  // discarded when not JSON
}

std::string Daemon::holdJson(const std::string& pair, bool held, const std::optional<std::string>& attachOnly) {
  nlohmann::json j{{"pair", pair}, {"held", held}, {"attach_only", nullptr}};
  if (attachOnly) j["attach_only"] = *attachOnly;
  return j.dump() + "\n";
}

void Daemon::writeStateFile(std::string& onFile, const std::string& path, std::string text, std::string_view what,
                            const std::string& pair) {
  if (text == onFile) return;
  if (auto st = writeFileAtomically(path, text); !st) log_->warn("{}: {} not saved: {}", pair, what, st.error().describe());
  // Tried once per change: a failure is logged once, not every 250 ms pass.
  onFile = std::move(text);
}

std::string Daemon::countersPath(const std::string& pair) const {
  return (stateDir() / ("counters-" + pair + ".json")).string();
}

void Daemon::saveCounters(bool atExit) {
  for (auto& rt : pairs_) {
    if (!rt->pair || !rt->config->persist || !rt->countersRestored) continue;
    const PairStatus s = rt->pair->status();
    if (!atExit && s.datapath.mode == "kernel") continue;
    nlohmann::json j{{"synthetic", countersJson(s.syntheticCounters)}, {"vf", countersJson(s.vfCounters)}};
    // The VF the pair holds: a restart takes it back without attach_wait
    // (a clean exit released it; its claim record is gone).
    if (s.vf && s.vf->ifindex > 0) {
      j["vf_ifindex"] = s.vf->ifindex;
      j["vf_ifname"] = s.vf->ifname;
    }
    writeStateFile(rt->countersOnFile, countersPath(rt->config->name), j.dump() + "\n", "counters", rt->config->name);
  }
}

std::string Daemon::intentPath(const std::string& pair) const {
  return (stateDir() / ("intent-" + pair + ".json")).string();
}

void Daemon::saveIntents() {
  for (auto& rt : pairs_) {
    if (!rt->config->persist) continue;  // a transient tvf0 goes with the daemon, and its choices with it
    writeStateFile(rt->intentOnFile, intentPath(rt->config->name), rt->tap->intentJson().dump() + "\n",
                   "operator choices on " + rt->config->name, rt->config->name);
  }
}

void Daemon::loop() {
  std::map<int, PairRuntime*> notifiers;
  for (auto& rt : pairs_) notifiers[rt->datapath->eventFd()] = rt.get();
  while (running_) {
    armTimer();
    epoll_event evs[32];
    const int n = ::epoll_wait(epoll_.get(), evs, 32, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == signals_.get()) {
        onSignal();
      } else if (fd == timer_.get()) {
        drainCounterFd(fd);
      } else if (fd == monitor_->fd()) {
        monitor_->onReadable();
      } else if (fd == control_->fd()) {
        control_->onReadable();
      } else if (auto p = probeFds_.find(fd); p != probeFds_.end()) {
        p->second->probe->onReadable();
      } else if (auto it = notifiers.find(fd); it != notifiers.end()) {
        auto ev = it->second->datapath->drainEvents();
        for (auto [gen, err] : ev.vfPortErrors) it->second->pair->onPortError(gen, err);
        if (ev.vfRetired) it->second->pair->onVfPortRetired(*ev.vfRetired);
      }
    }
    for (auto& rt : pairs_) {
      rt->probe->onTick();
      rt->pair->onTick();
    }
    saveHolds();
    // After every pass, as the hold: a switch's TUNSETOFFLOAD and GSO writes
    // are on file before a kill -9 could make the next daemon take them for
    // the operator's (a JSON of a few hundred bytes per pair, compared).
    saveIntents();
    if (clock_.now() >= nextMulticastPoll_) {
      pollMulticast();
      publishMetrics();  // the same 250 ms cadence
      saveTimelines();
      saveCounters(false);
    }
    hooks_.reap();
  }
}

int Daemon::run() {
  if (auto st = setUp(); !st) {
    log_->error("startup failed: {}", st.error().describe());
    tearDown();
    return 1;
  }
  // systemd Type=notify; a no-op when NOTIFY_SOCKET is not set.
  sd_notifyf(0, "READY=1\nSTATUS=%zu pair(s)\nMAINPID=%d", pairs_.size(), static_cast<int>(::getpid()));
  loop();
  sd_notify(0, "STOPPING=1");
  tearDown();
  log_->info("tvfd stopped; backends released");
  return 0;
}

}  // namespace tvf
