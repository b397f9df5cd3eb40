#include <algorithm>
#include <map>
#include <utility>

#include <maestro/core/config.hpp>
#include <maestro/core/group_machine.hpp>

namespace maestro::core {
namespace {

clock_time after(clock_time now, double seconds) {
  // Capped: a duration beyond the clock's range (a task's timeout_s of 1e10
  // set by an embedding host) would wrap into the past and fire at once.
  return now + std::chrono::duration_cast<clock_time::duration>(
                   std::chrono::duration<double>(capped_duration(seconds)));
}

std::string describe_attempt(const attempt_record& a) {
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

constexpr std::uint8_t timeout_armed = 1U;
constexpr std::uint8_t grace_armed = 2U;

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

// --- events ---------------------------------------------------------------

void group_machine::on(const start_event& /*e*/, clock_time now) {
  if (life_ != group_lifecycle::pending) {
    return;
  }
  life_ = group_lifecycle::starting;
  group_dirty_ = true;
  if (settings_.group_timeout_s > 0) {
    set_timer(timer_kind::group_timeout, 0, 0, after(now, settings_.group_timeout_s));
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
      set_timer(timer_kind::blocked_wait, 0, 0, after(now, settings_.blocked_wait_s));
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
                   "): " + describe_attempt(attempt);
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
    set_timer(timer_kind::attempt_timeout, task, st.attempts, after(now, limit));
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
  set_timer(timer_kind::requeue, task, states_[task].attempts, after(now, delay_s));
  changed(task);
}

void group_machine::terminate(std::size_t who, clock_time now) {
  // SIGTERM, then SIGKILL after the grace period (at once without one).
  signal(who, kill_signal::terminate);
  if (settings_.kill_grace_s <= 0) {
    signal(who, kill_signal::kill);
  } else if (who == the_command) {
    command_grace_armed_ = true;
    set_timer(timer_kind::command_grace, 0, command_run_, after(now, settings_.kill_grace_s));
  } else {
    set_timer(timer_kind::kill_grace, who, states_[who].attempts,
              after(now, settings_.kill_grace_s));
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
    set_timer(timer_kind::command_timeout, 0, command_run_, after(now, timeout_s));
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
