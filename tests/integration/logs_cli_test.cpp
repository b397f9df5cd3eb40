// `maestro-async logs TASK [--group-id G] [-f]` on the real binary: a
// finished task's log, the group found from the state, unknown ids, and
// -f following a growing log until the task ends, until SIGINT, and until
// its engine dies.

#include <cstdlib>
#include <fstream>
#include <signal.h>
#include <string>

#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;

namespace {

// Whether process `pid` blocks SIGINT: `logs -f` blocks it for its
// signalfd, so a SIGINT from then on is read, not fatal.
bool blocks_sigint(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("SigBlk:")) {
      const auto mask = std::strtoull(line.substr(7).c_str(), nullptr, 16);
      return (mask & (1ULL << (SIGINT - 1))) != 0;
    }
  }
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(logs_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(a_task_s_log_is_printed_and_its_group_found_from_the_state) {
  config(R"("agent_defaults": {"command": )" + agent({"print", "hello from {id}"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-h] b"}])");
  BOOST_TEST_REQUIRE(run({"run"}).exit_code == 0);
  const auto r = run({"logs", "b"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("=== maestro-async: attempt 1") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("hello from b\n") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("hello from a") == std::string::npos, r.out);
  BOOST_TEST(run({"logs", "a", "--group-id", "g"}).out.find("hello from a\n") != std::string::npos);
  // Unknown task, task not in the group, unknown group: exit 2, one line.
  for (const auto& args : {std::vector<std::string>{"logs", "zz"},
                           std::vector<std::string>{"logs", "a", "--group-id", "h"},
                           std::vector<std::string>{"logs", "a", "--group-id", "nope"}}) {
    const auto bad = run(args);
    BOOST_TEST(bad.exit_code == 2, args[1]);
    BOOST_TEST(bad.err.find('\n') == bad.err.size() - 1, bad.err);
  }
}

BOOST_AUTO_TEST_CASE(follow_prints_what_comes_and_returns_when_the_task_ends) {
  config(R"("agent_defaults": {"command": )" +
         agent({"print", "first", "put", "first-done", "x", "sleep", "600", "print", "second",
                "sleep", "300", "exit", "0"}) +
         "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "g"});
  BOOST_TEST_REQUIRE(
      eventually([&] { return std::filesystem::exists(dir.path() / "first-done"); }));
  const auto r = run({"logs", "a", "-f"});  // returns only once the task ended
  BOOST_TEST(r.exit_code == 0, r.err);
  const auto first = r.out.find("first\n");
  const auto second = r.out.find("second\n");
  BOOST_TEST(first != std::string::npos, r.out);
  BOOST_TEST(second != std::string::npos, r.out);
  BOOST_TEST(first < second);
  BOOST_TEST(result("g", "a").at("status") == "completed");
  BOOST_TEST(engine.wait().exit_code == 0);
}

BOOST_AUTO_TEST_CASE(follow_ends_on_sigint_and_when_the_engine_dies) {
  config(R"("agent_defaults": {"command": )" +
         agent({"pgid", (dir.path() / "pids").string(), "print", "waiting", "hang"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "g"});
  BOOST_TEST_REQUIRE(eventually([&] {
    return read_file(group_path("g") / "logs" / "a.log").find("waiting") != std::string::npos;
  }));
  auto follower = start({"logs", "a", "-f"});
  BOOST_TEST_REQUIRE(eventually([&] { return blocks_sigint(follower.pid()); }));
  follower.signal(SIGINT);
  const auto stopped = follower.wait();
  BOOST_TEST(stopped.exit_code == 0, stopped.err);
  BOOST_TEST(stopped.out.find("waiting\n") != std::string::npos, stopped.out);
  // A follower of a task whose engine dies returns too.
  auto orphan = start({"logs", "a", "-f"});
  BOOST_TEST_REQUIRE(eventually([&] { return blocks_sigint(orphan.pid()); }));
  engine.signal(SIGKILL);
  (void)engine.wait();
  BOOST_TEST(orphan.wait().exit_code == 0);
  // The agent the killed engine left behind.
  for (const auto& line : lines("pids")) {
    ::kill(-std::stoi(line.substr(line.find(' ') + 1)), SIGKILL);
  }
}

BOOST_AUTO_TEST_SUITE_END()
