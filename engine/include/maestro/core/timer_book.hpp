#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <maestro/core/group_events.hpp>

namespace maestro::core {

/// The timers a group arms, and the kill sequence that uses them: a task's
/// attempt and the refresh or test command alike end with SIGTERM, then
/// SIGKILL once the grace period has passed (at once without one). The book
/// knows which of an attempt's or the command's timers are armed, so that
/// only those are cancelled when it ends, and the command's run, which is
/// the generation of its timers.
class timer_book {
 public:
  /// `who` for the refresh or test command rather than a task.
  static constexpr std::size_t the_command = static_cast<std::size_t>(-1);

  timer_book() = default;
  timer_book(std::size_t tasks, double kill_grace_s) : armed_(tasks, 0), grace_s_(kill_grace_s) {}

  /// The actions of the event being handled go to `out`.
  void write_to(std::vector<action>* out) noexcept { out_ = out; }

  void set(timer_kind kind, std::size_t task, std::uint32_t generation, clock_time deadline) {
    switch (kind) {
      case timer_kind::attempt_timeout:
        armed_[task] |= timeout_armed;
        break;
      case timer_kind::kill_grace:
        armed_[task] |= grace_armed;
        break;
      case timer_kind::command_timeout:
        command_armed_ |= timeout_armed;
        break;
      case timer_kind::command_grace:
        command_armed_ |= grace_armed;
        break;
      default:
        break;
    }
    out_->emplace_back(set_timer_action{{kind, task, generation}, deadline});
  }
  void cancel(timer_kind kind, std::size_t task, std::uint32_t generation) {
    out_->emplace_back(cancel_timer_action{{kind, task, generation}});
  }
  /// Attempt `attempt` of `task` ended: its armed timers are cancelled.
  void cancel_attempt(std::size_t task, std::uint32_t attempt) {
    const auto armed = armed_[task];
    if ((armed & timeout_armed) != 0) {
      cancel(timer_kind::attempt_timeout, task, attempt);
    }
    if ((armed & grace_armed) != 0) {
      cancel(timer_kind::kill_grace, task, attempt);
    }
    armed_[task] = 0;
  }

  /// The kill sequence for `who`: attempt `attempt` of a task, or
  /// `the_command` (whose `attempt` is its run).
  void terminate(std::size_t who, std::uint32_t attempt, clock_time now);
  void signal(std::size_t who, std::uint32_t attempt, kill_signal s);
  /// `terminate` for a graceful stop; SIGKILL at once for an immediate one.
  void stop(std::size_t who, std::uint32_t attempt, stop_mode mode, clock_time now);
  /// A time limit or grace timer of the current attempt or command run
  /// fired (the caller checked that it is current): a time limit starts the
  /// kill sequence, a grace period ends it.
  void fired(const timer_id& id, clock_time now);

  /// A new run of the refresh or test command, limited to `timeout_s` (0:
  /// no limit).
  void start_command(double timeout_s, clock_time now);
  /// The command ended: its armed timers are cancelled. True if its time
  /// limit ended it.
  bool end_command();
  [[nodiscard]] std::uint32_t command_run() const noexcept { return command_run_; }

 private:
  static constexpr std::uint8_t timeout_armed = 1U;
  static constexpr std::uint8_t grace_armed = 2U;

  std::vector<action>* out_ = nullptr;
  std::vector<std::uint8_t> armed_;  // per task, the bits above; the command's below
  double grace_s_ = 0;
  std::uint32_t command_run_ = 0;
  std::uint8_t command_armed_ = 0;
  bool command_timed_out_ = false;
};

}  // namespace maestro::core
