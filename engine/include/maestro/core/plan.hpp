#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <maestro/core/agent_selection.hpp>
#include <maestro/core/config.hpp>
#include <maestro/core/task.hpp>
#include <maestro/core/task_tree.hpp>

namespace maestro::core {

/// A parallel group, or one `_sequential` task (then `kind` is `sequential`
/// and the id is `_sequential.<task-id>`). Each stage is run as one group.
enum class stage_kind { parallel, sequential };

/// A blocking dependency that is outside the run and not satisfied.
struct unsatisfied_dependency {
  std::string id;
  /// The blocker's status in the source, or empty when the id is absent
  /// from the source.
  std::string status;
  /// The ancestor it is inherited from; empty for the task's own.
  std::string via;
  /// The epic the dependency named, which `id` is a child of.
  std::string epic;
  /// `id`'s index in the task list; `gate::absent` when it is not there.
  std::size_t index = gate::absent;
  [[nodiscard]] bool absent() const noexcept { return status.empty(); }
};

/// A task that will be run, with everything planning found out about it.
struct planned_task {
  /// Index into the task list given to `make_plan`.
  std::size_t index = 0;
  /// The group name (`_sequential` for unmarked tasks).
  std::string group;
  /// The stage (and state-directory group) it runs in.
  std::string stage_id;
  agent_choice agent;
  /// Its blocking dependencies under beads' rules (`task_tree::gates`) on
  /// tasks of this run, which it waits for.
  std::vector<gate> waits_for;
  /// Gating dependencies outside the run that are not satisfied. Non-empty
  /// means the task is `blocked`.
  std::vector<unsatisfied_dependency> blocked_by;

  /// The ids of `waits_for`.
  [[nodiscard]] std::vector<std::string> waits_for_ids() const;
  /// True when it can start at once: it waits for nothing, inside the run
  /// or outside it.
  [[nodiscard]] bool ready() const noexcept { return waits_for.empty() && blocked_by.empty(); }
};

/// One stage in run order.
struct stage {
  std::string id;
  stage_kind kind = stage_kind::parallel;
  /// The group name: the parallel group's NAME, or `_sequential`.
  std::string group;
  /// Indices into `plan::tasks`, in input order.
  std::vector<std::size_t> tasks;
  /// Ids of the stages this one must wait for, in stage order.
  std::vector<std::string> after;
  /// Indices into `plan::epics` of the epics closed after this stage's
  /// tasks (with `close_tasks`), nested ones first.
  std::vector<std::size_t> epics;
};

/// An open epic of the source (SPEC section 1): never run, and complete
/// once every child is closed in the source or completed in this run.
struct planned_epic {
  /// Index into the task list given to `make_plan`.
  std::size_t index = 0;
  /// Its children, indices into the task list, in input order.
  std::vector<std::size_t> children;
  /// What its completion waits for (`task_tree::epic_leaves`): indices
  /// into the task list.
  std::vector<std::size_t> waits_for;
  /// The stage after which it is closed: the last in run order holding
  /// one of `waits_for`. Empty when this run does not complete it.
  std::string closes_after;
  /// Why this run does not close it, when `closes_after` is empty.
  std::string note;
};

/// A task of the source that is not run.
struct skipped_task {
  std::size_t index = 0;
  skip_reason reason = skip_reason::closed_status;
};

/// The groups in order of first appearance, as `detect --json` prints them:
/// `_sequential` is one group here.
struct group_summary {
  std::string name;
  /// Indices into `plan::tasks`, in input order.
  std::vector<std::size_t> tasks;
};

/// The outcome of planning: stages in run order and the tasks they hold.
struct plan {
  std::vector<planned_task> tasks;
  std::vector<stage> stages;
  std::vector<group_summary> groups;
  std::vector<skipped_task> skipped;
  /// The open epics, in input order.
  std::vector<planned_epic> epics;

  /// The stage with this id, or nullptr.
  [[nodiscard]] const stage* find_stage(std::string_view id) const noexcept;
  /// The number of run tasks with unsatisfied outside blockers.
  [[nodiscard]] std::size_t blocked_count() const noexcept;
};

/// What planning needs besides the tasks.
struct plan_options {
  const keyword_table* keywords = &default_keyword_table();
  std::string default_agent = "backend-architect";
  /// Ids the state directory records completed in a group that did not
  /// fail: dependencies on them are satisfied whatever the source says.
  std::unordered_set<std::string> completed_elsewhere;
  /// Name of the source, for error messages.
  std::string origin;
  /// Where parallel groups come from besides markers.
  grouping group_by = grouping::marker;
};

/// Groups the tasks, orders the stages and chooses agents, under beads'
/// readiness rules (SPEC sections 1 and 2): epics are not run, blockage
/// flows down `parent-child` links, and with `group_by` a parent can name
/// a group. Throws `input_error` for a missing or duplicate id, conflicting
/// group markers, a cycle of `parent-child` links, a dependency cycle among
/// the tasks to be run (naming it) and a cycle between stages (naming the
/// stages).
[[nodiscard]] plan make_plan(const std::vector<task>& tasks, const plan_options& options);

}  // namespace maestro::core
