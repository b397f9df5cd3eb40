#include <algorithm>
#include <climits>
#include <cmath>
#include <unordered_map>
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

}  // namespace

std::string_view to_string(task_status s) noexcept {
  return name_of(s);
}

std::string_view to_string(group_phase p) noexcept {
  return name_of(p);
}

std::string_view to_string(group_status s) noexcept {
  return name_of(s);
}

std::string_view to_string(test_status s) noexcept {
  return name_of(s);
}

bool is_terminal(task_status s) noexcept {
  return s == task_status::completed || s == task_status::failed || s == task_status::timed_out ||
         s == task_status::skipped || s == task_status::cancelled;
}

bool is_terminal(group_status s) noexcept {
  return s == group_status::completed || s == group_status::failed ||
         s == group_status::incomplete || s == group_status::cancelled;
}

group_machine::group_machine(std::vector<group_task> tasks, group_settings settings, bool parallel)
    : tasks_(std::move(tasks)),
      settings_(std::move(settings)),
      parallel_(parallel),
      states_(tasks_.size()),
      unmet_(tasks_.size(), 0),
      dependents_(tasks_.size()),
      delayed_(tasks_.size(), false),
      reported_(tasks_.size(), false),
      rng_(settings_.seed) {
  status_counts_[static_cast<std::size_t>(task_status::pending)] = tasks_.size();
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    auto& t = tasks_[i];
    if (t.chain.empty()) {
      t.chain.emplace_back("default");  // the runtime always resolves an agent
    }
    for (const auto& agent : t.earlier_agents) {
      states_[i].history.push_back({agent, ++states_[i].attempts, std::nullopt, 0, false, {}});
    }
    if (t.already_completed) {
      set_status(i, task_status::completed);
    }
    index_of_.emplace(t.id, i);
    for (const auto& b : t.blocked_by) {
      blockers_[i].insert(b);
      blocked_on_.emplace(b, i);
    }
  }
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    for (const auto w : tasks_[i].waits_for) {
      dependents_.at(w).push_back(i);
      if (!tasks_[w].already_completed) {
        ++unmet_[i];
      }
    }
  }
}

std::vector<action> group_machine::handle(const event& e) {
  std::vector<action> actions;
  if (finished_) {
    return actions;
  }
  out_ = &actions;
  std::visit([this, &e](const auto& body) { on(body, e.now); }, e.body);
  out_ = nullptr;
  // One event may change a task several times (queued, then launched);
  // the runtime reads the state after the event, so one report is enough.
  std::size_t reports = 0;
  for (const auto& a : actions) {
    reports += std::holds_alternative<task_changed_action>(a) ? 1 : 0;
  }
  if (reports > 1) {
    // In place, in time proportional to the actions, not to the group:
    // `reported_` is all false between events.
    std::vector<bool> keep(actions.size(), true);
    for (std::size_t k = actions.size(); k-- > 0;) {  // the last report of a task wins
      if (const auto* changed = std::get_if<task_changed_action>(&actions[k])) {
        keep[k] = !reported_[changed->task];
        reported_[changed->task] = true;
      }
    }
    for (const auto& a : actions) {
      if (const auto* changed = std::get_if<task_changed_action>(&a)) {
        reported_[changed->task] = false;
      }
    }
    std::size_t kept = 0;
    for (std::size_t k = 0; k < actions.size(); ++k) {
      if (keep[k]) {
        if (kept != k) {
          actions[kept] = std::move(actions[k]);
        }
        ++kept;
      }
    }
    actions.erase(actions.begin() + static_cast<std::ptrdiff_t>(kept), actions.end());
  }
  return actions;
}

std::size_t group_machine::count(task_status s) const noexcept {
  return status_counts_[static_cast<std::size_t>(s)];
}

void group_machine::set_status(std::size_t task, task_status s) {
  auto& current = states_[task].status;
  --status_counts_[static_cast<std::size_t>(current)];
  ++status_counts_[static_cast<std::size_t>(s)];
  current = s;
}

double group_machine::attempt_timeout(std::size_t task, std::string_view agent) const {
  if (tasks_.at(task).timeout_s) {
    return *tasks_[task].timeout_s;
  }
  const auto it = settings_.agent_timeouts.find(agent);
  return it != settings_.agent_timeouts.end() ? it->second : settings_.default_timeout_s;
}

int group_machine::agent_limit(std::string_view agent) const {
  const auto it = settings_.agent_limits.find(agent);
  return it != settings_.agent_limits.end() && it->second > 0 ? it->second : INT_MAX;
}

