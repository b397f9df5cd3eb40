// The group machine's steps: what its event handlers (group_machine.cpp)
// do to tasks, slots, timers and the kill sequence, and how a group ends.

#include <algorithm>
#include <map>
#include <utility>

#include <maestro/core/config.hpp>
#include <maestro/core/group_machine.hpp>

namespace maestro::core {

std::string describe(const attempt_record& a) {
  if (!a.error.empty()) {
    return "could not start: " + a.error;
  }
  if (a.timed_out) {
    return "timed out";
  }
  if (a.signal != 0) {
    return "killed by signal " + std::to_string(a.signal);
  }
  return "exit code " + (a.exit_code ? std::to_string(*a.exit_code) : std::string("?"));
}

namespace {

std::shared_ptr<limit_pools> own_pools(const group_settings& s) {
  auto pools = std::make_shared<limit_pools>(s.max_concurrent);
  if (s.group_limit) {
    pools->group({}).set_capacity(*s.group_limit);
  }
  for (const auto& [agent, limit] : s.agent_limits) {
    pools->agent(agent).set_capacity(limit);
  }
  return pools;
}

}  // namespace

group_machine::group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel)
    : group_machine(std::move(tasks), std::move(settings), parallel, nullptr, {}) {}

group_machine::group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel,
                             std::shared_ptr<limit_pools> pools, std::string_view group_name)
    : tasks_(std::move(tasks)),
      settings_(std::move(settings)),
      parallel_(parallel),
      states_(tasks_.size()),
      deps_(tasks_),
      retry_({settings_.retries, settings_.retry_backoff_s, settings_.tempfail_cooldown_s,
              settings_.tempfail_max, settings_.seed}),
      pools_(pools ? std::move(pools) : own_pools(settings_)),
      global_pool_(&pools_->global()),
      group_pool_(&pools_->group(group_name)),
      delayed_(tasks_.size(), false),
      attempt_timers_(tasks_.size(), 0),
      is_dirty_(tasks_.size(), false) {
  status_counts_[static_cast<std::size_t>(task_status::pending)] = tasks_.size();
  std::map<std::string_view, std::uint32_t> agent_index;
  chain_of_.reserve(tasks_.size() + 1);
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    auto& t = tasks_[i];
    if (t.chain.empty()) {
      t.chain.emplace_back("default");  // the runtime always resolves an agent
    }
    chain_of_.push_back(static_cast<std::uint32_t>(chain_agents_.size()));
    for (const auto& agent : t.chain) {
      const auto [it, added] =
          agent_index.emplace(agent, static_cast<std::uint32_t>(agent_names_.size()));
      if (added) {
        agent_names_.push_back(agent);
        agent_pools_.push_back(&pools_->agent(agent));
      }
      chain_agents_.push_back(it->second);
    }
    for (const auto& agent : t.earlier_agents) {
      states_[i].history.push_back({agent, ++states_[i].attempts, std::nullopt, 0, false, {}});
    }
    if (t.already_completed) {
      set_status(i, task_status::completed);
    }
  }
  chain_of_.push_back(static_cast<std::uint32_t>(chain_agents_.size()));
  ready_ = ready_queue(agent_names_.size());
}

group_phase group_machine::phase() const noexcept {
  switch (life_) {
    case group_lifecycle::starting:
      return group_phase::concurrent_execution;
    case group_lifecycle::running:
      return group_phase::coordination;
    case group_lifecycle::testing:
    case group_lifecycle::closing:
    case group_lifecycle::finished:
      return group_phase::post_execution;
    case group_lifecycle::pending:
    case group_lifecycle::refreshing:
    case group_lifecycle::dropped:
      break;
  }
  return group_phase::pre_execution;
}

group_status group_machine::status() const noexcept {
  if (life_ == group_lifecycle::pending) {
    return group_status::pending;
  }
  return is_finished() ? outcome_ : group_status::running;
}

double group_machine::attempt_timeout(std::size_t task, std::string_view agent) const {
  if (tasks_.at(task).timeout_s) {
    return *tasks_[task].timeout_s;
  }
  const auto it = settings_.agent_timeouts.find(agent);
  return it != settings_.agent_timeouts.end() ? it->second : settings_.default_timeout_s;
}

// --- launches, attempts and kill sequences ----------------------------------

std::uint32_t group_machine::current_agent(std::size_t task) const {
  const auto first = chain_of_[task];
  const auto size = chain_of_[task + 1] - first;
  return chain_agents_[first + std::min<std::size_t>(states_[task].chain_position, size - 1)];
}

void group_machine::make_ready(std::size_t task) {
  set_status(task, task_status::queued);
  enqueue(task);
  changed(task);
}

void group_machine::enqueue(std::size_t task) {
  ready_.push(current_agent(task), tasks_[task].priority, task);
}

