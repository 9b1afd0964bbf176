#include "failover/TapMirror.hpp"

#include <cerrno>

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
  if (now.actsPromisc() == before.actsPromisc() ||
      forwardOne(
          "promisc", [&](int i, bool v) { return links_.setPromisc(i, v); }, before.actsPromisc(),
          now.actsPromisc(), [](bool) { return Status::ok(); })) {
    out.accepted.promisc = now.promisc;
    out.accepted.promiscuity = now.promiscuity;
  }
  if (now.actsAllmulti() == before.actsAllmulti() ||
      forwardOne(
          "allmulti", [&](int i, bool v) { return links_.setAllmulti(i, v); }, before.actsAllmulti(),
          now.actsAllmulti(), [](bool) { return Status::ok(); })) {
    out.accepted.allmulti = now.allmulti;
    out.accepted.allmultiCount = now.allmultiCount;
  }
  // An event older than the TAP's MAC now (the TAP's creation, before tvf
  // gave it the synthetic's) is no change.
  bool macChanged = now.mac != before.mac && !before.mac.isZero();
  if (macChanged) {
    const auto macNow = tap_.readMac();
    macChanged = !macNow || *macNow != before.mac;
  }
  if (macChanged) {
    auto st = tap_.setMac(before.mac);
    ++out.rollbacks;
    out.error = "MAC change on " + pair_ + " to " + now.mac.toString() + " refused: " + pair_ +
                " keeps the synthetic's MAC " + before.mac.toString() +
                " (the VF filters unicast by it, the announcements carry it)";
    if (!st) out.error += "; setting it back failed: " + st.error().describe();
    log_->warn("{}: {}", pair_, out.error);
  }
  return out;
}

TapMirror::Kept TapMirror::keep(const LinkInfo& tap, const LinkInfo& event) {
  Kept out;
  // The event may be older than tvf's own write (one queued before the
  // pair started, when the synthetic still had its own flags): the link as
  // it is now says whether anything changed behind tvf's back.
  LinkInfo backend = event;
  if (auto now = links_.currentLink(event.ifindex)) backend = *now;
  bool gone = false;  // the backend unregisters: its removal event follows, nothing to put back
  auto fix = [&](const std::string& what, bool differs, const std::string& from, const std::string& to,
                 auto apply) {
    if (!differs || gone) return;
    if (auto st = apply(); !st) {
      if (st.error().code == ENODEV) {
        gone = true;
        log_->debug("{}: {} is going away ({} {}); not set back", pair_, backend.ifname, what, from);
        return;
      }
      if (out.error.empty())
        out.error = backend.ifname + " changed behind tvf's back (" + what + " " + from + "), and refused " + what +
                    " " + to + ": " + st.error().describe();
      log_->warn("{}: {} changed behind tvf's back ({} {}); setting {} {} refused: {}", pair_, backend.ifname,
                 what, from, what, to, st.error().describe());
      return;
    }
    out.restored.push_back(what + " " + from + " -> " + to);
    log_->info("{}: {} changed behind tvf's back ({} {}); set back to {}", pair_, backend.ifname, what, from, to);
  };
  auto onOff = [](bool b) { return std::string(b ? "on" : "off"); };
  fix("mtu", backend.mtu != tap.mtu, std::to_string(backend.mtu), std::to_string(tap.mtu),
      [&] { return links_.setMtu(backend.ifindex, tap.mtu); });
  fix("promisc", backend.promisc != tap.actsPromisc(), onOff(backend.promisc), onOff(tap.actsPromisc()),
      [&] { return links_.setPromisc(backend.ifindex, tap.actsPromisc()); });
  fix("allmulti", backend.allmulti != tap.actsAllmulti(), onOff(backend.allmulti), onOff(tap.actsAllmulti()),
      [&] { return links_.setAllmulti(backend.ifindex, tap.actsAllmulti()); });
  fix("up", backend.up != tap.up, onOff(backend.up), onOff(tap.up), [&] { return links_.setUp(backend.ifindex, tap.up); });
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
