#include "src/ConfigLoader.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <type_traits>

#include <yaml-cpp/yaml.h>

#include "tvf/ConfigKeys.hpp"

namespace tvf {
namespace {

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

// A key's value as the table's parser reads it: problems carry the key's
// YAML path and line.
class YamlKeyReader final : public KeyReader {
 public:
  YamlKeyReader(Parser& p, std::string path, YAML::Node node) : p_(p), path_(std::move(path)), node_(node) {}
  std::optional<std::string> string() override { return p_.string(path_, node_); }
  std::optional<bool> boolean() override { return p_.boolean(path_, node_); }
  std::optional<long long> integer(long long lo, long long hi) override { return p_.integer(path_, node_, lo, hi); }
  std::optional<std::size_t> choice(const std::vector<std::string_view>& names) override {
    if (!p_.scalar(path_, node_, "a string")) return std::nullopt;
    std::string all;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (node_.Scalar() == names[i]) return i;
      all += (all.empty() ? "" : " | ") + std::string(names[i]);
    }
    p_.add(path_, node_, "unknown value '" + node_.Scalar() + "' (expected " + all + ")");
    return std::nullopt;
  }
  void problem(std::string message) override { p_.add(path_, node_, std::move(message)); }

 private:
  Parser& p_;
  std::string path_;
  YAML::Node node_;
};

std::set<std::string> knownKeys(KeyScope scope) {
  std::set<std::string> known;
  for (const auto& k : configKeys())
    if (k.scope == scope) known.emplace(k.name);
  if (scope == KeyScope::Daemon) known.emplace("pairs");
  return known;
}

// Every key of `scope` that `n` holds, parsed by the key table.
template <class Target>
void parseKeys(Parser& p, KeyScope scope, const std::string& prefix, const YAML::Node& n, Target& target) {
  p.unknownKeys(prefix, n, knownKeys(scope));
  for (const auto& k : configKeys()) {
    if (k.scope != scope) continue;
    const std::string name(k.name);
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (!n[name]) {
      if (k.required) p.add(path, n, "missing required key '" + name + "'");
      continue;
    }
    YamlKeyReader reader(p, path, n[name]);
    if constexpr (std::is_same_v<Target, Config>)
      k.parseDaemon(reader, target);
    else
      k.parsePair(reader, target);
  }
}

void parsePair(Parser& p, const std::string& path, const YAML::Node& n, PairConfig& pair) {
  parseKeys(p, KeyScope::Pair, path, n, pair);
  if (pair.datapath == DatapathMode::Kernel && pair.vfDatapath == VfDatapath::Verbs)
    p.add(path + ".datapath", n["datapath"],
          "datapath kernel moves frames between netdevs; vf_datapath verbs needs datapath user (or auto)");
  // tc_hook places the kernel datapath's program; a pair that can only run
  // the user datapath has none, and a tcx/clsact there would be taken for a
  // setting that does something.
  const bool userOnly = pair.datapath == DatapathMode::User ||
                        (pair.datapath == DatapathMode::Auto && pair.vfDatapath == VfDatapath::Verbs);
  if (userOnly && pair.tcHook != TcHookChoice::Auto)
    p.add(path + ".tc_hook", n["tc_hook"],
          std::string("tc_hook places the kernel datapath's program; this pair runs the user datapath (") +
              (pair.datapath == DatapathMode::User ? "datapath user" : "vf_datapath verbs") +
              "), which has none: remove the key or leave it auto");
  if (pair.vfDatapath == VfDatapath::Verbs && pair.queues > 1)
    p.add(path + ".queues", n["queues"], "vf_datapath verbs takes one queue (its QP has no RSS spread yet); got " +
                                             std::to_string(pair.queues));
}

ConfigResult parse(const YAML::Node& root) {
  Parser p;
  Config cfg;
  if (!root.IsMap()) {
    p.add("", root, "the config must be a mapping with a 'pairs' list (and optional daemon keys such as "
                        "control_socket and log_level), got " +
                        Parser::kindOf(root));
    return p.problems;
  }
  parseKeys(p, KeyScope::Daemon, "", root, cfg);

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
