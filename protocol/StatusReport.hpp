// The status JSON of DESIGN.md's contract and the Prometheus text
// exposition, built from PairStatus values. Pure, unit-tested.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tvf/PairStatus.hpp"

namespace tvf {

struct DaemonStats {
  std::uint64_t netlinkEvents = 0;
  std::uint64_t netlinkResyncs = 0;
  std::uint64_t hooksStarted = 0;
  std::uint64_t hooksFailed = 0;
  std::uint64_t controlRequests = 0;
  std::uint64_t controlErrors = 0;
  std::uint64_t controlClientsDropped = 0;  // queued more replies than kMaxQueuedReplyBytes
  std::uint64_t controlClientsEvicted = 0;  // closed to make room at the client limit
  std::uint64_t controlClientsRefused = 0;  // accepted and closed for want of fds
  bool verbsBuilt = false;
  struct SwitchesTo {
    std::string pair;
    std::string path;  // "vf" or "synthetic": where TX moved
    std::uint64_t count = 0;
  };
  std::vector<SwitchesTo> switchesTo;
};

// A Prometheus label value: backslash, quote and newline escaped.
std::string prometheusLabel(const std::string& v);

// One path's counters as the status has them ({"rx_packets",...}), and
// back (a missing or non-numeric field reads 0).
nlohmann::json countersJson(const PathCounters& c);
PathCounters countersFromJson(const nlohmann::json& j);

nlohmann::json pairStatusJson(const PairStatus& s);
nlohmann::json statusJson(const std::vector<PairStatus>& pairs, const DaemonStats& stats);
std::string metricsText(const std::vector<PairStatus>& pairs, const DaemonStats& stats);
// The human-readable table of `tvfctl status`.
std::string statusTable(const nlohmann::json& status);

}  // namespace tvf
