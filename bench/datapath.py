#!/usr/bin/env python3
"""The datapaths side by side: the kernel-only path, tvf `datapath: kernel`
and tvf `datapath: user`, measured in one run and interleaved.

One host namespace (scripts/topology.sh: bridge br0, 198.18.0.1) and three
guests on the same bridge:
  kernel-only  a plain veth into the bridge, 198.18.0.3 (what throughput.sh compares with)
  tvf kernel   tvfd with `datapath: kernel`, tvf0 on a VF veth, 198.18.0.2
  tvf user     tvfd with `datapath: user` (the workers), tvf0 on a VF veth, 198.18.0.4
Both tvfd run with the defaults (worker_priority 1: SCHED_FIFO workers in
user mode; TVF_WORKER_PRIORITY overrides it).

Each run measures, for every path in turn (the order rotates per run):
  - iperf3 TCP x1 and x4 (-P 4), guest -> host and host -> guest, Gbit/s received;
  - 60-byte UDP datagrams (UDP payload; 102-byte frames) per second received,
    each way, from tvf-udpflood (sendmmsg, 64 per call), receiver with recvmmsg;
    and, once per run, what the generator sends alone into a veth whose peer is down
    (its ceiling: on veth the sender's CPU also runs the path up to the receiver's
    socket, so sent = received on a path that does not drop);
  - 100-byte UDP at 25,000 datagrams/s each way at once: datagrams lost per
    direction (sent - received; receiver with the default socket buffer, as
    iperf3's), the receivers' UdpRcvbufErrors, and the drops tvf's status
    counts (rx_dropped + tx_dropped, both paths) meanwhile;
  - RTT: ping -i 0.0005 to the host, the median of every reply;
  - tvfd's VmRSS (/proc/PID/status) after the run.
Then it prints, per figure, the median [min-max] over the runs and the ratio
of the tvf path's median to the kernel-only path's (for RTT the difference),
and the throughput ratios paired per round (each tvf figure over the
kernel-only one measured next to it), whose median drift between rounds
does not move.

  bench/datapath.py [RUNS] [SECONDS]     (default 3 runs of 3 s: about 5 minutes)
  bench/datapath.py 5 5                  (the figures in the report: about 10.5 minutes)
  env: TVF_BENCH_ONLY=tcp,pps,loss,rtt (a subset), TVF_WORKER_PRIORITY (user mode's workers),
       TVF_BENCH_TC_HOOK=auto|tcx|clsact (the kernel datapath's tc_hook),
       TVF_BENCH_REF_BUILD=DIR: a fourth path, "tvf user, reference build": the tvfd
       and tvfctl of another build directory (an older commit's, built as it was)
       on a guest of its own (198.18.0.5) like the user-mode one, with a config of
       only the keys every build knows; its ratios say whether user mode got
       worse than that build on any line, measured in the same run;
       TVF_BENCH_REF_DATAPATH=user adds `datapath: user` to its config (a
       reference build that knows the key, and would pick the kernel datapath)

Needs root; makes its own namespaces and removes them, also on failure.
Timing figures depend on what else runs on the machine: it prints the load.
"""

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from functools import partial

import benchlib
from benchlib import BUILD, TOPO, load, udp_counters

TVFD, TVFCTL = os.path.join(BUILD, "tvfd"), os.path.join(BUILD, "tvfctl")
FLOOD = os.path.join(BUILD, "tvf-udpflood")
HOST_IP = "198.18.0.1"
LOSS_PPS, LOSS_BYTES, PPS_BYTES = 25000, 100, 60
PING_COUNT = 2000
# TVF_BENCH_ONLY=loss,rtt (any of tcp, pps, loss, rtt): only those measures.
ONLY = set(os.environ.get("TVF_BENCH_ONLY", "tcp,pps,loss,rtt").split(","))


# Every command here must succeed unless its call says check=False.
sh = partial(benchlib.sh, check=True)


REF_BUILD = os.environ.get("TVF_BENCH_REF_BUILD")
REF_DATAPATH = os.environ.get("TVF_BENCH_REF_DATAPATH")


class Path:
    def __init__(self, key, label, ns, ip, mode=None, build=BUILD, mac=None):
        self.key, self.label, self.ns, self.ip = key, label, ns, ip
        self.mode = mode  # None: the kernel-only path
        self.tvfd_bin, self.tvfctl_bin = os.path.join(build, "tvfd"), os.path.join(build, "tvfctl")
        self.mac = mac  # the guest's MAC, for the guests this script makes itself
        self.sock = None
        self.tvfd = None


