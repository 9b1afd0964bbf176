#include "base/Log.hpp"

namespace tvf {

namespace {
spdlog::level::level_enum spdLevel(LogLevel l) {
  switch (l) {
    case LogLevel::Trace: return spdlog::level::trace;
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}
}  // namespace

void applyLogLevel(LogLevel l) { spdlog::set_level(spdLevel(l)); }

}  // namespace tvf
