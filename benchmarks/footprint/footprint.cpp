// Footprint: two SPEC section 9 targets, measured on the real binary, each
// beside a baseline run the same way in the same program:
//
//  1. Idle cost ("CPU while every task sleeps: under 0.1%"). A group of 8
//     tasks whose agent is `sleep 5`, run by `maestro-async execute`, and
//     `xargs -P 8 -n 1 sleep` fed eight 5s. Once the parent has all 8
//     children (/proc/PID/task/*/children), the benchmark waits 0.5 s and
//     then samples the parent over a 3.5 s window: CPU time from the first
//     field of /proc/PID/task/*/schedstat (nanoseconds, summed over threads;
//     the clock ticks of /proc/PID/stat are too coarse) and wakeups as
//     voluntary + nonvoluntary context switches from /proc/PID/task/*/status.
//     The two alternate for several rounds; the table shows the median, the
//     minimum and the maximum.
//  2. 1,000 children at once ("all succeed"). A group of 1,000 tasks whose
//     agent is `sleep 2`, run with `-j 1000` (and max_concurrent 1000), and
//     `xargs -P 1000 -n 1 sleep` fed 1,000 2s. Reports the wall time, the
//     peak number of live children (polled in /proc every 10 ms), the peak
//     RSS from wait4 (the largest of the parent and its reaped children),
//     the exit code and, for the engine, the task statuses that the group's
//     metadata.json records.
//
//   bench_footprint [--quick] [--rounds R] [--children N] [--children-rounds R]
//                   [--csv FILE]
//
// --quick: one idle round, agents `sleep 3`, a 2 s window.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "bench.hpp"

namespace {

namespace fs = std::filesystem;
namespace bench = maestro::bench;
using bench::clock_type;

// The threads of process `pid`, as /proc/PID/task/TID directories.
std::vector<fs::path> threads_of(pid_t pid) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    out.push_back(entry.path());
  }
  return out;
}

// CPU time of `pid` in nanoseconds, summed over its threads.
long long cpu_ns(pid_t pid) {
  long long total = 0;
  for (const auto& task : threads_of(pid)) {
    std::istringstream in(bench::read_file(task / "schedstat"));
    long long runtime = 0;
    if (in >> runtime) {
      total += runtime;
    }
  }
  return total;
}

// Context switches of `pid` (voluntary + nonvoluntary), summed over threads.
long long context_switches(pid_t pid) {
  long long total = 0;
  for (const auto& task : threads_of(pid)) {
    std::istringstream in(bench::read_file(task / "status"));
    for (std::string line; std::getline(in, line);) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      const auto key = line.substr(0, colon);
      if (key == "voluntary_ctxt_switches" || key == "nonvoluntary_ctxt_switches") {
        total += std::stoll(line.substr(colon + 1));
      }
    }
  }
  return total;
}

// Live children of `pid`, from /proc/PID/task/*/children.
int children_of(pid_t pid) {
  int count = 0;
  for (const auto& task : threads_of(pid)) {
    std::istringstream in(bench::read_file(task / "children"));
    for (std::string child; in >> child;) {
      ++count;
    }
  }
  return count;
}

// True while `pid` has not exited (it is not reaped here).
bool alive(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

void sleep_s(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// The statuses of the entries of the `results` array of a metadata.json,
// counted by value; empty when the text is not a metadata file.
std::map<std::string, int> result_statuses(const std::string& text) {
  std::map<std::string, int> counts;
  boost::system::error_code ec;
  const auto metadata = boost::json::parse(text, ec);
  const auto* group = metadata.if_object();
  const auto* results = group != nullptr ? group->if_contains("results") : nullptr;
  if (ec || results == nullptr || !results->is_array()) {
    return counts;
  }
  for (const auto& r : results->get_array()) {
    if (const auto* status = r.is_object() ? r.get_object().if_contains("status") : nullptr;
        status != nullptr && status->is_string()) {
      ++counts[std::string(status->get_string())];
    }
  }
  return counts;
}

std::string tasks_jsonl(int count, const std::string& group) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    const auto id = "t" + std::to_string(i);
    out.append(R"({"id":")").append(id).append(R"(","title":"[P:Group-)");
    out.append(group).append("] ").append(id).append("\"}\n");
  }
  return out;
}

std::string config(const fs::path& state, int seconds, int max_concurrent) {
  return R"({"agent_defaults": {"command": ["sleep", ")" + std::to_string(seconds) +
         R"("]}, "test": {"command": "none"}, "close_tasks": false, "max_concurrent": )" +
         std::to_string(max_concurrent) + R"(, "state_dir": ")" + state.string() + "\"}\n";
}

