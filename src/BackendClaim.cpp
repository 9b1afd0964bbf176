#include "src/BackendClaim.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/Log.hpp"
#include "base/StateFile.hpp"
#include "base/UniqueFd.hpp"
#include "datapath/kernel/TcxHook.hpp"

namespace tvf {
namespace {

// Our filter's identity on the clsact ingress hook.
constexpr std::uint32_t kFilterHandle = 0x7476;  // "tv"
// The prefix of every program tvf puts on a backend's hooks (tvf_drop here,
// the kernel datapath's tvf_ingress).
constexpr const char* kOurPrograms = "tvf_";
constexpr std::uint32_t kFilterPriority = 1;

// "198.18.0.77/24", "fd00:18::77/64": an RTM_NEWADDR's IFA_LOCAL (else
// IFA_ADDRESS) and prefix length.
std::string addressText(const nlmsghdr* h, const ParsedAddress& a) {
  const auto& b = a.local.empty() ? a.address : a.local;
  char text[INET6_ADDRSTRLEN] = "?";
  if (b.size() == 4 || b.size() == 16) ::inet_ntop(b.size() == 4 ? AF_INET : AF_INET6, b.data(), text, sizeof text);
  const auto* ifa = static_cast<const ifaddrmsg*>(nlmsg_data(h));
  return std::string(text) + "/" + std::to_string(ifa->ifa_prefixlen);
}

bool isIpv6LinkLocal(const nlmsghdr* h) {
  auto a = parseAddressMessage(h);
  if (!a || a->family != AF_INET6) return false;
  const auto& b = a->address.empty() ? a->local : a->address;
  return b.size() == 16 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

// A route that claiming the backend takes away and releasing must put back:
// a unicast route out of `ifindex` that someone configured (not the
// kernel's prefix and local routes, which come back with the addresses, nor
// a router advertisement's, which comes back with IPv6), in any table but
// local, with one next hop (multipath routes and nexthop objects are left
// to their owner).
bool isConfiguredRouteVia(const nlmsghdr* h, int ifindex) {
  const auto* rt = static_cast<const rtmsg*>(nlmsg_data(h));
  if (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6) return false;
  if (rt->rtm_type != RTN_UNICAST || (rt->rtm_flags & RTM_F_CLONED)) return false;
  if (rt->rtm_protocol == RTPROT_KERNEL || rt->rtm_protocol == RTPROT_RA || rt->rtm_protocol == RTPROT_REDIRECT)
    return false;
  nlattr* tb[RTA_MAX + 1] = {};
  if (nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0) return false;
  const std::uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
  if (table == RT_TABLE_LOCAL) return false;
  if (tb[RTA_MULTIPATH] || tb[RTA_NH_ID] || !tb[RTA_OIF]) return false;
  return static_cast<int>(nla_get_u32(tb[RTA_OIF])) == ifindex;
}

}  // namespace

std::string ipv6SysctlPath(const std::string& ifname, const char* key) {
  return "/proc/sys/net/ipv6/conf/" + ifname + "/" + key;
}

Result<std::string> readSysctl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errno ? errno : ENOENT, "read " + path};
  std::string v;
  std::getline(in, v);
  return v;
}

Status writeSysctl(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  if (!out) return Status::fail(errno ? errno : ENOENT, "open " + path);
  out << value << "\n";
  out.flush();
  if (!out) return Status::fail(EIO, "write " + path);
  return Status::ok();
}

namespace {

std::string toHex(const std::vector<std::uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

std::vector<std::uint8_t> fromHex(const std::string& s) {
  std::vector<std::uint8_t> b;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) b.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  return b;
}

}  // namespace

