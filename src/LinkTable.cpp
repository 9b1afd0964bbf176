#include "src/LinkTable.hpp"

#include <set>

namespace tvf {

std::optional<LinkEvent> LinkTable::apply(const ParsedLink& msg) {
  const int idx = msg.link.ifindex;
  if (msg.kind == LinkMessageKind::Del) {
    auto it = links_.find(idx);
    std::string name = it != links_.end() ? it->second.ifname : msg.link.ifname;
    if (it != links_.end()) links_.erase(it);
    return LinkRemoved{idx, name};
  }
  if (msg.kind != LinkMessageKind::New) return std::nullopt;
  auto [it, fresh] = links_.insert_or_assign(idx, msg.link);
  if (fresh) return LinkAdded{msg.link};
  return LinkChanged{msg.link};
}

std::vector<LinkEvent> LinkTable::resync(const std::vector<LinkInfo>& dump) {
  std::vector<LinkEvent> out;
  std::set<int> present;
  for (const auto& l : dump) present.insert(l.ifindex);
  for (auto it = links_.begin(); it != links_.end();) {
    if (!present.count(it->first)) {
      out.emplace_back(LinkRemoved{it->first, it->second.ifname});
      it = links_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& l : dump) {
    auto it = links_.find(l.ifindex);
    if (it == links_.end()) {
      links_[l.ifindex] = l;
      out.emplace_back(LinkAdded{l});
    } else if (!(it->second == l)) {
      it->second = l;
      out.emplace_back(LinkChanged{l});
    }
  }
  return out;
}

}  // namespace tvf
