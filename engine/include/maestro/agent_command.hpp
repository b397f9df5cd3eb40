#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/config.hpp>
#include <maestro/core/task.hpp>

namespace maestro {

/// Everything about one launch of an agent that the configuration decides.
struct agent_command {
  /// The argv with every placeholder filled in; empty when the agent
  /// resolves to no command.
  std::vector<std::string> argv;
  /// The filled-in prompt, when the agent's `stdin` is `"prompt"`.
  std::optional<std::string> stdin_data;
  /// What the child gets on top of the engine's environment: the agent's
  /// `env` (over `agent_defaults.env`) and the `MAESTRO_*` variables.
  std::map<std::string, std::string, std::less<>> env;
};

/// Where a launch happens.
struct launch_place {
  std::string group_id;
  std::filesystem::path workdir;
  std::filesystem::path state_dir;
};

/// Builds the command of `task`'s attempt number `attempt` with `agent`:
/// `agents.AGENT.command` or else `agent_defaults.command`, its placeholders
/// filled in (SPEC section 3), its environment and its stdin.
[[nodiscard]] agent_command build_agent_command(const core::config& config, const core::task& task,
                                                std::string_view agent, std::uint32_t attempt,
                                                const launch_place& place);

/// `argv` as a log header shows it: each element escaped with
/// `core::printable` (a title with a newline cannot forge a header line),
/// joined with spaces.
[[nodiscard]] std::string printable_command_line(const std::vector<std::string>& argv);

}  // namespace maestro
