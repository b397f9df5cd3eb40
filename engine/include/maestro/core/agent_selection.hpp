#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/config.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/task.hpp>

namespace maestro::core {

/// How a task's agent was chosen.
enum class agent_source {
  metadata,      ///< `metadata.subagent_type`
  keywords,      ///< the keyword table
  default_agent  ///< no metadata and no keyword matched
};

constexpr auto enum_names(agent_source) noexcept {
  return make_enum_table<agent_source>({
      {agent_source::metadata, "metadata.subagent_type"},
      {agent_source::keywords, "keywords"},
      {agent_source::default_agent, "default_agent"},
  });
}

/// The readable name of an agent source, as used in `detect` output.
[[nodiscard]] std::string_view to_string(agent_source source) noexcept;

/// The agent chosen for a task, and why.
struct agent_choice {
  std::string agent;
  agent_source source = agent_source::default_agent;
  /// For `agent_source::keywords`: the winner's keywords that matched.
  std::vector<std::string> matched;
};

/// Chooses a task's agent: its `subagent_type`, else the agent of `table`
/// with the most distinct keywords found as whole words (case-insensitive)
/// in the title and description, a tie going to the agent listed first, else
/// `default_agent`.
[[nodiscard]] agent_choice choose_agent(const task& t, const keyword_table& table,
                                        std::string_view default_agent);

/// True if `keyword` occurs in `text` as a whole word, ignoring ASCII case.
/// A word boundary is any character other than a letter, digit or `_`.
[[nodiscard]] bool contains_word(std::string_view text, std::string_view keyword) noexcept;

}  // namespace maestro::core
