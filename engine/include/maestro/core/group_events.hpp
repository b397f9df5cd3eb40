#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <maestro/core/config.hpp>
#include <maestro/core/enum_names.hpp>

namespace maestro::core {

/// A point in time on the engine's monotonic clock. The core never reads a
/// clock: every event carries the time it happened.
using clock_time = std::chrono::steady_clock::time_point;

/// `seconds` after `now`, capped: a duration beyond the clock's range (a
/// task's timeout_s of 1e10 set by an embedding host) would wrap into the
/// past and fire at once.
[[nodiscard]] inline clock_time deadline_after(clock_time now, double seconds) {
  return now + std::chrono::duration_cast<clock_time::duration>(
                   std::chrono::duration<double>(capped_duration(seconds)));
}

/// A task's status (SPEC section 5).
enum class task_status {
  pending,    ///< waits for a task of its own group
  blocked,    ///< waits for a blocker outside the run
  queued,     ///< ready; waits for a free slot (or a retry delay)
  running,    ///< an attempt is running
  completed,  ///< an attempt exited 0
  failed,     ///< every attempt failed
  timed_out,  ///< every attempt failed, the last by timing out
  skipped,    ///< not run: closed in the source, a dependency did not complete, or the group timed
              ///< out
  cancelled   ///< the engine was stopped by a signal or a host's cancellation
};

/// The names of task statuses, as `metadata.json` and `--json` write them.
constexpr auto enum_names(task_status) noexcept {
  return make_enum_table<task_status>({
      {task_status::pending, "pending"},
      {task_status::blocked, "blocked"},
      {task_status::queued, "queued"},
      {task_status::running, "running"},
      {task_status::completed, "completed"},
      {task_status::failed, "failed"},
      {task_status::timed_out, "timed_out"},
      {task_status::skipped, "skipped"},
      {task_status::cancelled, "cancelled"},
  });
}

/// A group's phase: the Python coordinator's four.
enum class group_phase { pre_execution, concurrent_execution, coordination, post_execution };

constexpr auto enum_names(group_phase) noexcept {
  return make_enum_table<group_phase>({
      {group_phase::pre_execution, "pre_execution"},
      {group_phase::concurrent_execution, "concurrent_execution"},
      {group_phase::coordination, "coordination"},
      {group_phase::post_execution, "post_execution"},
  });
}

/// A group's status. `pending` before it starts, `running` until terminal.
enum class group_status { pending, running, completed, failed, incomplete, cancelled };

constexpr auto enum_names(group_status) noexcept {
  return make_enum_table<group_status>({
      {group_status::pending, "pending"},
      {group_status::running, "running"},
      {group_status::completed, "completed"},
      {group_status::failed, "failed"},
      {group_status::incomplete, "incomplete"},
      {group_status::cancelled, "cancelled"},
  });
}

/// The outcome of the test phase.
enum class test_status {
  not_run,  ///< not (yet) run: a task failed, or the group did not get there
  passed,
  failed,
  none  ///< no suite found, or the test command is "none": a warning, never a pass
};

constexpr auto enum_names(test_status) noexcept {
  return make_enum_table<test_status>({
      {test_status::not_run, "not_run"},
      {test_status::passed, "passed"},
      {test_status::failed, "failed"},
      {test_status::none, "none"},
  });
}

/// How to stop a group.
enum class stop_mode {
  graceful,  ///< SIGTERM to every child's process group, SIGKILL after the grace period
  immediate  ///< SIGKILL at once (a second SIGINT)
};

constexpr auto enum_names(stop_mode) noexcept {
  return make_enum_table<stop_mode>({
      {stop_mode::graceful, "graceful"},
      {stop_mode::immediate, "immediate"},
  });
}

/// The signals the core asks for.
enum class kill_signal { terminate, kill };

constexpr auto enum_names(kill_signal) noexcept {
  return make_enum_table<kill_signal>({
      {kill_signal::terminate, "terminate"},
      {kill_signal::kill, "kill"},
  });
}

/// The names above; "unknown" for a value outside the enum.
[[nodiscard]] std::string_view to_string(task_status s) noexcept;
[[nodiscard]] std::string_view to_string(group_phase p) noexcept;
[[nodiscard]] std::string_view to_string(group_status s) noexcept;
[[nodiscard]] std::string_view to_string(test_status s) noexcept;
[[nodiscard]] bool is_terminal(task_status s) noexcept;
[[nodiscard]] bool is_terminal(group_status s) noexcept;

/// Which timer, for which task (or command) and which attempt (or command
/// run). Stale timers (an attempt that already ended) are recognised by
/// `generation` and ignored.
enum class timer_kind : std::uint8_t {
  attempt_timeout,
  kill_grace,
  requeue,
  group_timeout,
  blocked_wait,
  command_timeout,  ///< the refresh or test command's time limit
  command_grace     ///< SIGKILL for a command that SIGTERM did not end
};

constexpr auto enum_names(timer_kind) noexcept {
  return make_enum_table<timer_kind>({
      {timer_kind::attempt_timeout, "attempt_timeout"},
      {timer_kind::kill_grace, "kill_grace"},
      {timer_kind::requeue, "requeue"},
      {timer_kind::group_timeout, "group_timeout"},
      {timer_kind::blocked_wait, "blocked_wait"},
      {timer_kind::command_timeout, "command_timeout"},
      {timer_kind::command_grace, "command_grace"},
  });
}

struct timer_id {
  timer_kind kind = timer_kind::group_timeout;
  std::size_t task = 0;
  std::uint32_t generation = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): a false positive on defaulted <=>
  friend auto operator<=>(const timer_id&, const timer_id&) = default;
};

