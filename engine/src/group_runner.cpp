#include "group_runner.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <unordered_set>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maestro/agent_command.hpp>
#include <maestro/core/names.hpp>
#include <maestro/core/overloaded.hpp>
#include <maestro/log.hpp>
#include <maestro/time_text.hpp>

namespace maestro::detail {
namespace asio = boost::asio;
using core::clock_time;

namespace {

using core::join;

// Descriptors, processes, memory or disk space ran out: the system's
// limits, not the agent's failure.
bool out_of_resources(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category() &&
      ec.category() != boost::system::generic_category()) {
    return false;
  }
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN || e == ENOSPC || e == EDQUOT;
}

std::string describe_exit(const exit_info& x) {
  return x.signal != 0 ? "killed by signal " + std::to_string(x.signal)
                       : "exit code " + std::to_string(x.exit_code);
}

// A variable that, inherited from the engine (a git hook that runs it sets
// them), would point a child's git at the user's checkout rather than at
// its worktree.
bool points_git_elsewhere(std::string_view name) {
  return name == "GIT_DIR" || name == "GIT_WORK_TREE" || name == "GIT_INDEX_FILE" ||
         name == "GIT_COMMON_DIR" || name == "GIT_PREFIX" || name == "GIT_OBJECT_DIRECTORY";
}

// The end of a test run's output that `classify` reads.
constexpr std::size_t test_output_tail = std::size_t{64} * 1024;

}  // namespace

asio::awaitable<void> pause(engine_clock& clock, core::clock_time::duration d) {
  // A timer that never expires, woken by the clock's alarm.
  asio::steady_timer wake(co_await asio::this_coro::executor,
                          asio::steady_timer::time_point::max());
  const auto alarm = clock.at(clock.now() + d, [&wake] { wake.cancel(); });
  co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
}

template <class F>
auto group_runner::port_call(F f) {
  // A handler may come after the runner ended (a discard, the group's
  // close): it then does nothing.
  return [f = std::move(f), alive = std::weak_ptr<int>(alive_)](auto&&... args) mutable {
    if (!alive.expired()) {
      f(std::forward<decltype(args)>(args)...);
    }
  };
}

group_runner::group_runner(asio::any_io_executor strand, const runtime_context& context,
                           group_request request)
    : strand_(std::move(strand)),
      context_(context),
      request_(std::move(request)),
      own_(std::make_unique<core::group_machine>(std::move(request_.machine_tasks),
                                                 request_.settings, request_.parallel,
                                                 std::move(request_.epics))),
      machine_(own_.get()),
      wake_(strand_),
      children_(machine_->tasks().size()),
      claimed_(machine_->settings().claims ? machine_->tasks().size() : 0, claim::none) {}

group_runner::group_runner(asio::any_io_executor strand, const runtime_context& context,
                           group_request request, std::function<void(core::event_body)> post)
    : strand_(std::move(strand)),
      context_(context),
      request_(std::move(request)),
      machine_(nullptr),
      post_(std::move(post)),
      wake_(strand_),
      children_(request_.tasks.size()),
      claimed_(request_.settings.claims ? request_.tasks.size() : 0, claim::none) {}

void group_runner::attach(const core::group_machine& machine) {
  machine_ = &machine;
}

group_runner::~group_runner() = default;

void group_runner::push(core::event_body body) {
  if (post_) {
    post_(std::move(body));  // to the run's scheduler, which owns the machine
    return;
  }
  queue_.push_back({context_.ports.clock->now(), std::move(body)});
  if (waiting_) {
    wake_.cancel();
  }
}

std::function<void(core::event_body)> group_runner::pusher() {
  // What it needs is copied now: the port may answer after the runner.
  return [this, strand = strand_, alive = std::weak_ptr<int>(alive_)](core::event_body body) {
    asio::post(strand, [this, alive, body = std::move(body)]() mutable {
      if (!alive.expired()) {
        push(std::move(body));
      }
    });
  };
}

void group_runner::stop(core::stop_mode mode, std::string reason) {
  push(core::stop_event{mode, std::move(reason)});
}

