// The real maestro-async binary running real children (fake_agent).

#include <fstream>
#include <map>
#include <signal.h>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using maestro::test::engine_fixture;
using maestro::test::eventually;
using maestro::test::process_gone;
namespace json = boost::json;

namespace {

// `n` tasks of group `group` as a JSON array; `extra(i)` adds members.
std::string task_list(int n, const std::string& group,
                      const std::function<std::string(int)>& extra = {}) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    out += (i == 0 ? "" : ",") + std::string("{\"id\":\"t") + std::to_string(i) +
           "\",\"title\":\"[P:Group-" + group + "] task " + std::to_string(i) + "\"" +
           (extra ? extra(i) : "") + "}";
  }
  return out + "]";
}

std::vector<std::string> agent_history(const json::object& result) {
  std::vector<std::string> out;
  for (const auto& a : result.at("agent_history").as_array()) {
    out.emplace_back(a.as_string());
  }
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(engine_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(global_limit_is_reached_and_never_exceeded) {
  config("\"agent_defaults\": {\"command\": " + agent({"stamp", "stamps", "sleep", "150"}) + "}");
  tasks(task_list(10, "g"));
  const auto r = run({"execute", "--group-id", "g", "-j", "3"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto all = maestro::test::intervals(lines("stamps"));
  BOOST_TEST(all.size() == 10U);
  BOOST_TEST(maestro::test::max_overlap(all) == 3);
  const auto md = metadata("g");
  BOOST_TEST(md.at("status") == "completed");
  BOOST_TEST(md.at("limits").at("max_concurrent").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(agent_and_group_limits_hold_together) {
  config(
      "\"max_concurrent\": 4, \"group_limits\": {\"g\": 3},"
      "\"agent_defaults\": {\"command\": " +
      agent({"stamp", "stamps", "sleep", "150"}) +
      "},"
      "\"agents\": {\"slow\": {\"max_concurrent\": 1, \"command\": " +
      agent({"stamp", "slow-stamps", "stamp", "stamps", "sleep", "150"}) + "}}");
  tasks(task_list(8, "g", [](int i) {
    return i % 2 == 0 ? ",\"metadata\":{\"subagent_type\":\"slow\"}" : "";
  }));
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(maestro::test::max_overlap(maestro::test::intervals(lines("stamps"))) == 3);
  BOOST_TEST(maestro::test::max_overlap(maestro::test::intervals(lines("slow-stamps"))) == 1);
}

BOOST_AUTO_TEST_CASE(queue_order_is_priority_then_input_order) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "order", "{id}"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a","priority":3},
            {"id":"b","title":"[P:Group-g] b","priority":1},
            {"id":"c","title":"[P:Group-g] c"},
            {"id":"d","title":"[P:Group-g] d","priority":1},
            {"id":"e","title":"[P:Group-g] e","priority":0}])");
  const auto r = run({"execute", "--group-id", "g", "-j", "1"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(lines("order") == (std::vector<std::string>{"e", "b", "d", "c", "a"}));
}

BOOST_AUTO_TEST_CASE(fallback_agent_takes_over) {
  config("\"agents\": {\"broken\": {\"command\": " + agent({"exit", "3"}) +
         "}, \"good\": {\"command\": " + agent({"exit", "0"}) + "}}");
  tasks(R"([{"id":"t","title":"[P:Group-g] t",
             "metadata":{"subagent_type":"broken","fallback_agents":"good"}}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto t = result("g", "t");
  BOOST_TEST(agent_history(t) == (std::vector<std::string>{"broken", "good"}));
  BOOST_TEST(t.at("attempts").as_int64() == 2);
  BOOST_TEST(t.at("subagent") == "good");
}

BOOST_AUTO_TEST_CASE(retries_run_the_chain_again) {
  config("\"retries\": 2, \"retry_backoff_s\": 0.05, \"agent_defaults\": {\"command\": " +
         agent({"attempt-exit", "1", "1", "attempt-exit", "2", "1", "exit", "0"}) + "}");
  tasks(task_list(1, "g"));
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto t = result("g", "t0");
  BOOST_TEST(t.at("attempts").as_int64() == 3);
  BOOST_TEST(t.at("status") == "completed");
  // Each attempt's output sits under its own header in the task's log.
  const auto log = maestro::test::read_file(std::string(t.at("log").as_string()));
  BOOST_TEST(log.find("attempt 1, agent backend-architect") != std::string::npos, log);
  BOOST_TEST(log.find("attempt 3, agent backend-architect") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(exhausted_retries_fail_the_task_and_the_group) {
  config("\"retries\": 1, \"retry_backoff_s\": 0.05, \"agent_defaults\": {\"command\": " +
         agent({"exit", "7"}) + "}");
  tasks(task_list(1, "g"));
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1);
  const auto md = metadata("g");
  BOOST_TEST(md.at("status") == "failed");
  BOOST_TEST(result("g", "t0").at("exit_code").as_int64() == 7);
  BOOST_TEST(result("g", "t0").at("attempts").as_int64() == 2);
  BOOST_TEST(!md.at("errors").as_array().empty());
}

BOOST_AUTO_TEST_CASE(tempfail_requeues_with_the_same_agent) {
  config("\"tempfail_cooldown_s\": 0.05, \"agents\": {\"limited\": {\"command\": " +
         agent({"attempt-exit", "1", "75", "attempt-exit", "2", "75", "exit", "0"}) +
         "}, \"other\": {\"command\": " + agent({"exit", "0"}) + "}}");
  tasks(R"([{"id":"t","title":"[P:Group-g] t",
             "metadata":{"subagent_type":"limited","fallback_agents":["other"]}}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(agent_history(result("g", "t")) ==
             (std::vector<std::string>{"limited", "limited", "limited"}));
}

BOOST_AUTO_TEST_CASE(timeout_kills_the_whole_process_group) {
  config("\"agent_defaults\": {\"timeout_s\": 0.5, \"command\": " +
         agent({"spawn-grandchild", "grandchild.pid", "pgid", "agent.pid", "ignore-term", "hang"}) +
         "}");
  tasks(task_list(1, "g"));
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(result("g", "t0").at("status") == "timed_out");
  const auto grandchild = std::stoi(lines("grandchild.pid").at(0));
  const auto agent_pid = std::stoi(lines("agent.pid").at(0));
  // The agent ignored SIGTERM: only the SIGKILL after the grace period ended it.
  BOOST_TEST(result("g", "t0").at("exit_code").as_int64() == 137);
  BOOST_TEST(eventually([&] { return process_gone(grandchild) && process_gone(agent_pid); }));
}

BOOST_AUTO_TEST_CASE(one_failure_leaves_the_others_running) {
  config("\"agent_defaults\": {\"command\": " + agent({"sleep", "300", "exit", "0"}) +
         "}, \"agents\": {\"bad\": {\"command\": " + agent({"exit", "2"}) + "}}");
  tasks(task_list(4, "g",
                  [](int i) { return i == 0 ? ",\"metadata\":{\"subagent_type\":\"bad\"}" : ""; }));
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1);
  const auto md = metadata("g");
  BOOST_TEST(md.at("status") == "failed");
  BOOST_TEST(result("g", "t0").at("status") == "failed");
  for (const auto* id : {"t1", "t2", "t3"}) {
    BOOST_TEST(result("g", id).at("status") == "completed", id);
  }
  BOOST_TEST(md.at("errors").as_array().size() == 1U);
  BOOST_TEST(std::string(md.at("errors").as_array()[0].as_string()).find("task t0 failed") == 0U);
}

BOOST_AUTO_TEST_CASE(missing_agent_binary_is_a_failed_attempt) {
  // The preflight passes (the fallback resolves); the first agent's binary
  // is missing: its attempt fails, the fallback takes over.
  config(R"("agents": {"ghost": {"command": ["./no-such-agent", "{id}"]},
                       "ok": {"command": ["true"]}}, "default_agent": "ghost")");
  tasks(R"([{"id":"t0","title":"[P:Group-g] t0","metadata":{"fallback_agents":"ok"}}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 0, r.err);
  const auto t = result("g", "t0");
  BOOST_TEST(t.at("status") == "completed");
  BOOST_TEST(agent_history(t) == (std::vector<std::string>{"ghost", "ok"}));
  const auto log = maestro::test::read_file(group_path("g") / "logs" / "t0.log");
  BOOST_TEST(
      log.find("cannot start ./no-such-agent: No such file or directory") != std::string::npos,
      log);
}

BOOST_AUTO_TEST_CASE(no_agent_that_can_start_is_refused_before_anything_launches) {
  // The default configuration's agent is not installed: one clear error,
  // not every task failing one by one.
  config(R"("agents": {"ghost": {"command": ["no-such-agent-on-path"]},
                       "ok": {"command": ["true"]}}, "default_agent": "ok")");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},
            {"id":"b","title":"[P:Group-g] b","metadata":{"subagent_type":"ghost"}}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("task b: no agent of its chain can be started: ghost "
                        "(`no-such-agent-on-path` not found); set agents.ghost.command") !=
                 std::string::npos,
             r.err);
  BOOST_TEST(!std::filesystem::exists(group_path("g")));
  BOOST_TEST(run({"run"}).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(children_get_no_descriptor_of_the_engine) {
  config("\"agent_defaults\": {\"command\": " + agent({"fds", "fds-{id}"}) + "}");
  tasks(task_list(3, "g"));
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  for (const auto* id : {"t0", "t1", "t2"}) {
    BOOST_TEST(lines(std::string("fds-") + id) == (std::vector<std::string>{"0 1 2"}), id);
  }
}

BOOST_AUTO_TEST_CASE(placeholders_environment_and_prompt_on_stdin) {
  config(R"("prompt_template": "P {agent} {id} [{skills}]",)"
         "\"agent_defaults\": {\"stdin\": \"prompt\", \"env\": {\"EXTRA\": \"x\"}, \"command\": " +
         agent({"write", "args", "{id}|{title}|{group}|{agent}|{skills}|{files}", "env", "env",
                "stdin", "stdin"}) +
         "}");
  tasks(R"([{"id":"t","title":"[P:Group-g] Edit","description":"touch src/a.cpp and b.txt",
             "metadata":{"subagent_type":"writer","applicable_skills":"s1, s2"}}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(lines("args") ==
             (std::vector<std::string>{"t|[P:Group-g] Edit|g|writer|s1,s2|src/a.cpp b.txt"}));
  const auto env = lines("env");
  for (const auto* expected : {"MAESTRO_AGENT=writer", "MAESTRO_ATTEMPT=1", "MAESTRO_GROUP_ID=g",
                               "MAESTRO_SKILLS=s1,s2", "MAESTRO_TASK_ID=t"}) {
    BOOST_TEST((std::find(env.begin(), env.end(), expected) != env.end()), expected);
  }
  BOOST_TEST(lines("stdin") == (std::vector<std::string>{"P writer t [s1,s2]"}));
}

BOOST_AUTO_TEST_CASE(sigint_ends_every_child_and_exits_130) {
  config("\"kill_grace_s\": 5, \"agent_defaults\": {\"command\": " +
         agent({"pgid", "pids", "spawn-grandchild", "grandchildren", "hang"}) + "}");
  tasks(task_list(3, "g"));
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("grandchildren").size() == 3U; }));
  // Mid-run, the state files parse and record each running child.
  BOOST_TEST_REQUIRE(eventually([&] { return metadata("g").at("status") == "running"; }));
  const auto running = metadata("g");
  for (const auto& r : running.at("results").as_array()) {
    BOOST_TEST(r.at("pid").as_int64() > 0);
  }
  BOOST_TEST(running.at("engine_pid").as_int64() == engine.pid());
  engine.signal(SIGINT);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 130, r.err);
  const auto md = metadata("g");
  BOOST_TEST(md.at("status") == "cancelled");
  for (const auto& line : lines("pids")) {
    BOOST_TEST(process_gone(std::stoi(line)), line);
  }
  for (const auto& line : lines("grandchildren")) {
    BOOST_TEST(eventually([&] { return process_gone(std::stoi(line)); }), line);
  }
  for (const auto& r2 : md.at("results").as_array()) {
    BOOST_TEST(r2.at("status") == "cancelled");
  }
}

BOOST_AUTO_TEST_CASE(sigterm_exits_143_and_second_sigint_kills_at_once) {
  // A grace period of an hour: only the second SIGINT's SIGKILL can end
  // this run in time (CTest's time limit fails it otherwise).
  config("\"kill_grace_s\": 3600, \"agent_defaults\": {\"command\": " +
         agent({"pgid", "pids", "ignore-term", "hang"}) + "}");
  tasks(task_list(2, "g"));
  {
    auto engine = start({"execute", "--group-id", "g"});
    BOOST_TEST_REQUIRE(eventually([&] { return lines("pids").size() == 2U; }));
    engine.signal(SIGINT);
    // The agents ignore SIGTERM: the second SIGINT must kill at once.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the first one act
    engine.signal(SIGINT);
    const auto r = engine.wait();
    BOOST_TEST(r.exit_code == 130, r.err);
    for (const auto& line : lines("pids")) {
      BOOST_TEST(process_gone(std::stoi(line)), line);
    }
  }
  config("\"agent_defaults\": {\"command\": " + agent({"write", "started", "x", "hang"}) + "}");
  auto engine = start({"execute", "--group-id", "g", "--force"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("started").size() == 2U; }));
  engine.signal(SIGTERM);
  BOOST_TEST(engine.wait().exit_code == 143);
  BOOST_TEST(metadata("g").at("status") == "cancelled");
}

