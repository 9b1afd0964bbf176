// libFuzzer harness: see tests/fuzz/FuzzTargets.hpp (tvf::fuzz::arpReply).
#include "FuzzTargets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tvf::fuzz::arpReply(data, size);
  return 0;
}
