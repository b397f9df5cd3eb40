// maestro-async: the command-line host of the maestro engine.

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <maestro/core/enum_names.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/log.hpp>
#include <maestro/refused.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"

namespace {

using maestro::app::common_options;
using maestro::app::usage_error;

// The common flags of SPEC section 4, in three sets; each command takes
// only the sets that mean something to it, so that a flag it would ignore
// (`list --dry-run`) is a usage error.

// Where the tasks come from: detect, execute, run, resume.
void add_source_flags(CLI::App& command, common_options& common) {
  command.add_option("--tasks-file", common.tasks_file,
                     "Task source: a JSON array, {\"tasks\": [...]} or JSON Lines (beads exports)");
  command.add_flag("--beads", common.beads,
                   "Task source: the live beads tracker through `bd` (claims, closes, watches)");
  command.add_option("--bd", common.bd, "The bd executable (with --beads; default: bd on PATH)");
}

// The names `--log-level` takes: the engine's levels.
std::vector<std::string> level_names() {
  std::vector<std::string> out;
  for (const auto l : maestro::core::all_values<maestro::log::level>()) {
    out.emplace_back(maestro::core::name_of(l));
  }
  return out;
}

// What every command reads: the configuration, the state, the output form.
// `serve` prints nothing on stdout: `--json` would mean nothing to it.
void add_state_flags(CLI::App& command, common_options& common, bool json_output = true) {
  command.add_option("--config", common.config,
                     "Configuration file (default: maestro.json in the working directory)");
  command.add_option("--state-dir", common.state_dir, "State directory (overrides state_dir)");
  if (json_output) {
    command.add_flag("--json", common.json, "Machine output on stdout; logs go to stderr");
  }
  command.add_option("--log-level", common.log_level, "trace, debug, info, warning, error or off")
      ->check(CLI::IsMember(level_names()))
      ->capture_default_str();
}

// How a run goes: execute, run, resume. `-j` is read as text and checked
// after parsing, for a message shorter than CLI11's range.
void add_run_flags(CLI::App& command, common_options& common,
                   std::optional<std::string>& max_concurrent) {
  command
      .add_option("-j,--max-concurrent", max_concurrent,
                  "Global concurrency limit, a positive integer (overrides max_concurrent)")
      ->type_name("N");
  command.add_flag("--dry-run", common.dry_run, "Print what would launch and launch nothing");
  command.add_flag("--no-progress", common.no_progress, "No live status line");
  command.add_option("--color", common.color, "Colour on stderr: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

// `--serve` or `--serve=ADDR:PORT` (the value is always attached: a flag
// never takes the next argument, which may be the group).
CLI::Option* add_serve_flag(CLI::App& command, std::string& value) {
  return command.add_flag("--serve{@}", value,
                          "Serve the dashboard, API and metrics while running (SPEC section 12), "
                          "on serve.listen or on the ADDR:PORT attached");
}

// `-j N`: a positive int, or a usage error naming what was given.
int parse_max_concurrent(const std::string& text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value <= 0) {
    throw usage_error("-j/--max-concurrent: expected a positive integer, got " +
                      maestro::core::printable(text));
  }
  return value;
}

// The group of `execute`, `status`, `wait`, `cancel`, `resume`: given as
// the positional argument or as --group-id, not both unless they agree.
struct group_argument {
  std::optional<std::string> positional;
  std::optional<std::string> option;

  void add_to(CLI::App& command, const std::string& what) {
    command.add_option("group", positional, what + " (or --group-id)");
    command.add_option("--group-id", option, what);
  }

  [[nodiscard]] std::string resolve(const std::string& command) const {
    if (positional && option && *positional != *option) {
      throw usage_error(command +
                        ": two different groups given: " + maestro::core::printable(*positional) +
                        " and --group-id " + maestro::core::printable(*option));
    }
    if (!positional && !option) {
      throw usage_error(command + ": no group given: " + command + " GROUP, or --group-id GROUP");
    }
    return positional ? *positional : *option;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"maestro-async: runs coding-agent tasks concurrently, group by group",
               "maestro-async"};
  app.set_version_flag("--version", std::string("maestro-async ") + MAESTRO_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  common_options common;
  std::optional<std::string> max_concurrent;
  maestro::app::detect_options detect;
  group_argument group;
  bool force = false;
  bool keep_going = false;
  std::string status_filter;
  std::optional<double> timeout;

  auto* detect_cmd = app.add_subcommand(
      "detect",
      "Print the groups, the stage order, each task's agent and why, and skipped and "
      "blocked tasks");
  add_source_flags(*detect_cmd, common);
  add_state_flags(*detect_cmd, common);
  detect_cmd->add_flag("--details", detect.details,
                       "With --json: the full plan, not the Python shape");

  auto* execute_cmd = app.add_subcommand("execute", "Run the four phases for one group");
  group.add_to(*execute_cmd, "The group to run");
  add_source_flags(*execute_cmd, common);
  add_state_flags(*execute_cmd, common);
  add_run_flags(*execute_cmd, common, max_concurrent);
  execute_cmd->add_flag("--force", force, "Run a group that already completed");
  std::string serve_value;
  std::vector<CLI::Option*> serve_flags{add_serve_flag(*execute_cmd, serve_value)};

  auto* run_cmd = app.add_subcommand(
      "run", "Run every stage: one at a time in order, or all that are ready at once (graph)");
  add_source_flags(*run_cmd, common);
  add_state_flags(*run_cmd, common);
  add_run_flags(*run_cmd, common, max_concurrent);
  run_cmd->add_flag("-k,--keep-going", keep_going,
                    "Go on after a failed stage, skipping the stages that depend on it");
  run_cmd
      ->add_option("--schedule", common.schedule,
                   "stages: one stage at a time; graph: every stage whose prerequisites have "
                   "finished, at once, under shared limits (overrides schedule)")
      ->check(CLI::IsMember({"stages", "graph"}));
  serve_flags.push_back(add_serve_flag(*run_cmd, serve_value));

  auto* list_cmd = app.add_subcommand("list", "List the groups in the state directory");
  add_state_flags(*list_cmd, common);
  list_cmd->add_option("--status", status_filter, "Only groups with this status");

  auto* status_cmd = app.add_subcommand("status", "Show one group's phase and tasks");
  group.add_to(*status_cmd, "The group to show");
  add_state_flags(*status_cmd, common);
  std::string task_status;
  status_cmd->add_option("--task-status", task_status,
                         "Only the tasks with this status (failed, running, ...)");

  auto* wait_cmd = app.add_subcommand("wait", "Block until a group is terminal");
  group.add_to(*wait_cmd, "The group to wait for");
  add_state_flags(*wait_cmd, common);
  wait_cmd->add_option("--timeout", timeout, "Seconds to wait, fractional allowed")
      ->check(CLI::NonNegativeNumber);

  auto* resume_cmd = app.add_subcommand("resume", "Continue an interrupted or crashed group");
  group.add_to(*resume_cmd, "The group to resume");
  add_source_flags(*resume_cmd, common);
  add_state_flags(*resume_cmd, common);
  add_run_flags(*resume_cmd, common, max_concurrent);
  serve_flags.push_back(add_serve_flag(*resume_cmd, serve_value));

  auto* cancel_cmd = app.add_subcommand("cancel", "Stop a running group and wait until it has");
  group.add_to(*cancel_cmd, "The group to cancel");
  add_state_flags(*cancel_cmd, common);

  std::string logs_task;
  std::string logs_group;
  bool follow = false;
  auto* logs_cmd =
      app.add_subcommand("logs", "Print a task's log; -f follows it until the task ends");
  logs_cmd->add_option("task", logs_task, "The task")->required();
  logs_cmd->add_option("--group-id", logs_group, "Its group (found from the state when not given)");
  logs_cmd->add_flag("-f,--follow", follow,
                     "Follow the log, woken by inotify, until the task's last attempt ends");
  add_state_flags(*logs_cmd, common);

  std::optional<std::string> listen;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve the live dashboard, JSON API and Prometheus metrics of the state directory");
  serve_cmd->add_option("--listen", listen, "ADDR:PORT (default: serve.listen, 127.0.0.1:8765)");
  add_state_flags(*serve_cmd, common, false);

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
    if (max_concurrent) {
      common.max_concurrent = parse_max_concurrent(*max_concurrent);
    }
    if (std::any_of(serve_flags.begin(), serve_flags.end(),
                    [](const CLI::Option* o) { return o->count() > 0; })) {
      common.serve = serve_value == "@" ? std::string{} : serve_value;
    }
    if (detect_cmd->parsed()) {
      return maestro::app::run_detect(common, detect);
    }
    if (execute_cmd->parsed() || run_cmd->parsed() || resume_cmd->parsed()) {
      maestro::app::execute_options options;
      options.group_id = run_cmd->parsed()
                             ? std::string{}
                             : group.resolve(execute_cmd->parsed() ? "execute" : "resume");
      options.resume = resume_cmd->parsed();
      options.force = force;
      options.keep_going = keep_going;
      return maestro::app::run_execute(common, options);
    }
    if (list_cmd->parsed()) {
      return maestro::app::run_list(common, status_filter);
    }
    if (status_cmd->parsed()) {
      return maestro::app::run_status(common, group.resolve("status"), task_status);
    }
    if (wait_cmd->parsed()) {
      return maestro::app::run_wait(common, group.resolve("wait"), timeout);
    }
    if (cancel_cmd->parsed()) {
      return maestro::app::run_cancel(common, group.resolve("cancel"));
    }
    if (logs_cmd->parsed()) {
      return maestro::app::run_logs(common, logs_task, logs_group, follow);
    }
    if (serve_cmd->parsed()) {
      return maestro::app::run_serve(common, listen);
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
