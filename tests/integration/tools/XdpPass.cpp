// Test tool: attaches a two-instruction XDP_PASS program to IFNAME in
// native (driver) mode. On a veth this caps the PEER's max_mtu (the kernel's
// veth_xdp_set), which is how the integration tests make a VF refuse an MTU.
//   tvf_test_xdp_pass IFNAME
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s IFNAME\n", argv[0]);
    return 2;
  }
  const int ifindex = static_cast<int>(if_nametoindex(argv[1]));
  if (ifindex == 0) {
    std::fprintf(stderr, "no such interface %s\n", argv[1]);
    return 1;
  }
  bpf_insn prog[2] = {};
  prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  prog[0].dst_reg = BPF_REG_0;
  prog[0].imm = XDP_PASS;
  prog[1].code = BPF_JMP | BPF_EXIT;
  int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "tvf_xdp_pass", "GPL", prog, 2, nullptr);
  if (fd < 0) {
    std::fprintf(stderr, "load: %s\n", std::strerror(-fd));
    return 1;
  }
  int rc = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, nullptr);
  if (rc < 0) {
    std::fprintf(stderr, "attach to %s: %s\n", argv[1], std::strerror(-rc));
    return 1;
  }
  return 0;
}