void group_machine::dispatch(clock_time now) {
  if (stopping()) {
    return;
  }
  while (!ready_.empty() && global_pool_->has_room() && group_pool_->has_room()) {
    const auto task =
        ready_.pop_best([this](std::size_t agent) { return agent_pools_[agent]->has_room(); });
    if (task == ready_queue::none) {
      return;
    }
    launch(task, now);
  }
}

void group_machine::launch(std::size_t task, clock_time now) {
  auto& st = states_[task];
  const auto agent = current_agent(task);
  const auto& name = agent_names_[agent];
  ++st.attempts;
  set_status(task, task_status::running);
  st.pid = 0;
  st.pgid = 0;
  if (!st.started) {
    st.started = now;
  }
  st.history.push_back({name, st.attempts, std::nullopt, 0, false, {}});
  ++running_;
  global_pool_->acquire();
  group_pool_->acquire();
  agent_pools_[agent]->acquire();
  out_->emplace_back(launch_action{task, st.attempts, name});
  if (const double limit = attempt_timeout(task, name); limit > 0) {
    set_timer(timer_kind::attempt_timeout, task, st.attempts, deadline_after(now, limit));
  }
  changed(task);
}

void group_machine::release(std::size_t task) {
  --running_;
  global_pool_->release();
  group_pool_->release();
  agent_pools_[current_agent(task)]->release();
}

void group_machine::requeue_later(std::size_t task, double delay_s, clock_time now) {
  if (delay_s <= 0) {
    make_ready(task);
    return;
  }
  set_status(task, task_status::queued);
  delayed_[task] = true;
  ++waiting_delay_;
  set_timer(timer_kind::requeue, task, states_[task].attempts, deadline_after(now, delay_s));
  changed(task);
}

void group_machine::terminate(std::size_t who, clock_time now) {
  // SIGTERM, then SIGKILL after the grace period (at once without one).
  signal(who, kill_signal::terminate);
  if (settings_.kill_grace_s <= 0) {
    signal(who, kill_signal::kill);
  } else if (who == the_command) {
    command_grace_armed_ = true;
    set_timer(timer_kind::command_grace, 0, command_run_,
              deadline_after(now, settings_.kill_grace_s));
  } else {
    set_timer(timer_kind::kill_grace, who, states_[who].attempts,
              deadline_after(now, settings_.kill_grace_s));
  }
}

void group_machine::signal(std::size_t who, kill_signal s) {
  if (who == the_command) {
    out_->emplace_back(signal_command_action{s});
  } else {
    out_->emplace_back(signal_action{who, states_[who].attempts, s});
  }
}

void group_machine::run_command(group_lifecycle stage, double timeout_s, clock_time now) {
  life_ = stage;
  group_dirty_ = true;
  ++command_run_;
  command_timed_out_ = false;
  command_grace_armed_ = false;
  if (stage == group_lifecycle::refreshing) {
    out_->emplace_back(run_refresh_action{});
  } else {
    out_->emplace_back(run_tests_action{});
  }
  if (timeout_s > 0) {
    set_timer(timer_kind::command_timeout, 0, command_run_, deadline_after(now, timeout_s));
  }
}

bool group_machine::end_command() {
  const double timeout_s =
      life_ == group_lifecycle::refreshing ? settings_.refresh_timeout_s : settings_.test_timeout_s;
  if (timeout_s > 0 && !command_timed_out_) {
    cancel_timer(timer_kind::command_timeout, 0, command_run_);
  }
  if (command_grace_armed_) {
    cancel_timer(timer_kind::command_grace, 0, command_run_);
  }
  return command_timed_out_;
}

// --- timers and reports ---------------------------------------------------

void group_machine::set_timer(timer_kind kind, std::size_t task, std::uint32_t generation,
                              clock_time deadline) {
  if (kind == timer_kind::attempt_timeout) {
    attempt_timers_[task] |= timeout_armed;
  } else if (kind == timer_kind::kill_grace) {
    attempt_timers_[task] |= grace_armed;
  }
  out_->emplace_back(set_timer_action{{kind, task, generation}, deadline});
}

void group_machine::cancel_timer(timer_kind kind, std::size_t task, std::uint32_t generation) {
  out_->emplace_back(cancel_timer_action{{kind, task, generation}});
}

void group_machine::cancel_attempt_timers(std::size_t task) {
  const auto armed = attempt_timers_[task];
  if ((armed & timeout_armed) != 0) {
    cancel_timer(timer_kind::attempt_timeout, task, states_[task].attempts);
  }
  if ((armed & grace_armed) != 0) {
    cancel_timer(timer_kind::kill_grace, task, states_[task].attempts);
  }
  attempt_timers_[task] = 0;
}

void group_machine::cancel_group_timers() {
  if (settings_.group_timeout_s > 0 && stop_ != stop_reason::timed_out) {
    cancel_timer(timer_kind::group_timeout, 0, 0);
  }
}

void group_machine::set_status(std::size_t task, task_status s) {
  auto& current = states_[task].status;
  --status_counts_[static_cast<std::size_t>(current)];
  ++status_counts_[static_cast<std::size_t>(s)];
  current = s;
}

