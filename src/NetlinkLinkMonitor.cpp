#include "src/NetlinkLinkMonitor.hpp"

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "base/Log.hpp"

namespace tvf {

Result<std::unique_ptr<NetlinkLinkMonitor>> NetlinkLinkMonitor::open(Sink sink) {
  NlSockPtr s(nl_socket_alloc());
  if (!s) return Error{ENOMEM, "nl_socket_alloc"};
  nl_socket_disable_seq_check(s.get());
  if (int r = nl_connect(s.get(), NETLINK_ROUTE); r < 0)
    return Error{EIO, std::string("nl_connect: ") + nl_geterror(r)};
  if (int r = nl_socket_add_membership(s.get(), RTNLGRP_LINK); r < 0)
    return Error{EIO, std::string("RTNLGRP_LINK: ") + nl_geterror(r)};
  nl_socket_set_nonblocking(s.get());
  nl_socket_set_buffer_size(s.get(), 4 << 20, 0);
  auto req = NetlinkRequester::open();
  if (!req) return req.error();
  std::unique_ptr<NetlinkLinkMonitor> m(
      new NetlinkLinkMonitor(std::move(s), std::move(req).value(), std::move(sink)));
  nl_socket_modify_cb(m->sock_.get(), NL_CB_VALID, NL_CB_CUSTOM, &NetlinkLinkMonitor::onMessage, m.get());
  return m;
}

NetlinkLinkMonitor::NetlinkLinkMonitor(NlSockPtr events, NetlinkRequester requester, Sink sink)
    : sock_(std::move(events)), requester_(std::move(requester)), sink_(std::move(sink)),
      log_(moduleLogger("netlink")) {}

int NetlinkLinkMonitor::fd() const { return nl_socket_get_fd(sock_.get()); }

int NetlinkLinkMonitor::onMessage(nl_msg* msg, void* arg) {
  auto* self = static_cast<NetlinkLinkMonitor*>(arg);
  if (auto parsed = parseLinkMessage(nlmsg_hdr(msg))) {
    if (auto e = self->table_.apply(*parsed)) self->emit(*e);
  }
  return NL_OK;
}

void NetlinkLinkMonitor::emit(const LinkEvent& e) {
  ++events_;
  sink_(e);
}

Status NetlinkLinkMonitor::resync() {
  std::vector<LinkInfo> links;
  auto st = requester_.dump(RTM_GETLINK, AF_UNSPEC, [&](const nlmsghdr* h) {
    if (auto p = parseLinkMessage(h); p && p->kind == LinkMessageKind::New) links.push_back(p->link);
  }, "link dump");
  if (!st) return st;
  ++resyncs_;
  for (const auto& e : table_.resync(links)) emit(e);
  return Status::ok();
}

void NetlinkLinkMonitor::onReadable() {
  for (;;) {
    int r = nl_recvmsgs_default(sock_.get());
    if (r >= 0) continue;
    if (r == -NLE_AGAIN) return;
    if (r == -NLE_NOMEM) {
      log_->warn("netlink events overflowed (ENOBUFS); re-dumping links");
      if (auto st = resync(); !st) log_->error("resync failed: {}", st.error().describe());
      continue;
    }
    log_->warn("netlink receive: {}", nl_geterror(r));
    return;
  }
}

}  // namespace tvf
