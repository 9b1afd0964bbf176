// Control operations made on the TAP, mirrored to the backends: MTU,
// up/down, promisc, allmulti and the link-layer multicast list. Targets
// are tried in order (the VF first, then the synthetic); when one refuses,
// what was applied is undone and the TAP is set back, so tvf0 never shows
// a value a backend does not have.
//
// Thread: the owning Pair's (the control thread). Counters: rollbacks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tvf/LinkEvent.hpp"
#include "tvf/MacAddress.hpp"
#include "tvf/PairEnvironment.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

class TapMirror {
 public:
  struct Target {
    int ifindex = 0;
    std::string ifname;
  };
  struct Outcome {
    LinkInfo accepted;         // the TAP state the backends now mirror
    unsigned rollbacks = 0;    // refusals undone
    std::string error;         // the last refusal, "" when none
    bool mtuChanged = false;   // the MTU moved to the TAP's new value
  };

  TapMirror(std::string pair, LinkControl& links, TapFront& tap);
  ~TapMirror();

  // Mirrors what changed from `before` to `now` to `targets`.
  Outcome forward(const LinkInfo& before, const LinkInfo& now, const std::vector<Target>& targets);
  // Replaces the multicast list on every target; refusals are logged only
  // (a backend that cannot filter multicast still receives it).
  void mirrorMulticast(const std::vector<MacAddress>& groups, const std::vector<Target>& targets);

 private:
  std::string pair_;
  LinkControl& links_;
  TapFront& tap_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
