#pragma once

#include <cstddef>
#include <deque>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <maestro/core/config.hpp>
#include <maestro/core/group_events.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/core/group_settings.hpp>
#include <maestro/core/limit_pool.hpp>

namespace maestro::core {

/// One stage of a run, as the run-level scheduler sees it.
struct run_stage {
  std::string id;
  /// Indices of the stages it waits for, each smaller than its own
  /// (`stage_prerequisites`).
  std::vector<std::size_t> after;
  /// How many tasks it holds, and the place of its best task (priority,
  /// critical path, input order): under `graph`, stages that may start
  /// open best first, and only when they can use a slot.
  std::size_t tasks = 0;
  queue_rank best = {};
  std::size_t order = 0;
};

/// The run's policies and its shared limits.
struct run_settings {
  schedule_mode mode = schedule_mode::stages;
  /// A failed stage skips only what depends on it; otherwise no stage
  /// starts after a failure.
  bool keep_going = false;
  /// The global pool's capacity (0: unlimited).
  int max_concurrent = defaults::max_concurrent;
  /// The agents' pools' capacities.
  std::map<std::string, int, std::less<>> agent_limits;
};

/// What the runtime found for a stage it was asked to open: its tasks and
/// settings (the group's pool's capacity is `settings.group_limit`).
struct stage_setup {
  std::vector<group_task> tasks;
  group_settings settings;
  bool parallel = true;
  std::vector<group_epic> epics;
};

// Events of the run.
/// Opens what can start.
struct run_start_event {};
/// The runtime opened stage `stage` (`open_stage_action`): its group starts.
struct stage_opened_event {
  std::size_t stage = 0;
  stage_setup setup;
};
/// The runtime settled stage `stage` without running it (it had completed
/// before): what waits for it goes on as after a run that ended `status`.
struct stage_settled_event {
  std::size_t stage = 0;
  group_status status = group_status::completed;
};
/// The runtime could not open stage `stage` (its lock is held, its state
/// is damaged): nothing more starts, and the running stages are stopped.
struct stage_refused_event {
  std::size_t stage = 0;
  std::string reason;
};
/// An event of the group of a running stage.
struct stage_event {
  std::size_t stage = 0;
  event_body body;
};
/// Stop the whole run: no stage starts, every running one is stopped.
struct run_stop_event {
  stop_mode mode = stop_mode::graceful;
  std::string reason;
};
using run_event_body = std::variant<run_start_event, stage_opened_event, stage_settled_event,
                                    stage_refused_event, stage_event, run_stop_event>;
struct run_event {
  clock_time now;
  run_event_body body;
};

// Actions of the run.
/// Open stage `stage`: lock it, read what earlier runs left of it, and
/// answer `stage_opened_event`, `stage_settled_event` or
/// `stage_refused_event`.
struct open_stage_action {
  std::size_t stage = 0;
  friend bool operator==(const open_stage_action&, const open_stage_action&) = default;
};
/// Actions of the group of stage `stage`, in order: what one event or one
/// grant called for. (Kept as the group's own list, moved rather than
/// copied: the start of a group of 100,000 tasks is 100,000 actions.)
struct stage_actions {
  std::size_t stage = 0;
  std::vector<action> actions;
  friend bool operator==(const stage_actions&, const stage_actions&) = default;
};
/// Stage `stage` will not run: `reason` says why.
struct stage_skipped_action {
  std::size_t stage = 0;
  std::string reason;
  friend bool operator==(const stage_skipped_action&, const stage_skipped_action&) = default;
};
/// Every stage has ended or was skipped: always the last action.
struct run_finished_action {
  friend bool operator==(const run_finished_action&, const run_finished_action&) = default;
};
using run_action =
    std::variant<open_stage_action, stage_actions, stage_skipped_action, run_finished_action>;

/// One readable line per action, such as `s1 launch(t0#1, a)` (several
/// lines for several actions of a stage).
std::ostream& operator<<(std::ostream& out, const run_action& a);

/// Where a stage is in the run.
enum class stage_state : std::uint8_t {
  waiting,   ///< for the stages it depends on, or (stages) for its turn
  opening,   ///< `open_stage_action` sent, no answer yet
  running,   ///< its group runs
  finished,  ///< its group ended, or it was settled without running
  skipped    ///< it will not run
};

/// The run-level scheduler: the pure state machine of a whole run, events
/// in, actions out, as `group_machine` is for one group. It owns the
/// shared limit pools (global, per agent, per group) and the group machines
/// of the running stages, and decides what runs next:
/// - which stage opens: under `stages`, the next in run order once the
///   one before has ended; under `graph`, a stage whose prerequisites have
///   completed opens as soon as it can use a slot: while the global pool
///   has slots that no queued task can take (more than the stages already
///   opening will fill), or when its best task goes before every task
///   queued or about to be (the best such stage first);
/// - which queued task launches, across every running group: the best by
///   priority, then the longest chain of work waiting on it, then input
///   order, among the agents whose pool has room (the groups launch only
///   what it grants them);
/// - which group runs its refresh or test command: one at a time, in the
///   order they asked.
/// A stage that did not complete skips what depends on it; without
/// `keep_going` a failure (or a stop) starts nothing more.
class run_scheduler {
 public:
  run_scheduler(std::vector<run_stage> stages, run_settings settings);
  run_scheduler(const run_scheduler&) = delete;
  run_scheduler& operator=(const run_scheduler&) = delete;
  run_scheduler(run_scheduler&&) noexcept = default;
  run_scheduler& operator=(run_scheduler&&) noexcept = default;
  ~run_scheduler() = default;

