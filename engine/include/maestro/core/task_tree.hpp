#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <maestro/core/task.hpp>

namespace maestro::core {

/// A blocking dependency of a task once beads' readiness rules are applied
/// (SPEC section 1): the task's own, or one it inherits down `parent-child`
/// links, with a dependency on an epic standing for the epic's children.
struct gate {
  /// The task waited for.
  std::string id;
  /// The ancestor whose dependency this is; empty for the task's own.
  std::string via;
  /// The epic the dependency named, which `id` is a child of (through
  /// nested epics); empty when the dependency named `id` itself.
  std::string epic;
  /// `id`'s index in the task list; `absent` when it is not in the list.
  std::size_t index = absent;

  static constexpr std::size_t absent = SIZE_MAX;

  friend bool operator==(const gate&, const gate&) = default;
};

/// The `parent-child` structure of a task list: parents, children and
/// epics, and the readiness rules of beads that follow from them. Indices
/// are into the task list it was built from, which (with its id index) must
/// outlive it.
///
/// A `parent-child` record on a task names its parent; links to ids absent
/// from the list are ignored (there is nothing to inherit from them).
///
/// What every task inherits, and what every epic stands for, is worked out
/// once, parents before children (epics: children before parents), so the
/// cost is in proportion to the input and to the gates it yields, however
/// deep the links go; nothing recurses.
class task_tree {
 public:
  /// Says whether the task at an index counts as closed: closed in the
  /// source, or completed in a group that did not fail.
  using closed_test = std::function<bool(std::size_t)>;

  /// Throws `input_error` naming a cycle of `parent-child` links, at the
  /// first task of the cycle. `by_id` indexes the issue records of `tasks`.
  task_tree(const std::vector<task>& tasks,
            const std::unordered_map<std::string_view, std::size_t>& by_id, std::string_view origin,
            closed_test closed);

  /// The parents a task names that are in the list, in record order.
  [[nodiscard]] const std::vector<std::size_t>& parents(std::size_t i) const {
    return parents_.at(i);
  }
  /// A task's children, in list order.
  [[nodiscard]] const std::vector<std::size_t>& children(std::size_t i) const {
    return children_.at(i);
  }
  /// The first parent a task names that is in the list.
  [[nodiscard]] std::optional<std::size_t> parent(std::size_t i) const;
  /// True when `task` is below `ancestor`, at any depth. Constant time when
  /// every task has at most one parent (as beads gives it).
  [[nodiscard]] bool is_descendant(std::size_t task, std::size_t ancestor) const;

  /// Task `i`'s blocking dependencies under beads' rules, each id once, in
  /// this order: its own, then those of each ancestor that is not closed
  /// (nearest first; a closed ancestor is not blocked and passes nothing
  /// down), except an inherited one naming the task or one of its
  /// descendants. A dependency on an epic the run handles (one that is
  /// open, in progress or blocked) that has children stands for its
  /// `epic_leaves`, less the task and its descendants. Dependencies on ids
  /// absent from the list are kept.
  [[nodiscard]] std::vector<gate> gates(std::size_t i) const;

  /// What an epic's completion waits for: its children that are not
  /// closed, through nested epics that the run handles (one with no
  /// children, or one that is parked, stands for itself). Empty when every
  /// child is closed, when it has none, or for an epic the run does not
  /// handle.
  [[nodiscard]] const std::vector<std::size_t>& epic_leaves(std::size_t epic) const {
    return leaves_.at(epic);
  }

  /// How deep epics nest below `epic`: 0 when no child is an epic. An
  /// epic nested in another closes first.
  [[nodiscard]] std::size_t epic_height(std::size_t epic) const { return height_.at(epic); }

 private:
  /// A dependency record that a task inherits: `tasks[holder].dependencies[dep]`.
  struct inherited {
    std::size_t holder;
    std::size_t dep;
  };

  /// True for an epic whose dependency stands for its children.
  [[nodiscard]] bool expands(std::size_t i) const;
  [[nodiscard]] std::size_t index_of(std::string_view id) const;
  [[nodiscard]] std::vector<std::size_t> parents_first() const;
  void number_forest();

  const std::vector<task>* tasks_;
  const std::unordered_map<std::string_view, std::size_t>* by_id_;
  closed_test closed_;
  std::vector<std::vector<std::size_t>> parents_;
  std::vector<std::vector<std::size_t>> children_;
  std::vector<std::vector<inherited>> inherited_;  // nearest first, each id once
  std::vector<std::vector<std::size_t>> leaves_;   // per epic that expands
  std::vector<std::size_t> height_;
  // Pre- and post-order numbers, when every task has at most one parent.
  bool forest_ = true;
  std::vector<std::size_t> enter_;
  std::vector<std::size_t> leave_;
};

}  // namespace maestro::core