void group_runner::open_store() {
  // The store keeps the record (per-task data: one copy, not two).
  // State that cannot be written (a full disk, a planted symlink): nothing
  // more is launched, the children that run are left to end, the store
  // keeps trying, and the group fails with the reason.
  state_repository::written_handler on_written;
  if (context_.sink != nullptr) {
    on_written = [this](std::size_t bytes, std::chrono::nanoseconds spent) {
      context_.sink->state_written(request_.group_id, bytes, spent);
    };
  }
  store_ = context_.ports.state->open(
      std::move(request_.record),
      [this](const std::string& error) {
        if (state_failed_) {
          return;
        }
        state_failed_ = true;
        if (context_.sink != nullptr) {
          context_.sink->message(severity::error, error);
        }
        push(core::halt_event{error + "; no more launches"});
      },
      std::move(on_written));
}

void group_runner::begin() {
  if (context_.sink != nullptr) {
    context_.sink->group_started(request_.group_id, *machine_);
  }
  store_->flush(*machine_);  // the first state, before anything launches
  watch_source();
}

asio::awaitable<core::group_status> group_runner::run() {
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  open_store();
  begin();
  push(core::start_event{});
  while (!finished_) {
    while (queue_.empty()) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      waiting_ = true;
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      waiting_ = false;
      const auto state = co_await asio::this_coro::cancellation_state;
      if (const auto type = state.cancelled(); type != asio::cancellation_type::none) {
        // The host cancelled: stop the group, then go on until it has.
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        stop((type & asio::cancellation_type::terminal) != asio::cancellation_type::none
                 ? core::stop_mode::immediate
                 : core::stop_mode::graceful,
             "cancelled by the host");
      }
    }
    const auto e = std::move(queue_.front());
    queue_.pop_front();
    for (const auto& a : own_->handle(e)) {
      // An action that throws (memory, descriptors) must not end this
      // coroutine while children run: their exit handlers refer to it.
      // The group halts instead and is carried to its end.
      try {
        execute(a);
      } catch (const std::exception& error) {
        push(core::halt_event{std::string("internal error: ") + error.what()});
      }
    }
  }
  co_return co_await end();
}

asio::awaitable<core::group_status> group_runner::end() {
  timers_.clear();
  watch_.reset();
  release_reservation();
  if (isolated()) {
    // The test worktree goes (kept with keep_failed when the group did not
    // complete). Not awaited: the workspace runs it in its turn, and the
    // coordinator waits for the workspace before its operation completes.
    context_.ports.workspaces->async_close_group(
        request_.group_id, machine_->status() == core::group_status::completed,
        port_call([this](const std::string& error) {
          if (!error.empty() && context_.sink != nullptr) {
            context_.sink->message(severity::warning, "group " + request_.group_id + ": " + error);
          }
        }));
  }
  // The terminal state, before anyone is told. A full disk may free up:
  // try for a few seconds before giving up with the reason.
  for (int attempt = 1;; ++attempt) {
    try {
      store_->flush(*machine_);
      break;
    } catch (const std::runtime_error&) {
      if (attempt == terminal_write_attempts) {
        throw;
      }
    }
    co_await pause(*context_.ports.clock, std::chrono::milliseconds(250));
  }
  if (context_.sink != nullptr) {
    context_.sink->group_finished(request_.group_id, *machine_);
  }
  co_return machine_->status();
}

