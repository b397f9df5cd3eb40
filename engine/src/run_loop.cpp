// `run`: every stage under the run-level scheduler. One coroutine on the
// strand awaits the next event (a child's exit, a timer, a stage opened),
// hands it to the scheduler, and carries out the actions: the groups'
// through their runners, the run's own here. Nothing here decides what
// runs next.

#include "run_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maestro/core/overloaded.hpp>
#include <maestro/core/run_graph.hpp>

namespace maestro {
namespace asio = boost::asio;

namespace {

// The scheduler of `plan`'s stages. `paths` are the planned tasks'
// critical paths (empty: none).
core::run_scheduler make_scheduler(const core::config& config, const core::plan& plan,
                                   const std::vector<core::task>& tasks,
                                   const std::vector<std::size_t>& paths, after_failure policy) {
  core::run_settings settings;
  settings.mode = config.schedule;
  settings.keep_going = policy == after_failure::keep_going;
  settings.max_concurrent = config.max_concurrent;
  for (const auto& [name, agent] : config.agents) {
    if (agent.max_concurrent) {
      settings.agent_limits[name] = *agent.max_concurrent;
    }
  }
  auto before = core::stage_prerequisites(plan);
  std::vector<core::run_stage> stages;
  stages.reserve(plan.stages.size());
  for (std::size_t k = 0; k < plan.stages.size(); ++k) {
    core::run_stage stage{plan.stages[k].id, std::move(before[k])};
    stage.tasks = plan.stages[k].tasks.size();
    // Its best task, as the queue orders them.
    bool first = true;
    for (const auto planned : plan.stages[k].tasks) {
      const auto index = plan.tasks[planned].index;
      const core::queue_rank rank{tasks[index].priority, paths.empty() ? 0 : paths[planned]};
      if (first || rank.priority < stage.best.priority ||
          (rank.priority == stage.best.priority && rank.critical_path > stage.best.critical_path)) {
        stage.best = rank;
        stage.order = index;
        first = false;
      }
    }
    stages.push_back(std::move(stage));
  }
  return {std::move(stages), std::move(settings)};
}

}  // namespace

asio::awaitable<run_outcome> coordinator::run_impl(after_failure policy) {
  std::vector<const core::stage*> all;
  all.reserve(plan_.stages.size());
  for (const auto& s : plan_.stages) {
    all.push_back(&s);
  }
  preflight(all);
  co_await check_workspace();
  // Under `graph` the queue puts the critical path first (`execute` and
  // `run` under `stages` keep priority, then input order).
  critical_paths_ = config_.schedule == core::schedule_mode::graph ? core::critical_paths(plan_)
                                                                   : std::vector<std::size_t>{};
  run_loop loop(strand_, make_scheduler(config_, plan_, tasks_, critical_paths_, policy),
                *ports_.clock);
  run_ = &loop;
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  if (stopped_) {
    loop.push(core::run_stop_event{core::stop_mode::graceful, "stopped before the run started"});
  }
  if (context_->sink != nullptr) {
    context_->sink->run_started(plan_.stages.size(), plan_.tasks.size());
  }
  loop.push(core::run_start_event{});
  std::exception_ptr write_failure;  // the terminal state of a stage could not be written
  std::vector<std::size_t> ended;
  while (!loop.finished || loop.opening > 0) {
    while (loop.queue.empty()) {
      loop.wake.expires_at(asio::steady_timer::time_point::max());
      loop.waiting = true;
      co_await loop.wake.async_wait(asio::as_tuple(asio::use_awaitable));
      loop.waiting = false;
      const auto state = co_await asio::this_coro::cancellation_state;
      if (const auto type = state.cancelled(); type != asio::cancellation_type::none) {
        // The host cancelled: stop every stage, then go on until they have.
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        stopped_ = true;
        loop.push(core::run_stop_event{
            (type & asio::cancellation_type::terminal) != asio::cancellation_type::none
                ? core::stop_mode::immediate
                : core::stop_mode::graceful,
            "cancelled by the host"});
      }
    }
    auto e = std::move(loop.queue.front());
    loop.queue.pop_front();
    const auto* opened = std::get_if<core::stage_opened_event>(&e.body);
    const auto opened_stage = opened != nullptr ? opened->stage : loop.scheduler.stage_count();
    auto actions = loop.scheduler.handle(std::move(e));
    if (opened_stage < loop.scheduler.stage_count() &&
        loop.scheduler.machine(opened_stage) != nullptr && loop.runners[opened_stage]) {
      auto& runner = *loop.runners[opened_stage];
      runner.attach(*loop.scheduler.machine(opened_stage));
      try {
        runner.begin();
      } catch (const std::exception& error) {
        loop.push(core::stage_event{opened_stage, core::halt_event{error.what()}});
      }
    }
    for (auto& a : actions) {
      std::visit(
          core::overloaded{
              [&](core::open_stage_action& o) {
                ++loop.opening;
                asio::co_spawn(strand_, open_stage(loop, o.stage), asio::detached);
              },
              [&](core::stage_actions& s) {
                auto& runner = loop.runners[s.stage];
                if (!runner) {
                  return;
                }
                for (const auto& action : s.actions) {
                  // As in a group's own loop: what throws (memory,
                  // descriptors) halts the group rather than this loop.
                  try {
                    runner->execute(action);
                  } catch (const std::exception& error) {
                    loop.push(core::stage_event{
                        s.stage, core::halt_event{std::string("internal error: ") + error.what()}});
                  }
                  if (std::holds_alternative<core::finished_action>(action)) {
                    // Before any stage that waits for it opens.
                    note_completed(plan_.stages[s.stage], runner->machine());
                    ended.push_back(s.stage);
                  }
                }
                s.actions = {};  // a group's start may be 100,000 actions
              },
              [&](core::stage_skipped_action& s) {
                const auto& stage = plan_.stages[s.stage];
                if (context_->sink != nullptr) {
                  context_->sink->stage_settled(stage.id, stage.tasks.size(), s.reason);
                }
                loop.outcomes[s.stage] = {
                    stage.id, core::group_status::pending, std::move(s.reason), {}};
              },
              [&](core::run_finished_action&) { loop.finished = true; },
          },
          a);
    }
    for (const auto k : ended) {
      core::group_status status{};
      try {
        status = co_await loop.runners[k]->end();
      } catch (const std::exception& error) {
        // Its state cannot be written: the run stops, and says why at the end.
        status = loop.scheduler.status(k);
        if (!write_failure) {
          write_failure = std::current_exception();
        }
        loop.push(core::run_stop_event{core::stop_mode::graceful, error.what()});
      }
      loop.outcomes[k] = {plan_.stages[k].id, status, {}, std::move(loop.notes[k])};
      if (status == core::group_status::cancelled) {
        stopped_ = true;  // stopped by stop() or by the host's cancellation
      }
      loop.runners[k].reset();
      loop.locks[k].reset();
      loop.scheduler.forget(k);
    }
    ended.clear();
  }
  run_ = nullptr;
  critical_paths_ = {};
  co_await drain_ports();  // before a refusal is thrown, too
  if (loop.refusal) {
    std::rethrow_exception(loop.refusal);
  }
  if (write_failure) {
    std::rethrow_exception(write_failure);
  }
  run_outcome outcome;
  outcome.groups = std::move(loop.outcomes);
  outcome.stopped = stopped_;
  co_return outcome;
}

}  // namespace maestro
