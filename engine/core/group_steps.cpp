// The group machine's steps: what its event handlers (group_machine.cpp)
// do to tasks, the queue and the commands, and how a group ends.

#include <algorithm>
#include <functional>
#include <utility>

#include <maestro/core/group_machine.hpp>

namespace maestro::core {

group_machine::group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel,
                             std::vector<group_epic> epics)
    : group_machine(std::move(tasks), std::move(settings), parallel, nullptr, {},
                    std::move(epics)) {}

group_machine::group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel,
                             std::shared_ptr<limit_pools> pools, std::string_view group_name,
                             std::vector<group_epic> epics)
    : tasks_(with_an_agent(std::move(tasks))),
      epics_(std::move(epics)),
      epic_closed_(epics_.size(), false),
      settings_(std::move(settings)),
      parallel_(parallel),
      board_(tasks_),
      deps_(tasks_),
      retry_({settings_.retries, settings_.retry_backoff_s, settings_.tempfail_cooldown_s,
              settings_.tempfail_max, settings_.seed}),
      slots_(tasks_, pools ? std::move(pools) : own_pools(settings_), group_name),
      ready_(slots_.agent_count()),
      timers_(tasks_.size(), settings_.kill_grace_s) {}

// --- tasks that become ready, launch and end an attempt --------------------

void group_machine::begin_tasks(clock_time now) {
  life_ = group_lifecycle::starting;
  board_.group_changed();
  bool any_blocked = false;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (is_terminal(board_[i].status)) {
      continue;
    }
    if (deps_.has_blockers(i)) {
      board_.set_status(i, task_status::blocked);
      any_blocked = true;
    } else if (deps_.unmet(i) == 0) {
      make_ready(i);
    }
  }
  if (any_blocked) {
    if (settings_.blocked_wait_s > 0) {
      deps_.set_waiting_for_blockers(true);
      timers_.set(timer_kind::blocked_wait, 0, 0, deadline_after(now, settings_.blocked_wait_s));
    } else {
      end_waiting_for_blockers();
    }
  }
  dispatch(now);
  life_ = group_lifecycle::running;
  maybe_post_execution(now);
}

void group_machine::make_ready(std::size_t task) {
  board_.set_status(task, task_status::queued);
  enqueue(task);
}

void group_machine::enqueue(std::size_t task) {
  ready_.push(current_agent(task), rank(task), task);
}

void group_machine::dispatch(clock_time now) {
  if (stopping() || settings_.scheduled) {
    return;  // under a run-level scheduler, its grants launch
  }
  while (!ready_.empty() && slots_.has_room()) {
    const auto task = ready_.pop_best([this](std::size_t agent) { return slots_.has_room(agent); });
    if (task == ready_queue::none) {
      return;
    }
    launch(task, now);
  }
}

void group_machine::launch(std::size_t task, clock_time now) {
  const auto agent = current_agent(task);
  const auto& name = slots_.name(agent);
  const auto attempt = board_.begin_attempt(task, name, now);
  slots_.acquire(agent);
  board_.report_ended(*out_);  // ends first: they are written ahead of the launch
  out_->emplace_back(launch_action{task, attempt, name});
  if (!launched_any_) {
    launched_any_ = true;
    if (settings_.timeout_from_first_launch) {
      arm_group_timeout(now);
    }
  }
  if (const double limit = attempt_timeout(task, name); limit > 0) {
    timers_.set(timer_kind::attempt_timeout, task, attempt, deadline_after(now, limit));
  }
}

void group_machine::after_attempt(std::size_t task, clock_time now) {
  release_attempt(task);
  settle_attempt(task, now);
}

void group_machine::release_attempt(std::size_t task) {
  slots_.release(current_agent(task));
  timers_.cancel_attempt(task, board_[task].attempts);
}

void group_machine::settle_attempt(std::size_t task, clock_time now) {
  auto& st = board_[task];
  const auto& attempt = st.history.back();
  if (settings_.integrate) {
    out_->emplace_back(discard_workspace_action{task, attempt.number});
  }
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
    if (step.kind == retry_kind::give_up) {
      errors_.push_back(board_.give_up(task, tasks_[task].id));
      finish_task(task, attempt.timed_out ? task_status::timed_out : task_status::failed, now,
                  false);
    } else {
      board_.advance(task, step.kind);
      requeue_later(task, step.delay_s, now);  // the next agent has no delay: at once
    }
  }
  dispatch(now);
  maybe_post_execution(now);
}

void group_machine::requeue_later(std::size_t task, double delay_s, clock_time now) {
  if (delay_s <= 0) {
    make_ready(task);
    return;
  }
  board_.set_status(task, task_status::queued);
  ready_.delay(task);
  timers_.set(timer_kind::requeue, task, board_[task].attempts, deadline_after(now, delay_s));
}

// --- tasks that end, and what waits for them ------------------------------

