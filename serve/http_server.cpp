#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <stdexcept>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>

#include <maestro/serve/http_server.hpp>
#include <maestro/serve/state_feed.hpp>

namespace maestro::serve {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using error_code = boost::system::error_code;

tcp::endpoint parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("expected ADDR:PORT, got \"" + std::string(text) + "\"");
  }
  auto host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    throw std::invalid_argument("bad port in \"" + std::string(text) + "\": expected 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  error_code bad;
  const auto address = asio::ip::make_address(std::string(host), bad);
  if (bad) {
    throw std::invalid_argument("bad address in \"" + std::string(text) +
                                "\": expected an IPv4 address, [IPv6] or localhost");
  }
  return {address, static_cast<unsigned short>(port)};
}

namespace {

using response = http::response<http::string_body>;

// Decodes %XX; nullopt for a bad escape or a NUL.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      unsigned v = 0;
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, v, 16);
      if (ec != std::errc{} || end != text.data() + i + 3) {
        return std::nullopt;
      }
      c = static_cast<char>(v);
      i += 2;
    }
    if (c == '\0') {
      return std::nullopt;
    }
    out += c;
  }
  return out;
}

// The path's segments, each decoded; nullopt when one cannot be.
std::optional<std::vector<std::string>> segments_of(std::string_view path) {
  std::vector<std::string> out;
  std::size_t at = 1;  // after the leading '/'
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const auto piece =
        path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    auto decoded = percent_decode(piece);
    if (!decoded) {
      return std::nullopt;
    }
    out.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) {
      break;
    }
    at = slash + 1;
  }
  while (!out.empty() && out.back().empty()) {
    out.pop_back();  // a trailing slash
  }
  return out;
}

// The value of `key` in a query string, decoded.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// The host part of a Host header, without its port.
std::string_view host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  return host.substr(0, host.find(':'));
}

}  // namespace

// One `/events` client: what it has not been sent yet, written one batch
// at a time. It is dropped when more than the backlog waits.
struct event_client : std::enable_shared_from_this<event_client> {
  explicit event_client(tcp::socket s) : socket(std::move(s)) {}

  tcp::socket socket;
  std::string writing;  // in flight
  std::string waiting;  // queued behind it
  bool closed = false;
  bool finishing = false;  // close once everything is written
  std::array<char, 256> sink{};

  void send(std::string_view text, std::size_t backlog) {
    if (closed) {
      return;
    }
    if (writing.size() + waiting.size() > backlog) {
      close();  // a client that stopped reading
      return;
    }
    waiting += text;
    if (writing.empty()) {
      write_next();
    }
  }

  void write_next() {
    if (closed) {
      return;
    }
    if (waiting.empty()) {
      if (finishing) {
        close();
      }
      return;
    }
    writing = std::move(waiting);
    waiting.clear();
    asio::async_write(socket, asio::buffer(writing),
                      [self = shared_from_this()](const error_code& ec, std::size_t) {
                        self->writing.clear();
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->write_next();
                      });
  }

  // Reads (and drops) what the client sends, to see it leave.
  void watch_close() {
    socket.async_read_some(asio::buffer(sink),
                           [self = shared_from_this()](const error_code& ec, std::size_t) {
                             if (ec) {
                               self->close();
                               return;
                             }
                             self->watch_close();
                           });
  }

  // Closes once what was queued is written.
  void finish() {
    finishing = true;
    if (writing.empty()) {
      write_next();
    }
  }

  void close() {
    if (!closed) {
      closed = true;
      error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
  }
};

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
  impl(const asio::any_io_executor& ex, state_feed& f, server_options o)
      : executor(ex), feed(f), options(o), acceptor(ex), keepalive_timer(ex), accept_timer(ex) {}

  asio::any_io_executor executor;
  state_feed& feed;
  server_options options;
  tcp::acceptor acceptor;
  asio::steady_timer keepalive_timer;
  asio::steady_timer accept_timer;
  bool loopback = true;
  bool stopped = false;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::weak_ptr<beast::tcp_stream>> sessions;
  std::vector<std::shared_ptr<event_client>> clients;
  bool sent_since_keepalive = false;

  [[nodiscard]] std::size_t connections() const { return sessions.size() + clients.size(); }

  void on_deltas(const std::vector<delta>& deltas) {
    std::string text;
    for (const auto& d : deltas) {
      text += "id: " + std::to_string(d.seq) + "\nevent: " + d.event + "\ndata: " + d.data + "\n\n";
    }
    broadcast(text);
  }

