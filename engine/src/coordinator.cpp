#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maestro/coordinator.hpp>
#include <maestro/core/group_marker.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>

#include "group_runner.hpp"
#include "run_loop.hpp"

namespace maestro {
namespace asio = boost::asio;

namespace {

// 12 hex digits from the system's entropy: what names this engine run's
// cluster jobs (SPEC section 8). Another run's nonce is recorded in its
// groups' state.
std::string make_run_nonce() {
  std::random_device entropy;
  const auto bits = (static_cast<std::uint64_t>(entropy()) << 32U) | entropy();
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out(12, '0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = digits[(bits >> (4 * i)) & 0xFU];
  }
  return out;
}

// Does this agent have a command to run?
bool has_command(const core::config& config, const std::string& agent) {
  const auto found = config.agents.find(agent);
  if (found != config.agents.end() && found->second.command) {
    return !found->second.command->empty();
  }
  return !config.agent_defaults.command.empty();
}

std::string no_command_message(const std::string& agent, const std::string& task) {
  std::string message = "agent ";
  message += agent;
  message += " (task ";
  message += task;
  message += ") resolves to no command: give agents.";
  message += agent;
  message += ".command or agent_defaults.command";
  return message;
}

// The command's argv[0] as configured, or empty.
std::string command_name(const core::config& config, const std::string& agent) {
  const auto found = config.agents.find(agent);
  const auto& command = found != config.agents.end() && found->second.command
                            ? *found->second.command
                            : config.agent_defaults.command;
  return command.empty() ? std::string{} : command.front();
}

// What `run` and `execute` say of a completed stage that gained tasks.
template <class State>
std::string new_tasks_note(const State& state) {
  if (state.new_tasks == 0 || state.kind != decltype(state.kind)::completed) {
    return {};
  }
  return "completed before; ran only its " + std::to_string(state.new_tasks) + " new task" +
         (state.new_tasks == 1 ? "" : "s");
}

// Runs `read` on the state of `group_id`; a damaged state is refused
// (exit 2), naming the file and the reason.
template <class Read>
auto refusing_damaged(const std::string& group_id, Read read) {
  try {
    return read();
  } catch (const state_damaged& e) {
    throw refused("group " + core::printable(group_id) + ": " + e.what() +
                  " (move the group's directory away to start it afresh)");
  }
}

// Awaits a workspace call: its error, empty on success.
asio::awaitable<std::string> await_port(
    const std::function<void(std::function<void(std::string)>)>& call) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::string)>(
      [&call](auto handler) {
        // The port's handler is copyable; the coroutine's is not.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        call([shared](std::string error) { (*shared)(std::move(error)); });
      },
      asio::use_awaitable);
}

}  // namespace

int run_outcome::exit_code() const noexcept {
  bool incomplete = false;
  for (const auto& g : groups) {
    if (g.status == core::group_status::failed || g.status == core::group_status::cancelled) {
      return 1;
    }
    incomplete = incomplete || g.status == core::group_status::incomplete;
  }
  return stopped ? 1 : incomplete ? 4 : 0;
}

coordinator::coordinator(fields_only /*tag*/, executor_type strand, core::config config,
                         std::vector<core::task> tasks, coordinator_options options)
    : strand_(std::move(strand)),
      config_(std::move(config)),
      tasks_(std::move(tasks)),
      options_(std::move(options)) {
  state_dir_ =
      options_.state_dir.empty() ? std::filesystem::path(config_.state_dir) : options_.state_dir;
  if (state_dir_.is_relative()) {
    state_dir_ = options_.workdir / state_dir_;
  }
}

coordinator::coordinator(executor_type strand, core::config config, std::vector<core::task> tasks,
                         coordinator_options options, coordinator_ports ports)
    : coordinator(fields_only{}, std::move(strand), std::move(config), std::move(tasks),
                  std::move(options)) {
  wire(ports);
}

