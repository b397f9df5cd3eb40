#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/agent_slots.hpp>
#include <maestro/core/dependency_tracker.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_events.hpp>
#include <maestro/core/group_lifecycle.hpp>
#include <maestro/core/group_settings.hpp>
#include <maestro/core/limit_pool.hpp>
#include <maestro/core/ready_queue.hpp>
#include <maestro/core/retry_policy.hpp>
#include <maestro/core/task_board.hpp>
#include <maestro/core/timer_book.hpp>

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
  /// The length, in tasks, of the longest chain of work that waits on it
  /// (`critical_paths`): of queued tasks of one priority, the longest
  /// goes first. 0 for all: priority, then input order.
  std::size_t critical_path = 0;
  /// Its position in the run's input: the last tie-breaker between the
  /// tasks of different groups (`run_scheduler`).
  std::size_t order = 0;
};

/// An epic closed after this group's tasks (SPEC section 1): the group
/// holds the last of what it waits for, and the rest completed before.
struct group_epic {
  std::string id;
  /// The tasks of this group it waits for: when each has completed (or was
  /// closed in the tracker), the epic is closed after them.
  std::vector<std::size_t> tasks;
  /// The tasks of this group that depend on the epic itself (a `blocks` on
  /// it): a tracker refuses to close them while it is open, so they are
  /// closed after it.
  std::vector<std::size_t> dependents = {};
};