std::size_t group_machine::group_slots() const {
  int slots = settings_.max_concurrent > 0 ? settings_.max_concurrent : INT_MAX;
  if (settings_.group_limit && *settings_.group_limit > 0) {
    slots = std::min(slots, *settings_.group_limit);
  }
  return static_cast<std::size_t>(slots);
}

const std::string& group_machine::current_agent(std::size_t task) const {
  const auto& chain = tasks_[task].chain;
  return chain[std::min(states_[task].chain_position, chain.size() - 1)];
}

double group_machine::jitter(double seconds) {
  // splitmix64: a tiny, seedable generator, so tests can replay delays.
  rng_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = rng_;
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  z ^= z >> 31U;
  const double unit = static_cast<double>(z >> 11U) * 0x1.0p-53;
  return seconds * (0.8 + 0.4 * unit);  // within +-20%
}

void group_machine::set_timer(timer_kind kind, std::size_t task, clock_time deadline) {
  const std::uint32_t generation =
      kind == timer_kind::group_timeout || kind == timer_kind::blocked_wait
          ? 0
          : states_[task].attempts;
  out_->emplace_back(set_timer_action{{kind, task, generation}, deadline});
}

void group_machine::cancel_attempt_timers(std::size_t task) {
  const auto generation = states_[task].attempts;
  out_->emplace_back(cancel_timer_action{{timer_kind::attempt_timeout, task, generation}});
  out_->emplace_back(cancel_timer_action{{timer_kind::kill_grace, task, generation}});
}

void group_machine::changed(std::size_t task) {
  out_->emplace_back(task_changed_action{task});
}

void group_machine::group_changed() {
  out_->emplace_back(group_changed_action{});
}

// --- events ---------------------------------------------------------------

void group_machine::on(const start_event& /*e*/, clock_time now) {
  if (status_ != group_status::pending) {
    return;
  }
  status_ = group_status::running;
  group_changed();
  if (settings_.group_timeout_s > 0) {
    set_timer(timer_kind::group_timeout, 0, after(now, settings_.group_timeout_s));
  }
  if (parallel_ && settings_.refresh) {
    awaiting_command_ = true;
    out_->emplace_back(run_refresh_action{});
    return;
  }
  begin_tasks(now);
}

void group_machine::on(const refresh_done_event& e, clock_time now) {
  if (!awaiting_command_ || phase_ != group_phase::pre_execution) {
    return;
  }
  awaiting_command_ = false;
  if (cancelled_) {
    finish_group(now);
    return;
  }
  if (timed_out_ || halted_) {
    phase_ = group_phase::post_execution;
    conclude(now);
    return;
  }
  if (e.ok) {
    refresh_completed_ = true;
  } else if (settings_.refresh_required) {
    errors_.push_back("refresh failed: " + e.detail);
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (!is_terminal(states_[i].status)) {
        states_[i].error = "not run: the required refresh failed";
        finish_task(i, task_status::skipped, now, false);
      }
    }
    group_changed();
    phase_ = group_phase::post_execution;
    conclude(now);
    return;
  } else {
    warnings_.push_back("refresh failed (not required): " + e.detail);
  }
  group_changed();
  begin_tasks(now);
}

void group_machine::begin_tasks(clock_time now) {
  phase_ = group_phase::concurrent_execution;
  group_changed();
  bool any_blocked = false;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    auto& st = states_[i];
    if (is_terminal(st.status)) {
      continue;
    }
    if (blockers_.contains(i)) {
      set_status(i, task_status::blocked);
      any_blocked = true;
      changed(i);
    } else if (unmet_[i] == 0) {
      make_ready(i);
    }
  }
  if (any_blocked) {
    if (settings_.blocked_wait_s > 0) {
      waiting_for_blockers_ = true;
      set_timer(timer_kind::blocked_wait, 0, after(now, settings_.blocked_wait_s));
    } else {
      end_waiting_for_blockers();
    }
  }
  dispatch(now);
  phase_ = group_phase::coordination;
  group_changed();
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
  if (cancelled_) {
    finish_task(task, task_status::cancelled, now, false);
  } else if (timed_out_) {
    st.error = "the group timed out";
    finish_task(task, task_status::timed_out, now, false);
  } else if (attempt.error.empty() && !attempt.timed_out && attempt.exit_code == 0) {
    st.error.clear();
    finish_task(task, task_status::completed, now, false);
  } else if (halted_) {
    // Nothing more is launched: no retry, no fallback.
    st.error = attempt.error.empty() ? "not retried: the group halted" : attempt.error;
    finish_task(task, attempt.timed_out ? task_status::timed_out : task_status::failed, now, false);
  } else if (attempt.error.empty() && !attempt.timed_out && attempt.exit_code == ex_tempfail &&
             st.tempfails < settings_.tempfail_max) {
    // EX_TEMPFAIL (rate limited): not a failure; the same agent again later.
    ++st.tempfails;
    requeue_later(task, jitter(settings_.tempfail_cooldown_s), now);
  } else {
    failed_attempt(task, now);
  }
  dispatch(now);
  maybe_post_execution(now);
}

