// Owners for libnl objects, and the translation of rtnetlink link messages
// into tvf::LinkInfo. libnl types stop here.
#pragma once

#include <memory>
#include <optional>

#include "tvf/LinkEvent.hpp"

struct nl_sock;
struct nl_msg;
struct nlmsghdr;

namespace tvf {

struct NlSockDeleter {
  void operator()(nl_sock* s) const noexcept;
};
struct NlMsgDeleter {
  void operator()(nl_msg* m) const noexcept;
};
using NlSockPtr = std::unique_ptr<nl_sock, NlSockDeleter>;
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgDeleter>;

enum class LinkMessageKind { New, Del, Other };

struct ParsedLink {
  LinkMessageKind kind = LinkMessageKind::Other;
  LinkInfo link;
};

// Parses RTM_NEWLINK / RTM_DELLINK of family AF_UNSPEC. Bridge-port
// (AF_BRIDGE) and malformed messages give nullopt.
std::optional<ParsedLink> parseLinkMessage(const nlmsghdr* hdr);

}  // namespace tvf
