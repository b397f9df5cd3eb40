// Scripts that state the exact actions each event calls for, as Boost.Redis'
// fsm tests do, and end with nothing running, waiting or armed.

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/group_machine.hpp>

#include "group_script.hpp"

using namespace maestro::core;
using namespace maestro::core::test;
using namespace std::chrono_literals;

namespace {

set_timer_action set(timer_kind kind, std::size_t task, std::uint32_t generation,
                     clock_time deadline) {
  return {{kind, task, generation}, deadline};
}
cancel_timer_action cancel(timer_kind kind, std::size_t task, std::uint32_t generation) {
  return {{kind, task, generation}};
}
constexpr timer_id refresh_timeout{timer_kind::command_timeout, 0, 1};
constexpr timer_id refresh_grace{timer_kind::command_grace, 0, 1};

}  // namespace

BOOST_AUTO_TEST_SUITE(group_machine_scripts)

BOOST_AUTO_TEST_CASE(actions_print_one_readable_line_each) {
  std::ostringstream out;
  out << action{launch_action{1, 2, "a"}} << "; " << action{signal_command_action{}} << "; "
      << action{set_timer_action{{timer_kind::kill_grace, 3, 1}, clock_time{} + 2s}} << "; "
      << action{close_tasks_action{{0, 2}, {1}}} << "; " << action{finished_action{}};
  BOOST_TEST(out.str() ==
             "launch(t1#2, a); signal_command(terminate); set_timer(kill_grace t3#1 at 2s); "
             "close_tasks(t0, t2, epic 1); finished(completed)");
}

BOOST_AUTO_TEST_CASE(where_an_attempt_runs_is_recorded_for_the_current_attempt_only) {
  script s({make("t0")}, settings(1));
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  CHECK_ACTIONS(s.feed(placed_event{0, 1, "4242"}), (list{changed(0)}));
  BOOST_TEST(s.machine().state(0).history.back().job_id == "4242");
  // A late report for another attempt changes nothing.
  BOOST_TEST(s.feed(placed_event{0, 2, "9"}).empty());
  BOOST_TEST(s.machine().state(0).history.back().job_id == "4242");
}

BOOST_AUTO_TEST_CASE(epics_are_closed_after_their_children) {
  // Epic 0 waits for t0 and t1, epic 1 for t0 and t2, and t2 is closed in
  // the tracker before it runs (skipped, but closed): both are closed, each
  // as soon as its last child is (epic 1 after t0, epic 0 after t1).
  script s({make("t0"), make("t1"), make("t2")}, settings(2), true,
           {{"e0", {0, 1}}, {"e1", {0, 2}}});
  s.start();
  s.feed(source_closed_event{"t2"});
  s.feed(launched_event{0, 1, 100, 100});
  s.feed(launched_event{1, 1, 101, 101});
  s.exit(0, 0);
  s.exit(1, 0);
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::passed, "", "make test"}),
                (list{close_tasks_action{{0, 1}, {1, 0}, {1, 2}}, group_changed_action{}}));
  s.feed(close_done_event{{0, 1}, {}, {1}});
  BOOST_TEST(!s.machine().epic_closed(0));  // the tracker did not close it
  BOOST_TEST(s.machine().epic_closed(1));
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(an_epic_with_a_child_that_did_not_complete_stays_open) {
  script s({make("t0"), make("t1")}, settings(2), true, {{"e", {0, 1}}});
  s.start();
  s.feed(launched_event{0, 1, 100, 100});
  s.feed(launched_event{1, 1, 101, 101});
  s.exit(0, 0);
  s.exit(1, 1);  // failed: the group fails and closes nothing
  BOOST_TEST(!s.has<close_tasks_action>());
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(a_group_from_start_to_close) {
  auto st = settings(1);
  st.default_timeout_s = 60;
  script s({make("t0"), make("t1")}, st);
  CHECK_ACTIONS(s.start(), (list{launch(0, 1), set(timer_kind::attempt_timeout, 0, 1, s.in(60s)),
                                 group_changed_action{}, changed(0), changed(1)}));
  CHECK_ACTIONS(s.feed(launched_event{0, 1, 100, 100}), (list{changed(0)}));
  s.advance(1s);
  // t0's end is reported before t1's launch: the store writes an end
  // ahead, so a SIGKILL after the launch cannot lose it.
  CHECK_ACTIONS(s.exit(0, 0),
                (list{cancel(timer_kind::attempt_timeout, 0, 1), changed(0), launch(1, 1),
                      set(timer_kind::attempt_timeout, 1, 1, s.in(60s)), changed(1)}));
  CHECK_ACTIONS(s.exit(1, 0), (list{cancel(timer_kind::attempt_timeout, 1, 1), run_tests_action{},
                                    group_changed_action{}, changed(1)}));
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::passed, "", "make test"}),
                (list{close_tasks_action{{0, 1}}, group_changed_action{}}));
  CHECK_ACTIONS(s.feed(close_done_event{{0, 1}, {}}),
                (list{group_changed_action{}, changed(0), changed(1),
                      finished_action{group_status::completed}}));
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_failure_skips_what_waits_for_it) {
  auto st = settings();
  auto mid = make("mid");
  mid.waits_for = {0};
  auto top = make("top");
  top.waits_for = {1};
  script s({make("base"), mid, top}, st);
  CHECK_ACTIONS(s.start(), (list{launch(0, 1), group_changed_action{}, changed(0)}));
  // One report per task, after the group's.
  CHECK_ACTIONS(s.exit(0, 1), (list{group_changed_action{}, changed(0), changed(1), changed(2),
                                    finished_action{group_status::failed}}));
  s.check_settled(group_status::failed);
  BOOST_TEST(s.machine().state(2).error == "not run: dependency mid is skipped");
}

