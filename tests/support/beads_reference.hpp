#pragma once

// beads' readiness rules (SPEC section 1) written again in the tests' own
// terms, over the raw JSON of an export: an independent reference that
// shares no code with the engine's planner. Tests compare the engine's
// plan, and what a real run did, with it.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace maestro::test {

class beads_reference {
 public:
  struct issue {
    std::string status;
    std::string type;
    std::vector<std::string> parents;
    std::vector<std::string> blockers;  ///< blocks, conditional-blocks, waits-for
  };

  /// Reads a JSONL export; `reopen` turns every `closed` into `open`.
  beads_reference(const std::filesystem::path& file, bool reopen) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) {
        continue;
      }
      const auto record = boost::json::parse(line).as_object();
      issue i;
      i.status = std::string(record.at("status").as_string());
      if (reopen && i.status == "closed") {
        i.status = "open";
      }
      if (const auto* type = record.if_contains("issue_type")) {
        i.type = std::string(type->as_string());
      }
      if (const auto* deps = record.if_contains("dependencies");
          deps != nullptr && deps->is_array()) {
        for (const auto& d : deps->as_array()) {
          const std::string target(d.at("depends_on_id").as_string());
          const std::string kind(d.at("type").as_string());
          if (kind == "parent-child") {
            i.parents.push_back(target);
          } else if (kind == "blocks" || kind == "conditional-blocks" || kind == "waits-for") {
            i.blockers.push_back(target);
          }
        }
      }
      order_.emplace_back(record.at("id").as_string());
      issues_.emplace(order_.back(), std::move(i));
    }
    for (const auto& id : order_) {
      for (const auto& p : issues_.at(id).parents) {
        children_[p].push_back(id);
      }
    }
  }

  [[nodiscard]] const std::map<std::string, issue>& issues() const { return issues_; }
  [[nodiscard]] const issue& at(const std::string& id) const { return issues_.at(id); }

  [[nodiscard]] bool closed(const std::string& id) const {
    const auto it = issues_.find(id);
    return it != issues_.end() &&
           (it->second.status == "closed" || it->second.status == "tombstone");
  }
  [[nodiscard]] bool is_epic(const std::string& id) const {
    const auto it = issues_.find(id);
    return it != issues_.end() && it->second.type == "epic";
  }
  [[nodiscard]] std::vector<std::string> children(const std::string& id) const {
    const auto it = children_.find(id);
    return it == children_.end() ? std::vector<std::string>{} : it->second;
  }
  /// Would a task file run it: open, in progress or blocked, and no epic.
  [[nodiscard]] bool runs(const std::string& id) const {
    const auto& i = issues_.at(id);
    return (i.status == "open" || i.status == "in_progress" || i.status == "blocked") &&
           i.type != "epic";
  }

  /// Done before any run: closed, or an epic whose children all are (an
  /// epic without children never is).
  [[nodiscard]] bool done(const std::string& id) const {
    if (closed(id)) {
      return true;
    }
    const auto kids = children(id);
    return is_epic(id) && !kids.empty() &&
           std::all_of(kids.begin(), kids.end(), [this](const auto& c) { return done(c); });
  }

  /// True when `id` is below `ancestor` through parent-child links.
  [[nodiscard]] bool below(const std::string& id, const std::string& ancestor) const {
    const auto it = issues_.find(id);
    if (it == issues_.end()) {
      return false;
    }
    return std::any_of(it->second.parents.begin(), it->second.parents.end(),
                       [&](const std::string& p) { return p == ancestor || below(p, ancestor); });
  }

  /// The blockers that hold `id` back: its own, and those of every ancestor
  /// that is not closed, except an inherited one that is `id` or below it.
  [[nodiscard]] std::vector<std::string> blockers(const std::string& id) const {
    std::vector<std::string> out = issues_.at(id).blockers;
    std::vector<std::string> pending = issues_.at(id).parents;
    std::set<std::string> seen;
    while (!pending.empty()) {
      const auto a = pending.back();
      pending.pop_back();
      if (!issues_.contains(a) || closed(a) || !seen.insert(a).second) {
        continue;
      }
      for (const auto& b : issues_.at(a).blockers) {
        if (b != id && !below(b, id)) {
          out.push_back(b);
        }
      }
      const auto& more = issues_.at(a).parents;
      pending.insert(pending.end(), more.begin(), more.end());
    }
    return out;
  }

  /// The tasks that can start before anything runs.
  [[nodiscard]] std::set<std::string> ready() const {
    std::set<std::string> out;
    for (const auto& id : order_) {
      const auto b = blockers(id);
      if (runs(id) && std::all_of(b.begin(), b.end(), [this](const auto& x) { return done(x); })) {
        out.insert(id);
      }
    }
    return out;
  }

  /// The tasks that end a blocker waits for: the blocker itself, or an
  /// epic's children that are not closed, through nested epics.
  [[nodiscard]] std::vector<std::string> work_of(const std::string& blocker) const {
    if (closed(blocker)) {
      return {};
    }
    const auto kids = children(blocker);
    if (!is_epic(blocker) || kids.empty()) {
      return {blocker};
    }
    std::vector<std::string> out;
    for (const auto& c : kids) {
      const auto more = work_of(c);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

  /// Tasks that can never run from this backlog alone: a blocker's work
  /// includes an epic without children, a task that is not run, or a task
  /// that is stuck in turn.
  [[nodiscard]] bool stuck(const std::string& id) const {
    std::set<std::string> visiting;
    return stuck(id, visiting);
  }

 private:
  bool stuck(const std::string& id, std::set<std::string>& visiting) const {
    if (!visiting.insert(id).second) {
      return false;
    }
    for (const auto& b : blockers(id)) {
      for (const auto& w : work_of(b)) {
        if (w == id || below(w, id)) {
          continue;
        }
        if (!issues_.contains(w) || is_epic(w) || !runs(w) || stuck(w, visiting)) {
          return true;
        }
      }
    }
    return false;
  }

  std::vector<std::string> order_;
  std::map<std::string, issue> issues_;
  std::map<std::string, std::vector<std::string>> children_;
};

}  // namespace maestro::test