class Bench:
    def __init__(self, secs):
        self.secs = secs
        self.p = "tvfdp%d" % os.getpid()
        self.h = self.p + "-h"
        self.dir = "/tmp/" + self.p
        self.paths = [Path("kernel_only", "kernel-only path", self.p + "-k", "198.18.0.3"),
                      Path("tvf_kernel", "tvf datapath: kernel", self.p + "-g", "198.18.0.2", "kernel"),
                      Path("tvf_user", "tvf datapath: user", self.p + "-u", "198.18.0.4", "user",
                           mac="02:00:c6:12:00:04")]
        if REF_BUILD:
            self.paths.append(Path("tvf_ref", "tvf user, reference build", self.p + "-r", "198.18.0.5", "ref",
                                   build=REF_BUILD, mac="02:00:c6:12:00:05"))
        self.made = []

    # ---- topology -------------------------------------------------------
    def setup(self):
        os.makedirs(self.dir, exist_ok=True)
        self.made.append("topo")
        sh("%s up %s" % (TOPO, self.p))
        k, tk = self.paths[:2]
        own = self.paths[2:]  # the user-mode guests this script makes (topology.sh makes tk's)
        # The kernel-only path: a plain veth in a namespace of its own, same bridge.
        sh("ip netns add %s" % k.ns)
        self.made.append(k.ns)
        sh("ip -n {k} link set lo up && ip -n {k} link add kv0 type veth peer name hk netns {h} && "
           "ip -n {h} link set hk master br0 up && ip -n {k} addr add {ip}/24 dev kv0 && ip -n {k} link set kv0 up"
           .format(k=k.ns, h=self.h, ip=k.ip))
        # What the generator does alone: into a veth whose peer is down (a static
        # neighbour, no ARP; the frames are dropped at its xmit). No dummy module here.
        sh("ip -n {k} link add gen0 type veth peer name gen1 && ip -n {k} addr add 198.19.0.254/24 dev gen0 && "
           "ip -n {k} link set gen0 up && ip -n {k} neigh add 198.19.0.1 lladdr 02:00:00:00:00:99 dev gen0 "
           "nud permanent".format(k=k.ns))
        # The user-mode guests: what topology.sh makes for its guest, with other MACs.
        for i, g in enumerate(own):
            sh("ip netns add %s" % g.ns)
            self.made.append(g.ns)
            sh("ip -n {g} link set lo up && "
               "ip -n {g} link add eth0 address {mac} type veth peer name usyn{i} netns {h} && "
               "ip -n {h} link set usyn{i} master br0 up && "
               "ip netns exec {g} sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1"
               .format(g=g.ns, h=self.h, mac=g.mac, i=i))
        for path in self.paths[1:]:
            # Each tvfd a state directory of its own (claims.json, the lock
            # beside its control socket): a second tvfd on one refuses to start.
            os.makedirs("%s/%s" % (self.dir, path.key), exist_ok=True)
            path.sock = "%s/%s/tvf.sock" % (self.dir, path.key)
            conf = "%s/%s.yaml" % (self.dir, path.key)
            with open(conf, "w") as f:
                f.write("control_socket: %s\nworker_priority: %s\nlog_level: warn\npairs:\n  - name: tvf0\n"
                        "    synthetic: eth0\n    attach_wait_ms: 200\n    persist: false\n"
                        % (path.sock, os.environ.get("TVF_WORKER_PRIORITY", "1")))
                if path.mode != "ref":  # a reference build may predate these keys
                    f.write("    datapath: %s\n" % path.mode)
                    if path.mode == "kernel":  # a user-mode pair takes no tc_hook
                        f.write("    tc_hook: %s\n" % os.environ.get("TVF_BENCH_TC_HOOK", "auto"))
                elif REF_DATAPATH:
                    f.write("    datapath: %s\n" % REF_DATAPATH)
            # exec: the pid is tvfd's own (for VmRSS).
            path.tvfd = subprocess.Popen("exec ip netns exec %s %s --config %s" % (path.ns, path.tvfd_bin, conf), shell=True,
                                         stdout=subprocess.DEVNULL,
                                         stderr=open("%s/%s.log" % (self.dir, path.key), "w"))
            self.wait(path, lambda s: True)
            sh("ip -n {g} addr add {ip}/24 dev tvf0 && ip -n {g} link set tvf0 up".format(g=path.ns, ip=path.ip))
        sh("%s add-vf %s vf0" % (TOPO, self.p))
        for i, g in enumerate(own):
            sh("ip -n {g} link add vf0 address {mac} type veth peer name uvf{i} netns {h} && "
               "ip -n {h} link set uvf{i} master br0 up".format(g=g.ns, h=self.h, mac=g.mac, i=i))
        for path in self.paths[1:]:
            s = self.wait(path, lambda s: s["state"] == "active" and s["active"] == "vf")
            dp = s.get("datapath", {})
            if path.mode != "ref" and dp.get("mode") != path.mode:
                raise RuntimeError("%s runs datapath %s, not %s: %s" % (path.label, dp.get("mode"), path.mode, dp))
            print("%-22s pid %d, datapath %s (%s)%s, workers %s" % (
                path.label, path.tvfd.pid, dp.get("mode"), dp.get("reason", ""),
                ", on %s (%s)" % (dp["hook"], dp.get("hook_reason")) if dp.get("hook") else "", s.get("workers", {})),
                flush=True)
        sh("ip netns exec %s iperf3 -s -D -B %s" % (self.h, HOST_IP))
        for path in self.paths:  # ARP both ways before anything is timed
            sh("ip netns exec %s ping -c 3 -i 0.2 -W 2 %s" % (path.ns, HOST_IP))
        time.sleep(0.5)

    def status(self, path):
        r = sh("ip netns exec %s %s --socket %s status --json" % (path.ns, path.tvfctl_bin, path.sock), check=False)
        return json.loads(r.stdout)["pairs"][0] if r.returncode == 0 else None

    def wait(self, path, pred, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if path.tvfd.poll() is not None:
                raise RuntimeError("%s: tvfd exited %d; see %s" % (path.label, path.tvfd.returncode, self.dir))
            s = self.status(path)
            if s and pred(s):
                return s
            time.sleep(0.05)
        raise RuntimeError("%s: timeout; status %s" % (path.label, self.status(path)))

    def cleanup(self):
        for path in self.paths:
            if path.tvfd and path.tvfd.poll() is None:
                path.tvfd.send_signal(signal.SIGTERM)
                try:
                    path.tvfd.wait(10)
                except subprocess.TimeoutExpired:
                    path.tvfd.kill()
                    path.tvfd.wait()
        for ns in self.made[1:]:
            sh("ip netns pids %s | xargs -r kill -9" % ns, check=False)
            sh("ip netns del %s" % ns, check=False)
        if self.made:
            sh("%s down %s" % (TOPO, self.p), check=False)
        sh("rm -rf " + self.dir, check=False)

    # ---- measures -------------------------------------------------------
    def tcp(self, path, streams, reverse):
        for attempt in range(3):  # iperf3 now and then ends a test with an error; it is retried, and said
            r = sh("ip netns exec %s iperf3 -c %s -t %d -J -P %d %s" % (path.ns, HOST_IP, self.secs, streams,
                                                                       "-R" if reverse else ""), check=False)
            try:
                return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
            except (ValueError, KeyError):
                try:
                    why = json.loads(r.stdout).get("error")
                except ValueError:
                    why = (r.stdout + r.stderr)[-300:]
                print("%s: iperf3 -P %d%s failed (%s), attempt %d" % (path.label, streams, " -R" if reverse else "",
                                                                      why, attempt + 1), flush=True)
                time.sleep(1)
        raise RuntimeError("%s: iperf3 failed 3 times" % path.label)

    def udp(self, pairs, rcvbuf):
        """pairs: (sender ns, receiver ns, receiver ip, port, bytes, pps) -> [(sender json, receiver json)]."""
        recvs = [subprocess.Popen(["ip", "netns", "exec", rns, FLOOD, "recv", rip, str(port), str(self.secs + 1.5)]
                                  + ([str(rcvbuf)] if rcvbuf else []), stdout=subprocess.PIPE, text=True)
                 for _, rns, rip, port, _, _ in pairs]
        time.sleep(0.3)
        sends = [subprocess.Popen(["ip", "netns", "exec", sns, FLOOD, "send", rip, str(port), str(size),
                                   str(self.secs)] + ([str(pps)] if pps else []), stdout=subprocess.PIPE, text=True)
                 for sns, _, rip, port, size, pps in pairs]
        out = [json.loads(s.communicate()[0]) for s in sends]
        return list(zip(out, [json.loads(r.communicate()[0]) for r in recvs]))

    def pps(self, path, reverse):
        pair = (self.h, path.ns, path.ip, 7000) if reverse else (path.ns, self.h, HOST_IP, 7000)
        (sent, got), = self.udp([pair + (PPS_BYTES, 0)], rcvbuf=4 << 20)
        return got["pps"], sent["pps"]

    def generator_alone(self):
        r = sh("ip netns exec %s %s send 198.19.0.1 7000 %d %d" % (self.paths[0].ns, FLOOD, PPS_BYTES, self.secs))
        return json.loads(r.stdout)["pps"]

    def rcvbuf_errors(self, ns):
        return udp_counters(ns)["RcvbufErrors"]

    def tvf_drops(self, path):
        """rx_dropped + tx_dropped over both paths of tvf's status counters (0 for the kernel-only path)."""
        s = self.status(path) if path.sock else None
        if not s:
            return 0
        return sum(c.get("rx_dropped", 0) + c.get("tx_dropped", 0) for c in s["counters"].values()
                   if isinstance(c, dict))

    def loss(self, path):
        drops = self.tvf_drops(path)
        before = (self.rcvbuf_errors(self.h), self.rcvbuf_errors(path.ns))
        (s_tx, r_tx), (s_rx, r_rx) = self.udp([(path.ns, self.h, HOST_IP, 7001, LOSS_BYTES, LOSS_PPS),
                                               (self.h, path.ns, path.ip, 7002, LOSS_BYTES, LOSS_PPS)], rcvbuf=0)
        after = (self.rcvbuf_errors(self.h), self.rcvbuf_errors(path.ns))
        return (s_tx["sent"] - r_tx["received"], s_rx["sent"] - r_rx["received"], s_tx["sent"], s_rx["sent"],
                after[0] - before[0], after[1] - before[1], self.tvf_drops(path) - drops)

    def rtt(self, path):
        r = sh("ip netns exec %s ping -n -c %d -i 0.0005 -W 1 %s" % (path.ns, PING_COUNT, HOST_IP), check=False)
        times = [float(t) * 1000 for t in re.findall(r"time=([0-9.]+) ms", r.stdout)]
        if len(times) < PING_COUNT // 2:
            raise RuntimeError("%s: ping got %d replies of %d" % (path.label, len(times), PING_COUNT))
        return statistics.median(times)

    def rss_mib(self, path):
        with open("/proc/%d/status" % path.tvfd.pid) as f:
            kb = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
        return kb / 1024


# (key, label, unit, format, ratio kind)
ROWS = [("tcp1_tx", "TCP x1 guest->host", "Gbit/s", "%.2f", "ratio"),
        ("tcp1_rx", "TCP x1 host->guest", "Gbit/s", "%.2f", "ratio"),
        ("tcp4_tx", "TCP x4 guest->host", "Gbit/s", "%.2f", "ratio"),
        ("tcp4_rx", "TCP x4 host->guest", "Gbit/s", "%.2f", "ratio"),
        ("pps_tx", "60-byte UDP guest->host", "kpps rcvd", "%.0f", "ratio"),
        ("pps_rx", "60-byte UDP host->guest", "kpps rcvd", "%.0f", "ratio"),
        ("gen_tx", "  generator sent guest->host", "kpps", "%.0f", "ratio"),
        ("gen_rx", "  generator sent host->guest", "kpps", "%.0f", "ratio"),
        ("gen_alone", "  generator alone (veth, no peer)", "kpps", "%.0f", "none"),
        ("lost_tx", "25 kpps x 100 B lost g->h", "datagrams", "%.0f", "none"),
        ("lost_rx", "25 kpps x 100 B lost h->g", "datagrams", "%.0f", "none"),
        ("rcvbuf_h", "  host UdpRcvbufErrors", "datagrams", "%.0f", "none"),
        ("rcvbuf_g", "  guest UdpRcvbufErrors", "datagrams", "%.0f", "none"),
        ("tvf_drops", "  tvf's own drops (status)", "datagrams", "%.0f", "none"),
        ("rtt", "median RTT ping -i 0.0005", "us", "%.1f", "diff"),
        ("rss", "tvfd VmRSS", "MiB", "%.1f", "none")]


def cell(fmt, values):
    if not values:
        return "-"
    return (fmt + " [" + fmt + "-" + fmt + "]") % (statistics.median(values), min(values), max(values))


def report(bench, res, runs, secs, loads, took):
    print("\nbench/datapath.py: %d interleaved runs of %d s per measure; median [min-max] over the runs; "
          "ratio = tvf median / kernel-only median (RTT: difference)" % (runs, secs))
    print("load average (1/5/15 min): at start %s, at end %s; %d vCPUs; took %.0f s"
          % (loads[0], loads[1], os.cpu_count(), took))
    widths = [33, 10, 23] + [23, 7] * (len(bench.paths) - 1)
    head = ["measure", "unit", bench.paths[0].label] + [x for p in bench.paths[1:] for x in (p.label, "ratio")]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for key, label, unit, fmt, kind in ROWS:
        vals = [res[p.key][key] for p in bench.paths]
        cols = [label, unit, cell(fmt, vals[0])]
        base = statistics.median(vals[0]) if vals[0] else None
        for v in vals[1:]:
            cols.append(cell(fmt, v))
            if kind == "ratio" and base:
                cols.append("%.2f" % (statistics.median(v) / base))
            elif kind == "diff" and base is not None:
                cols.append("%+.1f" % (statistics.median(v) - base))
            else:
                cols.append("")
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
    # The same runs paired: each tvf figure against the kernel-only figure
    # measured next to it in the same round, so drift of the shared machine
    # between rounds cancels out.
    print("\nratios paired per round (median [min-max] of tvf / kernel-only in the same round):")
    for key, label, unit, fmt, kind in ROWS:
        if kind != "ratio" or key.startswith("gen_"):
            continue
        base = res[bench.paths[0].key][key]
        if not base:
            continue
        cols = []
        for p in bench.paths[1:]:
            r = [v / b for v, b in zip(res[p.key][key], base) if b]
            cols.append("%s %s" % (p.label, cell("%.2f", r)))
        print("  %-33s %s" % (label, "   ".join(cols)))
    sent = res["tvf_kernel"]["sent_each_way"]
    if sent:
        print("(loss lines: %d datagrams sent each way per run, %d s at %d/s, %d-byte payload; "
              "60-byte lines: 60-byte UDP payload, 102-byte frames)" % (statistics.median(sent), secs, LOSS_PPS, LOSS_BYTES))
    print("\nper-run values (run order):")
    for key, label, unit, fmt, kind in ROWS:
        for p in bench.paths:
            if res[p.key][key]:
                print("  %-33s %-21s %s" % (label.strip(), p.label, " ".join(fmt % v for v in res[p.key][key])))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for exe in (TVFD, TVFCTL, FLOOD) + ((os.path.join(REF_BUILD, "tvfd"), os.path.join(REF_BUILD, "tvfctl")) if REF_BUILD else ()):
        if not os.access(exe, os.X_OK):
            sys.exit("%s missing: build first (scripts/setup.sh or cmake --build build)" % exe)
    bench = Bench(secs)
    res = {p.key: {k: [] for k, *_ in ROWS} | {"sent_each_way": []} for p in bench.paths}
    loads = [load()]
    t0 = time.monotonic()

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        bench.setup()
        for run in range(runs):
            n = len(bench.paths)
            order = bench.paths[run % n:] + bench.paths[:run % n]
            if "tcp" in ONLY:
                for name, fn in (("tcp1_tx", lambda p: bench.tcp(p, 1, False)), ("tcp1_rx", lambda p: bench.tcp(p, 1, True)),
                                 ("tcp4_tx", lambda p: bench.tcp(p, 4, False)), ("tcp4_rx", lambda p: bench.tcp(p, 4, True))):
                    for p in order:
                        res[p.key][name].append(fn(p))
            if "pps" in ONLY:
                for reverse, (k_rcv, k_gen) in ((False, ("pps_tx", "gen_tx")), (True, ("pps_rx", "gen_rx"))):
                    for p in order:
                        got, sent = bench.pps(p, reverse)
                        res[p.key][k_rcv].append(got / 1000)
                        res[p.key][k_gen].append(sent / 1000)
                res["kernel_only"]["gen_alone"].append(bench.generator_alone() / 1000)
            if "loss" in ONLY:
                for p in order:
                    lt, lr, st, sr, eh, eg, td = bench.loss(p)
                    for k, v in (("lost_tx", lt), ("lost_rx", lr), ("rcvbuf_h", eh), ("rcvbuf_g", eg), ("tvf_drops", td),
                                 ("sent_each_way", min(st, sr))):
                        res[p.key][k].append(v)
            if "rtt" in ONLY:
                for p in order:
                    res[p.key]["rtt"].append(bench.rtt(p))
            for p in bench.paths[1:]:
                res[p.key]["rss"].append(bench.rss_mib(p))
            print("run %d/%d done (%.0f s, load %s)" % (run + 1, runs, time.monotonic() - t0, load()), flush=True)
        for p in bench.paths[1:]:  # the tvf paths carried the traffic on the VF all along
            s = bench.status(p)
            print("%-22s at the end: state %s, active %s, switches %s, workers %s, counters %s"
                  % (p.label, s["state"], s["active"], s["switches"], json.dumps(s.get("workers")),
                     json.dumps(s["counters"].get("vf", s["counters"]))))
    finally:
        bench.cleanup()
    loads.append(load())
    report(bench, res, runs, secs, loads, time.monotonic() - t0)


if __name__ == "__main__":
    sys.exit(main())
