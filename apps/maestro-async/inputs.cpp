#include "inputs.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <fmt/core.h>

#include <maestro/adapters/beads_live.hpp>
#include <maestro/adapters/config_file.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>

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
  if (common.schedule) {
    config.schedule = core::from_string<core::schedule_mode>(*common.schedule)
                          .value_or(core::schedule_mode::stages);
  }
  return config;
}

core::config load_state_config(const common_options& common) {
  try {
    return load_effective_config(common);
  } catch (const core::config_error& e) {
    if (common.log_level != "error" && common.log_level != "off") {
      // The message starts with the file's name: "ignoring maestro.json: ...".
      fmt::print(stderr, "maestro-async: warning: ignoring {}\n", core::printable(e.what()));
    }
  }
  core::config config;
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

bd_settings beads_settings(const common_options& common, const core::config& config) {
  return make_bd_settings(config.beads, common.bd, std::filesystem::current_path());
}

task_document load_source(const common_options& common, const core::config& config,
                          std::string& origin) {
  if (common.beads && common.tasks_file) {
    throw usage_error("give one task source: --tasks-file PATH or --beads, not both");
  }
  if (common.beads) {
    // In id order, as exports are, so that `detect --beads` and `detect
    // --tasks-file` on an export of the same issues print the same plan.
    origin = "bd list";
    task_document doc;
    doc.tasks = load_beads(beads_settings(common, config));
    return doc;
  }
  if (!common.tasks_file) {
    throw usage_error("no task source: give --tasks-file PATH or --beads");
  }
  origin = *common.tasks_file;
  return load_task_file(*common.tasks_file);
}

void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int open_pidfd(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace maestro::app
