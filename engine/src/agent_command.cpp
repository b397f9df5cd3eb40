#include <maestro/agent_command.hpp>
#include <maestro/core/launch_template.hpp>
#include <maestro/core/names.hpp>

namespace maestro {

agent_command build_agent_command(const core::config& config, const core::task& task,
                                  std::string_view agent, std::uint32_t attempt,
                                  const launch_place& place) {
  const auto found = config.agents.find(std::string(agent));
  const core::agent_config* own = found != config.agents.end() ? &found->second : nullptr;

  core::placeholder_values values;
  values.id = task.id;
  values.title = task.title;
  values.description = task.description;
  values.agent = agent;
  values.group = place.group_id;
  values.skills = task.applicable_skills;
  values.files = core::file_paths_in(task.description);
  values.workdir = place.workdir.string();
  values.prompt = core::expand_text(config.prompt_template, values);

  agent_command out;
  const auto& command =
      own != nullptr && own->command ? *own->command : config.agent_defaults.command;
  out.argv = core::expand_argv(command, values);
  const auto mode =
      own != nullptr && own->stdin_mode ? *own->stdin_mode : config.agent_defaults.stdin_mode;
  if (mode == core::stdin_source::prompt) {
    out.stdin_data = values.prompt;
  }
  out.env.insert(config.agent_defaults.env.begin(), config.agent_defaults.env.end());
  if (own != nullptr) {
    for (const auto& [k, v] : own->env) {
      out.env[k] = v;
    }
  }
  out.env["MAESTRO_TASK_ID"] = task.id;
  out.env["MAESTRO_GROUP_ID"] = place.group_id;
  out.env["MAESTRO_AGENT"] = agent;
  out.env["MAESTRO_SKILLS"] = core::join(task.applicable_skills, ",");
  out.env["MAESTRO_ATTEMPT"] = std::to_string(attempt);
  out.env["MAESTRO_STATE_DIR"] = place.state_dir.string();
  return out;
}

std::string printable_command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    out += core::printable(arg);
  }
  return out;
}

}  // namespace maestro