void coordinator::wire(coordinator_ports ports) {
  if (ports.process_launcher == nullptr || ports.state == nullptr ||
      ports.task_tracker == nullptr || ports.tests == nullptr || ports.clock == nullptr) {
    throw std::invalid_argument(
        "coordinator: the launcher, state, tracker, test runner and clock ports are required");
  }
  if (config_.workspace.kind == core::workspace_kind::worktree &&
      (ports.workspaces == nullptr || !ports.workspaces->isolated())) {
    throw refused("workspace.kind \"worktree\" needs a workspace port that isolates attempts");
  }
  ports_ = ports;
  core::plan_options plan_options;
  plan_options.keywords = &config_.keywords();
  plan_options.default_agent = config_.default_agent;
  plan_options.origin = options_.source;
  plan_options.group_by = config_.group_by;
  completed_ = ports_.state->completed_task_ids();
  completed_here_.assign(tasks_.size(), false);
  plan_options.completed_elsewhere = completed_;
  plan_ = core::make_plan(tasks_, plan_options);
  for (const auto& t : tasks_) {
    if (core::is_closed_status(t.status)) {
      closed_in_source_.insert(t.id);
    }
  }
  if (const auto capacity = ports_.process_launcher->capacity();
      capacity && config_.max_concurrent > capacity->children) {
    if (options_.sink != nullptr) {
      options_.sink->message(severity::warning,
                             "max_concurrent " + std::to_string(config_.max_concurrent) +
                                 " is more than " + capacity->limit + ": running at most " +
                                 std::to_string(capacity->children) + " agents at once; " +
                                 capacity->remedy);
    }
    config_.max_concurrent = capacity->children;
  }
  context_ = std::make_unique<detail::runtime_context>();
  context_->config = &config_;
  context_->workdir = options_.workdir;
  context_->state_dir = state_dir_;
  context_->ports = ports_;
  context_->sink = options_.sink;
  context_->base_environment = ports_.process_launcher->inherited_environment();
  context_->run_nonce = make_run_nonce();
}

coordinator::~coordinator() = default;

void coordinator::stop(core::stop_mode mode, std::string reason) {
  asio::dispatch(strand_, [this, mode, reason = std::move(reason)]() mutable {
    stopped_ = true;
    if (run_ != nullptr) {
      run_->push(core::run_stop_event{mode, std::move(reason)});
    } else if (current_ != nullptr) {
      current_->stop(mode, std::move(reason));
    }
  });
}

void coordinator::preflight(const std::vector<const core::stage*>& stages) const {
  if (std::any_of(stages.begin(), stages.end(), [](const auto* s) { return !s->tasks.empty(); })) {
    if (auto why = ports_.process_launcher->unavailable(); !why.empty()) {
      throw refused(why);
    }
  }
  std::map<std::string, bool, std::less<>> resolved;  // per agent
  for (const auto* stage : stages) {
    for (const auto planned : stage->tasks) {
      const auto& p = plan_.tasks[planned];
      const auto& t = tasks_[p.index];
      std::vector<std::string> chain{p.agent.agent};
      chain.insert(chain.end(), t.fallback_agents.begin(), t.fallback_agents.end());
      bool any = false;
      for (const auto& agent : chain) {
        auto it = resolved.find(agent);
        if (it == resolved.end()) {
          it = resolved
                   .emplace(agent, ports_.process_launcher->can_start(command_name(config_, agent),
                                                                      options_.workdir))
                   .first;
        }
        any = any || it->second;
      }
      if (any) {
        continue;
      }
      std::string tried;
      for (const auto& agent : chain) {
        const auto name = command_name(config_, agent);
        tried += (tried.empty() ? "" : ", ") + agent + " (" +
                 (name.empty() ? std::string("no command") : "`" + name + "` not found") + ")";
      }
      throw core::config_error("task " + core::printable(t.id) +
                               ": no agent of its chain can be started: " + core::printable(tried) +
                               "; set agents." + core::printable(chain.front()) +
                               ".command (or agent_defaults.command) in maestro.json to a "
                               "command that exists");
    }
  }
}

asio::awaitable<run_outcome> coordinator::execute_impl(std::string group_id,
                                                       completed_group policy) {
  run_outcome outcome;
  std::vector<const core::stage*> stages;
  if (group_id == core::sequential_group) {
    for (const auto& s : plan_.stages) {
      if (s.kind == core::stage_kind::sequential) {
        stages.push_back(&s);
      }
    }
  } else if (const auto* s = plan_.find_stage(group_id)) {
    stages.push_back(s);
  }
  if (stages.empty()) {
    throw refused("unknown group: " + core::printable(group_id));
  }
  preflight(stages);
  co_await check_workspace();
  std::size_t already = 0;
  for (const auto* s : stages) {
    if (stopped_) {
      outcome.groups.push_back({s->id, core::group_status::pending, "stopped", {}});
      continue;
    }
    // A group that exists in the state continues where it stopped (SPEC
    // section 4); `--force` runs it all again.
    auto start = stage_start::fresh;
    std::string note;
    if (policy == completed_group::refuse) {
      const auto state = recorded_stage(*s);
      if (state.kind == recorded::completed && state.new_tasks == 0) {
        if (stages.size() == 1) {
          throw refused("group " + core::printable(s->id) +
                        " already completed; use --force to run it again");
        }
        outcome.groups.push_back({s->id, core::group_status::completed, "already completed", {}});
        ++already;
        continue;
      }
      start = state.kind == recorded::absent ? stage_start::fresh : stage_start::resume;
      note = new_tasks_note(state);
    }
    auto result = co_await run_stage(*s, start);
    result.note = std::move(note);
    const bool failed = result.status != core::group_status::completed &&
                        result.status != core::group_status::incomplete;
    outcome.groups.push_back(std::move(result));
    if (failed) {
      break;  // sequential stages run in order: a failure stops the rest
    }
  }
  if (already == stages.size()) {
    throw refused("every sequential task already completed; use --force to run them again");
  }
  outcome.stopped = stopped_;
  co_await drain_ports();
  co_return outcome;
}

