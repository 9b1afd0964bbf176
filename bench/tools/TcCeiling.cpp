// Puts one of the least possible tc programs (tc_ceiling.bpf.c) on a
// device's tcx hook and holds it there, for bench/tc_ceiling.py.
//
//   tvf-tc-ceiling pass DEV ingress|egress
//   tvf-tc-ceiling redirect-ingress DEV TARGET   (DEV's ingress -> TARGET's stack)
//   tvf-tc-ceiling redirect-egress DEV TARGET    (DEV's egress -> out of TARGET)
//
// Attaches with TcxHook (BPF_PROG_ATTACH, first on the hook), prints
// "attached" on stdout, and detaches when stdin closes or on SIGTERM/SIGINT.
// Devices are the calling namespace's. One holder per hook: a second one
// on the same hook replaces the first's program (by name), and the first
// to exit removes it. Exit status: 0, 1 on a load or
// attach error (the errno said on stderr), 2 on bad usage.
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/tc_ceiling_bpf.h"
#include "datapath/kernel/TcxHook.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: tvf-tc-ceiling pass DEV ingress|egress | redirect-ingress DEV TARGET | "
               "redirect-egress DEV TARGET\n");
  return 2;
}

// Until stdin closes (EOF or an error on it) or SIGTERM/SIGINT arrives:
// both are events on one poll(), the signals through a signalfd.
void hold() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (::fcntl(STDIN_FILENO, F_GETFD) < 0) return;  // started with stdin closed: nothing to wait for
  // Without a signalfd the signals keep their default action (the program
  // stays attached; tvf_test_tcx or a device's deletion removes it).
  const int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd >= 0) sigprocmask(SIG_BLOCK, &set, nullptr);
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {sfd, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, sfd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;  // a signal: no need to read it, we leave
    if (fds[0].revents) {
      char c;
      if (::read(STDIN_FILENO, &c, 1) <= 0) break;
    }
  }
  if (sfd >= 0) ::close(sfd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage();
  const std::string mode = argv[1];
  if (mode != "pass" && mode != "redirect-ingress" && mode != "redirect-egress") return usage();
  const int dev = static_cast<int>(::if_nametoindex(argv[2]));
  if (dev == 0) {
    std::fprintf(stderr, "tvf-tc-ceiling: no device %s\n", argv[2]);
    return 1;
  }
  const char* prog = nullptr;
  tvf::TcHook hook = tvf::TcHook::Ingress;
  __u32 target = 0;
  if (mode == "pass") {
    prog = "tvf_bench_pass";
    if (std::strcmp(argv[3], "egress") == 0) {
      hook = tvf::TcHook::Egress;
    } else if (std::strcmp(argv[3], "ingress") != 0) {
      return usage();
    }
  } else if (mode == "redirect-ingress" || mode == "redirect-egress") {
    prog = mode == "redirect-ingress" ? "tvf_bench_rx" : "tvf_bench_tx";
    hook = mode == "redirect-ingress" ? tvf::TcHook::Ingress : tvf::TcHook::Egress;
    target = ::if_nametoindex(argv[3]);
    if (target == 0) {
      std::fprintf(stderr, "tvf-tc-ceiling: no device %s\n", argv[3]);
      return 1;
    }
  } else {
    return usage();
  }

  bpf_object* obj = bpf_object__open_mem(tc_ceiling_bpf_o, tc_ceiling_bpf_o_len, nullptr);
  if (!obj) {
    std::fprintf(stderr, "tvf-tc-ceiling: open the BPF object: %s\n", std::strerror(errno));
    return 1;
  }
  bpf_map* rodata = bpf_object__find_map_by_name(obj, ".rodata");
  if (!rodata || bpf_map__set_initial_value(rodata, &target, sizeof target) != 0) {
    std::fprintf(stderr, "tvf-tc-ceiling: set the target in .rodata\n");
    return 1;
  }
  if (int r = bpf_object__load(obj); r != 0) {
    std::fprintf(stderr, "tvf-tc-ceiling: load: %s\n", std::strerror(-r));
    return 1;
  }
  const int fd = bpf_program__fd(bpf_object__find_program_by_name(obj, prog));
  if (auto st = tvf::tcxAttach(dev, hook, fd, prog); !st) {
    std::fprintf(stderr, "tvf-tc-ceiling: %s\n", st.error().describe().c_str());
    return 1;
  }
  std::printf("attached\n");
  std::fflush(stdout);
  hold();
  const auto st = tvf::tcxDetach(dev, hook, prog);
  bpf_object__close(obj);
  return st ? 0 : 1;
}
