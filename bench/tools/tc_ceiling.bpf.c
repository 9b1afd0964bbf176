// SPDX-License-Identifier: GPL-2.0
// The least a tc program can do on each of the kernel datapath's hooks, for
// bench/tc_ceiling.py (loaded by tvf-tc-ceiling): what the hook and the
// redirect cost by themselves, with no map and no counter.
//
//   tvf_bench_pass  returns TC_ACT_UNSPEC (tcx: TCX_NEXT; with no program
//                   after it the frame goes on as if there were none)
//   tvf_bench_rx    bpf_redirect(target, BPF_F_INGRESS): the frame enters
//                   the stack as received on `target` (tvf_ingress's way)
//   tvf_bench_tx    bpf_redirect(target, 0): the frame leaves through
//                   `target` (tvf_egress's way)
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

// Set by the loader before the object loads (.rodata).
volatile const __u32 target_ifindex = 0;

SEC("tc")
int tvf_bench_pass(struct __sk_buff* skb) { return TC_ACT_UNSPEC; }

SEC("tc")
int tvf_bench_rx(struct __sk_buff* skb) { return bpf_redirect(target_ifindex, BPF_F_INGRESS); }

SEC("tc")
int tvf_bench_tx(struct __sk_buff* skb) { return bpf_redirect(target_ifindex, 0); }

char LICENSE[] SEC("license") = "GPL";