void group_machine::failed_attempt(std::size_t task, clock_time now) {
  auto& st = states_[task];
  const auto& chain = tasks_[task].chain;
  const auto& attempt = st.history.back();
  if (st.chain_position + 1 < chain.size()) {
    ++st.chain_position;  // the next agent of the chain, at once
    make_ready(task);
    return;
  }
  if (st.round < settings_.retries) {
    ++st.round;
    st.chain_position = 0;
    const double backoff = settings_.retry_backoff_s * std::pow(2.0, st.round - 1);
    requeue_later(task, jitter(backoff), now);
    return;
  }
  st.error = "attempt " + std::to_string(attempt.number) + " (" + attempt.agent +
             "): " + describe_attempt(attempt);
  errors_.push_back("task " + tasks_[task].id + " " + (attempt.timed_out ? "timed out" : "failed") +
                    " after " + std::to_string(st.history.size()) + " attempt" +
                    (st.history.size() == 1 ? "" : "s") + ": " + st.error);
  finish_task(task, attempt.timed_out ? task_status::timed_out : task_status::failed, now, false);
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
        out_->emplace_back(signal_action{id.task, st.attempts, kill_signal::kill});
        return;
      }
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
      if (phase_ == group_phase::post_execution || stopping_) {
        return;
      }
      timed_out_ = true;
      stopping_ = true;
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
      if (waiting_for_blockers_) {
        end_waiting_for_blockers();
        maybe_post_execution(now);
      }
      return;
  }
}

void group_machine::on(const source_closed_event& e, clock_time now) {
  // A blocker outside the run closed.
  const auto [first, last] = blocked_on_.equal_range(e.id);
  for (auto it = first; it != last; ++it) {
    const auto i = it->second;
    auto open = blockers_.find(i);
    if (open != blockers_.end()) {
      open->second.erase(e.id);
      if (open->second.empty()) {
        blockers_.erase(open);
      }
    }
    if (states_[i].status == task_status::blocked && waiting_for_blockers_ && !stopping_ &&
        !blockers_.contains(i)) {
      if (unmet_[i] == 0) {
        make_ready(i);
      } else {
        set_status(i, task_status::pending);
        changed(i);
      }
    }
  }
  // A task of this group closed in the tracker before it ran.
  if (const auto found = index_of_.find(e.id); found != index_of_.end()) {
    const auto i = found->second;
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
  if (!awaiting_command_ || phase_ != group_phase::post_execution || concluded_) {
    return;
  }
  awaiting_command_ = false;
  if (cancelled_) {
    finish_group(now);
    return;
  }
  test_status_ = e.status;
  if (e.status == test_status::failed) {
    errors_.push_back("tests failed" + (e.detail.empty() ? std::string{} : ": " + e.detail));
  } else if (e.status == test_status::none) {
    const std::string what =
        "no test suite was run" + (e.detail.empty() ? std::string{} : " (" + e.detail + ")");
    if (settings_.test_required) {
      errors_.push_back(what + " and test.required is true");
    } else {
      warnings_.push_back(what);
    }
  }
  group_changed();
  conclude(now);
}

void group_machine::on(const close_done_event& e, clock_time now) {
  if (!awaiting_command_ || !concluded_) {
    return;
  }
  awaiting_command_ = false;
  for (const auto i : e.closed) {
    states_.at(i).closed_in_tracker = true;
    changed(i);
  }
  for (const auto& error : e.errors) {
    warnings_.push_back("closing: " + error);
  }
  finish_group(now);
}

void group_machine::on(const stop_event& e, clock_time now) {
  if (status_ == group_status::pending) {
    cancelled_ = true;
    stopping_ = true;
    errors_.push_back("cancelled" + (e.reason.empty() ? std::string{} : ": " + e.reason));
    finish_group(now);
    return;
  }
  if (!cancelled_) {
    cancelled_ = true;
    stopping_ = true;
    errors_.push_back("cancelled" + (e.reason.empty() ? std::string{} : ": " + e.reason));
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      auto& st = states_[i];
      if (!is_terminal(st.status) && st.status != task_status::running) {
        finish_task(i, task_status::cancelled, now, false);
      }
    }
    waiting_for_blockers_ = false;
    group_changed();
  }
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (states_[i].status != task_status::running) {
      continue;
    }
    if (e.mode == stop_mode::immediate) {
      out_->emplace_back(signal_action{i, states_[i].attempts, kill_signal::kill});
    } else {
      terminate(i, now);
    }
  }
  if (awaiting_command_) {
    out_->emplace_back(stop_commands_action{});
    return;
  }
  maybe_post_execution(now);
}

