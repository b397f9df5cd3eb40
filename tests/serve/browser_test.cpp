// The dashboard in a real browser: headless Chromium, driven through the
// Chrome DevTools Protocol (a WebSocket client written with Boost.Beast),
// loads `/` of a real `serve` while a real run goes on. Through the DOM it
// checks that a task's status changes on the page without a reload, that
// failures come first with their error, and that a title carrying markup
// stays text. It saves screenshots (one is the README's).
//
// CTest's entry `chromium_setup` (chromium.sh) installs Debian's chromium
// when it is missing and it can; when it cannot, this program's cases are
// reported skipped with the reason.

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"
#include "serve/http_client.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

namespace {

// Where chromium.sh left its verdict: `chromium` (the binary's path) or
// `skipped` (why not).
fs::path setup_dir() {
  const char* dir = std::getenv("MAESTRO_CHROMIUM_DIR");
  return dir == nullptr ? fs::path() : fs::path(dir);
}

struct chromium_here {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id /*id*/) const {
    const auto dir = setup_dir();
    if (dir.empty()) {
      boost::test_tools::assertion_result r(false);
      r.message() << "MAESTRO_CHROMIUM_DIR is not set (run this program through CTest)";
      return r;
    }
    if (fs::exists(dir / "skipped")) {
      boost::test_tools::assertion_result r(false);
      r.message() << "no Chromium here: " << read_file(dir / "skipped");
      return r;
    }
    if (!fs::exists(dir / "chromium")) {
      boost::test_tools::assertion_result r(false);
      r.message() << "no Chromium here: chromium.sh did not run";
      return r;
    }
    return true;
  }
};

std::string base64_decode(std::string_view text) {
  std::array<int, 256> value{};
  value.fill(-1);
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    value[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (const char c : text) {
    const int v = value[static_cast<unsigned char>(c)];
    if (v < 0) {
      continue;  // padding
    }
    bits = (bits << 6U) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> static_cast<unsigned>(count)) & 0xFFU);
    }
  }
  return out;
}

// Headless Chromium in a session of its own, killed whole at the end.
class browser {
 public:
  explicit browser(const fs::path& profile)
      : process_(start_process(
            {"/usr/bin/setsid", read_file(setup_dir() / "chromium"), "--headless=new",
             "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--hide-scrollbars", "--window-size=1280,860",
             "--user-data-dir=" + profile.string(), "--remote-debugging-port=0", "about:blank"},
            profile.parent_path())) {
    const auto port_file = profile / "DevToolsActivePort";
    BOOST_TEST_REQUIRE(eventually([&] { return fs::exists(port_file); }, 60s),
                       "Chromium did not open its DevTools port");
    std::string text;
    BOOST_TEST_REQUIRE(eventually([&] {
      text = read_file(port_file);
      return text.find('\n') != std::string::npos;
    }));
    port_ = std::stoi(text);
    // The page target's WebSocket.
    std::string path;
    BOOST_TEST_REQUIRE(eventually([&] {
      const auto targets = json::parse(http_get(port_, "/json/list").body);
      for (const auto& t : targets.as_array()) {
        if (t.at("type") == "page") {
          const std::string url(t.at("webSocketDebuggerUrl").as_string());
          path = url.substr(url.find('/', 5));
          return true;
        }
      }
      return false;
    }));
    asio::ip::tcp::resolver resolver(io_);
    asio::connect(socket_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port_)));
    socket_.handshake("127.0.0.1:" + std::to_string(port_), path);
  }
  browser(const browser&) = delete;
  browser& operator=(const browser&) = delete;
  ~browser() {
    boost::system::error_code ignored;
    socket_.next_layer().close(ignored);
    ::kill(-process_.pid(), SIGKILL);
    (void)process_.wait();
  }

  // One DevTools call; its `result`.
  json::object call(const std::string& method, json::object params = {}) {
    const auto id = ++next_id_;
    socket_.write(asio::buffer(json::serialize(
        json::object{{"id", id}, {"method", method}, {"params", std::move(params)}})));
    for (;;) {
      boost::beast::flat_buffer buffer;
      socket_.read(buffer);
      const auto message = json::parse(boost::beast::buffers_to_string(buffer.data()));
      const auto& o = message.as_object();
      if (const auto* got = o.if_contains("id"); got != nullptr && got->to_number<int>() == id) {
        if (const auto* error = o.if_contains("error")) {
          throw std::runtime_error(method + ": " + json::serialize(*error));
        }
        return o.at("result").as_object();
      }
    }
  }

  // The value of a JavaScript expression in the page.
  json::value evaluate(const std::string& expression) {
    const auto r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
    const auto& result = r.at("result").as_object();
    const auto* value = result.if_contains("value");
    return value == nullptr ? json::value(nullptr) : *value;
  }

  // Waits until `expression` is true in the page.
  bool until(const std::string& expression, std::chrono::milliseconds limit = 30s) {
    return eventually([&] { return evaluate(expression) == true; }, limit);
  }

  void screenshot(const fs::path& file) {
    const auto r = call("Page.captureScreenshot", {{"format", "png"}});
    std::ofstream(file, std::ios::binary) << base64_decode(r.at("data").as_string());
  }

 private:
  running_process process_;
  int port_ = 0;
  asio::io_context io_;
  websocket::stream<asio::ip::tcp::socket> socket_{io_};
  int next_id_ = 0;
};

