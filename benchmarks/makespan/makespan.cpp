// Makespan: the shipped anonymized beads backlogs (tests/data/beads),
// reopened, every task a sleep, run by the real binary at -j8 under
// `schedule: stages` and `schedule: graph`, with `group_by` marker and
// parent. Beside each makespan, two figures computed here from the same
// plan: the lower bound max(critical path, total work / 8), and an ideal
// list schedule of the same graph with the same priority rule (priority,
// then the longest chain of work waiting, then input order), simulated
// with zero overhead. Target (SPEC section 9): graph within 1.05x of the
// ideal.
//
//   bench_makespan [--quick] [--data DIR] [--csv FILE]
//
// --quick sleeps 0.2 s per task instead of 1 s.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>

#include <maestro/adapters/config_file.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/plan.hpp>
#include <maestro/core/run_graph.hpp>

#include "bench.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using maestro::core::plan;

constexpr int workers = 8;

struct simulated {
  double makespan = 0;
  std::size_t ran = 0;
};

// The plan run as `schedule: graph` runs it, every task taking `d` seconds
// and nothing else taking any time, on `slots` workers: a stage opens once
// every stage it waits for has completed (one that ends incomplete, with
// tasks blocked by what is outside the run, skips what waits for it); a
// task is ready once what it waits for in its stage has ended; free workers
// take the ready tasks in the scheduler's order.
simulated simulate(const plan& p, const std::vector<maestro::core::task>& tasks, int slots,
                   double d) {
  const auto n = p.tasks.size();
  const auto before = maestro::core::stage_prerequisites(p);
  const auto paths = maestro::core::critical_paths(p);
  std::vector<std::vector<std::size_t>> stage_dependents(p.stages.size());
  std::vector<std::size_t> stage_unmet(p.stages.size(), 0);
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    for (const auto b : before[k]) {
      stage_dependents[b].push_back(k);
      ++stage_unmet[k];
    }
  }
  std::vector<std::size_t> stage_of(n, 0);
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    for (const auto t : p.stages[k].tasks) {
      stage_of[t] = k;
    }
  }
  // In-stage waits, and the tasks stuck behind a blocker outside the run.
  const auto waits = maestro::core::stage_waits(p);
  std::vector<std::vector<std::size_t>> dependents(n);
  std::vector<std::size_t> unmet(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto other : waits[i]) {
      dependents[other].push_back(i);
    }
    unmet[i] = waits[i].size();
  }
  std::vector<bool> stuck(n, false);
  std::vector<std::size_t> spread;
  for (std::size_t i = 0; i < n; ++i) {
    if (!p.tasks[i].blocked_by.empty()) {
      stuck[i] = true;
      spread.push_back(i);
    }
  }
  while (!spread.empty()) {
    const auto i = spread.back();
    spread.pop_back();
    for (const auto dep : dependents[i]) {
      if (!stuck[dep]) {
        stuck[dep] = true;
        spread.push_back(dep);
      }
    }
  }
  std::vector<std::size_t> left(p.stages.size(), 0);  // runnable tasks not ended
  std::vector<bool> incomplete(p.stages.size(), false);
  for (std::size_t i = 0; i < n; ++i) {
    if (stuck[i]) {
      incomplete[stage_of[i]] = true;
    } else {
      ++left[stage_of[i]];
    }
  }

  using key = std::tuple<long long, std::size_t, std::size_t, std::size_t>;
  std::set<key> ready;
  const auto make_ready = [&](std::size_t i) {
    const auto index = p.tasks[i].index;
    ready.emplace(tasks[index].priority, std::numeric_limits<std::size_t>::max() - paths[i], index,
                  i);
  };
  std::vector<bool> skipped(p.stages.size(), false);
  double now = 0;
  std::function<void(std::size_t)> open;
  std::function<void(std::size_t)> complete = [&](std::size_t k) {
    for (const auto dep : stage_dependents[k]) {
      if (incomplete[k]) {
        // What waits for an incomplete stage is skipped, and so on.
        std::vector<std::size_t> todo{dep};
        while (!todo.empty()) {
          const auto s = todo.back();
          todo.pop_back();
          if (!skipped[s]) {
            skipped[s] = true;
            todo.insert(todo.end(), stage_dependents[s].begin(), stage_dependents[s].end());
          }
        }
      } else if (--stage_unmet[dep] == 0 && !skipped[dep]) {
        open(dep);
      }
    }
  };
  open = [&](std::size_t k) {
    for (const auto i : p.stages[k].tasks) {
      if (!stuck[i] && unmet[i] == 0) {
        make_ready(i);
      }
    }
    if (left[k] == 0) {
      complete(k);
    }
  };
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    if (stage_unmet[k] == 0 && !skipped[k]) {
      open(k);
    }
  }
  using finish = std::pair<double, std::size_t>;
  std::priority_queue<finish, std::vector<finish>, std::greater<>> running;
  simulated out;
  for (;;) {
    while (static_cast<int>(running.size()) < slots && !ready.empty()) {
      const auto i = std::get<3>(*ready.begin());
      ready.erase(ready.begin());
      running.emplace(now + d, i);
      ++out.ran;
    }
    if (running.empty()) {
      break;
    }
    now = running.top().first;
    while (!running.empty() && running.top().first <= now) {
      const auto i = running.top().second;
      running.pop();
      for (const auto dep : dependents[i]) {
        if (--unmet[dep] == 0 && !stuck[dep]) {
          make_ready(dep);
        }
      }
      if (--left[stage_of[i]] == 0) {
        complete(stage_of[i]);
      }
    }
  }
  out.makespan = now;
  return out;
}

