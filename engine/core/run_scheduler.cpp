// The run-level scheduler: which stage opens, which queued task of which
// group launches next, and which group runs its command.

#include <limits>
#include <ostream>
#include <stdexcept>
#include <utility>

#include <maestro/core/overloaded.hpp>
#include <maestro/core/run_scheduler.hpp>

namespace maestro::core {

std::ostream& operator<<(std::ostream& out, const run_action& a) {
  std::visit(overloaded{
                 [&](const open_stage_action& o) { out << "open(s" << o.stage << ")"; },
                 [&](const stage_actions& s) {
                   for (std::size_t i = 0; i < s.actions.size(); ++i) {
                     out << (i == 0 ? "" : "\n") << "s" << s.stage << " " << s.actions[i];
                   }
                 },
                 [&](const stage_skipped_action& s) {
                   out << "skipped(s" << s.stage << ": " << s.reason << ")";
                 },
                 [&](const run_finished_action&) { out << "run_finished"; },
             },
             a);
  return out;
}

run_scheduler::run_scheduler(std::vector<run_stage> stages, run_settings settings)
    : settings_(std::move(settings)),
      pools_(std::make_shared<limit_pools>(settings_.max_concurrent)) {
  stages_.resize(stages.size());
  for (std::size_t k = 0; k < stages.size(); ++k) {
    stages_[k].spec = std::move(stages[k]);
    for (const auto before : stages_[k].spec.after) {
      if (before >= k) {
        throw std::invalid_argument("run_scheduler: stage " + std::to_string(k) +
                                    " waits for stage " + std::to_string(before) +
                                    ", which does not come before it");
      }
      stages_[before].dependents.push_back(k);
      ++stages_[k].unmet;
    }
  }
  for (const auto& [agent, limit] : settings_.agent_limits) {
    pools_->agent(agent).set_capacity(limit);
  }
}

std::vector<run_action> run_scheduler::handle(run_event e) {
  std::vector<run_action> actions;
  out_ = &actions;
  std::visit([this, &e](auto& body) { on(body, e.now); }, e.body);
  // Whatever the event freed or queued: slots first, then the command,
  // then the stages that can use what is left.
  dispatch(e.now);
  hand_over_command(e.now);
  open_ready_stages();
  if (finished() && !finish_reported_) {
    finish_reported_ = true;
    actions.emplace_back(run_finished_action{});
  }
  out_ = nullptr;
  return actions;
}

void run_scheduler::forget(std::size_t k) {
  auto& s = stages_.at(k);
  if (s.state == stage_state::finished) {
    s.machine.reset();
    s.offer = {};
    s.lane_agent = {};
  }
}

// --- events ------------------------------------------------------------------

void run_scheduler::on(run_start_event& /*e*/, clock_time /*now*/) {
  if (settings_.mode == schedule_mode::stages) {
    open_next_in_order();
    return;
  }
  for (std::size_t k = 0; k < stages_.size(); ++k) {
    open_if_ready(k);
  }
}

void run_scheduler::on(stage_opened_event& e, clock_time now) {
  if (e.stage >= stages_.size() || stages_[e.stage].state != stage_state::opening) {
    return;
  }
  const auto k = e.stage;
  auto& s = stages_[k];
  auto settings = std::move(e.setup.settings);
  settings.scheduled = true;
  settings.timeout_from_first_launch = settings_.mode == schedule_mode::graph;
  settings.max_concurrent = settings_.max_concurrent;
  pools_->group(s.spec.id).set_capacity(settings.group_limit.value_or(0));
  s.machine = std::make_unique<group_machine>(std::move(e.setup.tasks), std::move(settings),
                                              e.setup.parallel, pools_, s.spec.id,
                                              std::move(e.setup.epics));
  s.state = stage_state::running;
  s.lane_agent.clear();
  for (std::size_t lane = 0; lane < s.machine->lane_count(); ++lane) {
    s.lane_agent.push_back(agent_id(s.machine->lane_agent(lane)));
  }
  s.offer.assign(s.lane_agent.size(), std::nullopt);
  if (stopping_) {
    feed(k, stop_event{stop_.mode, "stopped before the group started"}, now);
    return;
  }
  feed(k, start_event{}, now);
}

void run_scheduler::on(stage_settled_event& e, clock_time /*now*/) {
  if (e.stage < stages_.size() && stages_[e.stage].state == stage_state::opening) {
    stage_ended(e.stage, e.status);
  }
}

void run_scheduler::on(stage_refused_event& e, clock_time now) {
  if (e.stage >= stages_.size() || stages_[e.stage].state != stage_state::opening) {
    return;
  }
  auto& s = stages_[e.stage];
  started(e.stage);
  s.state = stage_state::skipped;
  s.reason = e.reason;
  active_.erase(e.stage);
  ++done_;
  out_->emplace_back(stage_skipped_action{e.stage, e.reason});
  run_stop_event stop{stop_mode::graceful, "stage " + s.spec.id + " could not start"};
  on(stop, now);
}

void run_scheduler::on(stage_event& e, clock_time now) {
  if (e.stage < stages_.size() && stages_[e.stage].state == stage_state::running &&
      stages_[e.stage].machine) {
    feed(e.stage, std::move(e.body), now);
  }
}

void run_scheduler::on(run_stop_event& e, clock_time now) {
  const bool first = !stopping_;
  stopping_ = true;
  halted_ = true;
  if (first || e.mode == stop_mode::immediate) {
    stop_ = e;
  }
  skip_waiting("stopped");
  // A copy: a stage that ends leaves the set.
  const std::vector<std::size_t> active(active_.begin(), active_.end());
  for (const auto k : active) {
    if (stages_[k].state == stage_state::running) {
      feed(k, stop_event{e.mode, e.reason}, now);
    }
  }
}

// --- steps -------------------------------------------------------------------

void run_scheduler::feed(std::size_t k, event_body body, clock_time now) {
  auto& s = stages_[k];
  auto& m = *s.machine;
  if (auto actions = m.handle({now, std::move(body)}); !actions.empty()) {
    out_->emplace_back(stage_actions{k, std::move(actions)});
  }
  const auto queued = m.count(task_status::queued);
  queued_ = queued_ - s.queued + queued;
  s.queued = queued;
  offer(k);
  if (m.wants_command() && !s.asked_for_command) {
    s.asked_for_command = true;
    command_queue_.push_back(k);
  }
  if (command_holder_ == k && !m.command_running()) {
    command_holder_.reset();
  }
  if (s.starting && m.lifecycle() != group_lifecycle::pending &&
      m.lifecycle() != group_lifecycle::refreshing) {
    started(k);  // its tasks are queued (or it ended)
  }
  if (is_finished(m.lifecycle()) && s.state == stage_state::running) {
    stage_ended(k, m.status());
  }
}

void run_scheduler::offer(std::size_t k) {
  auto& s = stages_[k];
  const auto& m = *s.machine;
  const bool takes = m.takes_launches() && m.group_has_room();
  for (std::size_t lane = 0; lane < s.offer.size(); ++lane) {
    std::optional<entry> wanted;
    if (const auto task = takes ? m.lane_head(lane) : ready_queue::none;
        task != ready_queue::none) {
      const auto rank = m.rank(task);
      wanted = entry{rank.priority, std::numeric_limits<std::size_t>::max() - rank.critical_path,
                     m.tasks()[task].order, k, task};
    }
    auto& offered = s.offer[lane];
    if (wanted == offered) {
      continue;
    }
    auto& run_lane = lanes_[s.lane_agent[lane]];
    if (offered) {
      run_lane.erase(*offered);
    }
    if (wanted) {
      run_lane.insert(*wanted);
    }
    offered = wanted;
  }
}

void run_scheduler::dispatch(clock_time now) {
  auto& global = pools_->global();
  while (global.has_room()) {
    const entry* best = nullptr;
    for (std::size_t agent = 0; agent < lanes_.size(); ++agent) {
      const auto& lane = lanes_[agent];
      if (!lane.empty() && (best == nullptr || *lane.begin() < *best) &&
          agent_pools_[agent]->has_room()) {
        best = &*lane.begin();
      }
    }
    if (best == nullptr) {
      return;
    }
    const auto pick = *best;
    const auto before = global.in_use();
    feed(pick.stage, launch_granted_event{pick.task}, now);
    if (global.in_use() == before) {
      return;  // the group did not take it: never loop on it
    }
  }
}

void run_scheduler::hand_over_command(clock_time now) {
  while (!command_holder_ && !command_queue_.empty()) {
    const auto k = command_queue_.front();
    command_queue_.pop_front();
    auto& s = stages_[k];
    s.asked_for_command = false;
    if (s.state != stage_state::running || !s.machine || !s.machine->wants_command()) {
      continue;  // it ended (or stopped) while it waited
    }
    command_holder_ = k;
    feed(k, command_granted_event{}, now);
  }
}

void run_scheduler::stage_ended(std::size_t k, group_status status) {
  auto& s = stages_[k];
  started(k);
  s.state = stage_state::finished;
  s.status = status;
  active_.erase(k);
  ++done_;
  if (command_holder_ == k) {
    command_holder_.reset();
  }
  const bool failed = status == group_status::failed || status == group_status::cancelled;
  if (status == group_status::cancelled || (failed && !settings_.keep_going)) {
    halted_ = true;
    skip_waiting("stopped");
  }
  if (status != group_status::completed) {
    skip_dependents(k);
  } else {
    for (const auto d : s.dependents) {
      if (stages_[d].state == stage_state::waiting) {
        --stages_[d].unmet;
        open_if_ready(d);
      }
    }
  }
  open_next_in_order();
}

void run_scheduler::skip_dependents(std::size_t k) {
  // In run order, which is an order where every stage comes after what it
  // waits for: each is skipped for the first cause found.
  std::map<std::size_t, std::size_t> to_skip;  // stage -> the stage that did not complete
  for (const auto d : stages_[k].dependents) {
    to_skip.emplace(d, k);
  }
  while (!to_skip.empty()) {
    const auto [d, cause] = *to_skip.begin();
    to_skip.erase(to_skip.begin());
    auto& ds = stages_[d];
    if (ds.state != stage_state::waiting) {
      continue;
    }
    mark_skipped(d, "depends on stage " + stages_[cause].spec.id + ", which did not complete");
    for (const auto next : ds.dependents) {
      to_skip.emplace(next, d);
    }
  }
}

void run_scheduler::mark_skipped(std::size_t k, std::string reason) {
  auto& s = stages_[k];
  if (s.ready) {
    s.ready = false;
    ready_stages_.erase(key_of(k));
  }
  started(k);
  s.state = stage_state::skipped;
  s.reason = std::move(reason);
  ++done_;
  out_->emplace_back(stage_skipped_action{k, s.reason});
}

void run_scheduler::skip_waiting(const std::string& reason) {
  for (std::size_t k = 0; k < stages_.size(); ++k) {
    if (stages_[k].state == stage_state::waiting) {
      mark_skipped(k, reason);
    }
  }
}

void run_scheduler::open_if_ready(std::size_t k) {
  auto& s = stages_[k];
  if (settings_.mode == schedule_mode::graph && !halted_ && s.state == stage_state::waiting &&
      s.unmet == 0 && !s.ready) {
    s.ready = true;
    ready_stages_.insert(key_of(k));
  }
}

void run_scheduler::open_ready_stages() {
  const auto& global = pools_->global();
  while (!halted_ && !ready_stages_.empty()) {
    const auto best = *ready_stages_.begin();
    // Slots that no queued task can take (the dispatch just ran), beyond
    // what the stages already opening will queue.
    const bool idle = global.capacity() <= 0 ||
                      (global.has_room() && global.in_use() + starting_tasks_ <
                                                static_cast<std::size_t>(global.capacity()));
    if (!idle) {
      // Or a task that goes before every task queued or about to be.
      bool first = starting_.empty() || best < *starting_.begin();
      for (const auto& lane : lanes_) {
        first = first && (lane.empty() || best < *lane.begin());
      }
      if (!first) {
        return;
      }
    }
    ready_stages_.erase(ready_stages_.begin());
    stages_[best.stage].ready = false;
    open(best.stage);
  }
}

void run_scheduler::started(std::size_t k) {
  auto& s = stages_[k];
  if (s.starting) {
    s.starting = false;
    starting_.erase(starting_.find(key_of(k)));
    starting_tasks_ -= s.spec.tasks;
  }
}

run_scheduler::entry run_scheduler::key_of(std::size_t k) const {
  const auto& spec = stages_[k].spec;
  return {spec.best.priority, std::numeric_limits<std::size_t>::max() - spec.best.critical_path,
          spec.order, k, 0};
}

void run_scheduler::open_next_in_order() {
  if (settings_.mode != schedule_mode::stages || halted_ || !active_.empty()) {
    return;
  }
  for (; next_in_order_ < stages_.size(); ++next_in_order_) {
    if (stages_[next_in_order_].state == stage_state::waiting) {
      if (stages_[next_in_order_].unmet == 0) {
        open(next_in_order_);
      }
      return;
    }
  }
}

void run_scheduler::open(std::size_t k) {
  auto& s = stages_[k];
  s.state = stage_state::opening;
  active_.insert(k);
  if (settings_.mode == schedule_mode::graph) {
    s.starting = true;
    starting_.insert(key_of(k));
    starting_tasks_ += s.spec.tasks;
  }
  out_->emplace_back(open_stage_action{k});
}

std::size_t run_scheduler::agent_id(const std::string& name) {
  const auto [it, added] = agent_ids_.emplace(name, lanes_.size());
  if (added) {
    lanes_.emplace_back();
    agent_pools_.push_back(&pools_->agent(name));
  }
  return it->second;
}

}  // namespace maestro::core