std::string lines_of(int count, int value) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out += std::to_string(value) + "\n";
  }
  return out;
}

// One idle measurement of a parent that keeps `expected` sleeping children.
struct idle_sample {
  double cpu_percent = 0;
  double wakeups_per_s = 0;
  long long wakeups = 0;
  int status = -1;
  std::string problem;  ///< empty when the round went as planned
};

idle_sample measure_idle(const std::vector<std::string>& argv, const fs::path& cwd, int expected,
                         double settle_s, double window_s) {
  idle_sample s;
  const auto started = clock_type::now();
  const pid_t pid = bench::start(argv, cwd);
  if (pid < 0) {
    s.problem = "could not start";
    return s;
  }
  const auto deadline = started + std::chrono::seconds(30);
  while (children_of(pid) < expected && alive(pid) && clock_type::now() < deadline) {
    sleep_s(0.005);
  }
  if (children_of(pid) < expected) {
    s.problem = "never had " + std::to_string(expected) + " children";
  } else {
    sleep_s(settle_s);
    const long long cpu0 = cpu_ns(pid);
    const long long switches0 = context_switches(pid);
    const auto t0 = clock_type::now();
    sleep_s(window_s);
    const long long cpu1 = cpu_ns(pid);
    const long long switches1 = context_switches(pid);
    const auto t1 = clock_type::now();
    const int still = children_of(pid);
    const double window = std::chrono::duration<double>(t1 - t0).count();
    s.cpu_percent = static_cast<double>(cpu1 - cpu0) / 1e9 / window * 100.0;
    s.wakeups = switches1 - switches0;
    s.wakeups_per_s = static_cast<double>(s.wakeups) / window;
    if (cpu0 <= 0 || switches0 <= 0) {
      s.problem = "could not read /proc counters";  // a started process has used some CPU
    } else if (still != expected) {
      s.problem = "children ended inside the window (" + std::to_string(still) + " left)";
    }
  }
  s.status = bench::finish(pid, started).status;
  if (s.problem.empty() && s.status != 0) {
    s.problem = "exit " + std::to_string(s.status);
  }
  return s;
}

// One run of many children at once.
struct children_run {
  bench::process_result result;
  int peak_children = 0;
};

children_run measure_children(const std::vector<std::string>& argv, const fs::path& cwd) {
  children_run r;
  const auto started = clock_type::now();
  const pid_t pid = bench::start(argv, cwd);
  if (pid < 0) {
    return r;
  }
  while (alive(pid)) {
    r.peak_children = std::max(r.peak_children, children_of(pid));
    sleep_s(0.01);
  }
  r.result = bench::finish(pid, started);
  return r;
}

