#include "ConfigLoader.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "ListenAddress.hpp"

namespace tvf {
namespace {

constexpr std::size_t kIfnameMax = 15;  // IFNAMSIZ - 1

class Parser {
 public:
  std::vector<ConfigProblem> problems;

  void add(const std::string& path, const YAML::Node& node, std::string message) {
    int line = node.IsDefined() ? node.Mark().line + 1 : 0;
    if (node.IsDefined() && node.Mark().line < 0) line = 0;
    problems.push_back({path, line, std::move(message)});
  }
  void add(const std::string& path, int line, std::string message) {
    problems.push_back({path, line, std::move(message)});
  }

  bool scalar(const std::string& path, const YAML::Node& n, const char* expected) {
    if (n.IsScalar()) return true;
    add(path, n, std::string("expected ") + expected + ", got " + kindOf(n));
    return false;
  }

  std::optional<std::string> string(const std::string& path, const YAML::Node& n) {
    if (!scalar(path, n, "a string")) return std::nullopt;
    return n.Scalar();
  }

  std::optional<bool> boolean(const std::string& path, const YAML::Node& n) {
    if (!scalar(path, n, "a boolean")) return std::nullopt;
    bool v = false;
    if (!YAML::convert<bool>::decode(n, v)) {
      add(path, n, "expected a boolean (true or false), got '" + n.Scalar() + "'");
      return std::nullopt;
    }
    return v;
  }

  std::optional<long long> integer(const std::string& path, const YAML::Node& n, long long lo,
                                   long long hi) {
    if (!scalar(path, n, "an integer")) return std::nullopt;
    const std::string& s = n.Scalar();
    long long v = 0;
    std::size_t used = 0;
    try {
      v = std::stoll(s, &used, 10);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != s.size()) {
      add(path, n, "expected an integer, got '" + s + "'");
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      add(path, n,
          "out of range: " + s + " (allowed " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
      return std::nullopt;
    }
    return v;
  }

  template <class E>
  std::optional<E> choice(const std::string& path, const YAML::Node& n,
                          const std::vector<std::pair<std::string, E>>& options) {
    if (!scalar(path, n, "a string")) return std::nullopt;
    std::string all;
    for (const auto& [name, value] : options) {
      if (n.Scalar() == name) return value;
      all += (all.empty() ? "" : " | ") + name;
    }
    add(path, n, "unknown value '" + n.Scalar() + "' (expected " + all + ")");
    return std::nullopt;
  }

  void unknownKeys(const std::string& prefix, const YAML::Node& map,
                   const std::set<std::string>& known) {
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        add(prefix.empty() ? key : prefix + "." + key, kv.first,
            "unknown key '" + key + "' (known: " + list + ")");
      }
    }
  }

  static std::string kindOf(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map: return "a mapping";
      case YAML::NodeType::Sequence: return "a sequence";
      case YAML::NodeType::Null: return "nothing (null)";
      case YAML::NodeType::Scalar: return "a scalar";
      default: return "an undefined node";
    }
  }
};

