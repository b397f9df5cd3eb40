// The group machine's event handlers. What they do to tasks, slots, timers
// and commands, and how a group ends, is in group_steps.cpp; limits,
// queue, dependencies and retries are types of their own.

#include <maestro/core/group_machine.hpp>

namespace maestro::core {

std::vector<action> group_machine::handle(const event& e) {
  std::vector<action> actions;
  if (is_finished()) {
    return actions;
  }
  out_ = &actions;
  std::visit([this, &e](const auto& body) { on(body, e.now); }, e.body);
  // The runtime reads the state after the event: one report of each
  // change is enough.
  if (group_dirty_) {
    actions.emplace_back(group_changed_action{});
    group_dirty_ = false;
  }
  for (const auto task : dirty_) {
    actions.emplace_back(task_changed_action{task});
    is_dirty_[task] = false;
  }
  dirty_.clear();
  if (is_finished()) {
    actions.emplace_back(finished_action{status()});
  }
  out_ = nullptr;
  return actions;
}

// --- events ---------------------------------------------------------------

void group_machine::on(const start_event& /*e*/, clock_time now) {
  if (life_ != group_lifecycle::pending) {
    return;
  }
  life_ = group_lifecycle::starting;
  group_dirty_ = true;
  if (settings_.group_timeout_s > 0) {
    set_timer(timer_kind::group_timeout, 0, 0, deadline_after(now, settings_.group_timeout_s));
  }
  if (parallel_ && settings_.refresh) {
    run_command(group_lifecycle::refreshing, settings_.refresh_timeout_s, now);
    return;
  }
  begin_tasks(now);
}

void group_machine::on(const refresh_done_event& e, clock_time now) {
  if (life_ != group_lifecycle::refreshing) {
    return;
  }
  const bool timed_out = end_command();
  if (stop_ == stop_reason::cancelled) {
    cancel_group_timers();
    finish_group(group_lifecycle::dropped);
    return;
  }
  if (stopping()) {  // the group timed out, or halted
    cancel_group_timers();
    conclude(now);
    return;
  }
  const std::string& detail = timed_out ? "timed out" : e.detail;
  if (e.ok && !timed_out) {
    refresh_completed_ = true;
  } else if (settings_.refresh_required) {
    errors_.push_back("refresh failed: " + detail);
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (!is_terminal(states_[i].status)) {
        states_[i].error = "not run: the required refresh failed";
        finish_task(i, task_status::skipped, now, false);
      }
    }
    group_dirty_ = true;
    cancel_group_timers();
    conclude(now);
    return;
  } else {
    warnings_.push_back("refresh failed (not required): " + detail);
  }
  group_dirty_ = true;
  begin_tasks(now);
}

void group_machine::begin_tasks(clock_time now) {
  life_ = group_lifecycle::starting;
  group_dirty_ = true;
  bool any_blocked = false;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (is_terminal(states_[i].status)) {
      continue;
    }
    if (deps_.has_blockers(i)) {
      set_status(i, task_status::blocked);
      any_blocked = true;
      changed(i);
    } else if (deps_.unmet(i) == 0) {
      make_ready(i);
    }
  }
  if (any_blocked) {
    if (settings_.blocked_wait_s > 0) {
      deps_.set_waiting_for_blockers(true);
      set_timer(timer_kind::blocked_wait, 0, 0, deadline_after(now, settings_.blocked_wait_s));
    } else {
      end_waiting_for_blockers();
    }
  }
  dispatch(now);
  life_ = group_lifecycle::running;
  maybe_post_execution(now);
}

void group_machine::on(const launched_event& e, clock_time /*now*/) {
  auto& st = states_.at(e.task);
  if (st.status != task_status::running || e.attempt != st.attempts) {
    return;
  }
  st.pid = e.pid;
  st.pgid = e.pgid;
  changed(e.task);
}

void group_machine::on(const launch_failed_event& e, clock_time now) {
  auto& st = states_.at(e.task);
  if (st.status != task_status::running || e.attempt != st.attempts) {
    return;
  }
  st.history.back().error = e.error;
  release(e.task);
  cancel_attempt_timers(e.task);
  after_attempt(e.task, now);
}

