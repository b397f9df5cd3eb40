#include <algorithm>
#include <unordered_set>

#include <maestro/core/input_error.hpp>
#include <maestro/core/task_tree.hpp>

#include "cycles.hpp"

namespace maestro::core {

task_tree::task_tree(const std::vector<task>& tasks,
                     const std::unordered_map<std::string_view, std::size_t>& by_id,
                     std::string_view origin, closed_test closed)
    : tasks_(&tasks),
      by_id_(&by_id),
      closed_(std::move(closed)),
      parents_(tasks.size()),
      children_(tasks.size()),
      inherited_(tasks.size()),
      leaves_(tasks.size()),
      height_(tasks.size(), 0) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].record_type != "issue") {
      continue;
    }
    std::unordered_set<std::size_t> mine;
    for (const auto& dep : tasks[i].dependencies) {
      if (!dep.is_parent_link()) {
        continue;
      }
      const auto found = by_id.find(dep.id);
      if (found != by_id.end() && mine.insert(found->second).second) {
        parents_[i].push_back(found->second);
      }
    }
    forest_ = forest_ && parents_[i].size() <= 1;
  }
  // Children in list order: filled by walking the tasks in order.
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    for (const auto p : parents_[i]) {
      children_[p].push_back(i);
    }
  }
  if (const auto cycle = detail::find_cycle(parents_); !cycle.empty()) {
    const task& first = tasks[cycle.front()];
    throw input_error({std::string(origin), first.line, 0, first.id},
                      "parent-child cycle: " + detail::join_cycle(cycle, [&](std::size_t n) {
                        return tasks[n].id;
                      }) + " (each a child of the next)");
  }
  if (forest_) {
    number_forest();
  }

  const auto order = parents_first();
  // What each task inherits: each open parent's own dependencies, then what
  // that parent inherits, nearest first, each id once.
  for (const auto i : order) {
    std::unordered_set<std::string_view> ids;
    auto& mine = inherited_[i];
    for (const auto p : parents_[i]) {
      if (closed_(p)) {
        continue;  // not blocked: passes nothing down
      }
      const auto& deps = tasks[p].dependencies;
      for (std::size_t d = 0; d < deps.size(); ++d) {
        if (deps[d].gates() && ids.insert(deps[d].id).second) {
          mine.push_back({p, d});
        }
      }
      for (const auto& up : inherited_[p]) {
        if (ids.insert(tasks[up.holder].dependencies[up.dep].id).second) {
          mine.push_back(up);
        }
      }
    }
  }
  // What each epic stands for, children first.
  for (std::size_t k = order.size(); k-- > 0;) {
    const auto e = order[k];
    if (!is_epic(tasks[e])) {
      continue;
    }
    for (const auto c : children_[e]) {
      if (is_epic(tasks[c])) {
        height_[e] = std::max(height_[e], height_[c] + 1);
      }
    }
    if (!expands(e)) {
      continue;
    }
    std::unordered_set<std::size_t> seen;
    auto& mine = leaves_[e];
    for (const auto c : children_[e]) {
      if (closed_(c)) {
        continue;
      }
      if (expands(c)) {
        for (const auto leaf : leaves_[c]) {
          if (seen.insert(leaf).second) {
            mine.push_back(leaf);
          }
        }
      } else if (seen.insert(c).second) {
        mine.push_back(c);
      }
    }
  }
}

bool task_tree::expands(std::size_t i) const {
  return why_not_run((*tasks_)[i]) == skip_reason::epic && !children_[i].empty();
}

std::size_t task_tree::index_of(std::string_view id) const {
  const auto found = by_id_->find(id);
  return found == by_id_->end() ? detail::no_node : found->second;
}

std::vector<std::size_t> task_tree::parents_first() const {
  // Kahn's algorithm over the parent links (there is no cycle).
  std::vector<std::size_t> waiting(parents_.size());
  std::vector<std::size_t> order;
  order.reserve(parents_.size());
  for (std::size_t i = 0; i < parents_.size(); ++i) {
    waiting[i] = parents_[i].size();
    if (waiting[i] == 0) {
      order.push_back(i);
    }
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    for (const auto c : children_[order[k]]) {
      if (--waiting[c] == 0) {
        order.push_back(c);
      }
    }
  }
  return order;
}

void task_tree::number_forest() {
  enter_.assign(parents_.size(), 0);
  leave_.assign(parents_.size(), 0);
  std::size_t clock = 0;
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // node, next child
  for (std::size_t root = 0; root < parents_.size(); ++root) {
    if (!parents_[root].empty()) {
      continue;
    }
    enter_[root] = ++clock;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == children_[node].size()) {
        leave_[node] = ++clock;
        stack.pop_back();
        continue;
      }
      const auto child = children_[node][next++];
      enter_[child] = ++clock;
      stack.emplace_back(child, 0);
    }
  }
}

std::optional<std::size_t> task_tree::parent(std::size_t i) const {
  const auto& mine = parents_.at(i);
  if (mine.empty()) {
    return std::nullopt;
  }
  return mine.front();
}

bool task_tree::is_descendant(std::size_t task, std::size_t ancestor) const {
  if (forest_) {
    return enter_.at(ancestor) < enter_.at(task) && leave_.at(task) < leave_.at(ancestor);
  }
  std::vector<std::size_t> pending = parents_.at(task);
  std::unordered_set<std::size_t> seen;
  while (!pending.empty()) {
    const auto at = pending.back();
    pending.pop_back();
    if (at == ancestor) {
      return true;
    }
    if (seen.insert(at).second) {
      pending.insert(pending.end(), parents_[at].begin(), parents_[at].end());
    }
  }
  return false;
}

std::vector<gate> task_tree::gates(std::size_t i) const {
  const auto& tasks = *tasks_;
  std::vector<gate> out;
  std::unordered_set<std::string_view> ids;
  const auto below_or_self = [&](std::size_t other) {
    return other == i || is_descendant(other, i);
  };
  const auto add = [&](std::string_view id, std::string_view via) {
    const auto target = index_of(id);
    if (target != detail::no_node && expands(target) && !closed_(target)) {
      // The epic completes when its children have: wait for them instead.
      for (const auto leaf : leaves_[target]) {
        if (!below_or_self(leaf) && ids.insert(tasks[leaf].id).second) {
          out.push_back({tasks[leaf].id, std::string(via), std::string(id), leaf});
        }
      }
      return;
    }
    // A parent blocked by its own child does not block that child.
    if (!via.empty() && target != detail::no_node && below_or_self(target)) {
      return;
    }
    if (ids.insert(id).second) {
      out.push_back({std::string(id), std::string(via), {}, target});
    }
  };
  for (const auto& dep : tasks.at(i).dependencies) {
    if (dep.gates()) {
      add(dep.id, {});
    }
  }
  for (const auto& up : inherited_[i]) {
    add(tasks[up.holder].dependencies[up.dep].id, tasks[up.holder].id);
  }
  return out;
}

}  // namespace maestro::core
