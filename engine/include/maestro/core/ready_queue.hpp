#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

namespace maestro::core {

/// A queued task's place: priority (lower first), then the length of the
/// chain of work that waits on it (longer first: the critical path), then
/// input order (lower index first).
struct queue_rank {
  long long priority = 2;
  std::size_t critical_path = 0;
};

/// The tasks that are ready to launch, one lane per agent, each ordered by
/// `queue_rank`, then input order (lower index first). The next
/// task is the best head among the lanes that have room: a full agent does
/// not hold back the others (ninja's pools). A queued task may wait for a
/// timer first (a retry's back-off, a cool-down): it is then delayed, and
/// joins its lane once the timer fires.
class ready_queue {
 public:
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

  explicit ready_queue(std::size_t lanes = 0) : lanes_(lanes) {}

  void push(std::size_t lane, queue_rank rank, std::size_t task);
  /// Removes `task` if it waits in `lane`; false if it does not.
  bool erase(std::size_t lane, queue_rank rank, std::size_t task);
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t lane_count() const noexcept { return lanes_.size(); }
  /// The first task of `lane`, `none` if it is empty.
  [[nodiscard]] std::size_t head(std::size_t lane) const noexcept {
    return lane < lanes_.size() && !lanes_[lane].empty() ? lanes_[lane].begin()->task : none;
  }

  /// `task` waits for a timer before it joins a lane.
  void delay(std::size_t task);
  /// Ends the delay of `task`; false if it was not delayed.
  bool end_delay(std::size_t task);
  /// The tasks that are delayed.
  [[nodiscard]] std::size_t delayed() const noexcept { return delayed_count_; }

  /// Removes and returns the best head among the lanes for which
  /// `has_room(lane)` holds; `none` if there is none.
  template <class HasRoom>
  std::size_t pop_best(HasRoom&& has_room) {
    lane_set* best = nullptr;
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
      auto& l = lanes_[i];
      if (l.empty() || (best != nullptr && !(*l.begin() < *best->begin())) || !has_room(i)) {
        continue;
      }
      best = &l;
    }
    if (best == nullptr) {
      return none;
    }
    const auto task = best->begin()->task;
    best->erase(best->begin());
    --size_;
    return task;
  }

 private:
  // 16 bytes: a group of 100,000 queued tasks holds as many.
  struct key {
    std::uint64_t rank;  // `packed`: lower first
    std::size_t task;
    // NOLINTNEXTLINE(modernize-use-nullptr): a false positive on defaulted <=>
    friend auto operator<=>(const key&, const key&) = default;
  };
  using lane_set = std::set<key>;

  std::vector<lane_set> lanes_;
  std::size_t size_ = 0;
  std::vector<bool> delayed_;  // by task
  std::size_t delayed_count_ = 0;
};

}  // namespace maestro::core
