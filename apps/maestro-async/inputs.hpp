#pragma once

#include <filesystem>
#include <string>

#include <maestro/adapters/beads_live.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/config.hpp>

#include "cli_options.hpp"

namespace maestro::app {

/// The configuration with the command line's overrides (`-j`,
/// `--state-dir`) applied. Throws `core::config_error`.
[[nodiscard]] core::config load_effective_config(const common_options& common);

/// For the commands that work on the state alone (`list`, `status`,
/// `wait`, `cancel`): the configuration as `load_effective_config` makes
/// it, except that a configuration that cannot be loaded is not an error:
/// one warning line on stderr (unless `--log-level` is error or off), and
/// the defaults with `--state-dir` applied.
[[nodiscard]] core::config load_state_config(const common_options& common);

/// The state directory in force, absolute.
[[nodiscard]] std::filesystem::path state_dir_of(const core::config& config);

/// The task source named on the command line. Throws `core::input_error`,
/// or `usage_error` when no source is given.
[[nodiscard]] task_document load_source(const common_options& common, const core::config& config,
                                        std::string& origin);

/// How to reach `bd` (`--bd`, `beads.*`), from the working directory.
[[nodiscard]] bd_settings beads_settings(const common_options& common, const core::config& config);

/// Raises the soft limit of open files to the hard one: each running child
/// holds descriptors (its log, its pidfd), and each client of `serve` one,
/// so a thousand need more than the usual soft limit of 1,024.
void raise_open_file_limit();

/// A command-line mistake: exit 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A pidfd for process `pid` (what `wait`, `cancel` and `logs -f` watch an
/// engine through, immune to pid reuse); -1 when it is gone.
[[nodiscard]] int open_pidfd(int pid);

}  // namespace maestro::app
