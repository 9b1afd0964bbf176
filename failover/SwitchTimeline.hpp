// SwitchTimeline: the last kCapacity datapath switches of one pair, for
// `tvfctl events` and the switches-by-reason metrics. A pure value class:
// it keeps what it is told and reads no clock itself (the caller stamps the
// times), so tests drive it without a kernel or a sleep.
//
// A switch is recorded when its trigger is seen (record()) and completed
// when TX is first seen on the new path (complete()), with the time between
// the two and the frames the datapath dropped in that window by its own
// counters. Events are numbered per pair from 1 (seq); numbering and the
// per-reason counts continue across a daemon restart when the timeline is
// saved with toJson() and restored with fromJson() (persist: true).
//
// Thread: owned by the control thread (as its Pair is); not synchronised.
// Counters: countsByReason(), every switch ever recorded, evicted or not.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tvf/PathCounters.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// What moved the datapath. The names are the JSON and metrics label values.
enum class SwitchReason : std::uint8_t {
  PlannedDetach,     // "planned_detach": tvfctl detach / tvf-migrate pre
  Attach,            // "attach": a VF attached (or re-attached after a planned detach)
  VfVanished,        // "vf_vanished": the VF netdev was removed (surprise hot-unplug)
  CarrierLost,       // "carrier_lost": the attached VF lost carrier
  CarrierBack,       // "carrier_back": its carrier came back (after carrier_up_delay_ms)
  PortError,         // "port_error": the VF port failed (ENXIO, ENETDOWN, ...)
  CapabilityChange,  // "capability_change": the VF's offloads no longer fit the TAP
  MtuDrift,          // "mtu_drift": the VF's MTU moved away from the TAP's
  OperatorCommand,   // "operator_command": any other tvfctl request that moved TX
};
inline constexpr std::size_t kSwitchReasonCount = 9;

// The path a switch for this reason moves TX to: Vf for attach,
// carrier_back and operator_command, Synthetic for the others.
PathKind switchTarget(SwitchReason r) noexcept;
// "planned_detach", "vf_vanished", ...: lowercase, stable, label-safe.
const char* switchReasonName(SwitchReason r) noexcept;
// The inverse of switchReasonName(); nullopt for an unknown name.
std::optional<SwitchReason> switchReasonFromName(std::string_view name) noexcept;

struct SwitchEvent {
  std::uint64_t seq = 0;        // per pair, from 1; assigned by record()
  std::int64_t wallUnixUs = 0;  // CLOCK_REALTIME at the trigger, µs since the epoch
  // CLOCK_MONOTONIC at the trigger, µs: orders events and measures gaps
  // within one boot; not comparable across a reboot.
  std::int64_t monotonicUs = 0;
  PathKind from = PathKind::Synthetic;
  PathKind to = PathKind::Synthetic;
  std::string vfIfname;  // the VF involved; empty when none was
  SwitchReason reason = SwitchReason::Attach;
  // Trigger -> first TX on the new path, µs; nullopt until complete() (or
  // when the switch was superseded before TX moved).
  std::optional<std::int64_t> triggerToTxUs;
  // Frames the datapath dropped (its rx/tx dropped counters, both paths)
  // between the trigger and TX on the new path; 0 until complete().
  std::uint64_t framesDropped = 0;

  bool operator==(const SwitchEvent&) const = default;
};

class SwitchTimeline {
 public:
  static constexpr std::size_t kCapacity = 256;

  // Where a switch starts: the event that will move TX (a VF appearing, a
  // planned detach, a carrier loss...). While a trigger towards the same
  // path is pending, the earlier one stays (a VF's carrier coming up during
  // its attach is part of the attach; a removal after a carrier loss is
  // part of the loss); a trigger towards the other path replaces it.
  // `dropsNow` is the datapath's dropped-frames total (both paths, rx + tx).
  void trigger(SwitchReason reason, std::int64_t wallUnixUs, std::int64_t monotonicUs, std::uint64_t dropsNow);
  // Forgets a pending trigger that led to no switch (the attach failed, the
  // VF left before it was used).
  void clearTrigger() { pending_.reset(); }
  // TX moved `from` -> `to` at `monotonicUs`: records the switch with the
  // pending trigger's reason and times, completed with trigger -> now and
  // the drops since the trigger, and clears the trigger. Without a pending
  // trigger the switch is recorded at now with `fallback` as its reason and
  // a duration of 0. Returns the event's seq.
  std::uint64_t switched(PathKind from, PathKind to, std::string vfIfname, std::int64_t wallUnixUs,
                         std::int64_t monotonicUs, std::uint64_t dropsNow, SwitchReason fallback);
  bool hasPendingTrigger() const { return pending_.has_value(); }

  // Appends `e` (its seq is overwritten) and returns the seq given to it.
  // The oldest event is dropped beyond kCapacity.
  std::uint64_t record(SwitchEvent e);
  // Completes event `seq`. false when it is no longer held (evicted) or was
  // never recorded; an event already completed is not changed (false).
  bool complete(std::uint64_t seq, std::chrono::microseconds triggerToTx, std::uint64_t framesDropped);

  // Oldest first, at most kCapacity.
  const std::deque<SwitchEvent>& events() const { return events_; }
  // Events with a seq greater than `seq`, oldest first: what a follower that
  // has seen up to `seq` has not seen yet.
  std::vector<SwitchEvent> after(std::uint64_t seq) const;
  // The seq the last record() returned; 0 before the first.
  std::uint64_t lastSeq() const { return nextSeq_ - 1; }
  // Switches ever recorded, per reason, indexed by the enum's value.
  const std::array<std::uint64_t, kSwitchReasonCount>& countsByReason() const { return counts_; }

  // {"version":1,"next_seq":N,"counts":{"attach":1,...},"events":[{...}]}
  // Each event: {"seq","wall_unix_us","monotonic_us","from","to","vf",
  // "reason","trigger_to_tx_us" (number or null),"frames_dropped"}.
  nlohmann::json toJson() const;
  // The inverse of toJson(). Error EINVAL naming the first bad field
  // ("events[3].reason: unknown 'x'"). More than kCapacity events: the
  // newest kCapacity are kept.
  static Result<SwitchTimeline> fromJson(const nlohmann::json& j);

 private:
  struct Trigger {
    SwitchReason reason;
    std::int64_t wallUnixUs;
    std::int64_t monotonicUs;
    std::uint64_t drops;
  };
  std::optional<Trigger> pending_;  // not persisted: a restart ends it
  std::deque<SwitchEvent> events_;
  std::uint64_t nextSeq_ = 1;
  std::array<std::uint64_t, kSwitchReasonCount> counts_{};
};

// One event as JSON (the element of toJson()'s "events").
nlohmann::json switchEventJson(const SwitchEvent& e);

}  // namespace tvf
