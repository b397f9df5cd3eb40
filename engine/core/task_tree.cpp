#include <algorithm>
#include <deque>
#include <unordered_set>

#include <maestro/core/input_error.hpp>
#include <maestro/core/task_tree.hpp>

#include "cycles.hpp"

namespace maestro::core {

task_tree::task_tree(const std::vector<task>& tasks,
                     const std::unordered_map<std::string_view, std::size_t>& by_id,
                     std::string_view origin)
    : tasks_(&tasks), by_id_(&by_id), parents_(tasks.size()), children_(tasks.size()) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].record_type != "issue") {
      continue;
    }
    for (const auto& dep : tasks[i].dependencies) {
      if (!dep.is_parent_link()) {
        continue;
      }
      const auto found = by_id.find(dep.id);
      if (found == by_id.end()) {
        continue;
      }
      auto& mine = parents_[i];
      if (std::find(mine.begin(), mine.end(), found->second) == mine.end()) {
        mine.push_back(found->second);
      }
    }
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
}

std::optional<std::size_t> task_tree::parent(std::size_t i) const {
  const auto& mine = parents_.at(i);
  if (mine.empty()) {
    return std::nullopt;
  }
  return mine.front();
}

bool task_tree::is_descendant(std::size_t task, std::size_t ancestor) const {
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

std::vector<std::size_t> task_tree::epic_leaves(std::size_t epic, const closed_test& closed) const {
  const auto& tasks = *tasks_;
  std::vector<std::size_t> leaves;
  std::unordered_set<std::size_t> seen;
  // Depth first, children in list order.
  std::vector<std::size_t> pending(children_.at(epic).rbegin(), children_.at(epic).rend());
  while (!pending.empty()) {
    const auto at = pending.back();
    pending.pop_back();
    if (!seen.insert(at).second || closed(at)) {
      continue;
    }
    if (is_epic(tasks[at]) && !children_[at].empty()) {
      pending.insert(pending.end(), children_[at].rbegin(), children_[at].rend());
      continue;
    }
    leaves.push_back(at);
  }
  return leaves;
}

std::size_t task_tree::epic_height(std::size_t epic) const {
  // Iterative: nesting is shallow in practice, but the input is not trusted.
  std::size_t height = 0;
  std::vector<std::pair<std::size_t, std::size_t>> pending{{epic, 0}};  // epic, its depth
  std::unordered_set<std::size_t> seen;
  while (!pending.empty()) {
    const auto [at, depth] = pending.back();
    pending.pop_back();
    height = std::max(height, depth);
    for (const auto child : children_[at]) {
      if (is_epic((*tasks_)[child]) && seen.insert(child).second) {
        pending.emplace_back(child, depth + 1);
      }
    }
  }
  return height;
}

void task_tree::add_gate(gate_list& out, std::size_t holder, std::size_t target,
                         std::string_view id, std::string_view via,
                         const closed_test& closed) const {
  const auto& tasks = *tasks_;
  const bool inherited = !via.empty();
  if (target != detail::no_node && is_epic(tasks[target]) && !closed(target) &&
      !children_[target].empty()) {
    // The epic completes when its children have: wait for them instead.
    for (const auto leaf : epic_leaves(target, closed)) {
      if (leaf != holder && !is_descendant(leaf, holder) && out.ids.insert(tasks[leaf].id).second) {
        out.gates.push_back({tasks[leaf].id, std::string(via), std::string(id)});
      }
    }
    return;
  }
  if (inherited && target != detail::no_node &&
      (target == holder || is_descendant(target, holder))) {
    return;  // a parent blocked by its own child does not block that child
  }
  if (out.ids.insert(id).second) {
    out.gates.push_back({std::string(id), std::string(via), {}});
  }
}

std::vector<gate> task_tree::gates(std::size_t i, const closed_test& closed) const {
  const auto& tasks = *tasks_;
  gate_list out;
  const auto target_of = [this](std::string_view id) {
    const auto found = by_id_->find(id);
    return found == by_id_->end() ? detail::no_node : found->second;
  };
  for (const auto& dep : tasks.at(i).dependencies) {
    if (dep.gates()) {
      add_gate(out, i, target_of(dep.id), dep.id, {}, closed);
    }
  }
  // Ancestors, nearest first. A closed one is not blocked: it passes
  // nothing down, neither its own blockers nor its ancestors'.
  std::deque<std::size_t> pending(parents_[i].begin(), parents_[i].end());
  std::unordered_set<std::size_t> seen;
  while (!pending.empty()) {
    const auto at = pending.front();
    pending.pop_front();
    if (!seen.insert(at).second || closed(at)) {
      continue;
    }
    for (const auto& dep : tasks[at].dependencies) {
      if (dep.gates()) {
        add_gate(out, i, target_of(dep.id), dep.id, tasks[at].id, closed);
      }
    }
    pending.insert(pending.end(), parents_[at].begin(), parents_[at].end());
  }
  return std::move(out.gates);
}

}  // namespace maestro::core
