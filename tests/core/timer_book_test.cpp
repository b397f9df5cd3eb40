#include <chrono>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/timer_book.hpp>

using namespace maestro::core;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(timer_book_tests)

namespace {

constexpr clock_time t0{std::chrono::seconds(100)};

// A book writing to its own list of actions.
struct book {
  explicit book(double grace_s, std::size_t tasks = 2) : timers(tasks, grace_s) {
    timers.write_to(&out);
  }
  std::vector<action> take() { return std::exchange(out, {}); }
  std::vector<action> out;
  timer_book timers;
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_kill_sequence_of_an_attempt) {
  book b(5);
  b.timers.terminate(1, 3, t0);
  BOOST_TEST(
      (b.take() == std::vector<action>{signal_action{1, 3, kill_signal::terminate},
                                       set_timer_action{{timer_kind::kill_grace, 1, 3}, t0 + 5s}}));
  b.timers.fired({timer_kind::kill_grace, 1, 3}, t0 + 5s);
  BOOST_TEST((b.take() == std::vector<action>{signal_action{1, 3, kill_signal::kill}}));
  b.timers.cancel_attempt(1, 3);  // the grace timer fired: nothing left to cancel
  BOOST_TEST(b.take().empty());
}

BOOST_AUTO_TEST_CASE(without_a_grace_period_sigkill_follows_at_once) {
  book b(0);
  b.timers.terminate(0, 1, t0);
  b.timers.terminate(timer_book::the_command, 0, t0);
  BOOST_TEST((b.take() == std::vector<action>{signal_action{0, 1, kill_signal::terminate},
                                              signal_action{0, 1, kill_signal::kill},
                                              signal_command_action{kill_signal::terminate},
                                              signal_command_action{kill_signal::kill}}));
}

BOOST_AUTO_TEST_CASE(a_time_limit_starts_the_sequence) {
  book b(2);
  b.timers.set(timer_kind::attempt_timeout, 0, 1, t0 + 10s);
  b.take();
  b.timers.fired({timer_kind::attempt_timeout, 0, 1}, t0 + 10s);
  BOOST_TEST((b.take() ==
              std::vector<action>{signal_action{0, 1, kill_signal::terminate},
                                  set_timer_action{{timer_kind::kill_grace, 0, 1}, t0 + 12s}}));
  // The attempt exits within the grace: only the grace timer is armed still.
  b.timers.cancel_attempt(0, 1);
  BOOST_TEST(
      (b.take() == std::vector<action>{cancel_timer_action{{timer_kind::kill_grace, 0, 1}}}));
}

BOOST_AUTO_TEST_CASE(an_attempt_that_ends_cancels_only_its_armed_timers) {
  book b(2);
  b.timers.set(timer_kind::attempt_timeout, 0, 4, t0 + 10s);
  b.timers.set(timer_kind::requeue, 1, 4, t0 + 1s);  // not an attempt's timer
  b.take();
  b.timers.cancel_attempt(0, 4);
  BOOST_TEST(
      (b.take() == std::vector<action>{cancel_timer_action{{timer_kind::attempt_timeout, 0, 4}}}));
  b.timers.cancel_attempt(0, 4);
  b.timers.cancel_attempt(1, 4);
  BOOST_TEST(b.take().empty());
}

BOOST_AUTO_TEST_CASE(a_stop_is_graceful_or_immediate) {
  book b(3);
  b.timers.stop(0, 2, stop_mode::immediate, t0);
  BOOST_TEST((b.take() == std::vector<action>{signal_action{0, 2, kill_signal::kill}}));
  b.timers.stop(0, 2, stop_mode::graceful, t0);
  BOOST_TEST(
      (b.take() == std::vector<action>{signal_action{0, 2, kill_signal::terminate},
                                       set_timer_action{{timer_kind::kill_grace, 0, 2}, t0 + 3s}}));
}

BOOST_AUTO_TEST_CASE(a_command_that_ends_in_time) {
  book b(3);
  b.timers.start_command(60, t0);
  BOOST_TEST(b.timers.command_run() == 1U);
  BOOST_TEST((b.take() == std::vector<action>{
                              set_timer_action{{timer_kind::command_timeout, 0, 1}, t0 + 60s}}));
  BOOST_TEST(!b.timers.end_command());
  BOOST_TEST(
      (b.take() == std::vector<action>{cancel_timer_action{{timer_kind::command_timeout, 0, 1}}}));
  b.timers.start_command(0, t0);  // no limit: no timer, none to cancel
  BOOST_TEST(b.timers.command_run() == 2U);
  BOOST_TEST(!b.timers.end_command());
  BOOST_TEST(b.take().empty());
}

BOOST_AUTO_TEST_CASE(a_command_that_times_out) {
  book b(3);
  b.timers.start_command(60, t0);
  b.take();
  b.timers.fired({timer_kind::command_timeout, 0, 1}, t0 + 60s);
  BOOST_TEST((b.take() ==
              std::vector<action>{signal_command_action{kill_signal::terminate},
                                  set_timer_action{{timer_kind::command_grace, 0, 1}, t0 + 63s}}));
  BOOST_TEST(b.timers.end_command());  // it ended within the grace
  BOOST_TEST(
      (b.take() == std::vector<action>{cancel_timer_action{{timer_kind::command_grace, 0, 1}}}));
  // The next run starts afresh.
  b.timers.start_command(60, t0);
  b.timers.fired({timer_kind::command_timeout, 0, 2}, t0 + 60s);
  b.timers.fired({timer_kind::command_grace, 0, 2}, t0 + 63s);
  b.take();
  BOOST_TEST(b.timers.end_command());
  BOOST_TEST(b.take().empty());  // both fired: nothing left to cancel
}

BOOST_AUTO_TEST_SUITE_END()
