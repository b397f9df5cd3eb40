#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <maestro/status_sink.hpp>

namespace maestro::app {

/// How progress is shown.
enum class progress_style {
  live_line,      ///< one status line, redrawn in place (a terminal)
  line_per_event  ///< one line per event (not a terminal, or --no-progress)
};

/// The app's status sink: progress and messages on stderr.
class progress_reporter final : public status_sink {
 public:
  progress_reporter(progress_style style, severity threshold);
  ~progress_reporter() override;

  void group_started(std::string_view group_id, const core::group_machine& machine) override;
  void task_changed(std::string_view group_id, const core::group_machine& machine,
                    std::size_t task) override;
  void state_written(std::string_view group_id, std::size_t bytes,
                     std::chrono::nanoseconds spent) override;
  void group_finished(std::string_view group_id, const core::group_machine& machine) override;
  void message(severity level, std::string_view text) override;

 private:
  void draw(const core::group_machine& machine, bool force);
  void clear_line();

  progress_style style_;
  severity threshold_;
  bool line_shown_ = false;
  std::string last_event_;
  // What was last shown of each task of the current group: status, attempts.
  std::vector<std::pair<core::task_status, std::uint32_t>> shown_;
  std::chrono::steady_clock::time_point last_draw_{};
  // The cost of the current group's state files, told at `info` level.
  std::chrono::steady_clock::time_point group_start_{};
  std::size_t state_writes_ = 0;
  std::size_t state_bytes_ = 0;
  std::chrono::nanoseconds state_spent_{0};
};

}  // namespace maestro::app
