// The monitor's view of the namespace's links: turns raw NEWLINK/DELLINK
// messages and full re-dumps (after ENOBUFS) into Added/Changed/Removed.
// Pure logic, unit-tested.
#pragma once

#include <map>
#include <vector>

#include "src/NetlinkTypes.hpp"
#include "tvf/LinkEvent.hpp"

namespace tvf {

class LinkTable {
 public:
  // One message; returns the event it means, if any.
  std::optional<LinkEvent> apply(const ParsedLink& msg);
  // A complete dump: events that bring the table up to date.
  std::vector<LinkEvent> resync(const std::vector<LinkInfo>& dump);
  const std::map<int, LinkInfo>& links() const { return links_; }

 private:
  std::map<int, LinkInfo> links_;
};

}  // namespace tvf