BackendClaimer::BackendClaimer(NetlinkRequester& nl, std::string stateFile)
    : nl_(nl), stateFile_(std::move(stateFile)), log_(moduleLogger("claim")) {
  if (stateFile_.empty()) return;
  auto text = readStateFile(stateFile_);
  if (!text) {
    if (text.error().code != ENOENT) log_->warn("ignoring claim records: {}", text.error().describe());
    return;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    log_->warn("ignoring unreadable claim records in {}", stateFile_);
    return;
  }
  for (const auto& r : j) {
    try {
      Claim c;
      c.ifname = r.at("ifname").get<std::string>();
      for (const auto& a : r.at("addresses")) c.addresses.push_back(fromHex(a.get<std::string>()));
      for (const auto& a : r.value("routes", nlohmann::json::array())) c.routes.push_back(fromHex(a.get<std::string>()));
      c.disableIpv6 = r.at("disable_ipv6").get<std::string>();
      c.createdClsact = r.at("created_clsact").get<bool>();
      c.filterAttached = true;
      c.ingressProgram = r.value("ingress_program", "tvf_drop");
      if (r.contains("mtu")) {
        LinkInfo l;
        l.ifname = c.ifname;
        l.mtu = r.at("mtu").get<std::uint32_t>();
        l.up = r.at("up").get<bool>();
        l.promisc = r.at("promisc").get<bool>();
        l.allmulti = r.at("allmulti").get<bool>();
        c.before = l;
      }
      inherited_[r.at("ifindex").get<int>()] = std::move(c);
    } catch (const std::exception& e) {
      log_->warn("ignoring a bad claim record in {}: {}", stateFile_, e.what());
    }
  }
  if (!inherited_.empty())
    log_->info("{} claim record(s) inherited from a previous run ({})", inherited_.size(), stateFile_);
}

void BackendClaimer::saveRecords() const {
  if (stateFile_.empty()) return;
  nlohmann::json j = nlohmann::json::array();
  auto add = [&](int ifindex, const Claim& c) {
    nlohmann::json r = {{"ifindex", ifindex},
                        {"ifname", c.ifname},
                        {"disable_ipv6", c.disableIpv6},
                        {"created_clsact", c.createdClsact},
                        {"ingress_program", c.ingressProgram},
                        {"addresses", nlohmann::json::array()},
                        {"routes", nlohmann::json::array()}};
    for (const auto& a : c.addresses) r["addresses"].push_back(toHex(a));
    for (const auto& a : c.routes) r["routes"].push_back(toHex(a));
    if (c.before) {
      r["mtu"] = c.before->mtu;
      r["up"] = c.before->up;
      r["promisc"] = c.before->promisc;
      r["allmulti"] = c.before->allmulti;
    }
    j.push_back(r);
  };
  for (const auto& [i, c] : claims_) add(i, c);
  for (const auto& [i, c] : inherited_)
    if (!claims_.count(i)) add(i, c);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(stateFile_).parent_path(), ec);
  if (auto st = writeFileAtomically(stateFile_, j.dump(1) + "\n"); !st)
    log_->warn("cannot write claim records: {}", st.error().describe());
}

std::optional<BackendClaimer::Claim> BackendClaimer::takeRecord(int ifindex, const std::string& ifname) {
  auto it = inherited_.find(ifindex);
  if (it == inherited_.end()) return std::nullopt;
  Claim c = std::move(it->second);
  inherited_.erase(it);
  // The record names the netdev as it was at the previous run's end (the
  // claims follow renames): another name at that ifindex is another netdev
  // (the recorded one left while no tvfd ran), claimed afresh, so that its
  // own state is what a release restores.
  if (c.ifname != ifname) {
    log_->info("the previous run's claim record of {} (ifindex {}) is not {}'s: that netdev is gone", c.ifname,
               ifindex, ifname);
    return std::nullopt;  // the fresh claim that follows saves the records

  }
  return c;
}

BackendClaimer::~BackendClaimer() = default;

std::string BackendClaimer::ifnameOf(int ifindex) {
  auto l = nl_.getLink(ifindex);
  return l ? l->ifname : "";
}

void BackendClaimer::forget(int ifindex) {
  programs_.erase(ifindex);
  const bool had = claims_.erase(ifindex) + inherited_.erase(ifindex) != 0;
  if (!had) return;
  log_->info("forgot the claim on ifindex {}: the netdev left the namespace", ifindex);
  saveRecords();
}

void BackendClaimer::forgetVanished() {
  bool forgot = false;
  for (auto it = claims_.begin(); it != claims_.end();) {
    if (auto l = nl_.getLink(it->first); !l && l.error().code == ENODEV) {
      log_->debug("forgot the claim on {} (ifindex {}): the netdev is gone", it->second.ifname, it->first);
      it = claims_.erase(it);
      forgot = true;
    } else {
      ++it;
    }
  }
  if (forgot) saveRecords();
}

