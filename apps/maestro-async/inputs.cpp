#include "inputs.hpp"

#include <maestro/config_file.hpp>

namespace maestro::app {

core::config load_effective_config(const common_options& common) {
  auto config = load_config(
      common.config ? std::optional<std::filesystem::path>(*common.config) : std::nullopt,
      std::filesystem::current_path());
  if (common.max_concurrent) {
    config.max_concurrent = *common.max_concurrent;
  }
  if (common.state_dir) {
    config.state_dir = *common.state_dir;
  }
  return config;
}

std::filesystem::path state_dir_of(const core::config& config) {
  return std::filesystem::absolute(config.state_dir);
}

task_document load_source(const common_options& common, std::string& origin) {
  if (common.beads) {
    throw usage_error("--beads: the beads source is not available in this build yet");
  }
  if (!common.tasks_file) {
    throw usage_error("no task source: give --tasks-file PATH or --beads");
  }
  origin = *common.tasks_file;
  return load_task_file(*common.tasks_file);
}

}  // namespace maestro::app
