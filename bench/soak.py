#!/usr/bin/env python3
"""Attach soak: N plug / wait-for-active / unplug cycles under traffic.

In one topology (scripts/topology.sh) with the real tvfd (attach_wait_ms 50),
a sequence-numbered UDP stream runs each way for the whole soak (tvf-udpstream,
PPS datagrams/s). Each cycle plugs a fresh VF veth, waits until status shows it
active, holds HOLD_MS, unplugs it and waits for novf. It prints:
  - cycles, and datagrams lost per direction (guest->host leaves through tvf0's
    TX, host->guest comes in through a backend's RX);
  - where the lost datagrams were sent (their sequence number maps to a send
    time; CLOCK_MONOTONIC on both sides):
      plug     from the plug until 20 ms before status first showed TX on the VF,
      switch   +-20 ms around that moment (the poll runs every ~2 ms),
      unplug   from the unplug until 50 ms after status showed novf,
      other    the rest;
  - attach time (plug -> status shows state active with this VF) and switch
    time (plug -> TX on the VF; a fresh VF's TX waits, after its carrier,
    until a neighbour answers an ARP request through it): median, p99, max;
  - tvfd's fds and RSS at the start and the end, and the RSS slope per cycle.
Absolute figures; the kernel-only path loses nothing here by construction.

  bench/soak.py [CYCLES]     (default 100; needs root)
  env: TVF_DATAPATH (kernel | user, default kernel), TVF_WORKER_PRIORITY
       (default 1, 0 = SCHED_OTHER workers), TVF_SOAK_PPS
       (default 10000), TVF_SOAK_HOLD_MS (default 200), TVF_BUILD_DIR
"""

import bisect
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

from benchlib import BUILD, TOPO, sh, udp_counters

TVFD = os.path.join(BUILD, "tvfd")
UDP = os.path.join(BUILD, "tvf-udpstream")
PPS = int(os.environ.get("TVF_SOAK_PPS", "10000"))
HOLD_MS = int(os.environ.get("TVF_SOAK_HOLD_MS", "200"))
ATTACH_WAIT_MS = 50


def now_ns():
    return time.monotonic_ns()  # CLOCK_MONOTONIC, as tvf-udpstream's steady_clock


