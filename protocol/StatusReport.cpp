#include "protocol/StatusReport.hpp"

#include <sstream>

#include <fmt/format.h>

namespace tvf {
nlohmann::json countersJson(const PathCounters& c) {
  return {{"rx_packets", c.rxPackets}, {"rx_bytes", c.rxBytes},     {"tx_packets", c.txPackets},
          {"tx_bytes", c.txBytes},     {"rx_dropped", c.rxDropped}, {"tx_dropped", c.txDropped}};
}

PathCounters countersFromJson(const nlohmann::json& j) {
  PathCounters c;
  if (!j.is_object()) return c;
  auto get = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : std::uint64_t{0};
  };
  c.rxPackets = get("rx_packets");
  c.rxBytes = get("rx_bytes");
  c.txPackets = get("tx_packets");
  c.txBytes = get("tx_bytes");
  c.rxDropped = get("rx_dropped");
  c.txDropped = get("tx_dropped");
  return c;
}

std::string prometheusLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

nlohmann::json pairStatusJson(const PairStatus& s) {
  nlohmann::json j;
  j["name"] = s.name;
  j["tap"] = s.tap;
  j["transparent"] = s.transparent;
  j["state"] = std::string(stateName(s.state));
  j["active"] = pathName(s.active);
  j["synthetic"] = {{"ifname", s.synthetic.ifname}, {"ifindex", s.synthetic.ifindex}, {"carrier", s.synthetic.carrier}};
  if (s.vf) {
    j["vf"] = {{"ifname", s.vf->ifname},
               {"ifindex", s.vf->ifindex},
               {"carrier", s.vf->carrier},
               {"datapath", s.vf->datapath.empty() ? nullptr : nlohmann::json(s.vf->datapath)}};
  } else {
    j["vf"] = nullptr;
  }
  j["caps"] = {{"offloads", s.caps.offloads.names()},
               {"gso_max_size", s.caps.gsoMaxSize},
               {"gso_max_segs", s.caps.gsoMaxSegs},
               {"mtu", s.mtu},
               {"operator_off", s.operatorOffloadsOff}};
  j["counters"] = {{"synthetic", countersJson(s.syntheticCounters)}, {"vf", countersJson(s.vfCounters)}};
  j["switches"] = s.switches;
  j["held"] = s.held;
  j["candidates"] = s.candidates;
  j["attach_only"] = s.attachOnly ? nlohmann::json(*s.attachOnly) : nlohmann::json(nullptr);
  j["generation"] = s.generation;
  j["attach_failures"] = s.attachFailures;
  j["illegal_transitions"] = s.illegalTransitions;
  j["refused_vfs"] = s.refusedVfs;
  j["control_op_rollbacks"] = s.controlOpRollbacks;
  j["last_switch_unix_ms"] = s.lastSwitchUnixMs;
  j["last_error"] = s.lastError.empty() ? nullptr : nlohmann::json(s.lastError);
  j["workers"] = {{"count", s.datapath.workers}, {"scheduling", s.datapath.scheduling}};
  const bool kernel = s.datapath.mode == "kernel";
  j["datapath"] = {
      {"mode", s.datapath.mode},
      {"reason", s.datapath.reason},
      {"gives_up",
       kernel ? "tvf0's own counters (ip -s link) do not see redirected frames: the counters here are the real "
                "figures; tvf0's qdisc is bypassed (the backend's applies); tcpdump on tvf0 sees egress only "
                "while mirroring is on"
              : "every frame crosses userspace twice: below the kernel path's throughput and latency, and the "
                "workers' CPU time is taken from the applications"},
      {"mirror", s.datapath.mirror},
      {"fallbacks", s.datapath.fallbacks},
      {"hook", s.datapath.hook.empty() ? nullptr : nlohmann::json(s.datapath.hook)},
      {"hook_reason", s.datapath.hookReason.empty() ? nullptr : nlohmann::json(s.datapath.hookReason)}};
  return j;
}

nlohmann::json statusJson(const std::vector<PairStatus>& pairs, const DaemonStats& stats) {
  nlohmann::json j;
  j["pairs"] = nlohmann::json::array();
  for (const auto& p : pairs) j["pairs"].push_back(pairStatusJson(p));
  // Honest about hardware: the project's tests run on veth, never on SR-IOV.
  j["hardware"] = stats.verbsBuilt
                      ? "AF_PACKET datapath tested on veth; verbs raw-packet datapath built and unit-tested "
                        "against a fake queue, never run on an RDMA device; nothing run on real SR-IOV hardware"
                      : "packet datapath only (AF_PACKET); tested on veth, not on real SR-IOV hardware";
  return j;
}