BOOST_AUTO_TEST_CASE(lock_refuses_a_second_execute) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "started", "x", "hang"}) + "}");
  tasks(task_list(1, "g"));
  auto first = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("started").size() == 1U; }));
  const auto second = run({"execute", "--group-id", "g", "--force"});
  BOOST_TEST(second.exit_code == 2);
  BOOST_TEST(second.err.find("group g is already running") != std::string::npos, second.err);
  first.signal(SIGTERM);
  BOOST_TEST(first.wait().exit_code == 143);
}

BOOST_AUTO_TEST_CASE(completed_group_needs_force) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "runs", "{id}"}) + "}");
  tasks(task_list(1, "g"));
  BOOST_TEST(run({"execute", "--group-id", "g"}).exit_code == 0);
  const auto again = run({"execute", "--group-id", "g"});
  BOOST_TEST(again.exit_code == 2);
  BOOST_TEST(again.err.find("already completed; use --force") != std::string::npos, again.err);
  BOOST_TEST(run({"execute", "--group-id", "g", "--force"}).exit_code == 0);
  BOOST_TEST(lines("runs").size() == 2U);
}

BOOST_AUTO_TEST_CASE(dry_run_launches_and_writes_nothing) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "runs", "{id}"}) + "}");
  tasks(task_list(2, "g"));
  const auto r = run({"execute", "--group-id", "g", "--dry-run"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("would launch t0 with backend-architect") != std::string::npos, r.out);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "runs"));
  BOOST_TEST(!std::filesystem::exists(dir.path() / "state"));
}

