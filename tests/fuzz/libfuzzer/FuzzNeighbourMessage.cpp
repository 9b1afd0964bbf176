// libFuzzer harness: see tests/fuzz/FuzzTargets.hpp (tvf::fuzz::neighbourMessage).
#include "FuzzTargets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tvf::fuzz::neighbourMessage(data, size);
  return 0;
}
