#!/usr/bin/env bash
# The test topology, in two network namespaces made here:
#
#   host  ns  "$P-h": bridge br0 (198.18.0.1/24, fd00:18::1/64) = the host's
#                      switch and the endpoint; ports hsyn and hvfN
#   guest ns  "$P-g": eth0 (synthetic veth, peer hsyn) and vfN (VF veth,
#                      peer hvfN) with the SAME MAC; tvfd owns tvf0 here
#
#   topology.sh up PREFIX [MTU]      create both namespaces
#   topology.sh add-vf PREFIX NAME   plug a VF veth NAME (down, as a fresh VF)
#   topology.sh del-vf PREFIX NAME   unplug it (delete the veth)
#   topology.sh down PREFIX          stop what runs there (SIGTERM, then
#                                    after 5 s SIGKILL), delete both namespaces
#
# Only addresses from 198.18.0.0/15 and fd00::/8 are used; the host's own
# namespace is never touched.
set -euo pipefail
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1; P=$2
H="$P-h"; G="$P-g"
MAC=${TVF_MAC:-02:00:c6:12:00:02}

case "$cmd" in
  up)
    MTU=${3:-1500}
    ip netns add "$H"
    ip netns add "$G"
    ip -n "$H" link set lo up
    ip -n "$G" link set lo up
    # A fixed address: a bridge without one takes the lowest port MAC, so
    # plugging or unplugging a (random-MAC) veth peer would change the
    # endpoint's MAC under the guest's ARP entry. A real switch does not.
    ip -n "$H" link add br0 address 02:00:c6:12:00:01 type bridge
    ip -n "$H" link set br0 mtu "$MTU"
    ip -n "$H" addr add 198.18.0.1/24 dev br0
    ip -n "$H" addr add fd00:18::1/64 dev br0 nodad
    ip -n "$H" link set br0 up
    ip -n "$G" link add eth0 address "$MAC" mtu 1500 type veth peer name hsyn netns "$H"
    ip -n "$H" link set hsyn mtu "$MTU" master br0 up
    # The synthetic never gets an IPv6 link-local address before tvfd claims it.
    ip netns exec "$G" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    ;;
  add-vf)
    NAME=${3:?vf name}
    ip -n "$G" link add "$NAME" address "$MAC" type veth peer name "h$NAME" netns "$H"
    ip -n "$H" link set "h$NAME" mtu "$(ip -n "$H" -o link show br0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')" master br0 up
    ;;
  del-vf)
    NAME=${3:?vf name}
    ip -n "$G" link del "$NAME"
    ;;
  down)
    # What runs in the guest (a tvfd) gets SIGTERM and up to 5 s to exit
    # cleanly, releasing its backends, before what is left is killed.
    ip netns pids "$G" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(ip netns pids "$G" 2>/dev/null)" ] && break
      sleep 0.1
    done
    ip netns pids "$G" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns pids "$H" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$G" 2>/dev/null || true
    ip netns del "$H" 2>/dev/null || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
