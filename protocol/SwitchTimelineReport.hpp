// The switch timeline outside the failover engine: its control-socket
// reply, its Prometheus lines, its text for `tvfctl events`, and its file
// for persist: true. Free functions over SwitchTimeline values; no state.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "failover/SwitchTimeline.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// One pair's timeline, by name.
using NamedTimeline = std::pair<std::string, const SwitchTimeline*>;

// The "events" reply body: {"PAIR": {"last_seq": N, "events": [...]}, ...}
// with the events after `after[PAIR]` (0 when absent: all held).
nlohmann::json timelineReply(const std::vector<NamedTimeline>& pairs, const nlohmann::json& after);

// tvf_switches_by_reason_total{pair,reason}: every reason, zeros included,
// so a rate() has a series from the start. Prometheus text, with HELP/TYPE.
std::string timelineMetrics(const std::vector<NamedTimeline>& pairs);

// One line per event for `tvfctl events`:
// "2026-11-30T11:20:01.123456Z tvf0 #3 vf->synthetic vf1 vf_vanished 45 us dropped 6"
// `event` is one element of the reply's "events" plus "pair".
std::string timelineLine(const std::string& pair, const nlohmann::json& event);

// persist: true keeps the timeline across a daemon restart in the runtime
// directory. save writes PATH.tmp and renames it over PATH (errno of the
// failing call); load returns ENOENT when there is none, EINVAL (naming the
// field) when it does not parse.
Status saveTimeline(const std::string& path, const SwitchTimeline& timeline);
Result<SwitchTimeline> loadTimeline(const std::string& path);

}  // namespace tvf
