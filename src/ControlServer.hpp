// The control socket: a Unix stream socket speaking line-delimited JSON.
// Only root or members of control_group may use it (SO_PEERCRED). A
// malformed or oversized request gets an error reply; the daemon goes on.
// Replies may be deferred (detach --wait) by keeping the client id.
//
// Thread: the control thread (its fds sit in the control epoll).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/UniqueFd.hpp"
#include "tvf/Result.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

// Parses one request line; the error reply when it is not a JSON object
// with a string "cmd".
Result<nlohmann::json> parseRequest(const std::string& line);
nlohmann::json errorReply(const std::string& message);

class ControlServer {
 public:
  using ClientId = int;
  // Called with each well-formed request; reply() now or later.
  using Handler = std::function<void(ClientId, const nlohmann::json&)>;
  // Registers/unregisters fds with the owner's epoll.
  using FdWatch = std::function<void(int fd, bool add)>;

  static Result<std::unique_ptr<ControlServer>> open(const std::string& path, const std::string& group,
                                                     Handler handler, FdWatch watch);
  ~ControlServer();

  int listenFd() const { return listen_.get(); }
  void onAcceptable();
  // Returns false when fd is not one of ours.
  bool onClientReadable(int fd);
  void reply(ClientId id, const nlohmann::json& j);
  bool connected(ClientId id) const { return clients_.count(id) != 0; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t errors() const { return errors_; }

 private:
  ControlServer(std::string path, UniqueFd fd, gid_t gid, Handler h, FdWatch w);
  bool peerAllowed(int fd, std::string& why) const;
  void close(ClientId id);
  void sendLine(int fd, const std::string& s);

  std::string path_;
  UniqueFd listen_;
  gid_t group_;
  Handler handler_;
  FdWatch watch_;
  struct Client {
    UniqueFd fd;
    std::string buffer;
  };
  std::map<int, Client> clients_;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
