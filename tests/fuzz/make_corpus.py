#!/usr/bin/env python3
"""Writes the seed corpus of the libFuzzer harnesses (tests/fuzz/corpus/).

Netlink seeds are real kernel messages: the script makes a throwaway
network namespace (veth pairs, bridge, TAP, addresses from 198.18.0.0/15
and fd00::/8, multicast groups), dumps its links and addresses over a
NETLINK_ROUTE socket (and its neighbour table), provokes extended-ack errors, reads
/proc/net/dev_mcast, and deletes the namespace. Text seeds (config,
control requests) come from the repo and the protocol. Needs root.
The crash inputs of issue 12 are kept beside the seeds (crash-issue12-*).

  tests/fuzz/make_corpus.py            rewrite the seeds (crash files stay)
"""
import os
import socket
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
REPO = os.path.dirname(os.path.dirname(ROOT))

RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR, RTM_GETNEIGH = 16, 18, 20, 22, 30
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP, NLM_F_CREATE, NLM_F_EXCL = 1, 4, 0x300, 0x400, 0x200
NLMSG_ERROR, NLMSG_DONE = 2, 3
SOL_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 270, 10, 11


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def messages(sock):
    """Receives until NLMSG_DONE or an error; yields raw messages."""
    while True:
        buf = sock.recv(65536)
        off = 0
        while off + 16 <= len(buf):
            ln, typ = struct.unpack_from("=IH", buf, off)
            yield bytes(buf[off:off + ln])
            if typ in (NLMSG_DONE, NLMSG_ERROR):
                return
            off += (ln + 3) & ~3


def dump(sock, typ, seq):
    hdr = struct.pack("=IHHII", 16 + 16, typ, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
    sock.send(hdr + b"\0" * 16)
    return [m for m in messages(sock) if struct.unpack_from("=H", m, 4)[0] not in (NLMSG_DONE, NLMSG_ERROR)]


def attr(typ, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, typ) + payload + b"\0" * (((ln + 3) & ~3) - ln)


def in_namespace():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    sock.bind((0, 0))
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    for i, m in enumerate(dump(sock, RTM_GETLINK, 1)):
        write("link_message", "kernel-%02d" % i, m)
    for i, m in enumerate(dump(sock, RTM_GETADDR, 2)):
        write("address_message", "kernel-%02d" % i, m)
    # Neighbour entries (an ndmsg is 12 bytes; the dump header carries 16).
    for i, m in enumerate(dump(sock, RTM_GETNEIGH, 3)):
        write("neighbour_message", "kernel-%02d" % i, m)
    # Extended acks: a link of a kind that does not exist, and an MTU the
    # veth refuses; uncapped and then capped (NETLINK_CAP_ACK).
    n = 0
    for cap in (0, 1):
        sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, cap)
        bad_kind = attr(3, b"fz0\0") + attr(18, attr(1, b"nosuchkind\0"))
        bad_mtu = attr(4, struct.pack("=I", 1 << 20))
        for body, flags, index in ((bad_kind, NLM_F_CREATE | NLM_F_EXCL, 0), (bad_mtu, 0, 2)):
            payload = struct.pack("=BxHiII", 0, 0, index, 0, 0) + body
            sock.send(struct.pack("=IHHII", 16 + len(payload), RTM_NEWLINK,
                                  NLM_F_REQUEST | NLM_F_ACK | flags, 10 + n, 0) + payload)
            for m in messages(sock):
                write("extack_message", "kernel-%02d" % n, m)
                n += 1
    with open("/proc/net/dev_mcast", "rb") as f:
        write("dev_mcast", "kernel-00", f.read())


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        in_namespace()
        return
    ns = "tvffuzzseed%d" % os.getpid()
    sh = lambda c: subprocess.run(["ip", "netns", "exec", ns, "sh", "-ec", c], check=True)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        sh("ip link set lo up"
           " && ip link add eth0 type veth peer name vf0 && ip link add br0 type bridge"
           " && ip link set vf0 master br0 && ip link add dm0 type veth peer name dm1"
           " && ip tuntap add dev tvf0 mode tap multi_queue"
           " && ip link set eth0 address 02:00:c6:12:00:02 && ip link set eth0 mtu 9000"
           " && for i in eth0 vf0 br0 dm0 dm1 tvf0; do ip link set $i up; done"
           " && ip addr add 198.18.0.2/24 dev tvf0 && ip addr add fd00:18::2/64 dev tvf0 nodad"
           " && ip addr add 198.19.0.1/32 peer 198.19.0.2 dev dm0"
           " && ip -6 addr add fd00:19::1/64 dev dm0 && ip maddr add 33:33:00:00:00:01 dev dm0"
           " && ip maddr add 01:00:5e:00:00:fb dev tvf0"
           " && ip neigh add 198.18.0.1 lladdr 02:00:c6:12:00:01 dev tvf0 nud reachable"
           " && ip neigh add 198.18.0.3 lladdr 02:00:c6:12:00:03 dev tvf0 nud stale"
           " && ip neigh add fd00:18::1 lladdr 02:00:c6:12:00:01 dev tvf0 nud permanent")
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--inside"], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", ns])

    with open(os.path.join(REPO, "conf/tvf.yaml"), "rb") as f:
        write("config", "shipped", f.read())
    with open(os.path.join(REPO, "tests/data/broken.yaml"), "rb") as f:
        write("config", "broken", f.read())
    write("config", "minimal", b"pairs:\n  - name: tvf0\n    synthetic: mac:02:00:c6:12:00:02\n")
    write("config", "flow", b"{control_socket: /run/t.sock, worker_priority: 0, pairs: [{name: a, synthetic: eth0}]}\n")
    write("config", "anchors", b"p: &x {name: tvf0, synthetic: eth0}\npairs: [*x, *x]\nlog_level: !!str debug\n")
    requests = [
        b'{"cmd":"status"}\n',
        b'{"cmd":"metrics"}\n{"cmd":"notify"}\n{"cmd":"reload"}\n',
        b'{"cmd":"detach","pair":"tvf0","wait":true}\n',
        b'{"cmd":"attach","pair":"tvf0","ifname":"vf1"}\n',
        b'{"cmd":"attach","pair":"tvf0","ifname":7}\n[1,2]\n"x"\n{"cmd":1}\nnot json\n',
        b'{"cmd":"unknown \\u00e9\\ud83d\\ude00","pair":"t\\u0000v"}\n',
    ]
    for i, r in enumerate(requests):
        write("control_request", "seed-%02d" % i, r)
    # ARP frames as a VF's path probe sees them: a reply to the pair's MAC
    # (padded to 60 bytes and bare), and a request.
    mac, host = bytes([2, 0, 0xc6, 0x12, 0, 2]), bytes([2, 0, 0xc6, 0x12, 0, 1])
    def arp(op, sha, spa, tha, tpa, pad=True):
        f = tha + sha + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa
        return f + b"\0" * (60 - len(f)) if pad else f
    write("arp_reply", "reply-padded", arp(2, host, bytes([198, 18, 0, 1]), mac, bytes([198, 18, 0, 2])))
    write("arp_reply", "reply-42", arp(2, host, bytes([198, 18, 0, 1]), mac, bytes([198, 18, 0, 2]), False))
    write("arp_reply", "request", arp(1, mac, bytes([198, 18, 0, 2]), host, bytes([198, 18, 0, 1])))
    write("dev_mcast", "seed-00",
          b"5    tvf0            1     0     333300000001\n5    tvf0            1     0     01005e000001\n")


if __name__ == "__main__":
    main()