  void broadcast(std::string_view text) {
    sent_since_keepalive = true;
    for (const auto& c : clients) {
      c->send(text, options.client_backlog);
    }
    std::erase_if(clients, [](const auto& c) { return c->closed; });
  }

  void arm_keepalive() {
    keepalive_timer.expires_after(options.keepalive);
    keepalive_timer.async_wait([self = weak_from_this()](const error_code& ec) {
      const auto s = self.lock();
      if (ec || !s || s->stopped) {
        return;
      }
      if (!s->sent_since_keepalive) {
        s->broadcast(": keepalive\n\n");
      }
      s->sent_since_keepalive = false;
      s->arm_keepalive();
    });
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
      if (self->stopped || ec == asio::error::operation_aborted) {
        return;
      }
      if (ec) {
        // Out of descriptors, say: try again in a while, not at once.
        self->accept_timer.expires_after(std::chrono::milliseconds(100));
        self->accept_timer.async_wait([self](const error_code& wait_ec) {
          if (!wait_ec && !self->stopped) {
            self->accept();
          }
        });
        return;
      }
      if (self->connections() >= self->options.max_connections) {
        error_code ignored;
        socket.close(ignored);
      } else {
        asio::co_spawn(self->executor, session(self, std::move(socket)), asio::detached);
      }
      self->accept();
    });
  }

  static response make(const http::request<http::string_body>& req, http::status status,
                       std::string_view type, std::string body) {
    response res{status, req.version()};
    res.set(http::field::server, "maestro-async");
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  static response error(const http::request<http::string_body>& req, http::status status,
                        std::string_view what) {
    return make(req, status, "text/plain; charset=utf-8", std::string(what) + "\n");
  }

  response json_response(const http::request<http::string_body>& req,
                         const boost::json::value& value) const {
    auto res = make(req, http::status::ok, "application/json", safe_json(value));
    // The view's position: the page applies only the deltas after it.
    res.set("X-Maestro-Seq", std::to_string(feed.view().seq()));
    return res;
  }

  response handle(const http::request<http::string_body>& req) const {
    if (req.method() != http::verb::get) {
      auto res = error(req, http::status::method_not_allowed, "read-only: GET only");
      res.set(http::field::allow, "GET");
      return res;
    }
    if (host_refused(req)) {
      return error(req, http::status::misdirected_request, "unknown host");
    }
    const std::string_view target = req.target();
    if (target.empty() || target.front() != '/') {
      return error(req, http::status::bad_request, "bad request target");
    }
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    const auto query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    const auto segments = segments_of(path);
    if (!segments) {
      return error(req, http::status::bad_request, "bad escape in the path");
    }
    const auto& s = *segments;
    const auto& view = feed.view();
    if (s.empty()) {
      auto res =
          make(req, http::status::ok, "text/html; charset=utf-8", std::string(dashboard_html()));
      res.set("Content-Security-Policy",
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
              "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'");
      return res;
    }
    if (s.size() == 1 && s[0] == "metrics") {
      return make(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                  view.metrics(std::chrono::system_clock::now()));
    }
    if (s[0] != "api" || s.size() < 2 || s[1] != "groups") {
      return error(req, http::status::not_found, "not found");
    }
    if (s.size() == 2) {
      return json_response(req, view.groups_json());
    }
    // From here on, a path segment is only ever a key of the view.
    const auto group = view.group_json(s[2]);
    if (!group) {
      return error(req, http::status::not_found, "unknown group");
    }
    if (s.size() == 3) {
      return json_response(req, *group);
    }
    if (s.size() == 6 && s[3] == "tasks" && s[5] == "log") {
      const auto log = view.log_path(s[2], s[4]);
      if (!log) {
        return error(req, http::status::not_found, "unknown task");
      }
      std::size_t lines = 200;
      if (const auto tail = query_value(query, "tail")) {
        const auto [end, ec] = std::from_chars(tail->data(), tail->data() + tail->size(), lines);
        if (ec != std::errc{} || end != tail->data() + tail->size() || lines > 100000) {
          return error(req, http::status::bad_request, "tail: expected 0 to 100000 lines");
        }
      }
      auto text = tail_of(*log, lines);
      if (!text) {
        return error(req, http::status::not_found, "no log yet");
      }
      return make(req, http::status::ok, "text/plain; charset=utf-8", std::move(*text));
    }
    return error(req, http::status::not_found, "not found");
  }

  // `handle`, with anything it throws (a file gone while read) as a 500.
  response answer(const http::request<http::string_body>& req) const {
    try {
      return handle(req);
    } catch (const std::exception&) {
      return error(req, http::status::internal_server_error, "the state changed while read");
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<impl> self, tcp::socket socket) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    const auto id = self->next_id++;
    self->sessions[id] = stream;
    // Forgotten however the coroutine ends.
    struct forget {
      forget(impl& s, std::uint64_t i) : server(s), id(i) {}
      forget(const forget&) = delete;
      forget& operator=(const forget&) = delete;
      ~forget() { server.sessions.erase(id); }
      impl& server;
      std::uint64_t id;
    };
    const forget forget_session(*self, id);
    beast::flat_buffer buffer(8192);
    error_code ec;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(8192);
      parser.body_limit(4096);
      stream->expires_after(self->options.io_timeout);
      co_await http::async_read(*stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec || self->stopped) {
        break;
      }
      auto req = parser.release();
      const std::string_view target = req.target();
      if (req.method() == http::verb::get &&
          (target == "/events" || target.starts_with("/events?"))) {
        if (self->host_refused(req)) {
          auto res = error(req, http::status::misdirected_request, "unknown host");
          stream->expires_after(self->options.io_timeout);
          co_await http::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
          break;
        }
        stream->expires_never();
        self->add_event_client(stream->release_socket());
        co_return;
      }
      auto res = self->answer(req);
      stream->expires_after(self->options.io_timeout);
      co_await http::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive() || self->stopped) {
        break;
      }
    }
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->close();
  }

  // Bound to loopback, a page on another site cannot reach the server
  // through a name it points at 127.0.0.1 (DNS rebinding): the Host must
  // name this machine.
  [[nodiscard]] bool host_refused(const http::request<http::string_body>& req) const {
    if (!loopback) {
      return false;
    }
    const auto host = host_name(req[http::field::host]);
    return !host.empty() && host != "localhost" && host != "127.0.0.1" && host != "[::1]";
  }

  void add_event_client(tcp::socket socket) {
    auto client = std::make_shared<event_client>(std::move(socket));
    error_code ignored;
    client->socket.set_option(tcp::no_delay(true), ignored);
    clients.push_back(client);
    client->watch_close();
    // The head, then where the view stands: the page reads the state
    // through the API and applies the deltas that come after.
    client->send(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\nretry: 1000\n"
        "event: hello\ndata: {\"seq\":" +
            std::to_string(feed.view().seq()) + "}\n\n",
        options.client_backlog);
  }

  void stop() {
    if (stopped) {
      return;
    }
    // The state as it ends goes out before the clients are let go; one
    // that does not take it within a second is closed.
    feed.refresh();
    stopped = true;
    error_code ignored;
    acceptor.close(ignored);
    accept_timer.cancel();
    keepalive_timer.cancel();
    for (const auto& c : clients) {
      c->finish();
    }
    keepalive_timer.expires_after(std::chrono::seconds(1));
    keepalive_timer.async_wait([all = std::move(clients)](const error_code&) {
      for (const auto& c : all) {
        c->close();
      }
    });
    clients.clear();
    for (const auto& [id, weak] : sessions) {
      if (const auto s = weak.lock()) {
        s->close();
      }
    }
    feed.stop();
  }
};

