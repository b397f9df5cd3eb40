#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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

  friend bool operator==(const gate&, const gate&) = default;
};

/// The `parent-child` structure of a task list: parents, children and
/// epics, and the readiness rules of beads that follow from them. Indices
/// are into the task list it was built from, which (with its id index) must
/// outlive it.
///
/// A `parent-child` record on a task names its parent; links to ids absent
/// from the list are ignored (there is nothing to inherit from them).
class task_tree {
 public:
  /// Says whether the task at an index counts as closed: closed in the
  /// source, or completed in a group that did not fail.
  using closed_test = std::function<bool(std::size_t)>;

  /// Throws `input_error` naming a cycle of `parent-child` links, at the
  /// first task of the cycle. `by_id` indexes the issue records of `tasks`.
  task_tree(const std::vector<task>& tasks,
            const std::unordered_map<std::string_view, std::size_t>& by_id,
            std::string_view origin);

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
  /// True when `task` is below `ancestor`, at any depth.
  [[nodiscard]] bool is_descendant(std::size_t task, std::size_t ancestor) const;

  /// Task `i`'s blocking dependencies under beads' rules, each id once, in
  /// this order: its own, then those of each ancestor that is not closed
  /// (nearest first; a closed ancestor is not blocked and passes nothing
  /// down), except an inherited one naming the task or one of its
  /// descendants. A dependency on an epic that is not closed and has
  /// children stands for its `epic_leaves`, less the task and its
  /// descendants. Dependencies on ids absent from the list are kept.
  [[nodiscard]] std::vector<gate> gates(std::size_t i, const closed_test& closed) const;

  /// What an epic's completion waits for: its children that are not
  /// closed, through nested epics (a nested epic that is closed counts as
  /// done; one with no children stands for itself). Empty when every child
  /// is closed, or when it has none.
  [[nodiscard]] std::vector<std::size_t> epic_leaves(std::size_t epic,
                                                     const closed_test& closed) const;

  /// How deep epics nest below `epic`: 0 when no child is an epic. An
  /// epic nested in another closes first.
  [[nodiscard]] std::size_t epic_height(std::size_t epic) const;

 private:
  /// Gates being gathered, each id once (the views are into the tasks).
  struct gate_list {
    std::vector<gate> gates;
    std::unordered_set<std::string_view> ids;
  };
  void add_gate(gate_list& out, std::size_t holder, std::size_t target, std::string_view id,
                std::string_view via, const closed_test& closed) const;

  const std::vector<task>* tasks_;
  const std::unordered_map<std::string_view, std::size_t>* by_id_;
  std::vector<std::vector<std::size_t>> parents_;
  std::vector<std::vector<std::size_t>> children_;
};

}  // namespace maestro::core