class Soak:
    def __init__(self):
        self.p = "tvfsk%d" % os.getpid()
        self.h, self.g = self.p + "-h", self.p + "-g"
        self.dir = "/tmp/" + self.p
        self.sock_path = self.dir + "/tvf.sock"
        self.tvfd = None
        self.ctl = None
        self.vf = 0
        self.procs = []

    # One persistent control connection: a status costs ~0.2 ms, not a fork.
    def status(self):
        for _ in range(2):
            try:
                if self.ctl is None:
                    self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    self.ctl.settimeout(10)
                    self.ctl.connect(self.sock_path)
                    self.ctl_buf = b""
                self.ctl.sendall(b'{"cmd":"status"}\n')
                while b"\n" not in self.ctl_buf:
                    chunk = self.ctl.recv(65536)
                    if not chunk:
                        raise OSError("closed")
                    self.ctl_buf += chunk
                line, self.ctl_buf = self.ctl_buf.split(b"\n", 1)
                return json.loads(line)["status"]["pairs"][0]
            except (OSError, ValueError, KeyError):
                if self.ctl:
                    self.ctl.close()
                self.ctl = None
                time.sleep(0.05)
        return None

    def wait(self, pred, timeout=30, poll=0.002):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.status()
            if s and pred(s):
                return now_ns()
            time.sleep(poll)
        raise RuntimeError("timeout; status %s" % self.status())

    def setup(self):
        os.makedirs(self.dir, exist_ok=True)
        assert sh("%s up %s" % (TOPO, self.p)).returncode == 0
        with open(self.dir + "/tvf.yaml", "w") as f:
            f.write("control_socket: %s\nlog_level: info\nworker_priority: %s\npairs:\n  - name: tvf0\n"
                    "    synthetic: eth0\n    attach_wait_ms: %d\n    persist: false\n    datapath: %s\n"
                    % (self.sock_path, os.environ.get("TVF_WORKER_PRIORITY", "1"), ATTACH_WAIT_MS,
                       os.environ.get("TVF_DATAPATH", "kernel")))
        self.tvfd = subprocess.Popen("exec ip netns exec %s %s --config %s/tvf.yaml" % (self.g, TVFD, self.dir),
                                     shell=True, stdout=subprocess.DEVNULL, stderr=open(self.dir + "/tvfd.log", "a"))
        self.wait(lambda s: True, timeout=15, poll=0.05)
        sh("ip -n %s addr add 198.18.0.2/24 dev tvf0 && ip -n %s link set tvf0 up" % (self.g, self.g))
        # Warm the neighbour entries both ways before counting.
        sh("ip netns exec %s ping -c 2 -i 0.2 198.18.0.1" % self.g)

    def fds_rss(self):
        pid = self.tvfd.pid
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return fds, rss

    def sched(self):
        """Per thread of tvfd: (comm, ns on the CPU, ns waiting on a run queue)."""
        pid, out = self.tvfd.pid, {}
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    comm = f.read().strip()
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    run, wait = (int(x) for x in f.read().split()[:2])
            except OSError:
                continue
            out[int(tid)] = ("control" if int(tid) == pid else comm, run, wait)
        return out

    def drops(self):
        """Kernel backlog drops (all CPUs, /proc/net/softnet_stat column 2) and
        tvfd's per-path dropped counters."""
        with open("/proc/net/softnet_stat") as f:
            backlog = sum(int(l.split()[1], 16) for l in f)
        def unresolved():  # datagrams the neighbour layer dropped while resolving (all namespaces)
            with open("/proc/net/stat/arp_cache") as f:
                lines = f.read().split("\n")
            col = lines[0].split().index("unresolved_discards")
            return sum(int(l.split()[col], 16) for l in lines[1:] if l.strip())

        def tap_tx_dropped():
            r = sh("ip -n %s -s -j link show tvf0" % self.g)
            try:
                return json.loads(r.stdout)[0]["stats64"]["tx"]["dropped"]
            except (ValueError, KeyError, IndexError):
                return 0
        st = self.status() or {}
        c = st.get("counters", {})
        return {"host_udp_errors": udp_errors(self.h), "guest_udp_errors": udp_errors(self.g),
                "softnet_backlog": backlog, "arp_unresolved": unresolved(), "tap_tx_dropped": tap_tx_dropped(),
                "tvfd_tx_dropped": sum(c.get(p, {}).get("tx_dropped", 0) for p in ("synthetic", "vf")),
                "tvfd_rx_dropped": sum(c.get(p, {}).get("rx_dropped", 0) for p in ("synthetic", "vf"))}

    def start_streams(self):
        env = dict(os.environ, TVF_UDPSTREAM_MAX_RANGES="1000000")
        self.receivers = {
            "guest->host": subprocess.Popen(["ip", "netns", "exec", self.h, UDP, "recv", "198.18.0.1", "6000", "86400"],
                                            stdout=subprocess.PIPE, text=True, env=env),
            "host->guest": subprocess.Popen(["ip", "netns", "exec", self.g, UDP, "recv", "198.18.0.2", "6001", "86400"],
                                            stdout=subprocess.PIPE, text=True, env=env),
        }
        time.sleep(0.3)
        self.senders = {
            "guest->host": subprocess.Popen(["ip", "netns", "exec", self.g, UDP, "send", "198.18.0.1", "6000",
                                             str(PPS), "86400"], stdout=subprocess.PIPE, text=True),
            "host->guest": subprocess.Popen(["ip", "netns", "exec", self.h, UDP, "send", "198.18.0.2", "6001",
                                             str(PPS), "86400"], stdout=subprocess.PIPE, text=True),
        }
        self.start_ns = {k: json.loads(p.stdout.readline())["start_ns"] for k, p in self.senders.items()}

    def stop_streams(self):
        self.send_failures = {}
        for k, p in self.senders.items():
            p.send_signal(signal.SIGTERM)
            tail = p.stdout.read().strip().splitlines()
            p.wait()
            self.send_failures[k] = json.loads(tail[-1]).get("send_failures", 0) if tail else -1
        time.sleep(0.5)  # the last datagrams arrive
        out = {}
        for k, p in self.receivers.items():
            p.send_signal(signal.SIGTERM)
            line = p.stdout.read().strip().splitlines()[-1]
            p.wait()
            out[k] = json.loads(line)
        return out

    def cleanup(self):
        for group in (getattr(self, "senders", {}), getattr(self, "receivers", {})):
            for p in group.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
        if self.tvfd and self.tvfd.poll() is None:
            self.tvfd.terminate()
            self.tvfd.wait()
        sh("%s down %s" % (TOPO, self.p))
        sh("cp %s/tvfd.log /tmp/tvf-soak-last.log" % self.dir)  # for a look at the attach timeline
        sh("rm -rf " + self.dir)


