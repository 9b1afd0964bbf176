#!/usr/bin/env python3
"""Failover benchmark: what a switch costs, medians of several runs.

In one topology (scripts/topology.sh) with the real tvfd, for RUNS rounds:
  - surprise removal: a 20,000 datagram/s UDP stream each way while the VF's
    veth is deleted -> datagrams lost and the longest gap (outage), per direction;
  - planned migration: tvf-migrate pre, unplug, a new VF, tvf-migrate post,
    under the same streams -> datagrams lost;
  - restart: kill -9 tvfd, start it again -> ms until active on the VF again
    (attach_wait_ms is 300 here).
The kernel-only baseline for loss is 0 by construction (nothing switches); the
figures are absolute.

  bench/failover.py [RUNS]      (default 5; needs root)
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TVF_BUILD_DIR", os.path.join(ROOT, "build"))
TOPO = os.path.join(ROOT, "scripts", "topology.sh")
TVFD, TVFCTL = os.path.join(BUILD, "tvfd"), os.path.join(BUILD, "tvfctl")
UDP = os.path.join(BUILD, "tvf-udpstream")
MIGRATE = os.path.join(ROOT, "conf", "hotplug", "tvf-migrate")
PPS, SECS = 20000, 3


def sh(cmd):
    return subprocess.run(cmd, shell=True, text=True, capture_output=True)


class Bench:
    def __init__(self):
        self.p = "tvfbf%d" % os.getpid()
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
                    "    synthetic: eth0\n    attach_wait_ms: 300\n    persist: true\n"
                    % (self.sock, os.environ.get("TVF_WORKER_PRIORITY", "1")))
        self.start_tvfd()
        sh("ip -n %s addr add 198.18.0.2/24 dev tvf0 && ip -n %s link set tvf0 up" % (self.g, self.g))

    def plug(self):
        self.vf += 1
        name = "vf%d" % self.vf
        sh("%s add-vf %s %s" % (TOPO, self.p, name))
        return name

    def active_on(self, name):
        self.wait(lambda s: s["state"] == "active" and s["active"] == "vf" and s["vf"]["ifname"] == name)

    def streams(self, during):
        out = {}

        def recv(ns, bind, port, key):
            r = sh("ip netns exec %s %s recv %s %d %d" % (ns, UDP, bind, port, SECS + 2))
            out[key] = json.loads(r.stdout.strip().splitlines()[-1])
        threads = [threading.Thread(target=recv, args=(self.h, "198.18.0.1", 6000, "to_host")),
                   threading.Thread(target=recv, args=(self.g, "198.18.0.2", 6001, "to_guest"))]
        for t in threads:
            t.start()
        time.sleep(0.3)
        senders = [subprocess.Popen("ip netns exec %s %s send 198.18.0.1 6000 %d %d" % (self.g, UDP, PPS, SECS),
                                    shell=True, stdout=subprocess.DEVNULL),
                   subprocess.Popen("ip netns exec %s %s send 198.18.0.2 6001 %d %d" % (self.h, UDP, PPS, SECS),
                                    shell=True, stdout=subprocess.DEVNULL)]
        time.sleep(1.0)
        during()
        for s in senders:
            s.wait()
        for t in threads:
            t.join()
        return out

    def cleanup(self):
        if self.tvfd and self.tvfd.poll() is None:
            self.tvfd.terminate()
            self.tvfd.wait()
        sh("%s down %s" % (TOPO, self.p))
        sh("rm -rf " + self.dir)


def med(values):
    return "%.1f [%.1f-%.1f]" % (statistics.median(values), min(values), max(values))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    b = Bench()
    res = {k: [] for k in ("sr_lost_tx", "sr_lost_rx", "sr_gap_tx", "sr_gap_rx", "pm_lost_tx", "pm_lost_rx",
                           "pm_gap_tx", "pm_gap_rx", "restart_ms")}
    try:
        b.setup()
        for i in range(runs):
            vf = b.plug()
            b.active_on(vf)
            r = b.streams(lambda: sh("%s del-vf %s %s" % (TOPO, b.p, vf)))
            res["sr_lost_tx"].append(r["to_host"]["lost"])
            res["sr_lost_rx"].append(r["to_guest"]["lost"])
            res["sr_gap_tx"].append(r["to_host"]["max_gap_ms"])
            res["sr_gap_rx"].append(r["to_guest"]["max_gap_ms"])
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
            r = b.streams(migrate)
            res["pm_lost_tx"].append(r["to_host"]["lost"])
            res["pm_lost_rx"].append(r["to_guest"]["lost"])
            res["pm_gap_tx"].append(r["to_host"]["max_gap_ms"])
            res["pm_gap_rx"].append(r["to_guest"]["max_gap_ms"])
            vf = "vf%d" % b.vf
            b.tvfd.kill()
            b.tvfd.wait()
            t0 = time.monotonic()
            b.start_tvfd()
            b.active_on(vf)
            res["restart_ms"].append((time.monotonic() - t0) * 1000)
            sh("%s del-vf %s %s" % (TOPO, b.p, vf))
            b.wait(lambda s: s["state"] == "novf")
            print("run %d/%d done" % (i + 1, runs), flush=True)
    finally:
        b.cleanup()
    print("\nfailover at %d datagrams/s each way; median [min-max] of %d runs" % (PPS, runs))
    print("  surprise removal   lost guest->host %s   host->guest %s" % (med(res["sr_lost_tx"]), med(res["sr_lost_rx"])))
    print("                     longest gap (ms) %s   %s" % (med(res["sr_gap_tx"]), med(res["sr_gap_rx"])))
    print("  planned migration  lost guest->host %s   host->guest %s" % (med(res["pm_lost_tx"]), med(res["pm_lost_rx"])))
    print("                     longest gap (ms) %s   %s" % (med(res["pm_gap_tx"]), med(res["pm_gap_rx"])))
    print("  restart (kill -9)  ms until active on the VF again %s (attach_wait 300 ms)" % med(res["restart_ms"]))
    print("  baseline: the kernel-only path never switches (0 lost); a 20 kpps stream's normal gap is 1 ms")


if __name__ == "__main__":
    sys.exit(main())
