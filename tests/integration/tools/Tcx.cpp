// Test tool: lists the programs on a device's tcx hook, one name per line
// in run order, as BPF_PROG_QUERY and BPF_OBJ_GET_INFO_BY_FD report them
// (tc(8) shows clsact filters only). Exit 0, also for an empty hook;
// 1 when the device does not exist or the kernel has no tcx.
// With --detach NAME it detaches the program of that name instead (what
// `bpftool net detach` would do behind tvfd's back); exit 1 when none is.
//   tvf_test_tcx IFNAME ingress|egress [--detach NAME]
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  const bool detach = argc == 5 && std::strcmp(argv[3], "--detach") == 0;
  if ((argc != 3 && !detach) || (std::strcmp(argv[2], "ingress") != 0 && std::strcmp(argv[2], "egress") != 0)) {
    std::fprintf(stderr, "usage: tvf_test_tcx IFNAME ingress|egress [--detach NAME]\n");
    return 2;
  }
  const unsigned ifindex = if_nametoindex(argv[1]);
  if (ifindex == 0) {
    std::fprintf(stderr, "%s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  // BPF_TCX_INGRESS / BPF_TCX_EGRESS (Linux 6.6 UAPI; not in Debian 12's headers).
  const auto type = static_cast<bpf_attach_type>(std::strcmp(argv[2], "ingress") == 0 ? 46 : 47);
  __u32 ids[64] = {};
  __u32 count = 64, flags = 0;
  if (bpf_prog_query(static_cast<int>(ifindex), type, 0, &flags, ids, &count) < 0) {
    std::fprintf(stderr, "query tcx %s of %s: %s\n", argv[2], argv[1], std::strerror(errno));
    return 1;
  }
  for (__u32 i = 0; i < count && i < 64; ++i) {
    const int fd = bpf_prog_get_fd_by_id(ids[i]);
    bpf_prog_info info = {};
    __u32 len = sizeof info;
    if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
      std::printf("id %u\n", ids[i]);
    } else if (detach && std::strcmp(info.name, argv[4]) == 0) {
      // BPF_PROG_DETACH: target_ifindex shares target_fd's place.
      const int r = bpf_prog_detach2(fd, static_cast<int>(ifindex), type);
      close(fd);
      if (r < 0) std::fprintf(stderr, "detach %s: %s\n", argv[4], std::strerror(errno));
      return r < 0 ? 1 : 0;
    } else if (!detach) {
      std::printf("%s\n", info.name);
    }
    if (fd >= 0) close(fd);
  }
  if (detach) std::fprintf(stderr, "no %s on the tcx %s hook of %s\n", argv[4], argv[2], argv[1]);
  return detach ? 1 : 0;
}
