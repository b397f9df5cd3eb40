#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_events.hpp>

namespace maestro::core {

/// Where a group is in its life. `phase()` and `status()` derive from it.
enum class group_lifecycle : std::uint8_t {
  pending,      ///< not started
  refreshing,   ///< the refresh command runs
  starting,     ///< its tasks are made ready (within the event that does it)
  running,      ///< its tasks run, or wait to
  testing,      ///< the test command runs
  integrating,  ///< the integration branch takes the tested work (`integrate_group_action`)
  closing,      ///< the tracker closes the completed tasks
  releasing,    ///< the tracker takes back the claims of tasks that did not complete
  finished,     ///< ended, after its tasks' phase
  dropped       ///< ended before its tasks' phase: cancelled before or during the refresh
};

constexpr auto enum_names(group_lifecycle) noexcept {
  return make_enum_table<group_lifecycle>({
      {group_lifecycle::pending, "pending"},
      {group_lifecycle::refreshing, "refreshing"},
      {group_lifecycle::starting, "starting"},
      {group_lifecycle::running, "running"},
      {group_lifecycle::testing, "testing"},
      {group_lifecycle::integrating, "integrating"},
      {group_lifecycle::closing, "closing"},
      {group_lifecycle::releasing, "releasing"},
      {group_lifecycle::finished, "finished"},
      {group_lifecycle::dropped, "dropped"},
  });
}

/// Why a group launches no more: a stop (`cancelled`) overrides the others;
/// otherwise the first cause holds.
enum class stop_reason : std::uint8_t { none, cancelled, timed_out, halted };

constexpr auto enum_names(stop_reason) noexcept {
  return make_enum_table<stop_reason>({
      {stop_reason::none, "none"},
      {stop_reason::cancelled, "cancelled"},
      {stop_reason::timed_out, "timed_out"},
      {stop_reason::halted, "halted"},
  });
}

/// The reason a group stopped for, once `why` happens to a group that
/// stopped for `current`.
[[nodiscard]] constexpr stop_reason stop_for(stop_reason current, stop_reason why) noexcept {
  return why == stop_reason::cancelled || current == stop_reason::none ? why : current;
}

[[nodiscard]] constexpr bool is_finished(group_lifecycle life) noexcept {
  return life == group_lifecycle::finished || life == group_lifecycle::dropped;
}

/// Whether the group waits for the refresh or test command, or the tracker.
[[nodiscard]] constexpr bool awaits_command(group_lifecycle life) noexcept {
  return life == group_lifecycle::refreshing || life == group_lifecycle::testing ||
         life == group_lifecycle::integrating || life == group_lifecycle::closing ||
         life == group_lifecycle::releasing;
}

/// The phase of a group at `life`: the Python coordinator's four.
[[nodiscard]] group_phase phase_of(group_lifecycle life) noexcept;

/// The status of a group at `life` that comes to `outcome` once finished.
[[nodiscard]] constexpr group_status status_of(group_lifecycle life,
                                               group_status outcome) noexcept {
  if (life == group_lifecycle::pending) {
    return group_status::pending;
  }
  return is_finished(life) ? outcome : group_status::running;
}

/// What a group that ended its tasks' phase comes to.
struct verdict_facts {
  std::size_t failed = 0;   ///< tasks that failed or timed out
  std::size_t blocked = 0;  ///< tasks still blocked
  test_status tests = test_status::not_run;
  bool test_required = false;
  bool timed_out = false;  ///< the group timed out
  bool any_error = false;  ///< the group has errors
  bool close_tasks = false;
};

struct group_verdict {
  group_status status = group_status::completed;
  /// The tracker closes the completed tasks before the group finishes.
  bool close_completed = false;
  friend bool operator==(const group_verdict&, const group_verdict&) = default;
};

/// A failure of any kind fails the group; else a task still blocked leaves
/// it incomplete; else it completed, and closes its tasks if asked to.
[[nodiscard]] group_verdict judge(const verdict_facts& f) noexcept;

/// How the test command ended, as the group reports it.
struct test_report {
  test_status status = test_status::not_run;
  std::string error;    ///< a line for the group's errors, or none
  std::string warning;  ///< a line for its warnings, or none
};

/// The report of the test run that ended with `e`, or that the core timed
/// out: no suite run is a warning, or an error when tests are required.
[[nodiscard]] test_report report_tests(const tests_done_event& e, bool timed_out,
                                       bool test_required);

}  // namespace maestro::core
