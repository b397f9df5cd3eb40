// wait, cancel, resume and the watched task source, on the real binary.

#include <fstream>
#include <signal.h>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using maestro::test::engine_fixture;
using maestro::test::eventually;
using maestro::test::process_gone;

namespace {

// Context switches of every thread of `pid`, from /proc.
long long context_switches(int pid) {
  long long total = 0;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& thread : std::filesystem::directory_iterator(tasks)) {
    std::ifstream status(thread.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 ||
          line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        total += std::stoll(line.substr(line.find(':') + 1));
      }
    }
  }
  return total;
}

// Replaces the tasks file atomically, as beads does (write, then rename).
void replace_tasks(const engine_fixture& f, const std::string& text) {
  f.dir.write("tasks.json.tmp", text);
  std::filesystem::rename(f.dir.path() / "tasks.json.tmp", f.dir.path() / "tasks.json");
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(watch_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(wait_returns_when_the_group_ends) {
  config("\"agent_defaults\": {\"command\": " + agent({"sleep", "400"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "--group-id", "g"});
  // metadata.json, not the lock: the lock is taken before the first state
  // is written, and `wait` without --timeout on a group with no state yet
  // is "unknown group".
  BOOST_TEST_REQUIRE(
      eventually([&] { return std::filesystem::exists(group_path("g") / "metadata.json"); }));
  const auto waited = run({"wait", "--group-id", "g"});
  BOOST_TEST(waited.exit_code == 0, waited.err);
  BOOST_TEST(waited.out == "group g: completed\n");
  BOOST_TEST(engine.wait().exit_code == 0);
}

BOOST_AUTO_TEST_CASE(wait_for_a_group_that_does_not_exist_yet) {
  config("\"agent_defaults\": {\"command\": " + agent({"exit", "1"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-late] a"}])");
  auto waiter = start({"wait", "--group-id", "late", "--timeout", "60"});
  BOOST_TEST_REQUIRE(eventually(
      [&] { return std::filesystem::exists(dir.path() / "state" / "parallel_groups"); }));
  // wait made parallel_groups/ and nothing else.
  BOOST_TEST(std::filesystem::is_empty(dir.path() / "state" / "parallel_groups"));
  BOOST_TEST(run({"execute", "--group-id", "late"}).exit_code == 1);
  const auto r = waiter.wait();
  BOOST_TEST(r.exit_code == 1, r.err);  // the group failed
  BOOST_TEST(r.out == "group late: failed\n");
}

BOOST_AUTO_TEST_CASE(wait_times_out_with_3) {
  config("");
  const auto r = run({"wait", "--group-id", "never", "--timeout", "0.2"});
  BOOST_TEST(r.exit_code == 3);
}

BOOST_AUTO_TEST_CASE(wait_and_execute_do_not_wake_while_children_sleep) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "started", "x", "sleep", "4000"}) +
         "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("started").size() == 2U; }));
  auto waiter = start({"wait", "--group-id", "g"});
  // Let both settle (the engine's last state write is 100 ms after the
  // launches), then count context switches over a quiet second and a half.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto engine_before = context_switches(engine.pid());
  const auto waiter_before = context_switches(waiter.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  BOOST_TEST(context_switches(engine.pid()) == engine_before);
  BOOST_TEST(context_switches(waiter.pid()) == waiter_before);
  engine.signal(SIGTERM);
  BOOST_TEST(engine.wait().exit_code == 143);
  const auto r = waiter.wait();
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out == "group g: cancelled\n");
}

BOOST_AUTO_TEST_CASE(wait_reports_an_engine_killed_outright_as_interrupted) {
  config("\"agent_defaults\": {\"command\": " + agent({"pgid", "pids", "hang"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("pids").size() == 1U; }));
  auto waiter = start({"wait", "--group-id", "g"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  engine.signal(SIGKILL);
  (void)engine.wait();
  const auto r = waiter.wait();
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out == "group g: interrupted\n");
  BOOST_TEST(run({"status", "--group-id", "g"}).out.find("group g: interrupted") == 0U);
  ::kill(-std::stoi(lines("pids").at(0).substr(lines("pids").at(0).find(' ') + 1)), SIGKILL);
}

BOOST_AUTO_TEST_CASE(blocked_task_launches_when_its_blocker_closes_in_the_file) {
  config("\"blocked_wait_s\": 60, \"agent_defaults\": {\"command\": " +
         agent({"write", "ran", "{id}"}) + "}");
  const std::string open_blocker =
      R"([{"id":"a","title":"[P:Group-g] a","dependencies":["x"]},
          {"id":"b","title":"[P:Group-g] b"},
          {"id":"x","title":"elsewhere","status":"in_progress"}])";
  tasks(open_blocker);
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("ran") == std::vector<std::string>{"b"}; }));
  BOOST_TEST_REQUIRE(eventually([&] { return result("g", "a").at("status") == "blocked"; }));
  std::string closed = open_blocker;
  closed.replace(closed.find("in_progress"), 11, "closed");
  replace_tasks(*this, closed);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(lines("ran") == (std::vector<std::string>{"b", "a"}));
  BOOST_TEST(metadata("g").at("status") == "completed");
}