const char* verdict(bool holds) {
  return holds ? "holds" : "does not hold";
}

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const int rounds = args.number("--rounds", quick ? 1 : 3);
  const int children = args.number("--children", 1000);
  const int children_rounds = args.number("--children-rounds", 1);
  const int idle_tasks = 8;
  const int idle_sleep_s = quick ? 3 : 5;
  const double settle_s = 0.5;
  const double window_s = quick ? 2.0 : 3.5;
  const int child_sleep_s = 2;
  const std::string bin = MAESTRO_ASYNC_BIN;
  bench::results csv(args.text("--csv", ""), bench::figures_header);
  bool failed = false;

  const bench::scratch work("footprint");

  // 1. Idle cost.
  const auto idle_dir = work.path() / "idle";
  fs::create_directories(idle_dir);
  bench::write_file(idle_dir / "tasks.jsonl", tasks_jsonl(idle_tasks, "idle"));
  bench::write_file(idle_dir / "maestro.json",
                    config(idle_dir / "state", idle_sleep_s, idle_tasks));
  bench::write_file(idle_dir / "sleeps", lines_of(idle_tasks, idle_sleep_s));
  const std::vector<std::string> engine_idle{
      bin,           "execute",       "--group-id",  "idle", "--tasks-file",
      "tasks.jsonl", "--no-progress", "--log-level", "off"};
  const std::vector<std::string> xargs_idle{
      "/bin/sh", "-c", "exec xargs -P " + std::to_string(idle_tasks) + " -n 1 sleep < sleeps"};
  const std::string idle_case =
      std::to_string(idle_tasks) + " x sleep " + std::to_string(idle_sleep_s);
  const std::string engine_name = "maestro-async execute";
  const std::string xargs_idle_name = "xargs -P " + std::to_string(idle_tasks) + " -n 1 sleep";

  std::map<std::string, std::vector<idle_sample>> idle;
  for (int round = 0; round < rounds; ++round) {
    fs::remove_all(idle_dir / "state");
    idle[engine_name].push_back(
        measure_idle(engine_idle, idle_dir, idle_tasks, settle_s, window_s));
    idle[xargs_idle_name].push_back(
        measure_idle(xargs_idle, idle_dir, idle_tasks, settle_s, window_s));
  }

  std::printf(
      "idle: %s, %d round%s alternating; the parent's CPU and wakeups over %.1f s, "
      "%.1f s after all %d children run\n",
      idle_case.c_str(), rounds, rounds == 1 ? "" : "s", window_s, settle_s, idle_tasks);
  std::printf("%-26s %-16s %10s %10s %10s  %-18s %s\n", "competitor", "metric", "median", "min",
              "max", "target", "verdict");
  for (const auto& name : {engine_name, xargs_idle_name}) {
    const auto& samples = idle[name];
    std::vector<double> cpu;
    std::vector<double> wakeups;
    std::string problems;
    for (const auto& s : samples) {
      cpu.push_back(s.cpu_percent);
      wakeups.push_back(s.wakeups_per_s);
      if (!s.problem.empty()) {
        problems += (problems.empty() ? "" : "; ") + s.problem;
      }
    }
    const bool is_engine = name == engine_name;
    const bool ok = problems.empty();
    failed = failed || !ok;
    const std::string failure = ok ? "" : "  (FAILED: " + problems + ")";
    std::printf("%-26s %-16s %10.4f %10.4f %10.4f  %-18s %s%s\n", name.c_str(), "CPU % of a core",
                bench::median(cpu), bench::smallest(cpu), bench::largest(cpu),
                is_engine ? "< 0.1%" : "(baseline)",
                is_engine ? verdict(ok && bench::largest(cpu) < 0.1) : "", failure.c_str());
    std::printf("%-26s %-16s %10.2f %10.2f %10.2f  %-18s %s%s\n", name.c_str(), "wakeups/s",
                bench::median(wakeups), bench::smallest(wakeups), bench::largest(wakeups),
                is_engine ? "0 (no polling)" : "(baseline)",
                is_engine ? verdict(ok && bench::largest(wakeups) == 0) : "", failure.c_str());
    csv.row("idle", idle_case, name, "cpu_percent", bench::median(cpu), "%");
    csv.row("idle", idle_case, name, "cpu_percent_min", bench::smallest(cpu), "%");
    csv.row("idle", idle_case, name, "cpu_percent_max", bench::largest(cpu), "%");
    csv.row("idle", idle_case, name, "wakeups_per_s", bench::median(wakeups), "1/s");
    csv.row("idle", idle_case, name, "wakeups_per_s_min", bench::smallest(wakeups), "1/s");
    csv.row("idle", idle_case, name, "wakeups_per_s_max", bench::largest(wakeups), "1/s");
  }
  std::printf("(the Python prototype polled every 10 s)\n");
  static_cast<void>(std::fflush(stdout));  // the first table before the slower part

  // 2. Many children at once.
  const auto many_dir = work.path() / "children";
  fs::create_directories(many_dir);
  bench::write_file(many_dir / "tasks.jsonl", tasks_jsonl(children, "children"));
  bench::write_file(many_dir / "maestro.json", config(many_dir / "state", child_sleep_s, children));
  bench::write_file(many_dir / "sleeps", lines_of(children, child_sleep_s));
  const std::vector<std::string> engine_many{bin,
                                             "execute",
                                             "--group-id",
                                             "children",
                                             "--tasks-file",
                                             "tasks.jsonl",
                                             "--no-progress",
                                             "--log-level",
                                             "off",
                                             "-j",
                                             std::to_string(children)};
  const std::string xargs_many_name = "xargs -P " + std::to_string(children) + " -n 1 sleep";
  const std::vector<std::string> xargs_many{
      "/bin/sh", "-c", "exec xargs -P " + std::to_string(children) + " -n 1 sleep < sleeps"};
  const std::string many_case =
      std::to_string(children) + " x sleep " + std::to_string(child_sleep_s);

  struct many_row {
    std::vector<double> wall;
    std::vector<double> rss_mb;
    int peak = 0;
    int worst_exit = 0;
    int succeeded = -1;  ///< fewest completed tasks over the rounds; -1 when not counted
    std::map<std::string, int> other;  ///< other statuses seen, summed over rounds
  };
  std::map<std::string, many_row> many;
  // One round's wall time, peak RSS, peak live children and exit status.
  const auto record = [](many_row& row, const auto& run, int round) {
    row.wall.push_back(run.result.wall_s);
    row.rss_mb.push_back(static_cast<double>(run.result.max_rss_kb) / 1024.0);
    row.peak = round == 0 ? run.peak_children : std::min(row.peak, run.peak_children);
    if (run.result.status != 0) {
      row.worst_exit = run.result.status;
    }
  };
  for (int round = 0; round < children_rounds; ++round) {
    fs::remove_all(many_dir / "state");
    {
      auto& row = many[engine_name];
      record(row, measure_children(engine_many, many_dir), round);
      const auto statuses = result_statuses(
          bench::read_file(many_dir / "state" / "parallel_groups" / "children" / "metadata.json"));
      int completed = 0;
      for (const auto& [status, count] : statuses) {
        if (status == "completed") {
          completed = count;
        } else {
          row.other[status] += count;
        }
      }
      row.succeeded = row.succeeded < 0 ? completed : std::min(row.succeeded, completed);
    }
    record(many[xargs_many_name], measure_children(xargs_many, many_dir), round);
  }

  std::printf(
      "\nchildren: %s at once, %d round%s; wall time, fewest peak live children, "
      "peak RSS (wait4)\n",
      many_case.c_str(), children_rounds, children_rounds == 1 ? "" : "s");
  std::printf("%-26s %10s %10s %10s %12s %5s %11s  %-12s %s\n", "competitor", "median s", "min s",
              "max s", "peak kids", "exit", "max RSS MB", "target", "verdict");
  for (const auto& name : {engine_name, xargs_many_name}) {
    const auto& row = many[name];
    const bool is_engine = name == engine_name;
    const bool all_ok =
        row.worst_exit == 0 && (!is_engine || (row.succeeded == children && row.other.empty()));
    failed = failed || !all_ok;
    std::printf("%-26s %10.3f %10.3f %10.3f %12d %5d %11.1f  %-12s %s\n", name.c_str(),
                bench::median(row.wall), bench::smallest(row.wall), bench::largest(row.wall),
                row.peak, row.worst_exit, bench::largest(row.rss_mb),
                is_engine ? "all succeed" : "(baseline)",
                is_engine ? verdict(all_ok) : (all_ok ? "" : "(FAILED)"));
    csv.row("children", many_case, name, "wall_s", bench::median(row.wall), "s");
    csv.row("children", many_case, name, "max_rss_mb", bench::largest(row.rss_mb), "MB");
    csv.row("children", many_case, name, "peak_children", row.peak, "processes");
    csv.row("children", many_case, name, "exit_code", row.worst_exit, "");
    if (is_engine) {
      csv.row("children", many_case, name, "succeeded", row.succeeded, "tasks");
    }
  }
  const auto& engine_row = many[engine_name];
  if (engine_row.succeeded == children && engine_row.other.empty() && engine_row.worst_exit == 0) {
    std::printf("maestro-async: all %d succeeded", children);
  } else {
    std::printf("maestro-async: %d of %d completed, exit %d", std::max(0, engine_row.succeeded),
                children, engine_row.worst_exit);
    for (const auto& [status, count] : engine_row.other) {
      std::printf(", %d %s", count, status.c_str());
    }
  }
  const double wall = bench::median(engine_row.wall);
  std::printf("; %s at once (peak %d live children, median wall %.2f s for sleep %d)\n",
              engine_row.peak == children ? "ran" : "did NOT run", engine_row.peak, wall,
              child_sleep_s);
  return failed ? 1 : 0;
}
