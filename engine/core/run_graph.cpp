// The run's graph as `schedule: graph` sees it: stages that wait for
// stages, and the critical path that orders the queue.

#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_map>

#include <maestro/core/run_graph.hpp>

namespace maestro::core {

std::vector<std::vector<std::size_t>> stage_prerequisites(const plan& p) {
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(p.stages.size());
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    index.emplace(p.stages[k].id, k);
  }
  std::vector<std::vector<std::size_t>> out(p.stages.size());
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    for (const auto& id : p.stages[k].after) {
      if (const auto it = index.find(id); it != index.end() && it->second != k) {
        out[k].push_back(it->second);
      }
    }
  }
  return out;
}

std::vector<std::vector<std::size_t>> stage_waits(const plan& p) {
  constexpr auto none = std::numeric_limits<std::size_t>::max();
  // A task list index -> its index in p.tasks.
  std::size_t list_size = 0;
  for (const auto& t : p.tasks) {
    list_size = std::max(list_size, t.index + 1);
  }
  std::vector<std::size_t> planned_of(list_size, none);
  for (std::size_t i = 0; i < p.tasks.size(); ++i) {
    planned_of[p.tasks[i].index] = i;
  }
  std::vector<std::vector<std::size_t>> out(p.tasks.size());
  for (std::size_t i = 0; i < p.tasks.size(); ++i) {
    for (const auto& g : p.tasks[i].waits_for) {
      if (g.index < list_size && planned_of[g.index] != none) {
        const auto other = planned_of[g.index];
        if (other != i && p.tasks[other].stage_id == p.tasks[i].stage_id) {
          out[i].push_back(other);
        }
      }
    }
  }
  return out;
}

std::vector<std::size_t> critical_paths(const plan& p) {
  const auto waits = stage_waits(p);
  const auto prerequisites = stage_prerequisites(p);
  // How many of its dependents in its stage each task still waits to hear
  // from (Kahn, in reverse).
  std::vector<std::size_t> unheard(p.tasks.size(), 0);
  for (const auto& w : waits) {
    for (const auto other : w) {
      ++unheard[other];
    }
  }
  std::vector<std::size_t> stage_chain(p.stages.size(), 0);  // its longest chain
  std::vector<std::size_t> tail(p.stages.size(), 0);         // the longest after it
  std::vector<std::size_t> out(p.tasks.size(), 0);
  // Stages run in an order where every stage comes after what it waits
  // for: backwards, each stage's tail is known when it is reached.
  std::vector<std::size_t> ready;
  for (std::size_t k = p.stages.size(); k-- > 0;) {
    for (const auto t : p.stages[k].tasks) {
      out[t] = 1 + tail[k];
      if (unheard[t] == 0) {
        ready.push_back(t);
      }
    }
    while (!ready.empty()) {
      const auto t = ready.back();
      ready.pop_back();
      stage_chain[k] = std::max(stage_chain[k], out[t]);
      for (const auto w : waits[t]) {
        out[w] = std::max(out[w], out[t] + 1);
        if (--unheard[w] == 0) {
          ready.push_back(w);
        }
      }
    }
    for (const auto before : prerequisites[k]) {
      tail[before] = std::max(tail[before], stage_chain[k]);
    }
  }
  return out;
}

}  // namespace maestro::core
