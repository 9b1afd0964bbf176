// Control operations made on the TAP, mirrored to the backends: MTU,
// up/down, promisc, allmulti and the link-layer multicast list. Targets
// are tried in order (the VF first, then the synthetic); when one refuses,
// what was applied is undone and the TAP is set back, so tvf0 never shows
// a value a backend does not have.
// Promisc and allmulti are what tvf0 acts as: its user flag or its kernel
// counter (tcpdump without -p, a macvlan on tvf0 raise only the counter).
// A MAC change on tvf0 is refused: tvf0 keeps the synthetic's MAC, which
// the VF filters unicast by and the announcements carry; the TAP is set
// back and the refusal is the outcome's error.
// The other way round, keep() puts a backend changed behind tvf's back
// (MTU, up, promisc, allmulti) back to what the TAP has.
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
  struct Kept {
    std::vector<std::string> restored;  // "mtu 1500 -> 9000", ... put back
    std::string error;                  // the first refusal, "" when none
  };
  // Puts `backend` back to `tap`'s MTU, up, promisc and allmulti where it
  // differs. Errors (in `error`): the backend's refusal, e.g. EINVAL/ERANGE
  // for an MTU out of its range, ENODEV when it vanished.
  Kept keep(const LinkInfo& tap, const LinkInfo& backend);
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
