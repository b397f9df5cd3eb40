#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_events.hpp>
#include <maestro/core/retry_policy.hpp>

namespace maestro::core {

struct group_task;

/// What one attempt was: its agent and how it ended.
struct attempt_record {
  std::string agent;
  std::uint32_t number = 0;
  std::optional<int> exit_code;
  int signal = 0;
  bool timed_out = false;
  std::string error;  ///< for an attempt that could not start
  /// Its workspace (`group_settings::integrate`): its directory and branch.
  std::string worktree = {};
  std::string branch = {};
  /// The job a cluster ran it as (the Slurm launcher), once known.
  std::string job_id = {};
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
  /// Its attempt exited 0 and its work is being merged (`integrate_action`).
  bool integrating = false;
  std::optional<clock_time> started;
  std::optional<clock_time> finished;
  bool closed_in_tracker = false;
};

/// The states of one group's tasks, how many are in each status, and what
/// changed during the event being handled. The runtime reads the state
/// after each event, so one report per changed task, in the order of their
/// first change, and one for the group are enough.
class task_board {
 public:
  task_board() = default;
  /// Every task pending, but those that `already_completed`; the attempts
  /// of earlier runs (`earlier_agents`) are kept and keep counting.
  explicit task_board(const std::vector<group_task>& tasks);

  [[nodiscard]] std::size_t size() const noexcept { return states_.size(); }
  [[nodiscard]] task_state& operator[](std::size_t task) { return states_[task]; }
  [[nodiscard]] const task_state& operator[](std::size_t task) const { return states_[task]; }
  [[nodiscard]] task_state& at(std::size_t task) { return states_.at(task); }
  [[nodiscard]] const task_state& at(std::size_t task) const { return states_.at(task); }
  /// The number of tasks with status `s`: counters, not a scan.
  [[nodiscard]] std::size_t count(task_status s) const noexcept {
    return counts_[static_cast<std::size_t>(s)];
  }
  /// The tasks with status `s`, in order: a scan.
  [[nodiscard]] std::vector<std::size_t> with_status(task_status s) const;
  /// Whether attempt `attempt` of `task` is the one running (an event about
  /// an attempt that ended is stale).
  [[nodiscard]] bool is_current(std::size_t task, std::uint32_t attempt) const {
    const auto& st = states_.at(task);
    return st.status == task_status::running && attempt == st.attempts;
  }

  /// Sets the status of `task`, and reports it changed.
  void set_status(std::size_t task, task_status s) {
    auto& current = states_[task].status;
    --counts_[static_cast<std::size_t>(current)];
    ++counts_[static_cast<std::size_t>(s)];
    current = s;
    changed(task);
  }
  /// A new attempt of `task` with `agent` runs from `now`; returns its number.
  std::uint32_t begin_attempt(std::size_t task, const std::string& agent, clock_time now);
  /// The running attempt of `task` exited.
  void attempt_exited(std::size_t task, int exit_code, int signal);
  /// Where `task` goes after an attempt that did not complete, by `kind`:
  /// the same agent again (EX_TEMPFAIL), the next agent, or the chain again.
  void advance(std::size_t task, retry_kind kind);
  /// `task`, of id `id`, gives up: its error tells how its last attempt
  /// ended. Returns the line for the group's errors.
  [[nodiscard]] std::string give_up(std::size_t task, std::string_view id);

  /// Reports `task` changed (once per event, however often it changes).
  void changed(std::size_t task) {
    if (!is_dirty_[task]) {
      is_dirty_[task] = true;
      dirty_.push_back(task);
    }
  }
  void group_changed() noexcept { group_dirty_ = true; }
  /// Appends the event's reports to `out` (the group's first, then the
  /// tasks' in the order of their first change) and starts afresh.
  void report_changes(std::vector<action>& out);
  /// Reports now, ahead of the event's other changes, the tasks that ended
  /// in this event: called before a launch, so that a task's end is
  /// recorded before the engine acts on it (the state store writes a
  /// task's end ahead; SPEC section 6: a SIGKILL loses nothing observed).
  void report_ended(std::vector<action>& out);

 private:
  std::vector<task_state> states_;
  std::array<std::size_t, enum_count<task_status>> counts_{};
  std::vector<std::size_t> dirty_;
  std::vector<bool> is_dirty_;
  bool group_dirty_ = false;
};

}  // namespace maestro::core
