// The layout of the maps that tvf_redirect.bpf.c and TcRedirect share.
// C, so the BPF program and the loader compile the same definitions.
// Changing a layout changes what a restarted daemon can adopt: TcRedirect
// reuses a running program's maps only when type, key, value and size match.
#ifndef TVF_TC_REDIRECT_ABI_H
#define TVF_TC_REDIRECT_ABI_H

#include <linux/types.h>

// tvf_cfg: ARRAY of __u32 words.
#define TVF_CFG_MODE 0    // TVF_MODE_*
#define TVF_CFG_ACTIVE 1  // the slot egress redirects to (TVF_SLOT_VF or TVF_SLOT_SYNTHETIC)
#define TVF_CFG_TAP 2     // tvf0's ifindex; 0: ingress drops and counts a drop
#define TVF_CFG_MIRROR 3  // non-zero: clone every egress frame into tvf0 (for tcpdump)
#define TVF_CFG_WORDS 4

#define TVF_MODE_USER 0
#define TVF_MODE_KERNEL 1

// tvf_ports: DEVMAP keyed by slot. The kernel clears an entry when its
// netdev unregisters.
#define TVF_SLOT_VF 0
#define TVF_SLOT_SYNTHETIC 1
#define TVF_SLOTS 2
// Stats only: ingress on an attached backend that is in no slot.
#define TVF_SLOT_OTHER 2
#define TVF_STAT_SLOTS 3

#define TVF_DIR_TX 0  // tvf0 -> backend (egress program)
#define TVF_DIR_RX 1  // backend -> tvf0 (ingress program)
#define TVF_STATS_KEY(slot, dir) ((slot) * 2 + (dir))
#define TVF_STATS_ENTRIES (TVF_STAT_SLOTS * 2)

// skb->mark of the mirror clone, so the egress program passes it; any other
// frame carrying this mark would pass too (0x7476 = "tv", then "m1").
#define TVF_MIRROR_MARK 0x74766d31u

// tvf_stats: PERCPU_ARRAY of these, keyed by TVF_STATS_KEY.
//   packets, bytes: frames redirected (bytes from the Ethernet header on,
//                   a GSO frame counts once with its whole length)
//   drops:          frames the program dropped (no backend in either slot
//                   for TX; no tvf0 ifindex for RX)
//   fallbacks:      TX frames meant for this slot that went to the other
//                   one because this slot's DEVMAP entry was gone
struct tvf_stats {
  __u64 packets;
  __u64 bytes;
  __u64 drops;
  __u64 fallbacks;
};

#endif