BOOST_AUTO_TEST_CASE(tests_phase_decides_the_group) {
  tasks(task_list(1, "g"));
  // An explicit test command that fails: the group fails.
  config(R"("agent_defaults": {"command": ["true"]}, "test": {"command": ["sh", "-c", "exit 3"]})");
  auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(metadata("g").at("test_status") == "failed");
  BOOST_TEST(result("g", "t0").at("closed") == false);
  // "auto" in a directory with no suite: none, a warning, not a failure.
  config(R"("agent_defaults": {"command": ["true"]}, "test": {"command": "auto"})");
  r = run({"execute", "--group-id", "g", "--force"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(metadata("g").at("test_status") == "none");
  BOOST_TEST(r.err.find("warning: no test suite was run") != std::string::npos, r.err);
  BOOST_TEST(result("g", "t0").at("closed") == true);
  // ... unless tests are required.
  config(
      R"("agent_defaults": {"command": ["true"]}, "test": {"command": "none", "required": true})");
  r = run({"execute", "--group-id", "g", "--force"});
  BOOST_TEST(r.exit_code == 1);
  // A passing suite found by "auto".
  dir.write("Makefile", "test:\n\t@echo all good\n");
  config(R"("agent_defaults": {"command": ["true"]}, "test": {"command": "auto"})");
  r = run({"execute", "--group-id", "g", "--force"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(metadata("g").at("test_status") == "passed");
}

BOOST_AUTO_TEST_CASE(refresh_runs_before_parallel_groups) {
  config(R"("agent_defaults": {"command": ["true"]},
            "refresh": {"command": ["sh", "-c", "echo refreshed >> refreshes"]})");
  tasks(R"([{"id":"p","title":"[P:Group-g] p"},{"id":"s","title":"plain"}])");
  const auto r = run({"run"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(lines("refreshes").size() == 1U);  // not before the sequential stage
  BOOST_TEST(metadata("g").at("pre_group_refresh_completed") == true);
  BOOST_TEST(metadata("_sequential.s").at("pre_group_refresh_completed") == false);
}

BOOST_AUTO_TEST_CASE(run_orders_stages_and_keep_going_skips_dependents) {
  config("\"agent_defaults\": {\"command\": " + agent({"write", "order", "{id}"}) +
         "}, \"agents\": {\"bad\": {\"command\": " + agent({"exit", "1"}) + "}}");
  tasks(R"([{"id":"u","title":"[P:Group-ui] u","dependencies":["a"]},
            {"id":"a","title":"[P:Group-api] a","metadata":{"subagent_type":"bad"}},
            {"id":"o","title":"[P:Group-other] o"},
            {"id":"s","title":"last","dependencies":["o"]}])");
  auto r = run({"run"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(lines("order").empty());  // api failed first and the run stopped
  r = run({"run", "--keep-going"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(lines("order") == (std::vector<std::string>{"o", "s"}));
  BOOST_TEST(r.err.find("group ui: not run: depends on stage api") != std::string::npos, r.err);
  // Stages that completed are not run again.
  r = run({"run", "--keep-going"});
  BOOST_TEST(lines("order").size() == 2U);
}

BOOST_AUTO_TEST_CASE(blocked_task_leaves_the_group_incomplete) {
  config(R"("agent_defaults": {"command": ["true"]})");
  tasks(R"([{"id":"a","title":"[P:Group-g] a","dependencies":["outside"]},
            {"id":"b","title":"[P:Group-g] b"},
            {"id":"outside","title":"not in this group","status":"deferred"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 4, r.err);
  BOOST_TEST(metadata("g").at("status") == "incomplete");
  BOOST_TEST(result("g", "a").at("status") == "blocked");
  BOOST_TEST(result("g", "b").at("status") == "completed");
}

BOOST_AUTO_TEST_CASE(list_and_status_show_the_groups) {
  config(R"("agent_defaults": {"command": ["true"]})");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-h] b"}])");
  BOOST_TEST(run({"run"}).exit_code == 0);
  auto r = run({"list", "--json"});
  const auto groups = json::parse(r.out).as_array();
  BOOST_TEST(groups.size() == 2U);
  BOOST_TEST(groups[0].at("counts").at("completed").as_int64() == 1);
  r = run({"list", "--status", "failed"});
  BOOST_TEST(r.out.find("no groups") == 0U, r.out);
  r = run({"list"});
  BOOST_TEST(r.out.find("\ng ") != std::string::npos, r.out);
  r = run({"status", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.find("group g: completed") == 0U, r.out);
  BOOST_TEST(run({"status", "--group-id", "zzz"}).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(agent_without_command_is_refused_before_launching) {
  config("\"agent_defaults\": {\"command\": null}, \"agents\": {\"ok\": {\"command\": " +
         agent({"write", "runs", "{id}"}) + "}}, \"default_agent\": \"ok\"");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},
            {"id":"b","title":"[P:Group-g] b","metadata":{"subagent_type":"ghost"}}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("task b: no agent of its chain can be started: ghost (no command)") !=
                 std::string::npos,
             r.err);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "runs"));
}

BOOST_AUTO_TEST_CASE(refresh_and_test_children_get_each_maestro_name_once) {
  // The engine itself runs with MAESTRO_GROUP_ID and MAESTRO_STATE_DIR set
  // (say, started by an agent of another run): the children get ours, once.
  // `env` prints its environment as it is, duplicates included, to the log.
  config(R"("agent_defaults": {"command": ["true"]}, "refresh": {"command": ["env"]},
            "test": {"command": ["env"]})");
  tasks(task_list(1, "g"));
  const auto r = maestro::test::run_process(
      {"/usr/bin/env", "MAESTRO_GROUP_ID=outer", "MAESTRO_STATE_DIR=/outer", MAESTRO_ASYNC_BIN,
       "execute", "--group-id", "g", "--tasks-file", "tasks.json", "--no-progress"},
      dir.path());
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  for (const auto* log : {"_refresh.log", "_tests.log"}) {
    std::map<std::string, int> count;
    std::ifstream in(group_path("g") / "logs" / log);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("MAESTRO_")) {
        ++count[line.substr(0, line.find('='))];
        BOOST_TEST(line.find("outer") == std::string::npos, log << ": " << line);
      }
    }
    BOOST_TEST(count["MAESTRO_GROUP_ID"] == 1, log);
    BOOST_TEST(count["MAESTRO_STATE_DIR"] == 1, log);
  }
}

BOOST_AUTO_TEST_CASE(log_headers_escape_the_command_line) {
  // A title with a newline, given to the agent through {title}, cannot
  // write a header line of its own into the log.
  config(R"("agent_defaults": {"command": ["true", "{title}"]})");
  tasks(R"([{"id":"t","title":"[P:Group-g] x\n=== maestro-async: forged\u001b[2J"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto log = maestro::test::read_file(group_path("g") / "logs" / "t.log");
  BOOST_TEST(log.find("\n=== maestro-async: forged") == std::string::npos, log);
  BOOST_TEST(log.find('\x1b') == std::string::npos, log);
  BOOST_TEST(log.find("x\\n=== maestro-async: forged\\x1B[2J") != std::string::npos, log);
}

BOOST_AUTO_TEST_SUITE_END()
