// MetricsHttpServer: serves GET /metrics (the Prometheus text exposition,
// format 0.0.4) over HTTP/1.1 on metrics_listen, from one thread of its own
// that runs a Boost.Asio event loop with Boost.Beast's HTTP parser and
// writer. Every connection is asynchronous on that thread, with a 5 s limit
// on each read and write, so a slow or stuck scraper blocks neither the
// control thread nor another scraper.
//
// Why Beast: it is header-only and part of Boost, which tvf already builds
// with (Signals2), and it links nothing. Debian's cpp-httplib, used before,
// is a shared library built with OpenSSL, zlib and brotli: loading it made
// every tvfd map and relocate libcrypto, 3.5 MiB of resident memory whether
// or not metrics_listen was set.
//
// Threads: start(), publish() and the destructor are called on the control
// thread. The HTTP thread only reads the latest published snapshot, an
// immutable string behind a shared_ptr: the one lock shared with the control
// thread is held only to copy or swap that pointer (never across HTTP I/O),
// and a scrape sees one whole snapshot, never half of one. (A mutex rather
// than std::atomic<std::shared_ptr>: libstdc++ 12 implements the latter
// with a lock bit inside the pointer that ThreadSanitizer cannot see.)
//
// Answers: 200 with the exposition (HEAD: its headers); 503 before the first
// publish(); 404 for another path, 405 for a method but GET and HEAD, 400 for a request that does not
// parse or exceeds 8 KiB. Counters: scrapesServed() (200s), scrapesRefused()
// (404, 405 and 400).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/ListenAddress.hpp"
#include "tvf/Result.hpp"

namespace tvf {

class MetricsHttpServer {
 public:
  // Binds `address` and starts serving. Until the first publish(), /metrics
  // answers 503. Errors: the errno of socket(2), bind(2) or listen(2)
  // (EADDRINUSE, EADDRNOTAVAIL, EACCES, EMFILE), EAGAIN if the HTTP thread
  // could not be started.
  static Result<std::unique_ptr<MetricsHttpServer>> start(const ListenAddress& address);
  // Stops the event loop, closes every connection and joins the HTTP thread.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Replaces the text scrapes return. Control thread; never blocks on HTTP.
  void publish(std::string exposition);

  const ListenAddress& address() const { return address_; }
  std::uint64_t scrapesServed() const { return served_.load(std::memory_order_relaxed); }
  std::uint64_t scrapesRefused() const { return refused_.load(std::memory_order_relaxed); }

  // The latest exposition (a copy of the pointer); null until the first
  // publish(). Any thread.
  std::shared_ptr<const std::string> latest() const;
  // Counted by the HTTP thread.
  void countServed() { served_.fetch_add(1, std::memory_order_relaxed); }
  void countRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct Loop;  // the io_context, the acceptor and the thread (Asio stays out of this header)
  explicit MetricsHttpServer(ListenAddress address);

  ListenAddress address_;
  mutable std::mutex snapshotLock_;
  std::shared_ptr<const std::string> snapshot_;  // guarded by snapshotLock_
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::unique_ptr<Loop> loop_;  // last: stopped and destroyed first
};

}  // namespace tvf
