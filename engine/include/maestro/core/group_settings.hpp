#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <maestro/core/config.hpp>

namespace maestro::core {

/// Everything the core needs to know about one group's limits and
/// policies. Durations are in seconds; a limit or a timeout of 0 means
/// "none". The defaults are the configuration's (`core::defaults`), so a
/// default `group_settings` is what `settings_for(config{}, name)` gives
/// for a group with no limit of its own.
struct group_settings {
  // Ordered by size, not by theme: no padding between the members.
  std::map<std::string, int, std::less<>> agent_limits;
  std::map<std::string, double, std::less<>> agent_timeouts;
  double default_timeout_s = defaults::agent_timeout_s;
  double retry_backoff_s = defaults::retry_backoff_s;
  double tempfail_cooldown_s = defaults::tempfail_cooldown_s;
  double kill_grace_s = defaults::kill_grace_s;
  double group_timeout_s = defaults::group_timeout_s;
  double blocked_wait_s = defaults::blocked_wait_s;
  /// The refresh command's time limit (`refresh.timeout_s`; 0 while there
  /// is no refresh): it is then terminated, and killed after `kill_grace_s`.
  double refresh_timeout_s = 0;
  /// The test command's time limit, as `refresh_timeout_s`.
  double test_timeout_s = defaults::test_timeout_s;
  /// Seeds the jitter of retry and cool-down delays.
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  std::optional<int> group_limit;
  int max_concurrent = defaults::max_concurrent;
  int retries = defaults::retries;
  int tempfail_max = defaults::tempfail_max;
  bool refresh = false;
  bool refresh_required = false;
  bool test_required = false;
  bool close_tasks = defaults::close_tasks;
  /// The tracker holds claims: the runtime claims each task before its
  /// first launch, and the group ends by handing back the claims of tasks
  /// that did not complete (`release_claims_action`).
  bool claims = false;
  /// A run-level scheduler (`run_scheduler`) launches the group's tasks
  /// (`launch_granted_event`) and gives its refresh and test commands their
  /// turn (`command_granted_event`): the group starts neither of its own
  /// accord.
  bool scheduled = false;
  /// `group_timeout_s` counts from the group's first launch, not from its
  /// start (`schedule: graph`, where a group may wait for its turn).
  bool timeout_from_first_launch = false;
  /// Each attempt works in a workspace of its own (`workspace: worktree`):
  /// one that exits 0 completes only once its work is merged
  /// (`integrate_action`), and a group that passes its test phase ends by
  /// moving the integration branch (`integrate_group_action`).
  bool integrate = false;
};

/// The time limit of an attempt with `agent` of a task whose own limit
/// (`metadata.timeout_s`) is `task_timeout_s`: that limit, else the agent's,
/// else the default; 0 for none.
[[nodiscard]] double attempt_timeout_s(const group_settings& s,
                                       std::optional<double> task_timeout_s,
                                       std::string_view agent);

/// The settings of the group named `group_name` (a marker's NAME, or
/// `_sequential`) under `cfg`: its limits, timeouts and policies. The seed
/// is left at its default; the runtime picks one per run.
[[nodiscard]] group_settings settings_for(const config& cfg, std::string_view group_name);

}  // namespace maestro::core
