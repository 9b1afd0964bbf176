#include "src/LinkMulticast.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tvf {

std::vector<MacAddress> parseDevMcast(const std::string& text, int ifindex) {
  std::vector<MacAddress> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    int idx = 0, users = 0, global = 0;
    std::string name, hex;
    if (!(ls >> idx >> name >> users >> global >> hex) || idx != ifindex || hex.size() != 12) continue;
    std::string colon;
    for (int i = 0; i < 6; ++i) colon += hex.substr(static_cast<std::size_t>(i) * 2, 2) + (i < 5 ? ":" : "");
    if (auto mac = MacAddress::parse(colon)) out.push_back(*mac);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<MacAddress> readLinkMulticast(int ifindex) {
  std::ifstream f("/proc/net/dev_mcast");
  std::stringstream ss;
  ss << f.rdbuf();
  return parseDevMcast(ss.str(), ifindex);
}

}  // namespace tvf
