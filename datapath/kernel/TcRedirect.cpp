#include "datapath/kernel/TcRedirect.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "datapath/kernel/TcRedirectAbi.h"
#include "base/UniqueFd.hpp"
#include "tvf/Assert.hpp"

namespace tvf {
namespace {

// The object compiled from tvf_redirect.bpf.c, as `xxd -i` wrote it.
#include "datapath/kernel/tvf_redirect_bpf.h"

std::shared_ptr<spdlog::logger> kdpLogger() {
  // One logger per module, made as failover/Log.hpp makes them (this target
  // links no tvf library, so it does not include that header).
  if (auto existing = spdlog::get("kdp")) return existing;
  auto logger = spdlog::stderr_logger_mt("kdp");
  logger->set_level(spdlog::get_level());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  return logger;
}

// libbpf's messages (the verifier's log among them) at debug level, only
// while this file calls libbpf's loader: libbpf_set_print is process-wide,
// so the previous callback is put back afterwards.
int printToSpdlog(enum libbpf_print_level level, const char* fmt, va_list args) {
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);  // the verifier's log comes as one long message
  std::string line(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(line.data(), line.size() + 1, fmt, again);
  va_end(again);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  // libbpf prefixes its lines with "libbpf: " itself.
  kdpLogger()->debug("{}{}", level == LIBBPF_WARN ? "(warning) " : "", line);
  return n;
}

class ScopedLibbpfPrint {
 public:
  ScopedLibbpfPrint() : previous_(libbpf_set_print(printToSpdlog)) {}
  ~ScopedLibbpfPrint() { libbpf_set_print(previous_); }
  ScopedLibbpfPrint(const ScopedLibbpfPrint&) = delete;
  ScopedLibbpfPrint& operator=(const ScopedLibbpfPrint&) = delete;

 private:
  libbpf_print_fn_t previous_;
};

std::string ifnameOf(int ifindex) {
  char buf[IF_NAMESIZE] = {};
  return if_indextoname(static_cast<unsigned>(ifindex), buf) ? buf : "ifindex " + std::to_string(ifindex);
}

const char* programName(bool egress) { return egress ? "tvf_egress" : "tvf_ingress"; }
TcHook hookOf(bool egress) { return egress ? TcHook::Egress : TcHook::Ingress; }

// The program of ours attached at our handle/priority on one clsact hook, if any.
UniqueFd clsactProgram(int ifindex, bool egress) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TcRedirect::kFilterHandle, .priority = TcRedirect::kFilterPriority);
  if (bpf_tc_query(&hook, &opts) < 0 || opts.prog_id == 0) return {};
  UniqueFd fd(bpf_prog_get_fd_by_id(opts.prog_id));
  if (!fd) return {};
  bpf_prog_info info = {};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) < 0) return {};
  if (std::strncmp(info.name, programName(egress), sizeof info.name) != 0) return {};  // e.g. the claim's tvf_drop
  return fd;
}

// The program of ours on one hook, tcx first (it runs first), then clsact.
UniqueFd ourProgram(int ifindex, bool egress, TcAttachPoint* where = nullptr) {
  if (UniqueFd fd = tcxProgram(ifindex, hookOf(egress), programName(egress))) {
    if (where) *where = TcAttachPoint::Tcx;
    return fd;
  }
  if (where) *where = TcAttachPoint::Clsact;
  return clsactProgram(ifindex, egress);
}

std::uint32_t progId(int fd) {
  bpf_prog_info info = {};
  std::uint32_t len = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

// The maps of a program, by name.
std::vector<std::pair<std::string, UniqueFd>> mapsOf(int progFd) {
  std::vector<std::pair<std::string, UniqueFd>> out;
  std::uint32_t ids[16] = {};
  bpf_prog_info info = {};
  info.nr_map_ids = 16;
  info.map_ids = reinterpret_cast<std::uint64_t>(ids);
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(progFd, &info, &len) < 0) return out;
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(info.nr_map_ids, 16); ++i) {
    UniqueFd fd(bpf_map_get_fd_by_id(ids[i]));
    if (!fd) continue;
    bpf_map_info mi = {};
    std::uint32_t mlen = sizeof mi;
    if (bpf_obj_get_info_by_fd(fd.get(), &mi, &mlen) < 0) continue;
    out.emplace_back(std::string(mi.name), std::move(fd));
  }
  return out;
}

