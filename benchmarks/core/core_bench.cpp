// Core only: events per second through the pure scheduler, with no
// processes, no clock reads inside the core and no I/O, so that a change to
// the core shows up apart from the operating system's noise. Each task is
// launched, reported launched and exited; the figure counts those events.
// The baseline, in the same run, is a minimal priority-queue scheduler
// doing the same launches and exits.
//
//   bench_core [--quick] [--tasks N] [--jobs J] [--rounds R] [--csv FILE]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include <maestro/core/group_machine.hpp>
#include <maestro/core/run_scheduler.hpp>

#include "bench.hpp"

namespace {

using namespace maestro::core;
using clock_type = std::chrono::steady_clock;

// Runs one group of `n` tasks at `jobs` through the machine; returns the
// number of events handled.
std::size_t run_machine(std::size_t n, int jobs) {
  std::vector<group_task> tasks(n);
  for (std::size_t i = 0; i < n; ++i) {
    tasks[i].id = std::to_string(i);
    tasks[i].priority = static_cast<long long>(i % 5);
    tasks[i].chain = {i % 3 == 0 ? "a" : "b"};
  }
  group_settings settings;
  settings.max_concurrent = jobs;
  settings.agent_limits["a"] = std::max(1, jobs / 2);
  settings.default_timeout_s = 3600;  // a timer set and cancelled per attempt
  group_machine machine(std::move(tasks), settings, true);
  std::size_t events = 0;
  clock_time now{};
  std::deque<std::pair<std::size_t, std::uint32_t>> running;
  const auto feed = [&](event_body body) {
    ++events;
    for (const auto& a : machine.handle({now, std::move(body)})) {
      if (const auto* l = std::get_if<launch_action>(&a)) {
        running.emplace_back(l->task, l->attempt);
      }
    }
  };
  feed(start_event{});
  while (!running.empty()) {
    const auto [task, attempt] = running.front();
    running.pop_front();
    now += std::chrono::microseconds(10);
    feed(launched_event{task, attempt, 1000, 1000});
    feed(exited_event{task, attempt, 0, 0});
  }
  feed(tests_done_event{test_status::none, ""});
  feed(close_done_event{});
  return events;
}

// The floor: the least a scheduler for this job can do. A priority queue
// of (priority, index) and a global limit, no agents, no timers, no state:
// what the core's features cost shows as the ratio between the two.
std::size_t run_baseline(std::size_t n, int jobs) {
  using item = std::pair<long long, std::size_t>;
  std::priority_queue<item, std::vector<item>, std::greater<>> queue;
  for (std::size_t i = 0; i < n; ++i) {
    queue.emplace(static_cast<long long>(i % 5), i);
  }
  std::deque<std::size_t> running;
  std::size_t events = 1;
  const auto dispatch = [&] {
    while (running.size() < static_cast<std::size_t>(jobs) && !queue.empty()) {
      running.push_back(queue.top().second);
      queue.pop();
    }
  };
  dispatch();
  while (!running.empty()) {
    running.pop_front();
    events += 2;  // launched, exited
    dispatch();
  }
  return events + 2;
}

// A wide graph: `total` tasks in `groups` stages that wait for nothing,
// run at `jobs` by the run-level scheduler (`schedule: graph`). Every
// event of the run is counted: stages opened, launches reported, exits and
// tests. The stages' tasks are made before the clock starts (in the
// engine, the runtime reads them while the stage opens); the scheduler's
// construction is timed. Returns the events and the time they took.
std::pair<std::size_t, double> run_wide(std::size_t groups, std::size_t total, int jobs) {
  const auto per_group = total / groups;
  std::vector<run_stage> stages(groups);
  std::vector<stage_setup> setups(groups);
  for (std::size_t k = 0; k < groups; ++k) {
    stages[k].id = "g" + std::to_string(k);
    stages[k].tasks = per_group;
    stages[k].order = k * per_group;
    stages[k].best = {0, 0};
    auto& setup = setups[k];
    setup.tasks.resize(per_group);
    for (std::size_t i = 0; i < per_group; ++i) {
      auto& t = setup.tasks[i];
      t.id = std::to_string(k * per_group + i);
      t.priority = static_cast<long long>(i % 5);
      t.chain = {i % 3 == 0 ? "a" : "b"};
      t.order = k * per_group + i;
    }
    setup.settings.close_tasks = false;
    setup.settings.default_timeout_s = 3600;
  }
  run_settings settings;
  settings.mode = schedule_mode::graph;
  settings.max_concurrent = jobs;
  std::size_t events = 0;
  clock_time now{};
  std::deque<run_event_body> pending;  // what the "runtime" answers next
  std::deque<std::pair<std::size_t, std::pair<std::size_t, std::uint32_t>>> running;
  pending.emplace_back(run_start_event{});
  const auto start = clock_type::now();
  run_scheduler scheduler(std::move(stages), settings);
  const auto feed = [&](run_event_body body) {
    ++events;
    for (auto& a : scheduler.handle({now, std::move(body)})) {
      if (const auto* o = std::get_if<open_stage_action>(&a)) {
        pending.emplace_back(stage_opened_event{o->stage, std::move(setups[o->stage])});
      } else if (const auto* s = std::get_if<stage_actions>(&a)) {
        for (const auto& one : s->actions) {
          if (const auto* l = std::get_if<launch_action>(&one)) {
            running.emplace_back(s->stage, std::make_pair(l->task, l->attempt));
          } else if (std::holds_alternative<run_tests_action>(one)) {
            pending.emplace_back(stage_event{s->stage, tests_done_event{test_status::none, ""}});
          } else if (std::holds_alternative<finished_action>(one)) {
            scheduler.forget(s->stage);  // as the runtime does once the state is written
          }
        }
      }
    }
  };
  while (!pending.empty() || !running.empty()) {
    if (!pending.empty()) {
      auto body = std::move(pending.front());
      pending.pop_front();
      feed(std::move(body));
      continue;
    }
    const auto [stage, launched] = running.front();
    running.pop_front();
    now += std::chrono::microseconds(10);
    feed(stage_event{stage, launched_event{launched.first, launched.second, 1000, 1000}});
    feed(stage_event{stage, exited_event{launched.first, launched.second, 0, 0}});
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  if (!scheduler.finished()) {
    std::fprintf(stderr, "bench_core: the wide run did not finish\n");
    std::exit(1);
  }
  return {events, seconds};
}

}  // namespace

int main(int argc, char** argv) {
  const maestro::bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const auto tasks = static_cast<std::size_t>(args.number("--tasks", quick ? 20000 : 100000));
  const int jobs = args.number("--jobs", 8);
  const int rounds = args.number("--rounds", quick ? 3 : 5);
  maestro::bench::results figures(args.text("--csv", ""), maestro::bench::figures_header);
  std::vector<double> machine_rate;
  std::vector<double> baseline_rate;
  std::size_t events = 0;
  for (int r = 0; r < rounds; ++r) {
    auto start = clock_type::now();
    events = run_machine(tasks, jobs);
    machine_rate.push_back(static_cast<double>(events) /
                           std::chrono::duration<double>(clock_type::now() - start).count());
    start = clock_type::now();
    const auto base_events = run_baseline(tasks, jobs);
    baseline_rate.push_back(
        static_cast<double>(base_events) /
        std::max(1e-9, std::chrono::duration<double>(clock_type::now() - start).count()));
  }
  const double m = maestro::bench::median(machine_rate);
  std::printf("core only: %zu tasks at -j %d, %zu events a round, %d rounds\n", tasks, jobs, events,
              rounds);
  const double b = maestro::bench::median(baseline_rate);
  std::printf("%-34s %14s %14s %10s\n", "scheduler", "events/s", "ns/event", "x floor");
  std::printf("%-34s %14.0f %14.1f %10.2f\n", "minimal priority queue (floor)", b, 1e9 / b, 1.0);
  std::printf("%-34s %14.0f %14.1f %10.2f\n", "maestro::core::group_machine", m, 1e9 / m, b / m);
  const auto kase = "n=" + std::to_string(tasks) + " j=" + std::to_string(jobs);
  figures.row("core", kase, "minimal priority queue (floor)", "events_per_s", b, "events/s");
  figures.row("core", kase, "maestro::core::group_machine", "events_per_s", m, "events/s");
  figures.row("core", kase, "maestro::core::group_machine", "ns_per_event", 1e9 / m, "ns");
  figures.row("core", kase, "maestro::core::group_machine", "ratio_to_floor", b / m, "x");

  // The run-level scheduler: its cost per event as the groups multiply.
  const std::size_t wide = 10000;
  std::printf("\nrun-level scheduler: %zu tasks in G groups that wait for nothing, -j %d, graph\n",
              wide, jobs);
  std::printf("%-10s %14s %14s %14s\n", "groups", "events", "ns/event", "x 10 groups");
  double at_ten = 0;
  double at_most = 0;
  for (const std::size_t groups : {10, 100, 1000, 10000}) {
    std::vector<double> ns;
    std::size_t run_events = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto [counted, seconds] = run_wide(groups, wide, jobs);
      run_events = counted;
      ns.push_back(seconds * 1e9 / static_cast<double>(run_events));
    }
    const double per_event = maestro::bench::median(ns);
    if (groups == 10) {
      at_ten = per_event;
    }
    at_most = per_event;
    std::printf("%-10zu %14zu %14.1f %14.2f\n", groups, run_events, per_event, per_event / at_ten);
    const auto wide_case = "n=" + std::to_string(wide) + " groups=" + std::to_string(groups);
    figures.row("core", wide_case, "maestro::core::run_scheduler", "ns_per_event", per_event, "ns");
  }
  std::printf("target: at 10,000 groups at most 2x the cost per event at 10: %.2fx, %s\n",
              at_most / at_ten, at_most / at_ten <= 2.0 ? "met" : "NOT met");
  return 0;
}