def link_drops(ns, dev):
    """rx/tx dropped of one link, read just before it is deleted."""
    r = sh("ip -n %s -s -j link show %s" % (ns, dev))
    try:
        st = json.loads(r.stdout)[0]["stats64"]
        return {"rx_dropped": st["rx"]["dropped"], "tx_dropped": st["tx"]["dropped"]}
    except (ValueError, KeyError, IndexError):
        return {}


def udp_errors(ns):
    """Udp RcvbufErrors + InErrors in a namespace."""
    d = udp_counters(ns)
    return d.get("RcvbufErrors", 0) + d.get("InErrors", 0)


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def classify(missing, start_ns, windows):
    """Counts lost datagrams per window kind by their send time."""
    starts = [w[0] for w in windows]
    counts = {"plug": 0, "switch": 0, "unplug": 0, "other": 0}
    per_cycle_plug = {}
    for a, b in missing:
        for seq in range(a, b + 1):
            t = start_ns + seq * 1_000_000_000 // PPS
            i = bisect.bisect_right(starts, t) - 1
            kind = "other"
            if i >= 0 and t < windows[i][1]:
                kind = windows[i][2]
                if kind == "plug":
                    per_cycle_plug[windows[i][3]] = per_cycle_plug.get(windows[i][3], 0) + 1
            counts[kind] += 1
    return counts, per_cycle_plug


def bursts(missing, start_ns, windows, top=5):
    """The largest runs of lost datagrams: (count, window kind, cycle, ms after that cycle's plug)."""
    plugs = sorted((w[0], w[3]) for w in windows if w[2] == "plug")
    out = []
    for a, b in sorted(missing, key=lambda r: r[0] - r[1])[:top]:
        t = start_ns + a * 1_000_000_000 // PPS
        i = bisect.bisect_right([p[0] for p in plugs], t) - 1
        counts, _ = classify([(a, a)], start_ns, windows)
        kind = next(k for k, v in counts.items() if v)
        out.append((b - a + 1, kind, plugs[i][1] if i >= 0 else -1, (t - plugs[i][0]) / 1e6 if i >= 0 else 0))
    return out


