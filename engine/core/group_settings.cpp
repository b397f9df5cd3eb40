#include <maestro/core/group_settings.hpp>

namespace maestro::core {

group_settings settings_for(const config& cfg, std::string_view group_name) {
  group_settings s;
  s.max_concurrent = cfg.max_concurrent;
  if (const auto it = cfg.group_limits.find(std::string(group_name));
      it != cfg.group_limits.end()) {
    s.group_limit = it->second;
  }
  for (const auto& [name, agent] : cfg.agents) {
    if (agent.max_concurrent) {
      s.agent_limits[name] = *agent.max_concurrent;
    }
    if (agent.timeout_s) {
      s.agent_timeouts[name] = *agent.timeout_s;
    }
  }
  s.default_timeout_s = cfg.agent_defaults.timeout_s;
  s.retries = cfg.retries;
  s.retry_backoff_s = cfg.retry_backoff_s;
  s.tempfail_cooldown_s = cfg.tempfail_cooldown_s;
  s.tempfail_max = cfg.tempfail_max;
  s.kill_grace_s = cfg.kill_grace_s;
  s.group_timeout_s = cfg.group_timeout_s;
  s.blocked_wait_s = cfg.blocked_wait_s;
  s.refresh = cfg.refresh.has_value();
  s.refresh_required = cfg.refresh && cfg.refresh->required;
  s.refresh_timeout_s = cfg.refresh ? cfg.refresh->timeout_s : 0;
  s.test_required = cfg.test.required;
  s.test_timeout_s = cfg.test.timeout_s;
  s.close_tasks = cfg.close_tasks;
  return s;
}

double attempt_timeout_s(const group_settings& s, std::optional<double> task_timeout_s,
                         std::string_view agent) {
  if (task_timeout_s) {
    return *task_timeout_s;
  }
  const auto it = s.agent_timeouts.find(agent);
  return it != s.agent_timeouts.end() ? it->second : s.default_timeout_s;
}

}  // namespace maestro::core