  /// Handles one event and returns the actions it calls for, in order.
  [[nodiscard]] std::vector<run_action> handle(run_event e);

  [[nodiscard]] std::size_t stage_count() const noexcept { return stages_.size(); }
  [[nodiscard]] const run_stage& stage(std::size_t k) const { return stages_.at(k).spec; }
  [[nodiscard]] stage_state state(std::size_t k) const { return stages_.at(k).state; }
  /// The stage's group, from its opening on; null before, and after
  /// `forget`.
  [[nodiscard]] const group_machine* machine(std::size_t k) const {
    return stages_.at(k).machine.get();
  }
  /// How a finished stage ended.
  [[nodiscard]] group_status status(std::size_t k) const { return stages_.at(k).status; }
  /// Why a skipped stage did not run.
  [[nodiscard]] const std::string& skip_reason(std::size_t k) const { return stages_.at(k).reason; }
  /// Frees the group of a finished stage, once the runtime is done with it.
  void forget(std::size_t k);
  /// True once every stage has finished or was skipped.
  [[nodiscard]] bool finished() const noexcept { return done_ == stages_.size(); }
  [[nodiscard]] const limit_pools& pools() const noexcept { return *pools_; }
  /// Tasks that run, and that wait for a slot, over every running stage.
  [[nodiscard]] std::size_t running_tasks() const noexcept { return pools_->global().in_use(); }
  [[nodiscard]] std::size_t queued_tasks() const noexcept { return queued_; }

 private:
  /// A task's place in its agent's lane across groups.
  struct entry {
    long long priority;
    std::size_t negated_path;
    std::size_t order;
    std::size_t stage;
    std::size_t task;
    // NOLINTNEXTLINE(modernize-use-nullptr): a false positive on defaulted <=>
    friend auto operator<=>(const entry&, const entry&) = default;
  };
  struct stage_record {
    run_stage spec;
    std::vector<std::size_t> dependents;
    std::size_t unmet = 0;  // prerequisites not finished
    stage_state state = stage_state::waiting;
    group_status status = group_status::pending;
    std::string reason;
    std::unique_ptr<group_machine> machine;
    std::vector<std::size_t> lane_agent;      // the group's lane -> the run's agent
    std::vector<std::optional<entry>> offer;  // per lane: its head in the run's lane
    std::size_t queued = 0;                   // its queued tasks, as last counted
    bool asked_for_command = false;
    bool ready = false;     // graph: it may open (in `ready_stages_`)
    bool starting = false;  // graph: opened, its tasks not yet queued (in `starting_`)
  };

  void on(run_start_event& e, clock_time now);
  void on(stage_opened_event& e, clock_time now);
  void on(stage_settled_event& e, clock_time now);
  void on(stage_refused_event& e, clock_time now);
  void on(stage_event& e, clock_time now);
  void on(run_stop_event& e, clock_time now);

  /// Hands `body` to the group of stage `k`, and takes note of what
  /// changed.
  void feed(std::size_t k, event_body body, clock_time now);
  /// Brings the stage's offers in the run's lanes up to date.
  void offer(std::size_t k);
  /// Launches the best queued tasks while the pools have room.
  void dispatch(clock_time now);
  /// Gives the command turn to the next group that waits for it.
  void hand_over_command(clock_time now);
  void stage_ended(std::size_t k, group_status status);
  /// Skips what waits for stage `k`, which did not complete, and what
  /// waits for that.
  void skip_dependents(std::size_t k);
  void mark_skipped(std::size_t k, std::string reason);
  /// Skips every stage that waits, with `reason`.
  void skip_waiting(const std::string& reason);
  /// Under `graph`: opens stage `k` if nothing it waits for is left.
  void open_if_ready(std::size_t k);
  /// Under `stages`: opens the next stage in run order once none is active.
  void open_next_in_order();
  void open(std::size_t k);
  /// Under `graph`: opens the ready stages that can use a slot now.
  void open_ready_stages();
  /// Stage `k` no longer counts as starting.
  void started(std::size_t k);
  [[nodiscard]] entry key_of(std::size_t k) const;
  std::size_t agent_id(const std::string& name);

  std::vector<stage_record> stages_;
  run_settings settings_;
  std::shared_ptr<limit_pools> pools_;
  std::map<std::string, std::size_t, std::less<>> agent_ids_;
  std::vector<limit_pool*> agent_pools_;
  std::vector<std::set<entry>> lanes_;  // per agent of the run
  std::set<std::size_t> active_;        // opening or running
  std::set<entry> ready_stages_;        // graph: may open, best first
  std::multiset<entry> starting_;       // graph: opened, tasks not yet queued
  std::size_t starting_tasks_ = 0;      // the tasks those stages hold
  std::deque<std::size_t> command_queue_;
  std::optional<std::size_t> command_holder_;
  std::size_t next_in_order_ = 0;  // stages: the next stage to consider
  std::size_t done_ = 0;           // finished or skipped
  std::size_t queued_ = 0;
  bool halted_ = false;  // nothing more opens
  bool stopping_ = false;
  bool finish_reported_ = false;
  run_stop_event stop_;  // the stop, for stages that open after it
  std::vector<run_action>* out_ = nullptr;
};

}  // namespace maestro::core