void group_machine::finish_task(std::size_t task, task_status status, clock_time now,
                                bool satisfies_dependents) {
  settle(task, status, now);
  if (satisfies_dependents || status == task_status::completed) {
    for (const auto d : deps_.dependents(task)) {
      const auto s = board_[d].status;
      if ((s == task_status::pending || s == task_status::blocked) && deps_.meet_one(d) &&
          s == task_status::pending && !stopping()) {
        make_ready(d);
      }
    }
    return;
  }
  if (stopping()) {
    return;  // the stop itself settles what still waits
  }
  // Every task behind one that did not complete is skipped.
  deps_.spread(
      {task},
      [&](std::size_t i) {
        if (i != task) {
          settle(i, task_status::skipped, now);
        }
      },
      [&](std::size_t d, std::size_t cause) {
        auto& ds = board_[d];
        if (ds.status != task_status::pending && ds.status != task_status::blocked) {
          return false;
        }
        ds.error = "not run: dependency " + tasks_[cause].id + " is " +
                   std::string(to_string(board_[cause].status));
        return true;
      });
}

void group_machine::settle(std::size_t task, task_status status, clock_time now) {
  auto& st = board_[task];
  if (st.status == task_status::queued) {
    if (ready_.end_delay(task)) {
      timers_.cancel(timer_kind::requeue, task, st.attempts);
    } else {
      ready_.erase(current_agent(task), rank(task), task);
    }
  }
  board_.set_status(task, status);
  st.finished = now;
}

void group_machine::end_tasks(task_status status, const std::string& reason, clock_time now,
                              bool running_too) {
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    const auto s = board_[i].status;
    if (!is_terminal(s) && (running_too || s != task_status::running)) {
      if (!reason.empty()) {
        board_[i].error = reason;
      }
      finish_task(i, status, now, false);
    }
  }
}

void group_machine::end_waiting_for_blockers() {
  deps_.set_waiting_for_blockers(false);
  // Tasks behind a blocked task can never run now: they are blocked too.
  deps_.spread(
      board_.with_status(task_status::blocked), [](std::size_t) {},
      [this](std::size_t d, std::size_t cause) {
        if (board_[d].status != task_status::pending) {
          return false;
        }
        board_.set_status(d, task_status::blocked);
        board_[d].error = "waits for blocked task " + tasks_[cause].id;
        return true;
      });
}

// --- commands, and the end of a group --------------------------------------

void group_machine::run_command(group_lifecycle stage, double timeout_s, clock_time now) {
  life_ = stage;
  board_.group_changed();
  if (settings_.scheduled && !command_waiting_) {
    // One group at a time runs its command: wait for the turn.
    command_waiting_ = true;
    command_timeout_s_ = timeout_s;
    return;
  }
  command_waiting_ = false;
  if (stage == group_lifecycle::refreshing) {
    out_->emplace_back(run_refresh_action{});
  } else {
    out_->emplace_back(run_tests_action{});
  }
  timers_.start_command(timeout_s, now);
}

void group_machine::abandon_command() {
  command_waiting_ = false;
  if (life_ == group_lifecycle::refreshing) {
    cancel_group_timers();
    if (stop_ == stop_reason::cancelled) {
      finish_group(group_lifecycle::dropped);
      return;
    }
  } else if (stop_ == stop_reason::cancelled) {
    finish_group(group_lifecycle::finished);
    return;
  }
  conclude();
}

void group_machine::wind_down(clock_time now) {
  deps_.set_waiting_for_blockers(false);
  board_.group_changed();
  if (command_waiting_) {
    abandon_command();
    return;
  }
  if (life_ == group_lifecycle::refreshing) {
    timers_.terminate(timer_book::the_command, timers_.command_run(), now);
    return;
  }
  maybe_post_execution(now);
}

void group_machine::arm_group_timeout(clock_time now) {
  if (settings_.group_timeout_s > 0) {
    group_timer_armed_ = true;
    timers_.set(timer_kind::group_timeout, 0, 0, deadline_after(now, settings_.group_timeout_s));
  }
}

void group_machine::cancel_group_timers() {
  if (group_timer_armed_ && stop_ != stop_reason::timed_out) {
    group_timer_armed_ = false;
    timers_.cancel(timer_kind::group_timeout, 0, 0);
  }
}

void group_machine::maybe_post_execution(clock_time now) {
  // Counters, not a scan: this runs after every event. (A task in the
  // ready queue, delayed or not, is queued; one that holds a slot, running.)
  if (life_ != group_lifecycle::running ||
      count(task_status::pending) + count(task_status::queued) + count(task_status::running) > 0 ||
      (deps_.waiting_for_blockers() && count(task_status::blocked) > 0)) {
    return;
  }
  cancel_group_timers();
  if (settings_.blocked_wait_s > 0) {
    timers_.cancel(timer_kind::blocked_wait, 0, 0);
  }
  board_.group_changed();
  if (stop_ == stop_reason::cancelled) {
    finish_group(group_lifecycle::finished);
  } else if (count(task_status::failed) + count(task_status::timed_out) > 0 || stopping()) {
    conclude();
  } else {
    // (Under `integrate`, the test phase first merges the integration
    // branch into the group's: the runtime does it on `run_tests`.)
    run_command(group_lifecycle::testing, settings_.test_timeout_s, now);
  }
}

