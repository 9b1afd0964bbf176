// Watches RTNLGRP_LINK with libnl-3 and emits tvf LinkEvents: an initial
// dump at start, then add/remove/change; a re-dump after ENOBUFS (the
// kernel dropped events) so nothing is missed.
//
// Thread: the control thread (its fd sits in the control epoll).
// Counters: netlink_resyncs_total, netlink_events_total.
#pragma once

#include <functional>
#include <memory>

#include "src/LinkTable.hpp"
#include "src/NetlinkRequester.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

class NetlinkLinkMonitor {
 public:
  using Sink = std::function<void(const LinkEvent&)>;
  static Result<std::unique_ptr<NetlinkLinkMonitor>> open(Sink sink);

  int fd() const;
  // Dumps every link and emits the differences (all Added on first call).
  Status resync();
  // Reads what is pending on the socket; resyncs on ENOBUFS.
  void onReadable();
  const LinkTable& table() const { return table_; }
  std::uint64_t resyncs() const { return resyncs_; }
  std::uint64_t events() const { return events_; }

 private:
  NetlinkLinkMonitor(NlSockPtr events, NetlinkRequester requester, Sink sink);
  static int onMessage(nl_msg* msg, void* arg);
  void emit(const LinkEvent& e);

  NlSockPtr sock_;
  NetlinkRequester requester_;
  Sink sink_;
  LinkTable table_;
  std::uint64_t resyncs_ = 0;
  std::uint64_t events_ = 0;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
