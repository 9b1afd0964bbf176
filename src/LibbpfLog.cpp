#include "src/LibbpfLog.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

#include "base/Log.hpp"

namespace tvf {
namespace {

// Kernel extack texts libbpf prints as warnings for results tvf expects.
constexpr std::string_view kExpected[] = {
    "Exclusivity flag on, cannot modify",  // bpf_tc_hook_create on an existing clsact: EEXIST
    "Parent Qdisc doesn't exists",         // bpf_tc_query where no clsact is (the 250 ms check of a claim's hook)
};

spdlog::level::level_enum spdLevel(LibbpfLevel level, std::string_view message) {
  switch (level) {
    case LibbpfLevel::Warn:
      for (auto e : kExpected)
        if (message.find(e) != std::string_view::npos) return spdlog::level::debug;
      return spdlog::level::warn;
    case LibbpfLevel::Info: return spdlog::level::debug;
    case LibbpfLevel::Debug: return spdlog::level::trace;
  }
  return spdlog::level::warn;
}

int printLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  static const auto log = moduleLogger("libbpf");
  const LibbpfLevel l = level == LIBBPF_WARN ? LibbpfLevel::Warn
                        : level == LIBBPF_INFO ? LibbpfLevel::Info
                                               : LibbpfLevel::Debug;
  char buf[1024];
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  if (n < 0) return 0;
  std::string_view msg(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '.')) msg.remove_suffix(1);
  if (msg.substr(0, 8) == "libbpf: ") msg.remove_prefix(8);
  log->log(spdLevel(l, msg), "{}", msg);
  return n;
}

}  // namespace

std::string_view libbpfLogLevel(LibbpfLevel level, std::string_view message) {
  const auto sv = spdlog::level::to_string_view(spdLevel(level, message));
  return {sv.data(), sv.size()};
}

void routeLibbpfLogs() { libbpf_set_print(printLibbpf); }

}  // namespace tvf
