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
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include <maestro/core/group_machine.hpp>

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
  return 0;
}
