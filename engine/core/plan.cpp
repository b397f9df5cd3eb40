#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <string_view>
#include <unordered_map>

#include <maestro/core/group_marker.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/core/plan.hpp>

namespace maestro::core {
namespace {

constexpr std::size_t none = SIZE_MAX;

input_location locate(const plan_options& options, const task& t) {
  return {options.origin, t.line, 0, t.id};
}

// Finds a cycle in a directed graph given as adjacency lists, returning its
// nodes in order with the first repeated at the end, or an empty vector.
// Iterative, because a chain of 100,000 tasks would overflow the stack.
std::vector<std::size_t> find_cycle(const std::vector<std::vector<std::size_t>>& edges) {
  enum class mark : std::uint8_t { fresh, open, done };
  std::vector<mark> marks(edges.size(), mark::fresh);
  std::vector<std::size_t> parent(edges.size(), none);
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // node, next edge
  for (std::size_t root = 0; root < edges.size(); ++root) {
    if (marks[root] != mark::fresh) {
      continue;
    }
    stack.emplace_back(root, 0);
    marks[root] = mark::open;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == edges[node].size()) {
        marks[node] = mark::done;
        stack.pop_back();
        continue;
      }
      const std::size_t to = edges[node][next++];
      if (marks[to] == mark::open) {
        std::vector<std::size_t> cycle{to};
        for (std::size_t at = node; at != to; at = parent[at]) {
          cycle.push_back(at);
        }
        std::reverse(cycle.begin() + 1, cycle.end());
        cycle.push_back(to);
        return cycle;
      }
      if (marks[to] == mark::fresh) {
        marks[to] = mark::open;
        parent[to] = node;
        stack.emplace_back(to, 0);
      }
    }
  }
  return {};
}

// Names a cycle on one line; a long one keeps its ends and counts the rest.
template <class Name>
std::string join_cycle(const std::vector<std::size_t>& cycle, Name name) {
  constexpr std::size_t head = 6;
  constexpr std::size_t tail = 3;
  std::string out;
  for (std::size_t k = 0; k < cycle.size(); ++k) {
    if (cycle.size() > head + tail + 1 && k == head) {
      out += " -> ... (" + std::to_string(cycle.size() - head - tail) + " more)";
      k = cycle.size() - tail - 1;
      continue;
    }
    if (!out.empty()) {
      out += " -> ";
    }
    out += printable(name(cycle[k]));
  }
  return out;
}

template <class T>
void push_unique(std::vector<T>& items, const T& item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) {
    items.push_back(item);
  }
}

}  // namespace

const stage* plan::find_stage(std::string_view id) const noexcept {
  const auto it =
      std::find_if(stages.begin(), stages.end(), [id](const stage& s) { return s.id == id; });
  return it == stages.end() ? nullptr : &*it;
}

std::size_t plan::blocked_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(
      tasks.begin(), tasks.end(), [](const planned_task& t) { return !t.blocked_by.empty(); }));
}

