// Owners for libnl objects, and the translation of rtnetlink link messages
// into tvf::LinkInfo. libnl types stop here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tvf/LinkEvent.hpp"

struct nl_sock;
struct nl_msg;
struct nlmsghdr;
struct nlattr;

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
// (AF_BRIDGE) and malformed messages give nullopt; malformed includes an
// IFLA_IFNAME without its NUL or of IFNAMSIZ bytes or more. `hdr` must
// point to hdr->nlmsg_len readable bytes (libnl checks that on receive);
// nothing past them is read.
std::optional<ParsedLink> parseLinkMessage(const nlmsghdr* hdr);

// One rtnetlink address message (RTM_NEWADDR / RTM_DELADDR).
struct ParsedAddress {
  bool added = true;        // RTM_NEWADDR; false for RTM_DELADDR
  int family = 0;           // AF_INET or AF_INET6 (others are parsed too)
  int ifindex = 0;
  std::uint32_t flags = 0;  // IFA_F_*: IFA_FLAGS (32 bits) when present, else ifa_flags
  // IFA_ADDRESS and IFA_LOCAL as bytes in network order: 4 (AF_INET) or 16
  // (AF_INET6) bytes, or empty when absent or of another length.
  std::vector<std::uint8_t> address;
  std::vector<std::uint8_t> local;
};

// Parses RTM_NEWADDR / RTM_DELADDR; other types and malformed messages
// (short header, attributes that overrun the message) give nullopt. Same
// buffer contract as parseLinkMessage.
std::optional<ParsedAddress> parseAddressMessage(const nlmsghdr* hdr);

// One rtnetlink neighbour entry (RTM_NEWNEIGH), as a dump gives it.
struct ParsedNeighbour {
  int family = 0;            // AF_INET, AF_INET6, AF_BRIDGE...
  int ifindex = 0;
  std::uint16_t state = 0;   // NUD_* bits
  std::vector<std::uint8_t> address;     // NDA_DST: 4 (AF_INET) or 16 (AF_INET6) bytes, else empty
  std::optional<MacAddress> lladdr;      // NDA_LLADDR when it is 6 bytes
};

// Parses RTM_NEWNEIGH; other types and malformed messages give nullopt.
// Same buffer contract as parseLinkMessage.
std::optional<ParsedNeighbour> parseNeighbourMessage(const nlmsghdr* hdr);

// The text of a string attribute: up to its first NUL, and never past its
// payload (the kernel NUL-terminates its strings; a corrupted or forged
// message need not). nla_get_string() trusts the NUL and may over-read.
std::string attrString(const nlattr* a);

// The extended-ack message (NLMSGERR_ATTR_MSG) of an NLMSG_ERROR message,
// or "" when it has none or its lengths do not add up. `hdr` is the whole
// NLMSG_ERROR message, hdr->nlmsg_len readable bytes.
std::string extackMessage(const nlmsghdr* hdr);

}  // namespace tvf
