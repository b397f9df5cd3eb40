#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/group_settings.hpp>
#include <maestro/core/limit_pool.hpp>

namespace maestro::core {

struct group_task;

/// The agents of one group's tasks, by index, and the slots their attempts
/// take: one in the global pool, one in the group's and one in the agent's
/// (`limit_pools`, which other groups may share). A task's chain, its agent
/// then its fallbacks, is kept flat, as indices.
class agent_slots {
 public:
  agent_slots() = default;
  /// The agents of the chains of `tasks` (none empty), drawing from
  /// `pools`: its global pool, `pools->group(group_name)` and the agents'.
  agent_slots(const std::vector<group_task>& tasks, std::shared_ptr<limit_pools> pools,
              std::string_view group_name);

  [[nodiscard]] std::size_t agent_count() const noexcept { return names_.size(); }
  [[nodiscard]] const std::string& name(std::uint32_t agent) const { return names_[agent]; }
  /// The agent at `position` in the chain of `task`; the last past its end.
  [[nodiscard]] std::uint32_t agent(std::size_t task, std::size_t position) const {
    const auto first = chain_of_[task];
    const auto size = chain_of_[task + 1] - first;
    return chain_agents_[first + std::min<std::size_t>(position, size - 1)];
  }

  /// Whether the global pool and the group's have a free slot.
  [[nodiscard]] bool has_room() const noexcept { return global_->has_room() && group_->has_room(); }
  /// Whether the group's pool has a free slot.
  [[nodiscard]] bool group_has_room() const noexcept { return group_->has_room(); }
  /// Whether `agent`'s pool has a free slot.
  [[nodiscard]] bool has_room(std::size_t agent) const { return agent_pools_[agent]->has_room(); }
  /// An attempt with `agent` takes its slots (the caller checked the room).
  void acquire(std::uint32_t agent) {
    ++running_;
    global_->acquire();
    group_->acquire();
    agent_pools_[agent]->acquire();
  }
  void release(std::uint32_t agent) {
    --running_;
    global_->release();
    group_->release();
    agent_pools_[agent]->release();
  }
  /// The attempts of this group that hold slots.
  [[nodiscard]] std::size_t running() const noexcept { return running_; }

 private:
  std::vector<std::uint32_t> chain_agents_;
  std::vector<std::uint32_t> chain_of_;  // task i's chain: [chain_of_[i], chain_of_[i + 1])
  std::vector<std::string> names_;
  std::shared_ptr<limit_pools> pools_;
  limit_pool* global_ = nullptr;
  limit_pool* group_ = nullptr;
  std::vector<limit_pool*> agent_pools_;
  std::size_t running_ = 0;
};

/// `tasks`, each with an agent: one without gets "default" (the runtime
/// always resolves one).
[[nodiscard]] std::vector<group_task> with_an_agent(std::vector<group_task> tasks);

/// Pools of a group's own, sized from `settings`, for a group that shares
/// none.
[[nodiscard]] std::shared_ptr<limit_pools> own_pools(const group_settings& settings);

}  // namespace maestro::core
