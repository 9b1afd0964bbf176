// MetricsHttpServer: serves GET /metrics (the Prometheus text exposition,
// format 0.0.4) over HTTP on metrics_listen, from threads of its own
// (cpp-httplib: one listener thread plus a pool of kHttpThreads), so a slow
// or stuck scraper never blocks the control thread.
//
// Threads: start(), publish() and the destructor are called on the control
// thread. The HTTP threads only read the latest published snapshot, an
// immutable string behind a shared_ptr: the one lock shared with the control
// thread is held only to copy or swap that pointer (never across HTTP I/O),
// and a scrape sees one whole snapshot, never half of one. (A mutex rather
// than std::atomic<std::shared_ptr>: libstdc++ 12 implements the latter
// with a lock bit inside the pointer that ThreadSanitizer cannot see, so
// every scrape was reported as a race.)
//
// Counters: scrapesServed() (successful GET /metrics), scrapesRefused()
// (other paths or methods).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/ListenAddress.hpp"
#include "tvf/Result.hpp"

namespace httplib {
class Server;
}

namespace tvf {

class MetricsHttpServer {
 public:
  // HTTP worker threads: scrapes are rare and small; two let one slow
  // client not stall another.
  static constexpr std::size_t kHttpThreads = 2;

  // Binds `address` and starts serving. Until the first publish(), /metrics
  // answers 503. Errors: the bind's errno (EADDRINUSE, EADDRNOTAVAIL,
  // EACCES), EAGAIN if the listener thread could not be started.
  static Result<std::unique_ptr<MetricsHttpServer>> start(const ListenAddress& address);
  // Stops the listener and joins every HTTP thread.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Replaces the text scrapes return. Control thread; never blocks on HTTP.
  void publish(std::string exposition);

  const ListenAddress& address() const { return address_; }
  std::uint64_t scrapesServed() const { return served_.load(std::memory_order_relaxed); }
  std::uint64_t scrapesRefused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  explicit MetricsHttpServer(ListenAddress address);

  ListenAddress address_;
  // The latest exposition (a copy of the pointer); null until the first
  // publish(). Any thread.
  std::shared_ptr<const std::string> latest() const;

  mutable std::mutex snapshotLock_;
  std::shared_ptr<const std::string> snapshot_;  // guarded by snapshotLock_
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::unique_ptr<httplib::Server> http_;
  // Set by the listener thread once listen_after_bind() has returned.
  std::atomic<bool> listenerDone_{false};
  // Runs http_->listen_after_bind(); joined in the destructor after stop().
  std::thread listener_;
};

}  // namespace tvf