asio::awaitable<void> coordinator::open_stage(run_loop& loop, std::size_t k) {
  // Never throws: what goes wrong is the scheduler's to hear.
  const auto& stage = plan_.stages[k];
  core::run_event_body answer;
  try {
    const auto state = recorded_stage(stage);
    if (state.kind == recorded::completed && state.new_tasks == 0) {
      // Incremental, as make is: a completed stage is not run again.
      loop.outcomes[k] = {stage.id, core::group_status::completed, "already completed", {}};
      if (options_.sink != nullptr) {
        options_.sink->stage_settled(stage.id, stage.tasks.size(), "already completed");
      }
      answer = core::stage_settled_event{k, core::group_status::completed};
    } else {
      auto prepared = co_await prepare_stage(
          stage, state.kind == recorded::absent ? stage_start::fresh : stage_start::resume);
      loop.notes[k] = new_tasks_note(state);
      core::stage_setup setup;
      setup.tasks = std::move(prepared.request.machine_tasks);
      setup.epics = std::move(prepared.request.epics);
      setup.settings = prepared.request.settings;
      setup.parallel = prepared.request.parallel;
      loop.locks[k] = std::move(prepared.lock);
      auto runner = std::make_unique<detail::group_runner>(
          strand_, *context_, std::move(prepared.request), [&loop, k](core::event_body body) {
            loop.push(core::stage_event{k, std::move(body)});
          });
      runner->open_store();
      loop.runners[k] = std::move(runner);
      answer = core::stage_opened_event{k, std::move(setup)};
    }
  } catch (const std::exception& e) {
    loop.locks[k].reset();
    if (!loop.refusal) {
      loop.refusal = std::current_exception();
    }
    answer = core::stage_refused_event{k, e.what()};
  }
  --loop.opening;
  loop.push(std::move(answer));
}

coordinator::recorded_stage_state coordinator::recorded_stage(const core::stage& stage) const {
  const auto group = refusing_damaged(stage.id, [&] { return ports_.state->recorded(stage.id); });
  recorded_stage_state out;
  if (!group) {
    return out;
  }
  out.kind =
      group->status == core::group_status::completed ? recorded::completed : recorded::unfinished;
  std::unordered_set<std::string_view> known;
  for (const auto& t : group->tasks) {
    known.insert(t.id);
  }
  for (const auto planned : stage.tasks) {
    out.new_tasks += known.contains(tasks_[plan_.tasks[planned].index].id) ? 0 : 1;
  }
  return out;
}