bool compatible(int fd, const bpf_map* want) {
  bpf_map_info mi = {};
  std::uint32_t len = sizeof mi;
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0) return false;
  return mi.type == static_cast<std::uint32_t>(bpf_map__type(want)) && mi.key_size == bpf_map__key_size(want) &&
         mi.value_size == bpf_map__value_size(want) && mi.max_entries == bpf_map__max_entries(want);
}

bool validSlot(RedirectSlot s) { return s == RedirectSlot::Vf || s == RedirectSlot::Synthetic; }

}  // namespace

Result<std::unique_ptr<TcRedirect>> TcRedirect::load(const std::string& pair, const std::vector<int>& adoptFrom,
                                                     TcHookChoice hook) {
  auto log = kdpLogger();
  ScopedLibbpfPrint print;
  TcAttachPoint point = TcAttachPoint::Clsact;
  std::string pointReason;
  switch (hook) {
    case TcHookChoice::Tcx:
      if (!tcxSupported()) return Error{EOPNOTSUPP, "tc_hook: tcx for " + pair + ": this kernel has no tcx hooks (6.6+)"};
      point = TcAttachPoint::Tcx;
      pointReason = "tc_hook: tcx";
      break;
    case TcHookChoice::Clsact:
      pointReason = "tc_hook: clsact";
      break;
    case TcHookChoice::Auto:
      point = tcxSupported() ? TcAttachPoint::Tcx : TcAttachPoint::Clsact;
      pointReason = tcxSupported() ? "auto: the kernel has tcx hooks" : "auto: no tcx hooks in this kernel (6.6+)";
      break;
  }
  LIBBPF_OPTS(bpf_object_open_opts, oopts, .object_name = "tvf_redirect");
  bpf_object* obj = bpf_object__open_mem(tvf_redirect_bpf_o, tvf_redirect_bpf_o_len, &oopts);
  if (!obj) return Error{errno ? errno : EINVAL, "open the embedded tc redirect object for " + pair};
  std::unique_ptr<TcRedirect> self(new TcRedirect(pair, obj));

  // Adoption: the maps of the first program of ours attached where the
  // previous run attached.
  std::vector<std::pair<std::string, UniqueFd>> old;
  std::string from;
  for (int ifindex : adoptFrom) {
    for (bool egress : {true, false}) {
      if (UniqueFd prog = ourProgram(ifindex, egress); prog && old.empty()) {
        old = mapsOf(prog.get());
        from = ifnameOf(ifindex) + (egress ? " egress" : " ingress");
      }
    }
    if (!old.empty()) break;
  }
  int reused = 0;
  for (auto& [name, fd] : old) {
    bpf_map* m = bpf_object__find_map_by_name(obj, name.c_str());
    if (!m) continue;
    if (!compatible(fd.get(), m)) {
      log->warn("{}: the previous run's map {} has another layout; it starts afresh", pair, name);
      continue;
    }
    if (int r = bpf_map__reuse_fd(m, fd.get()); r < 0) return Error{-r, "reuse map " + name + " for " + pair};
    ++reused;
  }
  self->adopted_ = reused > 0;
  self->point_ = point;
  self->pointReason_ = std::move(pointReason);

  if (int r = bpf_object__load(obj); r < 0) return Error{-r, "load the tc redirect programs for " + pair};
  auto mapFd = [&](const char* name) {
    const bpf_map* m = bpf_object__find_map_by_name(obj, name);
    return m ? bpf_map__fd(m) : -1;
  };
  auto progFd = [&](const char* name) {
    const bpf_program* p = bpf_object__find_program_by_name(obj, name);
    return p ? bpf_program__fd(p) : -1;
  };
  self->cfgFd_ = mapFd("tvf_cfg");
  self->portsFd_ = mapFd("tvf_ports");
  self->statsFd_ = mapFd("tvf_stats");
  self->egressFd_ = progFd("tvf_egress");
  self->ingressFd_ = progFd("tvf_ingress");
  // The embedded object defines them all: a miss is a build mistake.
  TVF_ASSERT(self->cfgFd_ >= 0 && self->portsFd_ >= 0 && self->statsFd_ >= 0 && self->egressFd_ >= 0 &&
             self->ingressFd_ >= 0);
  if (self->adopted_)
    log->info("{}: tc redirect programs loaded on the maps of the previous run's ({}, {} of {} maps reused); "
              "attaching on {} ({})", pair, from, reused, old.size(),
              self->point_ == TcAttachPoint::Tcx ? "tcx" : "clsact", self->pointReason_);
  else
    log->info("{}: tc redirect programs loaded; attaching on {} ({})", pair,
              self->point_ == TcAttachPoint::Tcx ? "tcx" : "clsact", self->pointReason_);
  return self;
}