void group_machine::on(const exited_event& e, clock_time now) {
  auto& st = states_.at(e.task);
  if (st.status != task_status::running || e.attempt != st.attempts) {
    return;
  }
  auto& attempt = st.history.back();
  attempt.exit_code = e.exit_code;
  attempt.signal = e.signal;
  st.exit_code = e.exit_code;
  st.pid = 0;
  release(e.task);
  cancel_attempt_timers(e.task);
  after_attempt(e.task, now);
}

void group_machine::after_attempt(std::size_t task, clock_time now) {
  auto& st = states_[task];
  const auto& attempt = st.history.back();
  if (stop_ == stop_reason::cancelled) {
    finish_task(task, task_status::cancelled, now, false);
  } else if (stop_ == stop_reason::timed_out) {
    st.error = "the group timed out";
    finish_task(task, task_status::timed_out, now, false);
  } else if (attempt.error.empty() && !attempt.timed_out && attempt.exit_code == 0) {
    st.error.clear();
    finish_task(task, task_status::completed, now, false);
  } else if (stop_ == stop_reason::halted) {
    // Nothing more is launched: no retry, no fallback.
    st.error = attempt.error.empty() ? "not retried: the group halted" : attempt.error;
    finish_task(task, attempt.timed_out ? task_status::timed_out : task_status::failed, now, false);
  } else {
    const auto step =
        retry_.next({attempt.error.empty(), attempt.timed_out, attempt.exit_code},
                    {st.chain_position, tasks_[task].chain.size(), st.round, st.tempfails});
    switch (step.kind) {
      case retry_kind::cool_down:  // EX_TEMPFAIL: not a failure; the same agent later
        ++st.tempfails;
        requeue_later(task, step.delay_s, now);
        break;
      case retry_kind::next_agent:
        ++st.chain_position;
        make_ready(task);
        break;
      case retry_kind::retry:
        ++st.round;
        st.chain_position = 0;
        requeue_later(task, step.delay_s, now);
        break;
      case retry_kind::give_up: {
        const auto n = st.history.size();
        st.error = "attempt " + std::to_string(attempt.number) + " (" + attempt.agent +
                   "): " + describe(attempt);
        errors_.push_back("task " + tasks_[task].id + " " +
                          (attempt.timed_out ? "timed out" : "failed") + " after " +
                          std::to_string(n) + " attempt" + (n == 1 ? "" : "s") + ": " + st.error);
        finish_task(task, attempt.timed_out ? task_status::timed_out : task_status::failed, now,
                    false);
        break;
      }
    }
  }
  dispatch(now);
  maybe_post_execution(now);
}

void group_machine::on(const timer_event& e, clock_time now) {
  const auto& id = e.id;
  switch (id.kind) {
    case timer_kind::attempt_timeout:
    case timer_kind::kill_grace: {
      auto& st = states_.at(id.task);
      if (st.status != task_status::running || id.generation != st.attempts) {
        return;
      }
      if (id.kind == timer_kind::kill_grace) {
        attempt_timers_[id.task] &= static_cast<std::uint8_t>(~grace_armed);
        signal(id.task, kill_signal::kill);
        return;
      }
      attempt_timers_[id.task] &= static_cast<std::uint8_t>(~timeout_armed);
      st.history.back().timed_out = true;
      terminate(id.task, now);
      return;
    }
    case timer_kind::requeue: {
      auto& st = states_.at(id.task);
      if (!delayed_[id.task] || st.status != task_status::queued || id.generation != st.attempts) {
        return;
      }
      delayed_[id.task] = false;
      --waiting_delay_;
      enqueue(id.task);
      dispatch(now);
      return;
    }
    case timer_kind::group_timeout:
      if (phase() == group_phase::post_execution || stopping()) {
        return;
      }
      stop(stop_reason::timed_out);
      errors_.push_back("group timed out after " + std::to_string(settings_.group_timeout_s) +
                        " s");
      for (std::size_t i = 0; i < tasks_.size(); ++i) {
        if (states_[i].status == task_status::running) {
          states_[i].history.back().timed_out = true;
          terminate(i, now);
        }
      }
      skip_unstarted("not run: the group timed out", now);
      wind_down(now);
      return;
    case timer_kind::blocked_wait:
      if (deps_.waiting_for_blockers()) {
        end_waiting_for_blockers();
        maybe_post_execution(now);
      }
      return;
    case timer_kind::command_timeout:
    case timer_kind::command_grace:
      if ((life_ != group_lifecycle::refreshing && life_ != group_lifecycle::testing) ||
          id.generation != command_run_) {
        return;
      }
      if (id.kind == timer_kind::command_grace) {
        command_grace_armed_ = false;
        signal(the_command, kill_signal::kill);
        return;
      }
      command_timed_out_ = true;
      terminate(the_command, now);
      return;
  }
}

