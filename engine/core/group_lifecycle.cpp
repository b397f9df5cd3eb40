#include <string>

#include <maestro/core/group_lifecycle.hpp>

namespace maestro::core {

group_phase phase_of(group_lifecycle life) noexcept {
  switch (life) {
    case group_lifecycle::starting:
      return group_phase::concurrent_execution;
    case group_lifecycle::running:
      return group_phase::coordination;
    case group_lifecycle::testing:
    case group_lifecycle::integrating:
    case group_lifecycle::closing:
    case group_lifecycle::releasing:
    case group_lifecycle::finished:
      return group_phase::post_execution;
    case group_lifecycle::pending:
    case group_lifecycle::refreshing:
    case group_lifecycle::dropped:
      break;
  }
  return group_phase::pre_execution;
}

group_verdict judge(const verdict_facts& f) noexcept {
  const bool tests_failed =
      f.tests == test_status::failed || (f.tests == test_status::none && f.test_required);
  if (f.failed > 0 || tests_failed || f.timed_out || f.any_error) {
    return {group_status::failed, false};
  }
  if (f.blocked > 0) {
    return {group_status::incomplete, false};
  }
  return {group_status::completed, f.close_tasks};
}

test_report report_tests(const tests_done_event& e, bool timed_out, bool test_required) {
  test_report r{timed_out ? test_status::failed : e.status, {}, {}};
  const std::string detail =
      timed_out ? (e.command.empty() ? "" : e.command + ": ") + "timed out" : e.detail;
  if (r.status == test_status::failed) {
    r.error = "tests failed" + (detail.empty() ? std::string{} : ": " + detail);
  } else if (r.status == test_status::none) {
    const std::string what =
        "no test suite was run" + (detail.empty() ? std::string{} : " (" + detail + ")");
    if (test_required) {
      r.error = what + " and test.required is true";
    } else {
      r.warning = what;
    }
  }
  return r;
}

}  // namespace maestro::core
