// Scale: the time and peak RSS of `maestro-async detect` and of
// `maestro-async run` on one parallel group of N `/bin/true` tasks at -j8,
// for N = 1,000, 10,000 and 100,000, with the share of the run the engine
// spends in its state store (from the engine's own `--log-level info`
// summary: recording changes, serialising and writing metadata.json and
// events.jsonl).
//
// Baselines in the same run:
//  - for `detect`, Python's `json.loads` over the same JSON Lines file (the
//    prototype's language), when python3 is installed;
//  - for `run`, the minimal posix_spawn and wait loop doing the same N
//    launches at the same -j.
// SPEC's target: 100,000 queued tasks under 150 MB RSS.
//
// The state directory is on tmpfs (/dev/shm) when there is one, so that
// creating 100,000 log files measures the engine and not the disk (see
// bench_throughput for the disk).
//
//   bench_scale [--quick] [--sizes 1000,10000,100000] [--jobs J] [--csv FILE]

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench.hpp"

namespace {

namespace bench = maestro::bench;
namespace fs = std::filesystem;

// The state store's share, from the engine's summary line:
// "... state store 0.110 s (5.1%), ...". Negative when absent.
double state_share(const std::string& log) {
  const auto at = log.find("state store ");
  if (at == std::string::npos) {
    return -1;
  }
  const auto open = log.find('(', at);
  return open == std::string::npos ? -1 : std::stod(log.substr(open + 1));
}

double mb(long kb) {
  return static_cast<double>(kb) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const auto sizes = args.numbers(
      "--sizes", quick ? std::vector<int>{1000, 10000} : std::vector<int>{1000, 10000, 100000});
  const int jobs = args.number("--jobs", 8);
  bench::results figures(args.text("--csv", ""), bench::figures_header);
  const std::string bin = MAESTRO_ASYNC_BIN;
  const bool python = bench::have("python3");
  const bench::scratch work(
      "scale", fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path());

  std::printf("scale: one group of N /bin/true tasks, -j%d, state in %s\n", jobs,
              work.path().parent_path().c_str());
  std::printf("%-8s %-28s %10s %12s %12s %12s %9s %8s\n", "N", "what", "wall s", "tasks/s",
              "peak RSS MB", "KB per task", "x base", "state %");
  bool all_ok = true;
  for (const int n : sizes) {
    const auto dir = work.path() / std::to_string(n);
    fs::create_directories(dir);
    {
      std::ofstream t(dir / "tasks.jsonl");
      for (int i = 0; i < n; ++i) {
        t << R"({"id":"t)" << i << R"(","title":"[P:Group-bench] task )" << i
          << R"(","description":"Scale benchmark task )" << i << R"(","priority":)" << i % 5
          << "}\n";
      }
    }
    bench::write_file(
        dir / "maestro.json",
        R"({"agent_defaults": {"command": ["/bin/true"]}, "test": {"command": "none"},)"
        R"( "close_tasks": false, "state_dir": "state"})");
    const auto kase = "n=" + std::to_string(n);
    const auto row = [&](const std::string& what, const bench::process_result& r, double base_s,
                         double share, bool ok) {
      std::printf("%-8d %-28s %10.3f %12.0f %12s %12s %9s %8s%s\n", n, what.c_str(), r.wall_s,
                  r.wall_s > 0 ? n / r.wall_s : 0,
                  bench::fixed(mb(r.max_rss_kb), 1, r.max_rss_kb > 0).c_str(),
                  bench::fixed(static_cast<double>(r.max_rss_kb) / n, 2, r.max_rss_kb > 0).c_str(),
                  bench::fixed(base_s > 0 ? r.wall_s / base_s : 0, 2, base_s > 0).c_str(),
                  bench::fixed(share, 1, share >= 0).c_str(), ok ? "" : "  (FAILED)");
      figures.row("scale", kase, what, "wall_s", r.wall_s, "s");
      if (r.max_rss_kb > 0) {
        figures.row("scale", kase, what, "max_rss_mb", mb(r.max_rss_kb), "MB");
      }
      if (base_s > 0) {
        figures.row("scale", kase, what, "ratio_to_baseline", r.wall_s / base_s, "x");
      }
      if (share >= 0) {
        figures.row("scale", kase, what, "state_share_percent", share, "%");
      }
      all_ok = all_ok && ok;
    };

    // detect, and Python's json.loads over the same file.
    bench::process_result py;
    if (python) {
      py = bench::run({"python3", "-c",
                       "import json,sys\n[json.loads(l) for l in open(sys.argv[1]) if l.strip()]",
                       (dir / "tasks.jsonl").string()});
      row("python3 json.loads (base)", py, 0, -1, py.status == 0);
    }
    const auto detect = bench::run({bin, "detect", "--tasks-file", "tasks.jsonl", "--json"}, dir);
    row("maestro-async detect", detect, py.wall_s, -1, detect.status == 0);

    // run, and the posix_spawn floor doing the same launches.
    const auto started = bench::clock_type::now();
    const int floor_ok = bench::spawn_loop({"/bin/true"}, n, jobs);
    bench::process_result floor;
    floor.wall_s = std::chrono::duration<double>(bench::clock_type::now() - started).count();
    floor.status = floor_ok == n ? 0 : 1;
    row("posix_spawn loop (base)", floor, 0, -1, floor.status == 0);
    const auto log = dir / "run.log";
    const auto r = bench::run({bin, "run", "--tasks-file", "tasks.jsonl", "--no-progress", "-j",
                               std::to_string(jobs), "--log-level", "info"},
                              dir, true, log);
    row("maestro-async run", r, floor.wall_s, state_share(bench::read_file(log)), r.status == 0);
    fs::remove_all(dir);
  }
  std::printf("SPEC target: 100,000 queued tasks under 150 MB RSS.\n");
  return all_ok ? 0 : 1;
}