asio::awaitable<void> coordinator::end_leftovers(
    const std::vector<std::pair<std::string, int>>& running, const core::stage& stage,
    const std::string& gone_nonce, const std::vector<std::string>& recorded_ids) {
  const auto& group_id = stage.id;
  auto& launcher = *ports_.process_launcher;
  // What that engine's launcher started outside this machine's process
  // groups (cluster jobs) first: named after its nonce, so nothing of
  // another run's is touched.
  if (!gone_nonce.empty() && gone_nonce != context_->run_nonce) {
    // The stage's tasks, and those the state recorded (a task gone from
    // the source since may have left a job too).
    std::unordered_set<std::string> ids(recorded_ids.begin(), recorded_ids.end());
    for (const auto planned : stage.tasks) {
      ids.insert(tasks_[plan_.tasks[planned].index].id);
    }
    const std::vector<std::string> names(ids.begin(), ids.end());
    const group_ref gone{gone_nonce, group_id, 1};
    if (const auto error =
            co_await await_port([&launcher, &gone, &names](launcher::done_handler done) {
              launcher.async_end_leftovers(gone, names, std::move(done));
            });
        !error.empty() && options_.sink != nullptr) {
      options_.sink->message(severity::warning,
                             "group " + core::printable(group_id) + ": " + error);
    }
  }
  // Process groups recorded as running belong to an engine that is gone
  // (the lock is ours): SIGTERM, the grace period, then SIGKILL. Only those
  // whose processes carry the task's and the group's ids are signalled.
  std::vector<int> groups;
  for (const auto& [id, pgid] : running) {
    if (std::find(groups.begin(), groups.end(), pgid) == groups.end() &&
        launcher.is_leftover(pgid, id, group_id)) {
      groups.push_back(pgid);
      if (options_.sink != nullptr) {
        options_.sink->message(severity::warning, "ending the leftover processes of task " +
                                                      core::printable(id) + " (process group " +
                                                      std::to_string(pgid) + ")");
      }
    }
  }
  if (groups.empty()) {
    co_return;
  }
  for (const int pgid : groups) {
    launcher.signal({0, pgid}, core::kill_signal::terminate);
  }
  co_await detail::pause(*ports_.clock, std::chrono::duration_cast<core::clock_time::duration>(
                                            std::chrono::duration<double>(config_.kill_grace_s)));
  for (const int pgid : groups) {
    launcher.signal({0, pgid}, core::kill_signal::kill);
  }
}

asio::awaitable<run_outcome> coordinator::resume_impl(std::string group_id) {
  const auto* stage = plan_.find_stage(group_id);
  if (stage == nullptr) {
    throw refused("unknown group: " + core::printable(group_id));
  }
  preflight({stage});
  const auto group = refusing_damaged(group_id, [&] { return ports_.state->recorded(group_id); });
  if (!group) {
    throw refused("group " + group_id + " has no state to resume; use execute");
  }
  co_await check_workspace();
  run_outcome outcome;
  if (group->status == core::group_status::completed) {
    outcome.groups.push_back({group_id, core::group_status::completed, "already completed", {}});
    co_return outcome;
  }
  outcome.groups.push_back(co_await run_stage(*stage, stage_start::resume));
  outcome.stopped = stopped_;
  co_await drain_ports();
  co_return outcome;
}

asio::awaitable<group_outcome> coordinator::run_stage(const core::stage& stage, stage_start start) {
  auto prepared = co_await prepare_stage(stage, start);
  detail::group_runner runner(strand_, *context_, std::move(prepared.request));
  current_ = &runner;
  if (stopped_) {
    runner.stop(core::stop_mode::graceful, "stopped before the group started");
  }
  const auto status = co_await runner.run();
  current_ = nullptr;
  note_completed(stage, runner.machine());
  if (status == core::group_status::cancelled) {
    stopped_ = true;  // stopped by stop() or by the host's cancellation: no more stages
  }
  co_return group_outcome{stage.id, status, {}, {}};
}

asio::awaitable<void> coordinator::check_workspace() {
  if (ports_.workspaces == nullptr) {
    co_return;
  }
  auto* work = ports_.workspaces;
  if (const auto error = co_await await_port(
          [work](workspace::done_handler done) { work->async_check(std::move(done)); });
      !error.empty()) {
    throw refused(error);
  }
}

asio::awaitable<void> coordinator::drain_ports() {
  // The operation's end: a cancellation that came meanwhile has nothing
  // left to stop, and must not cut this wait short.
  co_await asio::this_coro::reset_cancellation_state();
  if (ports_.workspaces != nullptr) {
    auto* work = ports_.workspaces;
    (void)co_await await_port(
        [work](workspace::done_handler done) { work->async_drain(std::move(done)); });
  }
  // What the launcher lets go of (a cluster's allocations) is let go of
  // before the operation completes.
  auto* launcher = ports_.process_launcher;
  (void)co_await await_port([launcher](launcher::done_handler done) {
    launcher->async_drain([done = std::move(done)] { done({}); });
  });
}

void coordinator::note_completed(const core::stage& stage, const core::group_machine& machine) {
  if (machine.status() == core::group_status::failed) {
    return;
  }
  for (std::size_t i = 0; i < machine.tasks().size(); ++i) {
    if (machine.state(i).status == core::task_status::completed) {
      completed_here_[plan_.tasks[stage.tasks[i]].index] = true;
    }
  }
}

