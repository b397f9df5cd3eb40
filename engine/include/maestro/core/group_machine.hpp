#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include <maestro/core/enum_names.hpp>

namespace maestro::core {

/// A point in time on the engine's monotonic clock. The core never reads a
/// clock: every event carries the time it happened.
using clock_time = std::chrono::steady_clock::time_point;

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

/// The signals the core asks for.
enum class kill_signal { terminate, kill };

/// The names above; "unknown" for a value outside the enum.
[[nodiscard]] std::string_view to_string(task_status s) noexcept;
[[nodiscard]] std::string_view to_string(group_phase p) noexcept;
[[nodiscard]] std::string_view to_string(group_status s) noexcept;
[[nodiscard]] std::string_view to_string(test_status s) noexcept;
[[nodiscard]] bool is_terminal(task_status s) noexcept;
[[nodiscard]] bool is_terminal(group_status s) noexcept;

/// One task of the group, as the runtime hands it to the core.
struct group_task {
  std::string id;
  long long priority = 2;
  /// Its agent followed by its fallback agents; never empty.
  std::vector<std::string> chain;
  /// Indices of tasks of this group that it waits for.
  std::vector<std::size_t> waits_for;
  /// Ids of blockers outside the run that are not satisfied yet.
  std::vector<std::string> blocked_by;
  /// `metadata.timeout_s`, which overrides the agent's limit.
  std::optional<double> timeout_s;
  /// Completed in an earlier run of this group (resume): not run again.
  bool already_completed = false;
  /// The agents of the attempts made by earlier runs (resume), in order, so
  /// that attempts keep counting and the history is kept.
  std::vector<std::string> earlier_agents;
};

/// Everything the core needs to know about limits and policies. Durations
/// are in seconds; a limit of 0 means "none".
struct group_settings {
  int max_concurrent = 4;
  std::optional<int> group_limit;
  std::map<std::string, int, std::less<>> agent_limits;
  std::map<std::string, double, std::less<>> agent_timeouts;
  double default_timeout_s = 3600;
  int retries = 0;
  double retry_backoff_s = 5;
  double tempfail_cooldown_s = 30;
  int tempfail_max = 10;
  double kill_grace_s = 10;
  double group_timeout_s = 0;
  double blocked_wait_s = 0;
  bool refresh = false;
  bool refresh_required = false;
  bool test_required = false;
  bool close_tasks = true;
  /// Seeds the jitter of retry and cool-down delays.
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
};

/// The exit code that asks for a later retry with the same agent.
inline constexpr int ex_tempfail = 75;

/// Which timer, for which task and which attempt. Stale timers (an attempt
/// that already ended) are recognised by `generation` and ignored.
enum class timer_kind : std::uint8_t {
  attempt_timeout,
  kill_grace,
  requeue,
  group_timeout,
  blocked_wait
};
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
struct source_closed_event {
  std::string id;  ///< a task the source now shows closed
};
struct tests_done_event {
  test_status status = test_status::none;
  std::string detail;
};
struct close_done_event {
  std::vector<std::size_t> closed;  ///< tasks the tracker closed
  std::vector<std::string> errors;  ///< one line per task it could not close
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
using event_body = std::variant<start_event, refresh_done_event, launched_event,
                                launch_failed_event, exited_event, timer_event, source_closed_event,
                                tests_done_event, close_done_event, stop_event, halt_event>;
struct event {
  clock_time now;
  event_body body;
};

// Actions: what the runtime must do, in order.
struct run_refresh_action {};
struct launch_action {
  std::size_t task = 0;
  std::uint32_t attempt = 0;  ///< 1 for the first launch; every launch counts
  std::string agent;
};
struct signal_action {
  std::size_t task = 0;
  std::uint32_t attempt = 0;
  kill_signal signal = kill_signal::terminate;
};
struct stop_commands_action {};  ///< end a running refresh or test command
struct set_timer_action {
  timer_id id;
  clock_time deadline;
};
struct cancel_timer_action {
  timer_id id;
};
struct run_tests_action {};
struct close_tasks_action {
  std::vector<std::size_t> tasks;
};
struct task_changed_action {
  std::size_t task = 0;
};
struct group_changed_action {};
struct finished_action {
  group_status status = group_status::completed;
};
using action =
    std::variant<run_refresh_action, launch_action, signal_action, stop_commands_action,
                 set_timer_action, cancel_timer_action, run_tests_action, close_tasks_action,
                 task_changed_action, group_changed_action, finished_action>;

/// What one attempt was: its agent and how it ended.
struct attempt_record {
  std::string agent;
  std::uint32_t number = 0;
  std::optional<int> exit_code;
  int signal = 0;
  bool timed_out = false;
  std::string error;  ///< for an attempt that could not start
};

/// A task's state as the core keeps it.
struct task_state {
  task_status status = task_status::pending;
  std::size_t chain_position = 0;
  int round = 0;
  int tempfails = 0;
  std::uint32_t attempts = 0;
  std::vector<attempt_record> history;
  std::optional<int> exit_code;
  std::string error;
  int pid = 0;
  int pgid = 0;
  std::optional<clock_time> started;
  std::optional<clock_time> finished;
  bool closed_in_tracker = false;
};

/// The pure state machine of one group: events in, actions out. It does no
/// I/O and reads no clock, so tests drive it with scripted events.
///
/// Limits: a task runs only while the group's running count is under
/// `max_concurrent` and `group_limit`, and its current agent's count is
/// under that agent's limit. A task whose agent is full does not hold back
/// tasks of other agents (ninja's pools). The queue is ordered by priority,
/// then input order.
class group_machine {
 public:
  group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel);
  // Not copyable: an index views the tasks' ids. Moving keeps them in place.
  group_machine(const group_machine&) = delete;
  group_machine& operator=(const group_machine&) = delete;
  group_machine(group_machine&&) noexcept = default;
  group_machine& operator=(group_machine&&) noexcept = default;
  ~group_machine() = default;