// Events: what happened, delivered with the time it happened.
struct start_event {};
struct refresh_done_event {
  bool ok = true;
  std::string detail;
};
struct launched_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  int pid = 0;
  int pgid = 0;
};
struct launch_failed_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  std::string error;
};
struct exited_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  int exit_code = 0;  ///< the exit status, or 128 + signal
  int signal = 0;     ///< the signal that killed it, 0 if it exited
};
struct timer_event {
  timer_id id;
};
/// The tracker would not let the engine claim the task of `attempt`:
/// another actor holds it. The task is `skipped` (`claimed by HOLDER`) and
/// the attempt does not count. (Any other refusal of a claim is a
/// `launch_failed_event`: a failed attempt.)
struct claim_refused_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  std::string holder;
};
struct source_closed_event {
  std::string id;  ///< a task the source now shows closed
};
struct tests_done_event {
  test_status status = test_status::none;
  std::string detail;
  /// The command line that ran, if one did: a run the core timed out is
  /// `failed` with the detail "<command>: timed out".
  std::string command = {};
};
struct close_done_event {
  std::vector<std::size_t> closed;             ///< tasks the tracker closed
  std::vector<std::string> errors;             ///< one line per task or epic it could not close
  std::vector<std::size_t> closed_epics = {};  ///< indices into the machine's `epics()`
};
/// The tracker took back the claims of `release_claims_action`.
struct release_done_event {
  std::vector<std::string> errors;  ///< one line per task it could not release
};
struct stop_event {
  stop_mode mode = stop_mode::graceful;
  std::string reason;
};
/// The runtime cannot go on launching (descriptors or memory ran out, the
/// state cannot be written): nothing more is launched, the children that
/// run are left to end, failed attempts are not retried, and the group
/// fails with `reason` in its errors.
struct halt_event {
  std::string reason;
};
/// A limit pool that this group shares with others has room again: the
/// group tries to launch. (A group's own exits need no such event.)
struct room_event {};
/// Under a run-level scheduler: launch `task`, which is queued and first in
/// its lane; the scheduler took care that every pool has room.
struct launch_granted_event {
  std::size_t task = 0;
};
/// Under a run-level scheduler: the group's refresh or test command, which
/// waits for its turn (no other group runs one), may run now.
struct command_granted_event {};
/// The workspace of `attempt` of `task` is ready (`group_settings::integrate`):
/// its directory and its branch, recorded in the attempt's history.
struct workspace_ready_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  std::string worktree;
  std::string branch;
};
/// Where `attempt` of `task` runs, once the launcher knows: the job id a
/// cluster gave it (the Slurm launcher), recorded in the attempt's history.
struct placed_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  std::string job_id;
};
/// `integrate_action` ended: `attempt`'s work is in the group's branch, or
/// `error` says why not (a conflict, naming the files), which fails the
/// attempt.
struct integrated_event {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  std::string error;
};
/// `integrate_group_action` ended: the integration branch holds the
/// group's tested work, or `error` says why not, which fails the group.
struct group_integrated_event {
  std::string error;
};
using event_body =
    std::variant<start_event, refresh_done_event, launched_event, launch_failed_event, exited_event,
                 timer_event, claim_refused_event, source_closed_event, tests_done_event,
                 close_done_event, release_done_event, stop_event, halt_event, room_event,
                 launch_granted_event, command_granted_event, workspace_ready_event, placed_event,
                 integrated_event, group_integrated_event>;
