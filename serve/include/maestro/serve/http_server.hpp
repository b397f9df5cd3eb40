#pragma once

// `maestro-async serve`'s HTTP server (SPEC section 12), on Boost.Beast:
// the page, `/events` (Server-Sent Events fed by a `state_feed`), the JSON
// API and `/metrics`. Read-only: GET only. Beast stays in
// http_server.cpp; this header is light.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace maestro::serve {

class state_feed;

/// The address `serve` listens on unless told otherwise.
inline constexpr std::string_view default_listen = "127.0.0.1:8765";

/// `ADDR:PORT` as an endpoint: an IPv4 address, `[IPv6]`, or `localhost`,
/// and a port from 0 (any free one) to 65535. Throws
/// `std::invalid_argument` with a one-line reason otherwise.
[[nodiscard]] boost::asio::ip::tcp::endpoint parse_listen(std::string_view text);

struct server_options {
  /// Connections held at once; more are closed as they come.
  std::size_t max_connections = 1024;
  /// Bytes an `/events` client may leave unread before it is dropped (it
  /// reconnects, as EventSource does, and reads the state again). One
  /// stalled client never holds the others back.
  std::size_t client_backlog = std::size_t{1} << 20;
  /// A request must arrive whole, and a response be taken, within this.
  std::chrono::seconds io_timeout{10};
  /// A comment sent to `/events` clients when nothing else was, so that a
  /// vanished client is noticed.
  std::chrono::seconds keepalive{15};
};

class http_server {
 public:
  /// Serves what `feed` knows; starts it. Handlers run on `executor`, which
  /// must be the feed's and must not run handlers concurrently.
  http_server(const boost::asio::any_io_executor& executor, state_feed& feed,
              server_options options = {});
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;
  ~http_server();

  /// Binds and listens. An address in use (or not this machine's) is
  /// returned, not thrown.
  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& at);
  /// The address bound (its port, when 0 was asked).
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
  /// Starts the feed and accepting connections.
  void start();
  /// Closes the listener and every connection; the feed stops.
  void stop();

  /// `/events` clients connected now.
  [[nodiscard]] std::size_t event_clients() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

/// The page `/` serves: one self-contained HTML file.
[[nodiscard]] std::string_view dashboard_html();

}  // namespace maestro::serve