void group_runner::execute(const core::action& a) {
  std::visit(
      core::overloaded{
          [this](const core::run_refresh_action&) {
            const auto& refresh = *context_.config->refresh;
            // Its time limit is the core's (a command_timeout timer).
            start_command(refresh.command, "_refresh.log", [this](const exit_info& x) {
              push(core::refresh_done_event{x.exit_code == 0, describe_exit(x)});
            });
          },
          [this](const core::launch_action& l) { launch(l); },
          [this](const core::signal_action& s) {
            const auto& child = children_[s.task];
            if (child && child->first == s.attempt) {
              context_.ports.process_launcher->signal(child->second, s.signal);
            } else if (const auto r = reserving_.find(s.task);
                       r != reserving_.end() && r->second == s.attempt) {
              // Waiting for what the launcher readies (which may
              // take minutes): it ends now, launched never.
              reserving_.erase(r);
              push(core::launch_failed_event{s.task, s.attempt, "stopped before it launched"});
            } else if (const auto c = claiming_.find(s.task);
                       c != claiming_.end() && c->second.attempt == s.attempt) {
              c->second.stopped = true;  // not spawned once the claim ends
            }
          },
          [this](const core::signal_command_action& c) { stop_command(c.signal); },
          [this](const core::set_timer_action& t) { set_timer(t.id, t.deadline); },
          [this](const core::cancel_timer_action& t) { timers_.erase(t.id); },
          [this](const core::run_tests_action&) { run_tests(); },
          [this](const core::integrate_action& i) { integrate(i); },
          [this](const core::discard_workspace_action& d) { discard(d); },
          [this](const core::integrate_group_action&) { integrate_group(); },
          [this](const core::close_tasks_action& c) { close_tasks(c); },
          [this](const core::release_claims_action& r) { release_claims(r); },
          [this](const core::task_changed_action& t) {
            store_->task_changed(*machine_, t.task, context_.ports.clock->now());
            if (context_.sink != nullptr) {
              context_.sink->task_changed(request_.group_id, *machine_, t.task);
            }
          },
          [this](const core::group_changed_action&) {
            store_->group_changed(*machine_, context_.ports.clock->now());
          },
          [this](const core::finished_action&) { finished_ = true; },
      },
      a);
}

void group_runner::close_tasks(const core::close_tasks_action& c) {
  // The core's order: each epic at its slot among the tasks (after the
  // tasks when it gives none).
  struct item {
    bool epic = false;
    std::size_t index = 0;
  };
  std::vector<item> items;
  items.reserve(c.tasks.size() + c.epics.size());
  std::size_t next_epic = 0;
  const auto epics_at = [&](std::size_t slot) {
    while (next_epic < c.epics.size() &&
           (next_epic < c.epic_slots.size() ? c.epic_slots[next_epic] : c.tasks.size()) == slot) {
      items.push_back({true, c.epics[next_epic++]});
    }
  };
  for (std::size_t k = 0; k < c.tasks.size(); ++k) {
    epics_at(k);
    items.push_back({false, c.tasks[k]});
  }
  epics_at(c.tasks.size());
  std::vector<std::string> ids;
  ids.reserve(items.size());
  for (const auto& it : items) {
    ids.push_back(it.epic ? machine_->epics()[it.index].id : machine_->tasks()[it.index].id);
  }
  context_.ports.task_tracker->async_close(
      ids, [items = std::move(items), ids, push = pusher()](const std::vector<std::string>& closed,
                                                            std::vector<std::string> errors) {
        const std::unordered_set<std::string_view> done_ids(closed.begin(), closed.end());
        core::close_done_event done;
        for (std::size_t k = 0; k < items.size(); ++k) {
          if (done_ids.contains(ids[k])) {
            (items[k].epic ? done.closed_epics : done.closed).push_back(items[k].index);
          }
        }
        done.errors = std::move(errors);
        push(std::move(done));
      });
}

void group_runner::release_claims(const core::release_claims_action& r) {
  // The core names every task attempted here that did not complete; only
  // those this run claimed are handed back.
  std::vector<tracker::release_request> requests;
  for (const auto i : r.tasks) {
    if (i < claimed_.size() && claimed_[i] != claim::none) {
      const auto& st = machine_->state(i);
      std::string reason = "maestro-async: " + std::string(core::to_string(st.status)) +
                           " in group " + request_.group_id;
      const std::string& why =
          !st.error.empty() || st.history.empty() ? st.error : st.history.back().error;
      if (!why.empty()) {
        reason += ": " + why;
      }
      requests.push_back({machine_->tasks()[i].id, std::move(reason)});
    }
  }
  auto push = pusher();
  if (requests.empty()) {
    push(core::release_done_event{});
    return;
  }
  context_.ports.task_tracker->async_release(
      std::move(requests), [push = std::move(push)](std::vector<std::string> errors) {
        push(core::release_done_event{std::move(errors)});
      });
}