def main():
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    s = Soak()
    attach_ms, tx_ms, windows, rss_trace, vf_drops, port_states = [], [], [], [], {}, {}
    try:
        s.setup()
        if s.ctl:  # measured without our own status connection, as at the end
            s.ctl.close()
            s.ctl = None
        time.sleep(0.2)
        fds0, rss0 = s.fds_rss()
        sched0 = s.sched()
        drops0 = s.drops()
        if s.ctl:
            s.ctl.close()
            s.ctl = None
        s.start_streams()
        time.sleep(0.5)
        for c in range(cycles):
            s.vf += 1
            name = "vf%d" % s.vf
            t_plug = now_ns()
            sh("%s add-vf %s %s" % (TOPO, s.p, name))
            seen = {}

            def attached(st):
                if st["state"] == "active" and st["vf"] and st["vf"]["ifname"] == name:
                    seen.setdefault("attached", now_ns())
                    return st["active"] == "vf"
                return False
            t_active = s.wait(attached)
            # Is the host's bridge port behind the VF forwarding when TX moves?
            # (a veth's peer port comes up through linkwatch, on its own time)
            r = sh("bridge -n %s -j link show dev h%s" % (s.h, name))
            try:
                state = json.loads(r.stdout)[0].get("state", "?")
            except (ValueError, IndexError):
                state = "?"
            port_states[state] = port_states.get(state, 0) + 1
            attach_ms.append((seen["attached"] - t_plug) / 1e6)
            tx_ms.append((t_active - t_plug) / 1e6)
            windows.append((t_plug, t_active - 20_000_000, "plug", c))
            windows.append((t_active - 20_000_000, t_active + 20_000_000, "switch", c))
            time.sleep(HOLD_MS / 1000)
            for ns, dev, key in ((s.g, name, "vf"), (s.h, "h" + name, "hvf")):
                for d, n in link_drops(ns, dev).items():
                    vf_drops[key + "_" + d] = vf_drops.get(key + "_" + d, 0) + n
            t_unplug = now_ns()
            sh("%s del-vf %s %s" % (TOPO, s.p, name))
            t_novf = s.wait(lambda st: st["state"] == "novf")
            windows.append((t_unplug, t_novf + 50_000_000, "unplug", c))
            time.sleep(0.1)
            rss_trace.append(s.fds_rss()[1])
            if (c + 1) % 25 == 0:
                print("cycle %d/%d" % (c + 1, cycles), flush=True)
        time.sleep(0.3)
        sched1 = s.sched()
        streams = s.stop_streams()
        drops1 = s.drops()
        if s.ctl:
            s.ctl.close()
            s.ctl = None
        time.sleep(0.2)
        fds1, rss1 = s.fds_rss()
    finally:
        s.cleanup()

    windows.sort()
    print("\nattach soak: %d cycles, attach_wait_ms %d, %d datagrams/s each way, worker_priority %s"
          % (cycles, ATTACH_WAIT_MS, PPS, os.environ.get("TVF_WORKER_PRIORITY", "1")))
    worst = {}
    for k, r in streams.items():
        counts, per_cycle = classify(r["missing"], s.start_ns[k], windows)
        lost = r["lost"]
        print("  %-12s lost %d of %d (%.3f%%): plug %d, switch %d, unplug %d, other %d; reordered %d, dup %d"
              % (k, lost, r["expected"], 100.0 * lost / max(1, r["expected"]), counts["plug"], counts["switch"],
                 counts["unplug"], counts["other"], r["reordered"], r["duplicates"]))
        if per_cycle:
            worst[k] = (len(per_cycle), max(per_cycle.values()))
    print("  sendto() failures (ENOBUFS: tvf0's or the bridge's queue full): guest->host %d, host->guest %d"
          % (s.send_failures.get("guest->host", -1), s.send_failures.get("host->guest", -1)))
    for k, r in streams.items():
        for n, kind, cyc, ms in bursts(r["missing"], s.start_ns[k], windows):
            print("  %-12s burst of %d lost (%s window), cycle %d, %.0f ms after its plug" % (k, n, kind, cyc, ms))
    print("  drops during the soak: kernel backlog (softnet, all CPUs) %d, tvf0 TAP tx_dropped %d, ARP unresolved"
          " discards (all namespaces) %d, tvfd tx_dropped %d, rx_dropped %d"
          % tuple(drops1[x] - drops0[x] for x in ("softnet_backlog", "tap_tx_dropped", "arp_unresolved", "tvfd_tx_dropped", "tvfd_rx_dropped")))
    print("  receivers' UDP RcvbufErrors+InErrors: host %d, guest %d; VF links before each unplug: %s"
          % (drops1["host_udp_errors"] - drops0["host_udp_errors"], drops1["guest_udp_errors"] - drops0["guest_udp_errors"],
             ", ".join("%s %d" % kv for kv in sorted(vf_drops.items()))))
    print("  host bridge port behind the VF when TX had moved: %s"
          % ", ".join("%s %d" % kv for kv in sorted(port_states.items())))
    for k, (n, m) in worst.items():
        print("  %-12s cycles losing in the plug window: %d of %d, worst %d datagrams (%.1f ms)"
              % (k, n, cycles, m, m * 1000.0 / PPS))
    print("  attach (plug -> state active) ms: median %.0f, p99 %.0f, max %.0f (attach_wait %d)"
          % (statistics.median(attach_ms), pct(attach_ms, 0.99), max(attach_ms), ATTACH_WAIT_MS))
    print("  switch (plug -> TX on the VF) ms: median %.0f, p99 %.0f, max %.0f (includes the path proof)"
          % (statistics.median(tx_ms), pct(tx_ms, 0.99), max(tx_ms)))
    # Run-queue waits: how long each tvfd thread was runnable but not running
    # (a SCHED_FIFO worker keeps SCHED_OTHER threads off its CPU).
    for tid, (comm, run1, wait1) in sorted(sched1.items()):
        run0, wait0 = sched0.get(tid, (comm, 0, 0))[1:]
        print("  thread %-10s on CPU %6.0f ms, runnable but waiting %6.0f ms (%.2f ms per cycle)"
              % (comm, (run1 - run0) / 1e6, (wait1 - wait0) / 1e6, (wait1 - wait0) / 1e6 / cycles))
    slope = 0.0
    if len(rss_trace) > 2:
        n = len(rss_trace)
        xs = range(n)
        mx, my = (n - 1) / 2, statistics.mean(rss_trace)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, rss_trace)) / sum((x - mx) ** 2 for x in xs)
    print("  tvfd fds %d -> %d; RSS %d -> %d kB (%.2f kB/cycle after each unplug)" % (fds0, fds1, rss0, rss1, slope))


if __name__ == "__main__":
    sys.exit(main())
