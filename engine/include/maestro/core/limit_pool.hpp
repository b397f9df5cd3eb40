#pragma once

#include <map>
#include <string>
#include <string_view>

namespace maestro::core {

/// A counted capacity, as ninja's `Pool`: a slot is taken before a launch
/// and given back when the attempt ends. A capacity of 0 (or less) means
/// "unlimited".
class limit_pool {
 public:
  explicit limit_pool(int capacity = 0) noexcept : capacity_(capacity) {}

  [[nodiscard]] bool has_room() const noexcept { return capacity_ <= 0 || in_use_ < capacity_; }
  /// Takes a slot if there is room.
  [[nodiscard]] bool try_acquire() noexcept {
    if (!has_room()) {
      return false;
    }
    ++in_use_;
    return true;
  }
  /// Takes a slot whether or not there is room (the caller checked).
  void acquire() noexcept { ++in_use_; }
  void release() noexcept {
    if (in_use_ > 0) {
      --in_use_;
    }
  }
  [[nodiscard]] int capacity() const noexcept { return capacity_; }
  [[nodiscard]] int in_use() const noexcept { return in_use_; }
  /// A new capacity; slots in use stay taken (a lower capacity only stops
  /// new acquisitions until enough are given back).
  void set_capacity(int capacity) noexcept { capacity_ = capacity; }

 private:
  int capacity_;
  int in_use_ = 0;
};

/// The pools that one or several groups draw from: one global pool, one
/// per agent and one per group. Several group machines may share one
/// `limit_pools` (the next issues run many groups under one set of limits);
/// a machine built without one owns its own. A pool asked for by a name
/// that was given no capacity is unlimited. References to pools stay valid
/// for the life of this object.
class limit_pools {
 public:
  explicit limit_pools(int global_capacity = 0) : global_(global_capacity) {}

  [[nodiscard]] limit_pool& global() noexcept { return global_; }
  [[nodiscard]] const limit_pool& global() const noexcept { return global_; }
  /// The pool of agent `name`, created unlimited on first use.
  [[nodiscard]] limit_pool& agent(std::string_view name) { return get(agents_, name); }
  /// The pool of group `name`, created unlimited on first use.
  [[nodiscard]] limit_pool& group(std::string_view name) { return get(groups_, name); }

 private:
  using pool_map = std::map<std::string, limit_pool, std::less<>>;
  static limit_pool& get(pool_map& pools, std::string_view name);

  limit_pool global_;
  pool_map agents_;  // a map: its nodes, and so the references handed out, never move
  pool_map groups_;
};

}  // namespace maestro::core