BOOST_AUTO_TEST_CASE(an_overflowed_event_queue_still_releases_the_blocked_task) {
  config("\"blocked_wait_s\": 60, \"agent_defaults\": {\"command\": " +
         agent({"write", "ran", "{id}"}) + "}");
  const std::string open_blocker =
      R"([{"id":"a","title":"[P:Group-g] a","dependencies":["x"]},{"id":"x","title":"x"}])";
  tasks(open_blocker);
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return result("g", "a").at("status") == "blocked"; }));
  // Stop the engine, make more events than the kernel queues
  // (fs.inotify.max_queued_events), close the blocker, and let it go on:
  // the only event it gets for all of it is IN_Q_OVERFLOW.
  engine.signal(SIGSTOP);
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  int limit = 16384;
  limit_file >> limit;
  for (int i = 0; i <= limit / 2 + 10; ++i) {
    const auto path = dir.path() / ("noise-" + std::to_string(i));
    std::ofstream(path) << "x";  // two events: create, close_write
  }
  std::string closed = open_blocker;
  closed.replace(closed.find(R"("title":"x"})"), 12, R"("title":"x","status":"closed"})");
  replace_tasks(*this, closed);
  engine.signal(SIGCONT);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(lines("ran") == (std::vector<std::string>{"a"}));
}

BOOST_AUTO_TEST_CASE(group_timeout_bounds_the_whole_group) {
  config("\"group_timeout_s\": 0.5, \"agent_defaults\": {\"command\": " +
         agent({"pgid", "pids", "hang"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"}])");
  const auto r = run({"execute", "--group-id", "g", "-j", "1"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(result("g", "a").at("status") == "timed_out");
  BOOST_TEST(result("g", "b").at("status") == "skipped");
  BOOST_TEST(std::string(metadata("g").at("errors").as_array().at(0).as_string())
                 .find("group timed out") == 0U);
  for (const auto& line : lines("pids")) {
    BOOST_TEST(process_gone(std::stoi(line)), line);
  }
}

BOOST_AUTO_TEST_CASE(blocked_wait_ends_incomplete) {
  config("\"blocked_wait_s\": 0.3, \"agent_defaults\": {\"command\": [\"true\"]}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a","dependencies":["x"]},
            {"id":"x","title":"elsewhere"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 4, r.err);
  BOOST_TEST(result("g", "a").at("status") == "blocked");
}

BOOST_AUTO_TEST_CASE(queued_task_closed_in_the_file_is_skipped) {
  config("\"agent_defaults\": {\"command\": " +
         agent({"write", "ran", "{id}", "write", "started", "x", "sleep", "600"}) + "}");
  const std::string text = R"([{"id":"first","title":"[P:Group-g] first","priority":0},
                               {"id":"second","title":"[P:Group-g] second","priority":1}])";
  tasks(text);
  auto engine = start({"execute", "--group-id", "g", "-j", "1"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("started").size() == 1U; }));
  std::string closed = text;
  closed.replace(closed.find("\"priority\":1"), 12, "\"priority\":1,\"status\":\"closed\"");
  replace_tasks(*this, closed);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(lines("ran") == (std::vector<std::string>{"first"}));
  BOOST_TEST(result("g", "second").at("status") == "skipped");
}

BOOST_AUTO_TEST_CASE(cancel_stops_a_running_group) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "started", "x", "hang"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("started").size() == 1U; }));
  const auto r = run({"cancel", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == "group g: cancelled\n");
  BOOST_TEST(engine.wait().exit_code == 143);
  BOOST_TEST(run({"cancel", "--group-id", "g"}).exit_code == 2);  // not running any more
  BOOST_TEST(run({"cancel", "--group-id", "nope"}).exit_code == 2);
}

