#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace maestro::core {

/// The values of the argv placeholders of one launch.
struct placeholder_values {
  std::string id;
  std::string title;
  std::string description;
  std::string agent;
  std::string group;
  std::vector<std::string> skills;
  std::vector<std::string> files;
  std::string prompt;
  std::string workdir;
};

/// Fills in `{id} {title} {description} {agent} {group} {skills} {files}
/// {prompt} {workdir}` in each element of `argv`. `{skills}` or `{files}`
/// standing alone as an element becomes one element per item (none when
/// the list is empty); inside other text skills are joined with `,` and
/// files with a space. Unknown `{names}` are left as they are.
[[nodiscard]] std::vector<std::string> expand_argv(const std::vector<std::string>& argv,
                                                   const placeholder_values& values);

/// Fills in the same placeholders in one string (lists joined as above).
/// `{prompt}` is not available here: it is what this fills.
[[nodiscard]] std::string expand_text(std::string_view text, const placeholder_values& values);

/// The file paths named in a task's description: words that hold a `/` or
/// end in an extension (`src/a.cpp`, `README.md`, `db/`), without
/// surrounding quotes, brackets or trailing punctuation, URLs excluded, each
/// once, in order.
[[nodiscard]] std::vector<std::string> file_paths_in(std::string_view description);

}  // namespace maestro::core
