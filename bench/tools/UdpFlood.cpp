// A UDP generator batched with sendmmsg and its recvmmsg receiver, for the
// packet-rate and loss lines of bench/datapath.py.
//
//   tvf-udpflood send DST_IP PORT BYTES SECONDS [PPS]
//   tvf-udpflood recv BIND_IP PORT SECONDS [RCVBUF_BYTES]
//
// send: BYTES of UDP payload per datagram (>= 8; the first 8 carry a
// sequence number), for SECONDS. Without PPS (or PPS 0) it floods: 64
// datagrams per sendmmsg call, as fast as the socket takes them, so the
// generator costs one syscall per 64 datagrams and the path, not the
// generator, is the limit. With PPS it paces per millisecond (what is due,
// in sendmmsg batches of at most 64). Prints one JSON line at the end:
// sent, send_errors (calls that failed: ENOBUFS, EAGAIN), seconds, pps.
//
// recv: reads with recvmmsg (64 per call) until SECONDS have passed.
// RCVBUF_BYTES sets SO_RCVBUFFORCE; without it the namespace's default
// (net.core.rmem_default), as an ordinary application has. Prints one JSON
// line: received (unique sequence numbers), duplicates, highest (sequence
// + 1), rcvbuf (bytes, as the kernel reports it), first_to_last_s (from the
// first datagram to the last) and pps (received over that span).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 64;
constexpr int kMaxBytes = 9000;

int usage() {
  std::fprintf(stderr,
               "usage: tvf-udpflood send DST PORT BYTES SECONDS [PPS] | recv BIND PORT SECONDS [RCVBUF_BYTES]\n");
  return 2;
}

bool address(const char* ip, int port, sockaddr_in& out) {
  out = {};
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  return port > 0 && port < 65536 && ::inet_pton(AF_INET, ip, &out.sin_addr) == 1;
}

int sendFlood(const char* dst, int port, int bytes, double secs, long pps) {
  sockaddr_in to{};
  if (!address(dst, port, to) || bytes < 8 || bytes > kMaxBytes || secs <= 0 || pps < 0) return usage();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
    std::perror("socket/connect");
    return 1;
  }
  std::vector<std::array<std::uint8_t, kMaxBytes>> bufs(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  for (int i = 0; i < kBatch; ++i) {
    std::memset(bufs[i].data(), 0x5a, static_cast<std::size_t>(bytes));
    iov[i] = {bufs[i].data(), static_cast<std::size_t>(bytes)};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  std::uint64_t seq = 0;
  long errors = 0;
  // Sends up to n datagrams in one call; returns how many went.
  auto batch = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::uint64_t s = seq + static_cast<std::uint64_t>(i);
      std::memcpy(bufs[i].data(), &s, sizeof s);
    }
    const int r = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (r < 0) {
      ++errors;
      if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED && errno != EINTR) {
        std::perror("sendmmsg");
        std::exit(1);
      }
      return 0;
    }
    seq += static_cast<std::uint64_t>(r);
    return r;
  };
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  if (pps == 0) {
    while (Clock::now() < end) batch(kBatch);
  } else {
    const auto total = static_cast<std::uint64_t>(static_cast<double>(pps) * secs);
    for (long tick = 1; seq < total; ++tick) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(tick));
      const std::uint64_t due = std::min<std::uint64_t>(total, static_cast<std::uint64_t>(pps) * tick / 1000);
      while (seq < due) {
        const int n = static_cast<int>(std::min<std::uint64_t>(kBatch, due - seq));
        if (batch(n) == 0) break;  // an error: what is due is retried next tick
      }
    }
  }
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("{\"sent\": %llu, \"send_errors\": %ld, \"seconds\": %.3f, \"pps\": %.0f}\n",
              static_cast<unsigned long long>(seq), errors, took, static_cast<double>(seq) / took);
  return 0;
}

int receive(const char* bind, int port, double secs, int rcvbuf) {
  sockaddr_in me{};
  if (!address(bind, port, me) || secs <= 0 || rcvbuf < 0) return usage();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) < 0) {
    std::perror("socket/bind");
    return 1;
  }
  int actual = 0;
  socklen_t len = sizeof actual;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &len);
  timeval tv{0, 50000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<std::array<std::uint8_t, 64>> bufs(kBatch);  // only the sequence number is read
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {bufs[i].data(), bufs[i].size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  std::vector<std::uint8_t> seen;
  std::uint64_t received = 0, duplicates = 0, highest = 0;
  Clock::time_point first{}, last{};
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  while (Clock::now() < end) {
    const int n = ::recvmmsg(fd, msgs.data(), kBatch, 0, nullptr);
    if (n <= 0) continue;
    const auto now = Clock::now();
    if (received + duplicates == 0) first = now;
    last = now;
    for (int i = 0; i < n; ++i) {
      if (msgs[i].msg_len < 8) continue;
      std::uint64_t s = 0;
      std::memcpy(&s, bufs[i].data(), sizeof s);
      if (s >= seen.size()) seen.resize(s + 1 + (1 << 20), 0);
      if (seen[s]) {
        ++duplicates;
        continue;
      }
      seen[s] = 1;
      ++received;
      highest = std::max(highest, s + 1);
    }
  }
  const double span = std::chrono::duration<double>(last - first).count();
  std::printf("{\"received\": %llu, \"duplicates\": %llu, \"highest\": %llu, \"rcvbuf\": %d, "
              "\"first_to_last_s\": %.3f, \"pps\": %.0f}\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(duplicates),
              static_cast<unsigned long long>(highest), actual, span,
              span > 0 ? static_cast<double>(received) / span : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  if (!std::strcmp(argv[1], "send") && (argc == 6 || argc == 7))
    return sendFlood(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atof(argv[5]),
                     argc == 7 ? std::atol(argv[6]) : 0);
  if (!std::strcmp(argv[1], "recv") && (argc == 5 || argc == 6))
    return receive(argv[2], std::atoi(argv[3]), std::atof(argv[4]), argc == 6 ? std::atoi(argv[5]) : 0);
  return usage();
}
