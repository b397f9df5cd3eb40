#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <maestro/ports/status_sink.hpp>

namespace maestro::app {

/// How progress is shown.
enum class progress_style {
  live_line,      ///< one status line, redrawn in place (a terminal)
  line_per_event  ///< one line per event (not a terminal, or --no-progress)
};

/// The app's status sink: progress and messages on stderr.
///
/// On a terminal (`live_line`), one status line is redrawn in place as
/// ninja does: `\r`, the text cut to the terminal's width (asked again at
/// each redraw, so it follows resizes), `\x1b[K`. Each failure (a task
/// that ends failed or timed_out) is printed for good above that line as it
/// happens, `FAILED: ...` with the last lines of the task's log; in
/// `line_per_event` mode it is printed the same way, in place of its line.
/// Text from the input goes through core::printable().
///
/// Under `run`, the line covers the whole run (`run_started`): done/total
/// over every stage, the tasks running and queued in all of them, and the
/// stages that run, several at once under `schedule: graph`.
class progress_reporter final : public status_sink {
 public:
  /// `state_dir` is where task logs are found; `color` turns on colour
  /// (the FAILED marker in red, a completed group in green).
  progress_reporter(progress_style style, severity threshold, std::filesystem::path state_dir,
                    bool color);
  ~progress_reporter() override;

  void run_started(std::size_t stages, std::size_t tasks) override;
  void stage_settled(std::string_view group_id, std::size_t tasks,
                     std::string_view reason) override;
  void group_started(std::string_view group_id, const core::group_machine& machine) override;
  void task_changed(std::string_view group_id, const core::group_machine& machine,
                    std::size_t task) override;
  void state_written(std::string_view group_id, std::size_t bytes,
                     std::chrono::nanoseconds spent) override;
  void group_finished(std::string_view group_id, const core::group_machine& machine) override;
  void message(severity level, std::string_view text) override;

 private:
  /// What is shown of one running group.
  struct group_view {
    // What was last shown of each task: status, attempts.
    std::vector<std::pair<core::task_status, std::uint32_t>> shown;
    std::size_t total = 0;
    std::size_t done = 0;
    std::size_t running = 0;
    std::size_t queued = 0;
    // The cost of its state files, told at `info` level.
    std::chrono::steady_clock::time_point start{};
    std::size_t state_writes = 0;
    std::size_t state_bytes = 0;
    std::chrono::nanoseconds state_spent{0};
  };
  /// Brings the counts of `view` (and the run's) up to `machine`'s.
  void count(group_view& view, const core::group_machine& machine);
  [[nodiscard]] group_view* view_of(std::string_view group_id);
  void draw(bool force);
  void clear_line();
  void print_failure(std::string_view group_id, const core::group_machine& machine,
                     std::size_t task, const std::string& event);
  [[nodiscard]] std::string paint(std::string_view text, std::string_view sgr) const;

  progress_style style_;
  severity threshold_;
  std::filesystem::path state_dir_;
  bool color_;
  bool line_shown_ = false;
  std::string last_event_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::map<std::string, group_view, std::less<>> groups_;  // the running groups
  // The run's counts (the group's, outside a run): every task of its
  // stages, those done (in running groups, groups that ended and stages
  // settled), and those running and queued in the running groups.
  bool whole_run_ = false;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t running_ = 0;
  std::size_t queued_ = 0;
};

}  // namespace maestro::app
