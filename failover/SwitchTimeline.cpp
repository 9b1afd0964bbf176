#include "failover/SwitchTimeline.hpp"

#include <algorithm>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace tvf {

namespace {

constexpr std::array<const char*, kSwitchReasonCount> kReasonNames = {
    "planned_detach", "attach", "vf_vanished", "carrier_lost", "carrier_back",
    "port_error", "capability_change", "mtu_drift", "operator_command"};

// A JSON integer >= 0, whether nlohmann stored it signed or unsigned.
bool isCount(const nlohmann::json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0);
}

std::optional<PathKind> pathFromName(std::string_view s) {
  if (s == "vf") return PathKind::Vf;
  if (s == "synthetic") return PathKind::Synthetic;
  return std::nullopt;
}

// Reads one field of an event, or says what is wrong with it.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  std::optional<Error> error;

  const nlohmann::json* field(const char* key) {
    if (error) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  template <class T>
  std::optional<T> integer(const char* key) {
    const auto* f = field(key);
    if (!f) return std::nullopt;
    if (!f->is_number_integer() || (std::is_unsigned_v<T> && !isCount(*f))) {
      fail(key, std::string(std::is_unsigned_v<T> ? "expected a non-negative integer, got " : "expected an integer, got ") +
                    f->dump());
      return std::nullopt;
    }
    return f->get<T>();
  }
  std::optional<std::string> string(const char* key) {
    const auto* f = field(key);
    if (!f) return std::nullopt;
    if (!f->is_string()) {
      fail(key, "expected a string, got " + f->dump());
      return std::nullopt;
    }
    return f->get<std::string>();
  }
  void fail(const char* key, const std::string& what) {
    if (!error) error = Error{EINVAL, path_ + "." + key + ": " + what};
  }

 private:
  const nlohmann::json& obj_;
  std::string path_;
};

Result<SwitchEvent> eventFromJson(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return Error{EINVAL, path + ": expected an object, got " + j.dump()};
  FieldReader r(j, path);
  SwitchEvent e;
  if (auto v = r.integer<std::uint64_t>("seq")) e.seq = *v;
  if (auto v = r.integer<std::int64_t>("wall_unix_us")) e.wallUnixUs = *v;
  if (auto v = r.integer<std::int64_t>("monotonic_us")) e.monotonicUs = *v;
  for (auto [key, out] : {std::pair{"from", &e.from}, std::pair{"to", &e.to}}) {
    if (auto v = r.string(key)) {
      if (auto p = pathFromName(*v))
        *out = *p;
      else
        r.fail(key, "unknown path '" + *v + "' (vf or synthetic)");
    }
  }
  if (auto v = r.string("vf")) e.vfIfname = *v;
  if (auto v = r.string("reason")) {
    if (auto reason = switchReasonFromName(*v))
      e.reason = *reason;
    else
      r.fail("reason", "unknown '" + *v + "'");
  }
  if (const auto* f = r.field("trigger_to_tx_us"); f && !f->is_null()) {
    if (auto v = r.integer<std::int64_t>("trigger_to_tx_us")) e.triggerToTxUs = *v;
  }
  if (auto v = r.integer<std::uint64_t>("frames_dropped")) e.framesDropped = *v;
  if (r.error) return *r.error;
  if (e.seq == 0) return Error{EINVAL, path + ".seq: must be at least 1"};
  return e;
}

}  // namespace

const char* switchReasonName(SwitchReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kReasonNames.size() ? kReasonNames[i] : "unknown";
}

std::optional<SwitchReason> switchReasonFromName(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kReasonNames.size(); ++i)
    if (name == kReasonNames[i]) return static_cast<SwitchReason>(i);
  return std::nullopt;
}

PathKind switchTarget(SwitchReason r) noexcept {
  switch (r) {
    case SwitchReason::Attach:
    case SwitchReason::CarrierBack:
    case SwitchReason::OperatorCommand:
      return PathKind::Vf;
    default:
      return PathKind::Synthetic;
  }
}

void SwitchTimeline::trigger(SwitchReason reason, std::int64_t wallUnixUs, std::int64_t monotonicUs,
                             std::uint64_t dropsNow) {
  if (pending_ && switchTarget(pending_->reason) == switchTarget(reason)) return;
  pending_ = Trigger{reason, wallUnixUs, monotonicUs, dropsNow};
}

