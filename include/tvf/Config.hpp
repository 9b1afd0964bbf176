// The daemon's configuration: immutable value types with documented defaults.
// Parsed from YAML by src/ConfigLoader; conf/tvf.yaml explains every key.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tvf/MacAddress.hpp"

namespace tvf {

enum class VfDatapath { Auto, Packet, Verbs };
// How frames move: the kernel datapath (tc-BPF redirect), the user one
// (worker threads), or auto (kernel where its programs load and the VF
// backend is a netdev).
enum class DatapathMode { Auto, Kernel, User };
// Where the kernel datapath attaches its programs: the tcx hooks (kernel
// 6.6+), a clsact qdisc, or auto (tcx where the kernel has it).
enum class TcHookChoice { Auto, Tcx, Clsact };
// What to do when a VF cannot take the TAP's MTU at attach time.
enum class VfMtuPolicy {
  Refuse,  // do not attach; the pair stays on the synthetic (default)
  Clamp,   // lower the TAP's MTU to what the VF accepts, then attach
};
enum class LogLevel { Trace, Debug, Info, Warn, Error };

struct PairConfig {
  std::string name;                       // the TAP interface the OS uses
  std::string synthetic;                  // interface name, or empty when syntheticMac is set
  std::optional<MacAddress> syntheticMac; // from "mac:xx:xx:..."
  bool transparent = true;                // false: the VF is left to the OS
  std::chrono::milliseconds attachWait{2000};
  DatapathMode datapath = DatapathMode::Auto;
  TcHookChoice tcHook = TcHookChoice::Auto;
  VfDatapath vfDatapath = VfDatapath::Auto;
  unsigned queues = 1;
  bool persist = true;
  unsigned announceCount = 3;
  std::string onSwitch;                   // hook: PAIR NEWPATH IFNAME
  std::chrono::milliseconds drainGrace{200};  // VF RX drained after a planned detach
  VfMtuPolicy vfMtuPolicy = VfMtuPolicy::Refuse;
  std::chrono::milliseconds hookTimeout{5000};
  // A VF whose carrier came back gets TX again only after this long (like
  // bonding's updelay): the switch port behind it may lag its link.
  std::chrono::milliseconds carrierUpDelay{2000};

  // How the synthetic is named in logs: the name, or "mac:..."
  std::string syntheticSpec() const {
    return syntheticMac ? "mac:" + syntheticMac->toString() : synthetic;
  }
};

// One pair's configuration as one immutable snapshot; a reload swaps it.
using PairConfigPtr = std::shared_ptr<const PairConfig>;

struct Config {
  std::string controlSocket = "/run/tvf/tvf.sock";
  std::string controlGroup;  // empty: root only
  LogLevel logLevel = LogLevel::Info;
  // Datapath workers' scheduling: 0 = ordinary threads (SCHED_OTHER),
  // 1..99 = SCHED_FIFO at that priority, ahead of applications, as the
  // kernel's own packet processing (softirq) is.
  int workerPriority = 1;
  // "IPv4:port" or "[IPv6]:port" to serve GET /metrics on; empty: off.
  std::string metricsListen;
  std::vector<PairConfig> pairs;
};

inline constexpr const char* kDefaultControlSocket = "/run/tvf/tvf.sock";

}  // namespace tvf
