#pragma once

#include <cstddef>

#include <maestro/core/group_machine.hpp>

namespace maestro {

/// The state port: where the runtime records a group's progress. Calls come
/// from the runtime's strand, in the order the changes happened.
class state_store {
 public:
  state_store() = default;
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;
  virtual ~state_store() = default;

  /// `task` of `machine` changed (status, pid, attempts, ...).
  virtual void task_changed(const core::group_machine& machine, std::size_t task,
                            core::clock_time now) = 0;
  /// The group's phase, status, errors or test status changed.
  virtual void group_changed(const core::group_machine& machine, core::clock_time now) = 0;
  /// Writes everything recorded so far, before returning.
  virtual void flush(const core::group_machine& machine) = 0;
};

}  // namespace maestro