asio::awaitable<coordinator::prepared_stage> coordinator::prepare_stage(const core::stage& stage,
                                                                        stage_start start) {
  auto& state = *ports_.state;
  auto lock = state.try_lock(stage.id);
  // The lock of an engine killed outright can outlive it for a moment: a
  // child it was spawning holds a copy of the descriptor until its exec
  // (posix_spawn's window between clone and exec). When the recorded
  // engine is gone, wait for that (up to 2 s) rather than refuse.
  for (int tries = 0;
       !lock && tries < 100 &&
       refusing_damaged(stage.id, [&] { return state.recorded_engine_gone(stage.id); });
       ++tries) {
    co_await detail::pause(*ports_.clock, std::chrono::milliseconds(20));
    lock = state.try_lock(stage.id);
  }
  if (!lock) {
    throw refused("group " + core::printable(stage.id) + " is already running (" +
                  state.lock_name(stage.id) + " is held)");
  }
  // What earlier runs recorded, per task: metadata.json, then the lines of
  // events.jsonl written after it (a SIGKILL may have come between).
  struct earlier_result {
    bool completed = false;
    std::vector<std::string> agents;
  };
  std::unordered_map<std::string, earlier_result> earlier;
  std::string created_at;
  if (auto group = refusing_damaged(stage.id, [&] { return state.recorded(stage.id); });
      group && start == stage_start::resume) {
    created_at = std::move(group->created_at);
    std::vector<std::pair<std::string, int>> running;
    for (auto& t : group->tasks) {
      if (t.status == core::task_status::running && t.pgid > 0) {
        running.emplace_back(t.id, t.pgid);
      }
      earlier[std::move(t.id)] = {t.status == core::task_status::completed, std::move(t.agents)};
    }
    for (auto& [id, replayed] :
         refusing_damaged(stage.id, [&] { return state.replay(stage.id); })) {
      auto& e = earlier[id];
      e.completed = e.completed || replayed.status == core::task_status::completed;
      if (replayed.attempt > e.agents.size() && !replayed.agent.empty()) {
        e.agents.push_back(replayed.agent);
      }
      if (replayed.status == core::task_status::running && replayed.pgid > 0) {
        running.emplace_back(id, replayed.pgid);
      }
    }
    std::vector<std::string> recorded_ids;
    recorded_ids.reserve(earlier.size());
    for (const auto& [id, e] : earlier) {
      recorded_ids.push_back(id);
    }
    co_await end_leftovers(running, stage, group->run_nonce, recorded_ids);
  }
  // The group's branch, once nothing of an earlier engine runs (SPEC
  // section 11).
  if (ports_.workspaces != nullptr) {
    auto* work = ports_.workspaces;
    const bool fresh = start == stage_start::fresh;
    if (const auto error = co_await await_port([work, &stage, fresh](workspace::done_handler done) {
          work->async_open_group(stage.id, fresh, std::move(done));
        });
        !error.empty()) {
      throw refused("group " + core::printable(stage.id) + ": " + error);
    }
  }

  // Dependencies outside this stage are satisfied by the source or by the
  // state directory: read once at start, then kept up to date with what
  // this coordinator's stages complete (reading it again for each stage
  // would make a run of many sequential stages quadratic).
  std::unordered_map<std::string_view, std::size_t> in_stage;
  for (std::size_t k = 0; k < stage.tasks.size(); ++k) {
    in_stage.emplace(tasks_[plan_.tasks[stage.tasks[k]].index].id, k);
  }

  // Closed in the source, completed in the state, or completed by an
  // earlier stage of this coordinator. `index` is the task's in the list,
  // or `core::gate::absent`.
  const auto satisfied = [this](std::size_t index, const std::string& id) {
    if (index != core::gate::absent &&
        (core::is_closed_status(tasks_[index].status) || completed_here_[index])) {
      return true;
    }
    return completed_.contains(id);
  };

  detail::group_request request;
  request.group_id = stage.id;
  request.group_name = stage.group;
  request.parallel = stage.kind == core::stage_kind::parallel;
  request.record.group_id = stage.id;
  request.record.group_name = request.parallel
                                  ? "Parallel Group " + stage.group
                                  : "Sequential task " + stage.id.substr(stage.group.size() + 1);
  request.record.parallel = request.parallel;
  request.record.max_concurrent = config_.max_concurrent;
  if (const auto it = config_.group_limits.find(stage.group); it != config_.group_limits.end()) {
    request.record.group_limit = it->second;
  }
  request.record.engine_pid = static_cast<int>(::getpid());
  request.record.run_nonce = context_->run_nonce;
  request.closed_in_source = closed_in_source_;
  request.record.source = options_.source;
  request.record.actor = ports_.task_tracker->actor();
  request.record.created_at = created_at;

  request.tasks.reserve(stage.tasks.size());
  request.machine_tasks.reserve(stage.tasks.size());
  request.record.skills.reserve(stage.tasks.size());
  request.record.log_names.reserve(stage.tasks.size());
  for (const auto planned_index : stage.tasks) {
    const auto& p = plan_.tasks[planned_index];
    const auto& t = tasks_[p.index];
    core::group_task g;
    g.id = t.id;
    g.priority = t.priority;
    g.chain.push_back(p.agent.agent);
    for (const auto& fallback : t.fallback_agents) {
      g.chain.push_back(fallback);
    }
    g.timeout_s = t.timeout_s;
    g.order = p.index;
    g.critical_path = critical_paths_.empty() ? 0 : critical_paths_[planned_index];
    if (const auto it = earlier.find(t.id); it != earlier.end()) {
      g.already_completed = it->second.completed;
      g.earlier_agents = it->second.agents;
    }
    // The plan's gates are beads' rules applied (inherited blockers, epics
    // standing for their children); those satisfied since are dropped.
    // Each id once (gates are unique by id).
    const auto add = [&](std::size_t index, const std::string& id) {
      if (const auto k = in_stage.find(id); k != in_stage.end()) {
        g.waits_for.push_back(k->second);
      } else if (!satisfied(index, id)) {
        g.blocked_by.push_back(id);
      }
    };
    for (const auto& gate : p.waits_for) {
      add(gate.index, gate.id);
    }
    for (const auto& u : p.blocked_by) {
      add(u.index, u.id);
    }
    for (const auto& agent : g.chain) {
      if (!has_command(config_, agent)) {
        throw refused(no_command_message(agent, t.id));
      }
      if (const auto it = config_.agents.find(agent);
          it != config_.agents.end() && it->second.max_concurrent) {
        request.record.agent_limits[agent] = *it->second.max_concurrent;
      }
    }
    request.record.skills.push_back(t.applicable_skills);
    request.record.log_names.push_back(core::log_file_name(t.id));
    request.tasks.push_back(&t);
    request.machine_tasks.push_back(std::move(g));
  }
  // The epics closed after this stage: what they wait for outside it has
  // completed already (an earlier stage that failed leaves them open).
  for (const auto k : stage.epics) {
    const auto& epic = plan_.epics[k];
    core::group_epic closing{tasks_[epic.index].id, {}};
    bool rest_done = true;
    for (const auto leaf : epic.waits_for) {
      if (const auto in = in_stage.find(tasks_[leaf].id); in != in_stage.end()) {
        closing.tasks.push_back(in->second);
      } else {
        rest_done = rest_done && satisfied(leaf, tasks_[leaf].id);
      }
    }
    if (rest_done) {
      request.epics.push_back(std::move(closing));
    }
  }
  // The tasks that depend on an epic closed with them (their own `blocks`
  // on it, not one inherited from a parent) are closed after it.
  if (!request.epics.empty()) {
    std::unordered_map<std::string_view, std::size_t> closing_epic;
    for (std::size_t e = 0; e < request.epics.size(); ++e) {
      closing_epic.emplace(request.epics[e].id, e);
    }
    for (std::size_t k = 0; k < stage.tasks.size(); ++k) {
      for (const auto& gate : plan_.tasks[stage.tasks[k]].waits_for) {
        if (gate.via.empty() && !gate.epic.empty()) {
          if (const auto e = closing_epic.find(gate.epic); e != closing_epic.end()) {
            auto& dependents = request.epics[e->second].dependents;
            if (dependents.empty() || dependents.back() != k) {
              dependents.push_back(k);  // once, though it waits for each of the epic's leaves
            }
          }
        }
      }
    }
  }
  // The lookups are not needed while the group runs (which may be long, and
  // hold 100,000 tasks).
  earlier = {};
  in_stage = {};

  auto& s = request.settings;
  s = core::settings_for(config_, stage.group);
  s.claims = !request.record.actor.empty();
  s.integrate = ports_.workspaces != nullptr && ports_.workspaces->isolated();
  s.seed = static_cast<std::uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL ^
           static_cast<std::uint64_t>(ports_.clock->now().time_since_epoch().count());

  co_return prepared_stage{std::move(lock), std::move(request)};
}

}  // namespace maestro