TcRedirect::TcRedirect(std::string pair, bpf_object* obj)
    : pair_(std::move(pair)), obj_(obj), log_(kdpLogger()) {}

TcRedirect::~TcRedirect() { bpf_object__close(obj_); }

Status TcRedirect::writeCfg(std::uint32_t word, std::uint32_t value, const char* what) {
  if (bpf_map_update_elem(cfgFd_, &word, &value, BPF_ANY) < 0)
    return Status::fail(errno, std::string(what) + " for " + pair_);
  return Status::ok();
}

Status TcRedirect::setTap(int tapIfindex) {
  if (tapIfindex <= 0) return Status::fail(EINVAL, "set tap ifindex " + std::to_string(tapIfindex));
  return writeCfg(TVF_CFG_TAP, static_cast<std::uint32_t>(tapIfindex), "set the tap ifindex");
}

Status TcRedirect::setBackend(RedirectSlot slot, int ifindex) {
  if (!validSlot(slot) || ifindex <= 0) return Status::fail(EINVAL, "set backend " + std::to_string(ifindex));
  std::uint32_t key = static_cast<std::uint32_t>(slot);
  bpf_devmap_val v = {};
  v.ifindex = static_cast<std::uint32_t>(ifindex);
  if (bpf_map_update_elem(portsFd_, &key, &v, BPF_ANY) < 0) {
    const int err = errno;  // read first: the name lookup below sets its own
    // The DEVMAP refuses an ifindex with no netdev with EINVAL: said as ENXIO.
    char name[IF_NAMESIZE] = {};
    if (err == EINVAL && if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr)
      return Status::fail(ENXIO, "put ifindex " + std::to_string(ifindex) + " in slot " + std::to_string(key) +
                                     " of " + pair_ + ": no such netdev");
    return Status::fail(err, "put " + ifnameOf(ifindex) + " in slot " + std::to_string(key) + " of " + pair_);
  }
  return Status::ok();
}

Status TcRedirect::clearBackend(RedirectSlot slot) {
  if (!validSlot(slot)) return Status::fail(EINVAL, "clear backend slot");
  std::uint32_t key = static_cast<std::uint32_t>(slot);
  if (bpf_map_delete_elem(portsFd_, &key) < 0 && errno != ENOENT)
    return Status::fail(errno, "clear slot " + std::to_string(key) + " of " + pair_);
  return Status::ok();
}

Status TcRedirect::setActive(RedirectSlot slot) {
  if (!validSlot(slot)) return Status::fail(EINVAL, "set active slot");
  return writeCfg(TVF_CFG_ACTIVE, static_cast<std::uint32_t>(slot), "set the active slot");
}

Status TcRedirect::setMode(RedirectMode mode) {
  return writeCfg(TVF_CFG_MODE, static_cast<std::uint32_t>(mode), "set the mode");
}

Status TcRedirect::setMirror(bool on) { return writeCfg(TVF_CFG_MIRROR, on ? 1 : 0, "set mirroring"); }

Result<RedirectConfig> TcRedirect::config() const {
  std::uint32_t words[TVF_CFG_WORDS] = {};
  for (std::uint32_t k = 0; k < TVF_CFG_WORDS; ++k)
    if (bpf_map_lookup_elem(cfgFd_, &k, &words[k]) < 0) return Error{errno, "read the configuration of " + pair_};
  RedirectConfig c;
  c.mode = words[TVF_CFG_MODE] == TVF_MODE_KERNEL ? RedirectMode::Kernel : RedirectMode::User;
  c.active = words[TVF_CFG_ACTIVE] == TVF_SLOT_VF ? RedirectSlot::Vf : RedirectSlot::Synthetic;
  c.tapIfindex = static_cast<int>(words[TVF_CFG_TAP]);
  c.mirror = words[TVF_CFG_MIRROR] != 0;
  return c;
}

