// The control socket: a Unix stream socket speaking line-delimited JSON.
// Only root or members of control_group may use it (SO_PEERCRED). A
// malformed or oversized request gets an error reply; the daemon goes on.
// Replies may be deferred (detach --wait) by keeping the client id.
//
// It never waits on a client. The listening socket, every client and a
// backlog eventfd sit in the server's own epoll, whose one fd the owner
// watches for EPOLLIN and answers with onReadable(). Replies are queued per
// client and written when the socket takes them (EPOLLOUT). Limits, so that
// no client can stall the control loop or make tvfd hold much:
//   - a request line is at most kMaxRequestBytes, and a client's unread
//     input is never more than that (beyond it: an error reply, then closed);
//   - a client's queued replies are at most kMaxQueuedReplyBytes (beyond it:
//     dropped, counted in clientsDropped());
//   - each onReadable() handles at most kRequestsPerWakeup requests per
//     client; the rest waits for the next wakeup (the backlog eventfd keeps
//     the server's fd readable meanwhile), so a flood from one client delays
//     link events and other clients by a few requests at most;
//   - at most maxClients() clients (below RLIMIT_NOFILE, leaving a reserve
//     for netlink and the datapath); a client beyond it evicts the one idle
//     longest (counted in clientsEvicted()). An accept that fails with
//     EMFILE/ENFILE frees a reserve fd, accepts and closes the connection
//     (counted in clientsRefused()), so the listening socket never spins.
//
// Thread: the control thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/UniqueFd.hpp"
#include "tvf/Result.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
// A client whose unsent replies would pass this is dropped (a status reply
// is a few kB, so this holds a few hundred).
inline constexpr std::size_t kMaxQueuedReplyBytes = 1024 * 1024;
// Requests handled per client per wakeup (fairness between clients).
inline constexpr unsigned kRequestsPerWakeup = 16;
// Control clients at most, whatever RLIMIT_NOFILE allows.
inline constexpr unsigned kMaxControlClients = 512;
// File descriptors kept free for netlink, claims, TAP queues, ports, hooks.
inline constexpr unsigned kReservedFds = 256;

// Parses one request line; the error reply when it is not a JSON object
// with a string "cmd".
Result<nlohmann::json> parseRequest(const std::string& line);
nlohmann::json errorReply(const std::string& message);

// How many control clients fit: min(kMaxControlClients, soft RLIMIT_NOFILE
// - fds open now - kReservedFds), at least 4.
unsigned controlClientLimit();

class ControlServer {
 public:
  // Unique over the server's life (never reused, unlike fds).
  using ClientId = int;
  // Called with each well-formed request; reply() now or later.
  using Handler = std::function<void(ClientId, const nlohmann::json&)>;

  // Errors: ENOENT (no such control_group), EADDRINUSE (a live tvfd serves
  // `path`), or the errno of socket/bind/listen/epoll.
  static Result<std::unique_ptr<ControlServer>> open(const std::string& path, const std::string& group,
                                                     Handler handler);
  ~ControlServer();

  // The fd to watch for EPOLLIN (an epoll fd); call onReadable() when it is.
  int fd() const { return epoll_.get(); }
  // Accepts, reads, handles and writes whatever is ready, within the limits
  // above. Never blocks.
  void onReadable();
  void reply(ClientId id, const nlohmann::json& j);
  bool connected(ClientId id) const { return clients_.count(id) != 0; }
  std::size_t clientCount() const { return clients_.size(); }
  unsigned maxClients() const { return maxClients_; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t errors() const { return errors_; }
  std::uint64_t clientsDropped() const { return dropped_; }
  std::uint64_t clientsEvicted() const { return evicted_; }
  std::uint64_t clientsRefused() const { return refused_; }

 private:
  struct Client {
    UniqueFd fd;
    std::string in;             // unread request bytes, at most kMaxRequestBytes + 1
    std::string out;            // queued reply bytes, at most kMaxQueuedReplyBytes
    std::size_t outSent = 0;    // bytes of `out` already written
    std::uint32_t events = 0;   // what the epoll watches now
    unsigned outstanding = 0;   // requests handed to the handler and not yet answered
    bool readClosed = false;    // EOF seen: answer what is buffered, then close
    std::chrono::steady_clock::time_point lastActive;
  };

  ControlServer(std::string path, UniqueFd listen, UniqueFd epoll, UniqueFd backlog, gid_t gid, Handler h);
  bool peerAllowed(int fd, std::string& why) const;
  void acceptClients();
  void admit(UniqueFd fd);
  void evictIdlest();
  // Reads what fits, handles up to kRequestsPerWakeup lines; false when the
  // client was closed.
  bool serve(ClientId id);
  bool flush(ClientId id);
  void updateInterest(ClientId id);
  void close(ClientId id);

  std::string path_;
  UniqueFd listen_;
  UniqueFd epoll_;
  UniqueFd backlog_;  // eventfd: readable while some client has lines left to handle
  UniqueFd spareFd_;  // given up to accept() one connection under EMFILE
  gid_t group_;
  Handler handler_;
  unsigned maxClients_;
  ClientId nextId_ = 1;
  std::map<ClientId, Client> clients_;
  std::vector<ClientId> backlogged_;  // clients with whole lines not yet handled
  bool listenPaused_ = false;         // out of fds and spare: not accepting until a client leaves
  bool refusedLogged_ = false;
  bool evictedLogged_ = false;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t refused_ = 0;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