launch_spec group_runner::make_spec(std::size_t task, const std::string& agent,
                                    std::uint32_t attempt, const std::filesystem::path& dir) const {
  auto command = build_agent_command(*context_.config, *request_.tasks[task], agent, attempt,
                                     {request_.group_id, dir, context_.state_dir});
  launch_spec spec;
  spec.argv = std::move(command.argv);
  spec.role = child_role::agent;
  spec.group.run_nonce = context_.run_nonce;
  spec.group.group_id = request_.group_id;
  spec.task_id = request_.tasks[task]->id;
  if (dir != context_.workdir) {
    spec.workdir = dir;
    command.env["MAESTRO_WORKTREE"] = dir.string();
    // A relative argv[0] is the engine's (SPEC section 3), not the
    // worktree's, which holds only tracked files.
    if (!spec.argv.empty() && spec.argv.front().find('/') != std::string::npos &&
        std::filesystem::path(spec.argv.front()).is_relative()) {
      spec.argv.front() = (context_.workdir / spec.argv.front()).lexically_normal().string();
    }
  }
  spec.stdin_data = std::move(command.stdin_data);
  // The engine's environment, then the agent's and ours, which win. In a
  // worktree, the engine's GIT_DIR and the like (set when a git hook runs
  // the engine) would point the agent's git at the user's checkout: gone.
  spec.env.reserve(context_.base_environment.size() + command.env.size());
  for (const auto& entry : context_.base_environment) {
    const std::string_view name = std::string_view(entry).substr(0, entry.find('='));
    if (!spec.workdir.empty() && points_git_elsewhere(name)) {
      continue;
    }
    if (command.env.find(name) == command.env.end()) {
      spec.env.push_back(entry);
    }
  }
  for (const auto& [k, v] : command.env) {
    std::string entry = k;
    entry += '=';
    entry += v;
    spec.env.push_back(std::move(entry));
  }
  spec.log_file = store_->record().log_path(task);
  spec.log_header = "=== maestro-async: attempt " + std::to_string(attempt) + ", agent " +
                    core::printable(agent) + ", at " + wall_time(context_.ports.clock->now()) +
                    ": " + printable_command_line(spec.argv);
  return spec;
}

void group_runner::launch(const core::launch_action& l) {
  if (claimed_.empty() || claimed_[l.task] == claim::held) {
    reserve(l);
    return;
  }
  claiming_[l.task] = {l.attempt, false};
  context_.ports.task_tracker->async_claim(
      machine_->tasks()[l.task].id, [this, l, strand = strand_, alive = std::weak_ptr<int>(alive_)](
                                        tracker::claim_result result) {
        asio::post(strand, [this, l, alive, result = std::move(result)] {
          if (alive.expired()) {
            return;
          }
          const auto pending = claiming_.find(l.task);
          const bool stopped = pending == claiming_.end() || pending->second.stopped;
          claiming_.erase(l.task);
          switch (result.outcome) {
            case tracker::claim_outcome::claimed:
              claimed_[l.task] = claim::held;  // handed back at the end if it does not complete
              if (stopped) {
                push(core::launch_failed_event{l.task, l.attempt, "stopped before it launched"});
                return;
              }
              // As in `run`: what throws (memory, descriptors) halts the
              // group rather than leaving the event loop.
              try {
                reserve(l);
              } catch (const std::exception& error) {
                push(core::halt_event{std::string("internal error: ") + error.what()});
                push(core::launch_failed_event{l.task, l.attempt, error.what()});
              }
              return;
            case tracker::claim_outcome::held:
              push(core::claim_refused_event{l.task, l.attempt, result.detail});
              return;
            case tracker::claim_outcome::failed: {
              // It may have been made all the same (bd killed after it
              // committed, output that did not parse): handed back at the
              // end, which the tracker does only if the claim is ours.
              claimed_[l.task] = claim::maybe;  // claimed again at the next attempt
              std::string error =
                  "cannot claim " + machine_->tasks()[l.task].id + ": " + result.detail;
              context_.ports.process_launcher->append_to_log(
                  store_->record().log_path(l.task),
                  "=== maestro-async: attempt " + std::to_string(l.attempt) + ": " + error);
              push(core::launch_failed_event{l.task, l.attempt, std::move(error)});
              return;
            }
          }
        });
      });
}

attempt_ref group_runner::attempt_of(std::size_t task, std::uint32_t attempt) const {
  return {request_.group_id, request_.tasks[task]->id, request_.tasks[task]->title, attempt};
}

