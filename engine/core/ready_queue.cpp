#include <algorithm>
#include <limits>

#include <maestro/core/ready_queue.hpp>

namespace maestro::core {

namespace {

// The priority (as a 32-bit number, lower first), then the critical path
// (as a 32-bit number, longer first), in one word that orders the same.
std::uint64_t packed(queue_rank rank) noexcept {
  constexpr long long low = std::numeric_limits<std::int32_t>::min();
  constexpr long long high = std::numeric_limits<std::int32_t>::max();
  constexpr std::size_t most = std::numeric_limits<std::uint32_t>::max();
  const auto priority = static_cast<std::uint64_t>(std::clamp(rank.priority, low, high) - low);
  const auto path = std::min(rank.critical_path, most);
  return (priority << 32U) | (most - path);
}

}  // namespace

void ready_queue::push(std::size_t lane, queue_rank rank, std::size_t task) {
  if (lane >= lanes_.size()) {
    lanes_.resize(lane + 1);
  }
  if (lanes_[lane].insert({packed(rank), task}).second) {
    ++size_;
  }
}

bool ready_queue::erase(std::size_t lane, queue_rank rank, std::size_t task) {
  if (lane >= lanes_.size() || lanes_[lane].erase({packed(rank), task}) == 0) {
    return false;
  }
  --size_;
  return true;
}

void ready_queue::delay(std::size_t task) {
  if (task >= delayed_.size()) {
    delayed_.resize(task + 1, false);
  }
  if (!delayed_[task]) {
    delayed_[task] = true;
    ++delayed_count_;
  }
}

bool ready_queue::end_delay(std::size_t task) {
  if (task >= delayed_.size() || !delayed_[task]) {
    return false;
  }
  delayed_[task] = false;
  --delayed_count_;
  return true;
}

}  // namespace maestro::core
