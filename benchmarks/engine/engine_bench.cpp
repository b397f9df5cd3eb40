// Exit to launch, measured inside the engine: from the engine observing a
// child's exit (its status sink's `attempt_exited`, called where the exit's
// completion handler runs) to the next queued task's spawn returning
// (`attempt_launched`). The engine runs embedded, as a host would run it:
// one io_context, a coordinator and a recording status sink.
//
// With one global limit of J and every attempt succeeding, the k-th exit
// frees the slot of the (J+k)-th launch, so each exit pairs with exactly
// one launch. Two loads:
//  - not saturated: children of 20 ms at -j8, so the engine is idle between
//    exits;
//  - saturated: `/bin/true` at -j8, so exits queue up behind launches.
// Each runs with the state directory on tmpfs (/dev/shm) and on the disk
// (the system's temporary directory), because a launch creates the task's
// log file and file creation on some disks costs more than the spawn. The
// state directories are removed at the end, not between runs (see
// bench_throughput: ext4 is slow to create files just after deleting many).
//
// The floor, in the same run: a minimal loop that keeps J children with
// posix_spawn and measures from `waitpid` returning to the next
// `posix_spawn` returning, for the same command.
//
// The state store's share of the run (recording changes, serialising and
// writing metadata.json and events.jsonl) comes from `state_written`.
//
//   bench_engine [--quick] [--rounds R] [--csv FILE] [--samples FILE]

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <maestro/adapters/config_file.hpp>
#include <maestro/adapters/local_launcher.hpp>
#include <maestro/coordinator.hpp>
#include <maestro/ports/status_sink.hpp>

#include "bench.hpp"

namespace {

namespace bench = maestro::bench;
namespace fs = std::filesystem;
using std::chrono::nanoseconds;

double micros(nanoseconds d) {
  return static_cast<double>(d.count()) / 1e3;
}

// Records the times the engine reports, in the order it reports them.
class recording_sink final : public maestro::status_sink {
 public:
  void attempt_launched(const maestro::core::group_machine& /*machine*/, std::size_t /*task*/,
                        maestro::core::clock_time at) override {
    launches.push_back(at);
  }
  void attempt_exited(const maestro::core::group_machine& /*machine*/, std::size_t /*task*/,
                      maestro::core::clock_time at) override {
    exits.push_back(at);
  }
  void state_written(std::string_view /*group_id*/, std::size_t /*bytes*/,
                     nanoseconds spent) override {
    state_spent += spent;
  }
  void message(maestro::severity level, std::string_view text) override {
    if (level >= maestro::severity::warning) {
      std::cerr << "engine: " << text << '\n';
    }
  }

  std::vector<maestro::core::clock_time> launches;
  std::vector<maestro::core::clock_time> exits;
  nanoseconds state_spent{0};
};

// The launcher port, decorated: records when the engine calls `launch`, so
// that exit-to-launch splits into the engine's own decision (exit observed
// to `launch` called) and the launch itself (the log file and posix_spawn).
class timing_launcher final : public maestro::launcher {
 public:
  explicit timing_launcher(maestro::launcher& inner) : inner_(inner) {}
  maestro::child_handle launch(const maestro::launch_spec& spec, exit_handler on_exit,
                               boost::system::error_code& ec) override {
    calls.push_back(bench::clock_type::now());
    return inner_.launch(spec, std::move(on_exit), ec);
  }
  void signal(const maestro::child_handle& child, maestro::core::kill_signal signal) override {
    inner_.signal(child, signal);
  }
  // Everything else as the decorated launcher does it.
  void append_to_log(const std::filesystem::path& log_file, std::string_view text) override {
    inner_.append_to_log(log_file, text);
  }
  [[nodiscard]] bool can_start(const std::string& program,
                               const std::filesystem::path& workdir) const override {
    return inner_.can_start(program, workdir);
  }
  [[nodiscard]] std::optional<maestro::child_capacity> capacity() const override {
    return inner_.capacity();
  }
  [[nodiscard]] std::vector<std::string> inherited_environment() const override {
    return inner_.inherited_environment();
  }
  [[nodiscard]] bool is_leftover(int pgid, std::string_view task_id,
                                 std::string_view group_id) const override {
    return inner_.is_leftover(pgid, task_id, group_id);
  }

