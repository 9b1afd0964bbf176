// ControlServer's bounds, driven through a real Unix socket in a temporary
// directory: fairness between clients, a client that never reads, the
// request-size limit, the client cap, and deferred replies that never reach
// a newcomer.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "src/ControlServer.hpp"

namespace tvf {
namespace {

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Without root the socket cannot be chowned and SO_PEERCRED refuses us.
    if (::geteuid() != 0) GTEST_SKIP() << "the control socket admits root (or control_group) only";
    dir_ = std::filesystem::temp_directory_path() / ("tvf-ctl-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void open(ControlServer::Handler h) {
    auto s = ControlServer::open((dir_ / "tvf.sock").string(), "", std::move(h));
    ASSERT_TRUE(s) << s.error().describe();
    server_ = std::move(s).value();
  }
  int connectClient() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir_ / "tvf.sock").c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    fds_.push_back(fd);
    return fd;
  }
  bool serverReadable() {
    pollfd p{server_->fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }
  // Runs the server until it has nothing left to do; the number of wakeups.
  int settle(int most = 10000) {
    int n = 0;
    while (serverReadable() && n < most) {
      server_->onReadable();
      ++n;
    }
    return n;
  }
  static void send(int fd, const std::string& s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  static std::string drain(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  static bool closedByPeer(int fd) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<ControlServer> server_;
  std::vector<int> fds_;
};

std::string requests(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "{\"cmd\":\"status\"}\n";
  return s;
}

TEST_F(ControlServerTest, AFloodFromOneClientWaitsItsTurn) {
  std::map<ControlServer::ClientId, int> handled;
  open([&](ControlServer::ClientId id, const nlohmann::json&) {
    ++handled[id];
    server_->reply(id, {{"ok", true}});
  });
  const int flood = connectClient();
  const int polite = connectClient();
  settle();  // both accepted
  handled.clear();
  send(flood, requests(1000));
  send(polite, requests(1));
  server_->onReadable();
  ASSERT_EQ(handled.size(), 2u);
  int fromFlood = 0, fromPolite = 0;
  for (auto [id, n] : handled) (n == 1 ? fromPolite : fromFlood) += n;
  EXPECT_EQ(fromPolite, 1);
  EXPECT_LE(fromFlood, static_cast<int>(kRequestsPerWakeup));
  EXPECT_NE(drain(polite).find("\"ok\":true"), std::string::npos);
  // The rest is handled on later wakeups: the server's fd stays readable.
  int total = fromFlood;
  for (int i = 0; i < 1000 && total < 1000; ++i) {
    ASSERT_TRUE(serverReadable()) << "requests left unhandled with no wakeup pending";
    handled.clear();
    server_->onReadable();
    for (auto [id, n] : handled) {
      EXPECT_LE(n, static_cast<int>(kRequestsPerWakeup));
      total += n;
    }
    drain(flood);
  }
  EXPECT_EQ(total, 1000);
  EXPECT_EQ(server_->clientsDropped(), 0u);
}

TEST_F(ControlServerTest, AClientThatNeverReadsIsDroppedNotWaitedFor) {
  const std::string big(60 * 1024, 'x');
  open([&](ControlServer::ClientId id, const nlohmann::json&) { server_->reply(id, {{"ok", true}, {"pad", big}}); });
  const int hog = connectClient();
  settle();
  send(hog, requests(100));  // 6 MB of replies, never read
  settle();
  EXPECT_EQ(server_->clientsDropped(), 1u);
  EXPECT_EQ(server_->clientCount(), 0u);
  EXPECT_TRUE(closedByPeer(hog));
}

TEST_F(ControlServerTest, ARequestPastTheLimitIsRefusedAndItsInputNeverHeld) {
  int calls = 0;
  open([&](ControlServer::ClientId id, const nlohmann::json&) {
    ++calls;
    server_->reply(id, {{"ok", true}});
  });
  const int fd = connectClient();
  settle();
  // A whole request first, then a line with no end: the newline buffered
  // ahead of it must not lift the limit.
  std::string data = requests(1) + std::string(3 * kMaxRequestBytes, 'x');
  std::size_t sent = 0;
  while (sent < data.size() && server_->clientCount() == 1) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<std::size_t>(n);
    settle();
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server_->clientCount(), 0u);
  const std::string got = drain(fd);
  EXPECT_NE(got.find("request too large"), std::string::npos) << got;
}

TEST_F(ControlServerTest, AtTheClientCapTheIdlestClientMakesRoom) {
  // A soft limit that leaves room for 4 clients.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  long open = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++open;
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(open + kReservedFds + 4 + 3);  // + the server's own three fds
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  this->open([&](ControlServer::ClientId id, const nlohmann::json&) { server_->reply(id, {{"ok", true}}); });
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(server_);
  const unsigned cap = server_->maxClients();
  EXPECT_LE(cap, 8u);

  std::vector<int> clients;
  for (unsigned i = 0; i < cap; ++i) {
    clients.push_back(connectClient());
    settle();
  }
  // The first client is the idlest; a newcomer closes it and is served.
  for (unsigned i = 1; i < cap; ++i) send(clients[i], requests(1));
  settle();
  const int late = connectClient();
  settle();
  send(late, requests(1));
  settle();
  EXPECT_EQ(server_->clientCount(), cap);
  EXPECT_EQ(server_->clientsEvicted(), 1u);
  EXPECT_TRUE(closedByPeer(clients[0]));
  EXPECT_NE(drain(late).find("\"ok\":true"), std::string::npos);
}

TEST_F(ControlServerTest, ARequestFromAClientThatHungUpIsStillHandled) {
  int calls = 0;
  std::vector<ControlServer::ClientId> owed;
  open([&](ControlServer::ClientId id, const nlohmann::json&) {
    ++calls;
    owed.push_back(id);  // a deferred reply (detach --wait) never sent
  });
  const int fd = connectClient();
  settle();
  send(fd, requests(40));
  ::close(fd);
  fds_.erase(std::find(fds_.begin(), fds_.end(), fd));
  const int wakeups = settle(100);
  EXPECT_EQ(calls, 40);
  EXPECT_EQ(server_->clientCount(), 0u);
  EXPECT_LT(wakeups, 10) << "a hung-up client kept the server readable";
}

TEST_F(ControlServerTest, ADeferredReplyNeverReachesANewcomer) {
  std::vector<ControlServer::ClientId> ids;
  open([&](ControlServer::ClientId id, const nlohmann::json&) { ids.push_back(id); });
  const int first = connectClient();
  settle();
  send(first, requests(1));
  settle();
  ASSERT_EQ(ids.size(), 1u);
  ::close(first);
  fds_.erase(std::find(fds_.begin(), fds_.end(), first));
  settle();
  EXPECT_FALSE(server_->connected(ids[0]));
  const int second = connectClient();  // likely the same fd number on the server side
  settle();
  server_->reply(ids[0], {{"ok", true}, {"for", "the first"}});
  EXPECT_EQ(drain(second), "");
}

}  // namespace
}  // namespace tvf
