// `maestro-async serve` and `--serve` on the real binary, over loopback:
// the API's shapes against `list --json` and `status --json`, /metrics
// through Prometheus' own parser, Server-Sent Events after a real run's
// changes, a state directory that does not exist yet, the address errors,
// path traversal and script injection, and 50 clients beside a stalled one.

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"
#include "serve/http_client.hpp"

using namespace maestro::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

bool answers(int port) {
  try {
    return http_get(port, "/api/groups").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

// A `serve` of the fixture's state directory, stopped with SIGTERM.
struct server {
  running_process process;
  int port;

  server(const engine_fixture& f, int p)
      : process(f.start({"serve", "--listen", "127.0.0.1:" + std::to_string(p)})), port(p) {
    BOOST_TEST_REQUIRE(eventually([&] { return answers(port); }));
  }
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server() {
    if (!stopped) {
      process.signal(SIGTERM);
      (void)process.wait();
    }
  }
  process_result stop() {
    stopped = true;
    process.signal(SIGTERM);
    return process.wait();
  }
  bool stopped = false;
};

json::value data_of(const sse_event& e) {
  return json::parse(e.data);
}

bool is_task(const sse_event& e, const std::string& id, const std::string& status) {
  if (e.event != "task") {
    return false;
  }
  const auto d = data_of(e).as_object();
  return d.at("task_id") == id.c_str() && d.at("status") == status.c_str();
}

std::string python() {
  // Debian's interpreter: python3-prometheus-client installs for it.
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serve_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(the_api_has_the_shapes_of_list_and_status) {
  config(R"("agent_defaults": {"command": )" +
         agent({"print", "one", "print", "two", "print", "three {id}"}) +
         R"(}, "agents": {"bad": {"command": )" + agent({"eprint", "it broke", "exit", "3"}) +
         "}}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b",
             "metadata":{"subagent_type":"bad"}},{"id":"c","title":"[P:Group-h] c"}])");
  (void)run({"run", "-k"});
  server s(*this, free_port());
  const auto list = http_get(s.port, "/api/groups");
  BOOST_TEST(list.status == 200);
  BOOST_TEST(list.headers.at("content-type") == "application/json");
  BOOST_TEST(json::parse(list.body) == json::parse(run({"list", "--json"}).out), list.body);
  for (const std::string g : {"g", "h"}) {
    const auto one = http_get(s.port, "/api/groups/" + g);
    BOOST_TEST(one.status == 200);
    BOOST_TEST(json::parse(one.body) == json::parse(run({"status", g, "--json"}).out), one.body);
  }
  BOOST_TEST(http_get(s.port, "/api/groups/nope").status == 404);
  BOOST_TEST(http_get(s.port, "/api/groups/g/tasks/zz/log").status == 404);
  const auto log = http_get(s.port, "/api/groups/g/tasks/a/log?tail=2");
  BOOST_TEST(log.status == 200);
  BOOST_TEST(log.headers.at("content-type").starts_with("text/plain"));
  BOOST_TEST(log.body == "two\nthree a\n", log.body);
  BOOST_TEST(http_get(s.port, "/api/groups/g/tasks/a/log?tail=x").status == 400);
  const auto page = http_get(s.port, "/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.headers.at("content-type").starts_with("text/html"));
  BOOST_TEST(page.body.find("new EventSource(\"events\")") != std::string::npos);
  BOOST_TEST(page.headers.count("content-security-policy") == 1U);
  // Nothing fetched from elsewhere.
  BOOST_TEST(page.body.find("http://") == std::string::npos);
  BOOST_TEST(page.body.find("https://") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_parse_with_prometheus_own_parser) {
  config(R"("agent_defaults": {"command": )" + agent({"sleep", "20"}) +
         R"(}, "retries": 1, "retry_backoff_s": 0.01, "agents": {"bad": {"command": )" +
         agent({"exit", "3"}) + "}}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"},
            {"id":"c","title":"[P:Group-g] c","metadata":{"subagent_type":"bad"}}])");
  (void)run({"execute", "g"});
  server s(*this, free_port());
  const auto metrics = http_get(s.port, "/metrics");
  BOOST_TEST(metrics.status == 200);
  BOOST_TEST(metrics.headers.at("content-type").starts_with("text/plain; version=0.0.4"));
  dir.write("metrics.txt", metrics.body);
  // Prometheus' own parser, not ours: every sample as one JSON line.
  dir.write("parse.py", R"(import json, sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        print(json.dumps({"family": family.name, "type": family.type, "name": s.name,
                          "labels": s.labels, "value": s.value}))
)");
  const auto parsed = run_process({python(), "parse.py", "metrics.txt"}, dir.path());
  BOOST_TEST_REQUIRE(
      parsed.exit_code == 0,
      "the Prometheus parser (Debian's python3-prometheus-client) failed: " + parsed.err);
  std::map<std::string, double> value;  // "name{k=v,...}" -> value
  std::map<std::string, std::string> type;
  std::istringstream lines(parsed.out);
  for (std::string line; std::getline(lines, line);) {
    const auto o = json::parse(line).as_object();
    std::string key(o.at("name").as_string());
    for (const auto& [k, v] : o.at("labels").as_object()) {
      key += std::string(",") + std::string(k) + "=" + std::string(v.as_string());
    }
    value[key] = o.at("value").to_number<double>();
    type[std::string(o.at("family").as_string())] = std::string(o.at("type").as_string());
  }
  BOOST_TEST(value["maestro_tasks,group=g,status=completed"] == 2);
  BOOST_TEST(value["maestro_tasks,group=g,status=failed"] == 1);
  // `bad` ran twice (a retry), both attempts failed.
  BOOST_TEST(value["maestro_launches_total,group=g,agent=bad"] == 2);
  BOOST_TEST(value["maestro_attempts_total,group=g,agent=bad,outcome=failed"] == 2);
  BOOST_TEST(value["maestro_attempts_total,group=g,agent=backend-architect,outcome=completed"] ==
             2);
  BOOST_TEST(value["maestro_attempt_duration_seconds_count,agent=backend-architect"] == 2);
  BOOST_TEST(value["maestro_attempt_duration_seconds_bucket,agent=backend-architect,le=+Inf"] == 2);
  BOOST_TEST(value["maestro_attempt_duration_seconds_sum,agent=backend-architect"] >= 0.03);
  BOOST_TEST(value.count("maestro_group_duration_seconds,group=g") == 1U);
  BOOST_TEST(value["maestro_groups,status=failed"] == 1);
  BOOST_TEST(type["maestro_attempt_duration_seconds"] == "histogram");
  BOOST_TEST(type["maestro_launches"] == "counter");  // the parser drops _total
  BOOST_TEST(type["maestro_tasks"] == "gauge");
  // And promtool's lint, where Debian's prometheus package installs.
  if (std::filesystem::exists("/usr/bin/promtool")) {
    const auto lint =
        run_process({"/bin/sh", "-c", "/usr/bin/promtool check metrics < metrics.txt"}, dir.path());
    BOOST_TEST(lint.exit_code == 0, lint.out + lint.err);
  } else {
    BOOST_TEST_MESSAGE("promtool is not installed: its lint is not run");
  }
}