  std::vector<bench::clock_type::time_point> calls;

 private:
  maestro::launcher& inner_;
};

struct load {
  std::string name;
  std::vector<std::string> argv;
  int tasks = 0;
  int jobs = 8;
};

struct engine_run {
  std::vector<double> latencies_us;  // exit observed -> spawn returned
  std::vector<double> decision_us;   // exit observed -> launch called
  double wall_s = 0;
  double state_s = 0;
  bool ok = false;
};

std::string quoted_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    out += (out.empty() ? "\"" : ", \"") + a + "\"";
  }
  return out;
}

// One group of `l.tasks` tasks through an embedded coordinator.
engine_run run_engine(const load& l, const fs::path& state_dir) {
  auto config = maestro::parse_config(
      "{\"max_concurrent\": " + std::to_string(l.jobs) + ", \"agent_defaults\": {\"command\": [" +
          quoted_argv(l.argv) + "]}, \"test\": {\"command\": \"none\"}, \"close_tasks\": false}",
      "bench config");
  std::vector<maestro::core::task> tasks(static_cast<std::size_t>(l.tasks));
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].id = "t" + std::to_string(i);
    tasks[i].title = "[P:Group-bench] " + tasks[i].id;
  }
  boost::asio::io_context io;
  recording_sink sink;
  maestro::local_launcher local(io.get_executor());
  timing_launcher timing(local);
  maestro::coordinator_options options;
  options.process_launcher = &timing;
  options.state_dir = state_dir;
  options.workdir = state_dir.parent_path();
  options.source = "bench";
  options.sink = &sink;
  maestro::coordinator coordinator(io.get_executor(), std::move(config), std::move(tasks),
                                   std::move(options));
  engine_run r;
  const auto started = bench::clock_type::now();
  coordinator.async_execute("bench", maestro::completed_group::run_again,
                            [&](const std::exception_ptr& e, const maestro::run_outcome& outcome) {
                              r.ok = !e && outcome.exit_code() == 0;
                            });
  io.run();
  r.wall_s = std::chrono::duration<double>(bench::clock_type::now() - started).count();
  r.state_s = std::chrono::duration<double>(sink.state_spent).count();
  const auto jobs = static_cast<std::size_t>(l.jobs);
  for (std::size_t k = 0; k < sink.exits.size() && jobs + k < sink.launches.size(); ++k) {
    r.latencies_us.push_back(micros(sink.launches[jobs + k] - sink.exits[k]));
    if (jobs + k < timing.calls.size()) {
      r.decision_us.push_back(micros(timing.calls[jobs + k] - sink.exits[k]));
    }
  }
  return r;
}

