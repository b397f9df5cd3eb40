// `maestro-async detect`: prints the plan without running anything.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_set>

#include <boost/json.hpp>
#include <fmt/core.h>

#include <maestro/adapters/state_dir.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_marker.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/core/plan.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"

namespace maestro::app {
namespace {

namespace json = boost::json;
using core::join;

std::string agent_reason(const core::agent_choice& choice) {
  std::string out(core::to_string(choice.source));
  switch (choice.source) {
    case core::agent_source::metadata:
      break;
    case core::agent_source::keywords:
      out += ": " + join(choice.matched, ", ");
      break;
    case core::agent_source::default_agent:
      out += ", no keyword matched";
      break;
  }
  return out;
}

// Whether `ancestor` is a direct parent of `t`.
bool is_parent_of(const core::task& t, std::string_view ancestor) {
  return std::any_of(t.dependencies.begin(), t.dependencies.end(), [&](const core::dependency& d) {
    return d.is_parent_link() && d.id == ancestor;
  });
}

// Where a blocker comes from: "child of epic E", "through parent P".
std::string provenance(const core::task& t, std::string_view via, std::string_view epic) {
  std::vector<std::string> parts;
  if (!epic.empty()) {
    parts.push_back("child of epic " + std::string(epic));
  }
  if (!via.empty()) {
    parts.push_back((is_parent_of(t, via) ? "through parent " : "through ancestor ") +
                    std::string(via));
  }
  return join(parts, ", ");
}

std::string blocker_text(const core::task& t, const core::unsatisfied_dependency& u,
                         bool epic_without_children) {
  std::string out = u.id + (u.absent() ? " (absent from the source" : " (" + u.status);
  if (epic_without_children) {
    out += " epic with no children: it never completes";
  }
  if (const auto from = provenance(t, u.via, u.epic); !from.empty()) {
    out += "; " + from;
  }
  return out + ")";
}

// The tasks of the run a task waits for, each with where it comes from.
std::string waits_text(const core::task& t, const core::planned_task& p) {
  std::vector<std::string> items;
  for (const auto& g : p.waits_for) {
    const auto from = provenance(t, g.via, g.epic);
    items.push_back(from.empty() ? g.id : g.id + " (" + from + ")");
  }
  return join(items, ", ");
}

json::value null_if_empty(const std::string& text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& item : items) {
    out.emplace_back(item);
  }
  return out;
}

// The Python coordinator's shape: one key per group in order of first
// appearance, each a list of the ids it runs, plus `_skipped`.
json::object python_shape(const std::vector<core::task>& tasks, const core::plan& plan) {
  json::object out;
  for (const auto& group : plan.groups) {
    json::array ids;
    for (const auto i : group.tasks) {
      ids.emplace_back(tasks[plan.tasks[i].index].id);
    }
    out[group.name] = std::move(ids);
  }
  json::array skipped;
  for (const auto& s : plan.skipped) {
    if (!tasks[s.index].id.empty()) {
      skipped.emplace_back(tasks[s.index].id);
    }
  }
  out["_skipped"] = std::move(skipped);
  return out;
}

json::object detailed_shape(const std::string& origin, const task_document& doc,
                            const core::plan& plan) {
  const auto& tasks = doc.tasks;
  json::array stages;
  for (const auto& s : plan.stages) {
    json::array ids;
    for (const auto i : s.tasks) {
      ids.emplace_back(tasks[plan.tasks[i].index].id);
    }
    json::array closes;
    for (const auto k : s.epics) {
      closes.emplace_back(tasks[plan.epics[k].index].id);
    }
    stages.push_back(
        json::object{{"id", s.id},
                     {"kind", s.kind == core::stage_kind::parallel ? "parallel" : "sequential"},
                     {"group", s.group},
                     {"tasks", std::move(ids)},
                     {"after", string_array(s.after)},
                     {"closes_epics", std::move(closes)}});
  }
  const auto ids_of = [&tasks](const std::vector<std::size_t>& indices) {
    json::array out;
    for (const auto i : indices) {
      out.emplace_back(tasks[i].id);
    }
    return out;
  };
  json::array epics;
  for (const auto& e : plan.epics) {
    const auto& t = tasks[e.index];
    epics.push_back(json::object{{"id", t.id},
                                 {"title", t.title},
                                 {"status", t.status},
                                 {"children", ids_of(e.children)},
                                 {"waits_for", ids_of(e.waits_for)},
                                 {"closes_after", null_if_empty(e.closes_after)},
                                 {"note", null_if_empty(e.note)}});
  }
  json::array planned;
  json::array blocked;
  for (const auto& p : plan.tasks) {
    const auto& t = tasks[p.index];
    json::array blockers;
    for (const auto& u : p.blocked_by) {
      blockers.push_back(
          json::object{{"id", u.id},
                       {"status", u.absent() ? json::value(nullptr) : json::value(u.status)},
                       {"via", null_if_empty(u.via)},
                       {"epic", null_if_empty(u.epic)}});
    }
    json::array gates;
    for (const auto& g : p.waits_for) {
      gates.push_back(json::object{{"id", g.id},
                                   {"via", null_if_empty(g.via)},
                                   {"epic", null_if_empty(g.epic)},
                                   {"in_run", true}});
    }
    for (const auto& u : p.blocked_by) {
      gates.push_back(json::object{{"id", u.id},
                                   {"via", null_if_empty(u.via)},
                                   {"epic", null_if_empty(u.epic)},
                                   {"in_run", false}});
    }
    json::array parents;
    for (const auto& d : t.dependencies) {
      if (d.is_parent_link()) {
        parents.emplace_back(d.id);
      }
    }
    if (!p.blocked_by.empty()) {
      blocked.emplace_back(t.id);
    }
    planned.push_back(json::object{{"id", t.id},
                                   {"title", t.title},
                                   {"status", t.status},
                                   {"priority", t.priority},
                                   {"group", p.group},
                                   {"stage", p.stage_id},
                                   {"agent", p.agent.agent},
                                   {"agent_source", core::to_string(p.agent.source)},
                                   {"matched_keywords", string_array(p.agent.matched)},
                                   {"fallback_agents", string_array(t.fallback_agents)},
                                   {"skills", string_array(t.applicable_skills)},
                                   {"issue_type", t.issue_type},
                                   {"parents", std::move(parents)},
                                   {"waits_for", string_array(p.waits_for_ids())},
                                   {"gates", std::move(gates)},
                                   {"blocked_by", std::move(blockers)}});
  }
  json::array skipped;
  for (const auto& s : plan.skipped) {
    const auto& t = tasks[s.index];
    skipped.push_back(json::object{{"id", t.id.empty() ? json::value(nullptr) : json::value(t.id)},
                                   {"status", t.status},
                                   {"record_type", t.record_type},
                                   {"reason", core::to_string(s.reason)}});
    if (t.claimed_by) {
      skipped.back().as_object()["claimed_by"] = *t.claimed_by;
    }
  }
  return json::object{{"source", origin},
                      {"format", core::name_of(doc.format)},
                      {"stages", std::move(stages)},
                      {"tasks", std::move(planned)},
                      {"skipped", std::move(skipped)},
                      {"epics", std::move(epics)},
                      {"blocked", std::move(blocked)},
                      {"counts", json::object{{"records", tasks.size()},
                                              {"run", plan.tasks.size()},
                                              {"skipped", plan.skipped.size()},
                                              {"epics", plan.epics.size()},
                                              {"blocked", plan.blocked_count()},
                                              {"stages", plan.stages.size()}}}};
}

void print_text(const std::string& origin, const task_document& doc, const core::plan& plan) {
  // Input text never reaches the terminal as it is (SPEC section 1).
  const auto esc = [](std::string_view text) { return core::printable(text); };
  const auto& tasks = doc.tasks;
  fmt::print("source: {} ({} records: {} to run, {} skipped, {} blocked)\n", origin, tasks.size(),
             plan.tasks.size(), plan.skipped.size(), plan.blocked_count());
  fmt::print("\nstages, in run order:\n");
  for (std::size_t k = 0; k < plan.stages.size(); ++k) {
    const auto& s = plan.stages[k];
    const auto n = s.tasks.size();
    fmt::print("  {:>3}. {}  ({}, {} task{}{})\n", k + 1, esc(s.id),
               s.kind == core::stage_kind::parallel ? "parallel" : "sequential", n,
               n == 1 ? "" : "s", s.after.empty() ? "" : ", after " + esc(join(s.after, ", ")));
  }
  for (const auto& group : plan.groups) {
    fmt::print("\ngroup {} ({} task{}):\n", group.name, group.tasks.size(),
               group.tasks.size() == 1 ? "" : "s");
    for (const auto i : group.tasks) {
      const auto& p = plan.tasks[i];
      const auto& t = tasks[p.index];
      std::string agent = p.agent.agent;
      if (!t.fallback_agents.empty()) {
        agent += " -> " + join(t.fallback_agents, " -> ");
      }
      fmt::print("  {}  P{}  agent {} ({})  {}\n", esc(t.id), t.priority, esc(agent),
                 esc(agent_reason(p.agent)), esc(t.title));
      if (!p.waits_for.empty()) {
        fmt::print("      waits for {}\n", esc(waits_text(t, p)));
      }
    }
  }
  if (!plan.epics.empty()) {
    fmt::print("\nepics ({}; never run, closed after their children):\n", plan.epics.size());
    for (const auto& e : plan.epics) {
      const auto& t = tasks[e.index];
      fmt::print("  {}  {}  {}\n", esc(t.id), esc("status " + t.status), esc(t.title));
      if (!e.children.empty()) {
        std::vector<std::string> children;
        for (const auto c : e.children) {
          children.push_back(tasks[c].id + " (" + tasks[c].status + ")");
        }
        fmt::print("      children: {}\n", esc(join(children, ", ")));
      }
      fmt::print("      {}\n",
                 esc(e.closes_after.empty() ? e.note : "closed after stage " + e.closes_after));
    }
  }
  if (!plan.skipped.empty()) {
    fmt::print("\nskipped ({}):\n", plan.skipped.size());
    for (const auto& s : plan.skipped) {
      const auto& t = tasks[s.index];
      const bool by_type = s.reason == core::skip_reason::not_an_issue;
      const bool epic = s.reason == core::skip_reason::epic;
      const bool claimed = s.reason == core::skip_reason::claimed;
      fmt::print("  {}  {}\n", t.id.empty() ? "(no id)" : esc(t.id),
                 esc(by_type   ? "_type " + t.record_type
                     : epic    ? "epic, status " + t.status
                     : claimed ? core::claim_text(t)
                               : "status " + t.status));
    }
  }
  std::unordered_set<std::string_view> childless_epics;
  for (const auto& e : plan.epics) {
    if (e.children.empty()) {
      childless_epics.insert(tasks[e.index].id);
    }
  }
  if (plan.blocked_count() != 0) {
    fmt::print("\nblocked ({}):\n", plan.blocked_count());
    for (const auto& p : plan.tasks) {
      if (p.blocked_by.empty()) {
        continue;
      }
      std::vector<std::string> blockers;
      for (const auto& u : p.blocked_by) {
        blockers.push_back(blocker_text(tasks[p.index], u, childless_epics.contains(u.id)));
      }
      fmt::print("  {}  waits on {}\n", esc(tasks[p.index].id), esc(join(blockers, ", ")));
    }
  }
}

}  // namespace

int run_detect(const common_options& common, const detect_options& options) {
  const auto config = load_effective_config(common);
  std::string origin;
  const auto doc = load_source(common, config, origin);
  core::plan_options plan_options;
  plan_options.keywords = &config.keywords();
  plan_options.default_agent = config.default_agent;
  plan_options.origin = origin;
  plan_options.group_by = config.group_by;
  plan_options.completed_elsewhere = completed_task_ids(state_dir_of(config));
  const auto plan = core::make_plan(doc.tasks, plan_options);
  if (common.json) {
    const auto out =
        options.details ? detailed_shape(origin, doc, plan) : python_shape(doc.tasks, plan);
    fmt::print("{}\n", json::serialize(out));
  } else {
    print_text(origin, doc, plan);
  }
  return 0;
}

}  // namespace maestro::app
