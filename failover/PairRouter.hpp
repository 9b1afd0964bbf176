// Routes link events to the pairs they concern: the synthetic's and the
// TAP's own changes, the attached VF's changes and removal, and new VF
// candidates (classified by VfMatcher).
//
// Thread: the control thread.
#pragma once

#include <memory>
#include <vector>

#include "failover/Pair.hpp"
#include "failover/VfMatcher.hpp"
#include "tvf/LinkEvent.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

class PairRouter {
 public:
  PairRouter();
  void addPair(Pair& pair, MacAddress mac);
  void onLinkEvent(const LinkEvent& event);

 private:
  struct Entry {
    Pair* pair;
    MacAddress mac;
  };
  void onLinkPresent(const LinkInfo& link);
  std::vector<Entry> pairs_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
