#include "serve/http_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace maestro::test {
namespace {

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<std::uint16_t>(port));
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("connect: ") + std::strerror(e));
  }
  return fd;
}

void send_all(int fd, const std::string& text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto n = ::send(fd, text.data() + at, text.size() - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    at += static_cast<std::size_t>(n);
  }
}

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

}  // namespace

http_reply http_request(int port, const std::string& request_head) {
  const int fd = connect_to(port);
  std::string raw;
  try {
    send_all(fd, request_head + "\r\nConnection: close\r\n\r\n");
    char buffer[65536];
    for (;;) {
      // Done at the end of the stream, or once Content-Length bytes came
      // (a server may keep the connection open).
      if (const auto head = raw.find("\r\n\r\n"); head != std::string::npos) {
        const auto at = lower(raw.substr(0, head)).find("\r\ncontent-length:");
        if (at != std::string::npos &&
            raw.size() - head - 4 >= std::stoul(raw.substr(at + 17, head - at - 17))) {
          break;
        }
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20000) <= 0) {
        throw std::runtime_error("no reply within 20 s");
      }
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;
      }
      raw.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  http_reply reply;
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.size() < 12) {
    throw std::runtime_error("no HTTP reply: " + raw);
  }
  reply.status = std::stoi(raw.substr(9, 3));
  std::size_t at = raw.find("\r\n") + 2;
  while (at < head_end) {
    const auto end = raw.find("\r\n", at);
    const auto line = raw.substr(at, end - at);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      reply.headers[lower(line.substr(0, colon))] = value;
    }
    at = end + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

http_reply http_get(int port, const std::string& target) {
  return http_request(port,
                      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port));
}

sse_client::sse_client(int port) : fd_(connect_to(port)) {
  send_all(fd_, "GET /events HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nAccept: text/event-stream\r\n\r\n");
}

sse_client::sse_client(sse_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      raw_(std::move(other.raw_)),
      parsed_(other.parsed_),
      head_done_(other.head_done_) {}

sse_client::~sse_client() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::optional<sse_event> sse_client::next(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (!head_done_) {
      const auto end = raw_.find("\r\n\r\n");
      if (end != std::string::npos) {
        head_done_ = true;
        parsed_ = end + 4;
      }
    }
    if (head_done_) {
      const auto end = raw_.find("\n\n", parsed_);
      if (end != std::string::npos) {
        sse_event e;
        std::size_t at = parsed_;
        while (at < end) {
          auto line_end = raw_.find('\n', at);
          if (line_end == std::string::npos || line_end > end) {
            line_end = end;
          }
          const auto line = raw_.substr(at, line_end - at);
          if (line.starts_with("id: ")) {
            e.id = line.substr(4);
          } else if (line.starts_with("event: ")) {
            e.event = line.substr(7);
          } else if (line.starts_with("data: ")) {
            e.data += line.substr(6);
          }
          at = line_end + 1;
        }
        parsed_ = end + 2;
        if (!e.event.empty() || !e.data.empty()) {
          return e;
        }
        continue;  // a comment or `retry:` alone
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return std::nullopt;
    }
    char buffer[65536];
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return std::nullopt;
    }
    raw_.append(buffer, static_cast<std::size_t>(n));
  }
}

std::optional<sse_event> sse_client::until(const std::function<bool(const sse_event&)>& done,
                                           std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto e = next(left);
    if (!e) {
      return std::nullopt;
    }
    if (done(*e)) {
      return e;
    }
  }
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof at;
  ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size);
  const int port = ntohs(at.sin_port);
  ::close(fd);
  return port;
}

}  // namespace maestro::test
