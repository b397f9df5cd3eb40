#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/dependency_tracker.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_events.hpp>
#include <maestro/core/group_settings.hpp>
#include <maestro/core/limit_pool.hpp>
#include <maestro/core/ready_queue.hpp>
#include <maestro/core/retry_policy.hpp>

namespace maestro::core {

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

/// What one attempt was: its agent and how it ended.
struct attempt_record {
  std::string agent;
  std::uint32_t number = 0;
  std::optional<int> exit_code;
  int signal = 0;
  bool timed_out = false;
  std::string error;  ///< for an attempt that could not start
};

/// How an attempt ended, in words: "exit code 3", "timed out", ...
[[nodiscard]] std::string describe(const attempt_record& a);

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

/// Where a group is in its life. `phase()` and `status()` derive from it.
enum class group_lifecycle : std::uint8_t {
  pending,     ///< not started
  refreshing,  ///< the refresh command runs
  starting,    ///< its tasks are made ready (within the event that does it)
  running,     ///< its tasks run, or wait to
  testing,     ///< the test command runs
  closing,     ///< the tracker closes the completed tasks
  finished,    ///< ended, after its tasks' phase
  dropped      ///< ended before its tasks' phase: cancelled before or during the refresh
};

constexpr auto enum_names(group_lifecycle) noexcept {
  return make_enum_table<group_lifecycle>({
      {group_lifecycle::pending, "pending"},
      {group_lifecycle::refreshing, "refreshing"},
      {group_lifecycle::starting, "starting"},
      {group_lifecycle::running, "running"},
      {group_lifecycle::testing, "testing"},
      {group_lifecycle::closing, "closing"},
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

/// The pure state machine of one group: events in, actions out. It does no
/// I/O and reads no clock, so tests drive it with scripted events.
///
/// Limits: a task runs only while a slot is free in the global pool, the
/// group's pool and its current agent's pool (`limit_pools`); a task whose
/// agent is full does not hold back tasks of other agents (`ready_queue`).
/// Dependencies are the `dependency_tracker`'s, retries the
/// `retry_policy`'s; this class holds the event handlers.
class group_machine {
 public:
  /// A group with pools of its own, sized from `settings`.
  group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel);
  /// A group that draws from `pools`, which other groups may share: the
  /// global pool, `pools->group(group_name)` and the agents' pools. The
  /// limits of `settings` are then not used: the pools carry them.
  group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel,
                std::shared_ptr<limit_pools> pools, std::string_view group_name);
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
  [[nodiscard]] group_lifecycle lifecycle() const noexcept { return life_; }
  [[nodiscard]] stop_reason why_stopped() const noexcept { return stop_; }
  [[nodiscard]] group_phase phase() const noexcept;
  [[nodiscard]] group_status status() const noexcept;
  [[nodiscard]] test_status tests() const noexcept { return test_status_; }
  [[nodiscard]] bool refresh_completed() const noexcept { return refresh_completed_; }
  [[nodiscard]] const std::vector<std::string>& errors() const noexcept { return errors_; }
  [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  [[nodiscard]] const group_settings& settings() const noexcept { return settings_; }
  [[nodiscard]] std::size_t running_count() const noexcept { return running_; }
  [[nodiscard]] std::size_t queued_count() const noexcept { return ready_.size(); }
  /// Tasks queued behind a retry or cool-down timer.
  [[nodiscard]] std::size_t delayed_count() const noexcept { return waiting_delay_; }
  /// The number of tasks with status `s`.
  [[nodiscard]] std::size_t count(task_status s) const noexcept {
    return status_counts_[static_cast<std::size_t>(s)];
  }
  /// The time limit of an attempt of `task` with `agent`, 0 for none.
  [[nodiscard]] double attempt_timeout(std::size_t task, std::string_view agent) const;

 private:
  // Who a kill sequence is for: a task's attempt, or the running command.
  static constexpr std::size_t the_command = static_cast<std::size_t>(-1);
  // The bits of `attempt_timers_`.
  static constexpr std::uint8_t timeout_armed = 1U;
  static constexpr std::uint8_t grace_armed = 2U;

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
  void on(const room_event& e, clock_time now);

  void begin_tasks(clock_time now);
  void make_ready(std::size_t task);
  void enqueue(std::size_t task);
  void dispatch(clock_time now);
  void launch(std::size_t task, clock_time now);
  void after_attempt(std::size_t task, clock_time now);
  void requeue_later(std::size_t task, double delay_s, clock_time now);
  void finish_task(std::size_t task, task_status status, clock_time now, bool satisfies_dependents);
  void settle(std::size_t task, task_status status, clock_time now);
  void end_waiting_for_blockers();
  void stop(stop_reason why);
  void skip_unstarted(const std::string& reason, clock_time now);
  void wind_down(clock_time now);
  void run_command(group_lifecycle stage, double timeout_s, clock_time now);
  bool end_command();
  void terminate(std::size_t who, clock_time now);
  void signal(std::size_t who, kill_signal s);
  void set_timer(timer_kind kind, std::size_t task, std::uint32_t generation, clock_time deadline);
  void cancel_timer(timer_kind kind, std::size_t task, std::uint32_t generation);
  void cancel_attempt_timers(std::size_t task);
  void cancel_group_timers();
  void release(std::size_t task);
  void set_status(std::size_t task, task_status s);
  void changed(std::size_t task);
  void maybe_post_execution(clock_time now);
  void conclude(clock_time now);
  void finish_group(group_lifecycle end);
  [[nodiscard]] bool stopping() const noexcept { return stop_ != stop_reason::none; }
  [[nodiscard]] bool awaiting_command() const noexcept {
    return life_ == group_lifecycle::refreshing || life_ == group_lifecycle::testing ||
           life_ == group_lifecycle::closing;
  }
  [[nodiscard]] bool is_finished() const noexcept {
    return life_ == group_lifecycle::finished || life_ == group_lifecycle::dropped;
  }
  [[nodiscard]] std::uint32_t current_agent(std::size_t task) const;
  [[nodiscard]] bool has_room(std::uint32_t agent) const;

  std::vector<group_task> tasks_;
  group_settings settings_;
  bool parallel_;
  std::vector<task_state> states_;
  dependency_tracker deps_;
  ready_queue ready_;
  retry_policy retry_;
  // Agents by index: each task's chain as indices, flat (chain_of_[i] ..
  // chain_of_[i + 1] in chain_agents_), and each agent's name and pool.
  std::vector<std::uint32_t> chain_agents_;
  std::vector<std::uint32_t> chain_of_;
  std::vector<std::string> agent_names_;
  std::shared_ptr<limit_pools> pools_;
  limit_pool* global_pool_ = nullptr;
  limit_pool* group_pool_ = nullptr;
  std::vector<limit_pool*> agent_pools_;
  std::vector<bool> delayed_;  // queued behind a retry or cool-down timer
  // Per task, which of its attempt's timers are armed (bits below): only
  // those are cancelled when the attempt ends.
  std::vector<std::uint8_t> attempt_timers_;
  std::array<std::size_t, enum_count<task_status>> status_counts_{};
  std::size_t running_ = 0;
  std::size_t waiting_delay_ = 0;
  group_lifecycle life_ = group_lifecycle::pending;
  stop_reason stop_ = stop_reason::none;
  bool halt_noted_ = false;                         // a second halt adds no second error
  group_status outcome_ = group_status::completed;  // the final status, once concluded
  test_status test_status_ = test_status::not_run;
  bool refresh_completed_ = false;
  // The refresh or test command in flight: its run (timers' generation),
  // and whether the core timed it out.
  std::uint32_t command_run_ = 0;
  bool command_timed_out_ = false;
  bool command_grace_armed_ = false;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  // The event being handled: its actions, and the tasks and group it
  // changed, reported once each at its end.
  std::vector<action>* out_ = nullptr;
  std::vector<std::size_t> dirty_;
  std::vector<bool> is_dirty_;
  bool group_dirty_ = false;
};

}  // namespace maestro::core
