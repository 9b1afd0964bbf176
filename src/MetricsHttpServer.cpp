#include "src/MetricsHttpServer.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <chrono>

#include <httplib.h>

namespace tvf {

namespace {
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
}

MetricsHttpServer::MetricsHttpServer(ListenAddress address)
    : address_(std::move(address)), http_(std::make_unique<httplib::Server>()) {}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(const ListenAddress& address) {
  std::unique_ptr<MetricsHttpServer> self(new MetricsHttpServer(address));
  auto& http = *self->http_;
  http.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  // A scraper that stalls is dropped after a few seconds, not held forever.
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_keep_alive_max_count(100);
  // The listening socket must not leak into on_switch hooks (fork + exec).
  http.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::fcntl(sock, F_SETFD, FD_CLOEXEC);
  });
  MetricsHttpServer* raw = self.get();
  http.Get("/metrics", [raw](const httplib::Request&, httplib::Response& res) {
    auto text = raw->latest();
    if (!text) {
      res.status = 503;
      res.set_content("tvfd has not published metrics yet\n", "text/plain");
      return;
    }
    raw->served_.fetch_add(1, std::memory_order_relaxed);
    res.set_content(*text, kContentType);
  });
  http.set_error_handler([raw](const httplib::Request&, httplib::Response& res) {
    if (res.status == 503) return;
    raw->refused_.fetch_add(1, std::memory_order_relaxed);
    res.set_content("only GET /metrics is served here\n", "text/plain");
  });

  errno = 0;
  if (!http.bind_to_port(address.host, address.port)) {
    const int err = errno != 0 ? errno : EADDRNOTAVAIL;
    return Error{err, "metrics_listen: bind " + address.toString()};
  }
  try {
    self->listener_ = std::thread([raw] {
      raw->http_->listen_after_bind();
      raw->listenerDone_.store(true, std::memory_order_release);
    });
  } catch (const std::system_error& e) {
    return Error{EAGAIN, std::string("metrics_listen: start the HTTP thread: ") + e.what()};
  }
  return self;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (!listener_.joinable()) return;
  // httplib's stop() only reaches a server that is running: wait until the
  // listener is in its accept loop (or has already left it), then stop.
  while (!http_->is_running() && !listenerDone_.load(std::memory_order_acquire))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
  listener_.join();
}

void MetricsHttpServer::publish(std::string exposition) {
  auto next = std::make_shared<const std::string>(std::move(exposition));
  std::lock_guard lock(snapshotLock_);
  snapshot_.swap(next);
  // `next` (the old snapshot) is released after the lock, by whichever of
  // this thread or a scrape in flight holds it last.
}

std::shared_ptr<const std::string> MetricsHttpServer::latest() const {
  std::lock_guard lock(snapshotLock_);
  return snapshot_;
}

}  // namespace tvf
