// Scripts for `group_settings::integrate` (`workspace: worktree`): an
// attempt that exits 0 completes only once its work is merged, a conflict
// is a failed attempt, and a group that passes its test phase ends by
// moving the integration branch. Exact actions, as the other scripts.

#include <chrono>

#include <boost/test/unit_test.hpp>

#include <maestro/core/group_machine.hpp>

#include "group_script.hpp"

using namespace maestro::core;
using namespace maestro::core::test;
using namespace std::chrono_literals;

namespace {

group_settings integrating(int max_concurrent = 4) {
  auto s = settings(max_concurrent);
  s.integrate = true;
  return s;
}

// Task 0 of `s` launched, exited 0 and merged: its group's tests come next.
void merge_first_task(script& s) {
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.exit(0, 0);
  s.feed(integrated_event{0, 1, ""});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(group_machine_integrate)

BOOST_AUTO_TEST_CASE(an_exit_0_is_merged_before_it_completes_and_frees_its_slot_at_once) {
  script s({make("t0"), make("t1")}, integrating(1));
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.feed(workspace_ready_event{0, 1, "/w/g/t0.1", "maestro/task/g/t0.1"});
  BOOST_TEST(s.machine().state(0).history.back().worktree == "/w/g/t0.1");
  BOOST_TEST(s.machine().state(0).history.back().branch == "maestro/task/g/t0.1");
  // The agent is gone: its slot goes to t1 while t0's merge runs.
  CHECK_ACTIONS(s.exit(0, 0), (list{integrate_action{0, 1}, launch(1, 1), changed(0), changed(1)}));
  BOOST_TEST((s.status(0) == task_status::running));
  BOOST_TEST(s.machine().state(0).integrating);
  // A second exit of the same attempt means nothing.
  BOOST_TEST(s.exit(0, 0).empty());
  CHECK_ACTIONS(s.feed(integrated_event{0, 1, ""}), (list{changed(0)}));
  BOOST_TEST((s.status(0) == task_status::completed));
  s.feed(launched_event{1, 1, 101, 101});
  CHECK_ACTIONS(s.exit(1, 0), (list{integrate_action{1, 1}, changed(1)}));
  CHECK_ACTIONS(s.feed(integrated_event{1, 1, ""}),
                (list{run_tests_action{}, group_changed_action{}, changed(1)}));
  // The tests passed: the integration branch takes the group before the
  // tasks are closed.
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::passed, "", "make test"}),
                (list{integrate_group_action{}, group_changed_action{}}));
  BOOST_TEST((s.machine().lifecycle() == group_lifecycle::integrating));
  BOOST_TEST(s.machine().command_running());  // it holds the merge queue's turn
  CHECK_ACTIONS(s.feed(group_integrated_event{""}),
                (list{close_tasks_action{{0, 1}}, group_changed_action{}}));
  s.feed(close_done_event{{0, 1}, {}});
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_conflict_fails_the_attempt_and_its_workspace_is_discarded) {
  auto st = integrating();
  st.retries = 1;
  st.retry_backoff_s = 0;
  script s({make("t0")}, st);
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.exit(0, 0);
  // The retry starts at once, from the tip the runtime merges into.
  CHECK_ACTIONS(s.feed(integrated_event{0, 1, "merge conflict in maestro/group/g: a.txt"}),
                (list{discard_workspace_action{0, 1}, launch(0, 2), changed(0)}));
  BOOST_TEST(s.machine().state(0).history.front().error ==
             "merge conflict in maestro/group/g: a.txt");
  BOOST_TEST(describe(s.machine().state(0).history.front()) ==
             "exit code 0, then merge conflict in maestro/group/g: a.txt");
  s.feed(launched_event{0, 2, 101, 101});
  s.exit(0, 0);
  s.feed(integrated_event{0, 2, ""});
  s.feed(tests_done_event{test_status::none, "test.command is \"none\""});
  BOOST_TEST(s.has<integrate_group_action>());
  s.feed(group_integrated_event{""});
  s.feed(close_done_event{{0}, {}});
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_failed_attempt_is_discarded_and_a_failed_group_is_not_integrated) {
  script s({make("t0"), make("t1")}, integrating());
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.feed(launched_event{1, 1, 101, 101});
  CHECK_ACTIONS(s.exit(0, 3), (list{discard_workspace_action{0, 1}, changed(0)}));
  s.exit(1, 0);
  s.feed(integrated_event{1, 1, ""});
  BOOST_TEST(!s.has<run_tests_action>());
  BOOST_TEST(!s.has<integrate_group_action>());
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(failed_tests_are_not_integrated) {
  script s({make("t0")}, integrating());
  merge_first_task(s);
  s.feed(tests_done_event{test_status::failed, "make test: exit code 2"});
  BOOST_TEST(!s.has<integrate_group_action>());
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(an_integration_that_fails_fails_the_group_and_closes_nothing) {
  script s({make("t0")}, integrating());
  merge_first_task(s);
  s.feed(tests_done_event{test_status::passed, ""});
  CHECK_ACTIONS(s.feed(group_integrated_event{"integration: maestro/integration moved"}),
                (list{group_changed_action{}, finished_action{group_status::failed}}));
  BOOST_TEST(s.machine().errors().back() == "integration: maestro/integration moved");
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(a_stop_waits_for_a_merge_under_way_which_then_counts) {
  script s({make("t0"), make("t1")}, integrating());
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.feed(launched_event{1, 1, 101, 101});
  s.exit(0, 0);  // t0's merge is under way
  // SIGTERM to t1 only: t0 has no child left, and its merge is not cut.
  s.feed(stop_event{stop_mode::graceful, "SIGINT"});
  for (const auto& sig : s.all<signal_action>()) {
    BOOST_TEST(sig.task == 1U);
  }
  BOOST_TEST(s.all<signal_action>().size() == 1U);
  BOOST_TEST(!s.has<finished_action>());
  s.exit(1, 143);
  BOOST_TEST(!s.has<finished_action>());  // t0's merge still runs
  s.feed(integrated_event{0, 1, ""});
  // Merged, so completed (a resume must not run it again); the group was
  // stopped, so nothing is integrated.
  BOOST_TEST((s.status(0) == task_status::completed));
  BOOST_TEST((s.status(1) == task_status::cancelled));
  BOOST_TEST(!s.has<integrate_group_action>());
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(a_stop_while_the_integration_branch_moves_comes_too_late) {
  script s({make("t0")}, integrating());
  merge_first_task(s);
  s.feed(tests_done_event{test_status::passed, ""});
  BOOST_TEST(s.feed(stop_event{stop_mode::graceful, "SIGINT"}).empty());
  // The integration branch took the group's work: it completed.
  s.feed(group_integrated_event{""});
  s.feed(close_done_event{{0}, {}});
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(an_exit_0_after_a_stop_is_not_merged) {
  script s({make("t0")}, integrating());
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.feed(stop_event{stop_mode::graceful, "SIGINT"});
  CHECK_ACTIONS(s.exit(0, 0), (list{cancel_timer_action{{timer_kind::kill_grace, 0, 1}},
                                    discard_workspace_action{0, 1}, group_changed_action{},
                                    changed(0), finished_action{group_status::cancelled}}));
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_SUITE_END()
