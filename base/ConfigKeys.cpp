#include "tvf/ConfigKeys.hpp"

#include "base/ListenAddress.hpp"

namespace tvf {
namespace {

template <auto Member>
bool samePair(const PairConfig& a, const PairConfig& b) {
  return a.*Member == b.*Member;
}
template <auto Member>
void copyPair(PairConfig& to, const PairConfig& from) {
  to.*Member = from.*Member;
}
template <auto Member>
bool sameDaemon(const Config& a, const Config& b) {
  return a.*Member == b.*Member;
}
template <auto Member>
void copyDaemon(Config& to, const Config& from) {
  to.*Member = from.*Member;
}

template <auto Member>
void pairMillis(KeyReader& r, PairConfig& p, long long lo, long long hi) {
  if (auto v = r.integer(lo, hi)) p.*Member = std::chrono::milliseconds(*v);
}

ConfigKey daemonKey(std::string_view name, bool live, std::string_view range, std::string_view def,
                    std::string_view doc, void (*parse)(KeyReader&, Config&), bool (*same)(const Config&, const Config&),
                    void (*copy)(Config&, const Config&)) {
  ConfigKey k{name, KeyScope::Daemon, false, live, range, def, doc};
  k.parseDaemon = parse;
  k.sameDaemon = same;
  k.copyDaemon = copy;
  return k;
}

ConfigKey pairKey(std::string_view name, bool required, bool live, std::string_view range, std::string_view def,
                  std::string_view doc, void (*parse)(KeyReader&, PairConfig&),
                  bool (*same)(const PairConfig&, const PairConfig&), void (*copy)(PairConfig&, const PairConfig&)) {
  ConfigKey k{name, KeyScope::Pair, required, live, range, def, doc};
  k.parsePair = parse;
  k.samePair = same;
  k.copyPair = copy;
  return k;
}

bool sameSynthetic(const PairConfig& a, const PairConfig& b) { return a.syntheticSpec() == b.syntheticSpec(); }
void copySynthetic(PairConfig& to, const PairConfig& from) {
  to.synthetic = from.synthetic;
  to.syntheticMac = from.syntheticMac;
}

const std::vector<ConfigKey> kKeys = {
    daemonKey("control_socket", false, "an absolute path (at most 107 bytes)", "/run/tvf/tvf.sock",
              "the Unix socket tvfctl talks to (line-delimited JSON)",
              [](KeyReader& r, Config& c) {
                if (auto v = r.string()) {
                  if (v->empty() || (*v)[0] != '/')
                    r.problem("must be an absolute path, got '" + *v + "'");
                  else if (v->size() >= 108)
                    r.problem("path longer than a Unix socket allows (107)");
                  else
                    c.controlSocket = *v;
                }
              },
              sameDaemon<&Config::controlSocket>, copyDaemon<&Config::controlSocket>),
    daemonKey("control_group", false, "a group name, or empty", "\"\"",
              "the group whose members may use the control socket besides root",
              [](KeyReader& r, Config& c) {
                if (auto v = r.string()) c.controlGroup = *v;
              },
              sameDaemon<&Config::controlGroup>, copyDaemon<&Config::controlGroup>),
    daemonKey("log_level", true, "trace | debug | info | warn | error", "info", "how much tvfd logs",
              [](KeyReader& r, Config& c) {
                static const LogLevel kLevels[] = {LogLevel::Trace, LogLevel::Debug, LogLevel::Info, LogLevel::Warn,
                                                   LogLevel::Error};
                if (auto i = r.choice({"trace", "debug", "info", "warn", "error"})) c.logLevel = kLevels[*i];
              },
              sameDaemon<&Config::logLevel>, copyDaemon<&Config::logLevel>),
    daemonKey("worker_priority", false, "0..99", "1",
              "the user datapath workers' SCHED_FIFO priority; 0 = ordinary threads",
              [](KeyReader& r, Config& c) {
                if (auto v = r.integer(0, 99)) c.workerPriority = static_cast<int>(*v);
              },
              sameDaemon<&Config::workerPriority>, copyDaemon<&Config::workerPriority>),
    daemonKey("metrics_listen", false, "IPv4:PORT, [IPv6]:PORT, or empty (off)", "\"\"",
              "where GET /metrics serves the Prometheus exposition over HTTP",
              [](KeyReader& r, Config& c) {
                if (auto v = r.string()) {
                  if (!v->empty() && !ListenAddress::parse(*v))
                    r.problem("expected IPv4:PORT or [IPv6]:PORT with a numeric address and a port 1..65535, got '" +
                              *v + "'");
                  else
                    c.metricsListen = *v;
                }
              },
              sameDaemon<&Config::metricsListen>, copyDaemon<&Config::metricsListen>),

    pairKey("name", true, false, "an interface name (1-15 characters)", "",
            "the TAP interface the OS uses",
            [](KeyReader& r, PairConfig& p) {
              if (auto v = r.string()) {
                if (!validIfname(*v))
                  r.problem("'" + *v + "' is not a valid interface name (1-15 characters, no '/', ':', '%' or spaces)");
                else
                  p.name = *v;
              }
            },
            samePair<&PairConfig::name>, copyPair<&PairConfig::name>),
    pairKey("synthetic", true, false, "an interface name, or mac:xx:xx:xx:xx:xx:xx", "",
            "the synthetic (paravirtual) NIC, by name or by MAC",
            [](KeyReader& r, PairConfig& p) {
              auto v = r.string();
              if (!v) return;
              if (v->rfind("mac:", 0) == 0) {
                auto mac = MacAddress::parse(v->substr(4));
                if (!mac)
                  r.problem("bad MAC address '" + v->substr(4) + "' (expected xx:xx:xx:xx:xx:xx)");
                else if (mac->isZero() || mac->isMulticast())
                  r.problem("MAC address " + mac->toString() + " is not a unicast address");
                else
                  p.syntheticMac = mac;
              } else if (!validIfname(*v)) {
                r.problem("'" + *v + "' is neither an interface name nor mac:xx:xx:xx:xx:xx:xx");
              } else {
                p.synthetic = *v;
              }
            },
            sameSynthetic, copySynthetic),
    pairKey("transparent", false, false, "true | false", "true",
            "take the VF (hn(4) transparent mode); false leaves it to the OS",
            [](KeyReader& r, PairConfig& p) {
              if (auto v = r.boolean()) p.transparent = *v;
            },
            samePair<&PairConfig::transparent>, copyPair<&PairConfig::transparent>),
    pairKey("attach_wait_ms", false, true, "0..600000", "2000", "wait after a VF appears before attaching it",
            [](KeyReader& r, PairConfig& p) { pairMillis<&PairConfig::attachWait>(r, p, 0, 600000); },
            samePair<&PairConfig::attachWait>, copyPair<&PairConfig::attachWait>),
    pairKey("datapath", false, false, "auto | kernel | user", "auto",
            "how frames move: tc-BPF redirect in the kernel, or worker threads",
            [](KeyReader& r, PairConfig& p) {
              static const DatapathMode kValues[] = {DatapathMode::Auto, DatapathMode::Kernel, DatapathMode::User};
              if (auto i = r.choice({"auto", "kernel", "user"})) p.datapath = kValues[*i];
            },
            samePair<&PairConfig::datapath>, copyPair<&PairConfig::datapath>),
    pairKey("tc_hook", false, false, "auto | tcx | clsact", "auto",
            "where the kernel datapath's egress program on tvf0 attaches: tcx (kernel 6.6+) or clsact",
            [](KeyReader& r, PairConfig& p) {
              static const TcHookChoice kValues[] = {TcHookChoice::Auto, TcHookChoice::Tcx, TcHookChoice::Clsact};
              if (auto i = r.choice({"auto", "tcx", "clsact"})) p.tcHook = kValues[*i];
            },
            samePair<&PairConfig::tcHook>, copyPair<&PairConfig::tcHook>),
    pairKey("vf_datapath", false, false, "auto | packet | verbs", "auto",
            "the VF backend of the user datapath",
            [](KeyReader& r, PairConfig& p) {
              static const VfDatapath kValues[] = {VfDatapath::Auto, VfDatapath::Packet, VfDatapath::Verbs};
              if (auto i = r.choice({"auto", "packet", "verbs"})) p.vfDatapath = kValues[*i];
            },
            samePair<&PairConfig::vfDatapath>, copyPair<&PairConfig::vfDatapath>),
    pairKey("queues", false, false, "1..16", "1", "TAP queues, one datapath worker each",
            [](KeyReader& r, PairConfig& p) {
              if (auto v = r.integer(1, 16)) p.queues = static_cast<unsigned>(*v);
            },
            samePair<&PairConfig::queues>, copyPair<&PairConfig::queues>),
    pairKey("persist", false, false, "true | false", "true", "keep the TAP across a daemon restart",
            [](KeyReader& r, PairConfig& p) {
              if (auto v = r.boolean()) p.persist = *v;
            },
            samePair<&PairConfig::persist>, copyPair<&PairConfig::persist>),
    pairKey("announce_count", false, true, "0..100", "3",
            "gratuitous ARPs / unsolicited NAs sent on the new path after a switch",
            [](KeyReader& r, PairConfig& p) {
              if (auto v = r.integer(0, 100)) p.announceCount = static_cast<unsigned>(*v);
            },
            samePair<&PairConfig::announceCount>, copyPair<&PairConfig::announceCount>),
    pairKey("on_switch", false, true, "an absolute path, or empty", "\"\"",
            "a hook run after each switch with PAIR NEWPATH IFNAME",
            [](KeyReader& r, PairConfig& p) {
              if (auto v = r.string()) {
                if (!v->empty() && (*v)[0] != '/')
                  r.problem("hook must be an absolute path, got '" + *v + "'");
                else
                  p.onSwitch = *v;
              }
            },
            samePair<&PairConfig::onSwitch>, copyPair<&PairConfig::onSwitch>),
    pairKey("hook_timeout_ms", false, true, "100..600000", "5000", "the on_switch hook is killed after this long",
            [](KeyReader& r, PairConfig& p) { pairMillis<&PairConfig::hookTimeout>(r, p, 100, 600000); },
            samePair<&PairConfig::hookTimeout>, copyPair<&PairConfig::hookTimeout>),
    pairKey("drain_ms", false, true, "0..10000", "200", "VF RX drained this long after a planned detach",
            [](KeyReader& r, PairConfig& p) { pairMillis<&PairConfig::drainGrace>(r, p, 0, 10000); },
            samePair<&PairConfig::drainGrace>, copyPair<&PairConfig::drainGrace>),
    pairKey("vf_mtu_policy", false, true, "refuse | clamp", "refuse",
            "what to do when a VF cannot take the TAP's MTU at attach",
            [](KeyReader& r, PairConfig& p) {
              static const VfMtuPolicy kValues[] = {VfMtuPolicy::Refuse, VfMtuPolicy::Clamp};
              if (auto i = r.choice({"refuse", "clamp"})) p.vfMtuPolicy = kValues[*i];
            },
            samePair<&PairConfig::vfMtuPolicy>, copyPair<&PairConfig::vfMtuPolicy>),
    pairKey("carrier_up_delay_ms", false, true, "0..60000", "2000",
            "a VF whose carrier came back gets TX again after this long",
            [](KeyReader& r, PairConfig& p) { pairMillis<&PairConfig::carrierUpDelay>(r, p, 0, 60000); },
            samePair<&PairConfig::carrierUpDelay>, copyPair<&PairConfig::carrierUpDelay>),
};

}  // namespace

const std::vector<ConfigKey>& configKeys() { return kKeys; }

const ConfigKey* findConfigKey(KeyScope scope, std::string_view name) {
  for (const auto& k : kKeys)
    if (k.scope == scope && k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> reloadPair(PairConfig& live, const PairConfig& next) {
  std::vector<std::string> restartOnly;
  for (const auto& k : kKeys) {
    if (k.scope != KeyScope::Pair || k.samePair(live, next)) continue;
    if (k.live)
      k.copyPair(live, next);
    else
      restartOnly.emplace_back(k.name);
  }
  return restartOnly;
}

std::vector<std::string> reloadDaemon(Config& live, const Config& next) {
  std::vector<std::string> restartOnly;
  for (const auto& k : kKeys) {
    if (k.scope != KeyScope::Daemon || k.sameDaemon(live, next)) continue;
    if (k.live)
      k.copyDaemon(live, next);
    else
      restartOnly.emplace_back(k.name);
  }
  return restartOnly;
}

bool validIfname(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (char c : s) {
    // '%': the kernel would take the name as a template (tvf%d -> tvf0).
    if (c == '/' || c == ':' || c == '%' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace tvf