Result<int> TcRedirect::backend(RedirectSlot slot) const {
  if (!validSlot(slot)) return Error{EINVAL, "read backend slot"};
  std::uint32_t key = static_cast<std::uint32_t>(slot);
  bpf_devmap_val v = {};
  if (bpf_map_lookup_elem(portsFd_, &key, &v) < 0) {
    if (errno == ENOENT) return 0;
    return Error{errno, "read slot " + std::to_string(key) + " of " + pair_};
  }
  return static_cast<int>(v.ifindex);
}

// The kind of the qdisc at ffff: ("clsact", "ingress"), "" when none or
// unreadable. libbpf's hook create says EEXIST for either, but an ingress
// qdisc has no egress hook: a filter put at ffff:fff3 there never runs.
static std::string ingressQdiscKind(int ifindex) {
  std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock(nl_socket_alloc(), nl_socket_free);
  if (!sock || nl_connect(sock.get(), NETLINK_ROUTE) < 0) return {};
  nl_cache* cache = nullptr;
  if (rtnl_qdisc_alloc_cache(sock.get(), &cache) < 0) return {};
  std::unique_ptr<nl_cache, void (*)(nl_cache*)> owned(cache, nl_cache_free);
  rtnl_qdisc* q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_INGRESS);
  if (!q) return {};
  const char* kind = rtnl_tc_get_kind(TC_CAST(q));
  std::string out = kind ? kind : "";
  rtnl_qdisc_put(q);
  return out;
}

Status TcRedirect::attach(int ifindex, bool egress) {
  ScopedLibbpfPrint print;  // "Exclusivity flag on" when the clsact exists
  const char* dir = egress ? "egress" : "ingress";
  const int progFd = egress ? egressFd_ : ingressFd_;
  // tcx for tvf0's egress only; a backend's ingress stays on clsact (the
  // header says why).
  if (egress && point_ == TcAttachPoint::Tcx) {
    if (auto st = tcxAttach(ifindex, hookOf(egress), progFd, programName(egress)); !st) return st;
    // A clsact filter of ours beneath it (a previous run on clsact) is never
    // reached now: remove it, and leave the qdisc to whoever else uses it.
    if (clsactProgram(ifindex, egress)) {
      inheritedClsact_.insert(ifindex);
      LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
      LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kFilterHandle, .priority = kFilterPriority);
      if (int r = bpf_tc_detach(&hook, &opts); r < 0 && r != -ENOENT)
        log_->warn("{}: remove the clsact tvf_{} beneath tcx on {}: {}", pair_, dir, ifnameOf(ifindex),
                   std::strerror(-r));
    }
    log_->debug("{}: tvf_{} attached on {} (tcx)", pair_, dir, ifnameOf(ifindex));
    return Status::ok();
  }
  const bool inherited = static_cast<bool>(clsactProgram(ifindex, egress));
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
  int r = bpf_tc_hook_create(&hook);
  bool created = false;
  if (r == 0) {
    created = true;
  } else if (r != -EEXIST) {
    return Status::fail(-r, std::string("create clsact on ") + ifnameOf(ifindex));
  } else if (egress && ingressQdiscKind(ifindex) == "ingress") {
    return Status::fail(EEXIST, "an ingress qdisc sits where clsact goes on " + ifnameOf(ifindex) +
                                    ", and it has no egress hook (tc qdisc del dev " + ifnameOf(ifindex) + " ingress)");
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = progFd, .flags = BPF_TC_F_REPLACE, .handle = kFilterHandle,
              .priority = kFilterPriority);
  r = bpf_tc_attach(&hook, &opts);
  if (r < 0) {
    if (created) {
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
    }
    return Status::fail(-r, std::string("attach tvf_") + dir + " on " + ifnameOf(ifindex));
  }
  if (created) createdClsact_.insert(ifindex);
  if (inherited) inheritedClsact_.insert(ifindex);
  // A tcx program of ours (a previous run on tcx) would hide the filter.
  if (auto st = tcxDetach(ifindex, hookOf(egress), programName(egress)); !st)
    return st;
  log_->debug("{}: tvf_{} attached on {} (clsact{})", pair_, dir, ifnameOf(ifindex), created ? ", created" : "");
  return Status::ok();
}

