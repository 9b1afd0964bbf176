// The kernel datapath's programs for one pair: tc programs that redirect
// tvf0's egress to the active backend and every claimed backend's ingress
// to tvf0 (BPF_F_INGRESS), loaded once per pair from the object embedded at
// build time (tvf_redirect.bpf.c).
//
// What runs in the kernel (tvf_redirect.bpf.c, maps in TcRedirectAbi.h):
//   tvf_cfg   ARRAY  mode, active slot, tvf0 ifindex, mirror flag
//   tvf_ports DEVMAP slot 0 = VF, slot 1 = synthetic; the kernel clears an
//             entry when its netdev unregisters, so egress falls back to
//             the other slot before the daemon hears of the removal
//   tvf_stats PERCPU_ARRAY per slot (VF, synthetic, other) and direction:
//             packets, bytes, drops, fallbacks
// Mode User: egress passes (to the TAP fd), ingress drops (the claim's
// drop; the packet taps saw the frame first). Mode Kernel: both redirect.
//
// Where they attach:
//   tvf_egress on tvf0: at attachPoint(), chosen at load() (tc_hook):
//     Tcx     tvf0's tcx egress hook (kernel 6.6+; TcxHook.hpp), which runs
//             the program directly; a program of ours already there is
//             replaced in place, a new one goes first.
//     Clsact  a cls_bpf direct-action filter on tvf0's clsact qdisc at
//             handle 0x7476, priority 1, attached with BPF_TC_F_REPLACE.
//   tvf_ingress on a backend: always a cls_bpf filter on its clsact qdisc,
//     where the claim's drop program sits (same handle and priority,
//     src/BackendClaim.cpp), so the redirect takes the drop's place in one
//     step and back. Not on tcx, for two reasons found by trying it: a
//     device's tcx hooks are torn down at unregister with a full RCU grace
//     period (tcx_uninstall -> synchronize_rcu) before NETDEV_UNREGISTER
//     clears the DEVMAP entry, so a VF removed by surprise kept receiving
//     redirected TX for 10-15 ms more (20-26 datagrams lost at 2,000/s,
//     against 0-2 on clsact); and a tcx attachment follows the device into
//     another network namespace (a clsact qdisc is destroyed by the move),
//     where the redirect to tvf0 finds no tvf0 and drops everything.
// Attaching on one kind removes our program from the other afterwards (a
// restart that changed tc_hook, or a new build): no frame meets an empty
// hook. Measured on the 2-vCPU development VM (60-byte UDP, same run,
// paired rounds, programs on tcx on both sides before the ingress went back
// to clsact): tcx 0.97 / 0.95 of the kernel-only path's packet rate
// (guest->host / host->guest), clsact 0.94 / 0.91; the guest->host gain
// is tvf0's egress.
//
// Lifetime and adoption after a crash (kill -9):
//   The hooks hold the programs (a tcx attachment made with BPF_PROG_ATTACH
//   belongs to the device, as a tc filter does; no bpf_link, nothing
//   pinned), the programs hold the maps, so after the daemon dies the
//   datapath keeps forwarding with the last map values, and a VF
//   unregistered meanwhile still falls back (the DEVMAP entry is cleared by
//   the kernel). The attached program itself is the record. A restarted
//   daemon calls load() with the ifindexes where the previous run attached
//   (tvf0 first, then the claimed backends, e.g. from the claim records);
//   load() looks at each one's egress and ingress hooks (tcx, then clsact at
//   our handle/priority), and when it finds a program named tvf_egress or
//   tvf_ingress it takes that program's maps by id
//   (bpf_prog_get_fd_by_id -> map ids -> bpf_map_get_fd_by_id) and loads the
//   new programs on top of THOSE maps (bpf_map__reuse_fd). The configuration
//   the old run left (config()), the DEVMAP and the counters carry over; the
//   counters never go backwards. attachEgress()/attachIngress() then replace
//   the old programs atomically: no frame meets a missing program. Each map
//   is reused only when its type, key size, value size and entry count
//   match this build's; one that does not (a new build changed the layout)
//   is made afresh and a warning logged: then that map's contents restart
//   (for tvf_stats: the counters restart at zero, and the caller's
//   accumulator must fold the old figures it reported). Either way the
//   caller writes the whole configuration (setTap, setBackend, setActive,
//   setMode, setMirror) before attaching; on reused maps these writes are
//   no-ops. Pinning in bpffs was not chosen: bpffs is not mounted on every
//   host (it is not on the development VM), and a pin outlives a clean exit
//   unless removed, a second record to keep right.
//
// Namespaces: ifindexes are the calling thread's network namespace's (the
// DEVMAP resolves them when written, tc resolves them when attaching): call
// from the namespace tvf0 lives in, as tvfd runs.
//
// The destructor detaches nothing: the programs stay and keep forwarding,
// as after a crash. A clean exit calls detachEgress()/detachIngress(); the
// claim's release (BackendClaimer) removes whatever program of ours sits on
// a backend's hooks too. Mind the other direction: a claim (re-)attaching
// its drop program on clsact replaces a clsact tvf_ingress, so in kernel
// mode the claim must not re-attach its drop over an adopted backend (one
// owner of the hook).
//
// Thread: the control thread (the owner of the pair); no internal locking.
// The kernel runs the programs on any CPU concurrently with these calls;
// every map write is one atomic word or entry update.
// Counters: the per-slot tvf_stats above (readCounters()).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "datapath/kernel/TcxHook.hpp"
#include "tvf/Config.hpp"
#include "tvf/Result.hpp"