std::uint64_t SwitchTimeline::switched(PathKind from, PathKind to, std::string vfIfname, std::int64_t wallUnixUs,
                                       std::int64_t monotonicUs, std::uint64_t dropsNow, SwitchReason fallback) {
  const Trigger t = pending_.value_or(Trigger{fallback, wallUnixUs, monotonicUs, dropsNow});
  pending_.reset();
  SwitchEvent e;
  e.wallUnixUs = t.wallUnixUs;
  e.monotonicUs = t.monotonicUs;
  e.from = from;
  e.to = to;
  e.vfIfname = std::move(vfIfname);
  e.reason = t.reason;
  e.triggerToTxUs = std::max<std::int64_t>(0, monotonicUs - t.monotonicUs);
  // Counters never go backwards; a smaller total means a reset: count none.
  e.framesDropped = dropsNow >= t.drops ? dropsNow - t.drops : 0;
  return record(std::move(e));
}

std::uint64_t SwitchTimeline::record(SwitchEvent e) {
  e.seq = nextSeq_++;
  ++counts_[static_cast<std::size_t>(e.reason)];
  events_.push_back(std::move(e));
  while (events_.size() > kCapacity) events_.pop_front();
  return events_.back().seq;
}

bool SwitchTimeline::complete(std::uint64_t seq, std::chrono::microseconds triggerToTx,
                              std::uint64_t framesDropped) {
  // seqs are consecutive within the ring: index directly.
  if (events_.empty() || seq < events_.front().seq || seq > events_.back().seq) return false;
  auto& e = events_[static_cast<std::size_t>(seq - events_.front().seq)];
  if (e.triggerToTxUs) return false;
  e.triggerToTxUs = triggerToTx.count();
  e.framesDropped = framesDropped;
  return true;
}

std::vector<SwitchEvent> SwitchTimeline::after(std::uint64_t seq) const {
  auto it = std::upper_bound(events_.begin(), events_.end(), seq,
                             [](std::uint64_t s, const SwitchEvent& e) { return s < e.seq; });
  return {it, events_.end()};
}

nlohmann::json switchEventJson(const SwitchEvent& e) {
  return {{"seq", e.seq},
          {"wall_unix_us", e.wallUnixUs},
          {"monotonic_us", e.monotonicUs},
          {"from", pathName(e.from)},
          {"to", pathName(e.to)},
          {"vf", e.vfIfname},
          {"reason", switchReasonName(e.reason)},
          {"trigger_to_tx_us", e.triggerToTxUs ? nlohmann::json(*e.triggerToTxUs) : nlohmann::json(nullptr)},
          {"frames_dropped", e.framesDropped}};
}

nlohmann::json SwitchTimeline::toJson() const {
  nlohmann::json counts = nlohmann::json::object();
  for (std::size_t i = 0; i < kSwitchReasonCount; ++i) counts[kReasonNames[i]] = counts_[i];
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : events_) events.push_back(switchEventJson(e));
  return {{"version", 1}, {"next_seq", nextSeq_}, {"counts", counts}, {"events", events}};
}

Result<SwitchTimeline> SwitchTimeline::fromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Error{EINVAL, "timeline: expected an object"};
  const auto version = j.find("version");
  if (version == j.end() || *version != 1)
    return Error{EINVAL, "version: expected 1, got " + (version == j.end() ? std::string("nothing") : version->dump())};
  SwitchTimeline t;
  const auto next = j.find("next_seq");
  if (next == j.end() || !isCount(*next) || next->get<std::uint64_t>() == 0)
    return Error{EINVAL, "next_seq: expected a positive integer"};
  t.nextSeq_ = next->get<std::uint64_t>();
  const auto counts = j.find("counts");
  if (counts == j.end() || !counts->is_object()) return Error{EINVAL, "counts: expected an object"};
  for (const auto& [name, n] : counts->items()) {
    auto reason = switchReasonFromName(name);
    if (!reason) return Error{EINVAL, "counts." + name + ": unknown reason"};
    if (!isCount(n)) return Error{EINVAL, "counts." + name + ": expected a non-negative integer"};
    t.counts_[static_cast<std::size_t>(*reason)] = n.get<std::uint64_t>();
  }
  const auto events = j.find("events");
  if (events == j.end() || !events->is_array()) return Error{EINVAL, "events: expected an array"};
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const std::string path = "events[" + std::to_string(i) + "]";
    auto e = eventFromJson((*events)[i], path);
    if (!e) return e.error();
    // complete() and after() index by seq: they must rise by one.
    if (prev != 0 && e->seq != prev + 1)
      return Error{EINVAL, path + ".seq: " + std::to_string(e->seq) + " does not follow " + std::to_string(prev)};
    if (e->seq >= t.nextSeq_)
      return Error{EINVAL, path + ".seq: " + std::to_string(e->seq) + " is not below next_seq " +
                               std::to_string(t.nextSeq_)};
    prev = e->seq;
    t.events_.push_back(std::move(e).value());
  }
  while (t.events_.size() > kCapacity) t.events_.pop_front();
  return t;
}

}  // namespace tvf
