#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/enum_names.hpp>

namespace maestro::core {

/// One edge of the dependency graph: the task that holds it depends on `id`.
/// `type` is the beads dependency type (`blocks`, `parent-child`, ...); a
/// plain id in a task file is a `blocks` edge.
struct dependency {
  std::string id;
  std::string type = "blocks";

  /// True for the types that gate readiness: `blocks`,
  /// `conditional-blocks` and `waits-for`.
  [[nodiscard]] bool gates() const noexcept;
  /// True for `parent-child`: the holder is a child of `id`.
  [[nodiscard]] bool is_parent_link() const noexcept { return type == "parent-child"; }
};

/// A task as read from a task source, before any planning. Field names
/// follow beads.
struct task {
  std::string id;
  std::string title;
  std::string description;
  /// The source's status string, `open` when the source gave none.
  std::string status = "open";
  /// 0 is the highest priority.
  long long priority = 2;
  std::vector<dependency> dependencies;
  /// `metadata.subagent_type`, empty when not given.
  std::string subagent_type;
  /// `metadata.fallback_agents`, in order.
  std::vector<std::string> fallback_agents;
  /// `metadata.applicable_skills`.
  std::vector<std::string> applicable_skills;
  /// `metadata.timeout_s`.
  std::optional<double> timeout_s;
  /// beads' `issue_type` (`task`, `bug`, `feature`, `epic`, ...); `task`
  /// when absent. An epic is a container, never run (SPEC section 1).
  std::string issue_type = "task";
  /// Set by a source with claims (live beads) when the task is
  /// `in_progress` or `blocked` and not the engine's actor's: who holds it,
  /// or empty when no one is assigned. Such a task is not run
  /// (`skip_reason::claimed`, SPEC section 1).
  std::optional<std::string> claimed_by;
  /// The record's `_type` (Dolt-era exports); `issue` when absent.
  std::string record_type = "issue";
  /// 1-based line of the record in its source, 0 when unknown.
  std::size_t line = 0;
};

/// Why a task of the source is not run.
enum class skip_reason {
  not_an_issue,    ///< a record whose `_type` is not `issue`
  closed_status,   ///< `closed` or `tombstone`
  parked_status,   ///< `deferred`, `pinned` or `hooked`
  unknown_status,  ///< a custom status the engine does not run
  epic,            ///< an epic: a container of tasks, never run itself
  claimed          ///< another actor holds it in the tracker (`claimed_by`)
};

constexpr auto enum_names(skip_reason) noexcept {
  return make_enum_table<skip_reason>({
      {skip_reason::not_an_issue, "not an issue record"},
      {skip_reason::closed_status, "closed"},
      {skip_reason::parked_status, "parked"},
      {skip_reason::unknown_status, "unknown status"},
      {skip_reason::epic, "epic"},
      {skip_reason::claimed, "claimed"},
  });
}

/// The readable name of a skip reason, as used in `detect` output.
[[nodiscard]] std::string_view to_string(skip_reason reason) noexcept;

/// Whether a task is run, and if not, why. Statuses `open`, `in_progress`
/// and `blocked` are run, except for epics and tasks another actor holds.
[[nodiscard]] std::optional<skip_reason> why_not_run(const task& t) noexcept;

/// Why a claimed task is not run: `claimed by NAME`, or `in progress,
/// unassigned` (`blocked, unassigned`); empty when `claimed_by` is unset.
[[nodiscard]] std::string claim_text(const task& t);

/// True for `issue_type` `epic`.
[[nodiscard]] bool is_epic(const task& t) noexcept;

/// True for `closed` and `tombstone`: a dependency on such a task is
/// satisfied.
[[nodiscard]] bool is_closed_status(std::string_view status) noexcept;

/// Splits a comma-separated list, trimming blanks around each item and
/// dropping empty items.
[[nodiscard]] std::vector<std::string> split_list(std::string_view text);

/// Joins `items` with `separator` between them.
[[nodiscard]] std::string join(const std::vector<std::string>& items, std::string_view separator);

}  // namespace maestro::core
