#include <maestro/core/dependency_tracker.hpp>
#include <maestro/core/group_machine.hpp>

namespace maestro::core {

dependency_tracker::dependency_tracker(const std::vector<group_task>& tasks)
    : unmet_(tasks.size(), 0), dependents_(tasks.size()) {
  index_of_.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const auto& t = tasks[i];
    index_of_.emplace(t.id, i);
    for (const auto& b : t.blocked_by) {
      blockers_[i].insert(b);
      blocked_on_.emplace(b, i);
    }
    for (const auto w : t.waits_for) {
      dependents_.at(w).push_back(i);
      if (!tasks[w].already_completed) {
        ++unmet_[i];
      }
    }
  }
}

std::size_t dependency_tracker::index_of(std::string_view id) const {
  const auto it = index_of_.find(id);
  return it != index_of_.end() ? it->second : npos;
}

}  // namespace maestro::core