void group_machine::conclude() {
  const auto verdict =
      judge({count(task_status::failed) + count(task_status::timed_out),
             count(task_status::blocked), test_status_, settings_.test_required,
             stop_ == stop_reason::timed_out, !errors_.empty(), settings_.close_tasks});
  outcome_ = verdict.status;
  // What passed its test phase goes into the integration branch first: a
  // completed group, or an incomplete one whose tests passed.
  if (settings_.integrate && !group_integrated_ && stop_ != stop_reason::cancelled &&
      (verdict.status == group_status::completed ||
       (verdict.status == group_status::incomplete && test_status_ == test_status::passed))) {
    life_ = group_lifecycle::integrating;
    board_.group_changed();
    out_->emplace_back(integrate_group_action{});
    return;
  }
  if (verdict.close_completed && count(task_status::completed) > 0) {
    life_ = group_lifecycle::closing;
    board_.group_changed();
    // An epic is closed after its children, when each of them is done.
    std::vector<std::size_t> epics;
    for (std::size_t k = 0; k < epics_.size(); ++k) {
      const auto& children = epics_[k].tasks;
      if (std::all_of(children.begin(), children.end(), [this](std::size_t i) {
            return board_.at(i).status == task_status::completed || board_.at(i).closed_in_tracker;
          })) {
        epics.push_back(k);
      }
    }
    out_->emplace_back(close_order(epics));
    return;
  }
  finish_group(group_lifecycle::finished);
}

close_tasks_action group_machine::close_order(const std::vector<std::size_t>& epics) const {
  // Kahn's algorithm over the completed tasks and the epics to close, the
  // lowest task index first among the ready: a tracker refuses to close a
  // task whose blocker is open (bd does), and an epic whose children are.
  // An epic is ready once its completed children are out (nested epics
  // first, as `epics` lists them); a task that depends on an epic waits
  // for it.
  close_tasks_action out;
  std::vector<std::size_t> waiting(tasks_.size(), 0);
  std::vector<std::vector<std::size_t>> epics_of(tasks_.size());  // task -> positions in `epics`
  std::vector<std::size_t> epic_waiting(epics.size(), 0);
  for (std::size_t e = 0; e < epics.size(); ++e) {
    for (const auto i : epics_[epics[e]].tasks) {
      if (board_[i].status == task_status::completed) {
        epics_of[i].push_back(e);
        ++epic_waiting[e];
      }
    }
    for (const auto d : epics_[epics[e]].dependents) {
      waiting[d] += board_[d].status == task_status::completed ? 1 : 0;
    }
  }
  std::vector<std::size_t> ready;
  const auto make_ready = [&ready](std::size_t i) {
    ready.push_back(i);
    std::push_heap(ready.begin(), ready.end(), std::greater<>{});
  };
  const auto close_epic = [&](std::size_t e) {
    out.epics.push_back(epics[e]);
    out.epic_slots.push_back(out.tasks.size());
    for (const auto d : epics_[epics[e]].dependents) {
      if (board_[d].status == task_status::completed && --waiting[d] == 0) {
        make_ready(d);
      }
    }
  };
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (board_[i].status != task_status::completed) {
      continue;
    }
    for (const auto d : tasks_[i].waits_for) {
      waiting[i] += board_[d].status == task_status::completed ? 1 : 0;
    }
  }
  for (std::size_t e = 0; e < epics.size(); ++e) {
    if (epic_waiting[e] == 0) {
      close_epic(e);  // every child was closed in the tracker
    }
  }
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (board_[i].status == task_status::completed && waiting[i] == 0) {
      make_ready(i);
    }
  }
  out.tasks.reserve(count(task_status::completed));
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), std::greater<>{});
    const auto i = ready.back();
    ready.pop_back();
    out.tasks.push_back(i);
    for (const auto d : deps_.dependents(i)) {
      if (board_[d].status == task_status::completed && --waiting[d] == 0) {
        make_ready(d);
      }
    }
    for (const auto e : epics_of[i]) {  // in list order: nested epics first
      if (--epic_waiting[e] == 0) {
        close_epic(e);
      }
    }
  }
  // No epic closes before a task: slots that all equal the task count say
  // nothing the default does not.
  if (std::all_of(out.epic_slots.begin(), out.epic_slots.end(),
                  [&](std::size_t slot) { return slot == out.tasks.size(); })) {
    out.epic_slots.clear();
  }
  return out;
}

void group_machine::finish_group(group_lifecycle end) {
  if (settings_.claims && life_ != group_lifecycle::releasing) {
    // The tasks attempted in this run that did not complete: the runtime
    // hands back those it claimed before the group ends.
    std::vector<std::size_t> unfinished;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (board_[i].status != task_status::completed &&
          board_[i].attempts > tasks_[i].earlier_agents.size()) {
        unfinished.push_back(i);
      }
    }
    if (!unfinished.empty()) {
      life_ = group_lifecycle::releasing;
      after_release_ = end;
      board_.group_changed();
      out_->emplace_back(release_claims_action{std::move(unfinished)});
      return;
    }
  }
  life_ = end;
  if (stop_ == stop_reason::cancelled) {
    outcome_ = group_status::cancelled;
  }
  board_.group_changed();
}

}  // namespace maestro::core
