// Test tool: lists the programs on a device's tcx hook, one name per line
// in run order, as BPF_PROG_QUERY and BPF_OBJ_GET_INFO_BY_FD report them
// (tc(8) shows clsact filters only). Exit 0, also for an empty hook;
// 1 when the device does not exist or the kernel has no tcx.
//   tvf_test_tcx IFNAME ingress|egress
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[2], "ingress") != 0 && std::strcmp(argv[2], "egress") != 0)) {
    std::fprintf(stderr, "usage: tvf_test_tcx IFNAME ingress|egress\n");
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
    } else {
      std::printf("%s\n", info.name);
    }
    if (fd >= 0) close(fd);
  }
  return 0;
}
