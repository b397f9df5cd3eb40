// Cycle finding for the planner's graphs (tasks, stages, parent-child
// links). Internal to the core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <maestro/core/names.hpp>

namespace maestro::core::detail {

inline constexpr std::size_t no_node = SIZE_MAX;

/// Finds a cycle in a directed graph given as adjacency lists, returning its
/// nodes in order with the first repeated at the end, or an empty vector.
/// Iterative, because a chain of 100,000 tasks would overflow the stack.
inline std::vector<std::size_t> find_cycle(const std::vector<std::vector<std::size_t>>& edges) {
  enum class mark : std::uint8_t { fresh, open, done };
  std::vector<mark> marks(edges.size(), mark::fresh);
  std::vector<std::size_t> parent(edges.size(), no_node);
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // node, next edge
  for (std::size_t root = 0; root < edges.size(); ++root) {
    if (marks[root] != mark::fresh) {
      continue;
    }
    stack.emplace_back(root, 0);
    marks[root] = mark::open;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == edges[node].size()) {
        marks[node] = mark::done;
        stack.pop_back();
        continue;
      }
      const std::size_t to = edges[node][next++];
      if (marks[to] == mark::open) {
        std::vector<std::size_t> cycle{to};
        for (std::size_t at = node; at != to; at = parent[at]) {
          cycle.push_back(at);
        }
        std::reverse(cycle.begin() + 1, cycle.end());
        cycle.push_back(to);
        return cycle;
      }
      if (marks[to] == mark::fresh) {
        marks[to] = mark::open;
        parent[to] = node;
        stack.emplace_back(to, 0);
      }
    }
  }
  return {};
}

/// Names a cycle on one line; a long one keeps its ends and counts the rest.
/// `edge(from, to)` may say why an edge exists: it is printed after `to`.
template <class Name, class Edge>
std::string join_cycle(const std::vector<std::size_t>& cycle, Name name, Edge edge) {
  constexpr std::size_t head = 6;
  constexpr std::size_t tail = 3;
  std::string out;
  bool after_gap = false;
  for (std::size_t k = 0; k < cycle.size(); ++k) {
    if (cycle.size() > head + tail + 1 && k == head) {
      out += " -> ... (" + std::to_string(cycle.size() - head - tail) + " more)";
      k = cycle.size() - tail - 1;
      after_gap = true;
      continue;
    }
    if (!out.empty()) {
      out += " -> ";
    }
    out += printable(name(cycle[k]));
    if (k > 0 && !after_gap) {
      out += printable(edge(cycle[k - 1], cycle[k]));
    }
    after_gap = false;
  }
  return out;
}

template <class Name>
std::string join_cycle(const std::vector<std::size_t>& cycle, Name name) {
  return join_cycle(cycle, name, [](std::size_t, std::size_t) { return std::string{}; });
}

}  // namespace maestro::core::detail
