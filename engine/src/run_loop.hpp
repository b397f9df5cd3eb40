#pragma once

// The state of one `run` under the run-level scheduler: the scheduler
// (core), its event queue, and per stage the lock and the group runner
// that carries out the actions of the stage's group.

#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <maestro/coordinator.hpp>
#include <maestro/core/run_scheduler.hpp>

#include "group_runner.hpp"

namespace maestro {

struct coordinator::prepared_stage {
  std::unique_ptr<state_repository::lock> lock;
  detail::group_request request;
};

struct coordinator::run_loop {
  run_loop(const executor_type& strand, core::run_scheduler scheduler_in, engine_clock& clock_in)
      : scheduler(std::move(scheduler_in)),
        wake(strand),
        clock(clock_in),
        runners(scheduler.stage_count()),
        locks(scheduler.stage_count()),
        outcomes(scheduler.stage_count()),
        notes(scheduler.stage_count()) {}

  /// Queues an event for the scheduler, and wakes the loop.
  void push(core::run_event_body body) {
    queue.push_back({clock.now(), std::move(body)});
    if (waiting) {
      wake.cancel();
    }
  }

  core::run_scheduler scheduler;
  std::deque<core::run_event> queue;
  boost::asio::steady_timer wake;  // never expires: cancelled to wake the loop
  bool waiting = false;
  engine_clock& clock;
  // Per stage: its runner and its lock, from its opening to its end; its
  // outcome, and the note on a completed stage that gained tasks.
  std::vector<std::unique_ptr<detail::group_runner>> runners;
  std::vector<std::unique_ptr<state_repository::lock>> locks;
  std::vector<group_outcome> outcomes;
  std::vector<std::string> notes;
  /// The first refusal (a stage running elsewhere, damaged state), thrown
  /// once every stage has ended.
  std::exception_ptr refusal;
  std::size_t opening = 0;  // stages being opened
  bool finished = false;    // the scheduler said so
};

}  // namespace maestro
