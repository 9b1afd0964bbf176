#include "protocol/SwitchTimelineReport.hpp"

#include "base/StateFile.hpp"

#include "protocol/StatusReport.hpp"

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace tvf {


nlohmann::json timelineReply(const std::vector<NamedTimeline>& pairs, const nlohmann::json& after) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, t] : pairs) {
    std::uint64_t seen = 0;
    if (after.is_object() && after.contains(name) && after[name].is_number_unsigned())
      seen = after[name].get<std::uint64_t>();
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : t->after(seen)) events.push_back(switchEventJson(e));
    out[name] = {{"last_seq", t->lastSeq()}, {"events", std::move(events)}};
  }
  return out;
}

std::string timelineMetrics(const std::vector<NamedTimeline>& pairs) {
  std::ostringstream o;
  o << "# HELP tvf_switches_by_reason_total Datapath switches by what triggered them.\n"
    << "# TYPE tvf_switches_by_reason_total counter\n";
  for (const auto& [name, t] : pairs)
    for (std::size_t i = 0; i < kSwitchReasonCount; ++i)
      o << "tvf_switches_by_reason_total{pair=\"" << prometheusLabel(name) << "\",reason=\""
        << switchReasonName(static_cast<SwitchReason>(i)) << "\"} " << t->countsByReason()[i] << "\n";
  return o.str();
}

std::string timelineLine(const std::string& pair, const nlohmann::json& e) {
  const std::int64_t wallUs = e.value("wall_unix_us", std::int64_t{0});
  const std::time_t secs = static_cast<std::time_t>(wallUs / 1'000'000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(wallUs % 1'000'000));
  std::ostringstream o;
  const std::string vf = e.value("vf", std::string());
  o << when << " " << pair << " #" << e.value("seq", 0) << " " << e.value("from", std::string("?")) << "->"
    << e.value("to", std::string("?")) << " " << (vf.empty() ? "-" : vf) << " " << e.value("reason", std::string("?"));
  if (e.contains("trigger_to_tx_us") && e["trigger_to_tx_us"].is_number())
    o << " " << e["trigger_to_tx_us"].get<std::int64_t>() << " us";
  else
    o << " - us";
  o << " dropped " << e.value("frames_dropped", std::uint64_t{0});
  return o.str();
}

Status saveTimeline(const std::string& path, const SwitchTimeline& timeline) {
  return writeFileAtomically(path, timeline.toJson().dump() + "\n");
}

Result<SwitchTimeline> loadTimeline(const std::string& path) {
  auto text = readStateFile(path);
  if (!text) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Error{EINVAL, path + ": not JSON"};
  auto t = SwitchTimeline::fromJson(j);
  if (!t) return Error{t.error().code, path + ": " + t.error().what};
  return t;
}

}  // namespace tvf