// The backlog with every issue open again, as JSON Lines.
std::string reopened(const fs::path& file) {
  std::ifstream in(file);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      continue;
    }
    auto record = json::parse(line).as_object();
    record["status"] = "open";
    record.erase("closed_at");
    out += json::serialize(record) + "\n";
  }
  return out;
}

// Tasks completed, over every group of the state directory.
std::size_t completed_in(const fs::path& state) {
  std::size_t n = 0;
  const auto groups = state / "parallel_groups";
  if (!fs::exists(groups)) {
    return 0;
  }
  for (const auto& entry : fs::directory_iterator(groups)) {
    std::ifstream in(entry.path() / "metadata.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.empty()) {
      continue;
    }
    const auto md = json::parse(text).as_object();
    for (const auto& r : md.at("results").as_array()) {
      n += r.at("status") == "completed" ? 1 : 0;
    }
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const maestro::bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const double sleep_s = quick ? 0.2 : 1.0;
  const fs::path data = args.text("--data", MAESTRO_BEADS_EXPORTS_DIR);
  maestro::bench::results figures(args.text("--csv", ""), maestro::bench::figures_header);
  std::vector<fs::path> backlogs;
  for (const auto& entry : fs::directory_iterator(data)) {
    if (entry.path().extension() == ".jsonl") {
      backlogs.push_back(entry.path());
    }
  }
  std::sort(backlogs.begin(), backlogs.end());
  const auto work = fs::temp_directory_path() / ("bench-makespan-" + std::to_string(::getpid()));
  fs::create_directories(work);

  std::printf(
      "makespan: shipped backlogs reopened, every task a %.1f s sleep, -j%d, no refresh, "
      "test: none\n",
      sleep_s, workers);
  std::printf("%-10s %-8s %6s %9s %9s %9s %9s %11s %12s\n", "backlog", "group_by", "tasks",
              "bound s", "ideal s", "stages s", "graph s", "graph/ideal", "stages/ideal");
  bool all_met = true;
  for (const auto& file : backlogs) {
    const auto name = file.stem().string();
    const auto dir = work / name;
    fs::create_directories(dir);
    { std::ofstream(dir / "tasks.jsonl") << reopened(file); }
    const auto document = maestro::load_task_file(dir / "tasks.jsonl");
    for (const auto* group_by : {"marker", "parent"}) {
      const auto config_text = std::string(R"({"max_concurrent": 8, "state_dir": "state", )") +
                               R"("test": {"command": "none"}, "group_by": ")" + group_by +
                               R"(", "agent_defaults": {"command": ["sleep", ")" +
                               std::to_string(sleep_s) + R"("]}})";
      const auto config = maestro::parse_config(config_text, "maestro.json");
      maestro::core::plan_options options;
      options.keywords = &config.keywords();
      options.default_agent = config.default_agent;
      options.group_by = config.group_by;
      plan p;
      try {
        p = maestro::core::make_plan(document.tasks, options);
      } catch (const maestro::core::input_error& e) {
        std::printf("%-10s %-8s  does not plan: %s\n", name.c_str(), group_by, e.what());
        continue;
      }
      const auto ideal = simulate(p, document.tasks, workers, sleep_s);
      const auto chain = simulate(p, document.tasks, std::numeric_limits<int>::max(), sleep_s);
      const double bound =
          std::max(chain.makespan, static_cast<double>(ideal.ran) * sleep_s / workers);
      std::map<std::string, double> measured;
      for (const auto* schedule : {"stages", "graph"}) {
        std::ofstream(dir / "maestro.json") << config_text;
        fs::remove_all(dir / "state");
        const auto r =
            maestro::bench::run({MAESTRO_ASYNC_BIN, "run", "--tasks-file", "tasks.jsonl",
                                 "--no-progress", "--schedule", schedule, "--log-level", "error"},
                                dir, true);
        const auto done = completed_in(dir / "state");
        if (r.status != 0 && r.status != 4) {
          std::printf("%s %s %s: exit %d\n", name.c_str(), group_by, schedule, r.status);
        }
        if (done != ideal.ran) {
          std::printf("%s %s %s: %zu tasks completed, the simulation ran %zu\n", name.c_str(),
                      group_by, schedule, done, ideal.ran);
        }
        measured[schedule] = r.wall_s;
      }
      const double ratio = measured["graph"] / ideal.makespan;
      all_met = all_met && ratio <= 1.05;
      std::printf("%-10s %-8s %6zu %9.2f %9.2f %9.2f %9.2f %11.3f %12.2f\n", name.c_str(), group_by,
                  ideal.ran, bound, ideal.makespan, measured["stages"], measured["graph"], ratio,
                  measured["stages"] / ideal.makespan);
      const auto kase = name + " " + group_by;
      figures.row("makespan", kase, "lower bound", "seconds", bound, "s");
      figures.row("makespan", kase, "ideal list schedule", "seconds", ideal.makespan, "s");
      figures.row("makespan", kase, "stages", "seconds", measured["stages"], "s");
      figures.row("makespan", kase, "graph", "seconds", measured["graph"], "s");
      figures.row("makespan", kase, "graph", "ratio_to_ideal", ratio, "x");
    }
  }
  fs::remove_all(work);
  std::printf("target: graph within 1.05x the ideal list schedule: %s\n",
              all_met ? "met" : "NOT met");
  return 0;
}
