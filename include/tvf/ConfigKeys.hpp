// One table of every configuration key: its name, parser, range, whether a
// reload (SIGHUP) applies it at once, its default and its documentation
// line. The loader (src/ConfigLoader), the reload (Daemon, Pair), the docs
// and the test that holds conf/tvf.yaml against it all read this table, so
// a key is written down once (base/ConfigKeys.cpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tvf/Config.hpp"

namespace tvf {

// How a key's parser reads its value; the loader implements it over YAML
// and records each problem with the key's path and line.
class KeyReader {
 public:
  virtual ~KeyReader() = default;
  virtual std::optional<std::string> string() = 0;
  virtual std::optional<bool> boolean() = 0;
  virtual std::optional<long long> integer(long long lo, long long hi) = 0;
  // The index of the value among `names`, or nullopt (a problem listing them).
  virtual std::optional<std::size_t> choice(const std::vector<std::string_view>& names) = 0;
  virtual void problem(std::string message) = 0;
};

enum class KeyScope { Daemon, Pair };

struct ConfigKey {
  std::string_view name;
  KeyScope scope;
  bool required;                 // must be present
  bool live;                     // a reload applies it at once; false: on restart
  std::string_view range;        // what it takes: "0..600000", "auto | packet | verbs", "a path"
  std::string_view defaultText;  // as conf/tvf.yaml writes it; "" for required keys
  std::string_view doc;          // one line: what it sets
  // Exactly the pair of the key's scope is set.
  void (*parseDaemon)(KeyReader&, Config&) = nullptr;
  void (*parsePair)(KeyReader&, PairConfig&) = nullptr;
  bool (*samePair)(const PairConfig&, const PairConfig&) = nullptr;
  void (*copyPair)(PairConfig&, const PairConfig&) = nullptr;
  bool (*sameDaemon)(const Config&, const Config&) = nullptr;
  void (*copyDaemon)(Config&, const Config&) = nullptr;
};

// Every key, daemon keys first, in conf/tvf.yaml's order.
const std::vector<ConfigKey>& configKeys();
const ConfigKey* findConfigKey(KeyScope scope, std::string_view name);

// A reload: copies each live key of `next` into `live` and returns the
// names of the restart-only keys whose value differs (left unchanged).
std::vector<std::string> reloadPair(PairConfig& live, const PairConfig& next);
std::vector<std::string> reloadDaemon(Config& live, const Config& next);

// An interface name the kernel accepts: 1-15 characters, no '/', ':' or spaces.
bool validIfname(std::string_view s);

}  // namespace tvf
