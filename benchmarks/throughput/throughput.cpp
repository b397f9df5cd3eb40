// Throughput: N `/bin/true` tasks at -j J, through maestro-async and its
// baselines, alternating, several rounds, in one run. Prints a table with
// the median, min and max wall time and the ratio to the posix_spawn floor.
//
// maestro-async runs twice per round: with its state directory on the disk
// (the system's temporary directory) and on tmpfs (/dev/shm). The engine
// creates one log file per task, as SPEC requires, and on some disks file
// creation costs more than the spawn; the competitors write no files.
// Each run gets a fresh state directory, and they are all removed at the
// end, not between runs: on ext4, creating files shortly after thousands
// were deleted is several times slower (the inode allocator skips
// recently deleted inodes), which would charge the benchmark's own
// clean-up to the engine.
//
//   bench_throughput [--quick] [--tasks N] [--jobs 1,8,64] [--rounds R] [--csv FILE]
//                    [--workload NAME]   (the figures' workload column; `throughput`)

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench.hpp"

namespace {

namespace bench = maestro::bench;
namespace fs = std::filesystem;

struct competitor {
  std::string name;
  std::function<bool(int jobs)> run_once;  // false: it failed
};

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const int tasks = args.number("--tasks", quick ? 500 : 2000);
  const auto job_counts = args.numbers("--jobs", {1, 8, 64});
  const int rounds = args.number("--rounds", quick ? 1 : 3);
  bench::results figures(args.text("--csv", ""), bench::figures_header);
  const auto workload = args.text("--workload", "throughput");
  const std::string bin = MAESTRO_ASYNC_BIN;

  const bench::scratch disk("throughput");
  std::vector<fs::path> state_places{disk.path()};
  std::optional<bench::scratch> memory;
  if (fs::is_directory("/dev/shm")) {
    memory.emplace("throughput", "/dev/shm");
    state_places.push_back(memory->path());
  }
  const auto& work = disk.path();
  {
    std::ofstream t(work / "tasks.jsonl");
    for (int i = 0; i < tasks; ++i) {
      t << "{\"id\":\"t" << i << "\",\"title\":\"[P:Group-bench] t" << i << "\"}\n";
    }
    std::ofstream c(work / "maestro.json");
    c << R"({"agent_defaults": {"command": ["/bin/true"]}, "test": {"command": "none"},)"
      << R"("close_tasks": false})";
    std::ofstream ids(work / "ids");
    for (int i = 0; i < tasks; ++i) {
      ids << i << "\n";
    }
    std::ofstream mk(work / "Makefile");
    mk << "all:";
    for (int i = 0; i < tasks; ++i) {
      mk << " t" << i;
    }
    mk << "\n%:\n\t@/bin/true\n.PHONY: all\n";
    std::ofstream ninja(work / "build.ninja");
    ninja << "rule t\n  command = /bin/true\n";
    for (int i = 0; i < tasks; ++i) {
      ninja << "build t" << i << ": t\n";
    }
  }
  const std::string dir = work.string();

  int runs = 0;
  const auto maestro_run = [&](std::size_t place) {
    return [&, place](int jobs) {
      const auto state = state_places[place] / ("state-" + std::to_string(++runs));
      const auto r =
          bench::run({bin, "run", "--tasks-file", "tasks.jsonl", "--state-dir", state.string(),
                      "--no-progress", "-j", std::to_string(jobs), "--log-level", "off"},
                     work);
      return r.status == 0;
    };
  };
  std::vector<competitor> competitors{
      {"posix_spawn loop (floor)",
       [&](int jobs) { return bench::spawn_loop({"/bin/true"}, tasks, jobs) == tasks; }},
      {"maestro-async run (state on disk)", maestro_run(0)},
  };
  if (state_places.size() > 1) {
    competitors.push_back({"maestro-async run (state on tmpfs)", maestro_run(1)});
  }
  competitors.push_back({"xargs -P", [&](int jobs) {
                           return bench::shell("xargs -P " + std::to_string(jobs) +
                                               " -n 1 /bin/true < " + dir + "/ids")
                                      .status == 0;
                         }});
  competitors.push_back({"make -j", [&](int jobs) {
                           return bench::shell("make -s -j " + std::to_string(jobs) + " -C " + dir +
                                               " -f Makefile all >/dev/null 2>&1")
                                      .status == 0;
                         }});
  if (bench::have("parallel")) {
    competitors.push_back({"GNU parallel", [&](int jobs) {
                             return bench::shell("parallel --will-cite -j " + std::to_string(jobs) +
                                                 " /bin/true < " + dir + "/ids")
                                        .status == 0;
                           }});
  }
  if (bench::have("ninja")) {
    competitors.push_back({"ninja", [&](int jobs) {
                             fs::remove(work / ".ninja_log");
                             fs::remove(work / ".ninja_deps");
                             return bench::shell("ninja -C " + dir + " -j " + std::to_string(jobs) +
                                                 " >/dev/null 2>&1")
                                        .status == 0;
                           }});
  }

  std::printf("throughput: %d x /bin/true, %d round(s), competitors alternating\n", tasks, rounds);
  bool all_ok = true;
  for (const int jobs : job_counts) {
    std::map<std::string, std::vector<double>> times;
    std::map<std::string, bool> failed;
    for (int round = 0; round < rounds; ++round) {
      for (const auto& c : competitors) {
        const auto start = bench::clock_type::now();
        const bool ok = c.run_once(jobs);
        times[c.name].push_back(
            std::chrono::duration<double>(bench::clock_type::now() - start).count());
        failed[c.name] = failed[c.name] || !ok;
      }
    }
    const double floor = bench::median(times[competitors.front().name]);
    const auto kase = "j=" + std::to_string(jobs) + " n=" + std::to_string(tasks);
    std::printf("\n-j %d\n%-36s %10s %10s %10s %10s %9s\n", jobs, "competitor", "median s", "min s",
                "max s", "tasks/s", "x floor");
    for (const auto& c : competitors) {
      const auto& t = times[c.name];
      const double m = bench::median(t);
      std::printf("%-36s %10.3f %10.3f %10.3f %10.0f %9.2f%s\n", c.name.c_str(), m,
                  bench::smallest(t), bench::largest(t), tasks / m, m / floor,
                  failed[c.name] ? "  (FAILED)" : "");
      figures.row(workload, kase, c.name, "median_s", m, "s");
      figures.row(workload, kase, c.name, "min_s", bench::smallest(t), "s");
      figures.row(workload, kase, c.name, "max_s", bench::largest(t), "s");
      figures.row(workload, kase, c.name, "tasks_per_s", tasks / m, "tasks/s");
      figures.row(workload, kase, c.name, "ratio_to_floor", m / floor, "x");
      all_ok = all_ok && !failed[c.name];
    }
  }
  std::printf(
      "\nSPEC target (10,000 tasks at -j8): maestro-async at most 1.25x the floor, at or\n"
      "below xargs -P8, at least 5x faster than GNU parallel.\n");
  return all_ok ? 0 : 1;
}
