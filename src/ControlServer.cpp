#include "src/ControlServer.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

unsigned controlClientLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY) return kMaxControlClients;
  std::error_code ec;
  long open = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++open;
  const long room = static_cast<long>(rl.rlim_cur) - open - static_cast<long>(kReservedFds);
  return static_cast<unsigned>(std::clamp<long>(room, 4, kMaxControlClients));
}

namespace {
// epoll tags beside the client ids (which start at 1).
constexpr std::uint64_t kListenTag = 0;
constexpr std::uint64_t kBacklogTag = ~std::uint64_t{0};

std::string tooLarge() { return "request too large (limit " + std::to_string(kMaxRequestBytes) + " bytes)"; }

bool addToEpoll(int epfd, int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  return ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}
}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::open(const std::string& path, const std::string& group,
                                                           Handler handler) {
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
  if (::listen(fd.get(), 64) < 0) return Error{errno, "listen " + path};
  auto ep = UniqueFd::epoll();
  if (!ep) return ep.error();
  auto backlog = UniqueFd::eventFd();
  if (!backlog) return backlog.error();
  if (!addToEpoll(ep->get(), fd.get(), EPOLLIN, kListenTag)) return Error{errno, "epoll_ctl control socket"};
  if (!addToEpoll(ep->get(), backlog->get(), EPOLLIN, kBacklogTag)) return Error{errno, "epoll_ctl control backlog"};
  return std::unique_ptr<ControlServer>(new ControlServer(path, std::move(fd), std::move(ep).value(),
                                                          std::move(backlog).value(), gid, std::move(handler)));
}

ControlServer::ControlServer(std::string path, UniqueFd listen, UniqueFd epoll, UniqueFd backlog, gid_t gid, Handler h)
    : path_(std::move(path)), listen_(std::move(listen)), epoll_(std::move(epoll)), backlog_(std::move(backlog)),
      spareFd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)), group_(gid), handler_(std::move(h)),
      maxClients_(controlClientLimit()), log_(moduleLogger("control")) {
  log_->debug("control: at most {} clients", maxClients_);
}

ControlServer::~ControlServer() { ::unlink(path_.c_str()); }

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


void ControlServer::onReadable() {
  drainCounterFd(backlog_.get());
  epoll_event evs[64];
  const int n = ::epoll_wait(epoll_.get(), evs, 64, 0);
  std::vector<ClientId> ready, hungUp;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t tag = evs[i].data.u64;
    if (tag == kListenTag) {
      acceptClients();
      continue;
    }
    if (tag == kBacklogTag) continue;
    const auto id = static_cast<ClientId>(tag);
    if (!clients_.count(id)) continue;
    if (evs[i].events & EPOLLERR) {
      close(id);
      continue;
    }
    if (evs[i].events & EPOLLHUP) {
      // Gone both ways: what it sent is still handled (a fire-and-forget
      // "reload"), then it is closed, owed replies or not; EPOLLHUP is
      // reported at every wakeup, so keeping it would spin.
      hungUp.push_back(id);
      ready.push_back(id);
      continue;
    }
    if ((evs[i].events & EPOLLOUT) && !flush(id)) continue;
    if (evs[i].events & EPOLLIN) ready.push_back(id);
  }
  // Clients left with whole lines at the last wakeup come after the new ones.
  for (ClientId id : backlogged_) ready.push_back(id);
  backlogged_.clear();
  std::sort(ready.begin(), ready.end());
  ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
  for (ClientId id : ready) serve(id);
  for (ClientId id : hungUp) {
    auto it = clients_.find(id);
    if (it != clients_.end() && it->second.in.find('\n') == std::string::npos) close(id);
  }
  if (!backlogged_.empty()) kickEventFd(backlog_.get());
}

void ControlServer::acceptClients() {
  // Bounded, so a connection storm cannot hold the loop either.
  for (int i = 0; i < 64; ++i) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EMFILE && errno != ENFILE) return;
      // Out of fds: take the connection off the queue with the spare fd and
      // close it, or the level-triggered listening socket wakes us forever.
      ++refused_;
      if (!refusedLogged_) log_->warn("control: out of file descriptors; refusing clients");
      refusedLogged_ = true;
      if (!spareFd_) {
        // No spare left either: stop listening until a client leaves.
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listen_.get(), nullptr);
        listenPaused_ = true;
        return;
      }
      spareFd_.reset();
      if (int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC); c >= 0) ::close(c);
      spareFd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      continue;
    }
    UniqueFd owned(fd);
    std::string why;
    if (!peerAllowed(fd, why)) {
      ++errors_;
      const std::string line = errorReply(why).dump() + "\n";
      (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      log_->warn("control: refused a client: {}", why);
      continue;
    }
    admit(std::move(owned));
  }
}

void ControlServer::admit(UniqueFd fd) {
  if (clients_.size() >= maxClients_) evictIdlest();
  const ClientId id = nextId_++;
  if (!addToEpoll(epoll_.get(), fd.get(), EPOLLIN, static_cast<std::uint64_t>(id))) {
    log_->warn("control: cannot watch a client: {}", std::strerror(errno));
    return;
  }
  Client c;
  c.fd = std::move(fd);
  c.events = EPOLLIN;
  c.lastActive = std::chrono::steady_clock::now();
  clients_.emplace(id, std::move(c));
}

