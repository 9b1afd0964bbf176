#!/usr/bin/env python3
"""What the kernel datapath's mechanism costs by itself: the least possible tc
programs (bench/tools/tc_ceiling.bpf.c, no map, no counter) on the hooks the
kernel datapath uses, against the kernel-only path, in one run, interleaved.
It bounds what any program there can reach: bench/datapath.py measures tvf's
own programs, and this says how far below the kernel-only path the hook and
the redirect alone already are.

One host namespace with a bridge (198.18.9.1) and two guests on it:
  kernel-only  a plain veth into the bridge (198.18.9.3)
  test guest   a veth "vf0" into the bridge and a TAP "tvf0" with vf0's MAC
               (198.18.9.2 on one of them), nothing else: no tvfd
Variants of the test guest, each measured next to the kernel-only path:
  none      the address on vf0, no program: the test guest's own baseline
  pass      the address on vf0, tvf_bench_pass on vf0's tcx hook of that
            direction: the cost of a hook that runs a program
  redirect  the address on tvf0; host->guest: tvf_bench_rx on vf0's tcx
            ingress, bpf_redirect(tvf0, BPF_F_INGRESS); guest->host:
            tvf_bench_tx on tvf0's tcx egress, bpf_redirect(vf0, 0). This
            is the kernel datapath's path with the least program possible.
Measure: 60-byte UDP datagrams received per second, from tvf-udpflood
(sendmmsg, 64 per call; on veth the sender's CPU runs the path up to the
receiver's socket, so the figure is the path's cost per packet), each way.

  bench/tc_ceiling.py [ROUNDS] [SECONDS]   (default 6 rounds of 3 s: about 4 minutes)

Prints, per direction and variant, the medians over the rounds, their ratio,
and the ratios paired per round (median [min-max]). Needs root and tcx
(kernel 6.6+); makes its own namespaces and removes them, also on failure.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from benchlib import BUILD, load
from benchlib import sh as _sh

FLOOD = os.path.join(BUILD, "tvf-udpflood")
HOLD = os.path.join(BUILD, "tvf-tc-ceiling")
TAG = "tvfceil%d" % os.getpid()
H, A, B = TAG + "h", TAG + "a", TAG + "b"
HOST_IP, KERNEL_IP, TEST_IP = "198.18.9.1", "198.18.9.3", "198.18.9.2"
MAC_A, MAC_B = "02:00:c6:12:09:03", "02:00:c6:12:09:02"
VARIANTS = ("none", "pass", "redirect")
BYTES = 60


def sh(cmd):
    return _sh(cmd, check=True).stdout


class Ceiling:
    def __init__(self, secs):
        self.secs = secs
        self.made = []
        self.holder = None

    def setup(self):
        for ns in (H, A, B):
            sh("ip netns add %s && ip -n %s link set lo up" % (ns, ns))
            self.made.append(ns)
        sh("ip -n {h} link add br0 type bridge && ip -n {h} addr add {ip}/24 dev br0 && ip -n {h} link set br0 up"
           .format(h=H, ip=HOST_IP))
        sh("ip -n {a} link add kv0 address {mac} type veth peer name ha netns {h} && "
           "ip -n {h} link set ha master br0 up && ip -n {a} addr add {ip}/24 dev kv0 && ip -n {a} link set kv0 up"
           .format(a=A, h=H, mac=MAC_A, ip=KERNEL_IP))
        sh("ip -n {b} link add vf0 address {mac} type veth peer name hb netns {h} && "
           "ip -n {h} link set hb master br0 up && ip -n {b} link set vf0 up && "
           "ip -n {b} tuntap add dev tvf0 mode tap && ip -n {b} link set tvf0 address {mac} up"
           .format(b=B, h=H, mac=MAC_B))
        # Static neighbours and bridge entries: no ARP, no flooding, whichever
        # device of the test guest holds the address.
        self.bridge_mac = json.loads(sh("ip -n %s -j link show br0" % H))[0]["address"]
        for ip, mac, port in ((KERNEL_IP, MAC_A, "ha"), (TEST_IP, MAC_B, "hb")):
            sh("ip -n {h} neigh replace {ip} lladdr {mac} dev br0 nud permanent && "
               "ip netns exec {h} bridge fdb replace {mac} dev {port} master static".format(h=H, ip=ip, mac=mac, port=port))
        sh("ip -n %s neigh replace %s lladdr %s dev kv0 nud permanent" % (A, HOST_IP, self.bridge_mac))

    def variant(self, name, reverse):
        """Puts the test guest in `name` for host->guest (reverse) or guest->host."""
        if self.holder:
            self.holder.stdin.close()
            self.holder.wait(timeout=10)
            self.holder = None
        dev = "tvf0" if name == "redirect" else "vf0"
        sh("ip -n {b} addr flush dev vf0 && ip -n {b} addr flush dev tvf0 && ip -n {b} addr add {ip}/24 dev {d} && "
           "ip -n {b} neigh replace {hip} lladdr {mac} dev {d} nud permanent"
           .format(b=B, ip=TEST_IP, d=dev, hip=HOST_IP, mac=self.bridge_mac))
        if name == "none":
            return
        if name == "pass":
            args = ["pass", "vf0", "ingress" if reverse else "egress"]
        else:
            args = ["redirect-ingress", "vf0", "tvf0"] if reverse else ["redirect-egress", "tvf0", "vf0"]
        self.holder = subprocess.Popen(["ip", "netns", "exec", B, HOLD] + args, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
        if self.holder.stdout.readline().strip() != "attached":
            raise RuntimeError("tvf-tc-ceiling %s did not attach" % " ".join(args))

    def pps(self, guest, reverse):
        """Datagrams/s received: host -> guest (reverse) or guest -> host."""
        gip = KERNEL_IP if guest == A else TEST_IP
        sender, receiver, dst = (H, guest, gip) if reverse else (guest, H, HOST_IP)
        recv = subprocess.Popen(["ip", "netns", "exec", receiver, FLOOD, "recv", dst, "7000", str(self.secs + 1.5),
                                 str(4 << 20)], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # the receiver binds before the first datagram
        subprocess.run(["ip", "netns", "exec", sender, FLOOD, "send", dst, "7000", str(BYTES), str(self.secs)],
                       check=True, capture_output=True)
        return json.loads(recv.communicate()[0])["pps"] / 1000

    def cleanup(self):
        if self.holder:
            self.holder.kill()
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for exe in (FLOOD, HOLD):
        if not os.access(exe, os.X_OK):
            sys.exit("%s missing: build first (scripts/setup.sh or cmake --build build)" % exe)
    c = Ceiling(secs)
    res = {}  # (reverse, variant) -> [(kernel-only, test guest)]
    start, t0 = load(), time.monotonic()
    try:
        c.setup()
        for r in range(rounds):
            order = VARIANTS[r % 3:] + VARIANTS[:r % 3]
            for reverse in (False, True):
                for v in order:
                    c.variant(v, reverse)
                    if r % 2 == 0:
                        k = c.pps(A, reverse)
                        t = c.pps(B, reverse)
                    else:
                        t = c.pps(B, reverse)
                        k = c.pps(A, reverse)
                    res.setdefault((reverse, v), []).append((k, t))
            print("round %d/%d done (%.0f s, load %s)" % (r + 1, rounds, time.monotonic() - t0, load()), flush=True)
    finally:
        c.cleanup()
    print("\nbench/tc_ceiling.py: %d interleaved rounds of %d s; 60-byte UDP, kpps received; load at start %s, "
          "at end %s; %d vCPUs" % (rounds, secs, start, load(), os.cpu_count()))
    print("%-13s %-9s %-20s %-20s %-6s %s" % ("direction", "variant", "kernel-only", "test guest", "ratio",
                                             "paired per round"))
    for reverse in (False, True):
        for v in VARIANTS:
            pairs = res[(reverse, v)]
            ks, ts = [p[0] for p in pairs], [p[1] for p in pairs]
            paired = [t / k for k, t in pairs if k]
            print("%-13s %-9s %-20s %-20s %-6s %.3f [%.2f-%.2f]" % (
                "host->guest" if reverse else "guest->host", v,
                "%.0f [%.0f-%.0f]" % (statistics.median(ks), min(ks), max(ks)),
                "%.0f [%.0f-%.0f]" % (statistics.median(ts), min(ts), max(ts)),
                "%.3f" % (statistics.median(ts) / statistics.median(ks)),
                statistics.median(paired), min(paired), max(paired)))


if __name__ == "__main__":
    sys.exit(main())
