// libbpf's own messages routed through tvf's logger ("libbpf") instead of
// libbpf's default stderr printer, at a level an operator can trust:
//   LIBBPF_WARN  -> warn, except the kernel's extack for an expected EEXIST
//                   ("Exclusivity flag on, cannot modify": a clsact qdisc
//                   already there, e.g. at a re-claim after a restart), and
//                   "Parent Qdisc doesn't exists" (a query where no clsact is:
//                   the check that a claim's hook is still there) -> debug;
//   LIBBPF_INFO  -> debug;
//   LIBBPF_DEBUG -> trace.
//
// Thread: call once from main before any libbpf call; the printer itself
// may run on any thread (spdlog loggers are thread-safe).
#pragma once

#include <string_view>

namespace tvf {

enum class LibbpfLevel { Warn, Info, Debug };

// The spdlog level name ("warning", "debug", "trace") a libbpf message is
// logged at; `message` is libbpf's formatted text.
std::string_view libbpfLogLevel(LibbpfLevel level, std::string_view message);

// Installs the printer (libbpf_set_print).
void routeLibbpfLogs();

}  // namespace tvf
