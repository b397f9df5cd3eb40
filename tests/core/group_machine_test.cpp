#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/group_machine.hpp>

#include "group_script.hpp"

using namespace maestro::core;
using namespace maestro::core::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(group_machine_tests)

BOOST_AUTO_TEST_CASE(global_limit_and_priority_order) {
  script s({make("t1", {"a"}, 2), make("t2", {"a"}, 0), make("t3", {"a"}, 2), make("t4", {"a"}, 1)},
           settings(2));
  s.start();
  BOOST_TEST(s.launches() == (ids{"t2:a", "t4:a"}));
  BOOST_TEST(s.machine().running_count() == 2U);
  BOOST_TEST((s.status(0) == task_status::queued));
  s.exit(1, 0);  // t2 done: the next by priority, then input order
  BOOST_TEST(s.launches() == (ids{"t1:a"}));
  s.exit(3, 0);
  BOOST_TEST(s.launches() == (ids{"t3:a"}));
  s.exit(0, 0);
  BOOST_TEST(s.launches().empty());
  BOOST_TEST(!s.has<run_tests_action>());
  s.exit(2, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST(s.machine().state(i).closed_in_tracker);
  }
}

BOOST_AUTO_TEST_CASE(full_agent_does_not_hold_back_others) {
  auto st = settings(3);
  st.agent_limits["slow"] = 1;
  script s({make("s1", {"slow"}, 0), make("s2", {"slow"}, 0), make("f1", {"fast"}, 4),
            make("f2", {"fast"}, 4)},
           st);
  s.start();
  // s2 outranks f1 and f2 but its agent is full.
  BOOST_TEST(s.launches() == (ids{"s1:slow", "f1:fast", "f2:fast"}));
  s.exit(2, 0);
  BOOST_TEST(s.launches().empty());
  s.exit(0, 0);
  BOOST_TEST(s.launches() == (ids{"s2:slow"}));
  s.exit(3, 0);
  s.exit(1, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(group_limit_caps_below_global) {
  auto st = settings(4);
  st.group_limit = 1;
  script s({make("a"), make("b")}, st);
  s.start();
  BOOST_TEST(s.launches() == (ids{"a:a"}));
  s.exit(0, 0);
  BOOST_TEST(s.launches() == (ids{"b:a"}));
  s.exit(1, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(fallback_agents_then_retries_with_backoff) {
  auto st = settings();
  st.retries = 1;
  st.retry_backoff_s = 10;
  script s({make("t", {"primary", "backup"})}, st);
  s.start();
  BOOST_TEST(s.launches() == (ids{"t:primary"}));
  s.exit(0, 1);
  BOOST_TEST(s.launches() == (ids{"t:backup"}));  // the next agent at once
  BOOST_TEST(s.all<launch_action>().at(0).attempt == 2U);
  s.exit(0, 2);
  // Chain used up: the whole chain again after the jittered back-off.
  BOOST_TEST(s.launches().empty());
  const auto timer = s.timer(timer_kind::requeue);
  BOOST_TEST_REQUIRE(timer.has_value());
  const auto delay = std::chrono::duration<double>(timer->deadline - s.now()).count();
  BOOST_TEST(delay >= 8.0);
  BOOST_TEST(delay <= 12.0);
  BOOST_TEST((s.status(0) == task_status::queued));
  s.advance(12s);
  s.feed(timer_event{timer->id});
  BOOST_TEST(s.launches() == (ids{"t:primary"}));
  s.exit(0, 3);
  BOOST_TEST(s.launches() == (ids{"t:backup"}));
  s.exit(0, 4);
  BOOST_TEST((s.status(0) == task_status::failed));
  BOOST_TEST(s.machine().state(0).attempts == 4U);
  BOOST_TEST(s.machine().state(0).history.size() == 4U);
  BOOST_TEST(!s.has<run_tests_action>());  // a failed task skips the tests
  s.check_settled(group_status::failed);
  BOOST_TEST_REQUIRE(s.machine().errors().size() == 1U);
  BOOST_TEST(s.machine().errors()[0] ==
             "task t failed after 4 attempts: attempt 4 (backup): exit code 4");
}

BOOST_AUTO_TEST_CASE(tempfail_is_requeued_with_the_same_agent) {
  auto st = settings();
  st.tempfail_cooldown_s = 30;
  st.tempfail_max = 2;
  script s({make("t", {"a", "b"})}, st);
  s.start();
  for (int round = 0; round < 2; ++round) {
    s.exit(0, ex_tempfail);
    BOOST_TEST(s.launches().empty());
    const auto timer = s.timer(timer_kind::requeue);
    BOOST_TEST_REQUIRE(timer.has_value());
    const auto delay = std::chrono::duration<double>(timer->deadline - s.now()).count();
    BOOST_TEST(delay >= 24.0);
    BOOST_TEST(delay <= 36.0);
    s.advance(40s);
    s.feed(timer_event{timer->id});
    BOOST_TEST(s.launches() == (ids{"t:a"}));  // the same agent
  }
  // tempfail_max reached: now it counts as a failure and moves on.
  s.exit(0, ex_tempfail);
  BOOST_TEST(s.launches() == (ids{"t:b"}));
  s.exit(0, 0);
  pass_tests_and_close(s);
  BOOST_TEST(s.machine().state(0).attempts == 4U);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(timeout_terminates_then_kills_the_process_group) {
  auto st = settings();
  st.default_timeout_s = 5;
  st.kill_grace_s = 2;
  script s({make("t")}, st);
  s.start();
  const auto timeout = s.timer(timer_kind::attempt_timeout);
  BOOST_TEST_REQUIRE(timeout.has_value());
  BOOST_TEST((timeout->deadline - s.now() == 5s));
  s.feed(launched_event{0, 1, 4242, 4242});
  BOOST_TEST(s.machine().state(0).pid == 4242);
  s.advance(5s);
  s.feed(timer_event{timeout->id});
  const auto signals = s.all<signal_action>();
  BOOST_TEST_REQUIRE(signals.size() == 1U);
  BOOST_TEST((signals[0].signal == kill_signal::terminate));
  const auto grace = s.timer(timer_kind::kill_grace);
  BOOST_TEST_REQUIRE(grace.has_value());
  s.advance(2s);
  s.feed(timer_event{grace->id});
  BOOST_TEST_REQUIRE(s.all<signal_action>().size() == 1U);
  BOOST_TEST((s.all<signal_action>()[0].signal == kill_signal::kill));
  s.feed(exited_event{0, 1, 137, 9});
  BOOST_TEST((s.status(0) == task_status::timed_out));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(metadata_timeout_overrides_agent_timeout) {
  auto st = settings();
  st.default_timeout_s = 100;
  st.agent_timeouts["quick"] = 7;
  auto t = make("t", {"quick", "slow"});
  script s({t}, st);
  BOOST_TEST(s.machine().attempt_timeout(0, "quick") == 7.0);
  BOOST_TEST(s.machine().attempt_timeout(0, "slow") == 100.0);
  t.timeout_s = 3;
  script s2({t}, st);
  BOOST_TEST(s2.machine().attempt_timeout(0, "quick") == 3.0);
}

BOOST_AUTO_TEST_CASE(huge_timeouts_set_timers_far_in_the_future) {
  // 1e10 s is beyond std::chrono::nanoseconds: unchecked, the deadline
  // wrapped into the past and the attempt timed out at once. Capped at
  // max_duration_s (1e9 s, about 31 years) instead.
  constexpr auto thirty_years = std::chrono::hours(24 * 365 * 30);
  for (const double huge : {1e10, 1e300, std::numeric_limits<double>::infinity()}) {
    auto st = settings();
    st.group_timeout_s = huge;
    auto t = make("t");
    t.timeout_s = huge;
    script s({t}, st);
    s.advance(std::chrono::hours(24 * 365));  // a clock well past its epoch
    s.start();
    const auto attempt = s.timer(timer_kind::attempt_timeout);
    BOOST_TEST_REQUIRE(attempt.has_value());
    BOOST_TEST((attempt->deadline - s.now() > thirty_years), huge);
    BOOST_TEST((attempt->deadline - s.now() == std::chrono::seconds(1'000'000'000)), huge);
    const auto group = s.timer(timer_kind::group_timeout);
    BOOST_TEST_REQUIRE(group.has_value());
    BOOST_TEST((group->deadline - s.now() > thirty_years), huge);
  }
}

BOOST_AUTO_TEST_CASE(launch_failure_is_a_failed_attempt) {
  script s({make("t", {"missing", "present"}), make("u")}, settings(1));
  s.start();
  BOOST_TEST(s.launches() == (ids{"t:missing"}));
  s.feed(launch_failed_event{0, 1, "./nope: No such file or directory"});
  BOOST_TEST(s.launches() == (ids{"t:present"}));
  BOOST_TEST(s.machine().state(0).history[0].error == "./nope: No such file or directory");
  s.exit(0, 0);
  BOOST_TEST(s.launches() == (ids{"u:a"}));
  s.exit(1, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(one_failure_leaves_the_others_running) {
  script s({make("bad"), make("good"), make("later")}, settings(2));
  s.start();
  s.exit(0, 3);
  BOOST_TEST((s.status(0) == task_status::failed));
  BOOST_TEST(s.launches() == (ids{"later:a"}));
  BOOST_TEST((s.status(1) == task_status::running));
  s.exit(1, 0);
  s.exit(2, 0);
  BOOST_TEST((s.status(2) == task_status::completed));
  s.check_settled(group_status::failed);
  BOOST_TEST(s.machine().errors().size() == 1U);
}

BOOST_AUTO_TEST_CASE(in_group_dependencies_wait_and_failures_skip_dependents) {
  auto base = make("base");
  auto mid = make("mid");
  mid.waits_for = {0};
  auto top = make("top");
  top.waits_for = {1};
  script s({base, mid, top}, settings());
  s.start();
  BOOST_TEST(s.launches() == (ids{"base:a"}));
  BOOST_TEST((s.status(1) == task_status::pending));
  s.exit(0, 0);
  BOOST_TEST(s.launches() == (ids{"mid:a"}));
  s.exit(1, 9);
  BOOST_TEST((s.status(2) == task_status::skipped));
  BOOST_TEST(s.machine().state(2).error == "not run: dependency mid is failed");
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(blocked_without_waiting_leaves_the_group_incomplete) {
  auto blocked = make("blocked");
  blocked.blocked_by = {"outside"};
  auto behind = make("behind");
  behind.waits_for = {0};
  script s({blocked, behind, make("free")}, settings());
  s.start();
  BOOST_TEST(s.launches() == (ids{"free:a"}));
  BOOST_TEST((s.status(0) == task_status::blocked));
  BOOST_TEST((s.status(1) == task_status::blocked));
  s.exit(2, 0);
  s.feed(tests_done_event{test_status::passed, ""});
  BOOST_TEST(!s.has<close_tasks_action>());  // only a completed group closes
  s.check_settled(group_status::incomplete);
}

BOOST_AUTO_TEST_CASE(blocked_task_launches_when_its_blocker_closes) {
  auto st = settings();
  st.blocked_wait_s = 60;
  auto blocked = make("blocked");
  blocked.blocked_by = {"x", "y"};
  script s({blocked}, st);
  s.start();
  BOOST_TEST(s.launches().empty());
  BOOST_TEST(s.timer(timer_kind::blocked_wait).has_value());
  s.feed(source_closed_event{"x"});
  BOOST_TEST(s.launches().empty());
  s.feed(source_closed_event{"y"});
  BOOST_TEST(s.launches() == (ids{"blocked:a"}));
  s.exit(0, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(blocked_wait_expires) {
  auto st = settings();
  st.blocked_wait_s = 60;
  auto blocked = make("blocked");
  blocked.blocked_by = {"x"};
  script s({blocked}, st);
  s.start();
  const auto wait = s.timer(timer_kind::blocked_wait);
  BOOST_TEST_REQUIRE(wait.has_value());
  s.advance(60s);
  s.feed(timer_event{wait->id});
  BOOST_TEST(s.has<run_tests_action>());
  s.feed(tests_done_event{test_status::passed, ""});
  s.check_settled(group_status::incomplete);
}

BOOST_AUTO_TEST_CASE(queued_task_closed_in_the_source_is_skipped) {
  script s({make("run"), make("closed-early"), make("after")}, settings(1));
  s.start();
  s.feed(source_closed_event{"closed-early"});
  BOOST_TEST((s.status(1) == task_status::skipped));
  BOOST_TEST(s.machine().state(1).closed_in_tracker);
  s.exit(0, 0);
  BOOST_TEST(s.launches() == (ids{"after:a"}));
  s.exit(2, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);  // a skip does not fail the group
}

BOOST_AUTO_TEST_CASE(group_timeout_ends_running_and_skips_waiting) {
  auto st = settings(1);
  st.group_timeout_s = 30;
  script s({make("long"), make("waiting")}, st);
  s.start();
  const auto timeout = s.timer(timer_kind::group_timeout);
  BOOST_TEST_REQUIRE(timeout.has_value());
  s.advance(30s);
  s.feed(timer_event{timeout->id});
  BOOST_TEST((s.status(1) == task_status::skipped));
  BOOST_TEST((s.all<signal_action>().at(0).signal == kill_signal::terminate));
  s.feed(exited_event{0, 1, 143, 15});
  BOOST_TEST((s.status(0) == task_status::timed_out));
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_CASE(graceful_stop_cancels_everything) {
  script s({make("r1"), make("r2"), make("q")}, settings(2));
  s.start();
  s.feed(stop_event{stop_mode::graceful, "SIGINT"});
  BOOST_TEST(s.all<signal_action>().size() == 2U);
  BOOST_TEST((s.status(2) == task_status::cancelled));
  BOOST_TEST(s.launches().empty());
  s.exit(0, 143);
  BOOST_TEST(!s.has<finished_action>());
  s.feed(stop_event{stop_mode::immediate, "second SIGINT"});
  BOOST_TEST_REQUIRE(s.all<signal_action>().size() == 1U);
  BOOST_TEST((s.all<signal_action>()[0].signal == kill_signal::kill));
  s.exit(1, 137);
  BOOST_TEST(s.has<finished_action>());
  BOOST_TEST((s.status(0) == task_status::cancelled));
  s.check_settled(group_status::cancelled);
}

BOOST_AUTO_TEST_CASE(tests_decide_the_outcome) {
  {
    script s({make("t")}, settings());
    s.start();
    s.exit(0, 0);
    s.feed(tests_done_event{test_status::failed, "exit code 1"});
    BOOST_TEST(!s.has<close_tasks_action>());
    s.check_settled(group_status::failed);
    BOOST_TEST(s.machine().errors().at(0) == "tests failed: exit code 1");
  }
  {
    script s({make("t")}, settings());
    s.start();
    s.exit(0, 0);
    s.feed(tests_done_event{test_status::none, "no suite found"});
    BOOST_TEST(s.has<close_tasks_action>());
    s.feed(close_done_event{{0}, {}});
    s.check_settled(group_status::completed);
    BOOST_TEST(s.machine().warnings().at(0) == "no test suite was run (no suite found)");
  }
  {
    auto st = settings();
    st.test_required = true;
    script s({make("t")}, st);
    s.start();
    s.exit(0, 0);
    s.feed(tests_done_event{test_status::none, ""});
    s.check_settled(group_status::failed);
  }
}

BOOST_AUTO_TEST_CASE(refresh_runs_before_a_parallel_group_only) {
  auto st = settings();
  st.refresh = true;
  {
    script s({make("t")}, st);
    s.start();
    BOOST_TEST(s.has<run_refresh_action>());
    BOOST_TEST(s.launches().empty());
    s.feed(refresh_done_event{false, "exit code 1"});
    BOOST_TEST(s.launches() == (ids{"t:a"}));  // not required: a warning
    BOOST_TEST(!s.machine().refresh_completed());
    s.exit(0, 0);
    pass_tests_and_close(s);
    s.check_settled(group_status::completed);
  }
  {
    script s({make("t")}, st, false);  // a sequential stage
    s.start();
    BOOST_TEST(!s.has<run_refresh_action>());
    BOOST_TEST(s.launches() == (ids{"t:a"}));
    s.exit(0, 0);
    pass_tests_and_close(s);
    s.check_settled(group_status::completed);
  }
  {
    st.refresh_required = true;
    script s({make("t")}, st);
    s.start();
    s.feed(refresh_done_event{false, "exit code 1"});
    BOOST_TEST(s.launches().empty());
    BOOST_TEST((s.status(0) == task_status::skipped));
    s.check_settled(group_status::failed);
  }
}

BOOST_AUTO_TEST_CASE(stale_events_are_ignored) {
  script s({make("t", {"a", "b"})}, settings());
  s.start();
  s.exit(0, 1);  // attempt 1 failed, attempt 2 runs
  BOOST_TEST(s.feed(exited_event{0, 1, 0, 0}).empty());
  BOOST_TEST(s.feed(timer_event{{timer_kind::attempt_timeout, 0, 1}}).empty());
  BOOST_TEST((s.status(0) == task_status::running));
  s.exit(0, 0);
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
  BOOST_TEST(s.feed(start_event{}).empty());  // finished: nothing more happens
}

BOOST_AUTO_TEST_CASE(completed_before_resume_is_not_run_again) {
  auto done = make("done");
  done.already_completed = true;
  done.earlier_agents = {"a"};
  auto next = make("next");
  next.waits_for = {0};
  next.earlier_agents = {"a", "a"};
  script s({done, next}, settings());
  s.start();
  BOOST_TEST(s.launches() == (ids{"next:a"}));
  BOOST_TEST(s.all<launch_action>().at(0).attempt == 3U);
  s.exit(1, 0);
  BOOST_TEST(s.machine().state(1).history.size() == 3U);  // the earlier attempts are kept
  pass_tests_and_close(s);
  s.check_settled(group_status::completed);
}

BOOST_AUTO_TEST_CASE(halt_stops_launches_and_lets_running_children_end) {
  auto st = settings(2);
  st.retries = 3;
  script s({make("t1", {"a", "b"}), make("t2"), make("t3"), make("t4")}, st);
  s.start();
  BOOST_TEST(s.launches() == (ids{"t1:a", "t2:a"}));
  s.feed(halt_event{"cannot start agents: too many open files"});
  // Nothing is signalled: the running children are left to end.
  BOOST_TEST(!s.has<signal_action>());
  BOOST_TEST(s.launches().empty());
  BOOST_TEST((s.status(2) == task_status::skipped));
  BOOST_TEST((s.status(3) == task_status::skipped));
  BOOST_TEST(s.machine().state(2).error == "not run: cannot start agents: too many open files");
  // A failed attempt is neither retried nor handed to a fallback.
  s.exit(0, 1);
  BOOST_TEST(s.launches().empty());
  BOOST_TEST((s.status(0) == task_status::failed));
  BOOST_TEST(!s.has<finished_action>());
  s.exit(1, 0);
  BOOST_TEST((s.status(1) == task_status::completed));
  BOOST_TEST(!s.has<run_tests_action>());
  BOOST_TEST(s.has<finished_action>());
  s.check_settled(group_status::failed);
  BOOST_TEST(s.machine().errors().front() == "cannot start agents: too many open files");
}

BOOST_AUTO_TEST_CASE(halt_during_the_refresh_stops_it_and_fails_the_group) {
  auto st = settings(2);
  st.refresh = true;
  script s({make("t1")}, st);
  s.start();
  BOOST_TEST_REQUIRE(s.has<run_refresh_action>());
  s.feed(halt_event{"state cannot be written"});
  BOOST_TEST(s.has<signal_command_action>());
  s.feed(refresh_done_event{false, "killed by signal 15"});
  BOOST_TEST(s.launches().empty());
  s.check_settled(group_status::failed);
}

BOOST_AUTO_TEST_SUITE_END()
