#include <map>
#include <utility>

#include <maestro/core/agent_slots.hpp>
#include <maestro/core/group_machine.hpp>

namespace maestro::core {

agent_slots::agent_slots(const std::vector<group_task>& tasks, std::shared_ptr<limit_pools> pools,
                         std::string_view group_name)
    : pools_(std::move(pools)), global_(&pools_->global()), group_(&pools_->group(group_name)) {
  std::map<std::string_view, std::uint32_t> index;
  chain_of_.reserve(tasks.size() + 1);
  for (const auto& t : tasks) {
    chain_of_.push_back(static_cast<std::uint32_t>(chain_agents_.size()));
    for (const auto& agent : t.chain) {
      const auto [it, added] = index.emplace(agent, static_cast<std::uint32_t>(names_.size()));
      if (added) {
        names_.push_back(agent);
        agent_pools_.push_back(&pools_->agent(agent));
      }
      chain_agents_.push_back(it->second);
    }
  }
  chain_of_.push_back(static_cast<std::uint32_t>(chain_agents_.size()));
}

std::vector<group_task> with_an_agent(std::vector<group_task> tasks) {
  for (auto& t : tasks) {
    if (t.chain.empty()) {
      t.chain.emplace_back("default");
    }
  }
  return tasks;
}

std::shared_ptr<limit_pools> own_pools(const group_settings& settings) {
  auto pools = std::make_shared<limit_pools>(settings.max_concurrent);
  if (settings.group_limit) {
    pools->group({}).set_capacity(*settings.group_limit);
  }
  for (const auto& [agent, limit] : settings.agent_limits) {
    pools->agent(agent).set_capacity(limit);
  }
  return pools;
}

}  // namespace maestro::core
