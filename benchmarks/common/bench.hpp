#pragma once
// What every benchmark program shares: argument parsing, starting and
// reaping processes, order statistics, and the results file.
//
// Every program writes its figures, when given `--csv FILE`, as rows of
//   workload,case,competitor,metric,value,unit
// (one header line first), so that scripts/bench.sh can gather and plot
// them. Raw samples, where a program has them, go to `--samples FILE` as
//   workload,case,competitor,value,unit

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace maestro::bench {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// `--name value` pairs and `--flag`s, parsed once.
class arguments {
 public:
  arguments(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string name = argv[i];
      if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        values_[name] = argv[++i];
      } else {
        values_[name] = "";
      }
    }
  }
  [[nodiscard]] bool flag(const std::string& name) const { return values_.contains(name); }
  [[nodiscard]] std::string text(const std::string& name, std::string fallback) const {
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  [[nodiscard]] int number(const std::string& name, int fallback) const {
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : std::stoi(it->second);
  }
  /// A comma-separated list of numbers, such as `--jobs 1,8,64`.
  [[nodiscard]] std::vector<int> numbers(const std::string& name, std::vector<int> fallback) const {
    const auto it = values_.find(name);
    if (it == values_.end()) {
      return fallback;
    }
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= it->second.size()) {
      const auto comma = std::min(it->second.find(',', start), it->second.size());
      out.push_back(std::stoi(it->second.substr(start, comma - start)));
      start = comma + 1;
    }
    return out;
  }

 private:
  std::map<std::string, std::string> values_;
};

/// How a process ended and what it cost, from `wait4`.
struct process_result {
  int status = -1;  ///< exit code, or -1 when it did not exit normally
  double wall_s = 0;
  double cpu_s = 0;     ///< user + system
  long max_rss_kb = 0;  ///< peak resident set size
};

/// `argv` as posix_spawn takes it: pointers into the strings, then null.
inline std::vector<char*> c_args(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's signature predates const
  }
  args.push_back(nullptr);
  return args;
}

/// Starts `argv` (searching PATH) in `cwd`, with stdout and stderr to
/// /dev/null unless `quiet` is false, stderr to `stderr_file` when given,
/// and stdout to `stdout_fd` when it is not -1. Returns the pid, or -1.
inline pid_t start(const std::vector<std::string>& argv, const fs::path& cwd = {},
                   bool quiet = true, const fs::path& stderr_file = {}, int stdout_fd = -1) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  }
  if (!stderr_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  if (!cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  }
  auto args = c_args(argv);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

/// Waits for `pid` (started at `started`) and reports what it cost.
inline process_result finish(pid_t pid, clock_type::time_point started) {
  process_result r;
  if (pid < 0) {
    return r;
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  r.wall_s = std::chrono::duration<double>(clock_type::now() - started).count();
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  r.max_rss_kb = usage.ru_maxrss;
  return r;
}

/// Runs `argv` to its end.
inline process_result run(const std::vector<std::string>& argv, const fs::path& cwd = {},
                          bool quiet = true, const fs::path& stderr_file = {}) {
  const auto started = clock_type::now();
  return finish(start(argv, cwd, quiet, stderr_file), started);
}

/// Runs a shell command line to its end.
inline process_result shell(const std::string& command, const fs::path& cwd = {}) {
  return run({"/bin/sh", "-c", command}, cwd, false);
}

/// The floor of every launching benchmark: a minimal loop that keeps
/// `jobs` children of `argv` running with posix_spawn and `wait` until
/// `tasks` have run. Returns how many exited 0.
inline int spawn_loop(const std::vector<std::string>& argv, int tasks, int jobs) {
  auto args = c_args(argv);
  int started = 0;
  int running = 0;
  int succeeded = 0;
  while (started < tasks || running > 0) {
    while (running < jobs && started < tasks) {
      pid_t pid = 0;
      if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0) {
        ++running;
      }
      ++started;
    }
    int status = 0;
    if (::wait(&status) <= 0) {
      break;
    }
    --running;
    succeeded += WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
  }
  return succeeded;
}

/// True when `tool` is on PATH.
inline bool have(const std::string& tool) {
  return shell("command -v " + tool + " >/dev/null 2>&1").status == 0;
}

/// The value at quantile `q` (0..1) of `v`, nearest rank; 0 when empty.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(v.size()));
  return v[std::min(v.size() - 1, rank)];
}

inline double median(const std::vector<double>& v) {
  return quantile(v, 0.5);
}

inline double smallest(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}

inline double largest(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

/// `value` with `decimals` digits after the point, or "-" when `shown` is
/// false (a figure that does not apply).
inline std::string fixed(double value, int decimals, bool shown = true) {
  if (!shown) {
    return "-";
  }
  std::array<char, 64> text{};
  const int n = std::snprintf(text.data(), text.size(), "%.*f", decimals, value);
  return n > 0 ? std::string(text.data(), static_cast<std::size_t>(n)) : std::string("?");
}

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A results file in the long form above; does nothing without a path.
class results {
 public:
  explicit results(const std::string& path, const char* header) {
    if (!path.empty()) {
      file_ = std::fopen(path.c_str(), "w");
      if (file_ != nullptr) {
        std::fprintf(file_, "%s\n", header);
      }
    }
  }
  results(const results&) = delete;
  results& operator=(const results&) = delete;
  ~results() {
    if (file_ != nullptr) {
      std::fclose(file_);
    }
  }
  /// One figure.
  void row(const std::string& workload, const std::string& kase, const std::string& competitor,
           const std::string& metric, double value, const std::string& unit) {
    if (file_ != nullptr) {
      std::fprintf(file_, "%s,%s,%s,%s,%.6g,%s\n", workload.c_str(), kase.c_str(),
                   competitor.c_str(), metric.c_str(), value, unit.c_str());
    }
  }
  /// One raw sample (for a `--samples` file).
  void sample(const std::string& workload, const std::string& kase, const std::string& competitor,
              double value, const std::string& unit) {
    if (file_ != nullptr) {
      std::fprintf(file_, "%s,%s,%s,%.6g,%s\n", workload.c_str(), kase.c_str(), competitor.c_str(),
                   value, unit.c_str());
    }
  }

 private:
  std::FILE* file_ = nullptr;
};

inline constexpr const char* figures_header = "workload,case,competitor,metric,value,unit";
inline constexpr const char* samples_header = "workload,case,competitor,value,unit";

/// A private scratch directory under `base` (the system's temporary
/// directory by default), removed with this object.
class scratch {
 public:
  explicit scratch(const std::string& name, fs::path base = fs::temp_directory_path())
      : path_(base / ("maestro-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

}  // namespace maestro::bench
