// Boost.Signals2 signals for what happens on the control thread: link events,
// pair state changes and datapath switches. Emitted only on the control
// thread; subscribers keep a scoped_connection as their last member so it
// disconnects before the rest of the subscriber dies.
#pragma once

#include <string>

#include <boost/signals2/signal.hpp>

#include "tvf/LinkEvent.hpp"
#include "tvf/PairState.hpp"
#include "tvf/PathCounters.hpp"

namespace tvf {

// Subscribers: the announcer (announceRequested, datapathSwitched: it runs
// the on_switch hook), the daemon's metrics (datapathSwitched) and the
// control commands' detach waiters (pairStateChanged).
struct EventBus {
  boost::signals2::signal<void(const LinkEvent&)> linkEvent;
  boost::signals2::signal<void(const std::string& pair, PairState from, PairState to)> pairStateChanged;
  // TX of `pair` moved to `path` (whose netdev is `ifname`).
  boost::signals2::signal<void(const std::string& pair, PathKind path, const std::string& ifname)>
      datapathSwitched;
  // Tell the network that `pair`'s MAC now lives behind `ifindex` (the
  // backend of `path`): `count` gratuitous ARPs / unsolicited NAs.
  boost::signals2::signal<void(const std::string& pair, PathKind path, int ifindex, unsigned count)>
      announceRequested;
};

}  // namespace tvf