http_server::http_server(const asio::any_io_executor& executor, state_feed& feed,
                         server_options options)
    : impl_(std::make_shared<impl>(executor, feed, options)) {}

http_server::~http_server() {
  impl_->stop();
}

error_code http_server::listen(const tcp::endpoint& at) {
  error_code ec;
  auto& a = impl_->acceptor;
  a.open(at.protocol(), ec);
  if (!ec) {
    a.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    a.bind(at, ec);
  }
  if (!ec) {
    a.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    error_code ignored;
    a.close(ignored);
    return ec;
  }
  impl_->loopback = at.address().is_loopback();
  return {};
}

tcp::endpoint http_server::local_endpoint() const {
  return impl_->acceptor.local_endpoint();
}

void http_server::start() {
  impl_->feed.start([weak = std::weak_ptr<impl>(impl_)](const std::vector<delta>& deltas) {
    if (const auto s = weak.lock()) {
      s->on_deltas(deltas);
    }
  });
  impl_->arm_keepalive();
  impl_->accept();
}

void http_server::stop() {
  impl_->stop();
}

std::size_t http_server::event_clients() const {
  return static_cast<std::size_t>(std::count_if(impl_->clients.begin(), impl_->clients.end(),
                                                [](const auto& c) { return !c->closed; }));
}

}  // namespace maestro::serve
