// tvfd: the transparent VF failover daemon. A thin main: parse the command
// line, load the config, build the datapath factory and the daemon, run.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "base/Log.hpp"
#include "datapath/DatapathFactory.hpp"
#include "src/ConfigLoader.hpp"
#include "src/Daemon.hpp"
#include "src/FdLimit.hpp"
#include "src/LibbpfLog.hpp"
#include "tvf/ConfigKeys.hpp"
#include "tvf/Version.hpp"

#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  CLI::App app{"tvfd: transparent VF failover daemon (runs in the foreground, logs to stderr)"};
  std::string configPath;
  bool check = false;
  bool keys = false;
  auto* configOption = app.add_option("--config", configPath, "configuration file (YAML)");
  app.add_flag("--check", check, "validate the configuration and exit (0 valid, 2 invalid)");
  app.add_flag("--config-keys", keys,
               "print the table of configuration keys (JSON: name, scope, range, default, reload, doc) and exit");
  app.set_version_flag("--version", std::string("tvfd ") + tvf::kVersionLine,
                       "print the version and git revision, then exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (keys) {
    // The key table the loader reads: tvf.yaml(5) and its test use this.
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : tvf::configKeys())
      out.push_back({{"name", k.name},
                     {"scope", k.scope == tvf::KeyScope::Daemon ? "daemon" : "pair"},
                     {"required", k.required},
                     {"reload", k.live ? "at once" : "restart"},
                     {"range", k.range},
                     {"default", k.defaultText},
                     {"doc", k.doc}});
    std::cout << out.dump(1) << "\n";
    return 0;
  }
  if (configOption->count() == 0) {
    std::cerr << "tvfd: --config is required\n" << app.help();
    return 2;
  }

  auto loaded = tvf::ConfigLoader::loadFile(configPath);
  if (auto* problems = std::get_if<std::vector<tvf::ConfigProblem>>(&loaded)) {
    for (const auto& p : *problems) std::cerr << "tvfd: " << p.format(configPath) << "\n";
    std::cerr << "tvfd: " << configPath << ": " << problems->size() << " problem(s)\n";
    return 2;
  }
  tvf::Config config = std::get<tvf::Config>(std::move(loaded));
  if (check) {
    std::cout << "tvfd: " << configPath << ": OK (" << config.pairs.size() << " pair(s))\n";  // the answer; problems go to stderr
    return 0;
  }
  tvf::applyLogLevel(config.logLevel);
  tvf::routeLibbpfLogs();
  // The control socket's client cap is taken below this limit.
  if (auto lim = tvf::raiseFdLimit(); !lim) std::cerr << "tvfd: " << lim.error().describe() << "\n";

  tvf::Daemon daemon(std::move(config), configPath, std::make_unique<tvf::ModeDatapathFactory>());
  return daemon.run();
}