void group_runner::reserve(const core::launch_action& l) {
  if (!reserve_error_.empty()) {
    push(core::launch_failed_event{l.task, l.attempt, reserve_error_});
    return;
  }
  const auto& record = store_->record();
  group_ref group{context_.run_nonce, request_.group_id, record.max_concurrent};
  if (record.group_limit && *record.group_limit > 0 &&
      (group.slots <= 0 || *record.group_limit < group.slots)) {
    group.slots = *record.group_limit;
  }
  group.slots = std::max(group.slots, 1);
  reserved_ = true;
  reserving_[l.task] = l.attempt;
  // Called at once by a launcher that holds nothing per group.
  context_.ports.process_launcher->async_reserve(
      group, port_call([this, l](const std::string& error) {
        const auto waiting = reserving_.find(l.task);
        if (waiting == reserving_.end() || waiting->second != l.attempt) {
          return;  // stopped meanwhile: its launch failed then
        }
        reserving_.erase(waiting);
        if (!error.empty()) {
          context_.ports.process_launcher->append_to_log(
              store_->record().log_path(l.task),
              "=== maestro-async: attempt " + std::to_string(l.attempt) + ": " + error);
          if (reserve_error_.empty()) {
            reserve_error_ = error;
            // Every other launch would wait for it again: the group halts.
            push(core::halt_event{error});
          }
          push(core::launch_failed_event{l.task, l.attempt, error});
          return;
        }
        try {
          prepare(l);
        } catch (const std::exception& e) {
          push(core::halt_event{std::string("internal error: ") + e.what()});
          push(core::launch_failed_event{l.task, l.attempt, e.what()});
        }
      }));
}

void group_runner::release_reservation() {
  if (reserved_) {
    reserved_ = false;
    context_.ports.process_launcher->release(request_.group_id);
  }
}

void group_runner::prepare(const core::launch_action& l) {
  if (!isolated()) {
    spawn(l, context_.workdir);
    return;
  }
  claiming_[l.task] = {l.attempt, false};
  context_.ports.workspaces->async_prepare(
      attempt_of(l.task, l.attempt),
      port_call([this, l](const workspace_dir& where, const std::string& error) {
        const auto pending = claiming_.find(l.task);
        const bool stopped = pending == claiming_.end() || pending->second.stopped;
        claiming_.erase(l.task);
        if (!error.empty()) {
          context_.ports.process_launcher->append_to_log(
              store_->record().log_path(l.task),
              "=== maestro-async: attempt " + std::to_string(l.attempt) + ": " + error);
          push(core::launch_failed_event{l.task, l.attempt, error});
          return;
        }
        push(core::workspace_ready_event{l.task, l.attempt, where.dir.string(), where.branch});
        if (stopped) {
          push(core::launch_failed_event{l.task, l.attempt, "stopped before it launched"});
          return;
        }
        try {
          spawn(l, where.dir);
        } catch (const std::exception& e) {
          push(core::halt_event{std::string("internal error: ") + e.what()});
          push(core::launch_failed_event{l.task, l.attempt, e.what()});
        }
      }));
}

void group_runner::integrate(const core::integrate_action& a) {
  context_.ports.workspaces->async_integrate(
      attempt_of(a.task, a.attempt), port_call([this, a](const std::string& error) {
        if (!error.empty()) {
          context_.ports.process_launcher->append_to_log(
              store_->record().log_path(a.task),
              "=== maestro-async: attempt " + std::to_string(a.attempt) + ": " + error);
        }
        push(core::integrated_event{a.task, a.attempt, error});
      }));
}

void group_runner::discard(const core::discard_workspace_action& a) {
  context_.ports.workspaces->async_discard(
      attempt_of(a.task, a.attempt), port_call([this](const std::string& error) {
        if (!error.empty() && context_.sink != nullptr) {
          context_.sink->message(severity::warning, "group " + request_.group_id + ": " + error);
        }
      }));
}

void group_runner::integrate_group() {
  context_.ports.workspaces->async_integrate_group(
      request_.group_id, port_call([this](const std::string& error) {
        push(core::group_integrated_event{error.empty() ? error : "integration: " + error});
      }));
}