BOOST_AUTO_TEST_CASE(refresh_times_out_then_is_killed) {
  auto st = settings();
  st.refresh = true;
  st.refresh_timeout_s = 30;
  st.kill_grace_s = 5;
  script s({make("t0")}, st);
  CHECK_ACTIONS(s.start(),
                (list{run_refresh_action{}, set(timer_kind::command_timeout, 0, 1, s.in(30s)),
                      group_changed_action{}}));
  CHECK_ACTIONS(s.fire(refresh_timeout), (list{signal_command_action{kill_signal::terminate},
                                               set(timer_kind::command_grace, 0, 1, s.in(5s))}));
  CHECK_ACTIONS(s.fire(refresh_grace), (list{signal_command_action{kill_signal::kill}}));
  // Not required: a warning, and the tasks run.
  CHECK_ACTIONS(s.feed(refresh_done_event{false, "killed by signal 9"}),
                (list{launch(0, 1), group_changed_action{}, changed(0)}));
  BOOST_TEST(s.machine().warnings().at(0) == "refresh failed (not required): timed out");
  BOOST_TEST(!s.machine().refresh_completed());
  s.exit(0, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_required_refresh_that_times_out_fails_the_group) {
  auto st = settings();
  st.refresh = true;
  st.refresh_required = true;
  st.refresh_timeout_s = 30;
  st.kill_grace_s = 5;
  st.group_timeout_s = 600;
  script s({make("t0")}, st);
  s.start();
  s.fire(refresh_timeout);
  // It ends within the grace period: no SIGKILL, the grace timer goes.
  CHECK_ACTIONS(
      s.feed(refresh_done_event{false, "killed by signal 15"}),
      (list{cancel(timer_kind::command_grace, 0, 1), cancel(timer_kind::group_timeout, 0, 0),
            group_changed_action{}, changed(0), finished_action{group_status::failed}}));
  BOOST_TEST(s.machine().errors().at(0) == "refresh failed: timed out");
  BOOST_TEST((s.machine().phase() == group_phase::post_execution));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(a_refresh_done_in_time_cancels_its_timer) {
  auto st = settings();
  st.refresh = true;
  st.refresh_timeout_s = 30;
  script s({make("t0")}, st);
  s.start();
  CHECK_ACTIONS(s.feed(refresh_done_event{true, "exit code 0"}),
                (list{cancel(timer_kind::command_timeout, 0, 1), launch(0, 1),
                      group_changed_action{}, changed(0)}));
  BOOST_TEST(s.machine().refresh_completed());
  s.exit(0, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(tests_time_out_then_are_killed) {
  auto st = settings();
  st.test_timeout_s = 100;
  st.kill_grace_s = 2;
  script s({make("t0")}, st);
  s.start();
  CHECK_ACTIONS(s.exit(0, 0),
                (list{run_tests_action{}, set(timer_kind::command_timeout, 0, 1, s.in(100s)),
                      group_changed_action{}, changed(0)}));
  const timer_id timeout{timer_kind::command_timeout, 0, 1};
  CHECK_ACTIONS(s.fire(timeout), (list{signal_command_action{kill_signal::terminate},
                                       set(timer_kind::command_grace, 0, 1, s.in(2s))}));
  CHECK_ACTIONS(s.fire({timer_kind::command_grace, 0, 1}),
                (list{signal_command_action{kill_signal::kill}}));
  // The runtime reports how the process ended; the core knows it timed out.
  CHECK_ACTIONS(
      s.feed(tests_done_event{test_status::failed, "pytest -q: killed by signal 9", "pytest -q"}),
      (list{group_changed_action{}, finished_action{group_status::failed}}));
  BOOST_TEST((s.machine().tests() == test_status::failed));
  BOOST_TEST(s.machine().errors().at(0) == "tests failed: pytest -q: timed out");
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(a_timed_out_test_run_that_looked_passed_still_fails) {
  auto st = settings();
  st.test_timeout_s = 100;
  script s({make("t0")}, st);
  s.start();
  s.exit(0, 0);
  s.fire({timer_kind::command_timeout, 0, 1});
  s.feed(tests_done_event{test_status::passed, "make check: exit code 0", "make check"});
  BOOST_TEST(s.machine().errors().at(0) == "tests failed: make check: timed out");
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(stop_during_the_refresh) {
  auto st = settings();
  st.refresh = true;
  st.kill_grace_s = 3;
  st.group_timeout_s = 600;
  script s({make("t0"), make("t1")}, st);
  s.start();
  CHECK_ACTIONS(s.feed(stop_event{stop_mode::graceful, "SIGINT"}),
                (list{signal_command_action{kill_signal::terminate},
                      set(timer_kind::command_grace, 0, 1, s.in(3s)), group_changed_action{},
                      changed(0), changed(1)}));
  BOOST_TEST((s.status(0) == task_status::cancelled));
  CHECK_ACTIONS(
      s.feed(refresh_done_event{false, "killed by signal 15"}),
      (list{cancel(timer_kind::command_grace, 0, 1), cancel(timer_kind::group_timeout, 0, 0),
            group_changed_action{}, finished_action{group_status::cancelled}}));
  BOOST_TEST((s.machine().phase() == group_phase::pre_execution));
  BOOST_TEST((s.machine().why_stopped() == stop_reason::cancelled));
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(stop_during_the_tests_then_at_once) {
  auto st = settings();
  st.kill_grace_s = 3;
  script s({make("t0")}, st);
  s.start();
  s.exit(0, 0);
  CHECK_ACTIONS(s.feed(stop_event{stop_mode::graceful, "SIGINT"}),
                (list{signal_command_action{kill_signal::terminate},
                      set(timer_kind::command_grace, 0, 1, s.in(3s)), group_changed_action{}}));
  // A second SIGINT: SIGKILL at once, for the command as for the agents.
  CHECK_ACTIONS(s.feed(stop_event{stop_mode::immediate, "second SIGINT"}),
                (list{signal_command_action{kill_signal::kill}}));
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::failed, "make: killed by signal 9", "make"}),
                (list{cancel(timer_kind::command_grace, 0, 1), group_changed_action{},
                      finished_action{group_status::cancelled}}));
  BOOST_TEST((s.machine().tests() == test_status::not_run));
  BOOST_TEST((s.machine().phase() == group_phase::post_execution));
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(stop_before_start) {
  script s({make("t0")}, settings());
  CHECK_ACTIONS(s.feed(stop_event{stop_mode::graceful, "stopped before the group started"}),
                (list{group_changed_action{}, finished_action{group_status::cancelled}}));
  BOOST_TEST(s.machine().errors().at(0) == "cancelled: stopped before the group started");
  BOOST_TEST((s.machine().phase() == group_phase::pre_execution));
  BOOST_TEST((s.status(0) == task_status::pending));
  BOOST_TEST(s.start().empty());
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(halt_before_start) {
  script s({make("t0"), make("t1")}, settings());
  CHECK_ACTIONS(s.feed(halt_event{"state cannot be written"}),
                (list{group_changed_action{}, changed(0), changed(1),
                      finished_action{group_status::failed}}));
  BOOST_TEST(s.machine().state(1).error == "not run: state cannot be written");
  BOOST_TEST((s.machine().why_stopped() == stop_reason::halted));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(halt_while_tasks_run) {
  auto st = settings(1);
  st.group_timeout_s = 600;
  script s({make("t0"), make("t1")}, st);
  s.start();
  CHECK_ACTIONS(s.feed(halt_event{"too many open files"}),
                (list{group_changed_action{}, changed(1)}));
  BOOST_TEST(s.feed(halt_event{"too many open files"}).empty());  // one error, not two
  CHECK_ACTIONS(s.exit(0, 0), (list{cancel(timer_kind::group_timeout, 0, 0), group_changed_action{},
                                    changed(0), finished_action{group_status::failed}}));
  BOOST_TEST(s.machine().errors() == (std::vector<std::string>{"too many open files"}));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(close_refusals_are_errors_of_a_group_that_stays_completed) {
  script s({make("t0"), make("t1")}, settings());
  s.start();
  s.exit(0, 0);
  s.exit(1, 0);
  s.feed(tests_done_event{test_status::passed, "", ""});
  CHECK_ACTIONS(
      s.feed(close_done_event{{1}, {"t0: permission denied"}}),
      (list{group_changed_action{}, changed(1), finished_action{group_status::completed}}));
  // SPEC section 10: recorded in `errors`, the group stays completed.
  BOOST_TEST(s.machine().errors() == (std::vector<std::string>{"closing: t0: permission denied"}));
  BOOST_TEST(!s.machine().state(0).closed_in_tracker);
  BOOST_TEST(s.machine().state(1).closed_in_tracker);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_task_another_actor_holds_is_skipped_and_what_waits_for_it_too) {
  auto st = settings(1);
  st.claims = true;
  auto after = make("after");
  after.waits_for = {0};
  script s({make("held"), after, make("free")}, st);
  CHECK_ACTIONS(s.start(), (list{launch(0, 1), group_changed_action{}, changed(0), changed(2)}));
  // The claim is refused: no retry, no fallback; the slot goes to `free`
  // (the ends are reported ahead of the launch).
  CHECK_ACTIONS(s.feed(claim_refused_event{0, 1, "bob"}),
                (list{changed(0), changed(1), launch(2, 1), changed(2)}));
  BOOST_TEST((s.machine().state(0).status == task_status::skipped));
  BOOST_TEST(s.machine().state(0).error == "claimed by bob");
  BOOST_TEST((s.machine().state(1).status == task_status::skipped));
  BOOST_TEST(s.machine().state(1).error == "not run: dependency held is skipped");
  // A late refusal of an attempt that already ended changes nothing.
  BOOST_TEST(s.feed(claim_refused_event{0, 1, "bob"}).empty());
  s.exit(2, 0);
  s.feed(tests_done_event{test_status::passed, "", ""});
  // `held` was attempted here and did not complete: it is named for
  // release (the runtime knows it never held it), after the close.
  CHECK_ACTIONS(s.feed(close_done_event{{2}, {}}),
                (list{release_claims_action{{0}}, group_changed_action{}, changed(2)}));
  CHECK_ACTIONS(s.feed(release_done_event{}),
                (list{group_changed_action{}, finished_action{group_status::completed}}));
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(claims_of_tasks_that_did_not_complete_are_released_before_the_end) {
  auto st = settings();
  st.claims = true;
  auto never = make("never");
  never.waits_for = {0};
  script s({make("fails"), never, make("works")}, st);
  s.start();
  s.exit(2, 0);
  // A failure: no tests, no close; the failed task is handed back (the
  // one that never launched is not), then the group ends.
  CHECK_ACTIONS(s.exit(0, 1),
                (list{release_claims_action{{0}}, group_changed_action{}, changed(0), changed(1)}));
  BOOST_TEST((s.machine().status() == group_status::running));
  BOOST_TEST((s.machine().phase() == group_phase::post_execution));
  // A stop while releasing waits for the tracker's answer.
  BOOST_TEST(s.feed(stop_event{stop_mode::graceful, "SIGTERM"}).size() <= 1);
  CHECK_ACTIONS(s.feed(release_done_event{{"fails: the tracker is read-only"}}),
                (list{group_changed_action{}, finished_action{group_status::cancelled}}));
  BOOST_TEST(s.machine().errors().back() == "releasing: fails: the tracker is read-only");
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(tasks_are_closed_blockers_first) {
  // bd refuses to close a task whose blocker is still open: the order is a
  // topological one (lowest index first among the ready), not the index.
  auto last = make("last");
  last.waits_for = {1};
  auto mid = make("mid");
  mid.waits_for = {2};
  script s({last, mid, make("first"), make("alone")}, settings());
  s.start();
  s.exit(2, 0);
  s.exit(3, 0);
  s.exit(1, 0);
  s.exit(0, 0);
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::passed, "", ""}),
                (list{close_tasks_action{{2, 1, 0, 3}}, group_changed_action{}}));
  s.feed(close_done_event{{0, 1, 2, 3}, {}});
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_task_that_depends_on_an_epic_is_closed_after_it) {
  // `after` depends on epic e (children c0 and c1, in this group), so it
  // waits for both children; bd refuses to close it while e is open, so e
  // comes between them: c0, c1, e, after.
  auto after = make("after");
  after.waits_for = {1, 2};
  group_epic e{"e", {1, 2}};
  e.dependents = {0};
  script s({after, make("c0"), make("c1")}, settings(), true, {e});
  s.start();
  s.exit(1, 0);
  s.exit(2, 0);
  s.exit(0, 0);
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::passed, "", ""}),
                (list{close_tasks_action{{1, 2, 0}, {0}, {2}}, group_changed_action{}}));
  BOOST_TEST((std::ostringstream() << action{close_tasks_action{{1, 2, 0}, {0}, {2}}}).str() ==
             "close_tasks(t1, t2, t0, epic 0 after 2)");
  s.feed(close_done_event{{0, 1, 2}, {}, {0}});
  BOOST_TEST(s.machine().epic_closed(0));
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(without_claims_nothing_is_released) {
  script s({make("fails")}, settings());
  s.start();
  CHECK_ACTIONS(s.exit(0, 1),
                (list{group_changed_action{}, changed(0), finished_action{group_status::failed}}));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(an_attempt_that_times_out_is_terminated_then_killed) {
  auto st = settings();
  st.default_timeout_s = 5;
  st.kill_grace_s = 2;
  script s({make("t0")}, st);
  s.start();
  const timer_id timeout{timer_kind::attempt_timeout, 0, 1};
  CHECK_ACTIONS(s.fire(timeout), (list{signal_action{0, 1, kill_signal::terminate},
                                       set(timer_kind::kill_grace, 0, 1, s.in(2s))}));
  CHECK_ACTIONS(s.fire({timer_kind::kill_grace, 0, 1}),
                (list{signal_action{0, 1, kill_signal::kill}}));
  CHECK_ACTIONS(s.feed(exited_event{0, 1, 137, 9}),
                (list{group_changed_action{}, changed(0), finished_action{group_status::failed}}));
  s.check_settled(group_status::failed);
}

// Under a run-level scheduler (`group_settings::scheduled`): the group
// launches only what is granted, and its commands wait for their turn.

BOOST_AUTO_TEST_CASE(a_scheduled_group_launches_only_what_it_is_granted) {
  auto st = settings(4);
  st.scheduled = true;
  script s({make("t0"), make("t1")}, st);
  CHECK_ACTIONS(s.start(), (list{group_changed_action{}, changed(0), changed(1)}));
  BOOST_TEST(s.machine().takes_launches());
  BOOST_TEST(s.machine().lane_head(0) == 0U);
  CHECK_ACTIONS(s.feed(launch_granted_event{1}), (list{launch(1, 1), changed(1)}));
  CHECK_ACTIONS(s.feed(launch_granted_event{1}), list{});  // running, not queued: ignored
  CHECK_ACTIONS(s.feed(room_event{}), list{});             // the scheduler decides, not the room
  s.feed(launch_granted_event{0});
  s.exit(0, 0);
  // The tests wait for their turn: the lifecycle says testing, no command runs.
  CHECK_ACTIONS(s.exit(1, 0), (list{group_changed_action{}, changed(1)}));
  BOOST_TEST(s.machine().wants_command());
  BOOST_TEST(!s.machine().command_running());
  CHECK_ACTIONS(s.feed(tests_done_event{test_status::passed, ""}), list{});  // not its run
  CHECK_ACTIONS(s.feed(command_granted_event{}),
                (list{run_tests_action{}, group_changed_action{}}));
  BOOST_TEST(s.machine().command_running());
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(a_stop_while_waiting_for_the_command_turn_ends_the_group_without_it) {
  auto st = settings(4);
  st.scheduled = true;
  st.refresh = true;
  st.refresh_timeout_s = 5;
  script refreshing({make("t0")}, st);
  refreshing.start();
  BOOST_TEST(refreshing.machine().wants_command());
  CHECK_ACTIONS(
      refreshing.feed(stop_event{stop_mode::graceful, "SIGINT"}),
      (list{group_changed_action{}, changed(0), finished_action{group_status::cancelled}}));
  BOOST_TEST(!refreshing.machine().wants_command());
  refreshing.check_settled(group_status::cancelled);

  st.refresh = false;
  script testing({make("t0")}, st);
  testing.start();
  testing.feed(launch_granted_event{0});
  testing.exit(0, 0);
  BOOST_TEST(testing.machine().wants_command());
  CHECK_ACTIONS(testing.feed(stop_event{stop_mode::graceful, "SIGINT"}),
                (list{group_changed_action{}, finished_action{group_status::cancelled}}));
  testing.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(a_halt_while_the_tests_wait_for_their_turn_runs_no_tests) {
  auto st = settings(4);
  st.scheduled = true;
  script s({make("t0")}, st);
  s.start();
  s.feed(launch_granted_event{0});
  s.exit(0, 0);
  CHECK_ACTIONS(s.feed(halt_event{"disk full"}),
                (list{group_changed_action{}, finished_action{group_status::failed}}));
  BOOST_TEST((s.machine().tests() == test_status::not_run));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(the_group_timeout_may_count_from_the_first_launch) {
  auto st = settings(4);
  st.scheduled = true;
  st.group_timeout_s = 10;
  st.timeout_from_first_launch = true;
  script s({make("t0")}, st);
  CHECK_ACTIONS(s.start(), (list{group_changed_action{}, changed(0)}));  // no timer yet
  s.advance(30s);
  CHECK_ACTIONS(s.feed(launch_granted_event{0}),
                (list{launch(0, 1), set(timer_kind::group_timeout, 0, 0, s.in(10s)), changed(0)}));
  s.exit(0, 0);
  BOOST_TEST(!s.armed({timer_kind::group_timeout, 0, 0}));
  s.feed(command_granted_event{});
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_SUITE_END()
