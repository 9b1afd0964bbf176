#include "datapath/kernel/TcxHook.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/classifier.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace tvf {
namespace {

// UAPI values from Linux 6.6's include/uapi/linux/bpf.h (enum bpf_attach_type
// and the attach flags), which Debian 12's linux-libc-dev (6.1) lacks.
constexpr unsigned kTcxIngress = 46;  // BPF_TCX_INGRESS
constexpr unsigned kTcxEgress = 47;   // BPF_TCX_EGRESS
constexpr unsigned kBpfFBefore = 1U << 3;  // BPF_F_BEFORE

bpf_attach_type typeOf(TcHook hook) {
  return static_cast<bpf_attach_type>(hook == TcHook::Ingress ? kTcxIngress : kTcxEgress);
}

bool nameStartsWith(int progFd, const std::string& prefix) {
  bpf_prog_info info = {};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(progFd, &info, &len) < 0) return false;
  // The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a program's name.
  const std::size_t n = std::min(prefix.size(), sizeof info.name - 1);
  return std::strncmp(info.name, prefix.c_str(), n) == 0;
}

std::uint32_t idOf(int progFd) {
  bpf_prog_info info = {};
  std::uint32_t len = sizeof info;
  return bpf_obj_get_info_by_fd(progFd, &info, &len) < 0 ? 0 : info.id;
}

}  // namespace

bool tcxSupported() {
  static const bool supported = [] {
    std::uint32_t count = 0, flags = 0;
    return bpf_prog_query(1 /* lo, in every namespace */, typeOf(TcHook::Ingress), 0, &flags, nullptr, &count) == 0;
  }();
  return supported;
}

std::vector<std::uint32_t> tcxPrograms(int ifindex, TcHook hook) {
  // libbpf 1.1 declares the query's attr by its own (pre-tcx) layout; the
  // kernel's tcx query also writes the hook's revision after it, which
  // lands inside libbpf's union bpf_attr (larger than the query part).
  std::uint32_t ids[64] = {};
  std::uint32_t count = 64, flags = 0;
  if (ifindex <= 0 || bpf_prog_query(ifindex, typeOf(hook), 0, &flags, ids, &count) < 0) return {};
  return {ids, ids + std::min<std::uint32_t>(count, 64)};
}

UniqueFd tcxProgram(int ifindex, TcHook hook, const std::string& name) {
  for (std::uint32_t id : tcxPrograms(ifindex, hook)) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (fd && nameStartsWith(fd.get(), name)) return fd;
  }
  return {};
}

Status tcxAttach(int ifindex, TcHook hook, int progFd, const std::string& name) {
  const char* dir = hook == TcHook::Ingress ? "ingress" : "egress";
  UniqueFd old = tcxProgram(ifindex, hook, name);
  if (old && idOf(old.get()) == idOf(progFd)) return Status::ok();
  LIBBPF_OPTS(bpf_prog_attach_opts, opts);
  if (old) {
    opts.flags = BPF_F_REPLACE;
    opts.replace_prog_fd = old.get();
  } else {
    opts.flags = kBpfFBefore;
  }
  if (bpf_prog_attach_opts(progFd, ifindex, typeOf(hook), &opts) < 0)
    return Status::fail(errno, "attach " + name + " on tcx " + dir + " of ifindex " + std::to_string(ifindex));
  return Status::ok();
}

Status tcxDetach(int ifindex, TcHook hook, const std::string& name) {
  const char* dir = hook == TcHook::Ingress ? "ingress" : "egress";
  for (UniqueFd fd = tcxProgram(ifindex, hook, name); fd; fd = tcxProgram(ifindex, hook, name)) {
    if (bpf_prog_detach2(fd.get(), ifindex, typeOf(hook)) < 0) {
      if (errno == ENODEV || errno == ENOENT) return Status::ok();  // gone meanwhile
      return Status::fail(errno, "detach " + name + " from tcx " + dir + " of ifindex " + std::to_string(ifindex));
    }
  }
  return Status::ok();
}

// Filters on both hooks of `ifindex`'s clsact, by an RTM_GETTFILTER dump
// per hook (libnl-route's classifier cache). -1 when a dump fails: no
// clsact, no device, or no netlink socket.
int clsactFilterCount(int ifindex) {
  std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock(nl_socket_alloc(), nl_socket_free);
  if (!sock || nl_connect(sock.get(), NETLINK_ROUTE) < 0) return -1;
  int count = 0;
  for (const std::uint32_t minor : {TC_H_MIN_INGRESS, TC_H_MIN_EGRESS}) {
    nl_cache* cache = nullptr;
    if (rtnl_cls_alloc_cache(sock.get(), ifindex, TC_H_MAKE(TC_H_CLSACT, minor), &cache) < 0) return -1;
    count += nl_cache_nitems(cache);
    nl_cache_free(cache);
  }
  return count;
}

}  // namespace tvf