void group_runner::spawn(const core::launch_action& l, const std::filesystem::path& dir) {
  auto spec = make_spec(l.task, l.agent, l.attempt, dir);
  spec.on_placed = port_call([this, task = l.task, attempt = l.attempt](std::string job_id) {
    push(core::placed_event{task, attempt, std::move(job_id)});
  });
  if (spec.argv.empty()) {
    const std::string error = "agent " + l.agent + " resolves to no command";
    context_.ports.process_launcher->append_to_log(
        spec.log_file, spec.log_header + "\n=== maestro-async: " + error);
    push(core::launch_failed_event{l.task, l.attempt, error});
    return;
  }
  boost::system::error_code ec;
  const auto child = context_.ports.process_launcher->launch(
      spec,
      [this, task = l.task, attempt = l.attempt](const exit_info& x) {
        if (children_[task] && children_[task]->first == attempt) {
          if (isolated()) {
            // What it left running in its process group would go on
            // writing in a worktree about to be committed or removed: it
            // ends now, while the group's id cannot have been reused.
            context_.ports.process_launcher->signal(children_[task]->second,
                                                    core::kill_signal::kill);
          }
          // Reaped: its pid and process group may be reused from now on.
          children_[task].reset();
        }
        if (context_.sink != nullptr) {
          context_.sink->attempt_exited(*machine_, task, context_.ports.clock->now());
        }
        if (log::enabled(log::level::debug)) {
          log::write(log::level::debug,
                     "group " + request_.group_id + ": " + request_.tasks[task]->id + " attempt " +
                         std::to_string(attempt) + " ended: " + describe_exit(x));
        }
        push(core::exited_event{task, attempt, x.exit_code, x.signal});
      },
      ec);
  if (ec) {
    const std::string error =
        "cannot start " + core::printable(spec.argv.front()) + ": " + ec.message();
    context_.ports.process_launcher->append_to_log(spec.log_file, "=== maestro-async: " + error);
    if (out_of_resources(ec)) {
      // Not the agent's fault, and every other launch would fail alike.
      push(core::halt_event{error + "; no more launches (the running agents are left to end)"});
    }
    push(core::launch_failed_event{l.task, l.attempt, error});
    return;
  }
  children_[l.task] = std::make_pair(l.attempt, child);
  if (log::enabled(log::level::debug)) {
    log::write(log::level::debug, "group " + request_.group_id + ": launched " +
                                      request_.tasks[l.task]->id + " attempt " +
                                      std::to_string(l.attempt) + " (" + l.agent + "), pid " +
                                      std::to_string(child.pid));
  }
  if (context_.sink != nullptr) {
    context_.sink->attempt_launched(*machine_, l.task, context_.ports.clock->now());
  }
  push(core::launched_event{l.task, l.attempt, child.pid, child.pgid});
}

void group_runner::set_timer(const core::timer_id& id, clock_time deadline) {
  // The alarm ends with the runner (or with its cancel action): its call
  // never comes after.
  timers_[id] = context_.ports.clock->at(deadline, [this, id] {
    timers_.erase(id);
    push(core::timer_event{id});
  });
}

std::string group_runner::wall_time(clock_time t) const {
  return format_utc(context_.ports.clock->wall(t));
}

void group_runner::start_command(const std::vector<std::string>& argv, std::string_view log,
                                 const command_done& done, const std::filesystem::path& dir) {
  launch_spec spec;
  spec.argv = argv;
  if (!dir.empty() && dir != context_.workdir) {
    spec.workdir = dir;
    if (spec.argv.front().find('/') != std::string::npos &&
        std::filesystem::path(spec.argv.front()).is_relative()) {
      spec.argv.front() = (context_.workdir / spec.argv.front()).lexically_normal().string();
    }
  }
  // Inherited entries of the names set here are dropped: each name once.
  // In a workspace, as for agents, without the engine's GIT_DIR and the like.
  const bool elsewhere = !spec.workdir.empty();
  std::copy_if(context_.base_environment.begin(), context_.base_environment.end(),
               std::back_inserter(spec.env), [elsewhere](const std::string& entry) {
                 return !entry.starts_with("MAESTRO_GROUP_ID=") &&
                        !entry.starts_with("MAESTRO_STATE_DIR=") &&
                        !(elsewhere && points_git_elsewhere(entry.substr(0, entry.find('='))));
               });
  spec.env.push_back("MAESTRO_GROUP_ID=" + request_.group_id);
  spec.env.push_back("MAESTRO_STATE_DIR=" + context_.state_dir.string());
  spec.log_file = store_->record().command_log_path(log);
  spec.log_header = "=== maestro-async: at " + wall_time(context_.ports.clock->now()) + ": " +
                    printable_command_line(spec.argv);
  spec.output_tail = test_output_tail;
  boost::system::error_code ec;
  const auto child = context_.ports.process_launcher->launch(
      spec,
      [this, done](const exit_info& x) {
        command_.reset();
        done(x);
      },
      ec);
  if (ec) {
    const std::string error = "cannot start " + core::printable(argv.front()) + ": " + ec.message();
    context_.ports.process_launcher->append_to_log(spec.log_file, "=== maestro-async: " + error);
    // Reported like a command that failed at once.
    asio::post(strand_, [done, error] { done(exit_info{127, 0, error}); });
    return;
  }
  command_.emplace();
  command_->child = child;
}