// list, status, wait and cancel work on the state alone: a maestro.json
// broken while the group runs only gives a warning. The group is given as
// the positional argument.
BOOST_AUTO_TEST_CASE(cancel_list_and_status_with_a_broken_maestro_json) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "started", "x", "hang"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("started").size() == 1U; }));
  dir.write("maestro.json", R"({"state_dir": "state", "no_such_key": true})");
  const std::string warning = "maestro-async: warning: ignoring maestro.json: ";
  auto r = run({"list", "--state-dir", "state"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.rfind(warning, 0) == 0U, r.err);
  BOOST_TEST(r.out.find("\ng ") != std::string::npos, r.out);
  r = run({"status", "g", "--state-dir", "state"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("group g: ") == 0U, r.out);
  r = run({"cancel", "g", "--state-dir", "state"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.rfind(warning, 0) == 0U, r.err);
  BOOST_TEST(r.out == "group g: cancelled\n");
  BOOST_TEST(engine.wait().exit_code == 143);
  r = run({"wait", "--group-id", "g", "--state-dir", "state"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(r.out == "group g: cancelled\n");
}

BOOST_AUTO_TEST_CASE(resume_after_sigkill_ends_leftovers_and_runs_only_what_did_not_complete) {
  // t0 and t1 finish at once; t2 and t3 hang until they are killed, then
  // finish at once on their next attempt.
  config("\"kill_grace_s\": 0.5, \"agent_defaults\": {\"command\": " +
         agent({"write", "runs", "{id}", "pgid", "pgids", "attempt-exit", "2", "0", "hang"}) +
         "}, \"agents\": {\"quick\": {\"command\": " + agent({"write", "runs", "{id}"}) + "}}");
  tasks(R"([{"id":"t0","title":"[P:Group-g] t0","metadata":{"subagent_type":"quick"}},
            {"id":"t1","title":"[P:Group-g] t1","metadata":{"subagent_type":"quick"}},
            {"id":"t2","title":"[P:Group-g] t2"},
            {"id":"t3","title":"[P:Group-g] t3"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] {
    const auto md = metadata("g");
    return result("g", "t0").at("status") == "completed" &&
           result("g", "t1").at("status") == "completed" && lines("pgids").size() == 2U &&
           result("g", "t2").at("pgid").is_int64() && result("g", "t3").at("pgid").is_int64();
  }));
  engine.signal(SIGKILL);
  (void)engine.wait();
  // Every state file still parses, and the group shows as interrupted.
  BOOST_TEST(metadata("g").at("status") == "running");
  for (const auto& line : lines("state/parallel_groups/g/events.jsonl")) {
    BOOST_CHECK_NO_THROW(boost::json::parse(line));
  }
  BOOST_TEST(run({"list"}).out.find("interrupted") != std::string::npos);
  std::vector<int> leftovers;
  for (const auto& line : lines("pgids")) {
    leftovers.push_back(std::stoi(line.substr(0, line.find(' '))));
  }
  for (const int pid : leftovers) {
    BOOST_TEST(!process_gone(pid));  // the agents outlived the engine
  }

  const auto r = run({"resume", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.find("ending the leftover processes of task t2") != std::string::npos, r.err);
  for (const int pid : leftovers) {
    BOOST_TEST(process_gone(pid), pid);
  }
  auto runs = lines("runs");
  std::sort(runs.begin(), runs.end());
  BOOST_TEST(runs == (std::vector<std::string>{"t0", "t1", "t2", "t2", "t3", "t3"}));
  const auto t2 = result("g", "t2");
  BOOST_TEST(t2.at("attempts").as_int64() == 2);
  BOOST_TEST(t2.at("agent_history").as_array().size() == 2U);
  BOOST_TEST(result("g", "t0").at("attempts").as_int64() == 1);
  BOOST_TEST(metadata("g").at("status") == "completed");
  // Nothing left to resume.
  const auto again = run({"resume", "--group-id", "g"});
  BOOST_TEST(again.exit_code == 0);
  BOOST_TEST(lines("runs").size() == 6U);
}

BOOST_AUTO_TEST_SUITE_END()
