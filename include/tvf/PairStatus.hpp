// A pair's status as the control protocol reports it: a value type that
// failover/Pair fills, protocol/StatusReport renders and tvfctl reads
// back. No kernel or library type appears here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tvf/Capabilities.hpp"
#include "tvf/PairState.hpp"
#include "tvf/PathCounters.hpp"

namespace tvf {

// How a datapath moves a pair's frames, as it describes itself.
struct DatapathStatus {
  std::string mode = "user";  // "user" (worker threads) or "kernel" (tc-BPF redirect)
  std::string reason;         // why this mode was chosen
  std::size_t workers = 0;    // worker threads (0 in kernel mode)
  std::string scheduling;     // "fifo:N", "other", "other (fifo:N refused: ...)"; "" without workers
  bool mirror = false;        // kernel: egress mirrored into tvf0 for a packet socket (tcpdump)
  std::string hook;           // kernel: where the programs attach, "tcx" or "clsact"; "" in user mode
  std::string hookReason;     // why that hook ("auto: the kernel has tcx hooks", "tc_hook: clsact")
  std::uint64_t fallbacks = 0;  // kernel: frames meant for a vanished backend sent to the other
};

struct PairStatus {
  struct Backend {
    std::string ifname;
    int ifindex = 0;
    bool carrier = false;
    std::string datapath;  // VF only: "packet" / "verbs"
  };
  std::string name;
  std::string tap;
  bool transparent = true;
  PairState state = PairState::NoVf;
  PathKind active = PathKind::Synthetic;
  Backend synthetic;
  std::optional<Backend> vf;
  Capabilities caps;
  std::uint32_t mtu = 0;
  PathCounters syntheticCounters;
  PathCounters vfCounters;
  std::uint64_t switches = 0;
  bool held = false;
  // Offloads the operator turned off on the TAP (ethtool -K) and tvf keeps
  // off: caps.offloads is what both paths carry, these are not offered.
  std::vector<std::string> operatorOffloadsOff;
  // Matching VFs present but not the pair's (held by a planned detach,
  // waiting out attach_wait, or not the one `tvfctl attach IFNAME` asked
  // for), by ifindex.
  std::vector<std::string> candidates;
  // The only VF the pair may take, as `tvfctl attach PAIR IFNAME` named it,
  // until a `tvfctl attach PAIR` without a name; nullopt: any.
  std::optional<std::string> attachOnly;
  std::uint64_t generation = 0;
  std::uint64_t attachFailures = 0;
  std::uint64_t illegalTransitions = 0;
  std::uint64_t refusedVfs = 0;
  std::uint64_t controlOpRollbacks = 0;
  std::int64_t lastSwitchUnixMs = 0;
  std::string lastError;
  // What the pair's datapath says of itself (Datapath::describe()).
  DatapathStatus datapath;
};

}  // namespace tvf
