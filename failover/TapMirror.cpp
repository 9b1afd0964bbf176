#include "failover/TapMirror.hpp"

#include "base/Log.hpp"

namespace tvf {

TapMirror::TapMirror(std::string pair, LinkControl& links, TapFront& tap)
    : pair_(std::move(pair)), links_(links), tap_(tap), log_(moduleLogger("failover")) {}

TapMirror::~TapMirror() = default;

TapMirror::Outcome TapMirror::forward(const LinkInfo& before, const LinkInfo& now, const std::vector<Target>& targets) {
  Outcome out;
  out.accepted = before;
  out.accepted.carrier = now.carrier;
  out.accepted.running = now.running;

  // Applies one setting to every target in order; on a refusal, undoes
  // what was applied and sets the TAP back.
  auto forwardOne = [&](const char* what, auto apply, auto oldValue, auto newValue, auto restoreTap) -> bool {
    std::vector<int> done;
    for (const Target& target : targets) {
      if (auto st = apply(target.ifindex, newValue); !st) {
        for (int d : done) (void)apply(d, oldValue);
        (void)restoreTap(oldValue);
        ++out.rollbacks;
        out.error = std::string(what) + " refused by " + target.ifname + ": " + st.error().describe();
        log_->warn("{}: {} change on {} refused by {} ({}); {} set back", pair_, what, pair_, target.ifname,
                   st.error().describe(), pair_);
        return false;
      }
      done.push_back(target.ifindex);
    }
    return true;
  };

  if (now.mtu != before.mtu) {
    if (forwardOne(
            "mtu", [&](int i, std::uint32_t v) { return links_.setMtu(i, v); }, before.mtu, now.mtu,
            [&](std::uint32_t v) { return tap_.setMtu(v); })) {
      out.accepted.mtu = now.mtu;
      out.mtuChanged = true;
    }
  }
  if (now.up != before.up) {
    // The TAP's IFF_UP cannot be set back from here without fighting the
    // user; a refusal is logged and counted only.
    for (const Target& target : targets) {
      if (auto st = links_.setUp(target.ifindex, now.up); !st) {
        ++out.rollbacks;
        log_->warn("{}: up={} not mirrored: {}", pair_, now.up, st.error().describe());
      }
    }
    out.accepted.up = now.up;
  }
  if (now.promisc != before.promisc) {
    if (forwardOne(
            "promisc", [&](int i, bool v) { return links_.setPromisc(i, v); }, before.promisc, now.promisc,
            [](bool) { return Status::ok(); }))
      out.accepted.promisc = now.promisc;
  }
  if (now.allmulti != before.allmulti) {
    if (forwardOne(
            "allmulti", [&](int i, bool v) { return links_.setAllmulti(i, v); }, before.allmulti, now.allmulti,
            [](bool) { return Status::ok(); }))
      out.accepted.allmulti = now.allmulti;
  }
  return out;
}

void TapMirror::mirrorMulticast(const std::vector<MacAddress>& groups, const std::vector<Target>& targets) {
  for (const Target& target : targets) {
    if (auto st = links_.setMulticast(target.ifindex, groups); !st) {
      log_->warn("{}: multicast list not mirrored: {}", pair_, st.error().describe());
    }
  }
}

}  // namespace tvf