Status BackendClaimer::claim(int ifindex) {
  if (claims_.count(ifindex)) return Status::ok();
  // A VF unplugged while claimed is never released (nothing to restore), so
  // its claim would stay here and in the records file for good: one per
  // hot-unplug. Drop those first.
  forgetVanished();
  // The name from an RTM_GETLINK on the open netlink socket, not
  // if_indextoname(), which opens a socket and fails under EMFILE.
  const std::string ifname = ifnameOf(ifindex);
  if (ifname.empty()) return Status::fail(ENODEV, "claim ifindex " + std::to_string(ifindex));
  if (auto inherited = takeRecord(ifindex, ifname)) {
    // Claimed by a previous run that did not release it: keep what that run
    // saved, make sure the claim still holds, and record it as ours.
    Claim c = std::move(*inherited);
    (void)writeSysctl(ipv6SysctlPath(ifname, "disable_ipv6"), "1");
    const bool created = c.createdClsact;
    if (auto a = attachIngress(ifindex, c); !a) return a;
    c.createdClsact = created || c.createdClsact;
    log_->info("re-claimed {} (ifindex {}) from a previous run", ifname, ifindex);
    claims_[ifindex] = std::move(c);
    saveRecords();
    return Status::ok();
  }
  Claim c;
  c.ifname = ifname;

  if (auto l = nl_.getLink(ifindex)) c.before = *l;

  // 0. Save the routes out of it: removing its last IPv4 address and turning
  // IPv6 off flush them, and release puts them back after the addresses.
  auto routes = nl_.dump(RTM_GETROUTE, AF_UNSPEC, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE || !isConfiguredRouteVia(h, ifindex)) return;
    const auto* p = reinterpret_cast<const std::uint8_t*>(h);
    std::vector<std::uint8_t> bytes(p, p + h->nlmsg_len);
    // Only ONLINK is configuration; LINKDOWN, DEAD and offload flags are
    // state, and a request carrying DEAD or LINKDOWN is refused (EINVAL).
    auto* rt = static_cast<rtmsg*>(nlmsg_data(reinterpret_cast<nlmsghdr*>(bytes.data())));
    rt->rtm_flags &= RTNH_F_ONLINK;
    c.routes.push_back(std::move(bytes));
  }, "route dump");
  if (!routes) return routes;

  // 1. Save and remove its addresses.
  auto found = addressesOn({ifindex});
  if (!found) return found.status();
  for (auto& bytes : *found) {
    if (!isIpv6LinkLocal(reinterpret_cast<const nlmsghdr*>(bytes.data()))) c.addresses.push_back(bytes);
    removeAddress(bytes, c.ifname);
  }

  // 2. IPv6 off: no SLAAC, no DAD clash on the shared MAC.
  const auto path = ipv6SysctlPath(c.ifname, "disable_ipv6");
  if (auto v = readSysctl(path)) {
    c.disableIpv6 = *v;
    if (auto w = writeSysctl(path, "1"); !w) log_->warn("{}", w.error().describe());
  }

  // 3. Drop stack ingress after the packet taps.
  if (auto a = attachIngress(ifindex, c); !a) {
    if (!c.disableIpv6.empty()) (void)writeSysctl(path, c.disableIpv6);
    return a;
  }
  log_->info("claimed {} (ifindex {}): {} address(es) and {} route(s) saved, ipv6 off, ingress to {}", c.ifname,
             ifindex, c.addresses.size(), c.routes.size(), c.ingressProgram);
  claims_[ifindex] = std::move(c);
  saveRecords();
  return Status::ok();
}

Result<std::vector<std::vector<std::uint8_t>>> BackendClaimer::addressesOn(const std::set<int>& ifindexes) {
  std::vector<std::vector<std::uint8_t>> found;
  for (const int ifindex : ifindexes) {
    auto st = nl_.dumpAddresses(ifindex, [&](const nlmsghdr* h) {
      auto a = parseAddressMessage(h);
      if (!a || !a->added || a->ifindex != ifindex) return;
      const auto* p = reinterpret_cast<const std::uint8_t*>(h);
      found.emplace_back(p, p + h->nlmsg_len);
    }, "address dump");
    if (!st) return st.error();
  }
  return found;
}

