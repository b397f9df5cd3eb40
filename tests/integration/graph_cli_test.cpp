// `run --schedule graph` on the real binary, with real children
// (fake_agent): groups that share the limits, a shipped backlog run as a
// whole graph, and SIGINT in the middle of it.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/task_file.hpp>
#include <maestro/core/plan.hpp>
#include <maestro/core/run_graph.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// `n` tasks of group `group`, ids `<prefix>0`..., each JSON text.
std::vector<std::string> group_tasks(int n, const std::string& group, const std::string& prefix,
                                     const std::string& extra = {}) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(R"({"id":")" + prefix + std::to_string(i) + R"(","title":"[P:Group-)" + group +
                  "] task " + std::to_string(i) + "\"" + extra + "}");
  }
  return out;
}

std::string as_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) {
    out += (out.size() == 1 ? "" : ",") + i;
  }
  return out + "]";
}

bool from(const interval& i, char prefix) {
  return !i.id.empty() && i.id.front() == prefix;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(graph_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(two_groups_share_the_global_limit) {
  config("\"agent_defaults\": {\"command\": " + agent({"stamp", "stamps", "sleep", "300"}) + "}");
  // a's 7 tasks come first (input order): three, three, then the last
  // beside two of b's.
  auto all = group_tasks(7, "a", "a");
  const auto b = group_tasks(5, "b", "b");
  all.insert(all.end(), b.begin(), b.end());
  tasks(as_array(all));
  const auto r = run({"run", "--schedule", "graph", "-j", "3", "--json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto spans = intervals(lines("stamps"));
  BOOST_TEST(spans.size() == 12U);
  // Together, never more than the global limit, and reaching it.
  BOOST_TEST(max_overlap(spans) == 3);
  // Both groups ran at once: b's first started before a's last ended.
  long long a_last_end = 0;
  long long b_first_start = std::numeric_limits<long long>::max();
  for (const auto& i : spans) {
    if (from(i, 'a')) {
      a_last_end = std::max(a_last_end, i.end);
    } else if (from(i, 'b')) {
      b_first_start = std::min(b_first_start, i.start);
    }
  }
  BOOST_TEST(b_first_start < a_last_end);
  BOOST_TEST(metadata("a").at("status") == "completed");
  BOOST_TEST(metadata("b").at("status") == "completed");
  const auto out = json::parse(r.out).as_object();
  BOOST_TEST(out.at("groups").as_array().size() == 2U);
  BOOST_TEST(out.at("exit_code").as_int64() == 0);
  // One count for the whole run: the last task to end is the 12th of 12.
  BOOST_TEST(r.err.find("[12/12] ") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_dependent_stage_waits_and_keep_going_skips_only_it) {
  // a fails; c depends on a and is skipped; b is independent and runs
  // beside a.
  config("\"agent_defaults\": {\"command\": " + agent({"stamp", "stamps", "sleep", "200"}) +
         "}, \"agents\": {\"bad\": {\"command\": " + agent({"stamp", "stamps", "exit", "1"}) +
         "}}");
  tasks(R"([{"id":"a0","title":"[P:Group-a] a0","metadata":{"subagent_type":"bad"}},
            {"id":"b0","title":"[P:Group-b] b0"},
            {"id":"c0","title":"[P:Group-c] c0","dependencies":["a0"]},
            {"id":"d0","title":"[P:Group-d] d0","dependencies":["b0"]}])");
  const auto r = run({"run", "--schedule", "graph", "-k", "--json"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto spans = intervals(lines("stamps"));
  std::vector<std::string> ran;
  for (const auto& i : spans) {
    ran.push_back(i.id);
  }
  std::sort(ran.begin(), ran.end());
  BOOST_TEST(ran == (std::vector<std::string>{"a0", "b0", "d0"}), boost::test_tools::per_element());
  BOOST_TEST(r.err.find("group c: not run: depends on stage a, which did not complete") !=
                 std::string::npos,
             r.err);
  BOOST_TEST(!fs::exists(group_path("c")));
  BOOST_TEST(metadata("d").at("status") == "completed");
}

BOOST_AUTO_TEST_CASE(a_shipped_backlog_finishes_within_about_one_and_a_half_the_bound) {
  // The dotfiles backlog, reopened, every task a 500 ms sleep at -j8: the
  // makespan (first start to last end, from the agents' own stamps) stays
  // within 1.5x the lower bound max(critical path, work / 8). A loose
  // check of the schedule's shape: the figure itself is bench_makespan's.
  constexpr double sleep_s = 0.5;
  std::ifstream in(fs::path(MAESTRO_BEADS_EXPORTS_DIR) / "dotfiles.jsonl");
  std::ofstream out(dir.path() / "tasks.json");
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      continue;
    }
    auto record = json::parse(line).as_object();
    record["status"] = "open";
    record.erase("closed_at");
    out << json::serialize(record) << "\n";
  }
  out.close();
  config("\"max_concurrent\": 8, \"agent_defaults\": {\"command\": " +
         agent({"stamp", "stamps", "sleep", "500"}) + "}");

  const auto document = maestro::load_task_file(dir.path() / "tasks.json");
  maestro::core::plan_options options;
  const auto plan = maestro::core::make_plan(document.tasks, options);
  const auto paths = maestro::core::critical_paths(plan);
  std::size_t runnable = 0;
  std::size_t longest = 0;
  for (std::size_t i = 0; i < plan.tasks.size(); ++i) {
    if (plan.tasks[i].blocked_by.empty()) {
      ++runnable;
      longest = std::max(longest, paths[i]);
    }
  }
  const double bound =
      std::max(static_cast<double>(longest), static_cast<double>(runnable) / 8) * sleep_s;

  const auto r = run({"run", "--schedule", "graph"});
  BOOST_TEST(r.exit_code == 4, r.err);  // tasks blocked by what is absent stay blocked
  const auto spans = intervals(lines("stamps"));
  BOOST_TEST_REQUIRE(!spans.empty());
  long long first = spans.front().start;
  long long last = 0;
  for (const auto& i : spans) {
    first = std::min(first, i.start);
    last = std::max(last, i.end);
  }
  const double makespan = static_cast<double>(last - first) / 1e9;
  BOOST_TEST_MESSAGE("makespan " << makespan << " s, bound " << bound << " s, " << spans.size()
                                 << " tasks ran");
  BOOST_TEST(makespan <= 1.5 * bound, "makespan " << makespan << " s, bound " << bound << " s");
  BOOST_TEST(max_overlap(spans) <= 8);
}

BOOST_AUTO_TEST_CASE(sigint_during_a_graph_run_leaves_no_child_and_every_running_group_cancelled) {
  config("\"kill_grace_s\": 5, \"agent_defaults\": {\"command\": " +
         agent({"pgid", "pids", "spawn-grandchild", "grandchildren", "hang"}) + "}");
  auto all = group_tasks(2, "a", "a");
  const auto b = group_tasks(2, "b", "b");
  all.insert(all.end(), b.begin(), b.end());
  all.push_back(R"({"id":"c0","title":"[P:Group-c] c0","dependencies":["a0"]})");
  tasks(as_array(all));
  auto engine = start({"run", "--schedule", "graph", "-j", "8"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("grandchildren").size() == 4U; }));
  BOOST_TEST_REQUIRE(eventually([&] {
    return metadata("a").at("status") == "running" && metadata("b").at("status") == "running";
  }));
  engine.signal(SIGINT);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 130, r.err);
  for (const auto* group : {"a", "b"}) {
    const auto md = metadata(group);
    BOOST_TEST(md.at("status") == "cancelled", group);
    for (const auto& result : md.at("results").as_array()) {
      BOOST_TEST(result.at("status") == "cancelled", group);
    }
  }
  BOOST_TEST(!fs::exists(group_path("c")));  // it waited for a: never started
  for (const auto& line : lines("pids")) {
    BOOST_TEST(process_gone(std::stoi(line)), line);
  }
  for (const auto& line : lines("grandchildren")) {
    BOOST_TEST(eventually([&] { return process_gone(std::stoi(line)); }), line);
  }
}

BOOST_AUTO_TEST_CASE(status_wait_and_resume_work_per_group_of_a_graph_run) {
  // a's tasks hang until a file exists; b's end at once. `wait` on b
  // returns while a still runs; SIGTERM stops the run; `resume` of a
  // finishes it once the file is there.
  config("\"agent_defaults\": {\"command\": " + agent({"pgid", "pids", "sleep", "100"}) +
         "}, \"agents\": {\"waiter\": {\"command\": [\"/bin/sh\", \"-c\", "
         "\"while [ ! -e go ]; do sleep 0.05; done\"]}}");
  auto all = group_tasks(2, "a", "a", R"(,"metadata":{"subagent_type":"waiter"})");
  const auto b = group_tasks(2, "b", "b");
  all.insert(all.end(), b.begin(), b.end());
  tasks(as_array(all));
  auto engine = start({"run", "--schedule", "graph", "-j", "8"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("pids").size() == 2U; }));  // b's started
  const auto waited = run({"wait", "--group-id", "b", "--timeout", "60"});
  BOOST_TEST(waited.exit_code == 0, waited.err);
  BOOST_TEST(metadata("b").at("status") == "completed");
  const auto shown = run({"status", "--group-id", "a", "--json"});
  BOOST_TEST(shown.exit_code == 0, shown.err);
  BOOST_TEST(json::parse(shown.out).at("status") == "running", shown.out);
  engine.signal(SIGTERM);
  BOOST_TEST(engine.wait().exit_code == 143);
  BOOST_TEST(metadata("a").at("status") == "cancelled");
  BOOST_TEST(metadata("b").at("status") == "completed");
  dir.write("go", "");
  const auto resumed = run({"resume", "--group-id", "a"});
  BOOST_TEST(resumed.exit_code == 0, resumed.err);
  BOOST_TEST(metadata("a").at("status") == "completed");
}

BOOST_AUTO_TEST_CASE(cancel_of_one_group_stops_the_whole_graph_run) {
  config("\"agent_defaults\": {\"command\": " + agent({"pgid", "pids", "hang"}) + "}");
  auto all = group_tasks(2, "a", "a");
  const auto b = group_tasks(2, "b", "b");
  all.insert(all.end(), b.begin(), b.end());
  tasks(as_array(all));
  auto engine = start({"run", "--schedule", "graph", "-j", "8"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("pids").size() == 4U; }));
  const auto cancelled = run({"cancel", "--group-id", "b"});
  BOOST_TEST(cancelled.exit_code == 0, cancelled.err);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 143, r.err);
  BOOST_TEST(metadata("a").at("status") == "cancelled");
  BOOST_TEST(metadata("b").at("status") == "cancelled");
  for (const auto& line : lines("pids")) {
    BOOST_TEST(process_gone(std::stoi(line)), line);
  }
}

BOOST_AUTO_TEST_SUITE_END()
