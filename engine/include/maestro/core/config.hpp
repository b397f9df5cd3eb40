#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <maestro/core/enum_names.hpp>

namespace maestro::core {

/// The longest duration accepted anywhere, in seconds (1e9, about 31
/// years): every `*_s` key of the configuration and `metadata.timeout_s`.
/// The readers reject larger values; anything larger would overflow
/// `std::chrono::nanoseconds` (about 292 years) once added to a clock.
inline constexpr double max_duration_s = 1e9;

/// `seconds` made safe to turn into a clock duration: clamped to
/// [0, max_duration_s], with NaN taken as the cap (never as "at once").
[[nodiscard]] constexpr double capped_duration(double seconds) noexcept {
  if (!(seconds <= max_duration_s)) {  // NaN, or too long
    return max_duration_s;
  }
  return seconds < 0 ? 0 : seconds;
}

/// The documented defaults of the policy settings, named once: `config`
/// and `group_settings` both start from them.
namespace defaults {
inline constexpr int max_concurrent = 4;
inline constexpr double agent_timeout_s = 3600;
inline constexpr double refresh_timeout_s = 300;
inline constexpr double test_timeout_s = 1800;
inline constexpr double group_timeout_s = 0;
inline constexpr double blocked_wait_s = 0;
inline constexpr int retries = 0;
inline constexpr double retry_backoff_s = 5;
inline constexpr double tempfail_cooldown_s = 30;
inline constexpr int tempfail_max = 10;
inline constexpr double kill_grace_s = 10;
inline constexpr bool close_tasks = true;
}  // namespace defaults

/// An ordered table of agent name to keywords. Order matters: a tie in the
/// keyword score goes to the agent listed first.
using keyword_table = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// The built-in table of the Python coordinator, used when `auto_detect` is
/// `null`.
[[nodiscard]] const keyword_table& default_keyword_table();

/// What a child's standard input is connected to.
enum class stdin_source {
  null_device,  ///< `/dev/null`
  prompt        ///< the filled-in prompt, written to a pipe
};

/// The names of `stdin` in the configuration.
constexpr auto enum_names(stdin_source) noexcept {
  return make_enum_table<stdin_source>({
      {stdin_source::null_device, "null"},
      {stdin_source::prompt, "prompt"},
  });
}

/// `agents.NAME`: every field is optional and falls back to `agent_defaults`.
struct agent_config {
  std::optional<std::vector<std::string>> command;
  std::optional<int> max_concurrent;
  std::optional<double> timeout_s;
  std::map<std::string, std::string> env;
  std::optional<stdin_source> stdin_mode;
};

/// `agent_defaults`.
struct agent_defaults_config {
  std::vector<std::string> command{"claude", "-p", "{prompt}"};
  double timeout_s = defaults::agent_timeout_s;
  std::map<std::string, std::string> env;
  stdin_source stdin_mode = stdin_source::null_device;
};

/// `refresh`: the command run before each parallel group.
struct refresh_config {
  std::vector<std::string> command;
  double timeout_s = defaults::refresh_timeout_s;
  bool required = false;
};

/// How `test.command` was given.
enum class test_command_kind {
  argv,         ///< an explicit argv
  auto_detect,  ///< `"auto"`: chosen by what the working directory holds
  none          ///< `"none"`: no test is run
};

/// `test`.
struct test_config {
  test_command_kind kind = test_command_kind::auto_detect;
  std::vector<std::string> command;  ///< only for `test_command_kind::argv`
  double timeout_s = defaults::test_timeout_s;
  bool required = false;
};

/// `launcher.kind`.
enum class launcher_kind { local, slurm };

/// The names of `launcher.kind` in the configuration.
constexpr auto enum_names(launcher_kind) noexcept {
  return make_enum_table<launcher_kind>({
      {launcher_kind::local, "local"},
      {launcher_kind::slurm, "slurm"},
  });
}

/// `launcher.allocation` (SPEC section 8).
enum class allocation_mode {
  task,  ///< each agent is a Slurm job of its own
  group  ///< one allocation per group; each agent is a step in it
};

constexpr auto enum_names(allocation_mode) noexcept {
  return make_enum_table<allocation_mode>({
      {allocation_mode::task, "task"},
      {allocation_mode::group, "group"},
  });
}

/// `launcher`.
struct launcher_config {
  launcher_kind kind = launcher_kind::local;
  std::string srun = "srun";
  std::vector<std::string> srun_args;
  allocation_mode allocation = allocation_mode::task;
  /// How long a group's allocation may take to be granted.
  double allocation_timeout_s = 300;
};

/// `workspace.kind` (SPEC section 11).
enum class workspace_kind {
  shared,   ///< every child runs in the engine's working directory
  worktree  ///< every attempt runs in a git worktree of its own
};

constexpr auto enum_names(workspace_kind) noexcept {
  return make_enum_table<workspace_kind>({
      {workspace_kind::shared, "shared"},
      {workspace_kind::worktree, "worktree"},
  });
}

/// `workspace`.
struct workspace_config {
  workspace_kind kind = workspace_kind::shared;
  /// Where the integration branch starts when it does not exist yet.
  std::string base = "HEAD";
  /// The run's integration branch.
  std::string branch = "maestro/integration";
  /// Keep the worktrees of failed attempts (listed by `status`).
  bool keep_failed = true;
};

/// `beads`: the live beads source (SPEC section 10).
struct beads_config {
  /// Who claims: `beads.actor`, else `BEADS_ACTOR`, else
  /// `maestro-async@HOSTNAME` (the adapter decides when this is empty).
  std::optional<std::string> actor;
  /// Each `bd` call's time limit; 0 for none.
  double timeout_s = 30;
  /// The safety re-check's period, for a Dolt server whose writes leave no
  /// trace under `.beads/`; 0 disables it.
  double recheck_s = 120;
  /// Hand back the claims of tasks that did not complete.
  bool release_claims = true;
};

/// `group_by`: where parallel groups come from besides markers (SPEC
/// section 2). A marker always wins.
enum class grouping {
  marker,  ///< markers only
  epic,    ///< an unmarked task whose parent is an epic joins the group named after it
  parent   ///< the same for any parent, epic or not
};

/// The names of `group_by` in the configuration.
constexpr auto enum_names(grouping) noexcept {
  return make_enum_table<grouping>({
      {grouping::marker, "marker"},
      {grouping::epic, "epic"},
      {grouping::parent, "parent"},
  });
}

/// `schedule`: how the stages of `run` share the machine (SPEC section 2).
enum class schedule_mode {
  stages,  ///< one stage at a time, in run order
  graph    ///< every stage whose prerequisites finished, at once, under one set of limits
};

constexpr auto enum_names(schedule_mode) noexcept {
  return make_enum_table<schedule_mode>({
      {schedule_mode::stages, "stages"},
      {schedule_mode::graph, "graph"},
  });
}

/// `serve` (SPEC section 12): where `maestro-async serve` and `--serve`
/// listen. Checked when a server starts.
struct serve_config {
  std::string listen = "127.0.0.1:8765";
};

/// The whole configuration, `maestro.json`. Each member's initialiser is the
/// documented default.
struct config {
  std::string state_dir = ".flow/maestro";
  int max_concurrent = defaults::max_concurrent;
  std::map<std::string, int> group_limits;
  std::string default_agent = "backend-architect";
  /// `null` (the default) means `default_keyword_table()`.
  std::optional<keyword_table> auto_detect;
  std::string prompt_template =
      "Use the {agent} subagent. Skills: {skills}. Task {id}: {title}\n{description}";
  agent_defaults_config agent_defaults;
  std::map<std::string, agent_config> agents;
  std::optional<refresh_config> refresh;
  test_config test;
  double group_timeout_s = defaults::group_timeout_s;
  double blocked_wait_s = defaults::blocked_wait_s;
  int retries = defaults::retries;
  double retry_backoff_s = defaults::retry_backoff_s;
  double tempfail_cooldown_s = defaults::tempfail_cooldown_s;
  int tempfail_max = defaults::tempfail_max;
  double kill_grace_s = defaults::kill_grace_s;
  bool close_tasks = defaults::close_tasks;
  launcher_config launcher;
  grouping group_by = grouping::marker;
  schedule_mode schedule = schedule_mode::stages;
  beads_config beads;
  workspace_config workspace;
  serve_config serve;

  /// The keyword table in force: `auto_detect`, or the built-in one.
  [[nodiscard]] const keyword_table& keywords() const {
    return auto_detect ? *auto_detect : default_keyword_table();
  }
};

}  // namespace maestro::core
