// Parses tvf.yaml (yaml-cpp) into the immutable tvf::Config. Every problem
// is collected, each with its YAML path and line, so `tvfd --check` can list
// them all at once.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "tvf/Config.hpp"

namespace tvf {

struct ConfigProblem {
  std::string path;  // e.g. "pairs[1].attach_wait_ms"
  int line = 0;      // 1-based; 0 when unknown
  std::string message;

  // "FILE:LINE: PATH: MESSAGE"
  std::string format(const std::string& file) const;
};

using ConfigResult = std::variant<Config, std::vector<ConfigProblem>>;

class ConfigLoader {
 public:
  static ConfigResult loadFile(const std::string& path);
  static ConfigResult loadString(const std::string& yaml);
};

}  // namespace tvf
