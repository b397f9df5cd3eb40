#pragma once

#include <cstddef>
#include <vector>

#include <maestro/core/plan.hpp>

namespace maestro::core {

/// Per stage of `p` (in `p.stages` order), the indices of the stages it
/// waits for: its `after`, as indices, each smaller than its own.
[[nodiscard]] std::vector<std::vector<std::size_t>> stage_prerequisites(const plan& p);

/// Per task of `p` (in `p.tasks` order), the tasks of its own stage that
/// it waits for (indices into `p.tasks`).
[[nodiscard]] std::vector<std::vector<std::size_t>> stage_waits(const plan& p);

/// Per task of `p` (in `p.tasks` order), the length of the longest chain of
/// work that waits on it, itself included, counted in tasks: under
/// `schedule: graph`, what waits on a task is what depends on it in its
/// stage, and every stage after its own (which starts only once the whole
/// stage has finished). A task that nothing waits on has 1.
[[nodiscard]] std::vector<std::size_t> critical_paths(const plan& p);

}  // namespace maestro::core
