#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace maestro::core {

struct group_task;

/// Who waits for whom in one group: the in-group dependencies not met yet,
/// the reverse edges (dependents), the outside blockers still open and the
/// tasks that wait on each. It knows no task status: the machine says which
/// tasks still wait and what happens to them, through the callbacks below.
class dependency_tracker {
 public:
  dependency_tracker() = default;
  /// `tasks[i].waits_for` and `blocked_by`; a dependency that
  /// `already_completed` is met from the start.
  explicit dependency_tracker(const std::vector<group_task>& tasks);

  /// In-group dependencies of `task` not met yet.
  [[nodiscard]] std::size_t unmet(std::size_t task) const { return unmet_[task]; }
  /// Whether `task` still has an open blocker outside the run.
  [[nodiscard]] bool has_blockers(std::size_t task) const { return blockers_.contains(task); }
  [[nodiscard]] const std::vector<std::size_t>& dependents(std::size_t task) const {
    return dependents_[task];
  }
  /// The index of the task with id `id`, if it is one of the group's.
  [[nodiscard]] std::size_t index_of(std::string_view id) const;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// One in-group dependency of `task` is met; true when none is left.
  bool meet_one(std::size_t task) { return --unmet_[task] == 0; }

  /// Outside blocker `id` closed: `each(task)` for each task that waited on
  /// it, after `id` is taken off its open blockers.
  template <class Each>
  void blocker_closed(std::string_view id, Each&& each) {
    const auto [first, last] = blocked_on_.equal_range(id);
    for (auto it = first; it != last; ++it) {
      const auto task = it->second;
      if (const auto open = blockers_.find(task); open != blockers_.end()) {
        if (const auto b = open->second.find(id); b != open->second.end()) {
          open->second.erase(b);
        }
        if (open->second.empty()) {
          blockers_.erase(open);
        }
      }
      each(task);
    }
  }

  /// Whether tasks with open blockers still wait for them (`blocked_wait_s`).
  [[nodiscard]] bool waiting_for_blockers() const noexcept { return waiting_; }
  void set_waiting_for_blockers(bool waiting) noexcept { waiting_ = waiting; }

  /// Spreads an outcome along the dependents, with a worklist rather than
  /// recursion (a failure at the head of a long chain reaches every task
  /// behind it). Starting from `seeds`: each task taken off the worklist is
  /// `settle(task)`d, then `reach(dependent, task)` is asked of each of its
  /// dependents, which join the worklist when it returns true. Last in,
  /// first out.
  template <class Settle, class Reach>
  void spread(std::vector<std::size_t> work, Settle&& settle, Reach&& reach) const {
    while (!work.empty()) {
      const auto task = work.back();
      work.pop_back();
      settle(task);
      for (const auto d : dependents_[task]) {
        if (reach(d, task)) {
          work.push_back(d);
        }
      }
    }
  }

 private:
  std::vector<std::size_t> unmet_;
  std::vector<std::vector<std::size_t>> dependents_;
  // Outside blockers still open, for the tasks that have any (few).
  std::map<std::size_t, std::set<std::string, std::less<>>> blockers_;
  std::multimap<std::string, std::size_t, std::less<>> blocked_on_;
  // Keys view the tasks' ids, which the machine never changes nor moves.
  std::unordered_map<std::string_view, std::size_t> index_of_;
  bool waiting_ = false;
};

}  // namespace maestro::core