// The floor: waitpid returning to the next posix_spawn returning.
std::vector<double> run_floor(const load& l) {
  auto args = bench::c_args(l.argv);
  std::vector<double> out;
  int started = 0;
  int running = 0;
  const auto spawn_one = [&] {
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0) {
      ++running;
    }
    ++started;
  };
  while (running < l.jobs && started < l.tasks) {
    spawn_one();
  }
  while (running > 0) {
    int status = 0;
    if (::waitpid(-1, &status, 0) <= 0) {
      break;
    }
    const auto observed = bench::clock_type::now();
    --running;
    if (started < l.tasks) {
      spawn_one();
      out.push_back(micros(bench::clock_type::now() - observed));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const int rounds = args.number("--rounds", quick ? 1 : 3);
  bench::results figures(args.text("--csv", ""), bench::figures_header);
  bench::results samples(args.text("--samples", ""), bench::samples_header);

  const std::vector<load> loads{
      {"not saturated (20 ms children at -j8)", {"/bin/sleep", "0.02"}, quick ? 200 : 600, 8},
      {"saturated (/bin/true at -j8)", {"/bin/true"}, quick ? 500 : 2000, 8},
  };
  struct place {
    std::string name;
    fs::path base;
  };
  std::vector<place> places;
  if (fs::is_directory("/dev/shm")) {
    places.push_back({"state on tmpfs", "/dev/shm"});
  }
  places.push_back({"state on disk", fs::temp_directory_path()});

  std::printf("exit to launch, inside the engine: %d round(s), competitors alternating (us)\n",
              rounds);
  std::printf("%-38s %-36s %7s %9s %9s %9s %8s %8s\n", "load", "competitor", "n", "p50", "p99",
              "max", "x floor", "state %");
  for (const auto& l : loads) {
    std::vector<double> floor;
    std::vector<std::vector<double>> engine(places.size());
    std::vector<std::vector<double>> decision(places.size());
    std::vector<double> wall(places.size());
    std::vector<double> state(places.size());
    std::vector<bool> failed(places.size());
    std::vector<std::unique_ptr<bench::scratch>> dirs;  // removed after the load's rounds
    dirs.reserve(places.size());
    for (const auto& p : places) {
      dirs.push_back(std::make_unique<bench::scratch>("engine-bench", p.base));
    }
    int run = 0;
    for (int round = 0; round < rounds; ++round) {
      const auto f = run_floor(l);
      floor.insert(floor.end(), f.begin(), f.end());
      for (std::size_t p = 0; p < places.size(); ++p) {
        const auto r = run_engine(l, dirs[p]->path() / ("state-" + std::to_string(++run)));
        engine[p].insert(engine[p].end(), r.latencies_us.begin(), r.latencies_us.end());
        decision[p].insert(decision[p].end(), r.decision_us.begin(), r.decision_us.end());
        wall[p] += r.wall_s;
        state[p] += r.state_s;
        failed[p] = failed[p] || !r.ok;
      }
    }
    const double floor_p50 = bench::median(floor);
    const auto report = [&](const std::string& competitor, const std::vector<double>& v,
                            double state_share, bool bad) {
      const double p50 = bench::median(v);
      std::printf("%-38s %-36s %7zu %9.1f %9.1f %9.1f %8.2f %8s%s\n", l.name.c_str(),
                  competitor.c_str(), v.size(), p50, bench::quantile(v, 0.99), bench::largest(v),
                  floor_p50 > 0 ? p50 / floor_p50 : 0,
                  bench::fixed(state_share, 1, state_share >= 0).c_str(), bad ? "  (FAILED)" : "");
      figures.row("exit_to_launch", l.name, competitor, "p50_us", p50, "us");
      figures.row("exit_to_launch", l.name, competitor, "p99_us", bench::quantile(v, 0.99), "us");
      figures.row("exit_to_launch", l.name, competitor, "max_us", bench::largest(v), "us");
      figures.row("exit_to_launch", l.name, competitor, "ratio_to_floor_p50",
                  floor_p50 > 0 ? p50 / floor_p50 : 0, "x");
      if (state_share >= 0) {
        figures.row("exit_to_launch", l.name, competitor, "state_share_percent", state_share, "%");
      }
      for (const double x : v) {
        samples.sample("exit_to_launch", l.name, competitor, x, "us");
      }
    };
    report("posix_spawn loop (floor)", floor, -1, false);
    for (std::size_t p = 0; p < places.size(); ++p) {
      report("maestro-async (" + places[p].name + ")", engine[p],
             wall[p] > 0 ? 100 * state[p] / wall[p] : 0, failed[p]);
    }
    for (std::size_t p = 0; p < places.size(); ++p) {
      report("to launch() called (" + places[p].name + ")", decision[p], -1, false);
    }
  }
  std::printf(
      "SPEC target, not saturated: p50 <= 100 us, p99 <= 1,000 us.\n"
      "'to launch() called': the engine's own part, before the log file and the spawn.\n"
      "The Python prototype polled every 10 s: up to 10,000,000 us.\n"
      "state %%: the share of the engine's run spent in the state store.\n");
  return 0;
}
