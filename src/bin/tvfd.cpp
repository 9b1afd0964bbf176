// tvfd: the transparent VF failover daemon. A thin main: parse the command
// line, load the config, wire the synthetic and VF port openers, run.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "ConfigLoader.hpp"
#include "Daemon.hpp"
#include "FdLimit.hpp"
#include "LibbpfLog.hpp"
#include "SyntheticBackend.hpp"
#include "VfPortFactory.hpp"

namespace tvf {
void applyLogLevel(LogLevel l);
}

int main(int argc, char** argv) {
  CLI::App app{"tvfd: transparent VF failover daemon (runs in the foreground, logs to stderr)"};
  std::string configPath;
  bool check = false;
  app.add_option("--config", configPath, "configuration file (YAML)")->required();
  app.add_flag("--check", check, "validate the configuration and exit (0 valid, 2 invalid)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto loaded = tvf::ConfigLoader::loadFile(configPath);
  if (auto* problems = std::get_if<std::vector<tvf::ConfigProblem>>(&loaded)) {
    for (const auto& p : *problems) std::cerr << "tvfd: " << p.format(configPath) << "\n";
    std::cerr << "tvfd: " << configPath << ": " << problems->size() << " problem(s)\n";
    return 2;
  }
  tvf::Config config = std::get<tvf::Config>(std::move(loaded));
  if (check) {
    std::cerr << "tvfd: " << configPath << ": OK (" << config.pairs.size() << " pair(s))\n";
    return 0;
  }
  tvf::applyLogLevel(config.logLevel);
  tvf::routeLibbpfLogs();
  // The control socket's client cap is taken below this limit.
  if (auto lim = tvf::raiseFdLimit(); !lim) std::cerr << "tvfd: " << lim.error().describe() << "\n";

  tvf::PortOpeners openers;
  openers.synthetic = tvf::openSyntheticPort;
  openers.vf = tvf::openVfPort;
  openers.findSynthetic = tvf::findSynthetic;
  openers.verbsBuilt = tvf::verbsBuilt();
  tvf::Daemon daemon(std::move(config), configPath, openers);
  return daemon.run();
}
