// Reads a netdev's link-layer multicast list from /proc/net/dev_mcast.
// rtnetlink sends no event when the list changes (a group joined with
// `ip maddr add` or by MLD/IGMP), so the daemon polls it for each TAP.
#pragma once

#include <string>
#include <vector>

#include "tvf/MacAddress.hpp"

namespace tvf {

// Parses dev_mcast text ("IDX NAME USERS GLOBAL HEXADDR" lines) for ifindex.
std::vector<MacAddress> parseDevMcast(const std::string& text, int ifindex);
std::vector<MacAddress> readLinkMulticast(int ifindex);

}  // namespace tvf
