// One spdlog logger per module ("failover", "datapath", "netlink", ...),
// all writing to stderr. Never log per packet.
#pragma once

#include <memory>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "tvf/Config.hpp"

namespace tvf {

inline std::shared_ptr<spdlog::logger> moduleLogger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_level(spdlog::get_level());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  return logger;
}

// Sets the level of every module logger, present and future.
void applyLogLevel(LogLevel l);

}  // namespace tvf