void group_machine::changed(std::size_t task) {
  if (!is_dirty_[task]) {
    is_dirty_[task] = true;
    dirty_.push_back(task);
  }
}

// --- tasks that end, and what waits for them ------------------------------

void group_machine::finish_task(std::size_t task, task_status status, clock_time now,
                                bool satisfies_dependents) {
  settle(task, status, now);
  if (satisfies_dependents || status == task_status::completed) {
    for (const auto d : deps_.dependents(task)) {
      const auto s = states_[d].status;
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
        auto& ds = states_[d];
        if (ds.status != task_status::pending && ds.status != task_status::blocked) {
          return false;
        }
        ds.error = "not run: dependency " + tasks_[cause].id + " is " +
                   std::string(to_string(states_[cause].status));
        return true;
      });
}

void group_machine::settle(std::size_t task, task_status status, clock_time now) {
  auto& st = states_[task];
  if (st.status == task_status::queued) {
    if (delayed_[task]) {
      delayed_[task] = false;
      --waiting_delay_;
      cancel_timer(timer_kind::requeue, task, st.attempts);
    } else {
      ready_.erase(current_agent(task), tasks_[task].priority, task);
    }
  }
  set_status(task, status);
  st.finished = now;
  changed(task);
}

void group_machine::end_waiting_for_blockers() {
  deps_.set_waiting_for_blockers(false);
  // Tasks behind a blocked task can never run now: they are blocked too.
  std::vector<std::size_t> blocked;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (states_[i].status == task_status::blocked) {
      blocked.push_back(i);
    }
  }
  deps_.spread(
      std::move(blocked), [](std::size_t) {},
      [this](std::size_t d, std::size_t cause) {
        if (states_[d].status != task_status::pending) {
          return false;
        }
        set_status(d, task_status::blocked);
        states_[d].error = "waits for blocked task " + tasks_[cause].id;
        changed(d);
        return true;
      });
}

// --- stops and the end of a group -----------------------------------------

void group_machine::stop(stop_reason why) {
  if (why == stop_reason::cancelled || stop_ == stop_reason::none) {
    stop_ = why;
  }
}

void group_machine::skip_unstarted(const std::string& reason, clock_time now) {
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    auto& st = states_[i];
    if (st.status != task_status::running && !is_terminal(st.status)) {
      st.error = reason;
      finish_task(i, task_status::skipped, now, false);
    }
  }
}

void group_machine::wind_down(clock_time now) {
  deps_.set_waiting_for_blockers(false);
  group_dirty_ = true;
  if (life_ == group_lifecycle::refreshing) {
    terminate(the_command, now);
    return;
  }
  maybe_post_execution(now);
}

void group_machine::maybe_post_execution(clock_time now) {
  if (life_ != group_lifecycle::running || running_ > 0 || !ready_.empty() || waiting_delay_ > 0) {
    return;
  }
  // Counters, not a scan: this runs after every event.
  if (count(task_status::pending) + count(task_status::queued) + count(task_status::running) > 0 ||
      (deps_.waiting_for_blockers() && count(task_status::blocked) > 0)) {
    return;
  }
  cancel_group_timers();
  if (settings_.blocked_wait_s > 0) {
    cancel_timer(timer_kind::blocked_wait, 0, 0);
  }
  group_dirty_ = true;
  if (stop_ == stop_reason::cancelled) {
    finish_group(group_lifecycle::finished);
    return;
  }
  if (count(task_status::failed) + count(task_status::timed_out) > 0 || stopping()) {
    conclude(now);
    return;
  }
  run_command(group_lifecycle::testing, settings_.test_timeout_s, now);
}

void group_machine::conclude(clock_time /*now*/) {
  const bool any_failed = count(task_status::failed) + count(task_status::timed_out) > 0;
  const bool tests_failed = test_status_ == test_status::failed ||
                            (test_status_ == test_status::none && settings_.test_required);
  if (any_failed || tests_failed || stop_ == stop_reason::timed_out || !errors_.empty()) {
    outcome_ = group_status::failed;
  } else if (count(task_status::blocked) > 0) {
    outcome_ = group_status::incomplete;
  } else {
    outcome_ = group_status::completed;
  }
  if (outcome_ == group_status::completed && settings_.close_tasks) {
    close_tasks_action close;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (states_[i].status == task_status::completed) {
        close.tasks.push_back(i);
      }
    }
    if (!close.tasks.empty()) {
      life_ = group_lifecycle::closing;
      group_dirty_ = true;
      out_->emplace_back(std::move(close));
      return;
    }
  }
  finish_group(group_lifecycle::finished);
}

void group_machine::finish_group(group_lifecycle end) {
  life_ = end;
  if (stop_ == stop_reason::cancelled) {
    outcome_ = group_status::cancelled;
  }
  group_dirty_ = true;
}

}  // namespace maestro::core
