// The group machine's event handlers; the steps they take are in
// group_steps.cpp. The tasks' states (task_board), slots (agent_slots),
// timers and the kill sequence (timer_book), the lifecycle and the verdict
// (group_lifecycle), the queue, dependencies and retries are types of
// their own.

#include <utility>

#include <maestro/core/group_machine.hpp>

namespace maestro::core {

std::vector<action> group_machine::handle(const event& e) {
  std::vector<action> actions;
  if (is_finished()) {
    return actions;
  }
  out_ = &actions;
  timers_.write_to(&actions);
  std::visit([this, &e](const auto& body) { on(body, e.now); }, e.body);
  // The runtime reads the state after the event: one report of each
  // change is enough.
  board_.report_changes(actions);
  if (is_finished()) {
    actions.emplace_back(finished_action{status()});
  }
  out_ = nullptr;
  timers_.write_to(nullptr);
  return actions;
}

void group_machine::on(const start_event& /*e*/, clock_time now) {
  if (life_ != group_lifecycle::pending) {
    return;
  }
  life_ = group_lifecycle::starting;
  board_.group_changed();
  if (!settings_.timeout_from_first_launch) {
    arm_group_timeout(now);
  }
  if (parallel_ && settings_.refresh) {
    run_command(group_lifecycle::refreshing, settings_.refresh_timeout_s, now);
    return;
  }
  begin_tasks(now);
}

void group_machine::on(const refresh_done_event& e, clock_time now) {
  if (life_ != group_lifecycle::refreshing || command_waiting_) {
    return;
  }
  const bool timed_out = timers_.end_command();
  if (stopping()) {  // cancelled, timed out or halted
    cancel_group_timers();
    if (stop_ == stop_reason::cancelled) {
      finish_group(group_lifecycle::dropped);
    } else {
      conclude();
    }
    return;
  }
  const std::string& detail = timed_out ? "timed out" : e.detail;
  board_.group_changed();
  if (e.ok && !timed_out) {
    refresh_completed_ = true;
  } else if (settings_.refresh_required) {
    errors_.push_back("refresh failed: " + detail);
    end_tasks(task_status::skipped, "not run: the required refresh failed", now, true);
    cancel_group_timers();
    conclude();
    return;
  } else {
    warnings_.push_back("refresh failed (not required): " + detail);
  }
  begin_tasks(now);
}

void group_machine::on(const launched_event& e, clock_time /*now*/) {
  if (board_.is_current(e.task, e.attempt)) {
    board_[e.task].pid = e.pid;
    board_[e.task].pgid = e.pgid;
    board_.changed(e.task);
  }
}

void group_machine::on(const launch_failed_event& e, clock_time now) {
  if (board_.is_current(e.task, e.attempt)) {
    board_[e.task].history.back().error = e.error;
    after_attempt(e.task, now);
  }
}

void group_machine::on(const exited_event& e, clock_time now) {
  if (!board_.is_current(e.task, e.attempt) || board_[e.task].integrating) {
    return;
  }
  board_.attempt_exited(e.task, e.exit_code, e.signal);
  const auto& attempt = board_[e.task].history.back();
  if (settings_.integrate && attempt.exit_code == 0 && !attempt.timed_out &&
      attempt.error.empty() && stop_ != stop_reason::cancelled && stop_ != stop_reason::timed_out) {
    // Its work is merged before it counts as completed; the agent is gone,
    // so its slot is free meanwhile.
    release_attempt(e.task);
    board_[e.task].integrating = true;
    board_.changed(e.task);
    out_->emplace_back(integrate_action{e.task, e.attempt});
    dispatch(now);
    return;
  }
  after_attempt(e.task, now);
}

void group_machine::on(const workspace_ready_event& e, clock_time /*now*/) {
  if (board_.is_current(e.task, e.attempt)) {
    auto& attempt = board_[e.task].history.back();
    attempt.worktree = e.worktree;
    attempt.branch = e.branch;
    board_.changed(e.task);
  }
}

void group_machine::on(const placed_event& e, clock_time /*now*/) {
  if (board_.is_current(e.task, e.attempt)) {
    board_[e.task].history.back().job_id = e.job_id;
    board_.changed(e.task);
  }
}

void group_machine::on(const integrated_event& e, clock_time now) {
  if (!board_.is_current(e.task, e.attempt) || !board_[e.task].integrating) {
    return;
  }
  auto& st = board_[e.task];
  st.integrating = false;
  if (e.error.empty()) {
    // Merged: completed, even when the group stops meanwhile (its work is
    // in the group's branch, and must not be run again).
    st.error.clear();
    finish_task(e.task, task_status::completed, now, false);
    dispatch(now);
    maybe_post_execution(now);
    return;
  }
  st.history.back().error = e.error;
  settle_attempt(e.task, now);
}

void group_machine::on(const group_integrated_event& e, clock_time /*now*/) {
  if (life_ != group_lifecycle::integrating) {
    return;
  }
  group_integrated_ = true;
  if (!e.error.empty()) {
    errors_.push_back(e.error);
  }
  board_.group_changed();
  conclude();
}

void group_machine::on(const timer_event& e, clock_time now) {
  const auto& id = e.id;
  switch (id.kind) {
    case timer_kind::attempt_timeout:
    case timer_kind::kill_grace:
      if (board_.is_current(id.task, id.generation)) {
        if (id.kind == timer_kind::attempt_timeout) {
          board_[id.task].history.back().timed_out = true;
        }
        timers_.fired(id, now);  // the kill sequence: SIGTERM, or SIGKILL after the grace
      }
      return;
    case timer_kind::command_timeout:
    case timer_kind::command_grace:
      if ((life_ == group_lifecycle::refreshing || life_ == group_lifecycle::testing) &&
          id.generation == timers_.command_run()) {
        timers_.fired(id, now);
      }
      return;
    case timer_kind::requeue: {
      const auto& st = board_.at(id.task);
      if (st.status == task_status::queued && id.generation == st.attempts &&
          ready_.end_delay(id.task)) {
        enqueue(id.task);
        dispatch(now);
      }
      return;
    }
    case timer_kind::group_timeout:
      group_timer_armed_ = false;
      if (phase() == group_phase::post_execution || stopping()) {
        return;
      }
      stop(stop_reason::timed_out);
      errors_.push_back("group timed out after " + std::to_string(settings_.group_timeout_s) +
                        " s");
      for (const auto i : board_.with_status(task_status::running)) {
        if (!board_[i].integrating) {  // a merge under way ends on its own
          board_[i].history.back().timed_out = true;
          timers_.terminate(i, board_[i].attempts, now);
        }
      }
      end_tasks(task_status::skipped, "not run: the group timed out", now);
      wind_down(now);
      return;
    case timer_kind::blocked_wait:
      if (deps_.waiting_for_blockers()) {
        end_waiting_for_blockers();
        maybe_post_execution(now);
      }
      return;
  }
}

void group_machine::on(const claim_refused_event& e, clock_time now) {
  if (!board_.is_current(e.task, e.attempt)) {
    return;
  }
  // Another actor holds it: the attempt ends before its launch, and the
  // task is not to be run (no retry, no fallback).
  auto& st = board_[e.task];
  slots_.release(current_agent(e.task));
  timers_.cancel_attempt(e.task, st.attempts);
  st.error = "claimed by " + e.holder;
  st.history.back().error = st.error;
  finish_task(e.task,
              stop_ == stop_reason::cancelled ? task_status::cancelled : task_status::skipped, now,
              false);
  dispatch(now);
  maybe_post_execution(now);
}

void group_machine::on(const source_closed_event& e, clock_time now) {
  // A blocker outside the run closed.
  deps_.blocker_closed(e.id, [this](std::size_t i) {
    if (board_[i].status == task_status::blocked && deps_.waiting_for_blockers() && !stopping() &&
        !deps_.has_blockers(i)) {
      if (deps_.unmet(i) == 0) {
        make_ready(i);
      } else {
        board_.set_status(i, task_status::pending);
      }
    }
  });
  // A task of this group closed in the tracker before it ran.
  if (const auto i = deps_.index_of(e.id); i != dependency_tracker::npos) {
    const auto s = board_[i].status;
    if (s == task_status::queued || s == task_status::pending || s == task_status::blocked) {
      board_[i].error = "closed in the tracker before it ran";
      board_[i].closed_in_tracker = true;
      finish_task(i, task_status::skipped, now, true);
    }
  }
  dispatch(now);
  maybe_post_execution(now);
}

void group_machine::on(const tests_done_event& e, clock_time /*now*/) {
  if (life_ != group_lifecycle::testing || command_waiting_) {
    return;
  }
  const bool timed_out = timers_.end_command();
  if (stop_ == stop_reason::cancelled) {
    finish_group(group_lifecycle::finished);
    return;
  }
  auto report = report_tests(e, timed_out, settings_.test_required);
  test_status_ = report.status;
  if (!report.error.empty()) {
    errors_.push_back(std::move(report.error));
  } else if (!report.warning.empty()) {
    warnings_.push_back(std::move(report.warning));
  }
  board_.group_changed();
  conclude();
}

void group_machine::on(const close_done_event& e, clock_time /*now*/) {
  if (life_ != group_lifecycle::closing) {
    return;
  }
  for (const auto i : e.closed) {
    board_.at(i).closed_in_tracker = true;
    board_.changed(i);
  }
  for (const auto k : e.closed_epics) {
    epic_closed_.at(k) = true;
  }
  // A refusal is the tracker's word on a task that completed here: an
  // error of the group, which stays completed (SPEC section 10).
  for (const auto& error : e.errors) {
    errors_.push_back("closing: " + error);
  }
  finish_group(group_lifecycle::finished);
}

void group_machine::on(const release_done_event& e, clock_time /*now*/) {
  if (life_ != group_lifecycle::releasing) {
    return;
  }
  for (const auto& error : e.errors) {
    errors_.push_back("releasing: " + error);
  }
  finish_group(after_release_);
}

void group_machine::on(const stop_event& e, clock_time now) {
  if (life_ == group_lifecycle::integrating) {
    // Too late to stop: the integration branch is taking the tested work,
    // and the group ends as that decides.
    return;
  }
  const std::string error = "cancelled" + (e.reason.empty() ? std::string{} : ": " + e.reason);
  if (life_ == group_lifecycle::pending) {
    stop(stop_reason::cancelled);
    errors_.push_back(error);
    finish_group(group_lifecycle::dropped);
    return;
  }
  if (stop_ != stop_reason::cancelled) {
    stop(stop_reason::cancelled);
    errors_.push_back(error);
    end_tasks(task_status::cancelled, {}, now);
    deps_.set_waiting_for_blockers(false);
    board_.group_changed();
  }
  // One kill sequence for the agents and the command alike.
  for (const auto i : board_.with_status(task_status::running)) {
    if (!board_[i].integrating) {  // a merge under way ends on its own
      timers_.stop(i, board_[i].attempts, e.mode, now);
    }
  }
  if (command_waiting_) {
    abandon_command();  // its turn has not come: it ends without the command
    return;
  }
  if (life_ == group_lifecycle::refreshing || life_ == group_lifecycle::testing) {
    timers_.stop(timer_book::the_command, timers_.command_run(), e.mode, now);
  }
  if (!awaits_command(life_)) {
    maybe_post_execution(now);
  }
}

void group_machine::on(const halt_event& e, clock_time now) {
  if (halt_noted_) {
    return;
  }
  halt_noted_ = true;
  errors_.push_back(e.reason);
  board_.group_changed();
  const bool started = life_ != group_lifecycle::pending;
  if (started && (phase() == group_phase::post_execution || stopping())) {
    stop(stop_reason::halted);
    if (command_waiting_ && life_ == group_lifecycle::testing) {
      abandon_command();  // the tests had not started: they are not run
    }
    return;  // tests, closing or a stop are under way: they end the group
  }
  stop(stop_reason::halted);
  end_tasks(task_status::skipped, "not run: " + e.reason, now);
  if (started) {
    wind_down(now);
  } else {
    conclude();  // before the start: nothing runs at all
  }
}

void group_machine::on(const room_event& /*e*/, clock_time now) {
  if (life_ == group_lifecycle::running) {
    dispatch(now);
  }
}

void group_machine::on(const launch_granted_event& e, clock_time now) {
  if (!takes_launches() || e.task >= tasks_.size() ||
      board_[e.task].status != task_status::queued ||
      !ready_.erase(current_agent(e.task), rank(e.task), e.task)) {
    return;  // not queued, or delayed: the scheduler asked for what it cannot have
  }
  launch(e.task, now);
}

void group_machine::on(const command_granted_event& /*e*/, clock_time now) {
  if (!command_waiting_) {
    return;
  }
  run_command(life_, command_timeout_s_, now);
}

}  // namespace maestro::core