  /// Handles one event and returns the actions it calls for, in order.
  /// Events about attempts that already ended are ignored.
  [[nodiscard]] std::vector<action> handle(const event& e);

  [[nodiscard]] const std::vector<group_task>& tasks() const noexcept { return tasks_; }
  [[nodiscard]] const task_state& state(std::size_t task) const { return states_.at(task); }
  [[nodiscard]] group_phase phase() const noexcept { return phase_; }
  [[nodiscard]] group_status status() const noexcept { return status_; }
  [[nodiscard]] test_status tests() const noexcept { return test_status_; }
  [[nodiscard]] bool refresh_completed() const noexcept { return refresh_completed_; }
  [[nodiscard]] const std::vector<std::string>& errors() const noexcept { return errors_; }
  [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  [[nodiscard]] const group_settings& settings() const noexcept { return settings_; }
  [[nodiscard]] std::size_t running_count() const noexcept { return running_; }
  [[nodiscard]] std::size_t queued_count() const noexcept { return queued_; }
  /// The number of tasks with status `s`.
  [[nodiscard]] std::size_t count(task_status s) const noexcept;
  /// The time limit of an attempt of `task` with `agent`, 0 for none.
  [[nodiscard]] double attempt_timeout(std::size_t task, std::string_view agent) const;

 private:
  struct queue_key {
    long long priority;
    std::size_t task;
    // NOLINTNEXTLINE(modernize-use-nullptr): a false positive on defaulted <=>
    friend auto operator<=>(const queue_key&, const queue_key&) = default;
  };

  void on(const start_event& e, clock_time now);
  void on(const refresh_done_event& e, clock_time now);
  void on(const launched_event& e, clock_time now);
  void on(const launch_failed_event& e, clock_time now);
  void on(const exited_event& e, clock_time now);
  void on(const timer_event& e, clock_time now);
  void on(const source_closed_event& e, clock_time now);
  void on(const tests_done_event& e, clock_time now);
  void on(const close_done_event& e, clock_time now);
  void on(const stop_event& e, clock_time now);
  void on(const halt_event& e, clock_time now);

  void begin_tasks(clock_time now);
  void make_ready(std::size_t task);
  void enqueue(std::size_t task);
  void dequeue(std::size_t task);
  void dispatch(clock_time now);
  void launch(std::size_t task, clock_time now);
  void release(std::size_t task);
  void terminate(std::size_t task, clock_time now);
  void after_attempt(std::size_t task, clock_time now);
  void failed_attempt(std::size_t task, clock_time now);
  void requeue_later(std::size_t task, double delay_s, clock_time now);
  void finish_task(std::size_t task, task_status status, clock_time now, bool satisfies_dependents);
  void end_waiting_for_blockers();
  /// Launches have stopped: every task not running and not ended is
  /// `skipped` with `reason`.
  void skip_unstarted(const std::string& reason, clock_time now);
  /// Launches have stopped: the refresh, if it runs, is ended; otherwise
  /// the group goes on to post-execution once nothing runs.
  void wind_down(clock_time now);
  void set_timer(timer_kind kind, std::size_t task, clock_time deadline);
  void cancel_attempt_timers(std::size_t task);
  void set_status(std::size_t task, task_status s);
  void changed(std::size_t task);
  void group_changed();
  void maybe_post_execution(clock_time now);
  void conclude(clock_time now);
  void finish_group(clock_time now);
  double jitter(double seconds);
  [[nodiscard]] int agent_limit(std::string_view agent) const;
  [[nodiscard]] std::size_t group_slots() const;
  [[nodiscard]] const std::string& current_agent(std::size_t task) const;

  std::vector<group_task> tasks_;
  group_settings settings_;
  bool parallel_;
  std::vector<task_state> states_;
  std::vector<std::size_t> unmet_;                    // in-group dependencies not completed
  std::vector<std::vector<std::size_t>> dependents_;  // the reverse of waits_for
  std::vector<bool> delayed_;                         // queued behind a retry or cool-down timer
  std::vector<bool> reported_;  // scratch of `handle`; all false between events
  // Outside blockers still open, for the tasks that have any (few).
  std::map<std::size_t, std::set<std::string, std::less<>>> blockers_;
  std::multimap<std::string, std::size_t, std::less<>> blocked_on_;
  // Keys view `tasks_[i].id`: `tasks_` never changes after construction.
  std::unordered_map<std::string_view, std::size_t> index_of_;
  std::map<std::string, std::set<queue_key>, std::less<>> queues_;  // per agent
  std::map<std::string, int, std::less<>> agent_running_;
  std::array<std::size_t, enum_count<task_status>> status_counts_{};  // per task_status
  std::size_t running_ = 0;
  std::size_t queued_ = 0;
  std::size_t waiting_delay_ = 0;
  group_phase phase_ = group_phase::pre_execution;
  group_status status_ = group_status::pending;
  group_status final_ = group_status::completed;
  test_status test_status_ = test_status::not_run;
  bool refresh_completed_ = false;
  bool waiting_for_blockers_ = false;
  bool stopping_ = false;          // no more launches
  bool cancelled_ = false;         // stopped by a stop_event
  bool timed_out_ = false;         // stopped by the group timeout
  bool halted_ = false;            // stopped by a halt_event
  bool awaiting_command_ = false;  // refresh, tests or closing in flight
  bool concluded_ = false;
  bool finished_ = false;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  std::uint64_t rng_;
  std::vector<action>* out_ = nullptr;  // the actions of the event being handled
};

}  // namespace maestro::core