BOOST_AUTO_TEST_CASE(events_carry_a_real_run_s_changes_to_a_directory_that_did_not_exist) {
  config(R"("agent_defaults": {"command": )" + agent({"print", "title: {title}", "sleep", "300"}) +
         "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] <script>alert(1)</script> & more"}])");
  server s(*this, free_port());
  // Nothing is there, and serving creates nothing.
  BOOST_TEST(http_get(s.port, "/api/groups").body == "[]");
  BOOST_TEST(!std::filesystem::exists(dir.path() / "state"));
  sse_client events(s.port);
  const auto hello = events.next(5s);
  BOOST_TEST_REQUIRE(hello.has_value());
  BOOST_TEST(hello->event == "hello");
  auto engine = start({"execute", "g"});
  // Every event until the group completes.
  std::vector<sse_event> seen;
  const auto group = events.until(
      [&](const sse_event& e) {
        seen.push_back(e);
        return e.event == "group" && data_of(e).at("status") == "completed" &&
               data_of(e).at("completed_at").is_string();
      },
      20s);
  BOOST_TEST_REQUIRE(group.has_value(), events.raw());
  const auto find = [&](const std::function<bool(const sse_event&)>& match) {
    const auto it = std::find_if(seen.begin(), seen.end(), match);
    return it == seen.end() ? std::optional<sse_event>() : std::optional(*it);
  };
  const auto running = find([](const sse_event& e) {
    return is_task(e, "a", "running") && data_of(e).at("pid").is_int64();
  });
  BOOST_TEST_REQUIRE(running.has_value(), events.raw());
  const auto row = data_of(*running).as_object();
  BOOST_TEST(row.at("group_id") == "g");
  BOOST_TEST(row.at("agent") == "backend-architect");
  BOOST_TEST(row.at("attempt") == 1);
  BOOST_TEST(row.at("started_at").is_string());
  const auto log = find([](const sse_event& e) {
    return e.event == "log" &&
           data_of(e).at("text").as_string().find("title:") != json::string::npos;
  });
  BOOST_TEST_REQUIRE(log.has_value(), events.raw());
  BOOST_TEST(data_of(*log).at("text").as_string().find("<script>alert(1)</script> & more") !=
             json::string::npos);
  const auto done = find([](const sse_event& e) { return is_task(e, "a", "completed"); });
  BOOST_TEST_REQUIRE(done.has_value(), events.raw());
  BOOST_TEST(data_of(*done).at("exit_code") == 0);
  // The ids increase by one.
  for (std::size_t i = 1; i < seen.size(); ++i) {
    BOOST_TEST(std::stoull(seen[i].id) == std::stoull(seen[i - 1].id) + 1);
  }
  BOOST_TEST(engine.wait().exit_code == 0);
  // Ids increase; the title's markup is escaped in every event.
  BOOST_TEST(events.raw().find('<') == std::string::npos);
  BOOST_TEST(events.raw().find('&') == std::string::npos);
  BOOST_TEST(events.raw().find("\\u003cscript\\u003e") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_port_in_use_or_a_bad_address_is_exit_2) {
  config("");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  server s(*this, free_port());
  const auto busy = run({"serve", "--listen", "127.0.0.1:" + std::to_string(s.port)});
  BOOST_TEST(busy.exit_code == 2);
  BOOST_TEST(
      busy.err.find("cannot listen on 127.0.0.1:" + std::to_string(s.port)) != std::string::npos,
      busy.err);
  BOOST_TEST(busy.err.find('\n') == busy.err.size() - 1, busy.err);
  for (const std::string bad : {"nowhere", "127.0.0.1:99999", "300.1.1.1:80", ":80", "1.2.3.4:"}) {
    const auto r = run({"serve", "--listen", bad});
    BOOST_TEST(r.exit_code == 2, bad);
    BOOST_TEST(r.err.find('\n') == r.err.size() - 1, r.err);
  }
  // A flag that means nothing to serve.
  BOOST_TEST(run({"serve", "--json"}).exit_code == 2);
  // `execute --serve` on a port in use runs nothing.
  const auto execute = run({"execute", "g", "--serve=127.0.0.1:" + std::to_string(s.port)});
  BOOST_TEST(execute.exit_code == 2, execute.err);
  BOOST_TEST(!std::filesystem::exists(group_path("g") / "metadata.json"));
  // The configured address, checked the same way.
  config(R"("serve": {"listen": "127.0.0.1:)" + std::to_string(s.port) + "\"}");
  BOOST_TEST(run({"serve"}).exit_code == 2);
  BOOST_TEST(run({"execute", "g", "--serve"}).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(execute_serve_runs_and_shows) {
  config(R"("agent_defaults": {"command": )" + agent({"sleep", "1500"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const int port = free_port();
  auto engine = start({"execute", "g", "--serve=127.0.0.1:" + std::to_string(port)});
  BOOST_TEST_REQUIRE(eventually([&] { return answers(port); }));
  sse_client events(port);
  BOOST_TEST(events.until([](const sse_event& e) { return is_task(e, "a", "completed"); }, 20s)
                 .has_value(),
             events.raw());
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.find("serving ") != std::string::npos, r.err);
  BOOST_TEST(!answers(port));  // gone with the run
}

BOOST_AUTO_TEST_CASE(paths_reach_the_file_system_only_as_known_ids) {
  config(R"("agent_defaults": {"command": )" + agent({"print", "secret-free log"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"}])");
  BOOST_TEST_REQUIRE(run({"execute", "g"}).exit_code == 0);
  dir.write("outside.txt", "TOP-SECRET\n");
  // A log replaced by a symlink is not followed.
  std::filesystem::remove(group_path("g") / "logs" / "b.log");
  std::filesystem::create_symlink(dir.path() / "outside.txt", group_path("g") / "logs" / "b.log");
  server s(*this, free_port());
  for (const std::string target :
       {"/../outside.txt", "/api/groups/..", "/api/groups/%2e%2e", "/api/groups/%2E%2E/",
        "/api/groups/..%2F..%2Foutside.txt", "/api/groups/%2Fetc%2Fpasswd",
        "/api/groups/g/tasks/..%2F..%2F..%2F..%2Foutside.txt/log",
        "/api/groups/g/tasks/%2Fetc%2Fpasswd/log", "/api/groups/g/tasks/a%00/log",
        "/api/groups/g%00", "/api/groups/g/tasks/a/log%00", "/api/groups/g/tasks/../log",
        "/api/groups/g/tasks/b/log", "/api/groups/g/tasks/metadata.json/log", "//etc/passwd",
        "/etc/passwd", "/api/groups/g/tasks/a/log/..", "/api/groups/g/%ZZ"}) {
    const auto r = http_get(s.port, target);
    BOOST_TEST((r.status == 404 || r.status == 400), target << ": " << r.status);
    BOOST_TEST(r.body.find("TOP-SECRET") == std::string::npos, target);
    BOOST_TEST(r.body.find("root:") == std::string::npos, target);
    BOOST_TEST(r.body.find("group_name") == std::string::npos, target);
  }
  // Read-only, and only under this machine's names.
  const auto post = http_request(s.port,
                                 "POST /api/groups HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Content-Length: 2\r\n\r\n{}");
  BOOST_TEST(post.status == 405);
  const auto del = http_request(s.port, "DELETE /api/groups/g HTTP/1.1\r\nHost: 127.0.0.1");
  BOOST_TEST(del.status == 405);
  const auto rebound = http_request(s.port, "GET /api/groups HTTP/1.1\r\nHost: evil.example");
  BOOST_TEST(rebound.status == 421);
  BOOST_TEST(http_get(s.port, "/api/groups/g/tasks/a/log?tail=1").body == "secret-free log\n");
}

BOOST_AUTO_TEST_CASE(fifty_clients_are_served_beside_a_stalled_one) {
  // Each task writes 256 KiB of log: enough to fill a client's socket
  // buffers many times over.
  const std::string chunk(8192, 'x');
  std::vector<std::string> steps;
  for (int i = 0; i < 32; ++i) {
    steps.insert(steps.end(), {"print", chunk, "sleep", "5"});
  }
  config(R"("max_concurrent": 16, "agent_defaults": {"command": )" + agent(steps) + "}");
  std::string list = "[";
  for (int i = 0; i < 60; ++i) {
    list += std::string(i == 0 ? "" : ",") + R"({"id":"t)" + std::to_string(i) +
            R"(","title":"[P:Group-g] t"})";
  }
  tasks(list + "]");
  server s(*this, free_port());
  // The stalled client: asks for /events with a tiny receive buffer and
  // never reads.
  const int stalled = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int small = 1024;
  ::setsockopt(stalled, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<std::uint16_t>(s.port));
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_TEST_REQUIRE(::connect(stalled, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
  const std::string request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  BOOST_TEST_REQUIRE(::send(stalled, request.data(), request.size(), 0) ==
                     static_cast<ssize_t>(request.size()));
  std::vector<sse_client> clients;
  for (int i = 0; i < 50; ++i) {
    clients.emplace_back(s.port);
  }
  for (auto& c : clients) {
    BOOST_TEST_REQUIRE(c.next(10s).has_value());  // hello
  }
  auto engine = start({"execute", "g"});
  // Every reading client sees every task complete, while the stalled one
  // holds nothing back.
  std::vector<std::set<std::string>> completed(clients.size());
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    all = true;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      while (completed[i].size() < 60) {
        const auto e = clients[i].next(5ms);
        if (!e) {
          break;
        }
        if (e->event == "task" && data_of(*e).at("status") == "completed") {
          completed[i].insert(std::string(data_of(*e).at("task_id").as_string()));
        }
      }
      all = all && completed[i].size() == 60;
    }
  }
  BOOST_TEST(all);
  BOOST_TEST(engine.wait().exit_code == 0);
  // The server still answers, and the stalled client was let go.
  BOOST_TEST(http_get(s.port, "/api/groups").status == 200);
  ::close(stalled);
}

BOOST_AUTO_TEST_SUITE_END()
