#pragma once

// A small HTTP/1.1 client over POSIX sockets, for tests of `serve`: one
// request per connection, and a Server-Sent Events reader. Written here so
// that the tests do not share the server's HTTP code.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace maestro::test {

struct http_reply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
};

/// Sends `request_head` (the request line and headers, without the final
/// empty line) to 127.0.0.1:`port`, with `Connection: close` added, and
/// reads the reply. Throws on a connection failure.
http_reply http_request(int port, const std::string& request_head);

/// `GET target`, with a Host header naming 127.0.0.1.
http_reply http_get(int port, const std::string& target);

/// One event of an `/events` stream.
struct sse_event {
  std::string id;
  std::string event;
  std::string data;
};

/// A client of `/events`.
class sse_client {
 public:
  /// Connects and sends the request; the reply's head is read by `next`.
  explicit sse_client(int port);
  sse_client(const sse_client&) = delete;
  sse_client& operator=(const sse_client&) = delete;
  sse_client(sse_client&& other) noexcept;
  sse_client& operator=(sse_client&&) = delete;
  ~sse_client();

  /// The next event, or nullopt when none came within `limit` or the
  /// stream ended.
  std::optional<sse_event> next(std::chrono::milliseconds limit);
  /// Events until `done` holds for one (returned) or `limit` passes.
  std::optional<sse_event> until(const std::function<bool(const sse_event&)>& done,
                                 std::chrono::milliseconds limit);
  /// Everything read so far, raw (the head included).
  [[nodiscard]] const std::string& raw() const noexcept { return raw_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  std::string raw_;
  std::size_t parsed_ = 0;  // how much of raw_ has been turned into events
  bool head_done_ = false;
};

/// A port on 127.0.0.1 nobody listens on now (bound, read, let go).
int free_port();

}  // namespace maestro::test
