#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/dependency_tracker.hpp>
#include <maestro/core/group_machine.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(dependency_tracker_tests)

namespace {

group_task task(std::string id, std::vector<std::size_t> waits_for = {},
                std::vector<std::string> blocked_by = {}) {
  group_task t;
  t.id = std::move(id);
  t.waits_for = std::move(waits_for);
  t.blocked_by = std::move(blocked_by);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(counts_unmet_dependencies_and_dependents) {
  std::vector<group_task> tasks{task("a"), task("b", {0}), task("c", {0, 1})};
  tasks[0].already_completed = false;
  dependency_tracker deps(tasks);
  BOOST_TEST(deps.unmet(0) == 0U);
  BOOST_TEST(deps.unmet(2) == 2U);
  BOOST_TEST(deps.dependents(0) == (std::vector<std::size_t>{1, 2}));
  BOOST_TEST(!deps.meet_one(2));
  BOOST_TEST(deps.meet_one(2));
  BOOST_TEST(deps.index_of("c") == 2U);
  BOOST_TEST(deps.index_of("zz") == dependency_tracker::npos);
}

BOOST_AUTO_TEST_CASE(a_dependency_completed_earlier_is_met) {
  std::vector<group_task> tasks{task("a"), task("b", {0})};
  tasks[0].already_completed = true;
  const dependency_tracker deps(tasks);
  BOOST_TEST(deps.unmet(1) == 0U);
}

BOOST_AUTO_TEST_CASE(outside_blockers_close_one_by_one) {
  std::vector<group_task> tasks{task("a", {}, {"x", "y"}), task("b", {}, {"y"})};
  dependency_tracker deps(tasks);
  BOOST_TEST(deps.has_blockers(0));
  std::vector<std::size_t> told;
  deps.blocker_closed("x", [&](std::size_t t) { told.push_back(t); });
  BOOST_TEST(told == (std::vector<std::size_t>{0}));
  BOOST_TEST(deps.has_blockers(0));
  told.clear();
  deps.blocker_closed("y", [&](std::size_t t) { told.push_back(t); });
  BOOST_TEST(told.size() == 2U);
  BOOST_TEST(!deps.has_blockers(0));
  BOOST_TEST(!deps.has_blockers(1));
  deps.blocker_closed("nobody", [&](std::size_t) { BOOST_FAIL("no task waits on it"); });
}

BOOST_AUTO_TEST_CASE(spread_reaches_every_task_behind_once_per_edge_taken) {
  // a <- b <- c <- d, and a <- e: a long chain is a worklist, not recursion.
  std::vector<group_task> tasks{task("a"), task("b", {0}), task("c", {1}), task("d", {2}),
                                task("e", {0})};
  const dependency_tracker deps(tasks);
  std::vector<bool> reached(tasks.size(), false);
  std::vector<std::size_t> settled;
  deps.spread(
      {0}, [&](std::size_t t) { settled.push_back(t); },
      [&](std::size_t d, std::size_t /*cause*/) {
        if (reached[d]) {
          return false;
        }
        reached[d] = true;
        return true;
      });
  BOOST_TEST(settled == (std::vector<std::size_t>{0, 4, 1, 2, 3}));  // last in, first out
  // A long chain: no recursion, so no stack to run out of.
  std::vector<group_task> chain{task("0")};
  for (std::size_t i = 1; i < 100000; ++i) {
    chain.push_back(task(std::to_string(i), {i - 1}));
  }
  const dependency_tracker long_deps(chain);
  std::size_t n = 0;
  long_deps.spread(
      {0}, [&](std::size_t) { ++n; }, [](std::size_t, std::size_t) { return true; });
  BOOST_TEST(n == 100000U);
}

BOOST_AUTO_TEST_CASE(waiting_for_blockers_is_a_switch) {
  dependency_tracker deps(std::vector<group_task>{task("a")});
  BOOST_TEST(!deps.waiting_for_blockers());
  deps.set_waiting_for_blockers(true);
  BOOST_TEST(deps.waiting_for_blockers());
}

BOOST_AUTO_TEST_SUITE_END()
