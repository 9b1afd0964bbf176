// A paced, sequence-numbered UDP stream and its receiver (tests, bench, demo).
//   tvf-udpstream send DST_IP PORT PPS SECONDS
//   tvf-udpstream recv BIND_IP PORT SECONDS
// The sender prints {"start_ns", "pps"} when it starts (CLOCK_MONOTONIC, so
// a lost sequence number maps to the time it was sent) and {"sent"} at the
// end. The receiver prints one JSON line: received, expected (highest
// sequence+1), lost, reordered, duplicates, the longest gap between two
// arrivals (max_gap_ms), and the missing sequence ranges (at most
// TVF_UDPSTREAM_MAX_RANGES, default 1000). SIGTERM or SIGINT ends either
// side early; the receiver still prints its line (a soak runs open-ended).
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

static volatile sig_atomic_t stopRequested = 0;

static void onStop(int) { stopRequested = 1; }

static void stopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = onStop;  // no SA_RESTART: a blocked recv returns EINTR
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
}

struct Datagram {
  std::uint64_t seq;
  std::uint64_t sentNs;
  char pad[48];
};

static int usage() {
  std::fprintf(stderr, "usage: tvf-udpstream send DST PORT PPS SECONDS | recv BIND PORT SECONDS\n");
  return 2;
}

static int sendStream(const char* dst, int port, long pps, double secs) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, dst, &to.sin_addr) != 1) return usage();
  const long total = static_cast<long>(pps * secs);
  const auto start = Clock::now();
  std::printf("{\"start_ns\": %lld, \"pps\": %ld}\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()), pps);
  std::fflush(stdout);
  Datagram d{};
  long failures = 0, sent = 0;
  // Paced per millisecond: every tick sends what is due, then sleeps, so
  // the sender does not burn a core.
  for (long tick = 1; sent < total && !stopRequested; ++tick) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(tick));
    const long due = std::min(total, pps * tick / 1000);
    for (; sent < due; ++sent) {
      d.seq = static_cast<std::uint64_t>(sent);
      d.sentNs = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
      if (::sendto(fd, &d, sizeof d, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) ++failures;
    }
  }
  std::printf("{\"sent\": %ld, \"send_failures\": %ld}\n", sent, failures);
  return 0;
}

static int recvStream(const char* bind, int port, double secs) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int buf = 16 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, bind, &me.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) < 0) {
    std::perror("bind");
    return 1;
  }
  timeval tv{0, 100000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<std::uint8_t> seen;
  long received = 0, reordered = 0, duplicates = 0;
  std::uint64_t highest = 0;
  bool any = false;
  double maxGapMs = 0;
  Clock::time_point last{};
  const auto end = Clock::now() + std::chrono::duration<double>(secs);
  Datagram d{};
  while (Clock::now() < end && !stopRequested) {
    const ssize_t n = ::recv(fd, &d, sizeof d, 0);
    if (n != static_cast<ssize_t>(sizeof d)) continue;
    const auto now = Clock::now();
    if (any) maxGapMs = std::max(maxGapMs, std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
    if (d.seq >= seen.size()) seen.resize(d.seq + 1 + 100000, 0);
    if (seen[d.seq]) {
      ++duplicates;
      continue;
    }
    seen[d.seq] = 1;
    ++received;
    if (any && d.seq < highest) ++reordered;
    if (!any || d.seq > highest) highest = d.seq;
    any = true;
  }
  const long expected = any ? static_cast<long>(highest + 1) : 0;
  std::string missing;
  int ranges = 0;
  const char* maxEnv = std::getenv("TVF_UDPSTREAM_MAX_RANGES");
  const int maxRanges = maxEnv ? std::atoi(maxEnv) : 1000;
  for (long i = 0; i < expected && ranges < maxRanges; ++i) {
    if (seen[static_cast<std::size_t>(i)]) continue;
    long j = i;
    while (j + 1 < expected && !seen[static_cast<std::size_t>(j + 1)]) ++j;
    missing += (missing.empty() ? "" : ", ") + std::string("[") + std::to_string(i) + ", " + std::to_string(j) + "]";
    ++ranges;
    i = j;
  }
  std::printf("{\"received\": %ld, \"expected\": %ld, \"lost\": %ld, \"reordered\": %ld, \"duplicates\": %ld, "
              "\"max_gap_ms\": %.2f, \"missing\": [%s]}\n",
              received, expected, expected - received, reordered, duplicates, maxGapMs, missing.c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  stopOnSignals();
  if (!std::strcmp(argv[1], "send") && argc == 6)
    return sendStream(argv[2], std::atoi(argv[3]), std::atol(argv[4]), std::atof(argv[5]));
  if (!std::strcmp(argv[1], "recv") && argc == 5) return recvStream(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
  return usage();
}
