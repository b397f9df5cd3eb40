#include <boost/test/unit_test.hpp>

#include <maestro/core/group_lifecycle.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(group_lifecycle_tests)

BOOST_AUTO_TEST_CASE(each_stage_has_its_phase) {
  BOOST_TEST((phase_of(group_lifecycle::pending) == group_phase::pre_execution));
  BOOST_TEST((phase_of(group_lifecycle::refreshing) == group_phase::pre_execution));
  BOOST_TEST((phase_of(group_lifecycle::starting) == group_phase::concurrent_execution));
  BOOST_TEST((phase_of(group_lifecycle::running) == group_phase::coordination));
  BOOST_TEST((phase_of(group_lifecycle::testing) == group_phase::post_execution));
  BOOST_TEST((phase_of(group_lifecycle::closing) == group_phase::post_execution));
  BOOST_TEST((phase_of(group_lifecycle::finished) == group_phase::post_execution));
  BOOST_TEST((phase_of(group_lifecycle::dropped) == group_phase::pre_execution));
  for (const auto life : all_values<group_lifecycle>()) {
    BOOST_TEST(is_finished(life) ==
               (life == group_lifecycle::finished || life == group_lifecycle::dropped));
  }
}

BOOST_AUTO_TEST_CASE(a_group_is_pending_then_running_until_it_finishes) {
  const auto failed = group_status::failed;
  BOOST_TEST((status_of(group_lifecycle::pending, failed) == group_status::pending));
  BOOST_TEST((status_of(group_lifecycle::refreshing, failed) == group_status::running));
  BOOST_TEST((status_of(group_lifecycle::closing, failed) == group_status::running));
  BOOST_TEST((status_of(group_lifecycle::finished, failed) == failed));
  BOOST_TEST(
      (status_of(group_lifecycle::dropped, group_status::cancelled) == group_status::cancelled));
}

BOOST_AUTO_TEST_CASE(a_cancellation_overrides_the_first_cause_holds_otherwise) {
  BOOST_TEST((stop_for(stop_reason::none, stop_reason::halted) == stop_reason::halted));
  BOOST_TEST((stop_for(stop_reason::halted, stop_reason::timed_out) == stop_reason::halted));
  BOOST_TEST((stop_for(stop_reason::timed_out, stop_reason::halted) == stop_reason::timed_out));
  BOOST_TEST((stop_for(stop_reason::timed_out, stop_reason::cancelled) == stop_reason::cancelled));
  BOOST_TEST((stop_for(stop_reason::cancelled, stop_reason::halted) == stop_reason::cancelled));
}

BOOST_AUTO_TEST_CASE(a_clean_group_completes_and_closes_its_tasks_if_asked) {
  verdict_facts f;
  f.tests = test_status::passed;
  BOOST_TEST((judge(f) == group_verdict{group_status::completed, false}));
  f.close_tasks = true;
  BOOST_TEST((judge(f) == group_verdict{group_status::completed, true}));
  f.tests = test_status::none;  // no suite: a warning, unless tests are required
  BOOST_TEST((judge(f) == group_verdict{group_status::completed, true}));
}

BOOST_AUTO_TEST_CASE(any_failure_fails_the_group_and_closes_nothing) {
  verdict_facts base;
  base.tests = test_status::passed;
  base.close_tasks = true;
  base.blocked = 1;  // a failure outweighs a blocked task
  auto f = base;
  f.failed = 1;
  BOOST_TEST((judge(f) == group_verdict{group_status::failed, false}));
  f = base;
  f.tests = test_status::failed;
  BOOST_TEST((judge(f) == group_verdict{group_status::failed, false}));
  f = base;
  f.tests = test_status::none;
  f.test_required = true;
  BOOST_TEST((judge(f) == group_verdict{group_status::failed, false}));
  f = base;
  f.timed_out = true;
  BOOST_TEST((judge(f) == group_verdict{group_status::failed, false}));
  f = base;
  f.any_error = true;
  BOOST_TEST((judge(f) == group_verdict{group_status::failed, false}));
}

BOOST_AUTO_TEST_CASE(a_blocked_task_leaves_the_group_incomplete) {
  verdict_facts f;
  f.blocked = 2;
  f.close_tasks = true;
  BOOST_TEST((judge(f) == group_verdict{group_status::incomplete, false}));
}

BOOST_AUTO_TEST_CASE(a_test_run_reports_a_failure_as_an_error) {
  const auto r = report_tests({test_status::failed, "2 failed"}, false, false);
  BOOST_TEST((r.status == test_status::failed));
  BOOST_TEST(r.error == "tests failed: 2 failed");
  BOOST_TEST(r.warning.empty());
  BOOST_TEST(report_tests({test_status::failed, ""}, false, false).error == "tests failed");
  const auto passed = report_tests({test_status::passed, "ok"}, false, true);
  BOOST_TEST((passed.status == test_status::passed));
  BOOST_TEST(passed.error.empty());
  BOOST_TEST(passed.warning.empty());
}

BOOST_AUTO_TEST_CASE(a_test_run_the_core_timed_out_failed) {
  const auto r = report_tests({test_status::passed, "ignored", "make test"}, true, false);
  BOOST_TEST((r.status == test_status::failed));
  BOOST_TEST(r.error == "tests failed: make test: timed out");
  BOOST_TEST(report_tests({test_status::none, ""}, true, false).error == "tests failed: timed out");
}

BOOST_AUTO_TEST_CASE(no_suite_is_a_warning_unless_tests_are_required) {
  const auto optional = report_tests({test_status::none, "no runner"}, false, false);
  BOOST_TEST((optional.status == test_status::none));
  BOOST_TEST(optional.warning == "no test suite was run (no runner)");
  BOOST_TEST(optional.error.empty());
  const auto required = report_tests({test_status::none, ""}, false, true);
  BOOST_TEST(required.error == "no test suite was run and test.required is true");
  BOOST_TEST(required.warning.empty());
}

BOOST_AUTO_TEST_SUITE_END()
