#include <maestro/core/ready_queue.hpp>

namespace maestro::core {

void ready_queue::push(std::size_t lane, long long priority, std::size_t task) {
  if (lane >= lanes_.size()) {
    lanes_.resize(lane + 1);
  }
  if (lanes_[lane].insert({priority, task}).second) {
    ++size_;
  }
}

bool ready_queue::erase(std::size_t lane, long long priority, std::size_t task) {
  if (lane >= lanes_.size() || lanes_[lane].erase({priority, task}) == 0) {
    return false;
  }
  --size_;
  return true;
}

}  // namespace maestro::core
