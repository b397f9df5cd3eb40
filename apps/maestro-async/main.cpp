// maestro-async: the command-line host of the maestro engine.

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <maestro/core/input_error.hpp>
#include <maestro/refused.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"

namespace {

using maestro::app::common_options;

// Adds the flags of SPEC section 4 that every command accepts.
void add_common_flags(CLI::App& command, common_options& common) {
  command.add_option("--tasks-file", common.tasks_file,
                     "Task source: a JSON array, {\"tasks\": [...]} or JSON Lines (beads exports)");
  command.add_flag("--beads", common.beads, "Task source: the live beads tracker through `bd`");
  command.add_option("--bd", common.bd, "The bd executable (with --beads)")->capture_default_str();
  command.add_option("--config", common.config,
                     "Configuration file (default: maestro.json in the working directory)");
  command.add_option("--state-dir", common.state_dir, "State directory (overrides state_dir)");
  command
      .add_option("-j,--max-concurrent", common.max_concurrent,
                  "Global concurrency limit (overrides max_concurrent)")
      ->check(CLI::PositiveNumber);
  command.add_flag("--json", common.json, "Machine output on stdout; logs go to stderr");
  command.add_flag("--dry-run", common.dry_run, "Print what would launch and launch nothing");
  command.add_option("--log-level", common.log_level, "trace, debug, info, warning, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "error", "off"}))
      ->capture_default_str();
  command.add_flag("--no-progress", common.no_progress, "No live status line");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"maestro-async: runs coding-agent tasks concurrently, group by group",
               "maestro-async"};
  app.set_version_flag("--version", std::string("maestro-async ") + MAESTRO_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  common_options common;
  maestro::app::detect_options detect;
  std::string group_id;
  bool force = false;
  bool keep_going = false;
  std::string status_filter;
  std::optional<double> timeout;

  auto* detect_cmd = app.add_subcommand(
      "detect",
      "Print the groups, the stage order, each task's agent and why, and skipped and "
      "blocked tasks");
  add_common_flags(*detect_cmd, common);
  detect_cmd->add_flag("--details", detect.details,
                       "With --json: the full plan, not the Python shape");

  auto* execute_cmd = app.add_subcommand("execute", "Run the four phases for one group");
  add_common_flags(*execute_cmd, common);
  execute_cmd->add_option("--group-id", group_id, "The group to run")->required();
  execute_cmd->add_flag("--force", force, "Run a group that already completed");

  auto* run_cmd = app.add_subcommand("run", "Run every stage in order");
  add_common_flags(*run_cmd, common);
  run_cmd->add_flag("--keep-going", keep_going,
                    "Go on after a failed stage, skipping the stages that depend on it");

  auto* list_cmd = app.add_subcommand("list", "List the groups in the state directory");
  add_common_flags(*list_cmd, common);
  list_cmd->add_option("--status", status_filter, "Only groups with this status");

  auto* status_cmd = app.add_subcommand("status", "Show one group's phase and tasks");
  add_common_flags(*status_cmd, common);
  status_cmd->add_option("--group-id", group_id, "The group to show")->required();

  auto* wait_cmd = app.add_subcommand("wait", "Block until a group is terminal");
  add_common_flags(*wait_cmd, common);
  wait_cmd->add_option("--group-id", group_id, "The group to wait for")->required();
  wait_cmd->add_option("--timeout", timeout, "Seconds to wait, fractional allowed")
      ->check(CLI::NonNegativeNumber);

  auto* resume_cmd = app.add_subcommand("resume", "Continue an interrupted or crashed group");
  add_common_flags(*resume_cmd, common);
  resume_cmd->add_option("--group-id", group_id, "The group to resume")->required();

  auto* cancel_cmd = app.add_subcommand("cancel", "Stop a running group and wait until it has");
  add_common_flags(*cancel_cmd, common);
  cancel_cmd->add_option("--group-id", group_id, "The group to cancel")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);  // --help, --version
    }
    fmt::print(stderr, "maestro-async: {}\n", e.what());
    return 2;
  }

  // Errors found while reading input or refusing a request are one line
  // and exit 2; anything else that escapes a command is exit 1.
  try {
    if (detect_cmd->parsed()) {
      return maestro::app::run_detect(common, detect);
    }
    if (execute_cmd->parsed() || run_cmd->parsed() || resume_cmd->parsed()) {
      maestro::app::execute_options options;
      options.group_id = run_cmd->parsed() ? std::string{} : group_id;
      options.resume = resume_cmd->parsed();
      options.force = force;
      options.keep_going = keep_going;
      return maestro::app::run_execute(common, options);
    }
    if (list_cmd->parsed()) {
      return maestro::app::run_list(common, status_filter);
    }
    if (status_cmd->parsed()) {
      return maestro::app::run_status(common, group_id);
    }
    if (wait_cmd->parsed()) {
      return maestro::app::run_wait(common, group_id, timeout);
    }
    if (cancel_cmd->parsed()) {
      return maestro::app::run_cancel(common, group_id);
    }
  } catch (const maestro::core::input_error& e) {
    fmt::print(stderr, "maestro-async: {}\n", e.what());
    return 2;
  } catch (const maestro::core::config_error& e) {
    fmt::print(stderr, "maestro-async: {}\n", e.what());
    return 2;
  } catch (const maestro::app::usage_error& e) {
    fmt::print(stderr, "maestro-async: {}\n", e.what());
    return 2;
  } catch (const maestro::refused& e) {
    fmt::print(stderr, "maestro-async: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "maestro-async: {}\n", e.what());
    return 1;
  }
  fmt::print(stderr, "maestro-async: no command given\n");
  return 2;
}
