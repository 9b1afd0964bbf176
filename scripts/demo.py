#!/usr/bin/env python3
"""tvf live-migration demo: the real tvfd in network namespaces.

Builds the topology (a Linux bridge as the host's switch, a synthetic veth
and VF veths with the same MAC), starts tvfd, runs a TCP transfer and a
20,000 packet/s UDP stream through tvf0, then performs a scripted live
migration (planned detach, VF unplugged, pause, a new VF under another name,
attach) followed by a surprise removal and a replug. It shows live progress,
prints a summary table and writes a PNG timeline. Everything it makes is
removed at the end: on success, on failure and on Ctrl-C.

Run it through scripts/demo.sh, which installs what is missing and builds.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TVF_BUILD_DIR", os.path.join(ROOT, "build"))
TOPO = os.path.join(ROOT, "scripts", "topology.sh")
TVFD = os.path.join(BUILD, "tvfd")
TVFCTL = os.path.join(BUILD, "tvfctl")
UDPSTREAM = os.path.join(BUILD, "tvf-udpstream")
MIGRATE = os.path.join(ROOT, "conf", "hotplug", "tvf-migrate")
OUT_DIR = os.path.join(BUILD, "demo")



def png_path(datapath):
    """The timeline picture of a demo run with `datapath` (one per mode: two
    demos, one of each, may run at once)."""
    return os.path.join(OUT_DIR, "tvf-demo-timeline-%s.png" % datapath)

PPS = 20000            # UDP stream, guest -> host
SYNTH_RATE = "1gbit"   # host ports shaped (tbf) so the paths differ as in a cloud:
VF_RATE = "4gbit"      # the synthetic is the slower paravirtual NIC
ATTACH_WAIT_MS = 1000
SAMPLE_S = 0.2
DURATION_S = 26


class Failure(Exception):
    pass


def sh(cmd, check=True, capture=True):
    r = subprocess.run(cmd, shell=True, text=True, capture_output=capture)
    if check and r.returncode != 0:
        raise Failure("command failed (%d): %s\n%s%s" % (r.returncode, cmd, r.stdout or "", r.stderr or ""))
    return r


class Demo:
    def __init__(self, datapath="kernel"):
        self.datapath = datapath   # the pair's datapath key: kernel (default) or user
        self.datapath_ran = datapath
        self.datapath_reason = ""
        self.prefix = "tvfdemo%d" % os.getpid()
        self.host, self.guest = self.prefix + "-h", self.prefix + "-g"
        self.dir = "/tmp/" + self.prefix
        self.sock = self.dir + "/tvf.sock"
        self.procs = []
        self.samples = []          # (t, state, active, vf, syn_mbps, vf_mbps)
        self.events = []           # dicts: name, t_action, t_switch, expect
        self.stop_sampling = threading.Event()
        self.t0 = None
        self.tty = sys.stdout.isatty()
        self.topology_up = False

    # ---- plumbing ---------------------------------------------------------
    def status(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(self.sock)
            s.sendall(b'{"cmd":"status"}\n')
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        return json.loads(buf)["status"]["pairs"][0]

    def spawn(self, ns, cmd, out):
        p = subprocess.Popen("exec ip netns exec %s %s" % (ns, cmd), shell=True,
                             stdout=out, stderr=subprocess.STDOUT, text=True)
        self.procs.append(p)
        return p

    def now(self):
        return time.monotonic() - self.t0

    def wait_for(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if pred(self.status()):
                    return self.now()
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.02)
        raise Failure("timed out waiting for " + what)

    # ---- the stages -------------------------------------------------------
    def setup(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(OUT_DIR, exist_ok=True)
        sh("%s up %s" % (TOPO, self.prefix))
        self.topology_up = True
        # The synthetic is the slower path, as in a cloud: shape the host's
        # port towards it (host -> guest).
        sh("ip netns exec %s tc qdisc add dev hsyn root tbf rate %s burst 256kb latency 20ms"
           % (self.host, SYNTH_RATE))
        with open(self.dir + "/tvf.yaml", "w") as f:
            f.write("control_socket: %s\nlog_level: info\npairs:\n  - name: tvf0\n    synthetic: eth0\n"
                    "    attach_wait_ms: %d\n    persist: false\n    datapath: %s\n"
                    % (self.sock, ATTACH_WAIT_MS, self.datapath))
        self.tvfd_log = open(self.dir + "/tvfd.log", "w")
        self.spawn(self.guest, "%s --config %s/tvf.yaml" % (TVFD, self.dir), self.tvfd_log)
        end = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if time.monotonic() > end:
                raise Failure("tvfd did not start; see its log:\n" + open(self.dir + "/tvfd.log").read())
            time.sleep(0.05)
        dp = self.status().get("datapath", {})
        self.datapath_ran = dp.get("mode", self.datapath)  # what tvfd runs, which auto or a refusal may change
        self.datapath_reason = dp.get("reason", "")
        sh("ip -n %s addr add 198.18.0.2/24 dev tvf0" % self.guest)
        sh("ip -n %s link set tvf0 up" % self.guest)
        sh("ip netns exec %s iperf3 -s -D -B 198.18.0.1" % self.host)

    def start_traffic(self):
        self.t0 = time.monotonic()
        secs = DURATION_S
        self.udp_recv_out = open(self.dir + "/udp-recv.json", "w")
        self.udp_send_out = open(self.dir + "/udp-send.json", "w")
        self.spawn(self.host, "%s recv 198.18.0.1 6000 %d" % (UDPSTREAM, secs + 3), self.udp_recv_out)
        time.sleep(0.2)
        self.spawn(self.guest, "%s send 198.18.0.1 6000 %d %d" % (UDPSTREAM, PPS, secs), self.udp_send_out)
        self.tcp_out = open(self.dir + "/tcp.json", "w")
        self.spawn(self.guest, "iperf3 -c 198.18.0.1 -R -t %d -J" % secs, self.tcp_out)
        threading.Thread(target=self.sample, daemon=True).start()

    def sample(self):
        last = None
        while not self.stop_sampling.is_set():
            t = time.monotonic()
            try:
                st = self.status()
            except (OSError, ValueError, KeyError):
                time.sleep(SAMPLE_S)
                continue
            c = st["counters"]
            total = {p: c[p]["rx_bytes"] + c[p]["tx_bytes"] for p in ("synthetic", "vf")}
            if last:
                dt = t - last[0]
                syn = (total["synthetic"] - last[1]["synthetic"]) * 8 / dt / 1e6
                vf = (total["vf"] - last[1]["vf"]) * 8 / dt / 1e6
                vfname = st["vf"]["ifname"] if st["vf"] else "-"
                row = (t - self.t0, st["state"], st["active"], vfname, syn, vf)
                self.samples.append(row)
                self.show(row)
            last = (t, total)
            time.sleep(max(0.0, SAMPLE_S - (time.monotonic() - t)))

    def show(self, row):
        t, state, active, vfname, syn, vf = row
        line = ("t=%5.1fs  state %-9s  active %-9s  synthetic %7.0f Mbit/s  vf %7.0f Mbit/s  (vf: %s)"
                % (t, state, active, syn, vf, vfname))
        if self.tty:
            sys.stdout.write("\r\x1b[K" + line)
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def say(self, text):
        if self.tty:
            sys.stdout.write("\r\x1b[K")
        print("t=%5.1fs  >>> %s" % (self.now(), text), flush=True)

    def event(self, name, action, expect=None, timeout=15):
        """Runs `action` while watching for `expect` (a status predicate),
        which marks the switch: a planned detach switches long before its
        --wait returns."""
        t_action = self.now()
        self.say(name)
        errors = []

        def run():
            try:
                action()
            except Failure as e:
                errors.append(e)
        worker = threading.Thread(target=run)
        worker.start()
        t_switch = self.wait_for(expect, timeout, name) if expect else None
        worker.join()
        if errors:
            raise errors[0]
        self.events.append({"name": name, "t_action": t_action, "t_switch": t_switch})

    def plug(self, name):
        sh("%s add-vf %s %s" % (TOPO, self.prefix, name))
        sh("ip netns exec %s tc qdisc add dev h%s root tbf rate %s burst 512kb latency 20ms"
           % (self.host, name, VF_RATE))

    def scenario(self):
        on_vf = lambda name: (lambda s: s["state"] == "active" and s["active"] == "vf"
                              and s["vf"] and s["vf"]["ifname"] == name)
        on_syn = lambda s: s["active"] == "synthetic"
        migrate = lambda phase: sh("TVFCTL=%s %s --socket %s %s" % (TVFCTL, MIGRATE, self.sock, phase))
        time.sleep(2)
        self.event("VF vf0 plugged (attach_wait %d ms)" % ATTACH_WAIT_MS,
                   lambda: self.plug("vf0"), on_vf("vf0"))
        time.sleep(4)
        self.event("planned detach: tvf-migrate pre", lambda: migrate("pre"), on_syn)
        self.event("VF vf0 unplugged by the hypervisor", lambda: sh("%s del-vf %s vf0" % (TOPO, self.prefix)))
        time.sleep(2)
        self.event("new VF vf1 plugged after the move (held)",
                   lambda: self.plug("vf1"))
        time.sleep(1)
        self.event("attach: tvf-migrate post", lambda: migrate("post"), on_vf("vf1"))
        time.sleep(4)
        self.event("surprise removal of vf1", lambda: sh("%s del-vf %s vf1" % (TOPO, self.prefix)), on_syn)
        time.sleep(3)
        self.event("replug: VF vf2 plugged", lambda: self.plug("vf2"), on_vf("vf2"))
        remaining = DURATION_S - self.now() + 0.5
        if remaining > 0:
            time.sleep(remaining)

    # ---- results ----------------------------------------------------------
    def finish(self):
        for p in self.procs[1:]:           # traffic ends by itself; tvfd stays
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.stop_sampling.set()
        time.sleep(SAMPLE_S)
        if self.tty:
            print()
        send = [json.loads(l) for l in open(self.dir + "/udp-send.json") if l.startswith("{")]
        recv = [json.loads(l) for l in open(self.dir + "/udp-recv.json") if l.startswith("{")]
        if not send or not recv:
            raise Failure("the UDP stream reported nothing")
        start_s = send[0]["start_ns"] / 1e9 - self.t0
        pps = send[0]["pps"]
        result = recv[-1]
        lost_at = []
        if os.environ.get("TVF_DEMO_DEBUG"):
            print("missing ranges:", result["missing"][:20], "start", start_s)
        for first, last in result["missing"]:
            for seq in range(first, last + 1):
                lost_at.append(start_s + seq / pps)
        tcp = json.load(open(self.dir + "/tcp.json"))
        self.report(result, lost_at, tcp)
        self.plot()

    def mean_rate(self, a, b):
        rows = [r for r in self.samples if a <= r[0] <= b]
        if not rows:  # events close together: the last sample before b
            rows = [r for r in self.samples if r[0] <= b][-1:]
        return sum(r[4] + r[5] for r in rows) / len(rows) if rows else float("nan")

    def report(self, udp, lost_at, tcp):
        print("\nSummary  (UDP %d datagrams/s guest -> host; TCP host -> guest; host ports shaped: "
              "synthetic %s, VF %s)" % (PPS, SYNTH_RATE, VF_RATE))
        head = "%-44s %12s %10s %14s %14s" % ("event", "switch (ms)", "UDP lost", "before Mbit/s", "after Mbit/s")
        # The reason is the key's own words when it was asked for outright
        # ("datapath: kernel"); it says more when auto chose or a refusal changed it.
        reason = self.datapath_reason
        if reason and reason != "datapath: %s" % self.datapath_ran:
            print("datapath: %s (%s)" % (self.datapath_ran, reason))
        else:
            print("datapath: %s" % self.datapath_ran)
        print(head)
        print("-" * len(head))
        assigned = 0
        for i, e in enumerate(self.events):
            start = e["t_action"] - 0.5
            end = self.events[i + 1]["t_action"] - 0.5 if i + 1 < len(self.events) else 1e9
            lost = sum(1 for t in lost_at if start <= t < end)
            assigned += lost
            settle = e["t_switch"] if e["t_switch"] is not None else e["t_action"]
            switch = "%.0f" % ((e["t_switch"] - e["t_action"]) * 1000) if e["t_switch"] is not None else "-"
            prev = self.events[i - 1] if i else None
            prev_settle = (prev["t_switch"] or prev["t_action"]) if prev else 0.0
            print("%-44s %12s %10d %14.0f %14.0f" % (e["name"], switch, lost,
                                                    self.mean_rate(max(prev_settle + 0.3, e["t_action"] - 1.2),
                                                                   e["t_action"] - 0.1),
                                                    self.mean_rate(settle + 0.3, settle + 1.4)))
        print("-" * len(head))
        print("UDP: %d of %d datagrams received, %d lost (%d outside these events), longest gap %.1f ms"
              % (udp["received"], udp["expected"], udp["lost"], udp["lost"] - assigned, udp["max_gap_ms"]))
        if "error" in tcp:
            print("TCP: iperf3 reported an error: %s" % tcp["error"])
        else:
            end = tcp["end"]
            print("TCP: %.2f GB received, mean %.0f Mbit/s, %d retransmits"
                  % (end["sum_received"]["bytes"] / 1e9, end["sum_received"]["bits_per_second"] / 1e6,
                     end["sum_sent"].get("retransmits", 0)))
        print("Switch times include attach_wait (%d ms) where a VF was plugged; time is sampled every 20 ms."
              % ATTACH_WAIT_MS)

    def plot(self):
        data = os.path.join(self.dir, "timeline.dat")
        with open(data, "w") as f:
            for t, _, _, _, syn, vf in self.samples:
                f.write("%.3f %.1f %.1f\n" % (t, syn, vf))
        peak = max([r[4] for r in self.samples] + [r[5] for r in self.samples] + [1.0])
        lines, legend = [], []
        for i, e in enumerate(self.events):
            # Each event is marked when it was done; the curves show when
            # the datapath followed (a plugged VF waits attach_wait first).
            x = e["t_action"]
            lines.append("set arrow %d from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lc rgb '#555555'"
                         % (i + 1, x, x))
            lines.append("set label %d '%d' at %.3f, graph 1.03 center font ',11'" % (i + 1, i + 1, x))
            legend.append("%d: %s at %.1f s" % (i + 1, e["name"].replace("'", ""), x))
        half = (len(legend) + 1) // 2
        for row, text in enumerate(legend[:half]):
            lines.append("set label %d '%s' at screen 0.07, screen %.3f font ',10'" % (100 + row, text, 0.105 - 0.025 * row))
        for row, text in enumerate(legend[half:]):
            lines.append("set label %d '%s' at screen 0.52, screen %.3f font ',10'" % (200 + row, text, 0.105 - 0.025 * row))
        script = "\n".join([
            "set terminal pngcairo size 1400,760 font 'Sans,11' noenhanced",
            "set output '%s'" % png_path(self.datapath),
            "set title 'tvf0 throughput by path, %s datapath: live migration, surprise removal, replug' offset 0,1"
            % self.datapath_ran,
            "set bmargin 10",
            "set tmargin 4",
            "set xlabel 'time (s)'",
            "set ylabel 'Mbit/s through tvfd (rx + tx)'",
            "set xrange [0:%.0f]" % (DURATION_S + 1),
            "set yrange [0:%.0f]" % (peak * 1.2),
            "set grid ytics",
            "set key top right box opaque",
        ] + lines + [
            "plot '%s' using 1:3 with lines lw 2 lc rgb '#d62728' title 'VF path', \\" % data,
            "     '%s' using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'synthetic path'" % data,
        ])
        with open(os.path.join(self.dir, "timeline.gp"), "w") as f:
            f.write(script + "\n")
        sh("gnuplot %s" % os.path.join(self.dir, "timeline.gp"))
        print("Timeline picture: %s" % png_path(self.datapath))

    def cleanup(self):
        self.stop_sampling.set()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if self.topology_up:
            sh("%s down %s" % (TOPO, self.prefix), check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    # scripts/demo.sh runs this with TVF_DEMO_ARGS_ONLY=1 before it builds:
    # bad arguments fail at once, and the usage names demo.sh.
    parser = argparse.ArgumentParser(prog=os.environ.get("TVF_DEMO_PROG", "demo.py"),
                                     description="tvf live-migration demo")
    parser.add_argument("--datapath", choices=("kernel", "user"), default="kernel",
                        help="the pair's datapath: kernel (tc-BPF redirect, the default) or user (worker threads)")
    args = parser.parse_args()
    if os.environ.get("TVF_DEMO_ARGS_ONLY"):
        return 0
    if os.geteuid() != 0:
        print("demo: needs root (it creates network namespaces)", file=sys.stderr)
        return 2
    for tool in (TVFD, TVFCTL, UDPSTREAM):
        if not os.access(tool, os.X_OK):
            print("demo: %s is missing; run scripts/demo.sh" % tool, file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    demo = Demo(args.datapath)
    try:
        demo.setup()
        demo.start_traffic()
        demo.scenario()
        demo.finish()
        return 0
    except KeyboardInterrupt:
        print("\ndemo: interrupted; cleaning up", file=sys.stderr)
        return 130
    except Failure as e:
        print("\ndemo: %s" % e, file=sys.stderr)
        try:
            print(open(demo.dir + "/tvfd.log").read()[-3000:], file=sys.stderr)
        except OSError:
            pass
        return 1
    finally:
        demo.cleanup()


if __name__ == "__main__":
    sys.exit(main())
