#include "src/MulticastMembership.hpp"

#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace tvf {
namespace {

std::string slurp(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool reportedV6(const Ipv6& g) {
  const bool allNodes = g[0] == 0xff && g[1] == 0x02 && g[15] == 1 &&
                        std::all_of(g.begin() + 2, g.begin() + 15, [](std::uint8_t b) { return b == 0; });
  return g[0] == 0xff && (g[1] & 0x0f) >= 2 && !allNodes;
}

}  // namespace

MulticastMembership parseMulticastMembership(const std::string& igmp, const std::string& igmp6, int ifindex) {
  MulticastMembership out;
  std::istringstream v4(igmp);
  bool ours = false;
  for (std::string line; std::getline(v4, line);) {
    if (line.empty()) continue;
    if (line[0] != '\t' && line[0] != ' ') {  // a device line, or the header
      std::istringstream dev(line);
      int idx = 0;
      std::string name, colon, version;
      unsigned count = 0;
      ours = static_cast<bool>(dev >> idx >> name >> colon >> count >> version) && idx == ifindex;
      if (ours && version.size() == 2 && version[0] == 'V' && version[1] >= '1' && version[1] <= '3')
        out.igmpVersion = version[1] - '0';
      continue;
    }
    if (!ours) continue;
    std::istringstream grp(line);
    std::string hex;
    if (!(grp >> hex) || hex.size() != 8) continue;
    std::uint32_t raw = 0;
    try {
      raw = static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16));
    } catch (const std::exception&) {
      continue;
    }
    Ipv4 g;
    std::memcpy(g.data(), &raw, 4);  // the kernel printed the big-endian word as a host integer
    if (g[0] < 224 || g[0] > 239) continue;
    if (g == Ipv4{224, 0, 0, 1}) continue;
    out.v4.push_back(g);
  }
  std::istringstream v6(igmp6);
  for (std::string line; std::getline(v6, line);) {
    std::istringstream l(line);
    int idx = 0;
    std::string name, hex;
    if (!(l >> idx >> name >> hex) || idx != ifindex || hex.size() != 32) continue;
    Ipv6 g;
    bool ok = true;
    for (std::size_t i = 0; i < 16 && ok; ++i) {
      try {
        std::size_t used = 0;
        g[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), &used, 16));
        ok = used == 2;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (ok && reportedV6(g)) out.v6.push_back(g);
  }
  return out;
}

bool sourceSpecific(const Ipv4& group) { return group[0] == 232; }
bool sourceSpecific(const Ipv6& group) { return group[0] == 0xff && (group[1] & 0xf0) == 0x30; }

namespace {

bool hexBytes(std::string_view hex, std::uint8_t* out, std::size_t n) {
  if (hex.size() != 2 * n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

// One mcfilter table's include-mode sources of `ifindex`'s joined
// source-specific groups. `prefix` is what the table prints before each
// address's hex digits ("0x" in the IPv4 table, where the digits are the
// address in network order).
template <typename Addr>
void addSources(const std::string& table, std::string_view prefix, int ifindex, const std::vector<Addr>& joined,
                std::map<Addr, std::vector<Addr>>& sources) {
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    int idx = 0;
    std::string name, group, source;
    unsigned long inc = 0;
    if (!(l >> idx >> name >> group >> source >> inc) || idx != ifindex || inc == 0) continue;
    if (!group.starts_with(prefix) || !source.starts_with(prefix)) continue;
    Addr g, src;
    if (!hexBytes(std::string_view(group).substr(prefix.size()), g.data(), g.size()) ||
        !hexBytes(std::string_view(source).substr(prefix.size()), src.data(), src.size()))
      continue;
    if (sourceSpecific(g) && std::find(joined.begin(), joined.end(), g) != joined.end()) sources[g].push_back(src);
  }
}

}  // namespace

void parseSourceFilters(MulticastMembership& m, const std::string& mcfilter, const std::string& mcfilter6,
                        int ifindex) {
  addSources(mcfilter, "0x", ifindex, m.v4, m.v4Sources);
  addSources(mcfilter6, "", ifindex, m.v6, m.v6Sources);
}

MulticastMembership readMulticastMembership(int ifindex) {
  auto m = parseMulticastMembership(slurp("/proc/net/igmp"), slurp("/proc/net/igmp6"), ifindex);
  parseSourceFilters(m, slurp("/proc/net/mcfilter"), slurp("/proc/net/mcfilter6"), ifindex);
  // IPv6 off on the device: the kernel sends no MLD there, nor does tvf
  // (its group list may outlive the switch-off).
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) {
    std::ifstream f(std::string("/proc/sys/net/ipv6/conf/") + name + "/disable_ipv6");
    int off = 0;
    if (f >> off && off != 0) m.v6.clear();
  }
  return m;
}

}  // namespace tvf
