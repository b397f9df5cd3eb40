// Slurm: the per-task overhead of `launcher.kind: slurm` in both allocation
// modes beside the local launcher, in the same run, on a one-node Slurm
// cluster that this program brings up on localhost (tests/slurm/cluster.sh)
// and tears down. Also Slurm's own cost in the same run: `srun true` alone
// (a job each), and steps of one `salloc` allocation. SPEC section 9.
//
//   bench_slurm [--quick] [--tasks N] [--rounds N] [--csv FILE]
//
// Each case runs the real binary on one group of N tasks whose agent is
// /bin/true, sequentially (-j1: the overhead one task pays) and at -j8 (what
// a group pays per task when several run at once). The cases alternate
// round by round, so that a noisy moment of the machine falls on all.
// Where no cluster can come up (no root, no Slurm), it says why and exits 0.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench.hpp"

namespace {

namespace fs = std::filesystem;
namespace bench = maestro::bench;
using bench::clock_type;

struct mode {
  const char* name;
  const char* launcher;  // the config's "launcher" member
};

constexpr mode modes[] = {
    {"local", R"({"kind": "local"})"},
    {"slurm task", R"({"kind": "slurm", "allocation": "task"})"},
    {"slurm group", R"({"kind": "slurm", "allocation": "group"})"},
};

// One `execute` of the group in `dir`: its wall time, or a negative value.
double execute(const fs::path& dir, const mode& m, int jobs) {
  bench::write_file(dir / "maestro.json",
                    std::string(R"({"state_dir": "state", "test": {"command": "none"},
                     "agent_defaults": {"command": ["/bin/true"]}, "max_concurrent": )") +
                        std::to_string(jobs) + R"(, "launcher": )" + m.launcher + "}");
  std::error_code ignored;
  fs::remove_all(dir / "state", ignored);
  const auto r = bench::run({MAESTRO_ASYNC_BIN, "execute", "--group-id", "g", "--tasks-file",
                             "tasks.json", "--no-progress"},
                            dir);
  return r.status == 0 ? r.wall_s : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const int tasks = args.number("--tasks", quick ? 16 : 48);
  const int rounds = args.number("--rounds", quick ? 2 : 5);
  bench::results figures(args.text("--csv", ""), bench::figures_header);
  const auto work = fs::temp_directory_path() / ("bench-slurm-" + std::to_string(::getpid()));
  fs::create_directories(work);
  const auto cluster = work / "cluster";
  const std::string script = MAESTRO_CLUSTER_SCRIPT;

  const auto up = bench::run({"bash", script, "up", cluster.string(), "64"});
  if (up.status == 77) {
    std::printf("bench_slurm: skipped: %s\n",
                bench::read_file(cluster / "skipped").c_str());  // no cluster here
    std::error_code ignored;
    fs::remove_all(work, ignored);
    return 0;
  }
  if (up.status != 0) {
    (void)std::fprintf(stderr, "bench_slurm: the cluster did not come up (%s up %s)\n",
                       script.c_str(), cluster.string().c_str());
    return 1;
  }
  ::setenv("SLURM_CONF", (cluster / "slurm.conf").c_str(), 1);

  const auto dir = work / "run";
  fs::create_directories(dir);
  std::string list = "[";
  for (int i = 0; i < tasks; ++i) {
    list += (i == 0 ? "" : ",") + std::string(R"({"id":"t)") + std::to_string(i) +
            R"(","title":"[P:Group-g] task )" + std::to_string(i) + "\"}";
  }
  bench::write_file(dir / "tasks.json", list + "]");

  const int job_counts[] = {1, 8};
  // wall[jobs][mode] over rounds; Slurm alone: srun per task, steps in one allocation.
  std::vector<double> wall[2][3];
  std::vector<double> srun_alone;
  std::vector<double> steps_alone;
  bool ok = true;
  for (int round = 0; round < rounds && ok; ++round) {
    for (int j = 0; j < 2 && ok; ++j) {
      for (int m = 0; m < 3 && ok; ++m) {
        const double w = execute(dir, modes[m], job_counts[j]);
        ok = w >= 0;
        wall[j][m].push_back(w);
      }
    }
    // Slurm alone, sequentially: one job per task, then one allocation and
    // one step per task.
    auto t0 = clock_type::now();
    for (int i = 0; i < tasks && ok; ++i) {
      ok = bench::run({"srun", "-N1", "-n1", "--job-name=bench-alone", "true"}).status == 0;
    }
    srun_alone.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
    t0 = clock_type::now();
    const auto said = work / "salloc.err";  // "Granted job allocation N"
    const auto alloc = bench::run({"salloc", "--no-shell", "-n", "1"}, {}, true, said);
    const auto text = bench::read_file(said);
    const auto at = text.find("allocation ");
    const std::string job =
        at == std::string::npos ? std::string() : std::to_string(std::atol(text.c_str() + at + 11));
    ok = ok && alloc.status == 0 && !job.empty();
    for (int i = 0; i < tasks && ok; ++i) {
      ok = bench::run({"srun", "--jobid=" + job, "--overlap", "-N1", "-n1", "true"}).status == 0;
    }
    (void)bench::run({"scancel", job});
    steps_alone.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  (void)bench::run({"bash", script, "down", cluster.string()});
  if (!ok) {
    (void)std::fprintf(stderr, "bench_slurm: a run failed\n");
    return 1;
  }

  const auto per_task_ms = [tasks](const std::vector<double>& v) {
    return bench::median(v) * 1000 / tasks;
  };
  std::printf(
      "slurm: per-task cost on a one-node cluster on localhost, %d tasks of /bin/true, "
      "median of %d rounds\n",
      tasks, rounds);
  std::printf("%-30s %6s %12s %14s %14s\n", "competitor", "jobs", "wall s", "per task ms",
              "overhead ms");
  for (int j = 0; j < 2; ++j) {
    const double local = per_task_ms(wall[j][0]);
    for (int m = 0; m < 3; ++m) {
      const double per = per_task_ms(wall[j][m]);
      std::printf("%-30s %6d %12.2f %14.1f %14s\n",
                  (std::string("maestro-async ") + modes[m].name).c_str(), job_counts[j],
                  bench::median(wall[j][m]), per,
                  m == 0 ? "-" : bench::fixed(per - local, 1).c_str());
      const auto kase = std::to_string(tasks) + " tasks -j" + std::to_string(job_counts[j]);
      std::string competitor = std::string("maestro-async-") + modes[m].name;
      std::replace(competitor.begin(), competitor.end(), ' ', '-');
      figures.row("slurm", kase, competitor, "per_task_ms", per, "ms");
      if (m > 0) {
        figures.row("slurm", kase, competitor, "overhead_ms", per - local, "ms");
        figures.row("slurm", kase, competitor, "ratio_to_local", per / local, "x");
      }
    }
  }
  std::printf("%-30s %6d %12.2f %14.1f %14s\n", "srun true alone (a job each)", 1,
              bench::median(srun_alone), per_task_ms(srun_alone), "-");
  std::printf("%-30s %6d %12.2f %14.1f %14s\n", "srun true alone (steps)", 1,
              bench::median(steps_alone), per_task_ms(steps_alone), "-");
  const auto kase = std::to_string(tasks) + " tasks -j1";
  figures.row("slurm", kase, "srun-alone-jobs", "per_task_ms", per_task_ms(srun_alone), "ms");
  figures.row("slurm", kase, "srun-alone-steps", "per_task_ms", per_task_ms(steps_alone), "ms");
  std::printf(
      "overhead: a task's extra time against the local launcher, per task; the engine's "
      "own share is the difference to srun alone\n");
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return 0;
}
