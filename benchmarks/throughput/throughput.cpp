// Throughput: N `/bin/true` tasks at -j J, through maestro-async and its
// baselines, alternating, several rounds, in one run. Prints a table with
// the median, min and max wall time and the ratio to the posix_spawn floor.
//
//   bench_throughput [--tasks N] [--jobs J[,J...]] [--rounds R] [--csv FILE]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Runs argv (through the shell when `shell` is set) and waits; returns its exit status.
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's signature predates const
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    return -1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The floor: a minimal posix_spawn and wait loop keeping `jobs` children.
void spawn_loop(int tasks, int jobs) {
  char true_path[] = "/bin/true";
  char* args[] = {true_path, nullptr};
  int started = 0;
  int running = 0;
  while (started < tasks || running > 0) {
    while (running < jobs && started < tasks) {
      pid_t pid = 0;
      if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, args, environ) == 0) {
        ++running;
      }
      ++started;
    }
    int status = 0;
    if (wait(&status) > 0) {
      --running;
    }
  }
}

bool have(const char* tool) {
  return run({"sh", "-c", std::string("command -v ") + tool + " >/dev/null 2>&1"}) == 0;
}

struct competitor {
  std::string name;
  std::function<bool(int jobs)> run_once;  // false: could not run
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = 2000;
  std::vector<int> job_counts{8};
  int rounds = 5;
  std::string csv;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--tasks") {
      tasks = std::stoi(value);
    } else if (flag == "--jobs") {
      job_counts.clear();
      std::stringstream in(value);
      for (std::string j; std::getline(in, j, ',');) {
        job_counts.push_back(std::stoi(j));
      }
    } else if (flag == "--rounds") {
      rounds = std::stoi(value);
    } else if (flag == "--csv") {
      csv = value;
    }
  }

  const auto work = fs::temp_directory_path() / ("maestro-bench-" + std::to_string(getpid()));
  fs::create_directories(work);
  {
    std::ofstream t(work / "tasks.jsonl");
    for (int i = 0; i < tasks; ++i) {
      t << "{\"id\":\"t" << i << "\",\"title\":\"[P:Group-bench] t" << i << "\"}\n";
    }
    std::ofstream c(work / "maestro.json");
    c << R"({"agent_defaults": {"command": ["/bin/true"]}, "test": {"command": "none"},)"
      << R"("close_tasks": false, "state_dir": ")" << (work / "state").string() << "\"}";
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
  const std::string bin = MAESTRO_ASYNC_BIN;

  std::vector<competitor> competitors{
      {"posix_spawn loop (floor)",
       [&](int jobs) {
         spawn_loop(tasks, jobs);
         return true;
       }},
      {"maestro-async run",
       [&](int jobs) {
         fs::remove_all(work / "state");
         return run({"sh", "-c",
                     "cd " + dir + " && " + bin +
                         " run --tasks-file tasks.jsonl --no-progress -j " + std::to_string(jobs) +
                         " --log-level off 2>/dev/null"}) == 0;
       }},
      {"xargs -P",
       [&](int jobs) {
         return run({"sh", "-c",
                     "xargs -P " + std::to_string(jobs) + " -n 1 /bin/true < " + dir + "/ids"}) ==
                0;
       }},
      {"make -j",
       [&](int jobs) {
         return run({"sh", "-c",
                     "make -s -j " + std::to_string(jobs) + " -C " + dir +
                         " -f Makefile all >/dev/null 2>&1"}) == 0;
       }},
  };
  if (have("parallel")) {
    competitors.push_back({"GNU parallel", [&](int jobs) {
                             return run({"sh", "-c",
                                         "parallel --will-cite -j " + std::to_string(jobs) +
                                             " /bin/true < " + dir + "/ids"}) == 0;
                           }});
  }
  if (have("ninja")) {
    competitors.push_back({"ninja", [&](int jobs) {
                             fs::remove(work / ".ninja_log");
                             fs::remove(work / ".ninja_deps");
                             return run({"sh", "-c",
                                         "ninja -C " + dir + " -j " + std::to_string(jobs) +
                                             " >/dev/null 2>&1"}) == 0;
                           }});
  }

  std::FILE* out = csv.empty() ? nullptr : std::fopen(csv.c_str(), "w");
  if (out != nullptr) {
    std::fprintf(out, "workload,jobs,competitor,median_s,min_s,max_s,tasks_per_s,ratio_to_floor\n");
  }
  std::printf("throughput: %d x /bin/true, %d rounds, competitors alternating\n", tasks, rounds);
  for (const int jobs : job_counts) {
    std::map<std::string, std::vector<double>> times;
    std::map<std::string, bool> failed;
    for (int round = 0; round < rounds; ++round) {
      for (const auto& c : competitors) {
        const auto start = clock_type::now();
        const bool ok = c.run_once(jobs);
        const double s = std::chrono::duration<double>(clock_type::now() - start).count();
        if (!ok) {
          failed[c.name] = true;
        }
        times[c.name].push_back(s);
      }
    }
    const double floor = median(times[competitors.front().name]);
    std::printf("\n-j %d\n%-26s %10s %10s %10s %12s %10s\n", jobs, "competitor", "median s",
                "min s", "max s", "tasks/s", "x floor");
    for (const auto& c : competitors) {
      const auto& t = times[c.name];
      const double m = median(t);
      std::printf("%-26s %10.3f %10.3f %10.3f %12.0f %10.2f%s\n", c.name.c_str(), m,
                  *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end()),
                  tasks / m, m / floor, failed[c.name] ? "  (FAILED)" : "");
      if (out != nullptr) {
        std::fprintf(out, "throughput,%d,%s,%.4f,%.4f,%.4f,%.1f,%.3f\n", jobs, c.name.c_str(), m,
                     *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end()),
                     tasks / m, m / floor);
      }
    }
  }
  if (out != nullptr) {
    std::fclose(out);
  }
  fs::remove_all(work);
  return 0;
}