void ControlServer::evictIdlest() {
  // The client idle longest among those owed no reply, else the idlest.
  auto victim = clients_.end();
  for (auto pass : {0, 1}) {
    for (auto it = clients_.begin(); it != clients_.end(); ++it) {
      if (pass == 0 && it->second.outstanding != 0) continue;
      if (victim == clients_.end() || it->second.lastActive < victim->second.lastActive) victim = it;
    }
    if (victim != clients_.end()) break;
  }
  if (victim == clients_.end()) return;
  ++evicted_;
  if (!evictedLogged_) log_->warn("control: {} clients (the limit): closing the one idle longest", maxClients_);
  evictedLogged_ = true;
  close(victim->first);
}

bool ControlServer::serve(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return false;
  Client& c = it->second;
  // Read only what fits: the unread input never passes kMaxRequestBytes + 1.
  while (!c.readClosed && c.in.size() <= kMaxRequestBytes) {
    char buf[16384];
    const std::size_t room = std::min(sizeof buf, kMaxRequestBytes + 1 - c.in.size());
    const ssize_t n = ::read(c.fd.get(), buf, room);
    if (n > 0) {
      c.in.append(buf, static_cast<std::size_t>(n));
      c.lastActive = std::chrono::steady_clock::now();
      continue;
    }
    if (n == 0) {
      c.readClosed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    close(id);
    return false;
  }
  // Handle up to kRequestsPerWakeup whole lines; the handler may reply and
  // the reply may drop the client.
  std::size_t pos = 0;
  for (unsigned handled = 0; handled < kRequestsPerWakeup; ++handled) {
    auto ci = clients_.find(id);
    if (ci == clients_.end()) return false;
    const auto nl = ci->second.in.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string line = ci->second.in.substr(pos, nl - pos);
    pos = nl + 1;
    ++requests_;
    auto req = parseRequest(line);
    if (!req) {
      reply(id, errorReply(req.error().what));
      continue;
    }
    ++ci->second.outstanding;
    handler_(id, *req);
  }
  auto ci = clients_.find(id);
  if (ci == clients_.end()) return false;
  Client& cl = ci->second;
  cl.in.erase(0, pos);
  const bool wholeLine = cl.in.find('\n') != std::string::npos;
  if (!wholeLine && cl.in.size() > kMaxRequestBytes) {
    cl.in.clear();
    cl.in.shrink_to_fit();
    cl.readClosed = true;
    ++requests_;
    reply(id, errorReply(tooLarge()));
    if (clients_.count(id)) close(id);
    return false;
  }
  if (wholeLine) backlogged_.push_back(id);
  if (cl.readClosed && !wholeLine && cl.outstanding == 0 && cl.outSent == cl.out.size()) {
    close(id);
    return false;
  }
  updateInterest(id);
  return true;
}

bool ControlServer::flush(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return false;
  Client& c = it->second;
  while (c.outSent < c.out.size()) {
    const ssize_t n = ::send(c.fd.get(), c.out.data() + c.outSent, c.out.size() - c.outSent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.outSent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    close(id);
    return false;
  }
  if (c.outSent == c.out.size()) {
    c.out.clear();
    c.outSent = 0;
    if (c.out.capacity() > 64 * 1024) c.out.shrink_to_fit();
    if (c.readClosed && c.outstanding == 0 && c.in.find('\n') == std::string::npos) {
      close(id);
      return false;
    }
  } else if (c.outSent > 64 * 1024) {
    c.out.erase(0, c.outSent);
    c.outSent = 0;
  }
  updateInterest(id);
  return true;
}

void ControlServer::updateInterest(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& c = it->second;
  std::uint32_t want = 0;
  if (!c.readClosed && c.in.size() <= kMaxRequestBytes) want |= EPOLLIN;
  if (c.outSent < c.out.size()) want |= EPOLLOUT;
  if (want == c.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = static_cast<std::uint64_t>(id);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  c.events = want;
}

void ControlServer::reply(ClientId id, const nlohmann::json& j) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& c = it->second;
  if (j.contains("ok") && j["ok"] == false) ++errors_;
  if (c.outstanding > 0) --c.outstanding;
  std::string line = j.dump();
  line += '\n';
  if (c.out.size() - c.outSent + line.size() > kMaxQueuedReplyBytes) {
    ++dropped_;
    log_->warn("control: dropped a client that does not read its replies ({} bytes queued)", c.out.size() - c.outSent);
    close(id);
    return;
  }
  c.out += line;
  c.lastActive = std::chrono::steady_clock::now();
  flush(id);
}

void ControlServer::close(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd.get(), nullptr);
  clients_.erase(it);
  if (listenPaused_) {
    spareFd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (addToEpoll(epoll_.get(), listen_.get(), EPOLLIN, kListenTag)) listenPaused_ = false;
  }
}

}  // namespace tvf
