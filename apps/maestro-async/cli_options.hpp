#pragma once

#include <optional>
#include <string>

namespace maestro::app {

/// The flags every command understands (SPEC section 4), as parsed.
struct common_options {
  std::optional<std::string> tasks_file;
  bool beads = false;
  std::string bd = "bd";
  std::optional<std::string> config;
  std::optional<std::string> state_dir;
  std::optional<int> max_concurrent;
  bool json = false;
  bool dry_run = false;
  std::string log_level = "warning";
  bool no_progress = false;
};

/// `detect`'s own flags.
struct detect_options {
  bool details = false;
};

/// Runs `detect`. Returns the process exit code; prints errors itself.
int run_detect(const common_options& common, const detect_options& options);

}  // namespace maestro::app
