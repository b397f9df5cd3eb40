#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include <maestro/ports/clock.hpp>

namespace maestro {

/// The default clock: `std::chrono::steady_clock`, with alarms on Asio
/// timers of the runtime's strand. Wall time is mapped from one pair of
/// readings taken at construction, so that the timestamps of one run
/// never go backwards when the system clock is set.
class asio_clock final : public engine_clock {
 public:
  /// `strand` runs the alarms: give the runtime's.
  explicit asio_clock(boost::asio::any_io_executor strand);

  [[nodiscard]] core::clock_time now() const override;
  [[nodiscard]] std::chrono::system_clock::time_point wall(core::clock_time t) const override;
  [[nodiscard]] std::unique_ptr<alarm> at(core::clock_time deadline,
                                          std::function<void()> fire) override;

 private:
  boost::asio::any_io_executor strand_;
  std::chrono::system_clock::time_point wall_anchor_;
  core::clock_time steady_anchor_;
};

}  // namespace maestro
