#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include <maestro/core/enum_names.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/task.hpp>

namespace maestro {

/// The layout a task document was found in. It is chosen by content, never
/// by file name.
enum class task_file_format {
  json_array,    ///< the document starts with `[`
  tasks_object,  ///< one object with a `tasks` key
  json_lines     ///< anything else: one JSON value per line (beads exports)
};

/// The names of the formats, as `detect --json` writes them.
constexpr auto enum_names(task_file_format) noexcept {
  return core::make_enum_table<task_file_format>({
      {task_file_format::json_array, "json_array"},
      {task_file_format::tasks_object, "tasks_object"},
      {task_file_format::json_lines, "json_lines"},
  });
}

/// A parsed task document: every record in input order, skipped ones
/// included (planning decides what runs).
struct task_document {
  task_file_format format = task_file_format::json_lines;
  std::vector<core::task> tasks;
};

/// Parses a task document. `origin` names it in error messages. Accepts
/// both beads export formats as they are (SQLite-era, and Dolt-era lines
/// with `"_type"`). Throws `core::input_error` naming the file, the line
/// (and column for JSON syntax errors and duplicate keys) and the task id for
/// malformed JSON, a key twice in one object (any object, metadata given as
/// a JSON string included), a record that is not an object, a missing or
/// non-string id, a field of the wrong type, a priority that is not an
/// integer from 0 to 4, and a `metadata.timeout_s` that is not a number of
/// seconds in (0, core::max_duration_s]. Ids and keys in messages are
/// escaped with `core::printable`. Blank lines in JSON Lines are ignored.
[[nodiscard]] task_document parse_task_document(std::string_view content, std::string_view origin);

/// Reads and parses a task file. Throws `core::input_error` when the file
/// cannot be read, is neither a regular file nor a FIFO (a directory, a
/// device: refused before it is opened), or holds more than 1 GiB, and as
/// `parse_task_document` does.
[[nodiscard]] task_document load_task_file(const std::filesystem::path& path);

/// Reads one task record, as found in a task file or printed by
/// `bd show --json`. `where` locates the record in error messages; its
/// `task_id` is filled in here once the id is known.
[[nodiscard]] core::task task_from_json(const boost::json::value& record,
                                        core::input_location where);

}  // namespace maestro