Status TcRedirect::detach(int ifindex, bool egress, ClsactCleanup cleanup) {
  ScopedLibbpfPrint print;
  const char* dir = egress ? "egress" : "ingress";
  if (auto st = tcxDetach(ifindex, hookOf(egress), programName(egress)); !st) return st;
  const bool created = createdClsact_.erase(ifindex) != 0;
  const bool inherited = inheritedClsact_.erase(ifindex) != 0;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kFilterHandle, .priority = kFilterPriority);
  int r = bpf_tc_detach(&hook, &opts);
  // ENOENT: no such filter; ENODEV/EINVAL: the device (or its clsact) is gone.
  if (r < 0 && r != -ENOENT && r != -ENODEV && r != -EINVAL)
    return Status::fail(-r, std::string("detach tvf_") + dir + " from " + ifnameOf(ifindex));
  const bool ours = created || (cleanup == ClsactCleanup::IfCreatedOrEmpty && inherited);
  const bool remove = cleanup == ClsactCleanup::Remove ||
                      (cleanup != ClsactCleanup::Keep && ours && clsactFilterCount(ifindex) == 0);
  if (remove) {
    hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    r = bpf_tc_hook_destroy(&hook);
    if (r < 0 && r != -ENOENT && r != -ENODEV && r != -EINVAL)
      return Status::fail(-r, "remove clsact from " + ifnameOf(ifindex));
  }
  log_->debug("{}: tvf_{} detached from {}", pair_, dir, ifnameOf(ifindex));
  return Status::ok();
}

Status TcRedirect::attachEgress(int tapIfindex) { return attach(tapIfindex, true); }
Status TcRedirect::attachIngress(int backendIfindex) { return attach(backendIfindex, false); }
Status TcRedirect::detachEgress(int tapIfindex, ClsactCleanup cleanup) { return detach(tapIfindex, true, cleanup); }
Status TcRedirect::detachIngress(int backendIfindex, ClsactCleanup cleanup) {
  return detach(backendIfindex, false, cleanup);
}

Result<bool> TcRedirect::removeEgressProgram(int tapIfindex) {
  ScopedLibbpfPrint print;
  bool found = false;
  if (tcxProgram(tapIfindex, TcHook::Egress, programName(true))) {
    found = true;
    if (auto st = tcxDetach(tapIfindex, TcHook::Egress, programName(true)); !st) return st.error();
  }
  if (clsactProgram(tapIfindex, true)) {
    found = true;
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tapIfindex, .attach_point = BPF_TC_EGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kFilterHandle, .priority = kFilterPriority);
    if (int r = bpf_tc_detach(&hook, &opts); r < 0 && r != -ENOENT)
      return Error{-r, "remove the previous run's tvf_egress from " + ifnameOf(tapIfindex)};
  }
  return found;
}

bool TcRedirect::attachedOn(int ifindex, TcHook hook) { return attachedProgram(ifindex, hook).id != 0; }

TcRedirect::Attached TcRedirect::attachedProgram(int ifindex, TcHook hook) {
  ScopedLibbpfPrint print;
  Attached out;
  if (UniqueFd fd = ourProgram(ifindex, hook == TcHook::Egress, &out.point)) out.id = progId(fd.get());
  return out;
}

Result<SlotCounters> TcRedirect::readCounters(RedirectSlot slot) const {
  const auto s = static_cast<std::uint32_t>(slot);
  if (s >= TVF_STAT_SLOTS) return Error{EINVAL, "read counters of slot " + std::to_string(s)};
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Error{-cpus, "count possible cpus"};
  std::vector<tvf_stats> percpu(static_cast<std::size_t>(cpus));  // 32 bytes: already 8-aligned
  SlotCounters out;
  for (std::uint32_t dir : {TVF_DIR_TX, TVF_DIR_RX}) {
    std::uint32_t key = TVF_STATS_KEY(s, dir);
    if (bpf_map_lookup_elem(statsFd_, &key, percpu.data()) < 0)
      return Error{errno, "read counters of " + pair_};
    RedirectCounters& c = dir == TVF_DIR_TX ? out.tx : out.rx;
    for (const auto& v : percpu) {
      c.packets += v.packets;
      c.bytes += v.bytes;
      c.drops += v.drops;
      c.fallbacks += v.fallbacks;
    }
  }
  return out;
}

}  // namespace tvf
