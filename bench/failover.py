#!/usr/bin/env python3
"""Failover benchmark: what a switch costs, medians of several runs.

In one topology (scripts/topology.sh) with the real tvfd, for RUNS rounds:
  - surprise removal: a 20,000 datagram/s UDP stream each way while the VF's
    veth is deleted -> datagrams lost and the longest gap (outage), per direction;
  - planned migration: tvf-migrate pre, unplug, a new VF, tvf-migrate post,
    under the same streams -> datagrams lost;
  - restart: kill -9 tvfd, start it again, under the same streams ->
    datagrams lost, the longest gap, and ms until active on the VF again
    (attach_wait_ms is 300 here).
Lost = datagrams sent - received (so a loss at the stream's end counts too).
With --datapath both (the default) a topology per mode runs, and the rounds
alternate between them; each mode gets its own table.
The kernel-only baseline for loss is 0 by construction (nothing switches); the
figures are absolute.

  bench/failover.py [RUNS] [--datapath kernel|user|both]     (default 5, both; needs root)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

from benchlib import BUILD, ROOT, TOPO, sh

TVFD, TVFCTL = os.path.join(BUILD, "tvfd"), os.path.join(BUILD, "tvfctl")
UDP = os.path.join(BUILD, "tvf-udpstream")
MIGRATE = os.path.join(ROOT, "conf", "hotplug", "tvf-migrate")
PPS, SECS = 20000, 3


class Bench:
    def __init__(self, datapath):
        self.datapath = datapath
        self.p = "tvfbf%d%s" % (os.getpid(), datapath[0])
        self.h, self.g = self.p + "-h", self.p + "-g"
        self.dir = "/tmp/" + self.p
        self.sock = self.dir + "/tvf.sock"
        self.tvfd = None
        self.vf = 0

    def status(self):
        r = sh("%s --socket %s status --json" % (TVFCTL, self.sock))
        return json.loads(r.stdout)["pairs"][0] if r.returncode == 0 else None

    def wait(self, pred, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.status()
            if s and pred(s):
                return True
            time.sleep(0.02)
        raise RuntimeError("timeout; status %s" % self.status())

    def start_tvfd(self):
        self.tvfd = subprocess.Popen("exec ip netns exec %s %s --config %s/tvf.yaml" % (self.g, TVFD, self.dir),
                                     shell=True, stdout=subprocess.DEVNULL, stderr=open(self.dir + "/tvfd.log", "a"))
        self.wait(lambda s: True)

    def setup(self):
        os.makedirs(self.dir, exist_ok=True)
        assert sh("%s up %s" % (TOPO, self.p)).returncode == 0
        with open(self.dir + "/tvf.yaml", "w") as f:
            f.write("control_socket: %s\nlog_level: warn\nworker_priority: %s\npairs:\n  - name: tvf0\n"
                    "    synthetic: eth0\n    attach_wait_ms: 300\n    persist: true\n    datapath: %s\n"
                    % (self.sock, os.environ.get("TVF_WORKER_PRIORITY", "1"), self.datapath))
        self.start_tvfd()
        mode = self.status().get("datapath", {}).get("mode")
        if mode != self.datapath:
            raise RuntimeError("tvfd runs datapath %s, not %s: %s" % (mode, self.datapath, self.status()))
        sh("ip -n %s addr add 198.18.0.2/24 dev tvf0 && ip -n %s link set tvf0 up" % (self.g, self.g))

    def plug(self):
        self.vf += 1
        name = "vf%d" % self.vf
        sh("%s add-vf %s %s" % (TOPO, self.p, name))
        return name

    def active_on(self, name):
        self.wait(lambda s: s["state"] == "active" and s["active"] == "vf" and s["vf"]["ifname"] == name)

    def streams(self, during, secs=SECS):
        out = {}

        def recv(ns, bind, port, key):
            r = sh("ip netns exec %s %s recv %s %d %d" % (ns, UDP, bind, port, secs + 2))
            out[key] = json.loads(r.stdout.strip().splitlines()[-1])
        threads = [threading.Thread(target=recv, args=(self.h, "198.18.0.1", 6000, "to_host")),
                   threading.Thread(target=recv, args=(self.g, "198.18.0.2", 6001, "to_guest"))]
        for t in threads:
            t.start()
        time.sleep(0.3)
        senders = [subprocess.Popen("ip netns exec %s %s send 198.18.0.1 6000 %d %d" % (self.g, UDP, PPS, secs),
                                    shell=True, stdout=subprocess.PIPE, text=True),
                   subprocess.Popen("ip netns exec %s %s send 198.18.0.2 6001 %d %d" % (self.h, UDP, PPS, secs),
                                    shell=True, stdout=subprocess.PIPE, text=True)]
        time.sleep(1.0)
        during()
        sent = [json.loads(s.communicate()[0].strip().splitlines()[-1])["sent"] for s in senders]
        for t in threads:
            t.join()
        for key, n in zip(("to_host", "to_guest"), sent):
            out[key]["lost"] = n - out[key]["received"]
        return out

    def cleanup(self):
        if self.tvfd and self.tvfd.poll() is None:
            self.tvfd.terminate()
            self.tvfd.wait()
        sh("%s down %s" % (TOPO, self.p))
        sh("rm -rf " + self.dir)


def med(values):
    return "%.1f [%.1f-%.1f]" % (statistics.median(values), min(values), max(values))


KEYS = ("sr_lost_tx", "sr_lost_rx", "sr_gap_tx", "sr_gap_rx", "pm_lost_tx", "pm_lost_rx", "pm_gap_tx", "pm_gap_rx",
        "rs_lost_tx", "rs_lost_rx", "rs_gap_tx", "rs_gap_rx", "restart_ms")


def record(res, prefix, r):
    res[prefix + "_lost_tx"].append(r["to_host"]["lost"])
    res[prefix + "_lost_rx"].append(r["to_guest"]["lost"])
    res[prefix + "_gap_tx"].append(r["to_host"]["max_gap_ms"])
    res[prefix + "_gap_rx"].append(r["to_guest"]["max_gap_ms"])


def round_of(b, res):
    """One surprise removal, one planned migration, one restart, under streams."""
    vf = b.plug()
    b.active_on(vf)
    record(res, "sr", b.streams(lambda: sh("%s del-vf %s %s" % (TOPO, b.p, vf))))
    b.wait(lambda s: s["state"] == "novf")
    vf = b.plug()
    b.active_on(vf)

    def migrate():
        sh("TVFCTL=%s %s --socket %s pre" % (TVFCTL, MIGRATE, b.sock))
        sh("%s del-vf %s %s" % (TOPO, b.p, vf))
        time.sleep(0.3)
        new = b.plug()
        sh("TVFCTL=%s %s --socket %s post" % (TVFCTL, MIGRATE, b.sock))
        b.active_on(new)
    record(res, "pm", b.streams(migrate))
    vf = "vf%d" % b.vf

    def restart():
        b.tvfd.kill()
        b.tvfd.wait()
        t0 = time.monotonic()
        b.start_tvfd()
        b.active_on(vf)
        res["restart_ms"].append((time.monotonic() - t0) * 1000)
    record(res, "rs", b.streams(restart, SECS + 2))
    sh("%s del-vf %s %s" % (TOPO, b.p, vf))
    b.wait(lambda s: s["state"] == "novf")


def report(mode, res, runs):
    print("\nfailover, datapath: %s, at %d datagrams/s each way; median [min-max] of %d runs" % (mode, PPS, runs))
    print("  surprise removal   lost guest->host %s   host->guest %s" % (med(res["sr_lost_tx"]), med(res["sr_lost_rx"])))
    print("                     longest gap (ms) %s   %s" % (med(res["sr_gap_tx"]), med(res["sr_gap_rx"])))
    print("  planned migration  lost guest->host %s   host->guest %s" % (med(res["pm_lost_tx"]), med(res["pm_lost_rx"])))
    print("                     longest gap (ms) %s   %s" % (med(res["pm_gap_tx"]), med(res["pm_gap_rx"])))
    print("  restart (kill -9)  lost guest->host %s   host->guest %s" % (med(res["rs_lost_tx"]), med(res["rs_lost_rx"])))
    print("                     longest gap (ms) %s   %s" % (med(res["rs_gap_tx"]), med(res["rs_gap_rx"])))
    print("                     ms until active on the VF again %s (attach_wait 300 ms)" % med(res["restart_ms"]))
    print("  per run: " + "; ".join("%s %s" % (k, " ".join("%g" % round(v, 1) for v in res[k])) for k in KEYS))


def main():
    ap = argparse.ArgumentParser(description="failover benchmark (needs root)")
    ap.add_argument("runs", nargs="?", type=int, default=5)
    ap.add_argument("--datapath", choices=("kernel", "user", "both"), default="both")
    args = ap.parse_args()
    modes = ("kernel", "user") if args.datapath == "both" else (args.datapath,)
    benches = [Bench(m) for m in modes]
    res = {m: {k: [] for k in KEYS} for m in modes}
    with open("/proc/loadavg") as f:
        print("load average at start: %s" % " ".join(f.read().split()[:3]), flush=True)
    try:
        for b in benches:
            b.setup()
        for i in range(args.runs):
            for b in benches:
                round_of(b, res[b.datapath])
                print("run %d/%d (datapath %s) done" % (i + 1, args.runs, b.datapath), flush=True)
    finally:
        for b in benches:
            b.cleanup()
    with open("/proc/loadavg") as f:
        print("load average at end: %s" % " ".join(f.read().split()[:3]))
    for m in modes:
        report(m, res[m], args.runs)
    print("  baseline: the kernel-only path never switches (0 lost); a 20 kpps stream's normal gap is 1 ms")


if __name__ == "__main__":
    sys.exit(main())
