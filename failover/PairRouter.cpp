#include "failover/PairRouter.hpp"

#include "base/Log.hpp"

namespace tvf {

PairRouter::PairRouter() : log_(moduleLogger("failover")) {}

void PairRouter::addPair(Pair& pair, MacAddress mac) { pairs_.push_back({&pair, mac}); }

void PairRouter::onLinkEvent(const LinkEvent& event) {
  if (const auto* added = std::get_if<LinkAdded>(&event)) {
    onLinkPresent(added->link);
  } else if (const auto* changed = std::get_if<LinkChanged>(&event)) {
    onLinkPresent(changed->link);
  } else if (const auto* removed = std::get_if<LinkRemoved>(&event)) {
    for (auto& e : pairs_) {
      if (removed->ifindex == e.pair->syntheticIndex()) {
        log_->error("{}: synthetic {} was removed; the pair keeps its TAP and waits",
                    e.pair->config().name, removed->ifname);
      }
      e.pair->onLinkRemoved(removed->ifindex);
    }
  }
}

void PairRouter::onLinkPresent(const LinkInfo& link) {
  for (auto& e : pairs_) {
    Pair& pair = *e.pair;
    if (link.ifindex == pair.syntheticIndex() || link.ifindex == pair.tapIndex()) {
      pair.onLinkChanged(link);
      continue;
    }
    const VfVerdict v = classifyVf({e.mac, pair.syntheticIndex(), pair.tapIndex()}, link);
    if (v == VfVerdict::Candidate) {
      pair.onVfCandidate(link);
    } else if (pair.vf() && pair.vf()->ifindex == link.ifindex) {
      // The attached VF stopped matching (MAC changed, enslaved elsewhere).
      log_->warn("{}: VF {} no longer matches ({})", pair.config().name, link.ifname,
                 verdictName(v));
      pair.onVfStoppedMatching(link.ifindex);
    } else if (v == VfVerdict::ExcludedKind || v == VfVerdict::Enslaved) {
      log_->debug("{}: {} has the pair's MAC but is not a VF ({})", pair.config().name,
                  link.ifname, verdictName(v));
    }
  }
}

}  // namespace tvf
