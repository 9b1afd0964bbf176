// libbpf's messages reach the journal at a level an operator can trust.
#include <gtest/gtest.h>

#include "src/LibbpfLog.hpp"

namespace tvf {
namespace {

TEST(LibbpfLog, ExpectedExclusivityExtackIsDebugNotAWarning) {
  // What libbpf 1.1 prints when bpf_tc_hook_create meets an existing clsact
  // (every re-claim after a restart), after the "libbpf: " prefix.
  EXPECT_EQ(libbpfLogLevel(LibbpfLevel::Warn, "Kernel error message: Exclusivity flag on, cannot modify"), "debug");
  // bpf_tc_query on a device whose clsact someone deleted: what the check
  // of a claim's hook meets before it puts the program back (and says so).
  EXPECT_EQ(libbpfLogLevel(LibbpfLevel::Warn, "Kernel error message: Parent Qdisc doesn't exists"), "debug");
}

TEST(LibbpfLog, OtherWarningsStayWarnings) {
  EXPECT_EQ(libbpfLogLevel(LibbpfLevel::Warn, "Kernel error message: Invalid handle"), "warning");
  EXPECT_EQ(libbpfLogLevel(LibbpfLevel::Warn, "prog 'tvf_drop': BPF program load failed: Permission denied"),
            "warning");
}

TEST(LibbpfLog, InfoAndDebugAreQuieter) {
  EXPECT_EQ(libbpfLogLevel(LibbpfLevel::Info, "loading object"), "debug");
  EXPECT_EQ(libbpfLogLevel(LibbpfLevel::Debug, "sec '.text': found program"), "trace");
}

}  // namespace
}  // namespace tvf