struct event {
  clock_time now;
  event_body body;
};

// Actions: what the runtime must do, in order. They compare and print (one
// line each), so that tests can state the exact list an event calls for.
struct run_refresh_action {
  friend bool operator==(const run_refresh_action&, const run_refresh_action&) = default;
};
struct launch_action {
  std::size_t task = 0;
  std::uint32_t attempt = 0;  ///< 1 for the first launch; every launch counts
  std::string agent;
  friend bool operator==(const launch_action&, const launch_action&) = default;
};
struct signal_action {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  kill_signal signal = kill_signal::terminate;
  friend bool operator==(const signal_action&, const signal_action&) = default;
};
/// Signal the running refresh or test command's process group.
struct signal_command_action {
  kill_signal signal = kill_signal::terminate;
  friend bool operator==(const signal_command_action&, const signal_command_action&) = default;
};
struct set_timer_action {
  timer_id id;
  clock_time deadline;
  friend bool operator==(const set_timer_action&, const set_timer_action&) = default;
};
struct cancel_timer_action {
  timer_id id;
  friend bool operator==(const cancel_timer_action&, const cancel_timer_action&) = default;
};
struct run_tests_action {
  friend bool operator==(const run_tests_action&, const run_tests_action&) = default;
};
/// Close these tasks in the tracker, and these epics (indices into the
/// machine's `epics()`, nested ones first) after their children: each in
/// an order where what is closed comes after what blocks it.
struct close_tasks_action {
  std::vector<std::size_t> tasks;
  std::vector<std::size_t> epics = {};
  /// Per epic, how many of `tasks` are closed before it (a task that
  /// depends on the epic comes after it); empty: every epic after the tasks.
  std::vector<std::size_t> epic_slots = {};
  friend bool operator==(const close_tasks_action&, const close_tasks_action&) = default;
};
/// Hand back to the tracker the tasks the engine claimed that did not
/// complete (`group_settings::claims`): the last step before the group
/// finishes. The runtime knows which of them it did claim.
struct release_claims_action {
  std::vector<std::size_t> tasks;
  friend bool operator==(const release_claims_action&, const release_claims_action&) = default;
};
/// `attempt` of `task` exited 0 (`group_settings::integrate`): commit
/// what it left and merge its branch into the group's, then report
/// `integrated_event`. The task stays `running` meanwhile, holding no slot.
struct integrate_action {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  friend bool operator==(const integrate_action&, const integrate_action&) = default;
};
/// `attempt` of `task` ended without its work merged (it failed, was
/// stopped, or its merge conflicted): its workspace is kept or removed
/// (`group_settings::integrate`). Its child has exited.
struct discard_workspace_action {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  friend bool operator==(const discard_workspace_action&,
                         const discard_workspace_action&) = default;
};
/// The group passed its test phase (`group_settings::integrate`): move the
/// integration branch to what was tested, then report
/// `group_integrated_event`.
struct integrate_group_action {
  friend bool operator==(const integrate_group_action&, const integrate_group_action&) = default;
};
/// The task's state changed: at most one per task per event, in the order
/// of their first change, after the event's other actions (but `finished`).
struct task_changed_action {
  std::size_t task = 0;
  friend bool operator==(const task_changed_action&, const task_changed_action&) = default;
};
/// The group's state changed: at most one per event, after the event's
/// launches, signals and timers.
struct group_changed_action {
  friend bool operator==(const group_changed_action&, const group_changed_action&) = default;
};
/// The group ended: always the last action.
struct finished_action {
  group_status status = group_status::completed;
  friend bool operator==(const finished_action&, const finished_action&) = default;
};
using action = std::variant<run_refresh_action, launch_action, signal_action, signal_command_action,
                            set_timer_action, cancel_timer_action, run_tests_action,
                            close_tasks_action, release_claims_action, integrate_action,
                            discard_workspace_action, integrate_group_action, task_changed_action,
                            group_changed_action, finished_action>;

/// One readable line, such as `launch(t0#1, a)`: `tN` is the task of index
/// N, `#K` the attempt (or a timer's generation); deadlines in seconds
/// since the clock's epoch.
std::ostream& operator<<(std::ostream& out, const timer_id& id);
std::ostream& operator<<(std::ostream& out, const action& a);

}  // namespace maestro::core