void group_machine::on(const source_closed_event& e, clock_time now) {
  // A blocker outside the run closed.
  deps_.blocker_closed(e.id, [this](std::size_t i) {
    if (states_[i].status == task_status::blocked && deps_.waiting_for_blockers() && !stopping() &&
        !deps_.has_blockers(i)) {
      if (deps_.unmet(i) == 0) {
        make_ready(i);
      } else {
        set_status(i, task_status::pending);
        changed(i);
      }
    }
  });
  // A task of this group closed in the tracker before it ran.
  if (const auto i = deps_.index_of(e.id); i != dependency_tracker::npos) {
    const auto s = states_[i].status;
    if (s == task_status::queued || s == task_status::pending || s == task_status::blocked) {
      states_[i].error = "closed in the tracker before it ran";
      states_[i].closed_in_tracker = true;
      finish_task(i, task_status::skipped, now, true);
    }
  }
  dispatch(now);
  maybe_post_execution(now);
}

void group_machine::on(const tests_done_event& e, clock_time now) {
  if (life_ != group_lifecycle::testing) {
    return;
  }
  const bool timed_out = end_command();
  if (stop_ == stop_reason::cancelled) {
    finish_group(group_lifecycle::finished);
    return;
  }
  test_status_ = timed_out ? test_status::failed : e.status;
  const std::string detail =
      timed_out ? (e.command.empty() ? "" : e.command + ": ") + "timed out" : e.detail;
  if (test_status_ == test_status::failed) {
    errors_.push_back("tests failed" + (detail.empty() ? std::string{} : ": " + detail));
  } else if (test_status_ == test_status::none) {
    const std::string what =
        "no test suite was run" + (detail.empty() ? std::string{} : " (" + detail + ")");
    if (settings_.test_required) {
      errors_.push_back(what + " and test.required is true");
    } else {
      warnings_.push_back(what);
    }
  }
  group_dirty_ = true;
  conclude(now);
}

void group_machine::on(const close_done_event& e, clock_time /*now*/) {
  if (life_ != group_lifecycle::closing) {
    return;
  }
  for (const auto i : e.closed) {
    states_.at(i).closed_in_tracker = true;
    changed(i);
  }
  for (const auto& error : e.errors) {
    warnings_.push_back("closing: " + error);
  }
  finish_group(group_lifecycle::finished);
}

void group_machine::on(const stop_event& e, clock_time now) {
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
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const auto s = states_[i].status;
      if (!is_terminal(s) && s != task_status::running) {
        finish_task(i, task_status::cancelled, now, false);
      }
    }
    deps_.set_waiting_for_blockers(false);
    group_dirty_ = true;
  }
  // One kill sequence for the agents and the command alike.
  const auto end = [&](std::size_t who) {
    if (e.mode == stop_mode::immediate) {
      signal(who, kill_signal::kill);
    } else {
      terminate(who, now);
    }
  };
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (states_[i].status == task_status::running) {
      end(i);
    }
  }
  if (life_ == group_lifecycle::refreshing || life_ == group_lifecycle::testing) {
    end(the_command);
  }
  if (!awaiting_command()) {
    maybe_post_execution(now);
  }
}

void group_machine::on(const halt_event& e, clock_time now) {
  if (halt_noted_) {
    return;
  }
  halt_noted_ = true;
  errors_.push_back(e.reason);
  group_dirty_ = true;
  if (life_ == group_lifecycle::pending) {
    // Before the start: nothing runs at all.
    stop(stop_reason::halted);
    skip_unstarted("not run: " + e.reason, now);
    conclude(now);
    return;
  }
  if (phase() == group_phase::post_execution || stopping()) {
    stop(stop_reason::halted);
    return;  // tests, closing or a stop are under way: they end the group
  }
  stop(stop_reason::halted);
  skip_unstarted("not run: " + e.reason, now);
  wind_down(now);
}

void group_machine::on(const room_event& /*e*/, clock_time now) {
  if (life_ == group_lifecycle::running) {
    dispatch(now);
  }
}

}  // namespace maestro::core