struct bpf_object;

namespace spdlog {
class logger;
}

namespace tvf {

enum class RedirectMode : std::uint32_t { User = 0, Kernel = 1 };

// A slot of the DEVMAP. Other is a stats-only slot: ingress on an attached
// backend that is in neither slot (cleared while its program is attached).
enum class RedirectSlot : std::uint32_t { Vf = 0, Synthetic = 1, Other = 2 };

// What the programs do now, as read back from tvf_cfg (after adoption: what
// the previous run left).
struct RedirectConfig {
  RedirectMode mode = RedirectMode::User;
  RedirectSlot active = RedirectSlot::Synthetic;
  int tapIfindex = 0;  // 0: none set
  bool mirror = false;
};

// One direction of one slot, summed over CPUs; monotonic.
struct RedirectCounters {
  std::uint64_t packets = 0;  // frames redirected
  std::uint64_t bytes = 0;    // their lengths from the Ethernet header on (a GSO frame counts once)
  std::uint64_t drops = 0;    // dropped by the program (nowhere to send it)
  std::uint64_t fallbacks = 0;  // TX only: meant for this slot, sent to the other (entry gone)
};

struct SlotCounters {
  RedirectCounters tx;  // tvf0 -> backend (egress program)
  RedirectCounters rx;  // backend -> tvf0 (ingress program)
};

// What detach*() does with the clsact qdisc after removing our filter.
enum class ClsactCleanup {
  // Delete it when attach*() of this object created it and no filter at
  // all is left on it, ingress or egress (an operator's filter added
  // meanwhile keeps it, and with it that filter).
  IfCreated,
  // ...or also when it held an earlier run's filter of ours when this
  // object attached (that run was killed: the qdisc is its) and no filter
  // is left on it now. A clsact that was there without a filter of ours,
  // that holds anyone's filter, or that cannot be listed, stays.
  IfCreatedOrEmpty,
  Keep,       // leave it (someone else's filters may sit on it)
  Remove,     // delete it, and with it every filter on the device's clsact
};

class TcRedirect {
 public:
  // Our filter's identity on the clsact hooks: the claim's drop program's.
  static constexpr std::uint32_t kFilterHandle = 0x7476;  // "tv"
  static constexpr std::uint32_t kFilterPriority = 1;

  // Loads the embedded object for the pair `pair` (used in logs only).
  // `adoptFrom`: ifindexes where a previous run may have left the programs
  // attached (tvf0 first, then backends); the first program of ours found
  // there gives the maps to reuse (see the header comment). Missing devices
  // and hooks are skipped. `hook`: where attach*() will attach (Auto: tcx
  // where the kernel has it). Errors: EOPNOTSUPP (Tcx asked for on a kernel
  // without tcx), EPERM (no CAP_BPF/CAP_SYS_ADMIN), EINVAL (the verifier
  // refused; libbpf's log is at debug level), ENOMEM, or what libbpf returned.
  static Result<std::unique_ptr<TcRedirect>> load(const std::string& pair, const std::vector<int>& adoptFrom = {},
                                                  TcHookChoice hook = TcHookChoice::Auto);
  ~TcRedirect();
  TcRedirect(const TcRedirect&) = delete;
  TcRedirect& operator=(const TcRedirect&) = delete;

