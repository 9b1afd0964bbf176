// A 48-bit Ethernet address value type.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace tvf {

class MacAddress {
 public:
  MacAddress() = default;
  explicit MacAddress(const std::array<std::uint8_t, 6>& b) : bytes_(b) {}

  // Parses "02:00:c6:12:00:02" (case-insensitive, ':' or '-'); nullopt otherwise.
  static std::optional<MacAddress> parse(std::string_view s) {
    if (s.size() != 17) return std::nullopt;
    std::array<std::uint8_t, 6> b{};
    for (int i = 0; i < 6; ++i) {
      int hi = hex(s[i * 3]), lo = hex(s[i * 3 + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-') return std::nullopt;
      b[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return MacAddress(b);
  }

  std::string toString() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1],
                  bytes_[2], bytes_[3], bytes_[4], bytes_[5]);
    return buf;
  }

  const std::array<std::uint8_t, 6>& bytes() const noexcept { return bytes_; }
  bool isZero() const noexcept { return bytes_ == std::array<std::uint8_t, 6>{}; }
  bool isMulticast() const noexcept { return (bytes_[0] & 1) != 0; }
  auto operator<=>(const MacAddress&) const = default;

 private:
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  std::array<std::uint8_t, 6> bytes_{};
};

}  // namespace tvf