// The status the page shows for task `id`.
std::string status_of(const std::string& id) {
  return "(document.querySelector('tr[data-task=\"" + id +
         "\"] td:nth-child(2)') || {dataset: {}}).dataset.status";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(browser_dashboard, engine_fixture,
                         *boost::unit_test::precondition(chromium_here()))

BOOST_AUTO_TEST_CASE(the_page_follows_a_real_run_without_a_reload) {
  // Two groups; `slow` runs long enough to be seen running, `broken`
  // fails, and one title carries markup.
  config(R"("max_concurrent": 6, "agent_defaults": {"command": )" +
         agent({"print", "starting {id}: {title}", "sleep", "1500", "print", "done"}) +
         R"(}, "agents": {"slow-agent": {"command": )" +
         agent({"print", "working on {id}", "sleep", "5000", "print", "finished"}) +
         R"(}, "broken-agent": {"command": )" +
         agent({"eprint", "compile error in {id}", "exit", "3"}) + "}}");
  tasks(R"([
    {"id":"slow","title":"[P:Group-api] Users endpoint","metadata":{"subagent_type":"slow-agent"}},
    {"id":"orders","title":"[P:Group-api] Orders endpoint"},
    {"id":"schema","title":"[P:Group-api] <img src=x onerror=\"window.__pwned=1\"> schema"},
    {"id":"broken","title":"[P:Group-api] Payments","metadata":{"subagent_type":"broken-agent"}},
    {"id":"login","title":"[P:Group-web] Login form"},
    {"id":"table","title":"[P:Group-web] Orders table","metadata":{"subagent_type":"slow-agent"}}
  ])");
  const int port = free_port();
  auto server = start({"serve", "--listen", "127.0.0.1:" + std::to_string(port)});
  BOOST_TEST_REQUIRE(eventually([&] {
    try {
      return http_get(port, "/api/groups").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
  const auto profile = dir.path() / "chromium-profile";
  fs::create_directories(profile);
  browser b(profile);
  (void)b.call("Page.enable");
  (void)b.call("Page.navigate", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}});
  BOOST_TEST_REQUIRE(
      b.until("document.getElementById('conn') && "
              "document.getElementById('conn').textContent === 'live'"));
  // A mark that a reload would wipe.
  (void)b.evaluate("window.__mark = 42");
  BOOST_TEST(b.evaluate("document.querySelectorAll('section.group').length") == 0);

  auto engine = start({"run", "-k", "--schedule", "graph"});
  // What the server holds, for a failure's message.
  const auto served = [&] { return http_get(port, "/api/groups").body; };
  BOOST_TEST_REQUIRE(b.until(status_of("slow") + " === 'running'"),
                     "the page never showed slow running; the server has " << served());
  BOOST_TEST_REQUIRE(b.until(status_of("broken") + " === 'failed'"));
  // Failures first, with their error; the running task's pid and elapsed
  // time.
  BOOST_TEST(b.evaluate("document.querySelector('section[data-group=\"api\"] tbody tr')"
                        ".dataset.task") == "broken");
  BOOST_TEST(b.until("document.querySelector('tr[data-task=\"broken\"] .err') !== null"));
  BOOST_TEST(
      b.until("/^[0-9]+$/.test(document.querySelector('tr[data-task=\"slow\"] "
              "td:nth-child(5)').textContent)"));
  BOOST_TEST(
      b.until("/^0:00:0[1-9]$/.test(document.querySelector('tr[data-task=\"slow\"] "
              "td:nth-child(6)').textContent)"));
  // The log's tail, as text.
  BOOST_TEST(
      b.until("document.querySelector('tr[data-task=\"slow\"] td.tail')"
              ".textContent.includes('working on slow')"));
  b.screenshot(dir.path() / "running.png");
  BOOST_TEST(fs::file_size(dir.path() / "running.png") > 10000U);
  if (const char* keep = std::getenv("MAESTRO_SCREENSHOT")) {
    fs::copy_file(dir.path() / "running.png", keep, fs::copy_options::overwrite_existing);
  }

  // The same page, never reloaded, sees the task complete.
  BOOST_TEST_REQUIRE(b.until(status_of("slow") + " === 'completed'"),
                     "the page never showed slow completed; the server has " << served());
  BOOST_TEST(b.evaluate("window.__mark") == 42);
  BOOST_TEST(b.until(status_of("table") + " === 'completed'"));
  // The title's markup is text: no element was made of it, nothing ran.
  BOOST_TEST(
      b.until("document.querySelector('tr[data-task=\"schema\"] td.tail')"
              ".textContent.includes('done')"));
  (void)b.evaluate("document.querySelector('tr[data-task=\"schema\"]').click()");
  BOOST_TEST(b.until("document.getElementById('logtext').textContent.includes('<img src=x')"));
  BOOST_TEST(b.evaluate("document.querySelectorAll('img').length") == 0);
  BOOST_TEST(b.evaluate("window.__pwned === undefined") == true);
  b.screenshot(dir.path() / "done.png");
  (void)engine.wait();
  server.signal(SIGTERM);
  BOOST_TEST(server.wait().exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()
