// Builds link events the way the netlink monitor would emit them, and
// delivers them to a sink (a PairRouter in unit tests).
#pragma once

#include <functional>
#include <map>

#include "tvf/LinkEvent.hpp"

namespace tvf::testing {

class FakeLinkEvents {
 public:
  using Sink = std::function<void(const LinkEvent&)>;
  explicit FakeLinkEvents(Sink sink) : sink_(std::move(sink)) {}

  LinkInfo veth(int ifindex, const std::string& name, MacAddress mac) {
    LinkInfo l;
    l.ifindex = ifindex;
    l.ifname = name;
    l.mac = mac;
    l.kind = "veth";
    l.up = l.running = l.carrier = true;
    l.mtu = 1500;
    return l;
  }
  void add(const LinkInfo& l) {
    known_[l.ifindex] = l;
    sink_(LinkAdded{l});
  }
  void change(const LinkInfo& l) {
    known_[l.ifindex] = l;
    sink_(LinkChanged{l});
  }
  void remove(int ifindex) {
    std::string name = known_.count(ifindex) ? known_[ifindex].ifname : "";
    known_.erase(ifindex);
    sink_(LinkRemoved{ifindex, name});
  }
  // A netns move: the link leaves with its ifindex; it may come back under
  // a new ifindex and name.
  void moveOut(int ifindex) { remove(ifindex); }

 private:
  Sink sink_;
  std::map<int, LinkInfo> known_;
};

}  // namespace tvf::testing
