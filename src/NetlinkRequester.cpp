#include "src/NetlinkRequester.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>

namespace tvf {
namespace {

struct Exchange {
  const std::function<void(const nlmsghdr*)>* onMessage = nullptr;
  bool done = false;
  int err = 0;
  std::string extack;
};

int onValid(nl_msg* msg, void* arg) {
  auto* x = static_cast<Exchange*>(arg);
  if (x->onMessage) (*x->onMessage)(nlmsg_hdr(msg));
  return NL_OK;
}
int onFinish(nl_msg*, void* arg) {
  static_cast<Exchange*>(arg)->done = true;
  return NL_STOP;
}
int onError(sockaddr_nl*, nlmsgerr* e, void* arg) {
  auto* x = static_cast<Exchange*>(arg);
  x->done = true;
  x->err = -e->error;
  // Extended ack: TLVs after the (possibly capped) original message.
  x->extack = extackMessage(reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN));
  return NL_STOP;
}

}  // namespace

Result<NetlinkRequester> NetlinkRequester::open() {
  NlSockPtr s(nl_socket_alloc());
  if (!s) return Error{ENOMEM, "nl_socket_alloc"};
  nl_socket_disable_auto_ack(s.get());
  if (int r = nl_connect(s.get(), NETLINK_ROUTE); r < 0) return Error{EIO, std::string("nl_connect: ") + nl_geterror(r)};
  int one = 1;
  ::setsockopt(nl_socket_get_fd(s.get()), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  ::setsockopt(nl_socket_get_fd(s.get()), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return NetlinkRequester(std::move(s));
}

Status NetlinkRequester::receive(const std::function<void(const nlmsghdr*)>* onMessage,
                                 const std::string& what) {
  Exchange x;
  x.onMessage = onMessage;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  if (!cb) return Status::fail(ENOMEM, what);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, onValid, &x);
  nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, onFinish, &x);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, onFinish, &x);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, onError, &x);
  while (!x.done) {
    int r = nl_recvmsgs(sock_.get(), cb.get());
    if (r < 0 && !x.done) return Status::fail(r == -NLE_NOMEM ? ENOBUFS : EIO, what + ": " + nl_geterror(r));
  }
  if (x.err) return Status::fail(x.err, x.extack.empty() ? what : what + " (" + x.extack + ")");
  return Status::ok();
}

Status NetlinkRequester::request(nl_msg* msg, const std::string& what) {
  nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (int r = nl_send_auto(sock_.get(), msg); r < 0) return Status::fail(EIO, what + ": " + nl_geterror(r));
  return receive(nullptr, what);
}

Status NetlinkRequester::dump(int type, int family,
                              const std::function<void(const nlmsghdr*)>& onMessage,
                              const std::string& what) {
  rtgenmsg gen{};
  gen.rtgen_family = static_cast<unsigned char>(family);
  if (int r = nl_send_simple(sock_.get(), type, NLM_F_REQUEST | NLM_F_DUMP, &gen, sizeof gen); r < 0)
    return Status::fail(EIO, what + ": " + nl_geterror(r));
  return receive(&onMessage, what);
}

Status NetlinkRequester::dumpAddresses(int ifindex, const std::function<void(const nlmsghdr*)>& onMessage,
                                       const std::string& what) {
  const int fd = nl_socket_get_fd(sock_.get());
  int on = 1;
  const bool strict = ::setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on) == 0;
  Status st;
  if (strict) {
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_UNSPEC;
    ifa.ifa_index = static_cast<std::uint32_t>(ifindex);
    if (int r = nl_send_simple(sock_.get(), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof ifa); r < 0)
      st = Status::fail(EIO, what + ": " + nl_geterror(r));
    else
      st = receive(&onMessage, what);
    int off = 0;  // the other dumps send a bare rtgenmsg, which strict checking refuses
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &off, sizeof off);
    return st;
  }
  return dump(RTM_GETADDR, AF_UNSPEC, onMessage, what);
}

Result<LinkInfo> NetlinkRequester::getLink(int ifindex) {
  NlMsgPtr msg(nlmsg_alloc_simple(RTM_GETLINK, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nlmsg_hdr(msg.get())->nlmsg_flags |= NLM_F_REQUEST;
  if (int r = nl_send_auto(sock_.get(), msg.get()); r < 0) return Error{EIO, std::string("RTM_GETLINK: ") + nl_geterror(r)};
  std::optional<LinkInfo> found;
  std::function<void(const nlmsghdr*)> on = [&](const nlmsghdr* h) {
    if (auto p = parseLinkMessage(h)) found = p->link;
  };
  // A GETLINK reply is one message, or an error; no ACK follows it.
  Exchange x;
  x.onMessage = &on;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, onValid, &x);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, onError, &x);
  while (!found && !x.done) {
    int r = nl_recvmsgs(sock_.get(), cb.get());
    if (r < 0 && !x.done) return Error{EIO, std::string("RTM_GETLINK: ") + nl_geterror(r)};
  }
  if (x.err) return Error{x.err, "RTM_GETLINK ifindex " + std::to_string(ifindex)};
  if (!found) return Error{ENODEV, "RTM_GETLINK ifindex " + std::to_string(ifindex)};
  return *found;
}

Status NetlinkRequester::setFlags(int ifindex, unsigned flags, unsigned change, const std::string& what) {
  NlMsgPtr msg(nlmsg_alloc_simple(RTM_SETLINK, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  ifi.ifi_flags = flags;
  ifi.ifi_change = change;
  nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  return request(msg.get(), what);
}

Status NetlinkRequester::setU32(int ifindex, int attr, std::uint32_t value, const std::string& what) {
  NlMsgPtr msg(nlmsg_alloc_simple(RTM_SETLINK, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nla_put_u32(msg.get(), attr, value);
  return request(msg.get(), what);
}

}  // namespace tvf
