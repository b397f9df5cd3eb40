#include "progress.hpp"

#include <fmt/core.h>

namespace maestro::app {
namespace {

using core::task_status;

std::size_t done_count(const core::group_machine& m) {
  return m.count(task_status::completed) + m.count(task_status::failed) +
         m.count(task_status::timed_out) + m.count(task_status::skipped) +
         m.count(task_status::cancelled);
}

std::string_view level_name(severity level) {
  switch (level) {
    case severity::debug:
      return "debug";
    case severity::info:
      return "info";
    case severity::warning:
      return "warning";
    case severity::error:
      return "error";
  }
  return "note";
}

}  // namespace

progress_reporter::progress_reporter(progress_style style, severity threshold)
    : style_(style), threshold_(threshold) {}

progress_reporter::~progress_reporter() {
  clear_line();
}

void progress_reporter::clear_line() {
  if (line_shown_) {
    fmt::print(stderr, "\r\x1b[K");
    line_shown_ = false;
  }
}

void progress_reporter::group_started(std::string_view group_id,
                                      const core::group_machine& machine) {
  clear_line();
  shown_.assign(machine.tasks().size(), {task_status::pending, 0});
  group_start_ = std::chrono::steady_clock::now();
  state_writes_ = 0;
  state_bytes_ = 0;
  state_spent_ = std::chrono::nanoseconds(0);
  fmt::print(stderr, "maestro-async: group {}: {} task{}\n", group_id, machine.tasks().size(),
             machine.tasks().size() == 1 ? "" : "s");
}

void progress_reporter::task_changed(std::string_view group_id, const core::group_machine& machine,
                                     std::size_t task) {
  const auto& st = machine.state(task);
  const auto& id = machine.tasks()[task].id;
  const bool retry_wait = st.status == task_status::queued && st.attempts > 0;
  const bool worth_a_line = st.status == task_status::running || core::is_terminal(st.status) ||
                            st.status == task_status::blocked || retry_wait;
  if (!worth_a_line) {
    return;
  }
  if (task < shown_.size()) {
    const std::pair now_shown{st.status, st.attempts};
    if (shown_[task] == now_shown) {
      return;  // the same state again: a pid learnt, a task closed
    }
    shown_[task] = now_shown;
  }
  std::string detail;
  if (!st.history.empty()) {
    detail = st.history.back().agent + ", attempt " + std::to_string(st.attempts);
  }
  if (core::is_terminal(st.status) && st.exit_code) {
    detail += ", exit code " + std::to_string(*st.exit_code);
  }
  if (st.started && st.finished && core::is_terminal(st.status)) {
    detail += fmt::format(", {:.2f} s",
                          std::chrono::duration<double>(*st.finished - *st.started).count());
  }
  if (!st.error.empty() && st.status != task_status::completed) {
    detail += ": " + st.error;
  }
  const auto status =
      retry_wait ? std::string("waiting to retry") : std::string(to_string(st.status));
  last_event_ = fmt::format("{} {}{}", id, status, detail.empty() ? "" : " (" + detail + ")");
  if (style_ == progress_style::line_per_event) {
    fmt::print(stderr, "[{}/{}] {}: {}\n", done_count(machine), machine.tasks().size(), group_id,
               last_event_);
    return;
  }
  draw(machine, core::is_terminal(st.status) && done_count(machine) == machine.tasks().size());
}

void progress_reporter::draw(const core::group_machine& machine, bool force) {
  // A terminal cannot show more than some tens of redraws a second.
  const auto now = std::chrono::steady_clock::now();
  if (!force && line_shown_ && now - last_draw_ < std::chrono::milliseconds(50)) {
    return;
  }
  last_draw_ = now;
  fmt::print(stderr, "\r\x1b[K[{}/{}] running: {} queued: {}  {}", done_count(machine),
             machine.tasks().size(), machine.running_count(), machine.queued_count(),
             last_event_.substr(0, 100));
  (void)std::fflush(stderr);  // a terminal that went away is not worth an error
  line_shown_ = true;
}

void progress_reporter::state_written(std::string_view /*group_id*/, std::size_t bytes,
                                      std::chrono::nanoseconds spent) {
  ++state_writes_;
  state_bytes_ += bytes;
  state_spent_ += spent;
}

void progress_reporter::group_finished(std::string_view group_id,
                                       const core::group_machine& machine) {
  clear_line();
  if (severity::info >= threshold_) {
    using seconds = std::chrono::duration<double>;
    const double total = seconds(std::chrono::steady_clock::now() - group_start_).count();
    const double state = seconds(state_spent_).count();
    fmt::print(stderr,
               "maestro-async: info: group {}: {:.3f} s; state store {:.3f} s ({:.1f}%), "
               "metadata.json written {} times, {} bytes in all\n",
               group_id, total, state, total > 0 ? 100 * state / total : 0.0, state_writes_,
               state_bytes_);
  }
  std::string counts;
  for (const auto s : {task_status::completed, task_status::failed, task_status::timed_out,
                       task_status::skipped, task_status::blocked, task_status::cancelled}) {
    if (const auto n = machine.count(s); n != 0) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(to_string(s));
    }
  }
  fmt::print(stderr, "maestro-async: group {}: {} ({}); tests: {}\n", group_id,
             to_string(machine.status()), counts, to_string(machine.tests()));
  for (const auto& w : machine.warnings()) {
    fmt::print(stderr, "maestro-async: group {}: warning: {}\n", group_id, w);
  }
  for (const auto& e : machine.errors()) {
    fmt::print(stderr, "maestro-async: group {}: error: {}\n", group_id, e);
  }
}

void progress_reporter::message(severity level, std::string_view text) {
  if (level < threshold_) {
    return;
  }
  clear_line();
  fmt::print(stderr, "maestro-async: {}: {}\n", level_name(level), text);
}

}  // namespace maestro::app
