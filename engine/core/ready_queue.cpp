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
