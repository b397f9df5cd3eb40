#include <maestro/core/timer_book.hpp>

namespace maestro::core {

void timer_book::terminate(std::size_t who, std::uint32_t attempt, clock_time now) {
  signal(who, attempt, kill_signal::terminate);
  if (grace_s_ <= 0) {
    signal(who, attempt, kill_signal::kill);
  } else if (who == the_command) {
    set(timer_kind::command_grace, 0, command_run_, deadline_after(now, grace_s_));
  } else {
    set(timer_kind::kill_grace, who, attempt, deadline_after(now, grace_s_));
  }
}

void timer_book::signal(std::size_t who, std::uint32_t attempt, kill_signal s) {
  if (who == the_command) {
    out_->emplace_back(signal_command_action{s});
  } else {
    out_->emplace_back(signal_action{who, attempt, s});
  }
}

void timer_book::stop(std::size_t who, std::uint32_t attempt, stop_mode mode, clock_time now) {
  if (mode == stop_mode::immediate) {
    signal(who, attempt, kill_signal::kill);
  } else {
    terminate(who, attempt, now);
  }
}

void timer_book::fired(const timer_id& id, clock_time now) {
  switch (id.kind) {
    case timer_kind::attempt_timeout:
      armed_[id.task] &= static_cast<std::uint8_t>(~timeout_armed);
      terminate(id.task, id.generation, now);
      break;
    case timer_kind::kill_grace:
      armed_[id.task] &= static_cast<std::uint8_t>(~grace_armed);
      signal(id.task, id.generation, kill_signal::kill);
      break;
    case timer_kind::command_timeout:
      command_armed_ &= static_cast<std::uint8_t>(~timeout_armed);
      command_timed_out_ = true;
      terminate(the_command, command_run_, now);
      break;
    case timer_kind::command_grace:
      command_armed_ &= static_cast<std::uint8_t>(~grace_armed);
      signal(the_command, command_run_, kill_signal::kill);
      break;
    default:  // not a timer of the kill sequence
      break;
  }
}

void timer_book::start_command(double timeout_s, clock_time now) {
  ++command_run_;
  command_armed_ = 0;
  command_timed_out_ = false;
  if (timeout_s > 0) {
    set(timer_kind::command_timeout, 0, command_run_, deadline_after(now, timeout_s));
  }
}

bool timer_book::end_command() {
  if ((command_armed_ & timeout_armed) != 0) {
    cancel(timer_kind::command_timeout, 0, command_run_);
  }
  if ((command_armed_ & grace_armed) != 0) {
    cancel(timer_kind::command_grace, 0, command_run_);
  }
  command_armed_ = 0;
  return command_timed_out_;
}

}  // namespace maestro::core
