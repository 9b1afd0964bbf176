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

struct EventBus {
  boost::signals2::signal<void(const LinkEvent&)> linkEvent;
  boost::signals2::signal<void(const std::string& pair, PairState from, PairState to)> pairStateChanged;
  boost::signals2::signal<void(const std::string& pair, PathKind path, const std::string& ifname)>
      datapathSwitched;
};

}  // namespace tvf
