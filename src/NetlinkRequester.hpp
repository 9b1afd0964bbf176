// Synchronous rtnetlink requests and dumps on a private libnl socket, with
// the kernel's errno and extended-ack message returned as a tvf::Error.
//
// Thread: the control thread.
#pragma once

#include <functional>
#include <string>

#include "src/NetlinkTypes.hpp"
#include "tvf/Result.hpp"

namespace tvf {

class NetlinkRequester {
 public:
  static Result<NetlinkRequester> open();

  // Sends `msg` (flags are set here) and waits for the ACK.
  Status request(nl_msg* msg, const std::string& what);
  // Dumps `type` (RTM_GETLINK, RTM_GETADDR...) for `family`.
  Status dump(int type, int family, const std::function<void(const nlmsghdr*)>& onMessage,
              const std::string& what);
  // Dumps the addresses (RTM_NEWADDR, IPv4 and IPv6) of one link. The
  // request is strict (NETLINK_GET_STRICT_CHK, for it alone) so that the
  // kernel walks that link only; a kernel that ignores the filter dumps
  // them all: callers still check each message's ifindex.
  Status dumpAddresses(int ifindex, const std::function<void(const nlmsghdr*)>& onMessage, const std::string& what);
  Result<LinkInfo> getLink(int ifindex);

  // RTM_SETLINK helpers: flags, MTU and GSO limits of one link.
  Status setFlags(int ifindex, unsigned flags, unsigned change, const std::string& what);
  Status setU32(int ifindex, int attr, std::uint32_t value, const std::string& what);

 private:
  explicit NetlinkRequester(NlSockPtr s) : sock_(std::move(s)) {}
  Status receive(const std::function<void(const nlmsghdr*)>* onMessage, const std::string& what);
  NlSockPtr sock_;
};

}  // namespace tvf
