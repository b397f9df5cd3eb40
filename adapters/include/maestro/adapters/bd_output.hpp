#pragma once

// What `bd ... --json` prints, read in every shape reference/beads-cli.md
// documents: a bare array, one object, or the envelope
// `{"schema_version": N, "data": ...}` (BD_JSON_ENVELOPE=1, the default from
// bd v2.0). Objects may carry an inline `schema_version`. An error object
// `{"error": "..."}` (an unknown id, from v0.50) is a `bd_error`; empty
// output (an unknown id, v0.47) is no issue at all.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/task.hpp>

namespace maestro {

/// `bd` reported an error, or printed something that is not one of its
/// documented shapes. `what()` is one line naming the command.
class bd_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The issues in the output of `command` (`bd list`, `bd show`, `bd
/// update`, `bd close`, ...), in the order printed. Each is read as a task
/// record (`task_from_json`): `bd list`'s dependency records and `bd
/// show`'s whole-issue dependencies with `dependency_type` alike. Throws
/// `bd_error` for an error object, output that is not JSON, or a shape
/// that is none of the documented ones, and `core::input_error` for a
/// record that is not a valid task.
[[nodiscard]] std::vector<core::task> parse_bd_issues(std::string_view output,
                                                      std::string_view command);

/// As above, and marks what another actor holds (SPEC section 1): an issue
/// `in_progress` or `blocked` whose `assignee` is not `actor` gets
/// `claimed_by` (the assignee, or empty when there is none).
[[nodiscard]] std::vector<core::task> parse_bd_issues(std::string_view output,
                                                      std::string_view command,
                                                      const std::string& actor);

/// The `assignee` of each issue in `bd` output, by id (empty: none).
/// Throws as `parse_bd_issues`.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> bd_assignees(
    std::string_view output, std::string_view command);

}  // namespace maestro
