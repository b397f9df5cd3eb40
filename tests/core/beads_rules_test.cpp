// beads' readiness rules in planning (SPEC sections 1 and 2): epics are
// containers, blockage flows down parent-child links, and parents can name
// groups. One hand-made case per rule.

#include <algorithm>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/input_error.hpp>
#include <maestro/core/plan.hpp>

using namespace maestro::core;

namespace {

dependency child_of(std::string parent) {
  return {std::move(parent), "parent-child"};
}

dependency blocked_by(std::string blocker) {
  return {std::move(blocker), "blocks"};
}

task make(std::string id, std::vector<dependency> deps = {}, std::string status = "open",
          std::string type = "task", std::string title = "work") {
  task t;
  t.id = std::move(id);
  t.title = std::move(title);
  t.dependencies = std::move(deps);
  t.status = std::move(status);
  t.issue_type = std::move(type);
  return t;
}

task epic(std::string id, std::vector<dependency> deps = {}, std::string status = "open") {
  return make(std::move(id), std::move(deps), std::move(status), "epic", "Epic");
}

const planned_task& planned(const std::vector<task>& tasks, const plan& p, std::string_view id) {
  const auto it = std::find_if(p.tasks.begin(), p.tasks.end(),
                               [&](const planned_task& t) { return tasks[t.index].id == id; });
  BOOST_TEST_REQUIRE((it != p.tasks.end()), "not planned: " << id);
  return *it;
}

bool is_planned(const std::vector<task>& tasks, const plan& p, std::string_view id) {
  return std::any_of(p.tasks.begin(), p.tasks.end(),
                     [&](const planned_task& t) { return tasks[t.index].id == id; });
}

std::vector<std::string> stage_ids(const plan& p) {
  std::vector<std::string> ids;
  for (const auto& s : p.stages) {
    ids.push_back(s.id);
  }
  return ids;
}

std::vector<std::string> blocker_ids(const planned_task& t) {
  std::vector<std::string> ids;
  for (const auto& u : t.blocked_by) {
    ids.push_back(u.id);
  }
  return ids;
}

using ids = std::vector<std::string>;

std::string error_of(const std::vector<task>& tasks) {
  try {
    (void)make_plan(tasks, {});
  } catch (const input_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(beads_rules)

BOOST_AUTO_TEST_CASE(an_epic_with_children_is_no_stage_and_closes_after_its_last_child) {
  const std::vector<task> tasks{epic("e"), make("e.1", {child_of("e")}),
                                make("e.2", {child_of("e"), blocked_by("e.1")}),
                                make("after", {blocked_by("e")})};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(!is_planned(tasks, p, "e"));
  BOOST_TEST(stage_ids(p) == (ids{"_sequential.e.1", "_sequential.e.2", "_sequential.after"}));
  BOOST_TEST_REQUIRE(p.skipped.size() == 1U);
  BOOST_TEST((p.skipped[0].reason == skip_reason::epic));
  // A task that depends on the epic waits for all its children.
  const auto& after = planned(tasks, p, "after");
  BOOST_TEST(after.waits_for_ids() == (ids{"e.1", "e.2"}));
  BOOST_TEST(after.waits_for[0].epic == "e");
  BOOST_TEST(p.find_stage("_sequential.after")->after ==
             (ids{"_sequential.e.1", "_sequential.e.2"}));
  // The epic is closed after the stage of its last child, and by no other.
  BOOST_TEST_REQUIRE(p.epics.size() == 1U);
  BOOST_TEST(p.epics[0].closes_after == "_sequential.e.2");
  BOOST_TEST(p.find_stage("_sequential.e.2")->epics == (std::vector<std::size_t>{0}));
  BOOST_TEST(p.find_stage("_sequential.e.1")->epics.empty());
}

BOOST_AUTO_TEST_CASE(an_epic_without_children_is_left_alone) {
  const std::vector<task> tasks{epic("lonely"), make("waiting", {blocked_by("lonely")}),
                                make("free")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(!is_planned(tasks, p, "lonely"));
  BOOST_TEST_REQUIRE(p.epics.size() == 1U);
  BOOST_TEST(p.epics[0].closes_after.empty());
  BOOST_TEST(p.epics[0].note == "no children: left alone");
  // Nothing completes it, so what depends on it stays blocked.
  BOOST_TEST(blocker_ids(planned(tasks, p, "waiting")) == ids{"lonely"});
}

BOOST_AUTO_TEST_CASE(an_epic_whose_children_are_closed_is_complete) {
  const std::vector<task> tasks{epic("e"), make("e.1", {child_of("e")}, "closed"),
                                make("next", {blocked_by("e")})};
  const auto p = make_plan(tasks, {});
  const auto& next = planned(tasks, p, "next");
  BOOST_TEST(next.ready());
  BOOST_TEST(next.blocked_by.empty());
  BOOST_TEST(p.epics[0].closes_after.empty());  // left to the tracker
}

BOOST_AUTO_TEST_CASE(blockage_flows_down_a_three_level_chain) {
  // top waits for an outside blocker; its child and grandchild inherit it.
  const std::vector<task> tasks{
      make("outside", {}, "deferred"), make("top", {blocked_by("outside")}),
      make("mid", {child_of("top")}), make("leaf", {child_of("mid")}), make("other")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(blocker_ids(planned(tasks, p, "top")) == ids{"outside"});
  const auto& mid = planned(tasks, p, "mid");
  BOOST_TEST(blocker_ids(mid) == ids{"outside"});
  BOOST_TEST(mid.blocked_by[0].via == "top");
  const auto& leaf = planned(tasks, p, "leaf");
  BOOST_TEST(blocker_ids(leaf) == ids{"outside"});
  BOOST_TEST(leaf.blocked_by[0].via == "top");
  BOOST_TEST(leaf.blocked_by[0].status == "deferred");
  BOOST_TEST(planned(tasks, p, "other").blocked_by.empty());
  BOOST_TEST(p.blocked_count() == 3U);
}

BOOST_AUTO_TEST_CASE(an_inherited_blocker_in_the_run_orders_the_children) {
  const std::vector<task> tasks{make("leaf", {child_of("mid")}), make("mid", {child_of("top")}),
                                make("top", {blocked_by("first")}), make("first")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(planned(tasks, p, "leaf").waits_for_ids() == ids{"first"});
  BOOST_TEST(planned(tasks, p, "mid").waits_for_ids() == ids{"first"});
  // An open parent that is not blocked does not hold its children back.
  BOOST_TEST(stage_ids(p).front() == "_sequential.first");
}

BOOST_AUTO_TEST_CASE(a_parent_blocked_by_its_own_child_does_not_block_that_child) {
  const std::vector<task> tasks{make("p", {blocked_by("p.1"), blocked_by("x")}),
                                make("p.1", {child_of("p")}), make("p.1.1", {child_of("p.1")}),
                                make("x")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(planned(tasks, p, "p").waits_for_ids() == (ids{"p.1", "x"}));
  // The child inherits x but not itself. Its own child inherits both: p.1
  // is not that task or below it (p is blocked until p.1 closes).
  BOOST_TEST(planned(tasks, p, "p.1").waits_for_ids() == ids{"x"});
  BOOST_TEST(planned(tasks, p, "p.1.1").waits_for_ids() == (ids{"p.1", "x"}));
}

BOOST_AUTO_TEST_CASE(a_closed_ancestor_passes_nothing_down) {
  const std::vector<task> tasks{make("done", {blocked_by("open-blocker")}, "closed"),
                                make("child", {child_of("done")}), make("open-blocker")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(planned(tasks, p, "child").ready());
}

BOOST_AUTO_TEST_CASE(a_blocked_epic_blocks_its_children) {
  const std::vector<task> tasks{epic("e", {blocked_by("gate")}), make("e.1", {child_of("e")}),
                                make("gate", {}, "in_progress")};
  const auto p = make_plan(tasks, {});
  const auto& child = planned(tasks, p, "e.1");
  BOOST_TEST(child.waits_for_ids() == ids{"gate"});
  BOOST_TEST(child.waits_for[0].via == "e");
}

BOOST_AUTO_TEST_CASE(nested_epics_close_inner_first) {
  const std::vector<task> tasks{epic("outer"), epic("inner", {child_of("outer")}),
                                make("a", {child_of("inner")}), make("b", {child_of("outer")}),
                                make("c", {blocked_by("outer")})};
  const auto p = make_plan(tasks, {});
  // c waits for every task below the outer epic, through the inner one.
  BOOST_TEST(planned(tasks, p, "c").waits_for_ids() == (ids{"a", "b"}));
  BOOST_TEST(p.epics.size() == 2U);
  const auto* last = p.find_stage("_sequential.b");
  BOOST_TEST_REQUIRE(last != nullptr);
  BOOST_TEST(p.find_stage("_sequential.a")->epics == (std::vector<std::size_t>{1}));  // inner
  BOOST_TEST(last->epics == (std::vector<std::size_t>{0}));                           // outer

  // Both closed after one stage: the inner one first.
  std::vector<task> grouped = tasks;
  grouped[2].title = "[P:Group-g] a";
  grouped[3].title = "[P:Group-g] b";
  const auto q = make_plan(grouped, {});
  BOOST_TEST(q.find_stage("g")->epics == (std::vector<std::size_t>{1, 0}));
}

BOOST_AUTO_TEST_CASE(an_epic_waiting_on_work_this_run_skips_is_not_closed) {
  const std::vector<task> tasks{epic("e"), make("e.1", {child_of("e")}),
                                make("e.2", {child_of("e")}, "deferred")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(p.epics[0].closes_after.empty());
  BOOST_TEST(p.epics[0].note.find("e.2 (status deferred)") != std::string::npos, p.epics[0].note);
}

BOOST_AUTO_TEST_CASE(a_parked_epic_blocks_as_a_task_would) {
  // A deferred epic is not one the run handles: a dependency on it waits
  // for the epic itself, which stays deferred, not for its children.
  const std::vector<task> tasks{epic("e", {}, "deferred"), make("e.1", {child_of("e")}),
                                make("t", {blocked_by("e")})};
  const auto p = make_plan(tasks, {});
  const auto& t = planned(tasks, p, "t");
  BOOST_TEST(blocker_ids(t) == ids{"e"});
  BOOST_TEST(t.blocked_by[0].status == "deferred");
  BOOST_TEST(t.waits_for.empty());
  BOOST_TEST(p.epics.empty());  // nor is it closed
}

BOOST_AUTO_TEST_CASE(an_epic_whose_child_is_blocked_outside_is_not_promised_closed) {
  const std::vector<task> tasks{epic("e"), make("a", {child_of("e"), blocked_by("d")}),
                                make("d", {}, "deferred")};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(p.epics[0].closes_after.empty());
  BOOST_TEST(p.epics[0].note == "waits for a, which is blocked by d");
}

BOOST_AUTO_TEST_CASE(a_parent_blocked_by_two_of_its_children_is_a_cycle_that_says_why) {
  // Each child inherits the other through the parent (beads would never
  // make either ready): bad input, naming the parent.
  const std::vector<task> tasks{make("p", {blocked_by("c1"), blocked_by("c2")}),
                                make("c1", {child_of("p")}), make("c2", {child_of("p")})};
  BOOST_TEST(error_of(tasks) ==
             "task c1: dependency cycle: c1 -> c2 (through p) -> c1 (through p)");
}

BOOST_AUTO_TEST_CASE(deep_chains_and_multiple_parents) {
  // 20,000 levels: nothing recurses, and every level inherits the top's
  // blocker once.
  std::vector<task> chain{make("t0", {blocked_by("x")}), make("x", {}, "deferred")};
  for (int i = 1; i < 20000; ++i) {
    chain.push_back(make("t" + std::to_string(i), {child_of("t" + std::to_string(i - 1))}));
  }
  const auto p = make_plan(chain, {});
  const auto& bottom = planned(chain, p, "t19999");
  BOOST_TEST(blocker_ids(bottom) == ids{"x"});
  BOOST_TEST(bottom.blocked_by[0].via == "t0");
  // Two parents: blockers of both, each once; a blocker below the task
  // through either parent is still its descendant.
  const std::vector<task> two{make("p1", {blocked_by("x"), blocked_by("c.1")}),
                              make("p2", {blocked_by("x"), blocked_by("y")}),
                              make("c", {child_of("p1"), child_of("p2")}),
                              make("c.1", {child_of("c")}),
                              make("x"),
                              make("y")};
  const auto q = make_plan(two, {});
  BOOST_TEST(planned(two, q, "c").waits_for_ids() == (ids{"x", "y"}));
}

BOOST_AUTO_TEST_CASE(a_parent_child_cycle_is_an_input_error) {
  const std::vector<task> tasks{make("a", {child_of("c")}), make("b", {child_of("a")}),
                                make("c", {child_of("b")})};
  BOOST_TEST(error_of(tasks) ==
             "task a: parent-child cycle: a -> c -> b -> a (each a child of the next)");
  BOOST_TEST(
      error_of({make("self", {child_of("self")})}).find("parent-child cycle: self -> self") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_cycle_made_by_inheritance_says_where_its_edge_comes_from) {
  // a inherits its parent p's blocker b, and b depends on a.
  const std::vector<task> tasks{make("p", {blocked_by("b")}), make("a", {child_of("p")}),
                                make("b", {blocked_by("a")})};
  const auto error = error_of(tasks);
  BOOST_TEST(error == "task b: dependency cycle: b -> a -> b (through p)", error);
  // And through an epic standing for its children.
  const std::vector<task> by_epic{epic("e"), make("e.1", {child_of("e")}),
                                  make("x", {blocked_by("e")}), make("y", {blocked_by("x")}),
                                  make("e.2", {child_of("e"), blocked_by("y")})};
  BOOST_TEST(error_of(by_epic).find("x -> e.2 (child of epic e)") != std::string::npos,
             error_of(by_epic));
}

BOOST_AUTO_TEST_CASE(group_by_epic_parent_and_marker) {
  const std::vector<task> tasks{
      epic("e"),
      make("e.1", {child_of("e")}),
      make("e.2", {child_of("e")}, "open", "task", "[P:Group-ui] marked"),
      make("p", {}, "open", "task", "Epic: a plain parent"),
      make("p.1", {child_of("p")}),
      make("p.2", {child_of("p")}),
  };
  plan_options options;
  // marker: only the marked task forms a parallel group.
  auto p = make_plan(tasks, options);
  BOOST_TEST(stage_ids(p) ==
             (ids{"_sequential.e.1", "ui", "_sequential.p", "_sequential.p.1", "_sequential.p.2"}));
  // epic: the epic's unmarked child joins the group named after it.
  options.group_by = grouping::epic;
  p = make_plan(tasks, options);
  BOOST_TEST(stage_ids(p) ==
             (ids{"e", "ui", "_sequential.p", "_sequential.p.1", "_sequential.p.2"}));
  BOOST_TEST((p.find_stage("e")->kind == stage_kind::parallel));
  BOOST_TEST(planned(tasks, p, "e.1").group == "e");
  BOOST_TEST(planned(tasks, p, "e.2").group == "ui");  // a marker wins
  // parent: any parent; the plain parent still runs as a task of its own.
  options.group_by = grouping::parent;
  p = make_plan(tasks, options);
  BOOST_TEST(stage_ids(p) == (ids{"e", "ui", "_sequential.p", "p"}));
  BOOST_TEST(p.find_stage("p")->tasks.size() == 2U);
  BOOST_TEST(planned(tasks, p, "p").stage_id == "_sequential.p");
}

BOOST_AUTO_TEST_CASE(a_parent_id_that_would_share_a_sequential_stage_is_refused) {
  const std::vector<task> tasks{make("_sequential.x"), make("c", {child_of("_sequential.x")})};
  plan_options options;
  options.group_by = grouping::parent;
  try {
    (void)make_plan(tasks, options);
    BOOST_FAIL("no error");
  } catch (const input_error& e) {
    BOOST_TEST(std::string(e.what()).find("_sequential is reserved") != std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_task_depending_on_its_own_epic_waits_for_its_siblings_only) {
  // beads would never make it ready; the engine drops the task itself from
  // what the epic stands for, rather than report a cycle of one.
  const std::vector<task> tasks{epic("e"), make("e.1", {child_of("e")}),
                                make("e.2", {child_of("e"), blocked_by("e")})};
  const auto p = make_plan(tasks, {});
  BOOST_TEST(planned(tasks, p, "e.2").waits_for_ids() == ids{"e.1"});
}

BOOST_AUTO_TEST_SUITE_END()