/// The pure state machine of one group: events in, actions out. It does no
/// I/O and reads no clock, so tests drive it with scripted events.
///
/// Limits: a task runs only while a slot is free in the global pool, the
/// group's pool and its current agent's pool (`agent_slots`); a task whose
/// agent is full does not hold back tasks of other agents (`ready_queue`).
/// The tasks' states are the `task_board`'s, dependencies the
/// `dependency_tracker`'s, retries the `retry_policy`'s, timers and the
/// kill sequence the `timer_book`'s, the final status `judge`'s; this class
/// holds the event handlers and the steps they take.
class group_machine {
 public:
  /// A group with pools of its own, sized from `settings`. `epics` are
  /// closed with its tasks (`close_tasks_action`), nested ones first.
  group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel,
                std::vector<group_epic> epics = {});
  /// A group that draws from `pools`, which other groups may share: the
  /// global pool, `pools->group(group_name)` and the agents' pools. The
  /// limits of `settings` are then not used: the pools carry them.
  group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel,
                std::shared_ptr<limit_pools> pools, std::string_view group_name,
                std::vector<group_epic> epics = {});
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
  [[nodiscard]] const std::vector<group_epic>& epics() const noexcept { return epics_; }
  /// True once the tracker has closed epic `k` of `epics()`.
  [[nodiscard]] bool epic_closed(std::size_t k) const { return epic_closed_.at(k); }
  [[nodiscard]] const task_state& state(std::size_t task) const { return board_.at(task); }
  [[nodiscard]] group_lifecycle lifecycle() const noexcept { return life_; }
  [[nodiscard]] stop_reason why_stopped() const noexcept { return stop_; }
  [[nodiscard]] group_phase phase() const noexcept { return phase_of(life_); }
  [[nodiscard]] group_status status() const noexcept { return status_of(life_, outcome_); }
  [[nodiscard]] test_status tests() const noexcept { return test_status_; }
  [[nodiscard]] bool refresh_completed() const noexcept { return refresh_completed_; }
  [[nodiscard]] const std::vector<std::string>& errors() const noexcept { return errors_; }
  [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  [[nodiscard]] const group_settings& settings() const noexcept { return settings_; }
  [[nodiscard]] std::size_t running_count() const noexcept { return slots_.running(); }
  [[nodiscard]] std::size_t queued_count() const noexcept { return ready_.size(); }
  /// Tasks queued behind a retry or cool-down timer.
  [[nodiscard]] std::size_t delayed_count() const noexcept { return ready_.delayed(); }
  /// The number of tasks with status `s`.
  [[nodiscard]] std::size_t count(task_status s) const noexcept { return board_.count(s); }
  /// Under a run-level scheduler (`group_settings::scheduled`): whether
  /// the group takes launches (it runs its tasks and does not stop).
  [[nodiscard]] bool takes_launches() const noexcept {
    return life_ == group_lifecycle::running && !stopping();
  }
  /// Whether the group's own pool has a free slot.
  [[nodiscard]] bool group_has_room() const noexcept { return slots_.group_has_room(); }
  /// The lanes of the ready queue: one per agent, `lane_agent(lane)`.
  [[nodiscard]] std::size_t lane_count() const noexcept { return slots_.agent_count(); }
  [[nodiscard]] const std::string& lane_agent(std::size_t lane) const {
    return slots_.name(static_cast<std::uint32_t>(lane));
  }
  /// The first task queued in `lane`, `ready_queue::none` if none.
  [[nodiscard]] std::size_t lane_head(std::size_t lane) const noexcept { return ready_.head(lane); }
  /// The place of `task` in the queue.
  [[nodiscard]] queue_rank rank(std::size_t task) const {
    return {tasks_[task].priority, tasks_[task].critical_path};
  }
  /// The group waits for its turn to run its refresh or test command
  /// (`command_granted_event`).
  [[nodiscard]] bool wants_command() const noexcept { return command_waiting_; }
  /// Its refresh or test command runs (or is being started).
  [[nodiscard]] bool command_running() const noexcept {
    // Integrating holds the turn too: the integration branch moves to what
    // the group's test phase tested before another group tests.
    return (life_ == group_lifecycle::refreshing || life_ == group_lifecycle::testing ||
            life_ == group_lifecycle::integrating) &&
           !command_waiting_;
  }
  /// The time limit of an attempt of `task` with `agent`, 0 for none.
  [[nodiscard]] double attempt_timeout(std::size_t task, std::string_view agent) const {
    return attempt_timeout_s(settings_, tasks_.at(task).timeout_s, agent);
  }

 private:
  void on(const start_event& e, clock_time now);
  void on(const refresh_done_event& e, clock_time now);
  void on(const launched_event& e, clock_time now);
  void on(const launch_failed_event& e, clock_time now);
  void on(const exited_event& e, clock_time now);
  void on(const timer_event& e, clock_time now);
  void on(const claim_refused_event& e, clock_time now);
  void on(const source_closed_event& e, clock_time now);
  void on(const tests_done_event& e, clock_time now);
  void on(const close_done_event& e, clock_time now);
  void on(const release_done_event& e, clock_time now);
  void on(const stop_event& e, clock_time now);
  void on(const halt_event& e, clock_time now);
  void on(const room_event& e, clock_time now);
  void on(const launch_granted_event& e, clock_time now);
  void on(const command_granted_event& e, clock_time now);
  void on(const workspace_ready_event& e, clock_time now);
  void on(const placed_event& e, clock_time now);
  void on(const integrated_event& e, clock_time now);
  void on(const group_integrated_event& e, clock_time now);

  void begin_tasks(clock_time now);
  void make_ready(std::size_t task);
  void enqueue(std::size_t task);
  void dispatch(clock_time now);
  void launch(std::size_t task, clock_time now);
  void after_attempt(std::size_t task, clock_time now);
  /// The attempt of `task` ended: its slot and its timers are let go.
  void release_attempt(std::size_t task);
  /// What follows an attempt that ended (and was let go): completed, the
  /// next agent or round, or failed.
  void settle_attempt(std::size_t task, clock_time now);
  void requeue_later(std::size_t task, double delay_s, clock_time now);
  void finish_task(std::size_t task, task_status status, clock_time now, bool satisfies_dependents);
  void settle(std::size_t task, task_status status, clock_time now);
  void end_tasks(task_status status, const std::string& reason, clock_time now,
                 bool running_too = false);
  void end_waiting_for_blockers();
  void stop(stop_reason why) noexcept { stop_ = stop_for(stop_, why); }
  void wind_down(clock_time now);
  void run_command(group_lifecycle stage, double timeout_s, clock_time now);
  /// Ends the wait for a command's turn: the group ends without it.
  void abandon_command();
  void arm_group_timeout(clock_time now);
  void cancel_group_timers();
  void maybe_post_execution(clock_time now);
  void conclude();
  /// The completed tasks and `epics`, each after what it waits for.
  [[nodiscard]] close_tasks_action close_order(const std::vector<std::size_t>& epics) const;
  void finish_group(group_lifecycle end);
  [[nodiscard]] bool stopping() const noexcept { return stop_ != stop_reason::none; }
  [[nodiscard]] bool is_finished() const noexcept { return maestro::core::is_finished(life_); }
  [[nodiscard]] std::uint32_t current_agent(std::size_t task) const {
    return slots_.agent(task, board_[task].chain_position);
  }

  std::vector<group_task> tasks_;
  std::vector<group_epic> epics_;
  std::vector<bool> epic_closed_;
  group_settings settings_;
  bool parallel_;
  task_board board_;
  dependency_tracker deps_;
  retry_policy retry_;
  agent_slots slots_;
  ready_queue ready_;  // a lane per agent of `slots_`, and the delayed tasks
  timer_book timers_;
  group_lifecycle life_ = group_lifecycle::pending;
  group_lifecycle after_release_ = group_lifecycle::finished;  // where `releasing` leads
  stop_reason stop_ = stop_reason::none;
  bool halt_noted_ = false;                         // a second halt adds no second error
  group_status outcome_ = group_status::completed;  // the final status, once concluded
  test_status test_status_ = test_status::not_run;
  bool refresh_completed_ = false;
  bool launched_any_ = false;  // the first launch starts the group timeout (when it waited)
  bool group_timer_armed_ = false;
  bool group_integrated_ = false;  // `integrate_group_action` was answered
  bool command_waiting_ = false;   // its refresh or test command waits for its turn
  double command_timeout_s_ = 0;   // that command's time limit
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  std::vector<action>* out_ = nullptr;  // the actions of the event being handled
};

}  // namespace maestro::core