plan make_plan(const std::vector<task>& tasks, const plan_options& options) {
  plan result;

  // Every issue record needs a unique id; other records are not checked.
  std::unordered_map<std::string_view, std::size_t> by_id;
  by_id.reserve(tasks.size());
  result.tasks.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const task& t = tasks[i];
    if (t.record_type != "issue") {
      continue;
    }
    if (t.id.empty()) {
      throw input_error(locate(options, t), "missing id");
    }
    const auto [it, inserted] = by_id.emplace(t.id, i);
    if (!inserted) {
      const auto first_line = tasks[it->second].line;
      throw input_error(locate(options, t),
                        "duplicate id" + (first_line != 0 ? " (first seen on line " +
                                                                std::to_string(first_line) + ")"
                                                          : std::string{}));
    }
  }

  // Classify, group and choose agents.
  std::vector<std::size_t> planned_of(tasks.size(), none);
  std::unordered_map<std::string, std::size_t> stage_of_id;
  std::unordered_map<std::string, std::size_t> group_of_name;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const task& t = tasks[i];
    if (const auto reason = why_not_run(t)) {
      result.skipped.push_back({i, *reason});
      continue;
    }
    const auto scan = scan_group_markers(t.title, t.description);
    if (scan.conflicting) {
      throw input_error(locate(options, t), "two different group markers: [P:Group-" + *scan.group +
                                                "] and [P:Group-" + *scan.conflicting + "]");
    }
    if (scan.group && *scan.group == sequential_group) {
      throw input_error(locate(options, t),
                        "group name _sequential is reserved for unmarked tasks");
    }
    planned_task p;
    p.index = i;
    p.group = scan.group ? *scan.group : std::string(sequential_group);
    p.stage_id = scan.group ? *scan.group : sequential_stage_id(t.id);
    // Its log file and its group's directory are named after the ids
    // (SPEC section 6): both must fit NAME_MAX once encoded.
    if (log_file_name(t.id).size() > max_file_name) {
      throw input_error(locate(options, t), "id too long for a file name: its log file would be " +
                                                std::to_string(log_file_name(t.id).size()) +
                                                " bytes, over " + std::to_string(max_file_name));
    }
    if (group_dir_name(p.stage_id).size() > max_file_name) {
      throw input_error(locate(options, t),
                        std::string(scan.group ? "group name" : "id") +
                            " too long for a file name: the group's directory would be " +
                            std::to_string(group_dir_name(p.stage_id).size()) + " bytes, over " +
                            std::to_string(max_file_name));
    }
    p.agent = choose_agent(t, *options.keywords, options.default_agent);
    const std::size_t planned_index = result.tasks.size();
    planned_of[i] = planned_index;

    const auto [stage_it, new_stage] = stage_of_id.emplace(p.stage_id, result.stages.size());
    if (new_stage) {
      result.stages.push_back({p.stage_id,
                               scan.group ? stage_kind::parallel : stage_kind::sequential,
                               p.group,
                               {},
                               {}});
    }
    result.stages[stage_it->second].tasks.push_back(planned_index);

    const auto [group_it, new_group] = group_of_name.emplace(p.group, result.groups.size());
    if (new_group) {
      result.groups.push_back({p.group, {}});
    }
    result.groups[group_it->second].tasks.push_back(planned_index);
    result.tasks.push_back(std::move(p));
  }

  // Resolve gating dependencies: inside the run they order work, outside it
  // they must already be satisfied.
  std::vector<std::vector<std::size_t>> task_edges(result.tasks.size());
  for (auto& p : result.tasks) {
    const task& t = tasks[p.index];
    for (const auto& dep : t.dependencies) {
      if (!dep.gates()) {
        continue;
      }
      const auto found = by_id.find(dep.id);
      const std::size_t source_index = found == by_id.end() ? none : found->second;
      if (source_index != none && planned_of[source_index] != none) {
        push_unique(p.waits_for, dep.id);
        push_unique(task_edges[planned_of[p.index]], planned_of[source_index]);
        continue;
      }
      if (options.completed_elsewhere.contains(dep.id)) {
        continue;
      }
      if (source_index != none && is_closed_status(tasks[source_index].status)) {
        continue;
      }
      const bool known = std::any_of(p.blocked_by.begin(), p.blocked_by.end(),
                                     [&dep](const auto& u) { return u.id == dep.id; });
      if (!known) {
        p.blocked_by.push_back(
            {dep.id, source_index == none ? std::string{} : tasks[source_index].status});
      }
    }
  }

  if (const auto cycle = find_cycle(task_edges); !cycle.empty()) {
    const task& first = tasks[result.tasks[cycle.front()].index];
    throw input_error(locate(options, first),
                      "dependency cycle: " + join_cycle(cycle, [&](std::size_t n) {
                        return tasks[result.tasks[n].index].id;
                      }));
  }

  // Order the stages: stable topological order by first appearance.
  const std::size_t stage_count = result.stages.size();
  std::vector<std::vector<std::size_t>> stage_edges(stage_count);  // stage -> stages it needs
  for (std::size_t s = 0; s < stage_count; ++s) {
    for (const auto planned_index : result.stages[s].tasks) {
      for (const auto needed : task_edges[planned_index]) {
        const std::size_t other = stage_of_id.at(result.tasks[needed].stage_id);
        if (other != s) {
          push_unique(stage_edges[s], other);
        }
      }
    }
  }
  if (const auto cycle = find_cycle(stage_edges); !cycle.empty()) {
    const std::string names = join_cycle(cycle, [&](std::size_t n) { return result.stages[n].id; });
    throw input_error({options.origin, 0, 0, {}}, "dependency cycle between stages: " + names);
  }
  std::vector<std::size_t> missing(stage_count, 0);
  std::vector<std::vector<std::size_t>> dependents(stage_count);
  for (std::size_t s = 0; s < stage_count; ++s) {
    missing[s] = stage_edges[s].size();
    for (const auto needed : stage_edges[s]) {
      dependents[needed].push_back(s);
    }
  }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t s = 0; s < stage_count; ++s) {
    if (missing[s] == 0) {
      ready.push(s);
    }
  }
  std::vector<std::size_t> order;
  order.reserve(stage_count);
  while (!ready.empty()) {
    const auto s = ready.top();
    ready.pop();
    order.push_back(s);
    for (const auto d : dependents[s]) {
      if (--missing[d] == 0) {
        ready.push(d);
      }
    }
  }
  std::vector<std::size_t> position(stage_count, 0);
  for (std::size_t k = 0; k < order.size(); ++k) {
    position[order[k]] = k;
  }
  for (std::size_t s = 0; s < stage_count; ++s) {
    auto needed = stage_edges[s];
    std::sort(needed.begin(), needed.end(),
              [&](std::size_t a, std::size_t b) { return position[a] < position[b]; });
    for (const auto n : needed) {
      result.stages[s].after.push_back(result.stages[n].id);
    }
  }
  std::vector<stage> ordered;
  ordered.reserve(stage_count);
  for (const auto s : order) {
    ordered.push_back(std::move(result.stages[s]));
  }
  result.stages = std::move(ordered);
  return result;
}

}  // namespace maestro::core
