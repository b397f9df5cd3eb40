#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <maestro/core/task.hpp>

namespace maestro {

/// The task source port: where the tasks come from, and which of them close
/// while a group runs (a user closes a blocker in the tracker, or a task
/// that is still queued).
class task_source {
 public:
  /// Told, on the runtime's strand, of one id the source now shows closed.
  using closed_handler = std::function<void(const std::string& id)>;
  /// Asked, on the runtime's strand, which ids' closing matters now (the
  /// blockers still waited for, the tasks not started yet).
  using interest_query = std::function<std::vector<std::string>()>;
  /// Told of a problem worth a warning (a file that cannot be watched).
  using warning_handler = std::function<void(std::string_view text)>;

  /// Reports while it lives; destroying it stops the reports.
  class subscription {
   public:
    subscription() = default;
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    virtual ~subscription() = default;
  };

  task_source() = default;
  task_source(const task_source&) = delete;
  task_source& operator=(const task_source&) = delete;
  virtual ~task_source() = default;

  /// The tasks, in the source's order. Throws `core::input_error` for
  /// input that cannot be used.
  [[nodiscard]] virtual std::vector<core::task> load() = 0;

  /// Starts reporting the ids that close from now on: each id once, and
  /// none of `closed` (those known closed already). A source that must ask
  /// about each id (a tracker behind a CLI) asks `interest` which ones
  /// matter at that moment; one that reads everything anyway may report
  /// others. Null when the source cannot be watched (it said why through
  /// `on_warning`, if it matters).
  [[nodiscard]] virtual std::unique_ptr<subscription> watch(std::unordered_set<std::string> closed,
                                                            interest_query interest,
                                                            closed_handler on_closed,
                                                            warning_handler on_warning) = 0;
};

}  // namespace maestro
