// The control commands: a request (one JSON object from the control
// socket) becomes an operation on the daemon or a pair, and a reply.
// Framing, peers and buffers stay in ControlServer; the daemon's state
// stays behind the CommandTarget interface, so every request and every
// error reply is unit-tested with a fake (ControlCommandsTest).
//
// Requests: {"cmd":"status"}, {"cmd":"metrics"}, {"cmd":"events","pair":P,
// "after":{P:seq}}, {"cmd":"detach","pair":P,
// "wait":bool}, {"cmd":"attach","pair":P,"ifname":IF}, {"cmd":"notify"},
// {"cmd":"reload"}. Replies: {"ok":true,...} or {"ok":false,"error":...}.
//
// Thread: the control thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "tvf/PairState.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// What the commands act on; the Daemon implements it.
class CommandTarget {
 public:
  virtual ~CommandTarget() = default;
  virtual nlohmann::json status() = 0;
  virtual std::string metrics() = 0;
  virtual std::vector<std::string> pairNames() const = 0;
  // The operations on one pair; `pair` is one of pairNames().
  virtual PairState plannedDetach(const std::string& pair) = 0;
  virtual bool detachComplete(const std::string& pair) const = 0;
  virtual PairState pairState(const std::string& pair) const = 0;
  // Errors: EPERM (not transparent), ENODEV (not a candidate).
  virtual Status requestAttach(const std::string& pair, const std::optional<std::string>& ifname) = 0;
  // A re-dump of the links (the udev rule's notify). Errors: netlink's.
  virtual Status resync() = 0;
  // The switch timelines ({"PAIR": {"last_seq": N, "events": [...]}}), of
  // one pair or all, without what `after` ({"PAIR": seq}) says was seen.
  virtual nlohmann::json events(const std::optional<std::string>& pair, const nlohmann::json& after) = 0;
  // Re-reads the configuration file and applies what can change live.
  // Returns what did not apply (keys that change only on restart, new
  // pairs); EINVAL with every problem, one per line, when the file is
  // refused (the running configuration is kept).
  virtual Result<std::vector<std::string>> reload() = 0;
};

class ControlCommands {
 public:
  using ClientId = int;
  using Reply = std::pair<ClientId, nlohmann::json>;

  explicit ControlCommands(CommandTarget& target) : target_(target) {}

  // Handles one request that has a string "cmd". Returns the reply, or
  // nullopt when it waits (detach --wait; see takeFinishedWaits).
  std::optional<nlohmann::json> handle(ClientId id, const nlohmann::json& request);
  // Replies owed to clients whose detach --wait has now completed.
  std::vector<Reply> takeFinishedWaits();
  // A client went away: drop its waits.
  void forget(ClientId id);

 private:
  struct Wait {
    ClientId id;
    std::string pair;
  };
  // The pair a request names, or the error reply.
  std::variant<std::string, nlohmann::json> pairArgument(const std::string& cmd, const nlohmann::json& request) const;

  CommandTarget& target_;
  std::vector<Wait> waits_;
};

}  // namespace tvf