void BackendClaimer::removeAddress(const std::vector<std::uint8_t>& newaddr, const std::string& ifname) {
  std::vector<std::uint8_t> del = newaddr;
  auto* dh = reinterpret_cast<nlmsghdr*>(del.data());
  dh->nlmsg_type = RTM_DELADDR;
  NlMsgPtr msg(nlmsg_convert(dh));
  if (auto d = nl_.request(msg.get(), "remove address from " + ifname); !d && d.code() != EADDRNOTAVAIL)
    log_->warn("{}", d.error().describe());
}

void BackendClaimer::holdClaims() {
  if (claims_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  bool changed = false;
  std::set<int> ifindexes;
  for (auto& [ifindex, c] : claims_) {
    // Its name now: a claimed VF renamed (udev) keeps its claim, and the
    // sysctl below must not be another link's that took the old name.
    const std::string name = ifnameOf(ifindex);
    if (name.empty()) continue;  // gone: forget() follows its RTM_DELLINK
    if (name != c.ifname) {
      log_->info("{} (ifindex {}) is now named {}", c.ifname, ifindex, name);
      c.ifname = name;
      changed = true;
    }
    ifindexes.insert(ifindex);
    // The hook: `tc qdisc del dev VF clsact` (or a filter deleted) would
    // hand the backend's frames to its own stack, and tvf0 would hear none.
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, query, .handle = kFilterHandle, .priority = kFilterPriority);
    if (const int r = bpf_tc_query(&hook, &query); r < 0 && r != -ENODEV && c.hookRetry.due(now)) {
      if (auto st = attachIngress(ifindex, c); st) {
        log_->warn("{}: its ingress program {} was removed behind tvf's back (tc qdisc del/tc filter del?): put back",
                   c.ifname, c.ingressProgram);
        c.hookRetry.reset();
        changed = true;
      } else if (c.hookRetry.failed(now)) {
        // Something in the hook's place (another root or ingress qdisc).
        log_->warn("{}: its ingress program was removed and cannot be put back (tried again after 1 s, 2, 4 ... "
                   "30): {}",
                   c.ifname, st.error().describe());
      }
    }
    // IPv6 turned on again: SLAAC and DAD on the MAC tvf0 shares.
    const auto path = ipv6SysctlPath(c.ifname, "disable_ipv6");
    if (auto v = readSysctl(path); v && *v != "1") {
      if (auto w = writeSysctl(path, "1"); !w)
        log_->warn("{}", w.error().describe());
      else if (c.ipv6Repairs.due(now))
        log_->warn("{}: IPv6 was turned on behind tvf's back: off again (configure tvf0, not a claimed backend){}",
                   c.ifname, c.ipv6Repairs.since());
    }
  }
  // Addresses added to a claimed backend: the stack would route out of it,
  // past tvf0. Removed, and not restored on release (they were never the
  // backend's before the claim).
  if (auto found = addressesOn(ifindexes)) {
    for (const auto& bytes : *found) {
      const auto* h = reinterpret_cast<const nlmsghdr*>(bytes.data());
      const auto a = parseAddressMessage(h);
      const auto it = a ? claims_.find(a->ifindex) : claims_.end();
      if (it == claims_.end()) continue;
      removeAddress(bytes, it->second.ifname);
      if (it->second.addressRepairs.due(now))
        log_->warn("{}: address {} was added behind tvf's back: removed (configure tvf0, not a claimed backend){}",
                   it->second.ifname, addressText(h, *a), it->second.addressRepairs.since());
    }
  }
  if (changed) saveRecords();
}

bool BackendClaimer::RepairLog::due(std::chrono::steady_clock::time_point now) {
  if (said_ != std::chrono::steady_clock::time_point{} && now - said_ < std::chrono::seconds(10)) {
    ++quiet_;
    return false;
  }
  said_ = now;
  return true;
}

std::string BackendClaimer::RepairLog::since() {
  std::string s;
  if (quiet_ > 0) s = " (and " + std::to_string(quiet_) + " more time(s) in the 10 s before, not logged)";
  quiet_ = 0;
  return s;
}

