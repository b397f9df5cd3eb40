#include "progress.hpp"

#include <algorithm>
#include <unistd.h>

#include <fmt/core.h>

#include <maestro/adapters/state_dir.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/names.hpp>

#include "terminal_text.hpp"

namespace maestro::app {
namespace {

using core::task_status;

std::size_t done_count(const core::group_machine& m) {
  return m.count(task_status::completed) + m.count(task_status::failed) +
         m.count(task_status::timed_out) + m.count(task_status::skipped) +
         m.count(task_status::cancelled);
}

// A message's level, as its line starts; "note" for a level beyond `error`.
std::string_view level_name(severity level) {
  return core::name_of(level, "note");
}

// How many lines of a failed task's log are shown, and how wide each may be.
constexpr std::size_t failure_log_lines = 10;
constexpr std::size_t failure_log_width = 500;

// The width used when the terminal does not say.
constexpr std::size_t default_width = 80;

// A task's log file in the group's directory (SPEC section 6: the id,
// encoded).
std::filesystem::path log_path_of(const std::filesystem::path& state_dir, std::string_view group_id,
                                  std::string_view task_id) {
  return group_dir(state_dir, group_id) / "logs" / core::log_file_name(task_id);
}

}  // namespace

progress_reporter::progress_reporter(progress_style style, severity threshold,
                                     std::filesystem::path state_dir, bool color)
    : style_(style), threshold_(threshold), state_dir_(std::move(state_dir)), color_(color) {}

std::string progress_reporter::paint(std::string_view text, std::string_view sgr) const {
  if (!color_) {
    return std::string(text);
  }
  return fmt::format("\x1b[{}m{}\x1b[0m", sgr, text);
}

progress_reporter::~progress_reporter() {
  clear_line();
}

void progress_reporter::clear_line() {
  if (line_shown_) {
    fmt::print(stderr, "\r\x1b[K");
    line_shown_ = false;
  }
}

void progress_reporter::run_started(std::size_t /*stages*/, std::size_t tasks) {
  whole_run_ = true;
  total_ = tasks;
  done_ = running_ = queued_ = 0;
}

void progress_reporter::stage_settled(std::string_view /*group_id*/, std::size_t tasks,
                                      std::string_view /*reason*/) {
  done_ += tasks;
}

progress_reporter::group_view* progress_reporter::view_of(std::string_view group_id) {
  const auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

void progress_reporter::count(group_view& view, const core::group_machine& machine) {
  const auto done = done_count(machine);
  done_ = done_ - view.done + done;
  running_ = running_ - view.running + machine.running_count();
  queued_ = queued_ - view.queued + machine.count(task_status::queued);
  view.done = done;
  view.running = machine.running_count();
  view.queued = machine.count(task_status::queued);
}

void progress_reporter::group_started(std::string_view group_id,
                                      const core::group_machine& machine) {
  clear_line();
  if (!whole_run_) {
    // One group at a time (`execute`): the line counts its tasks.
    groups_.clear();
    total_ = machine.tasks().size();
    done_ = running_ = queued_ = 0;
  }
  auto& view = groups_[std::string(group_id)];
  view.shown.assign(machine.tasks().size(), {task_status::pending, 0});
  view.total = machine.tasks().size();
  view.start = std::chrono::steady_clock::now();
  count(view, machine);
  fmt::print(stderr, "maestro-async: group {}: {} task{}\n", core::printable(group_id),
             machine.tasks().size(), machine.tasks().size() == 1 ? "" : "s");
}

void progress_reporter::task_changed(std::string_view group_id, const core::group_machine& machine,
                                     std::size_t task) {
  auto* view = view_of(group_id);
  if (view != nullptr) {
    count(*view, machine);
  }
  const auto& st = machine.state(task);
  const auto& id = machine.tasks()[task].id;
  const bool retry_wait = st.status == task_status::queued && st.attempts > 0;
  const bool worth_a_line = st.status == task_status::running || core::is_terminal(st.status) ||
                            st.status == task_status::blocked || retry_wait;
  if (!worth_a_line) {
    return;
  }
  if (view != nullptr && task < view->shown.size()) {
    const std::pair now_shown{st.status, st.attempts};
    if (view->shown[task] == now_shown) {
      return;  // the same state again: a pid learnt, a task closed
    }
    view->shown[task] = now_shown;
  }
  std::string detail;
  if (!st.history.empty()) {
    detail = core::printable(st.history.back().agent) + ", attempt " + std::to_string(st.attempts);
  }
  if (core::is_terminal(st.status) && st.exit_code) {
    detail += ", exit code " + std::to_string(*st.exit_code);
  }
  if (st.started && st.finished && core::is_terminal(st.status)) {
    detail += fmt::format(", {:.2f} s",
                          std::chrono::duration<double>(*st.finished - *st.started).count());
  }
  if (!st.error.empty() && st.status != task_status::completed) {
    detail += ": " + core::printable(st.error);
  }
  const auto status =
      retry_wait ? std::string("waiting to retry") : std::string(to_string(st.status));
  last_event_ = fmt::format("{} {}{}", core::printable(id), status,
                            detail.empty() ? "" : " (" + detail + ")");
  const auto event =
      fmt::format("[{}/{}] {}: {}", done_, total_, core::printable(group_id), last_event_);
  if (st.status == task_status::failed || st.status == task_status::timed_out) {
    print_failure(group_id, machine, task, event);
  } else if (style_ == progress_style::line_per_event) {
    fmt::print(stderr, "{}\n", event);
  }
  if (style_ == progress_style::line_per_event) {
    return;
  }
  draw(core::is_terminal(st.status) && done_ == total_);
}

void progress_reporter::draw(bool force) {
  // A terminal cannot show more than some tens of redraws a second.
  const auto now = std::chrono::steady_clock::now();
  if (!force && line_shown_ && now - last_draw_ < std::chrono::milliseconds(50)) {
    return;
  }
  last_draw_ = now;
  // Asked at each redraw, so that the line follows resizes. The last column
  // stays free: writing there leaves some terminals about to wrap.
  auto width = terminal_width(STDERR_FILENO);
  if (width == 0) {
    width = default_width;
  }
  std::string stages;
  if (whole_run_ && !groups_.empty()) {
    // The stages that run: the first few by name, then how many more.
    constexpr std::size_t named = 3;
    std::size_t k = 0;
    for (const auto& [id, view] : groups_) {
      if (k++ == named) {
        stages += fmt::format(" +{}", groups_.size() - named);
        break;
      }
      stages += (k == 1 ? " stages: " : ", ") + core::printable(id);
    }
  }
  const auto line = fmt::format("[{}/{}] running: {} queued: {}{}  {}", done_, total_, running_,
                                queued_, stages, last_event_);
  fmt::print(stderr, "\r{}\x1b[K", fit_to_width(line, width - 1));
  (void)std::fflush(stderr);  // a terminal that went away is not worth an error
  line_shown_ = true;
}

void progress_reporter::print_failure(std::string_view group_id, const core::group_machine& machine,
                                      std::size_t task, const std::string& event) {
  clear_line();
  std::string block = paint("FAILED:", "1;31") + " " + event + "\n";
  const auto path = log_path_of(state_dir_, group_id, machine.tasks()[task].id);
  const auto shown_path = core::printable(path.string());
  if (const auto lines = tail_lines(path, failure_log_lines); !lines) {
    block += fmt::format("  (no log at {})\n", shown_path);
  } else if (lines->empty()) {
    block += fmt::format("  (empty log: {})\n", shown_path);
  } else {
    block += fmt::format("  last {} line{} of {}:\n", lines->size(), lines->size() == 1 ? "" : "s",
                         shown_path);
    for (const auto& l : *lines) {
      block += "    " + fit_to_width(core::printable(l), failure_log_width) + "\n";
    }
  }
  fmt::print(stderr, "{}", block);
  (void)std::fflush(stderr);
}

void progress_reporter::state_written(std::string_view group_id, std::size_t bytes,
                                      std::chrono::nanoseconds spent) {
  if (auto* view = view_of(group_id)) {
    ++view->state_writes;
    view->state_bytes += bytes;
    view->state_spent += spent;
  }
}

void progress_reporter::group_finished(std::string_view group_id,
                                       const core::group_machine& machine) {
  clear_line();
  if (const auto it = groups_.find(group_id); it != groups_.end()) {
    auto& view = it->second;
    count(view, machine);
    if (severity::info >= threshold_) {
      using seconds = std::chrono::duration<double>;
      const double total = seconds(std::chrono::steady_clock::now() - view.start).count();
      const double state = seconds(view.state_spent).count();
      fmt::print(stderr,
                 "maestro-async: info: group {}: {:.3f} s; state store {:.3f} s ({:.1f}%), "
                 "metadata.json written {} times, {} bytes in all\n",
                 core::printable(group_id), total, state, total > 0 ? 100 * state / total : 0.0,
                 view.state_writes, view.state_bytes);
    }
    // Its tasks count as done from now on, whatever their status.
    done_ = done_ - view.done + view.total;
    running_ -= view.running;
    queued_ -= view.queued;
    groups_.erase(it);
  }
  std::string counts;
  for (const auto s : {task_status::completed, task_status::failed, task_status::timed_out,
                       task_status::skipped, task_status::blocked, task_status::cancelled}) {
    if (const auto n = machine.count(s); n != 0) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(to_string(s));
    }
  }
  const auto status = std::string(to_string(machine.status()));
  const auto shown_status = machine.status() == core::group_status::completed ? paint(status, "32")
                            : machine.status() == core::group_status::failed  ? paint(status, "31")
                                                                              : status;
  const auto group = core::printable(group_id);
  fmt::print(stderr, "maestro-async: group {}: {} ({}); tests: {}\n", group, shown_status, counts,
             to_string(machine.tests()));
  for (const auto& w : machine.warnings()) {
    fmt::print(stderr, "maestro-async: group {}: warning: {}\n", group, core::printable(w));
  }
  for (const auto& e : machine.errors()) {
    fmt::print(stderr, "maestro-async: group {}: error: {}\n", group, core::printable(e));
  }
}

void progress_reporter::message(severity level, std::string_view text) {
  if (level < threshold_) {
    return;
  }
  clear_line();
  fmt::print(stderr, "maestro-async: {}: {}\n", level_name(level), core::printable(text));
}

}  // namespace maestro::app