void group_runner::stop_command(core::kill_signal signal) {
  // The core runs the kill sequence (SIGTERM, grace, SIGKILL) with its
  // timers; a command that already ended is not signalled.
  if (command_) {
    context_.ports.process_launcher->signal(command_->child, signal);
  } else if (tests_pending_) {
    tests_stopped_ = true;  // not started once its workspace is ready
  }
}

void group_runner::run_tests() {
  release_reservation();  // no agent of the group launches any more
  if (!isolated()) {
    run_tests_in(context_.workdir);
    return;
  }
  // The merge queue's turn: the integration tip merged into the group's
  // branch, checked out on its own, where the tests run.
  tests_pending_ = true;
  context_.ports.workspaces->async_prepare_tests(
      request_.group_id, port_call([this](const workspace_dir& where, const std::string& error) {
        tests_pending_ = false;
        if (!error.empty() || std::exchange(tests_stopped_, false)) {
          push(core::tests_done_event{core::test_status::failed,
                                      error.empty() ? "stopped before the tests started" : error});
          return;
        }
        run_tests_in(where.dir);
      }));
}

void group_runner::run_tests_in(const std::filesystem::path& dir) {
  const auto& test = context_.config->test;
  std::vector<std::string> argv;
  std::string reason;
  switch (test.kind) {
    case core::test_command_kind::none:
      push(core::tests_done_event{core::test_status::none, "test.command is \"none\""});
      return;
    case core::test_command_kind::argv:
      argv = test.command;
      break;
    case core::test_command_kind::auto_detect: {
      auto detected = context_.ports.tests->detect(dir);
      if (detected.argv.empty()) {
        push(core::tests_done_event{core::test_status::none, detected.reason});
        return;
      }
      argv = std::move(detected.argv);
      reason = std::move(detected.reason);
      break;
    }
  }
  // Its time limit is the core's, which composes "<command>: timed out".
  start_command(
      argv, "_tests.log",
      [this, argv](const exit_info& x) {
        auto command = join(argv, " ");
        std::string detail = command + ": " + describe_exit(x);
        push(
            core::tests_done_event{context_.ports.tests->classify(argv, x.exit_code, x.output_tail),
                                   std::move(detail), std::move(command)});
      },
      dir);
}

void group_runner::watch_source() {
  if (context_.ports.source == nullptr) {
    return;
  }
  // What matters now: the blockers outside the run still waited for, and
  // the tasks not started (one closed in the tracker is then skipped).
  auto interest = [this] {
    std::vector<std::string> ids;
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < machine_->tasks().size(); ++i) {
      const auto s = machine_->state(i).status;
      if (s != core::task_status::pending && s != core::task_status::blocked &&
          s != core::task_status::queued) {
        continue;
      }
      const auto& t = machine_->tasks()[i];
      if (seen.insert(t.id).second) {
        ids.push_back(t.id);
      }
      if (s == core::task_status::blocked) {
        for (const auto& b : t.blocked_by) {
          if (seen.insert(b).second) {
            ids.push_back(b);
          }
        }
      }
    }
    return ids;
  };
  watch_ = context_.ports.source->watch(
      std::move(request_.closed_in_source), std::move(interest),
      [this](const std::string& id) { push(core::source_closed_event{id}); },
      [this](std::string_view text) {
        if (context_.sink != nullptr) {
          context_.sink->message(severity::warning, text);
        }
      });
}

}  // namespace maestro::detail
