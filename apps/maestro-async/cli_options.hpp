#pragma once

#include <optional>
#include <string>

namespace maestro::app {

/// The common flags of SPEC section 4, as parsed. Each command accepts only
/// those that mean something to it (see main.cpp); the others keep these
/// defaults.
struct common_options {
  std::optional<std::string> tasks_file;
  bool beads = false;
  std::string bd = "bd";
  std::optional<std::string> config;
  std::optional<std::string> state_dir;
  std::optional<int> max_concurrent;
  /// `run --schedule stages|graph`, over the `schedule` key.
  std::optional<std::string> schedule;
  bool json = false;
  bool dry_run = false;
  std::string log_level = "warning";
  bool no_progress = false;
  std::string color = "auto";  ///< auto, always or never
  /// `execute --serve[=ADDR:PORT]`, `run --serve[=...]`: serve the state
  /// while running; empty: the configured address (`serve.listen`).
  std::optional<std::string> serve;
};

/// `detect`'s own flags.
struct detect_options {
  bool details = false;
};

/// The flags of `execute` and `run`.
struct execute_options {
  std::string group_id;  ///< empty for `run`
  bool resume = false;   ///< `resume --group-id`
  bool force = false;
  bool keep_going = false;
};

/// Runs `detect`. Returns the exit code; prints errors itself.
int run_detect(const common_options& common, const detect_options& options);

/// Runs `execute` (a group id is given) or `run` (none is).
int run_execute(const common_options& common, const execute_options& options);

/// Runs `list`, optionally only groups whose status is `status_filter`.
int run_list(const common_options& common, const std::string& status_filter);

/// Runs `status --group-id`, showing only the tasks whose status is
/// `task_filter` when it is not empty.
int run_status(const common_options& common, const std::string& group_id,
               const std::string& task_filter);

/// Runs `wait --group-id [--timeout]`.
int run_wait(const common_options& common, const std::string& group_id,
             std::optional<double> timeout);

/// Runs `cancel --group-id`.
int run_cancel(const common_options& common, const std::string& group_id);

/// Runs `logs TASK [--group-id G] [-f]`; `group_id` empty: found from the
/// state.
int run_logs(const common_options& common, const std::string& task_id, const std::string& group_id,
             bool follow);

/// Runs `serve [--listen ADDR:PORT]` until SIGINT or SIGTERM.
int run_serve(const common_options& common, const std::optional<std::string>& listen);

}  // namespace maestro::app
