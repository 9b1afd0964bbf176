// An in-memory kernel: links with capabilities and flags, a TAP, and fault
// hooks (a link vanishing, an op refusing with an errno). It implements
// LinkControl and TapFront, and records every call in order.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tvf/PairEnvironment.hpp"

namespace tvf::testing {

struct FakeLink {
  LinkInfo info;
  Capabilities caps;
  bool claimed = false;
  std::vector<MacAddress> multicast;
};

class FakeKernel final : public LinkControl, public TapFront {
 public:
  // -- building the world
  LinkInfo& addLink(int ifindex, const std::string& name, MacAddress mac, Capabilities caps = {},
                    const std::string& kind = "veth") {
    FakeLink l;
    l.info.ifindex = ifindex;
    l.info.ifname = name;
    l.info.mac = mac;
    l.info.kind = kind;
    l.info.mtu = 1500;
    l.info.up = true;
    l.info.running = true;
    l.info.carrier = true;
    l.caps = caps;
    links[ifindex] = l;
    return links[ifindex].info;
  }
  void vanish(int ifindex) { links.erase(ifindex); }
  // The next call of `op` ("setMtu", "claimBackend", ...) on ifindex fails.
  void failNext(const std::string& op, int ifindex, int err) { faults[{op, ifindex}] = err; }
  void failAlways(const std::string& op, int ifindex, int err) { sticky[{op, ifindex}] = err; }

  // -- LinkControl
  Result<Capabilities> readCapabilities(int ifindex) override {
    if (auto st = check("readCapabilities", ifindex); !st) return st.error();
    return links[ifindex].caps;
  }
  Status setMtu(int ifindex, std::uint32_t mtu) override {
    if (auto st = check("setMtu", ifindex); !st) return st;
    auto& l = links[ifindex];
    if (!l.caps.acceptsMtu(mtu)) return Status::fail(EINVAL, "mtu out of range");
    l.info.mtu = mtu;
    return {};
  }
  Status setUp(int ifindex, bool up) override {
    if (auto st = check("setUp", ifindex); !st) return st;
    links[ifindex].info.up = up;
    return {};
  }
  Status setPromisc(int ifindex, bool on) override {
    if (auto st = check("setPromisc", ifindex); !st) return st;
    links[ifindex].info.promisc = on;
    return {};
  }
  Status setAllmulti(int ifindex, bool on) override {
    if (auto st = check("setAllmulti", ifindex); !st) return st;
    links[ifindex].info.allmulti = on;
    return {};
  }
  Status setMulticast(int ifindex, const std::vector<MacAddress>& groups) override {
    if (auto st = check("setMulticast", ifindex); !st) return st;
    links[ifindex].multicast = groups;
    return {};
  }
  Status claimBackend(int ifindex) override {
    if (auto st = check("claimBackend", ifindex); !st) return st;
    links[ifindex].claimed = true;
    return {};
  }
  // The link as the fake kernel has it now (no call recorded).
  Result<LinkInfo> currentLink(int ifindex) override {
    const auto it = links.find(ifindex);
    if (it == links.end()) return Error{ENODEV, "no link " + std::to_string(ifindex)};
    return it->second.info;
  }
  Status releaseBackend(int ifindex) override {
    if (auto st = check("releaseBackend", ifindex); !st) return st;
    links[ifindex].claimed = false;
    return {};
  }

  // -- TapFront
  int ifindex() const override { return tapIndex; }
  std::vector<std::string> operatorOffloadsOff() override { return operatorOff; }
  std::pair<std::uint32_t, std::uint32_t> gsoLimitsWritten() const override { return gsoWritten; }
  Status applyCapabilities(const Capabilities& caps) override {
    calls.push_back("tap.applyCapabilities");
    if (auto it = faults.find({"tap.applyCapabilities", 0}); it != faults.end()) {
      int e = it->second;
      faults.erase(it);
      return Status::fail(e, "tap caps");
    }
    tapCaps = caps;
    return {};
  }
  Status setCarrier(bool on) override {
    calls.push_back(std::string("tap.setCarrier ") + (on ? "1" : "0"));
    tapCarrier = on;
    return {};
  }
  Status setMtu(std::uint32_t mtu) override {
    calls.push_back("tap.setMtu " + std::to_string(mtu));
    tapMtu = mtu;
    return {};
  }
  Status setMac(const MacAddress& mac) override {
    calls.push_back("tap.setMac " + mac.toString());
    tapMac = mac;
    return {};
  }
  Result<MacAddress> readMac() override { return tapMac; }

  std::map<int, FakeLink> links;
  std::vector<std::string> calls;
  int tapIndex = 0;
  Capabilities tapCaps;
  std::vector<std::string> operatorOff;  // what operatorOffloadsOff() says
  std::pair<std::uint32_t, std::uint32_t> gsoWritten{0, 0};  // what gsoLimitsWritten() says
  bool tapCarrier = false;
  std::uint32_t tapMtu = 1500;
  MacAddress tapMac;

 private:
  Status check(const std::string& op, int ifindex) {
    calls.push_back(op + " " + std::to_string(ifindex));
    if (auto it = faults.find({op, ifindex}); it != faults.end()) {
      int e = it->second;
      faults.erase(it);
      return Status::fail(e, op);
    }
    if (auto it = sticky.find({op, ifindex}); it != sticky.end()) return Status::fail(it->second, op);
    if (!links.count(ifindex)) return Status::fail(ENODEV, op + ": no such device");
    return {};
  }
  std::map<std::pair<std::string, int>, int> faults;
  std::map<std::pair<std::string, int>, int> sticky;
};

}  // namespace tvf::testing
