// SPDX-License-Identifier: GPL-2.0
// tvf's kernel datapath: two tc (cls_bpf, direct-action) programs that move
// a pair's frames between the TAP tvf0 and its backends without leaving the
// kernel. TcRedirect.hpp loads and attaches them; the layout of the maps
// below is shared with it (TcRedirectAbi.h).
//
//   tvf_egress  on tvf0's clsact egress:   tvf0 -> the active backend
//   tvf_ingress on every claimed backend's clsact ingress: backend -> tvf0,
//               entering the stack as received on tvf0 (BPF_F_INGRESS)
//
// Modes (cfg[TVF_CFG_MODE]):
//   TVF_MODE_USER   egress passes (the frame reaches the TAP fd, the user
//                   datapath reads it); ingress drops (the claim's drop: the
//                   packet taps, and so the user datapath's AF_PACKET
//                   sockets, saw the frame before tc). Nothing is counted.
//   TVF_MODE_KERNEL both redirect; per-slot counters are kept.
//
// Fallback: the backends sit in a DEVMAP, whose entry the kernel clears
// itself when the netdev unregisters (dev_map_notification on
// NETDEV_UNREGISTER). When the active slot's entry is gone, egress uses the
// other slot and counts a fallback on the slot it wanted.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "datapath/kernel/TcRedirectAbi.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, TVF_CFG_WORDS);
  __type(key, __u32);
  __type(value, __u32);
} tvf_cfg SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, TVF_SLOTS);
  __type(key, __u32);
  __type(value, struct bpf_devmap_val);
} tvf_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, TVF_STATS_ENTRIES);
  __type(key, __u32);
  __type(value, struct tvf_stats);
} tvf_stats SEC(".maps");

static __always_inline __u32 cfg_word(__u32 key) {
  __u32* v = bpf_map_lookup_elem(&tvf_cfg, &key);
  return v ? *v : 0;
}

static __always_inline struct tvf_stats* stats_of(__u32 slot, __u32 dir) {
  __u32 key = TVF_STATS_KEY(slot, dir);
  return bpf_map_lookup_elem(&tvf_stats, &key);
}

SEC("tc")
int tvf_egress(struct __sk_buff* skb) {
  if (cfg_word(TVF_CFG_MODE) != TVF_MODE_KERNEL) return TC_ACT_OK;
  // Our own mirror clone (below): let it through to the TAP, where the nit
  // (tcpdump) sees it and the daemon reads and discards it.
  if (skb->mark == TVF_MIRROR_MARK) return TC_ACT_OK;

  __u32 want = cfg_word(TVF_CFG_ACTIVE);
  if (want >= TVF_SLOTS) want = TVF_SLOT_SYNTHETIC;
  __u32 slot = want;
  struct bpf_devmap_val* port = bpf_map_lookup_elem(&tvf_ports, &slot);
  if (!port) {
    slot = want ^ 1;  // the other slot (TVF_SLOTS == 2)
    port = bpf_map_lookup_elem(&tvf_ports, &slot);
  }
  struct tvf_stats* s = stats_of(want, TVF_DIR_TX);
  if (!port) {
    if (s) s->drops++;
    return TC_ACT_SHOT;
  }
  if (slot != want) {
    if (s) s->fallbacks++;
    s = stats_of(slot, TVF_DIR_TX);
  }
  if (cfg_word(TVF_CFG_MIRROR)) {
    __u32 tap = cfg_word(TVF_CFG_TAP);
    if (tap) {
      __u32 mark = skb->mark;
      skb->mark = TVF_MIRROR_MARK;
      bpf_clone_redirect(skb, tap, 0);
      skb->mark = mark;
    }
  }
  if (s) {
    s->packets++;
    s->bytes += skb->len;
  }
  return bpf_redirect(port->ifindex, 0);
}

SEC("tc")
int tvf_ingress(struct __sk_buff* skb) {
  if (cfg_word(TVF_CFG_MODE) != TVF_MODE_KERNEL) return TC_ACT_SHOT;
  // Which slot this backend is in: the DEVMAP holds the ifindexes; a
  // backend in neither slot (cleared but still attached) counts as "other".
  __u32 slot = TVF_SLOT_VF;
  struct bpf_devmap_val* port = bpf_map_lookup_elem(&tvf_ports, &slot);
  if (!port || port->ifindex != skb->ingress_ifindex) {
    slot = TVF_SLOT_SYNTHETIC;
    port = bpf_map_lookup_elem(&tvf_ports, &slot);
    if (!port || port->ifindex != skb->ingress_ifindex) slot = TVF_SLOT_OTHER;
  }
  struct tvf_stats* s = stats_of(slot, TVF_DIR_RX);
  __u32 tap = cfg_word(TVF_CFG_TAP);
  if (!tap) {
    if (s) s->drops++;
    return TC_ACT_SHOT;
  }
  if (s) {
    s->packets++;
    s->bytes += skb->len;
  }
  return bpf_redirect(tap, BPF_F_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