std::string metricsText(const std::vector<PairStatus>& pairs, const DaemonStats& stats) {
  std::ostringstream o;
  auto family = [&](const char* name, const char* type, const char* help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  struct Field {
    const char* name;
    std::uint64_t PathCounters::*member;
    const char* help;
  };
  const Field fields[] = {
      {"tvf_path_rx_packets_total", &PathCounters::rxPackets, "Frames received from a path into the TAP."},
      {"tvf_path_rx_bytes_total", &PathCounters::rxBytes, "Bytes received from a path into the TAP."},
      {"tvf_path_tx_packets_total", &PathCounters::txPackets, "Frames sent from the TAP out of a path."},
      {"tvf_path_tx_bytes_total", &PathCounters::txBytes, "Bytes sent from the TAP out of a path."},
      {"tvf_path_rx_dropped_total", &PathCounters::rxDropped, "Frames from a path that could not enter the TAP."},
      {"tvf_path_tx_dropped_total", &PathCounters::txDropped, "Frames from the TAP that a path refused."},
  };
  for (const auto& f : fields) {
    family(f.name, "counter", f.help);
    for (const auto& p : pairs) {
      o << f.name << "{pair=\"" << prometheusLabel(p.name) << "\",path=\"synthetic\"} " << p.syntheticCounters.*f.member << "\n";
      o << f.name << "{pair=\"" << prometheusLabel(p.name) << "\",path=\"vf\"} " << p.vfCounters.*f.member << "\n";
    }
  }
  family("tvf_switches_total", "counter", "Datapath switches between synthetic and VF.");
  for (const auto& p : pairs) o << "tvf_switches_total{pair=\"" << prometheusLabel(p.name) << "\"} " << p.switches << "\n";
  family("tvf_attach_failures_total", "counter", "VF attaches that failed.");
  for (const auto& p : pairs) o << "tvf_attach_failures_total{pair=\"" << prometheusLabel(p.name) << "\"} " << p.attachFailures << "\n";
  family("tvf_illegal_transitions_total", "counter", "Events that had no transition in the pair's state.");
  for (const auto& p : pairs) o << "tvf_illegal_transitions_total{pair=\"" << prometheusLabel(p.name) << "\"} " << p.illegalTransitions << "\n";
  family("tvf_control_op_rollbacks_total", "counter", "TAP control operations refused by a backend and rolled back.");
  for (const auto& p : pairs) o << "tvf_control_op_rollbacks_total{pair=\"" << prometheusLabel(p.name) << "\"} " << p.controlOpRollbacks << "\n";
  family("tvf_pair_state", "gauge", "1 for the pair's current lifecycle state.");
  for (const auto& p : pairs) {
    for (PairState s : {PairState::NoVf, PairState::Waiting, PairState::Attaching, PairState::Active,
                        PairState::Detaching, PairState::Failed}) {
      o << "tvf_pair_state{pair=\"" << prometheusLabel(p.name) << "\",state=\"" << stateName(s) << "\"} "
        << (p.state == s ? 1 : 0) << "\n";
    }
  }
  family("tvf_active_path", "gauge", "1 for the path TX uses now.");
  for (const auto& p : pairs) {
    o << "tvf_active_path{pair=\"" << prometheusLabel(p.name) << "\",path=\"synthetic\"} " << (p.active == PathKind::Synthetic) << "\n";
    o << "tvf_active_path{pair=\"" << prometheusLabel(p.name) << "\",path=\"vf\"} " << (p.active == PathKind::Vf) << "\n";
  }
  family("tvf_pair_datapath", "gauge",
         "1 for the datapath the pair runs (mode: kernel = tc-BPF redirect, user = worker threads) and why.");
  for (const auto& p : pairs)
    o << "tvf_pair_datapath{pair=\"" << prometheusLabel(p.name) << "\",mode=\"" << prometheusLabel(p.datapath.mode)
      << "\",reason=\"" << prometheusLabel(p.datapath.reason) << "\"} 1\n";
  family("tvf_kernel_fallbacks_total", "counter",
         "Kernel datapath: frames for a backend that had vanished, sent out of the other one in the kernel.");
  for (const auto& p : pairs)
    o << "tvf_kernel_fallbacks_total{pair=\"" << prometheusLabel(p.name) << "\"} " << p.datapath.fallbacks << "\n";
  family("tvf_egress_mirror", "gauge",
         "Kernel datapath: 1 while egress is mirrored into tvf0 for a packet socket (tcpdump) on it.");
  for (const auto& p : pairs)
    o << "tvf_egress_mirror{pair=\"" << prometheusLabel(p.name) << "\"} " << p.datapath.mirror << "\n";
  family("tvf_last_switch_timestamp_seconds", "gauge", "Unix time of the last datapath switch (0: none).");
  for (const auto& p : pairs)
    o << "tvf_last_switch_timestamp_seconds{pair=\"" << prometheusLabel(p.name) << "\"} "
      << fmt::format("{:.3f}", static_cast<double>(p.lastSwitchUnixMs) / 1000.0) << "\n";
  family("tvf_netlink_events_total", "counter", "Link events received from netlink.");
  o << "tvf_netlink_events_total " << stats.netlinkEvents << "\n";
  family("tvf_netlink_resyncs_total", "counter", "Full link re-dumps (start and after ENOBUFS).");
  o << "tvf_netlink_resyncs_total " << stats.netlinkResyncs << "\n";
  family("tvf_hooks_started_total", "counter", "on_switch hooks started.");
  o << "tvf_hooks_started_total " << stats.hooksStarted << "\n";
  family("tvf_hooks_failed_total", "counter", "on_switch hooks that failed, timed out or could not start.");
  o << "tvf_hooks_failed_total " << stats.hooksFailed << "\n";
  family("tvf_control_requests_total", "counter", "Control socket requests served.");
  o << "tvf_control_requests_total " << stats.controlRequests << "\n";
  family("tvf_control_errors_total", "counter", "Control socket requests answered with an error.");
  o << "tvf_control_errors_total " << stats.controlErrors << "\n";
  family("tvf_control_clients_dropped_total", "counter", "Control clients dropped for not reading their replies.");
  o << "tvf_control_clients_dropped_total " << stats.controlClientsDropped << "\n";
  family("tvf_control_clients_evicted_total", "counter", "Idle control clients closed to make room at the client limit.");
  o << "tvf_control_clients_evicted_total " << stats.controlClientsEvicted << "\n";
  family("tvf_control_clients_refused_total", "counter", "Control connections closed for want of file descriptors.");
  o << "tvf_control_clients_refused_total " << stats.controlClientsRefused << "\n";
  family("tvf_pair_switches_to_total", "counter", "Datapath switches by the path TX moved to.");
  for (const auto& s : stats.switchesTo)
    o << "tvf_pair_switches_to_total{pair=\"" << prometheusLabel(s.pair) << "\",path=\"" << s.path << "\"} " << s.count << "\n";
  return o.str();
}

std::string statusTable(const nlohmann::json& status) {
  std::ostringstream o;
  o << fmt::format("{:<10} {:<10} {:<10} {:<14} {:<14} {:>12} {:>12} {:>8}\n", "PAIR", "STATE", "ACTIVE",
                   "SYNTHETIC", "VF", "SYN rx/tx", "VF rx/tx", "SWITCHES");
  for (const auto& p : status.value("pairs", nlohmann::json::array())) {
    const auto& cs = p["counters"]["synthetic"];
    const auto& cv = p["counters"]["vf"];
    std::string vf = "-";
    if (!p["vf"].is_null()) {
      vf = p["vf"]["ifname"].get<std::string>();
      if (!p["vf"]["carrier"].get<bool>()) vf += " (down)";
    }
    std::string syn = p["synthetic"]["ifname"].get<std::string>();
    if (!p["synthetic"]["carrier"].get<bool>()) syn += " (down)";
    o << fmt::format("{:<10} {:<10} {:<10} {:<14} {:<14} {:>12} {:>12} {:>8}\n", p["name"].get<std::string>(),
                     p["state"].get<std::string>() + (p.value("held", false) ? "*" : ""),
                     p["active"].get<std::string>(), syn, vf,
                     fmt::format("{}/{}", cs["rx_packets"].get<std::uint64_t>(), cs["tx_packets"].get<std::uint64_t>()),
                     fmt::format("{}/{}", cv["rx_packets"].get<std::uint64_t>(), cv["tx_packets"].get<std::uint64_t>()),
                     p["switches"].get<std::uint64_t>());
    if (!p["last_error"].is_null()) o << "  last error: " << p["last_error"].get<std::string>() << "\n";
    if (p.contains("candidates") && p["candidates"].is_array() && !p["candidates"].empty()) {
      o << "  VF present, not taken:";
      for (const auto& c : p["candidates"]) o << " " << c.get<std::string>();
      const std::string name = p["name"].get<std::string>();
      if (p.value("held", false))
        o << " (held: tvfctl attach " << name << " takes it)";
      else if (p.contains("attach_only") && p["attach_only"].is_string())
        o << " (only " << p["attach_only"].get<std::string>() << " may attach, as tvfctl attach named it; tvfctl attach "
          << name << " lifts that)";
      o << "\n";
    }
    if (p.contains("datapath") && p["datapath"].is_object()) {
      const auto& d = p["datapath"];
      // The reason only when it says more than the key it came from
      // ("datapath: user" asked for outright).
      const std::string mode = d.value("mode", "?");
      const std::string reason = d.contains("reason") && d["reason"].is_string() ? d["reason"].get<std::string>() : "";
      o << "  datapath: " << mode;
      if (!reason.empty() && reason != "datapath: " + mode) o << " (" << reason << ")";
      if (d.value("mode", "") == "kernel") {
        if (d.contains("hook") && d["hook"].is_string()) o << ", on " << d["hook"].get<std::string>();
        o << (d.value("mirror", false) ? ", mirroring egress for a packet socket on " : ", no mirroring on ")
          << p["name"].get<std::string>() << "\n  note: " << p["name"].get<std::string>()
          << "'s own counters (ip -s link) do not count redirected frames; the rx/tx above are the real ones";
      }
      o << "\n";
    }
  }
  if (status.contains("hardware")) o << "hardware: " << status["hardware"].get<std::string>() << "\n";
  o << "(* = held by a planned detach; tvfctl attach PAIR ends it)\n";
  return o.str();
}

}  // namespace tvf