void group_machine::on(const halt_event& e, clock_time now) {
  if (halted_ || finished_) {
    return;
  }
  halted_ = true;
  errors_.push_back(e.reason);
  if (status_ == group_status::pending) {
    // Before the start: nothing runs at all.
    stopping_ = true;
    status_ = group_status::running;
    skip_unstarted("not run: " + e.reason, now);
    phase_ = group_phase::post_execution;
    group_changed();
    conclude(now);
    return;
  }
  if (phase_ == group_phase::post_execution || stopping_) {
    group_changed();
    return;  // tests, closing or a stop are under way: they end the group
  }
  stopping_ = true;
  skip_unstarted("not run: " + e.reason, now);
  wind_down(now);
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
  waiting_for_blockers_ = false;
  group_changed();
  if (awaiting_command_) {
    out_->emplace_back(stop_commands_action{});  // the refresh is still running
    return;
  }
  maybe_post_execution(now);
}

// --- queue and launches ---------------------------------------------------

void group_machine::make_ready(std::size_t task) {
  set_status(task, task_status::queued);
  enqueue(task);
  changed(task);
}

void group_machine::enqueue(std::size_t task) {
  queues_[current_agent(task)].insert({tasks_[task].priority, task});
  ++queued_;
}

void group_machine::dequeue(std::size_t task) {
  const auto it = queues_.find(current_agent(task));
  if (it != queues_.end() && it->second.erase({tasks_[task].priority, task}) != 0) {
    --queued_;
  }
}

void group_machine::dispatch(clock_time now) {
  if (stopping_) {
    return;
  }
  const auto slots = group_slots();
  while (running_ < slots && queued_ > 0) {
    // The best head among the agents that have room: a full agent does not
    // hold back the others.
    std::set<queue_key>* best = nullptr;
    for (auto& [agent, queue] : queues_) {
      if (queue.empty() || agent_running_[agent] >= agent_limit(agent)) {
        continue;
      }
      if (best == nullptr || *queue.begin() < *best->begin()) {
        best = &queue;
      }
    }
    if (best == nullptr) {
      return;
    }
    const auto task = best->begin()->task;
    best->erase(best->begin());
    --queued_;
    launch(task, now);
  }
}

void group_machine::launch(std::size_t task, clock_time now) {
  auto& st = states_[task];
  const auto& agent = current_agent(task);
  ++st.attempts;
  set_status(task, task_status::running);
  st.pid = 0;
  st.pgid = 0;
  if (!st.started) {
    st.started = now;
  }
  st.history.push_back({agent, st.attempts, std::nullopt, 0, false, {}});
  ++running_;
  ++agent_running_[agent];
  out_->emplace_back(launch_action{task, st.attempts, agent});
  if (const double limit = attempt_timeout(task, agent); limit > 0) {
    set_timer(timer_kind::attempt_timeout, task, after(now, limit));
  }
  changed(task);
}

void group_machine::release(std::size_t task) {
  --running_;
  --agent_running_[current_agent(task)];
}

void group_machine::terminate(std::size_t task, clock_time now) {
  const auto attempts = states_[task].attempts;
  out_->emplace_back(signal_action{task, attempts, kill_signal::terminate});
  if (settings_.kill_grace_s > 0) {
    set_timer(timer_kind::kill_grace, task, after(now, settings_.kill_grace_s));
  } else {
    out_->emplace_back(signal_action{task, attempts, kill_signal::kill});
  }
}

void group_machine::requeue_later(std::size_t task, double delay_s, clock_time now) {
  if (delay_s <= 0) {
    make_ready(task);
    return;
  }
  set_status(task, task_status::queued);
  delayed_[task] = true;
  ++waiting_delay_;
  set_timer(timer_kind::requeue, task, after(now, delay_s));
  changed(task);
}

