#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_map>

#include <maestro/core/group_marker.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/core/plan.hpp>

#include "cycles.hpp"

namespace maestro::core {
namespace {

constexpr std::size_t none = detail::no_node;
using detail::find_cycle;
using detail::join_cycle;

input_location locate(const plan_options& options, const task& t) {
  return {options.origin, t.line, 0, t.id};
}

}  // namespace

const stage* plan::find_stage(std::string_view id) const noexcept {
  const auto it =
      std::find_if(stages.begin(), stages.end(), [id](const stage& s) { return s.id == id; });
  return it == stages.end() ? nullptr : &*it;
}

std::vector<std::string> planned_task::waits_for_ids() const {
  std::vector<std::string> ids;
  ids.reserve(waits_for.size());
  for (const auto& g : waits_for) {
    ids.push_back(g.id);
  }
  return ids;
}

std::size_t plan::blocked_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(
      tasks.begin(), tasks.end(), [](const planned_task& t) { return !t.blocked_by.empty(); }));
}

namespace {

// The group an unmarked task joins through its parent (`group_by`), if any.
std::optional<std::string> group_from_parent(const std::vector<task>& tasks, const task_tree& tree,
                                             std::size_t i, const plan_options& options) {
  if (options.group_by == grouping::marker) {
    return std::nullopt;
  }
  const auto parent = tree.parent(i);
  if (!parent || (options.group_by == grouping::epic && !is_epic(tasks[*parent]))) {
    return std::nullopt;
  }
  const std::string& name = tasks[*parent].id;
  // `_sequential.<id>` names a sequential stage: a group of that name
  // would share its state.
  if (name == sequential_group || name.starts_with(std::string(sequential_group) + '.')) {
    throw input_error(
        locate(options, tasks[i]),
        "its parent's id " + name + " cannot name a group (group_by): _sequential is reserved");
  }
  return name;
}

// Epics: what each waits for, and the stage after which it is closed.
void plan_epics(const std::vector<task>& tasks, const task_tree& tree,
                const std::vector<std::size_t>& planned_of, plan& result) {
  std::unordered_map<std::string_view, std::size_t> position;  // stage id -> run order
  for (std::size_t k = 0; k < result.stages.size(); ++k) {
    position.emplace(result.stages[k].id, k);
  }
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> per_stage(result.stages.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (why_not_run(tasks[i]) != skip_reason::epic) {
      continue;
    }
    planned_epic e;
    e.index = i;
    e.children = tree.children(i);
    e.waits_for = tree.epic_leaves(i);
    std::size_t last = 0;
    bool first = true;
    if (e.children.empty()) {
      e.note = "no children: left alone";
    } else if (e.waits_for.empty()) {
      e.note = "every child is closed already: left to the tracker";
    } else {
      for (const auto leaf : e.waits_for) {
        if (planned_of[leaf] == none) {
          e.note = "waits for " + tasks[leaf].id + " (" +
                   (is_epic(tasks[leaf]) ? "epic, status " + tasks[leaf].status +
                                               (tree.children(leaf).empty() ? ", no children" : "")
                                         : "status " + tasks[leaf].status) +
                   "), which this run does not complete";
          break;
        }
        if (const auto& blocked = result.tasks[planned_of[leaf]].blocked_by; !blocked.empty()) {
          e.note = "waits for " + tasks[leaf].id + ", which is blocked by " + blocked.front().id;
          break;
        }
        const auto at = position.at(result.tasks[planned_of[leaf]].stage_id);
        last = first ? at : std::max(last, at);
        first = false;
      }
    }
    if (e.note.empty()) {
      e.closes_after = result.stages[last].id;
      per_stage[last].emplace_back(tree.epic_height(i), result.epics.size());
    }
    result.epics.push_back(std::move(e));
  }
  for (std::size_t k = 0; k < per_stage.size(); ++k) {
    // Nested epics close before the epics that hold them.
    std::stable_sort(per_stage[k].begin(), per_stage[k].end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [height, epic] : per_stage[k]) {
      result.stages[k].epics.push_back(epic);
    }
  }
}

}  // namespace

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
  // Closed: in the source, or completed in a group that did not fail.
  const task_tree::closed_test closed = [&](std::size_t i) {
    return is_closed_status(tasks[i].status) || options.completed_elsewhere.contains(tasks[i].id);
  };
  const task_tree tree(tasks, by_id, options.origin, closed);

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
    // A marker wins over the parent.
    const auto group = scan.group ? scan.group : group_from_parent(tasks, tree, i, options);
    planned_task p;
    p.index = i;
    p.group = group ? *group : std::string(sequential_group);
    p.stage_id = group ? *group : sequential_stage_id(t.id);
    // Its log file and its group's directory are named after the ids
    // (SPEC section 6): both must fit NAME_MAX once encoded.
    if (log_file_name(t.id).size() > max_file_name) {
      throw input_error(locate(options, t), "id too long for a file name: its log file would be " +
                                                std::to_string(log_file_name(t.id).size()) +
                                                " bytes, over " + std::to_string(max_file_name));
    }
    if (group_dir_name(p.stage_id).size() > max_file_name) {
      throw input_error(locate(options, t),
                        std::string(group ? "group name" : "id") +
                            " too long for a file name: the group's directory would be " +
                            std::to_string(group_dir_name(p.stage_id).size()) + " bytes, over " +
                            std::to_string(max_file_name));
    }
    p.agent = choose_agent(t, *options.keywords, options.default_agent);
    const std::size_t planned_index = result.tasks.size();
    planned_of[i] = planned_index;

    const auto [stage_it, new_stage] = stage_of_id.emplace(p.stage_id, result.stages.size());
    if (new_stage) {
      result.stages.push_back(
          {p.stage_id, group ? stage_kind::parallel : stage_kind::sequential, p.group, {}, {}, {}});
    }
    result.stages[stage_it->second].tasks.push_back(planned_index);

    const auto [group_it, new_group] = group_of_name.emplace(p.group, result.groups.size());
    if (new_group) {
      result.groups.push_back({p.group, {}});
    }
    result.groups[group_it->second].tasks.push_back(planned_index);
    result.tasks.push_back(std::move(p));
  }

  // Resolve the blocking dependencies under beads' rules: inside the run
  // they order work, outside it they must already be satisfied.
  std::vector<std::vector<std::size_t>> task_edges(result.tasks.size());
  for (auto& p : result.tasks) {
    for (auto& g : tree.gates(p.index)) {
      const auto found = by_id.find(g.id);
      const std::size_t source_index = found == by_id.end() ? none : found->second;
      if (source_index != none && planned_of[source_index] != none) {
        // Gates are unique by id, so the edges are too.
        task_edges[planned_of[p.index]].push_back(planned_of[source_index]);
        p.waits_for.push_back(std::move(g));
        continue;
      }
      if (source_index != none && closed(source_index)) {
        continue;
      }
      if (source_index == none && options.completed_elsewhere.contains(g.id)) {
        continue;
      }
      p.blocked_by.push_back({g.id,
                              source_index == none ? std::string{} : tasks[source_index].status,
                              g.via, g.epic, source_index});
    }
  }
  if (const auto cycle = find_cycle(task_edges); !cycle.empty()) {
    const task& first = tasks[result.tasks[cycle.front()].index];
    // An edge that beads' rules made (inherited from an ancestor, or an
    // epic standing for its children) says so: the input does not show it.
    const auto why = [&](std::size_t from, std::size_t to) {
      const auto& gates = result.tasks[from].waits_for;
      const auto& id = tasks[result.tasks[to].index].id;
      const auto g =
          std::find_if(gates.begin(), gates.end(), [&](const gate& x) { return x.id == id; });
      if (g == gates.end() || (g->via.empty() && g->epic.empty())) {
        return std::string{};
      }
      std::string text = " (";
      if (!g->epic.empty()) {
        text += "child of epic " + g->epic;
      }
      if (!g->via.empty()) {
        text += (g->epic.empty() ? "" : ", ") + std::string("through ") + g->via;
      }
      return text + ")";
    };
    throw input_error(
        locate(options, first),
        "dependency cycle: " +
            join_cycle(
                cycle, [&](std::size_t n) { return tasks[result.tasks[n].index].id; }, why));
  }

  // Order the stages: stable topological order by first appearance.
  const std::size_t stage_count = result.stages.size();
  std::vector<std::vector<std::size_t>> stage_edges(stage_count);  // stage -> stages it needs
  std::vector<std::size_t> stage_of_task(result.tasks.size());
  for (std::size_t s = 0; s < stage_count; ++s) {
    for (const auto planned_index : result.stages[s].tasks) {
      stage_of_task[planned_index] = s;
    }
  }
  // `marked[o] == s + 1`: stage o is already among stage s's edges.
  std::vector<std::size_t> marked(stage_count, 0);
  for (std::size_t s = 0; s < stage_count; ++s) {
    for (const auto planned_index : result.stages[s].tasks) {
      for (const auto needed : task_edges[planned_index]) {
        const std::size_t other = stage_of_task[needed];
        if (other != s && marked[other] != s + 1) {
          marked[other] = s + 1;
          stage_edges[s].push_back(other);
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
  plan_epics(tasks, tree, planned_of, result);
  return result;
}

}  // namespace maestro::core
