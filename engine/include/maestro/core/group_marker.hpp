#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace maestro::core {

/// The group id of unmarked tasks.
inline constexpr std::string_view sequential_group = "_sequential";

/// The outcome of scanning a task's text for `[P:Group-NAME]` markers.
struct marker_scan {
  /// The group name, when exactly one distinct marker was found.
  std::optional<std::string> group;
  /// Set when two different markers were found: the second name met.
  std::optional<std::string> conflicting;
};

/// Scans `title` then `description` for `[P:Group-NAME]`, where NAME is
/// letters, digits, `_` and `-`. The same marker repeated is fine; two
/// different ones are reported in `conflicting`.
[[nodiscard]] marker_scan scan_group_markers(std::string_view title, std::string_view description);

/// The stage id of a `_sequential` task: `_sequential.<task-id>`.
[[nodiscard]] std::string sequential_stage_id(std::string_view task_id);

}  // namespace maestro::core