void group_machine::finish_task(std::size_t task, task_status status, clock_time now,
                                bool satisfies_dependents) {
  // A worklist, not recursion: a failure at the head of a long chain skips
  // every task behind it.
  std::vector<std::pair<std::size_t, bool>> work{{task, satisfies_dependents}};
  bool first = true;
  while (!work.empty()) {
    const auto [i, satisfies] = work.back();
    work.pop_back();
    auto& st = states_[i];
    if (st.status == task_status::queued) {
      if (delayed_[i]) {
        delayed_[i] = false;
        --waiting_delay_;
        out_->emplace_back(cancel_timer_action{{timer_kind::requeue, i, st.attempts}});
      } else {
        dequeue(i);
      }
    }
    set_status(i, first ? status : task_status::skipped);
    st.finished = now;
    first = false;
    changed(i);
    const bool released = satisfies || st.status == task_status::completed;
    for (const auto d : dependents_[i]) {
      auto& ds = states_[d];
      if (ds.status != task_status::pending && ds.status != task_status::blocked) {
        continue;
      }
      if (released) {
        if (--unmet_[d] == 0 && ds.status == task_status::pending && !stopping_) {
          make_ready(d);
        }
      } else if (stopping_) {
        continue;  // the stop itself settles what still waits
      } else {
        ds.error =
            "not run: dependency " + tasks_[i].id + " is " + std::string(to_string(st.status));
        work.emplace_back(d, false);
      }
    }
  }
}

void group_machine::end_waiting_for_blockers() {
  waiting_for_blockers_ = false;
  // Tasks behind a blocked task can never run now: they are blocked too.
  std::vector<std::size_t> work;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (states_[i].status == task_status::blocked) {
      work.push_back(i);
    }
  }
  while (!work.empty()) {
    const auto i = work.back();
    work.pop_back();
    for (const auto d : dependents_[i]) {
      if (states_[d].status == task_status::pending) {
        set_status(d, task_status::blocked);
        states_[d].error = "waits for blocked task " + tasks_[i].id;
        changed(d);
        work.push_back(d);
      }
    }
  }
}

// --- the end of a group ---------------------------------------------------

void group_machine::maybe_post_execution(clock_time now) {
  if (finished_ || phase_ != group_phase::coordination || awaiting_command_ || running_ > 0 ||
      queued_ > 0 || waiting_delay_ > 0) {
    return;
  }
  // Counters, not a scan: this runs after every event.
  if (count(task_status::pending) + count(task_status::queued) + count(task_status::running) > 0 ||
      (waiting_for_blockers_ && count(task_status::blocked) > 0)) {
    return;
  }
  if (settings_.group_timeout_s > 0) {
    out_->emplace_back(cancel_timer_action{{timer_kind::group_timeout, 0, 0}});
  }
  out_->emplace_back(cancel_timer_action{{timer_kind::blocked_wait, 0, 0}});
  phase_ = group_phase::post_execution;
  group_changed();
  if (cancelled_) {
    finish_group(now);
    return;
  }
  if (count(task_status::failed) + count(task_status::timed_out) > 0 || timed_out_ || halted_) {
    conclude(now);
    return;
  }
  awaiting_command_ = true;
  out_->emplace_back(run_tests_action{});
}

void group_machine::conclude(clock_time now) {
  concluded_ = true;
  const bool any_failed = count(task_status::failed) + count(task_status::timed_out) > 0;
  const bool any_blocked = count(task_status::blocked) > 0;
  const bool tests_failed = test_status_ == test_status::failed ||
                            (test_status_ == test_status::none && settings_.test_required);
  if (any_failed || tests_failed || timed_out_ || !errors_.empty()) {
    final_ = group_status::failed;
  } else if (any_blocked) {
    final_ = group_status::incomplete;
  } else {
    final_ = group_status::completed;
  }
  if (final_ == group_status::completed && settings_.close_tasks) {
    close_tasks_action close;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (states_[i].status == task_status::completed) {
        close.tasks.push_back(i);
      }
    }
    if (!close.tasks.empty()) {
      awaiting_command_ = true;
      out_->emplace_back(std::move(close));
      return;
    }
  }
  finish_group(now);
}

void group_machine::finish_group(clock_time /*now*/) {
  status_ = cancelled_ ? group_status::cancelled : final_;
  finished_ = true;
  group_changed();
  out_->emplace_back(finished_action{status_});
}

}  // namespace maestro::core