bool validIfname(const std::string& s) {
  if (s.empty() || s.size() > kIfnameMax || s == "." || s == "..") return false;
  for (char c : s) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

void parsePair(Parser& p, const std::string& path, const YAML::Node& n, PairConfig& pair) {
  static const std::set<std::string> known = {
      "name", "synthetic", "transparent", "attach_wait_ms", "vf_datapath", "queues",
      "persist", "announce_count", "on_switch", "drain_ms", "vf_mtu_policy", "hook_timeout_ms",
      "carrier_up_delay_ms"};
  p.unknownKeys(path, n, known);
  auto key = [&](const char* k) { return path + "." + k; };

  if (!n["name"]) {
    p.add(key("name"), n, "missing required key 'name'");
  } else if (auto v = p.string(key("name"), n["name"])) {
    if (!validIfname(*v))
      p.add(key("name"), n["name"], "'" + *v + "' is not a valid interface name (1-15 characters, no '/', ':' or spaces)");
    else
      pair.name = *v;
  }
  if (!n["synthetic"]) {
    p.add(key("synthetic"), n, "missing required key 'synthetic'");
  } else if (auto v = p.string(key("synthetic"), n["synthetic"])) {
    if (v->rfind("mac:", 0) == 0) {
      auto mac = MacAddress::parse(v->substr(4));
      if (!mac)
        p.add(key("synthetic"), n["synthetic"], "bad MAC address '" + v->substr(4) + "' (expected xx:xx:xx:xx:xx:xx)");
      else if (mac->isZero() || mac->isMulticast())
        p.add(key("synthetic"), n["synthetic"], "MAC address " + mac->toString() + " is not a unicast address");
      else
        pair.syntheticMac = mac;
    } else if (!validIfname(*v)) {
      p.add(key("synthetic"), n["synthetic"], "'" + *v + "' is neither an interface name nor mac:xx:xx:xx:xx:xx:xx");
    } else {
      pair.synthetic = *v;
    }
  }
  if (n["transparent"])
    if (auto v = p.boolean(key("transparent"), n["transparent"])) pair.transparent = *v;
  if (n["attach_wait_ms"])
    if (auto v = p.integer(key("attach_wait_ms"), n["attach_wait_ms"], 0, 600000))
      pair.attachWait = std::chrono::milliseconds(*v);
  if (n["vf_datapath"])
    if (auto v = p.choice<VfDatapath>(key("vf_datapath"), n["vf_datapath"],
                                      {{"auto", VfDatapath::Auto},
                                       {"packet", VfDatapath::Packet},
                                       {"verbs", VfDatapath::Verbs}}))
      pair.vfDatapath = *v;
  if (n["queues"])
    if (auto v = p.integer(key("queues"), n["queues"], 1, 16)) pair.queues = static_cast<unsigned>(*v);
  if (pair.vfDatapath == VfDatapath::Verbs && pair.queues > 1)
    p.add(key("queues"), n["queues"], "vf_datapath verbs takes one queue (its QP has no RSS spread yet); got " +
                                          std::to_string(pair.queues));
  if (n["persist"])
    if (auto v = p.boolean(key("persist"), n["persist"])) pair.persist = *v;
  if (n["announce_count"])
    if (auto v = p.integer(key("announce_count"), n["announce_count"], 0, 100))
      pair.announceCount = static_cast<unsigned>(*v);
  if (n["on_switch"])
    if (auto v = p.string(key("on_switch"), n["on_switch"])) {
      if (!v->empty() && (*v)[0] != '/')
        p.add(key("on_switch"), n["on_switch"], "hook must be an absolute path, got '" + *v + "'");
      else
        pair.onSwitch = *v;
    }
  if (n["drain_ms"])
    if (auto v = p.integer(key("drain_ms"), n["drain_ms"], 0, 10000))
      pair.drainGrace = std::chrono::milliseconds(*v);
  if (n["vf_mtu_policy"])
    if (auto v = p.choice<VfMtuPolicy>(key("vf_mtu_policy"), n["vf_mtu_policy"],
                                       {{"refuse", VfMtuPolicy::Refuse}, {"clamp", VfMtuPolicy::Clamp}}))
      pair.vfMtuPolicy = *v;
  if (n["carrier_up_delay_ms"])
    if (auto v = p.integer(key("carrier_up_delay_ms"), n["carrier_up_delay_ms"], 0, 60000))
      pair.carrierUpDelay = std::chrono::milliseconds(*v);
  if (n["hook_timeout_ms"])
    if (auto v = p.integer(key("hook_timeout_ms"), n["hook_timeout_ms"], 100, 600000))
      pair.hookTimeout = std::chrono::milliseconds(*v);
}

ConfigResult parse(const YAML::Node& root) {
  Parser p;
  Config cfg;
  if (!root.IsMap()) {
    p.add("", root, "the config must be a mapping with control_socket, log_level and pairs, got " +
                        Parser::kindOf(root));
    return p.problems;
  }
  p.unknownKeys("", root, {"control_socket", "control_group", "log_level", "worker_priority", "metrics_listen", "pairs"});
  if (root["control_socket"])
    if (auto v = p.string("control_socket", root["control_socket"])) {
      if (v->empty() || (*v)[0] != '/')
        p.add("control_socket", root["control_socket"], "must be an absolute path, got '" + *v + "'");
      else if (v->size() >= 108)
        p.add("control_socket", root["control_socket"], "path longer than a Unix socket allows (107)");
      else
        cfg.controlSocket = *v;
    }
  if (root["control_group"])
    if (auto v = p.string("control_group", root["control_group"])) cfg.controlGroup = *v;
  if (root["log_level"])
    if (auto v = p.choice<LogLevel>("log_level", root["log_level"],
                                    {{"trace", LogLevel::Trace},
                                     {"debug", LogLevel::Debug},
                                     {"info", LogLevel::Info},
                                     {"warn", LogLevel::Warn},
                                     {"error", LogLevel::Error}}))
      cfg.logLevel = *v;
  if (root["worker_priority"])
    if (auto v = p.integer("worker_priority", root["worker_priority"], 0, 99))
      cfg.workerPriority = static_cast<int>(*v);
  if (root["metrics_listen"])
    if (auto v = p.string("metrics_listen", root["metrics_listen"])) {
      if (!v->empty() && !ListenAddress::parse(*v))
        p.add("metrics_listen", root["metrics_listen"],
              "expected IPv4:PORT or [IPv6]:PORT with a numeric address and a port 1..65535, got '" + *v + "'");
      else
        cfg.metricsListen = *v;
    }

  const YAML::Node pairs = root["pairs"];
  if (!pairs) {
    p.add("pairs", root, "missing required key 'pairs'");
  } else if (!pairs.IsSequence()) {
    p.add("pairs", pairs, "expected a sequence of pairs, got " + Parser::kindOf(pairs));
  } else if (pairs.size() == 0) {
    p.add("pairs", pairs, "at least one pair is needed");
  } else {
    std::map<std::string, std::string> names;       // name -> path
    std::map<std::string, std::string> synthetics;  // synthetic spec -> path
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const std::string path = "pairs[" + std::to_string(i) + "]";
      const YAML::Node n = pairs[i];
      if (!n.IsMap()) {
        p.add(path, n, "expected a mapping, got " + Parser::kindOf(n));
        continue;
      }
      PairConfig pair;
      parsePair(p, path, n, pair);
      if (!pair.name.empty()) {
        if (auto [it, fresh] = names.emplace(pair.name, path); !fresh)
          p.add(path + ".name", n["name"], "duplicate pair name '" + pair.name + "' (also " + it->second + ")");
      }
      const std::string spec = pair.syntheticSpec();
      if (!spec.empty()) {
        if (auto [it, fresh] = synthetics.emplace(spec, path); !fresh)
          p.add(path + ".synthetic", n["synthetic"],
                "synthetic '" + spec + "' is already used by " + it->second + " (one pair per synthetic)");
        if (spec == pair.name)
          p.add(path + ".synthetic", n["synthetic"], "the synthetic cannot be the pair's own TAP '" + pair.name + "'");
      }
      cfg.pairs.push_back(std::move(pair));
    }
    // A pair's TAP name must not be another pair's synthetic.
    for (std::size_t i = 0; i < cfg.pairs.size(); ++i) {
      if (synthetics.count(cfg.pairs[i].name) && cfg.pairs[i].synthetic != cfg.pairs[i].name &&
          synthetics.at(cfg.pairs[i].name) != "pairs[" + std::to_string(i) + "]")
        p.add("pairs[" + std::to_string(i) + "].name", pairs[i]["name"],
              "'" + cfg.pairs[i].name + "' is the synthetic of " + synthetics.at(cfg.pairs[i].name));
    }
  }
  if (!p.problems.empty()) return p.problems;
  return cfg;
}

}  // namespace

std::string ConfigProblem::format(const std::string& file) const {
  std::ostringstream os;
  os << file << ":" << line << ": " << (path.empty() ? "(top)" : path) << ": " << message;
  return os.str();
}

ConfigResult ConfigLoader::loadString(const std::string& yaml) {
  try {
    return parse(YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    return std::vector<ConfigProblem>{{"", e.mark.line + 1, "YAML syntax error: " + e.msg}};
  }
}

ConfigResult ConfigLoader::loadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::vector<ConfigProblem>{{"", 0, "cannot read " + path + ": " + std::strerror(errno)}};
  std::stringstream ss;
  ss << in.rdbuf();
  return loadString(ss.str());
}

}  // namespace tvf
