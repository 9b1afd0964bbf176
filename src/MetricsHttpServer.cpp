#include "src/MetricsHttpServer.hpp"

#include <fcntl.h>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <system_error>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace tvf {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
// A scraper that stalls is dropped after this, not held forever.
constexpr std::chrono::seconds kIoTimeout{5};
// Requests on one connection before it is closed.
constexpr unsigned kKeepAliveMax = 100;
// A scrape's request is a few hundred bytes.
constexpr std::size_t kRequestLimit = 8 * 1024;
// accept() failing for want of descriptors (EMFILE, ENFILE) or memory is
// retried after this pause, so the loop does not spin on a full table.
constexpr std::chrono::milliseconds kAcceptBackoff{100};
// Connections open at once. At the cap the acceptor stops accepting (more
// clients wait in the listen backlog, holding no descriptor of tvfd's), so
// scrapers cannot take the descriptors that failover needs.
constexpr unsigned kMaxConnections = 32;

void closeOnExec(int fd) { ::fcntl(fd, F_SETFD, FD_CLOEXEC); }

// One client connection: read a request, answer it, again while keep-alive
// holds. Owned by the handlers in flight (shared_from_this); `onClose` runs
// when it is destroyed (the event-loop thread).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, MetricsHttpServer& owner, std::function<void()> onClose)
      : stream_(std::move(socket)), owner_(owner), onClose_(std::move(onClose)) {}
  ~Connection() { onClose_(); }

  void read() {
    parser_.emplace();
    parser_->header_limit(kRequestLimit);
    parser_->body_limit(kRequestLimit);
    stream_.expires_after(kIoTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

 private:
  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof)
      return close();
    if (ec) {  // a request that does not parse, or too large
      owner_.countRefused();
      return answer(http::status::bad_request, "bad request\n", false, 11);
    }
    const auto& req = parser_->get();
    const bool again = req.keep_alive() && ++requests_ < kKeepAliveMax;
    const auto target = req.target();
    if (target.substr(0, target.find('?')) != "/metrics") {  // a query string (Prometheus params:) is ignored
      owner_.countRefused();
      return answer(http::status::not_found, "only GET /metrics is served here\n", again, req.version());
    }
    const bool head = req.method() == http::verb::head;  // the headers a GET would have
    if (req.method() != http::verb::get && !head) {
      owner_.countRefused();
      return answer(http::status::method_not_allowed, "only GET /metrics is served here\n", again, req.version());
    }
    auto text = owner_.latest();
    if (!text)
      return answer(http::status::service_unavailable, "tvfd has not published metrics yet\n", again, req.version(),
                    "text/plain", head);
    owner_.countServed();
    answer(http::status::ok, *text, again, req.version(), kContentType, head);
  }

  // headOnly: Content-Length says the body's size, and no body follows.
  void answer(http::status status, const std::string& body, bool keepAlive, unsigned version,
              const char* contentType = "text/plain", bool headOnly = false) {
    response_ = {};
    response_.result(status);
    response_.version(version);
    response_.set(http::field::content_type, contentType);
    if (status == http::status::method_not_allowed) response_.set(http::field::allow, "GET, HEAD");
    if (!headOnly) response_.body() = body;
    response_.keep_alive(keepAlive);
    response_.prepare_payload();
    if (headOnly) response_.content_length(body.size());
    stream_.expires_after(kIoTimeout);
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!self->response_.keep_alive()) return self->finish();
      self->read();
    });
  }

  // After the last response: stop sending, then read and discard what the
  // client still sends (pipelined requests) until it closes or the timeout.
  // Closing with unread input would make the kernel send a reset, and the
  // client could lose responses it has not read yet.
  void finish() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain();
  }
  void drain() {
    stream_.expires_after(kIoTimeout);
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  MetricsHttpServer& owner_;
  std::function<void()> onClose_;
  std::array<char, 4096> discard_;
  beast::flat_buffer buffer_{kRequestLimit};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  unsigned requests_ = 0;
};

}  // namespace

struct MetricsHttpServer::Loop {
  // What a connection tells the loop when it closes. Shared with the
  // connections, which the io_context destroys after the acceptor when the
  // loop goes: ~Loop unhooks `loop` first.
  struct Gate {
    Loop* loop = nullptr;
    unsigned open = 0;       // connections alive
    bool accepting = false;  // an accept (or its backoff) is pending
  };

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer backoff{io};
  std::thread thread;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  Loop() { gate->loop = this; }
  ~Loop() { gate->loop = nullptr; }  // the thread is joined: nothing runs meanwhile

  // Event-loop thread (and start(), before the thread runs).
  void accept(MetricsHttpServer& owner) {
    if (gate->accepting || gate->open >= kMaxConnections) return;  // resumed when one closes
    gate->accepting = true;
    acceptor.async_accept([this, &owner](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;  // the acceptor closed
      if (ec) {  // EMFILE, ENFILE, ENOBUFS, ENOMEM: wait, then accept again
        backoff.expires_after(kAcceptBackoff);
        backoff.async_wait([this, &owner](beast::error_code e) {
          gate->accepting = false;
          if (!e) accept(owner);
        });
        return;
      }
      gate->accepting = false;
      closeOnExec(socket.native_handle());
      ++gate->open;
      std::make_shared<Connection>(std::move(socket), owner, [g = gate, &owner] {
        --g->open;
        if (g->loop) g->loop->accept(owner);
      })->read();
      accept(owner);
    });
  }
};

MetricsHttpServer::MetricsHttpServer(ListenAddress address)
    : address_(std::move(address)), loop_(std::make_unique<Loop>()) {}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(const ListenAddress& address) {
  std::unique_ptr<MetricsHttpServer> self(new MetricsHttpServer(address));
  Loop& loop = *self->loop_;
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Error{EADDRNOTAVAIL, "metrics_listen: " + address.toString()};
  const tcp::endpoint endpoint(ip, address.port);
  const std::string what = "metrics_listen: bind " + address.toString();
  if (loop.acceptor.open(endpoint.protocol(), ec); ec) return Error{ec.value(), what};
  // The listening socket must not leak into on_switch hooks (fork + exec).
  closeOnExec(loop.acceptor.native_handle());
  loop.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (loop.acceptor.bind(endpoint, ec); ec) return Error{ec.value(), what};
  if (loop.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return Error{ec.value(), "metrics_listen: listen on " + address.toString()};
  loop.accept(*self);
  try {
    loop.thread = std::thread([&loop] { loop.io.run(); });
  } catch (const std::system_error& e) {
    return Error{EAGAIN, std::string("metrics_listen: start the HTTP thread: ") + e.what()};
  }
  return self;
}

MetricsHttpServer::~MetricsHttpServer() {
  // Stopping the loop abandons every operation in flight; destroying it
  // (with loop_) then closes the acceptor and every connection.
  loop_->io.stop();
  if (loop_->thread.joinable()) loop_->thread.join();
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