Status BackendClaimer::attachIngress(int ifindex, Claim& c) {
  if (const auto p = programs_.find(ifindex); p != programs_.end()) {
    if (auto st = attachOnClsact(ifindex, c, p->second.fd, p->second.name); !st) return st;
  } else if (auto st = attachDrop(ifindex, c); !st) {
    return st;
  }
  // A tcx program of ours (left by a build that put the redirect there)
  // would run first and hide what now sits on clsact.
  return tcxDetach(ifindex, TcHook::Ingress, kOurPrograms);
}

Status BackendClaimer::attachDrop(int ifindex, Claim& c) {
  bpf_insn prog[2] = {};
  prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  prog[0].dst_reg = BPF_REG_0;
  prog[0].imm = TC_ACT_SHOT;
  prog[1].code = BPF_JMP | BPF_EXIT;
  LIBBPF_OPTS(bpf_prog_load_opts, lopts);
  int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tvf_drop", "GPL", prog, 2, &lopts);
  if (fd < 0) return Status::fail(-fd, "load ingress drop program");
  UniqueFd progFd(fd);
  return attachOnClsact(ifindex, c, progFd.get(), "tvf_drop");
}

Status BackendClaimer::attachOnClsact(int ifindex, Claim& c, int progFd, const std::string& name) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  const bool createdBefore = c.createdClsact;
  int r = bpf_tc_hook_create(&hook);
  const bool created = r == 0;
  if (created) {
    c.createdClsact = true;
  } else if (r != -EEXIST) {
    return Status::fail(-r, "create clsact on " + c.ifname);
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = progFd, .flags = BPF_TC_F_REPLACE, .handle = kFilterHandle,
              .priority = kFilterPriority);
  if (r = bpf_tc_attach(&hook, &opts); r < 0) {
    if (created) {
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
      c.createdClsact = createdBefore;
    }
    return Status::fail(-r, "attach " + name + " on " + c.ifname);
  }
  c.filterAttached = true;
  c.ingressProgram = name;
  return Status::ok();
}

Status BackendClaimer::useIngressProgram(int ifindex, int progFd, const std::string& name) {
  programs_[ifindex] = Program{progFd, name};
  auto it = claims_.find(ifindex);
  if (it == claims_.end()) return Status::ok();
  if (auto st = attachIngress(ifindex, it->second); !st) return st;
  saveRecords();
  return Status::ok();
}

Status BackendClaimer::useIngressDrop(int ifindex) {
  if (programs_.erase(ifindex) == 0) return Status::ok();
  auto it = claims_.find(ifindex);
  if (it == claims_.end()) return Status::ok();
  if (auto st = attachIngress(ifindex, it->second); !st) return st;
  saveRecords();
  return Status::ok();
}

std::map<int, std::string> BackendClaimer::inheritedClaims() const {
  std::map<int, std::string> out;
  for (const auto& [ifindex, c] : inherited_) out.emplace(ifindex, c.ifname);
  return out;
}

std::vector<std::pair<int, std::string>> BackendClaimer::inheritedHooks() const {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& [ifindex, c] : inherited_) out.emplace_back(ifindex, c.ingressProgram);
  return out;
}

void BackendClaimer::detachIngress(int ifindex, Claim& c) {
  // A tcx program of ours first (see attachIngress), then the clsact filter.
  if (auto st = tcxDetach(ifindex, TcHook::Ingress, kOurPrograms); !st)
    log_->warn("{}", st.error().describe());
  // Our filter, then the clsact if tvf made it and nothing else sits on it:
  // a filter an operator put on the backend meanwhile (ingress or egress)
  // stays, and the qdisc with it.
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  if (c.filterAttached || c.createdClsact) {
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kFilterHandle, .priority = kFilterPriority);
    if (int r = bpf_tc_detach(&hook, &opts); r < 0 && r != -ENOENT && r != -EINVAL)
      log_->warn("detach {} from {}: {}", c.ingressProgram.empty() ? "tvf's ingress filter" : c.ingressProgram,
                 c.ifname, std::strerror(-r));
  }
  if (c.createdClsact && clsactFilterCount(ifindex) == 0) {
    hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    if (int r = bpf_tc_hook_destroy(&hook); r < 0 && r != -ENOENT && r != -EINVAL)
      log_->warn("remove clsact from {}: {}", c.ifname, std::strerror(-r));
  }
}

