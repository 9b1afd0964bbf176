#include "src/ControlCommands.hpp"

#include <algorithm>

#include "src/ControlServer.hpp"

namespace tvf {

std::variant<std::string, nlohmann::json> ControlCommands::pairArgument(const std::string& cmd,
                                                                        const nlohmann::json& request) const {
  if (!request.contains("pair") || !request["pair"].is_string())
    return errorReply("'" + cmd + "' needs a string \"pair\"");
  const std::string name = request["pair"].get<std::string>();
  const auto names = target_.pairNames();
  if (std::find(names.begin(), names.end(), name) != names.end()) return name;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return errorReply("unknown pair '" + name + "' (pairs: " + list + ")");
}

std::optional<nlohmann::json> ControlCommands::handle(ClientId id, const nlohmann::json& request) {
  const std::string cmd = request["cmd"].get<std::string>();
  if (cmd == "status") return nlohmann::json{{"ok", true}, {"status", target_.status()}};
  if (cmd == "metrics") return nlohmann::json{{"ok", true}, {"metrics", target_.metrics()}};
  if (cmd == "events") {
    // What a follower (tvfctl events --follow) has not seen yet.
    if (request.contains("after") && !request["after"].is_object())
      return errorReply("\"after\" must be an object of PAIR: seq");
    std::optional<std::string> only;
    if (request.contains("pair")) {
      auto pair = pairArgument(cmd, request);
      if (auto* err = std::get_if<nlohmann::json>(&pair)) return *err;
      only = std::get<std::string>(pair);
    }
    return nlohmann::json{{"ok", true},
                          {"pairs", target_.events(only, request.value("after", nlohmann::json::object()))}};
  }
  if (cmd == "detach") {
    if (request.contains("wait") && !request["wait"].is_boolean()) return errorReply("\"wait\" must be a boolean");
    auto pair = pairArgument(cmd, request);
    if (auto* err = std::get_if<nlohmann::json>(&pair)) return *err;
    const std::string& name = std::get<std::string>(pair);
    const PairState state = target_.plannedDetach(name);
    if (request.value("wait", false) && !target_.detachComplete(name)) {
      waits_.push_back({id, name});
      return std::nullopt;
    }
    return nlohmann::json{{"ok", true}, {"state", stateName(state)}};
  }
  if (cmd == "attach") {
    if (request.contains("ifname") && !request["ifname"].is_string())
      return errorReply("\"ifname\" must be a string");
    auto pair = pairArgument(cmd, request);
    if (auto* err = std::get_if<nlohmann::json>(&pair)) return *err;
    const std::string& name = std::get<std::string>(pair);
    std::optional<std::string> ifname;
    if (request.contains("ifname")) ifname = request["ifname"].get<std::string>();
    if (auto st = target_.requestAttach(name, ifname); !st) return errorReply(st.error().what);
    return nlohmann::json{{"ok", true}, {"state", stateName(target_.pairState(name))}};
  }
  if (cmd == "notify") {
    // From the udev rule: a netdev with a pair's MAC was added or removed.
    // Netlink already told us; a re-dump makes sure nothing was missed.
    if (auto st = target_.resync(); !st) return errorReply(st.error().describe());
    return nlohmann::json{{"ok", true}};
  }
  if (cmd == "reload") {
    auto r = target_.reload();
    if (!r) return errorReply(r.error().what);
    return nlohmann::json{{"ok", true}, {"warnings", *r}};
  }
  return errorReply("unknown command '" + cmd + "' (status, detach, attach, metrics, events, reload, notify)");
}

std::vector<ControlCommands::Reply> ControlCommands::takeFinishedWaits() {
  std::vector<Reply> out;
  auto done = [&](const Wait& w) {
    if (!target_.detachComplete(w.pair)) return false;
    out.emplace_back(w.id, nlohmann::json{{"ok", true}, {"state", stateName(target_.pairState(w.pair))}});
    return true;
  };
  waits_.erase(std::remove_if(waits_.begin(), waits_.end(), done), waits_.end());
  return out;
}

void ControlCommands::forget(ClientId id) {
  waits_.erase(std::remove_if(waits_.begin(), waits_.end(), [&](const Wait& w) { return w.id == id; }),
               waits_.end());
}

}  // namespace tvf
