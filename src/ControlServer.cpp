#include "src/ControlServer.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "base/Log.hpp"

namespace tvf {

Result<nlohmann::json> parseRequest(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return Error{EINVAL, "malformed JSON request"};
  if (!j.is_object()) return Error{EINVAL, "a request must be a JSON object"};
  if (!j.contains("cmd") || !j["cmd"].is_string()) return Error{EINVAL, "a request needs a string \"cmd\""};
  return j;
}

nlohmann::json errorReply(const std::string& message) { return {{"ok", false}, {"error", message}}; }

Result<std::unique_ptr<ControlServer>> ControlServer::open(const std::string& path, const std::string& group,
                                                           Handler handler, FdWatch watch) {
  gid_t gid = static_cast<gid_t>(-1);
  if (!group.empty()) {
    struct group* g = ::getgrnam(group.c_str());
    if (!g) return Error{ENOENT, "control_group '" + group + "' does not exist"};
    gid = g->gr_gid;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  int raw = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (raw < 0) return Error{errno, "socket(AF_UNIX)"};
  UniqueFd fd(raw);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  // A stale socket from a killed daemon is replaced; a live one is not.
  if (::connect(raw, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
    return Error{EADDRINUSE, "another tvfd serves " + path};
  ::unlink(path.c_str());
  fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return Error{errno, "bind " + path};
  ::chmod(path.c_str(), group.empty() ? 0600 : 0660);
  if (!group.empty() && ::chown(path.c_str(), 0, gid) < 0) return Error{errno, "chown " + path};
  if (::listen(fd.get(), 16) < 0) return Error{errno, "listen " + path};
  return std::unique_ptr<ControlServer>(new ControlServer(path, std::move(fd), gid, std::move(handler), std::move(watch)));
}

ControlServer::ControlServer(std::string path, UniqueFd fd, gid_t gid, Handler h, FdWatch w)
    : path_(std::move(path)), listen_(std::move(fd)), group_(gid), handler_(std::move(h)), watch_(std::move(w)),
      log_(moduleLogger("control")) {}

ControlServer::~ControlServer() {
  for (auto& [fd, c] : clients_) watch_(fd, false);
  ::unlink(path_.c_str());
}

bool ControlServer::peerAllowed(int fd, std::string& why) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    why = "cannot read peer credentials";
    return false;
  }
  if (cred.uid == 0) return true;
  if (group_ != static_cast<gid_t>(-1)) {
    if (cred.gid == group_) return true;
    if (struct passwd* pw = ::getpwuid(cred.uid)) {
      int n = 64;
      std::vector<gid_t> groups(static_cast<std::size_t>(n));
      if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) >= 0) {
        for (int i = 0; i < n; ++i)
          if (groups[static_cast<std::size_t>(i)] == group_) return true;
      }
    }
  }
  why = "permission denied: uid " + std::to_string(cred.uid) + " is neither root nor in the control group";
  return false;
}

void ControlServer::onAcceptable() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    std::string why;
    if (!peerAllowed(fd, why)) {
      ++errors_;
      sendLine(fd, errorReply(why).dump());
      log_->warn("control: refused a client: {}", why);
      ::close(fd);
      continue;
    }
    clients_[fd] = Client{UniqueFd(fd), {}};
    watch_(fd, true);
  }
}

bool ControlServer::onClientReadable(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return false;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close(fd);
      return true;
    }
    if (n < 0) break;
    it->second.buffer.append(buf, static_cast<std::size_t>(n));
    if (it->second.buffer.size() > kMaxRequestBytes && it->second.buffer.find('\n') == std::string::npos) {
      ++errors_;
      sendLine(fd, errorReply("request too large (limit " + std::to_string(kMaxRequestBytes) + " bytes)").dump());
      close(fd);
      return true;
    }
  }
  // Handle complete lines; the handler may reply and the client may go.
  for (;;) {
    auto c = clients_.find(fd);
    if (c == clients_.end()) break;
    const auto nl = c->second.buffer.find('\n');
    if (nl == std::string::npos) break;
    std::string line = c->second.buffer.substr(0, nl);
    c->second.buffer.erase(0, nl + 1);
    if (line.size() > kMaxRequestBytes) {
      reply(fd, errorReply("request too large (limit " + std::to_string(kMaxRequestBytes) + " bytes)"));
      continue;
    }
    auto req = parseRequest(line);
    ++requests_;
    if (!req) {
      reply(fd, errorReply(req.error().what));
      continue;
    }
    handler_(fd, *req);
  }
  return true;
}

void ControlServer::sendLine(int fd, const std::string& s) {
  std::string line = s + "\n";
  std::size_t off = 0;
  int spins = 0;
  while (off < line.size() && spins < 1000) {
    const ssize_t n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      ++spins;
      ::usleep(1000);
    } else {
      return;
    }
  }
}

void ControlServer::reply(ClientId id, const nlohmann::json& j) {
  if (!clients_.count(id)) return;
  if (j.contains("ok") && j["ok"] == false) ++errors_;
  sendLine(id, j.dump());
}

void ControlServer::close(ClientId id) {
  watch_(id, false);
  clients_.erase(id);
}

}  // namespace tvf