  // True when load() reused the maps of programs a previous run left.
  bool adopted() const noexcept { return adopted_; }
  // Where attachEgress() attaches, and why ("tc_hook: clsact", "auto: ...").
  TcAttachPoint attachPoint() const noexcept { return point_; }
  const std::string& attachPointReason() const noexcept { return pointReason_; }
  // The loaded tvf_ingress program (owned by this object), for the owner of
  // a backend's ingress hook (IngressHooks) to attach in its claim's slot.
  int ingressProgramFd() const noexcept { return ingressFd_; }

  // Map writes; each takes effect for the next frame. EINVAL for a slot
  // outside Vf/Synthetic or a non-positive ifindex; errno from the kernel
  // otherwise (setBackend: ENXIO when the ifindex does not exist: the
  // DEVMAP resolves it at update time and says EINVAL).
  Status setTap(int tapIfindex);
  Status setBackend(RedirectSlot slot, int ifindex);
  Status clearBackend(RedirectSlot slot);  // ok when already clear
  Status setActive(RedirectSlot slot);
  Status setMode(RedirectMode mode);
  Status setMirror(bool on);

  // tvf_cfg as the programs see it now. Errors: errno of the map lookup.
  Result<RedirectConfig> config() const;
  // The ifindex in `slot`'s DEVMAP entry, 0 when the entry is empty (never
  // set, cleared, or its netdev unregistered).
  Result<int> backend(RedirectSlot slot) const;

  // Attach tvf_egress on the egress hook of `tapIfindex` (at attachPoint())
  // / tvf_ingress on the clsact ingress of `backendIfindex`: on tcx in place
  // of a program of ours, or first; on clsact (creating the qdisc when
  // missing) in place of whatever filter has our handle/priority (the
  // claim's drop program, or a previous run's program), in one step. Then
  // our program on the other kind of hook, if any, is removed. Errors:
  // ENODEV (no such device), EPERM, what the kernel returned.
  Status attachEgress(int tapIfindex);
  Status attachIngress(int backendIfindex);
  // Remove our program from both kinds of hook; then the clsact qdisc per
  // `cleanup`. A device or program already gone is success.
  Status detachEgress(int tapIfindex, ClsactCleanup cleanup = ClsactCleanup::IfCreated);
  Status detachIngress(int backendIfindex, ClsactCleanup cleanup = ClsactCleanup::IfCreated);

  // Whether a program of ours (tvf_egress on Egress, tvf_ingress on
  // Ingress, from this or any earlier run) sits on that hook of `ifindex`,
  // on tcx or at our handle/priority on clsact. False also for a missing
  // device or hook, and for the claim's tvf_drop.
  static bool attachedOn(int ifindex, TcHook hook);
  // Removes a tvf_egress that a previous run left on `tapIfindex` (tcx, or
  // our filter on clsact; the qdisc stays): what a run that does not use
  // the kernel datapath calls before its workers read the TAP, or the old
  // program would go on taking tvf0's egress. Returns whether one was
  // there. Errors: EPERM, what the kernel returned.
  static Result<bool> removeEgressProgram(int tapIfindex);
  // That program's id and where it sits (tcx first); id 0 when there is none.
  struct Attached {
    std::uint32_t id = 0;
    TcAttachPoint point = TcAttachPoint::Clsact;
  };
  static Attached attachedProgram(int ifindex, TcHook hook);

  // One slot's counters summed over the possible CPUs. EINVAL for a slot
  // outside Vf/Synthetic/Other; errno of the map lookup.
  Result<SlotCounters> readCounters(RedirectSlot slot) const;

 private:
  TcRedirect(std::string pair, bpf_object* obj);
  Status attach(int ifindex, bool egress);
  Status detach(int ifindex, bool egress, ClsactCleanup cleanup);
  Status writeCfg(std::uint32_t word, std::uint32_t value, const char* what);

  std::string pair_;
  bpf_object* obj_;  // owns the programs and map fds; closed in the destructor
  int cfgFd_ = -1;   // map fds owned by obj_
  int portsFd_ = -1;
  int statsFd_ = -1;
  int egressFd_ = -1;  // program fds owned by obj_
  int ingressFd_ = -1;
  bool adopted_ = false;
  TcAttachPoint point_ = TcAttachPoint::Clsact;
  std::string pointReason_;
  // Devices whose clsact qdisc attach*() of this object created.
  std::set<int> createdClsact_;
  // Devices whose clsact held a filter of an earlier run's when attach*()
  // of this object ran (for ClsactCleanup::IfCreatedOrEmpty).
  std::set<int> inheritedClsact_;
  std::shared_ptr<spdlog::logger> log_;
};

using TcRedirectPtr = std::unique_ptr<TcRedirect>;

}  // namespace tvf
