#include <utility>

#include <boost/asio/steady_timer.hpp>

#include <maestro/adapters/asio_clock.hpp>

namespace maestro {
namespace {

// The timer and whether its alarm still wants the call. Shared by the alarm
// and the pending wait, so the wait's handler may run after the alarm is
// gone (a timer that expired as it was cancelled) and do nothing.
struct armed_timer {
  explicit armed_timer(const boost::asio::any_io_executor& strand, core::clock_time deadline)
      : timer(strand, deadline) {}
  boost::asio::steady_timer timer;
  bool cancelled = false;
};

class asio_alarm final : public engine_clock::alarm {
 public:
  explicit asio_alarm(std::shared_ptr<armed_timer> armed) : armed_(std::move(armed)) {}
  asio_alarm(const asio_alarm&) = delete;
  asio_alarm& operator=(const asio_alarm&) = delete;
  ~asio_alarm() override {
    armed_->cancelled = true;
    armed_->timer.cancel();
  }

 private:
  std::shared_ptr<armed_timer> armed_;
};

}  // namespace

asio_clock::asio_clock(boost::asio::any_io_executor strand)
    : strand_(std::move(strand)),
      wall_anchor_(std::chrono::system_clock::now()),
      steady_anchor_(std::chrono::steady_clock::now()) {}

core::clock_time asio_clock::now() const {
  return std::chrono::steady_clock::now();
}

std::chrono::system_clock::time_point asio_clock::wall(core::clock_time t) const {
  return wall_anchor_ +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_anchor_);
}

std::unique_ptr<engine_clock::alarm> asio_clock::at(core::clock_time deadline,
                                                    std::function<void()> fire) {
  auto armed = std::make_shared<armed_timer>(strand_, deadline);
  armed->timer.async_wait([armed, fire = std::move(fire)](const boost::system::error_code& ec) {
    if (!ec && !armed->cancelled) {
      fire();
    }
  });
  return std::make_unique<asio_alarm>(std::move(armed));
}

}  // namespace maestro
