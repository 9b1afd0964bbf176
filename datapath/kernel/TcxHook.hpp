// A device's tcx hooks (kernel 6.6+): tc programs attached to the device
// itself, run by sch_handle_ingress()/sch_handle_egress() before any clsact
// qdisc, without the classifier layer around them (no tcf_classify, no
// qdisc statistics per frame).
//
// The programs are attached with BPF_PROG_ATTACH (not a bpf_link): such an
// attachment belongs to the device, not to an fd, so it outlives the
// daemon (kill -9) exactly as a cls_bpf filter does, and nothing has to be
// pinned. A program is found again by its name (bpf_prog_info.name) among
// the hook's programs (BPF_PROG_QUERY); attaching where a program of the
// same name sits replaces it in place (BPF_F_REPLACE: no frame meets an
// empty hook); a new one goes first in the hook's list (BPF_F_BEFORE).
//
// Debian 12's libbpf (1.1) predates tcx: these calls pass the attach types
// by their UAPI values through its generic bpf_prog_attach_opts() and
// bpf_prog_query(). On a kernel without tcx every query finds nothing and
// tcxSupported() is false.
//
// Namespaces: ifindexes are the calling thread's network namespace's.
// Thread: any; no state but tcxSupported()'s cached probe.
#pragma once

#include <string>
#include <vector>

#include "base/UniqueFd.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// One of a device's two tc hooks.
enum class TcHook { Ingress, Egress };

// Where a tc program runs on a device's hook.
//   Tcx     the tcx hook (kernel 6.6+, BPF_TCX_INGRESS/EGRESS): the device's
//           hook runs the program directly.
//   Clsact  cls_bpf (direct-action) on a clsact qdisc: the classifier layer
//           (tcf_classify, the qdisc's per-CPU statistics) runs around it.
enum class TcAttachPoint { Clsact, Tcx };

// Whether this kernel has tcx hooks (probed once: BPF_PROG_QUERY of lo's
// tcx ingress, EINVAL before 6.6).
bool tcxSupported();

// The ids of the programs on `ifindex`'s tcx `hook`, in run order; empty
// for a missing device, a kernel without tcx, or an empty hook.
std::vector<std::uint32_t> tcxPrograms(int ifindex, TcHook hook);

// The first program on the hook whose name starts with `name`; an invalid
// fd when there is none.
UniqueFd tcxProgram(int ifindex, TcHook hook, const std::string& name);

// Attach `progFd` on the hook: in place of the program whose name starts
// with `name` when one is there, first in the list otherwise; already
// attached is success. Errors: ENODEV (no such device), EINVAL (no tcx on
// this kernel, or not a SCHED_CLS program), EPERM.
Status tcxAttach(int ifindex, TcHook hook, int progFd, const std::string& name);

// Detach every program on the hook whose name starts with `name`. A
// missing device, hook or program is success. Errors: EPERM.
Status tcxDetach(int ifindex, TcHook hook, const std::string& name);

// The filters on both hooks of `ifindex`'s clsact qdisc (anyone's: an
// operator's, tvf's), by an RTM_GETTFILTER dump per hook (libnl-route's
// classifier cache). -1 when a dump fails: no clsact, no device, or no
// netlink socket. Before removing a clsact tvf created: one still holding
// a filter is someone else's now too.
int clsactFilterCount(int ifindex);

}  // namespace tvf
