#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/input_error.hpp>
#include <maestro/core/plan.hpp>

using namespace maestro::core;

namespace {

task make(std::string id, std::string title, std::vector<dependency> deps = {},
          std::string status = "open") {
  task t;
  t.id = std::move(id);
  t.title = std::move(title);
  t.dependencies = std::move(deps);
  t.status = std::move(status);
  return t;
}

std::vector<std::string> stage_ids(const plan& p) {
  std::vector<std::string> ids;
  for (const auto& s : p.stages) {
    ids.push_back(s.id);
  }
  return ids;
}

std::vector<std::string> group_ids(const std::vector<task>& tasks, const plan& p,
                                   std::string_view group) {
  for (const auto& g : p.groups) {
    if (g.name == group) {
      std::vector<std::string> ids;
      for (const auto i : g.tasks) {
        ids.push_back(tasks[p.tasks[i].index].id);
      }
      return ids;
    }
  }
  return {};
}

std::string error_of(const std::vector<task>& tasks, const plan_options& options = {}) {
  try {
    (void)make_plan(tasks, options);
  } catch (const input_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plan_tests)

BOOST_AUTO_TEST_CASE(groups_in_order_of_first_appearance) {
  const std::vector<task> tasks{make("a1", "[P:Group-api] one"),
                                make("s1", "plain"),
                                make("u1", "[P:Group-ui] one"),
                                make("a2", "two", {}, "in_progress"),
                                make("c1", "[P:Group-api] done", {}, "closed"),
                                make("a3", "[P:Group-api] three", {}, "blocked")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST_REQUIRE(p.groups.size() == 3U);
  BOOST_TEST(p.groups[0].name == "api");
  BOOST_TEST(p.groups[1].name == "_sequential");
  BOOST_TEST(p.groups[2].name == "ui");
  BOOST_TEST(group_ids(tasks, p, "api") == (std::vector<std::string>{"a1", "a3"}));
  BOOST_TEST(group_ids(tasks, p, "_sequential") == (std::vector<std::string>{"s1", "a2"}));
  BOOST_TEST_REQUIRE(p.skipped.size() == 1U);
  BOOST_TEST(tasks[p.skipped[0].index].id == "c1");
  // Each sequential task is a stage of its own.
  BOOST_TEST(stage_ids(p) ==
             (std::vector<std::string>{"api", "_sequential.s1", "ui", "_sequential.a2"}));
  BOOST_TEST((p.find_stage("_sequential.s1")->kind == stage_kind::sequential));
  BOOST_TEST((p.find_stage("api")->kind == stage_kind::parallel));
}

BOOST_AUTO_TEST_CASE(stage_waits_for_the_stage_it_depends_on) {
  // ui appears first but depends on api; db depends on nothing.
  const std::vector<task> tasks{make("u1", "[P:Group-ui] a", {{"a1", "blocks"}}),
                                make("d1", "[P:Group-db] b"), make("a1", "[P:Group-api] c")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(stage_ids(p) == (std::vector<std::string>{"db", "api", "ui"}));
  BOOST_TEST(p.find_stage("ui")->after == (std::vector<std::string>{"api"}));
  BOOST_TEST(p.tasks[0].waits_for_ids() == (std::vector<std::string>{"a1"}));
  BOOST_TEST(p.blocked_count() == 0U);
}

BOOST_AUTO_TEST_CASE(order_is_stable_when_nothing_depends) {
  const std::vector<task> tasks{make("x", "[P:Group-c] x"), make("y", "[P:Group-a] y"),
                                make("z", "[P:Group-b] z")};
  BOOST_TEST(stage_ids(make_plan(tasks, {})) == (std::vector<std::string>{"c", "a", "b"}));
}

BOOST_AUTO_TEST_CASE(dependency_inside_a_group_is_waited_for_not_blocked) {
  const std::vector<task> tasks{make("a1", "[P:Group-g] a", {{"a2", "waits-for"}}),
                                make("a2", "[P:Group-g] b")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(p.tasks[0].waits_for_ids() == (std::vector<std::string>{"a2"}));
  BOOST_TEST(p.stages.size() == 1U);
}

BOOST_AUTO_TEST_CASE(outside_blockers_and_satisfied_ones) {
  const std::vector<task> tasks{
      make("t1", "[P:Group-g] a", {{"gone", "blocks"}}),
      make("t2", "[P:Group-g] b", {{"old", "blocks"}, {"dead", "conditional-blocks"}}),
      make("t3", "[P:Group-g] c", {{"later", "blocks"}}),
      make("t4", "[P:Group-g] d", {{"parent", "parent-child"}, {"later", "related"}}),
      make("t5", "[P:Group-g] e", {{"done-in-state", "blocks"}}),
      make("old", "x", {}, "closed"),
      make("dead", "x", {}, "tombstone"),
      make("later", "x", {}, "deferred")};
  plan_options options;
  options.completed_elsewhere = {"done-in-state"};
  const auto p = make_plan(tasks, options);
  BOOST_TEST_REQUIRE(p.tasks.size() == 5U);
  BOOST_TEST_REQUIRE(p.tasks[0].blocked_by.size() == 1U);
  BOOST_TEST(p.tasks[0].blocked_by[0].id == "gone");
  BOOST_TEST(p.tasks[0].blocked_by[0].absent());
  BOOST_TEST(p.tasks[1].blocked_by.empty());
  BOOST_TEST_REQUIRE(p.tasks[2].blocked_by.size() == 1U);
  BOOST_TEST(p.tasks[2].blocked_by[0].status == "deferred");
  BOOST_TEST(p.tasks[3].blocked_by.empty());
  BOOST_TEST(p.tasks[4].blocked_by.empty());
  BOOST_TEST(p.blocked_count() == 2U);
}

BOOST_AUTO_TEST_CASE(task_cycle_is_named) {
  const std::vector<task> tasks{make("a", "[P:Group-g] a", {{"b", "blocks"}}),
                                make("b", "[P:Group-g] b", {{"c", "blocks"}}),
                                make("c", "[P:Group-g] c", {{"a", "blocks"}}), make("d", "free")};
  const auto message = error_of(tasks);
  BOOST_TEST(message.find("dependency cycle: a -> b -> c -> a") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(self_dependency_is_a_cycle) {
  const auto message = error_of({make("a", "x", {{"a", "blocks"}})});
  BOOST_TEST(message.find("dependency cycle: a -> a") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(cycle_through_closed_task_is_not_a_cycle) {
  // c is closed, so it is not run and its edge back to a does not count.
  const std::vector<task> tasks{make("a", "x", {{"c", "blocks"}}),
                                make("c", "y", {{"a", "blocks"}}, "closed")};
  BOOST_CHECK_NO_THROW((void)make_plan(tasks, {}));
}

BOOST_AUTO_TEST_CASE(non_gating_cycle_is_fine) {
  const std::vector<task> tasks{make("a", "x", {{"b", "parent-child"}}),
                                make("b", "y", {{"a", "related"}})};
  BOOST_CHECK_NO_THROW((void)make_plan(tasks, {}));
}

BOOST_AUTO_TEST_CASE(stage_cycle_is_named) {
  // No task cycle, but api needs ui and ui needs api.
  const std::vector<task> tasks{
      make("a1", "[P:Group-api] a", {{"u1", "blocks"}}), make("u1", "[P:Group-ui] b"),
      make("u2", "[P:Group-ui] c", {{"a2", "blocks"}}), make("a2", "[P:Group-api] d")};
  const auto message = error_of(tasks);
  BOOST_TEST(message.find("cycle between stages: api -> ui -> api") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(ids_in_messages_are_escaped) {
  const std::string evil = "x\x1b[31m\ny";
  const auto from = [](std::string origin) {
    plan_options options;
    options.origin = std::move(origin);
    return options;
  };
  const auto no_controls = [](const std::string& m) {
    return m.find('\x1b') == std::string::npos && m.find('\n') == std::string::npos;
  };
  // A task cycle.
  auto message = error_of({make(evil, "t", {{"b", "blocks"}}), make("b", "u", {{evil, "blocks"}})},
                          from("t.jsonl"));
  BOOST_TEST(
      message.find("dependency cycle: x\\x1B[31m\\ny -> b -> x\\x1B[31m\\ny") != std::string::npos,
      message);
  BOOST_TEST(no_controls(message), message);
  // A cycle between stages through a sequential stage named after the id.
  message = error_of({make("a1", "[P:Group-api] a", {{evil, "blocks"}}),
                      make(evil, "plain", {{"a2", "blocks"}}), make("a2", "[P:Group-api] d")});
  BOOST_TEST(message.find("cycle between stages: api -> _sequential.x\\x1B[31m\\ny -> api") !=
                 std::string::npos,
             message);
  BOOST_TEST(no_controls(message), message);
  // The id of the location (a duplicate id) and the file name.
  message = error_of({make(evil, "t"), make(evil, "u")}, from("t\r.jsonl"));
  BOOST_TEST(message == "t\\r.jsonl: task x\\x1B[31m\\ny: duplicate id", message);
}

BOOST_AUTO_TEST_CASE(duplicate_and_missing_ids) {
  auto first = make("a", "x");
  first.line = 3;
  auto second = make("a", "y");
  second.line = 7;
  plan_options options;
  options.origin = "tasks.jsonl";
  const auto message = error_of({first, second}, options);
  BOOST_TEST(message == "tasks.jsonl:7: task a: duplicate id (first seen on line 3)");
  BOOST_TEST(error_of({make("", "x")}).find("missing id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_markers_are_an_error) {
  auto t = make("t", "[P:Group-a] x");
  t.description = "[P:Group-b]";
  const auto message = error_of({t});
  BOOST_TEST(message.find("task t: two different group markers") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(skipped_tasks_may_hold_anything) {
  // Conflicting markers in a closed task are not the run's concern.
  auto t = make("old", "[P:Group-a] [P:Group-b]", {}, "closed");
  const auto p = make_plan({t}, {});
  BOOST_TEST(p.tasks.empty());
  BOOST_TEST(p.skipped.size() == 1U);
}

BOOST_AUTO_TEST_CASE(long_chain_does_not_overflow_the_stack) {
  std::vector<task> tasks;
  constexpr int n = 100000;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(make("t" + std::to_string(i), "x"));
    if (i > 0) {
      tasks.back().dependencies.push_back({"t" + std::to_string(i - 1), "blocks"});
    }
  }
  const auto p = make_plan(tasks, {});
  BOOST_TEST(p.stages.size() == static_cast<std::size_t>(n));
  BOOST_TEST(p.stages.back().id == "_sequential.t99999");
  tasks.front().dependencies.push_back({"t99999", "blocks"});
  BOOST_TEST(error_of(tasks).find("dependency cycle: t0 -> ") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
