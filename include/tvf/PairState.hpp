// The lifecycle of a synthetic/VF pair (DESIGN.md).
#pragma once

#include <string_view>

namespace tvf {

enum class PairState { NoVf, Waiting, Attaching, Active, Detaching, Failed };

inline std::string_view stateName(PairState s) {
  switch (s) {
    case PairState::NoVf: return "novf";
    case PairState::Waiting: return "waiting";
    case PairState::Attaching: return "attaching";
    case PairState::Active: return "active";
    case PairState::Detaching: return "detaching";
    case PairState::Failed: return "failed";
  }
  return "unknown";
}

}  // namespace tvf
