#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <maestro/core/group_machine.hpp>

namespace maestro {

/// The clock port: the runtime's only source of time, and its alarms. The
/// default follows `std::chrono::steady_clock` with Asio timers; a test
/// brings a clock it moves by hand.
class engine_clock {
 public:
  /// An armed alarm. Destroying it cancels it: `fire` is then never called,
  /// even if the deadline has passed and the call was already queued.
  class alarm {
   public:
    alarm() = default;
    alarm(const alarm&) = delete;
    alarm& operator=(const alarm&) = delete;
    virtual ~alarm() = default;
  };

  engine_clock() = default;
  engine_clock(const engine_clock&) = delete;
  engine_clock& operator=(const engine_clock&) = delete;
  virtual ~engine_clock() = default;

  /// Now, on the engine's monotonic clock.
  [[nodiscard]] virtual core::clock_time now() const = 0;
  /// The wall time of `t`, for the timestamps people read.
  [[nodiscard]] virtual std::chrono::system_clock::time_point wall(core::clock_time t) const = 0;
  /// Calls `fire` on the runtime's strand once `deadline` is reached,
  /// unless the returned alarm is destroyed first.
  [[nodiscard]] virtual std::unique_ptr<alarm> at(core::clock_time deadline,
                                                  std::function<void()> fire) = 0;
};

}  // namespace maestro
