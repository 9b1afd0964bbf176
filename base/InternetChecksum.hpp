// The Internet checksum (RFC 1071) pieces shared by every frame tvf writes
// or finishes: ARP/NA announcements and the verbs port's software offloads.
// Header-only and noexcept: used on the datapath.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tvf {

// Adds big-endian 16-bit words of p[0..n) to `acc`, an odd last byte padded
// with zero. Not folded: callers add pseudo-header parts, then fold.
inline std::uint64_t onesSum(const std::uint8_t* p, std::size_t n, std::uint64_t acc = 0) noexcept {
  for (; n >= 2; p += 2, n -= 2) acc += static_cast<std::uint32_t>(p[0] << 8 | p[1]);
  if (n) acc += static_cast<std::uint32_t>(p[0] << 8);
  return acc;
}

// Folds a sum into 16 bits (not complemented).
inline std::uint16_t foldSum(std::uint64_t acc) noexcept {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

// The checksum field's value for a sum over the covered bytes.
inline std::uint16_t checksumOf(std::uint64_t acc) noexcept { return static_cast<std::uint16_t>(~foldSum(acc)); }

}  // namespace tvf