Status BackendClaimer::release(int ifindex) {
  programs_.erase(ifindex);  // a datapath asks again when it takes the backend again
  auto it = claims_.find(ifindex);
  if (it == claims_.end()) return Status::ok();
  Claim c = std::move(it->second);
  claims_.erase(it);
  saveRecords();
  const std::string now = ifnameOf(ifindex);
  if (now.empty()) return Status::ok();  // gone: nothing left to restore
  c.ifname = now;                        // renamed while claimed
  // MTU and flags first (a link restored down gets no IPv6 link-local
  // address when IPv6 comes back), then the ingress drop, IPv6, addresses.
  if (c.before) {
    if (auto link = nl_.getLink(ifindex)) {
      if (link->mtu != c.before->mtu) (void)nl_.setU32(ifindex, IFLA_MTU, c.before->mtu, "restore mtu on " + c.ifname);
      unsigned flags = 0;
      if (c.before->up) flags |= IFF_UP;
      if (c.before->promisc) flags |= IFF_PROMISC;
      if (c.before->allmulti) flags |= IFF_ALLMULTI;
      if (auto st = nl_.setFlags(ifindex, flags, IFF_UP | IFF_PROMISC | IFF_ALLMULTI, "restore flags on " + c.ifname); !st)
        log_->warn("{}", st.error().describe());
    }
  }
  detachIngress(ifindex, c);
  if (!c.disableIpv6.empty()) {
    if (auto w = writeSysctl(ipv6SysctlPath(c.ifname, "disable_ipv6"), c.disableIpv6); !w)
      log_->warn("{}", w.error().describe());
  }
  for (auto& bytes : c.addresses) {
    auto* h = reinterpret_cast<nlmsghdr*>(bytes.data());
    h->nlmsg_type = RTM_NEWADDR;
    h->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    NlMsgPtr msg(nlmsg_convert(h));
    if (auto a = nl_.request(msg.get(), "restore address on " + c.ifname); !a)
      log_->warn("{}", a.error().describe());
  }
  // The routes last: a gateway must be reachable through the addresses.
  for (auto& bytes : c.routes) {
    auto* h = reinterpret_cast<nlmsghdr*>(bytes.data());
    h->nlmsg_type = RTM_NEWROUTE;
    h->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    NlMsgPtr msg(nlmsg_convert(h));
    if (auto r = nl_.request(msg.get(), "restore route on " + c.ifname); !r && r.code() != EEXIST)
      log_->warn("{}", r.error().describe());
  }
  log_->info("released {} (ifindex {}): {} address(es) and {} route(s) restored", c.ifname, ifindex,
             c.addresses.size(), c.routes.size());
  return Status::ok();
}

void BackendClaimer::releaseInherited(const std::set<int>& keep) {
  if (inherited_.empty()) return;
  bool dropped = false;
  std::vector<int> released;
  for (auto it = inherited_.begin(); it != inherited_.end();) {
    if (keep.count(it->first)) {
      ++it;
      continue;
    }
    // Gone (unplugged while no tvfd ran, or its ifindex now another
    // netdev's): nothing of the claim is left to restore.
    if (ifnameOf(it->first) != it->second.ifname) {
      log_->info("dropped the previous run's claim record of {} (ifindex {}): the netdev is gone", it->second.ifname,
                 it->first);
      it = inherited_.erase(it);
      dropped = true;
      continue;
    }
    log_->info("releasing {} (ifindex {}): claimed by the previous run, taken by no pair now", it->second.ifname,
               it->first);
    claims_[it->first] = std::move(it->second);
    released.push_back(it->first);
    it = inherited_.erase(it);
  }
  for (const int ifindex : released) (void)release(ifindex);  // each saves the records
  if (dropped && released.empty()) saveRecords();
}

void BackendClaimer::releaseAll() {
  while (!claims_.empty()) (void)release(claims_.begin()->first);
  // The previous run's records no pair took again: released where the
  // netdev is still here, dropped where it is gone.
  releaseInherited({});
  saveRecords();
}

}  // namespace tvf
