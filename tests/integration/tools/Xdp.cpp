// Test tool: attaches a two-instruction XDP program (XDP_PASS or XDP_DROP)
// to IFNAME in native (driver) mode, or detaches what is there.
//  - pass: on a veth this caps the PEER's max_mtu (the kernel's
//    veth_xdp_set), which is how the integration tests make a VF refuse an
//    MTU.
//  - drop: every frame arriving on IFNAME is dropped before the stack or a
//    bridge sees it: a switch port that does not forward yet, and stays so
//    across carrier changes (a bridge port's own state would not).
//   tvf_test_xdp IFNAME pass|drop|off
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[2] : "";
  if (mode != "pass" && mode != "drop" && mode != "off") {
    std::fprintf(stderr, "usage: %s IFNAME pass|drop|off\n", argv[0]);
    return 2;
  }
  const int ifindex = static_cast<int>(if_nametoindex(argv[1]));
  if (ifindex == 0) {
    std::fprintf(stderr, "no such interface %s\n", argv[1]);
    return 1;
  }
  if (mode == "off") {
    const int rc = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr);
    if (rc < 0) {
      std::fprintf(stderr, "detach from %s: %s\n", argv[1], std::strerror(-rc));
      return 1;
    }
    return 0;
  }
  bpf_insn prog[2] = {};
  prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  prog[0].dst_reg = BPF_REG_0;
  prog[0].imm = mode == "pass" ? XDP_PASS : XDP_DROP;
  prog[1].code = BPF_JMP | BPF_EXIT;
  int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "tvf_xdp_test", "GPL", prog, 2, nullptr);
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
