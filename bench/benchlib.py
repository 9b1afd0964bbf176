"""What the benchmarks under bench/ share: where the build is, a shell
helper, the load average they print, and a namespace's UDP counters.

Imported by bench/datapath.py, failover.py, soak.py and tc_ceiling.py (run
as scripts, their own folder is first on sys.path).
"""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("TVF_BUILD_DIR", os.path.join(ROOT, "build"))
TOPO = os.path.join(ROOT, "scripts", "topology.sh")


def sh(cmd, check=False):
    """Runs `cmd` in a shell, output captured. check=True: a non-zero exit
    raises RuntimeError with the command, its status and its output."""
    r = subprocess.run(cmd, shell=True, text=True, capture_output=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r


def load():
    """The 1, 5 and 15 minute load averages, as /proc/loadavg says them."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def udp_counters(ns):
    """The Udp: row of /proc/net/snmp in namespace `ns`, as {name: int}
    (InDatagrams, RcvbufErrors, InErrors, ...); {} when it cannot be read."""
    r = sh("ip netns exec %s cat /proc/net/snmp" % ns)
    rows = [l.split()[1:] for l in r.stdout.splitlines() if l.startswith("Udp:")]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], (int(x) for x in rows[1])))
