#include "FuzzTargets.hpp"

#include <linux/netlink.h>
#include <net/if.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <variant>

#include <nlohmann/json.hpp>

#include "src/ConfigLoader.hpp"
#include "src/ControlCommands.hpp"
#include "src/ControlServer.hpp"
#include "src/LinkMulticast.hpp"
#include "src/NetlinkTypes.hpp"
#include "src/PathFrames.hpp"

namespace tvf::fuzz {
namespace {

// A broken promise: abort so that libFuzzer saves the input.
void require(bool ok) {
  if (!ok) std::abort();
}

// A daemon with one pair "tvf0" that does what it is asked: the requests
// reach every argument check of ControlCommands.
class AgreeableTarget : public CommandTarget {
 public:
  nlohmann::json status() override { return nlohmann::json::object(); }
  std::string metrics() override { return {}; }
  std::vector<std::string> pairNames() const override { return {"tvf0"}; }
  PairState plannedDetach(const std::string&) override { return PairState::Detaching; }
  bool detachComplete(const std::string&) const override { return false; }
  PairState pairState(const std::string&) const override { return PairState::Active; }
  Status requestAttach(const std::string&, const std::optional<std::string>&) override { return Status::ok(); }
  Status resync() override { return Status::ok(); }
  nlohmann::json events(const std::optional<std::string>&, const nlohmann::json&) override {
    return nlohmann::json::object();
  }
  Result<std::vector<std::string>> reload() override { return std::vector<std::string>{}; }
};

// The message in a heap block of exactly nlmsg_len bytes.
struct HeapMessage {
  std::unique_ptr<std::uint8_t[]> bytes;
  std::size_t size = 0;
  const nlmsghdr* hdr() const { return reinterpret_cast<const nlmsghdr*>(bytes.get()); }
};

std::optional<HeapMessage> heapMessage(const std::uint8_t* data, std::size_t size) {
  auto framed = framedNetlinkMessage(data, size);
  if (framed.empty()) return std::nullopt;
  HeapMessage m;
  m.size = framed.size();
  m.bytes.reset(new std::uint8_t[m.size]);
  std::memcpy(m.bytes.get(), framed.data(), m.size);
  return m;
}

}  // namespace

std::vector<std::uint8_t> framedNetlinkMessage(const std::uint8_t* data, std::size_t size) {
  if (size < sizeof(nlmsghdr)) return {};
  nlmsghdr h;
  std::memcpy(&h, data, sizeof h);
  if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > size) h.nlmsg_len = static_cast<std::uint32_t>(size);
  std::vector<std::uint8_t> out(data, data + h.nlmsg_len);
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

void linkMessage(const std::uint8_t* data, std::size_t size) {
  auto m = heapMessage(data, size);
  if (!m) return;
  if (auto p = parseLinkMessage(m->hdr())) {
    require(p->link.ifname.size() < IFNAMSIZ);
    require(p->link.ifname.find('\0') == std::string::npos);
    require(p->link.kind.size() < m->size);
  }
}

void addressMessage(const std::uint8_t* data, std::size_t size) {
  auto m = heapMessage(data, size);
  if (!m) return;
  if (auto p = parseAddressMessage(m->hdr())) {
    for (const auto* b : {&p->address, &p->local}) require(b->empty() || b->size() == 4 || b->size() == 16);
  }
}

void neighbourMessage(const std::uint8_t* data, std::size_t size) {
  auto m = heapMessage(data, size);
  if (!m) return;
  if (auto p = parseNeighbourMessage(m->hdr())) require(p->address.empty() || p->address.size() == 4 || p->address.size() == 16);
}

void arpReply(const std::uint8_t* data, std::size_t size) {
  // Exactly `size` bytes on the heap, as recv() leaves them: ASan sees any
  // read past the frame.
  std::vector<std::uint8_t> frame(data, data + size);
  const auto mac = *MacAddress::parse("02:00:c6:12:00:02");
  if (auto from = arpReplyTo(frame, mac)) require(size >= 42 && std::equal(frame.begin() + 28, frame.begin() + 32, from->begin()));
}

void extackMessage(const std::uint8_t* data, std::size_t size) {
  auto m = heapMessage(data, size);
  if (!m) return;
  require(tvf::extackMessage(m->hdr()).size() < m->size);
}

void controlRequest(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::size_t at = 0;
  while (at <= bytes.size()) {
    const auto nl = bytes.find('\n', at);
    const std::string line = bytes.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    auto r = parseRequest(line);
    if (r) {
      require(r->is_object() && (*r)["cmd"].is_string());
      // ControlCommands echoes names in its error replies: whatever parsed
      // must serialise again (dump() throws on bad UTF-8).
      AgreeableTarget target;
      ControlCommands commands(target);
      if (auto reply = commands.handle(1, *r)) {
        require(reply->is_object() && reply->contains("ok"));
        (void)reply->dump();
      }
    } else {
      require(!r.error().what.empty());
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
}

void config(const std::uint8_t* data, std::size_t size) {
  auto r = ConfigLoader::loadString(std::string(reinterpret_cast<const char*>(data), size));
  if (auto* problems = std::get_if<std::vector<ConfigProblem>>(&r)) {
    require(!problems->empty());  // an invalid file always says why
    for (const auto& p : *problems) require(!p.message.empty());
  }
}

void devMcast(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  for (int ifindex : {1, 5}) require(parseDevMcast(text, ifindex).size() <= lines);
}

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"link_message", linkMessage}, {"address_message", addressMessage}, {"extack_message", extackMessage},
      {"control_request", controlRequest}, {"config", config}, {"dev_mcast", devMcast},
      {"neighbour_message", neighbourMessage}, {"arp_reply", arpReply},
  };
  return all;
}

}  // namespace tvf::fuzz
