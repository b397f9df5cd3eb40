#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_machine.hpp>

namespace maestro {

/// How much a message matters.
enum class severity { debug, info, warning, error };

constexpr auto enum_names(severity) noexcept {
  return core::make_enum_table<severity>({
      {severity::debug, "debug"},
      {severity::info, "info"},
      {severity::warning, "warning"},
      {severity::error, "error"},
  });
}

/// The status port: how the engine reports progress. The core never logs;
/// the runtime calls these on its strand, and the host decides what is shown
/// and where. Every member has an empty default.
class status_sink {
 public:
  status_sink() = default;
  status_sink(const status_sink&) = delete;
  status_sink& operator=(const status_sink&) = delete;
  virtual ~status_sink() = default;

  /// A run (`async_run`) begins: `stages` stages holding `tasks` tasks in
  /// all. Reports from then on are of that run's stages, several at once
  /// under `schedule: graph`.
  virtual void run_started(std::size_t /*stages*/, std::size_t /*tasks*/) {}
  /// A stage of the run holding `tasks` tasks will not run: it completed
  /// before, or `reason` says why not.
  virtual void stage_settled(std::string_view /*group_id*/, std::size_t /*tasks*/,
                             std::string_view /*reason*/) {}
  /// A group is about to start; `machine` holds its tasks.
  virtual void group_started(std::string_view /*group_id*/,
                             const core::group_machine& /*machine*/) {}
  /// A task's state changed.
  virtual void task_changed(std::string_view /*group_id*/, const core::group_machine& /*machine*/,
                            std::size_t /*task*/) {}
  /// An attempt's spawn returned at `at` (for latency measurements).
  virtual void attempt_launched(const core::group_machine& /*machine*/, std::size_t /*task*/,
                                core::clock_time /*at*/) {}
  /// The engine observed an attempt's exit at `at`.
  virtual void attempt_exited(const core::group_machine& /*machine*/, std::size_t /*task*/,
                              core::clock_time /*at*/) {}
  /// The group's `metadata.json` was written: `bytes` long; `spent` is the
  /// time the state store took since its previous report (recording the
  /// changes, serialising, writing). For measuring the cost of state.
  virtual void state_written(std::string_view /*group_id*/, std::size_t /*bytes*/,
                             std::chrono::nanoseconds /*spent*/) {}
  /// A group reached its terminal state.
  virtual void group_finished(std::string_view /*group_id*/,
                              const core::group_machine& /*machine*/) {}
  /// Anything else worth saying: a refresh that failed, a state write error.
  virtual void message(severity /*level*/, std::string_view /*text*/) {}
};

}  // namespace maestro
