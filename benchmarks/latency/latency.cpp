// Watch latency, measured from outside the engine, on the real binary:
//
//  1. tracker change to launch: a group whose only task is blocked by a
//     task outside the run (blocked_wait_s 60); the benchmark replaces the
//     tasks file atomically with the blocker closed and records the time;
//     the agent stamps CLOCK_MONOTONIC as it starts. The figure includes
//     the engine's re-read, its decision, posix_spawn and the agent's exec.
//  2. metadata turning terminal to `wait` returning: the benchmark plays the
//     engine (it holds the group's lock and writes metadata.json), starts
//     `maestro-async wait`, waits until it blocks, renames a terminal
//     metadata.json into place and records the time; the figure ends when
//     waitpid sees `wait` exit.
//  3. metadata.json behind events.jsonl, in a 200-task group of 20 ms agents
//     at -j 8: the benchmark looks at both files every 0.5 ms while the group
//     runs; for each growth of events.jsonl, the time until metadata.json is
//     next replaced (a new inode). SPEC section 6: within 200 ms.
//  4. a blocker closed through `bd` to the blocked task launching (SPEC
//     section 9), with `--beads` against the `bd` double
//     (tests/support/fake_bd): the blocker is held by another actor, the
//     benchmark closes it with `bd close` and records the time bd exits;
//     the figure includes the debounce, one `bd show` and the claim. The
//     target is 20 ms plus those, so the same program measures a `bd show`
//     and a `bd update --claim` round trip alone, and prints the target.
//
//   bench_latency [--quick] [--rounds N] [--csv FILE] [--samples FILE]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench.hpp"

namespace {

namespace bench = maestro::bench;
using bench::read_file;
using bench::write_file;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

// True once process `pid` sleeps in the kernel (state S): it is blocked.
bool sleeping(pid_t pid) {
  const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'S';
}

void print_row(const char* name, const std::vector<double>& ms, bench::results& figures,
               bench::results& samples) {
  std::printf("%-40s %6zu %9.3f %9.3f %9.3f %9.3f\n", name, ms.size(), bench::median(ms),
              bench::quantile(ms, 0.99), bench::smallest(ms), bench::largest(ms));
  figures.row("watch", name, "maestro-async", "p50_ms", bench::median(ms), "ms");
  figures.row("watch", name, "maestro-async", "p99_ms", bench::quantile(ms, 0.99), "ms");
  figures.row("watch", name, "maestro-async", "max_ms", bench::largest(ms), "ms");
  for (const double x : ms) {
    samples.sample("watch", name, "maestro-async", x, "ms");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const int rounds = args.number("--rounds", args.flag("--quick") ? 10 : 60);
  bench::results figures(args.text("--csv", ""), bench::figures_header);
  bench::results samples(args.text("--samples", ""), bench::samples_header);
  const auto work = fs::temp_directory_path() / ("maestro-latency-" + std::to_string(getpid()));
  fs::create_directories(work);
  const std::string bin = MAESTRO_ASYNC_BIN;

  // 1. tracker change to launch.
  std::vector<double> change_to_launch;
  write_file(
      work / "maestro.json",
      std::string(R"({"state_dir": "state", "blocked_wait_s": 60, "test": {"command": "none"},)") +
          R"("agent_defaults": {"command": [")" + MAESTRO_STAMP_BIN + R"(", "stamps"]}})");
  const std::string blocked = R"([{"id":"a","title":"[P:Group-g] a","dependencies":["x"]},)";
  for (int r = 0; r < rounds; ++r) {
    fs::remove_all(work / "state");
    fs::remove(work / "stamps");
    write_file(work / "tasks.json", blocked + R"({"id":"x","title":"outside"}])");
    const pid_t engine = bench::start({bin, "execute", "--group-id", "g", "--tasks-file",
                                       "tasks.json", "--no-progress", "--log-level", "off"},
                                      work);
    // Ready when the group records its task blocked, and the engine sleeps.
    while (read_file(work / "state/parallel_groups/g/metadata.json").find("\"blocked\"") ==
               std::string::npos ||
           !sleeping(engine)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    write_file(work / "tasks.json.tmp",
               blocked + R"({"id":"x","title":"outside","status":"closed"}])");
    const long long changed = now_ns();
    fs::rename(work / "tasks.json.tmp", work / "tasks.json");
    int status = 0;
    waitpid(engine, &status, 0);
    const auto stamp = read_file(work / "stamps");
    if (!stamp.empty()) {
      change_to_launch.push_back(static_cast<double>(std::stoll(stamp) - changed) / 1e6);
    }
  }

  // 2. metadata terminal to wait returning. Two ends: `wait` printing its
  // result (read from a pipe), and the parent seeing it exit; between the
  // two the kernel tears the process down, and with it the inotify
  // instance, which waits for an SRCU grace period.
  std::vector<double> terminal_to_wait;
  std::vector<double> terminal_to_print;
  const auto group = work / "state2/parallel_groups/w";
  fs::create_directories(group);
  write_file(work / "wait.json", R"({"state_dir": "state2"})");
  const int lock = ::open((group / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ::flock(lock, LOCK_EX);
  const std::string pid = std::to_string(getpid());
  const auto metadata = [&](const char* status) {
    return std::string(R"({"group_id":"w","status":")") + status +
           R"(","phase":"coordination","engine_pid":)" + pid + R"(,"results":[]})";
  };
  for (int r = 0; r < rounds; ++r) {
    write_file(group / "metadata.json", metadata("running"));
    int out[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0) {
      return 1;
    }
    const pid_t waiter = bench::start({bin, "wait", "--group-id", "w", "--config", "wait.json"},
                                      work, true, {}, out[1]);
    ::close(out[1]);
    while (!sleeping(waiter)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_file(group / "metadata.json.tmp", metadata("completed"));
    const long long changed = now_ns();
    fs::rename(group / "metadata.json.tmp", group / "metadata.json");
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
    }
    terminal_to_print.push_back(static_cast<double>(now_ns() - changed) / 1e6);
    int status = 0;
    waitpid(waiter, &status, 0);
    terminal_to_wait.push_back(static_cast<double>(now_ns() - changed) / 1e6);
    ::close(out[0]);
  }
  ::close(lock);

  // 3. metadata.json behind events.jsonl.
  std::vector<double> metadata_lag;
  write_file(work / "lag.json",
             R"({"state_dir": "state3", "test": {"command": "none"}, "max_concurrent": 8,)"
             R"("agent_defaults": {"command": ["/bin/sleep", "0.02"]}})");
  std::string lag_tasks = "[";
  for (int i = 0; i < 200; ++i) {
    lag_tasks += (i == 0 ? "" : ",") + std::string(R"({"id":"t)") + std::to_string(i) +
                 R"(","title":"[P:Group-lag] t"})";
  }
  write_file(work / "lag-tasks.json", lag_tasks + "]");
  const int lag_rounds = std::max(1, rounds / 10);
  for (int r = 0; r < lag_rounds; ++r) {
    fs::remove_all(work / "state3");
    const auto dir = work / "state3/parallel_groups/lag";
    const pid_t engine =
        bench::start({bin, "execute", "--group-id", "lag", "--config", "lag.json", "--tasks-file",
                      "lag-tasks.json", "--no-progress", "--log-level", "off"},
                     work);
    std::vector<long long> unmatched;  // growths of events.jsonl not yet in metadata.json
    off_t events_size = 0;
    ino_t metadata_inode = 0;
    for (int status = 0; waitpid(engine, &status, WNOHANG) == 0;) {
      const long long t = now_ns();
      struct stat st {};
      if (::stat((dir / "metadata.json").c_str(), &st) == 0 && st.st_ino != metadata_inode) {
        metadata_inode = st.st_ino;
        for (const long long grew : unmatched) {
          metadata_lag.push_back(static_cast<double>(t - grew) / 1e6);
        }
        unmatched.clear();
      }
      if (::stat((dir / "events.jsonl").c_str(), &st) == 0 && st.st_size != events_size) {
        events_size = st.st_size;
        unmatched.push_back(t);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }

  // 4. a blocker closed through bd to the blocked task launching.
  std::vector<double> bd_close_to_launch;
  std::vector<double> bd_show_trip;
  std::vector<double> bd_claim_trip;
  const std::string bd = MAESTRO_FAKE_BD;
  const auto beads = work / "beads";
  fs::create_directories(beads);
  const auto run_bd = [&](std::vector<std::string> bd_args) {
    bd_args.insert(bd_args.begin(), bd);
    const pid_t p = bench::start(bd_args, beads, true);
    int status = 0;
    waitpid(p, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  run_bd({"init", "--prefix", "b"});
  write_file(
      beads / "maestro.json",
      std::string(R"({"state_dir": "state", "blocked_wait_s": 60, "test": {"command": "none"},)") +
          R"("beads": {"actor": "bench", "recheck_s": 0},)" +
          R"("agent_defaults": {"command": [")" + MAESTRO_STAMP_BIN + R"(", "stamps"]}})");
  for (int r = 0; r < rounds; ++r) {
    fs::remove_all(beads / "state");
    fs::remove(beads / "stamps");
    write_file(
        beads / "issues.jsonl",
        R"({"id":"b-a","title":"[P:Group-g] a","status":"open","dependencies":[{"issue_id":"b-a","depends_on_id":"b-x","type":"blocks"}]})"
        "\n"
        R"({"id":"b-x","title":"outside","status":"in_progress","assignee":"someone"})"
        "\n"
        R"({"id":"b-y","title":"for the round trips","status":"open"})"
        "\n");
    run_bd({"import", "-i", "issues.jsonl"});
    // The round trips alone: one `bd show`, one claim (then handed back).
    long long t0 = now_ns();
    run_bd({"show", "b-y", "--json"});
    bd_show_trip.push_back(static_cast<double>(now_ns() - t0) / 1e6);
    t0 = now_ns();
    run_bd({"update", "b-y", "--claim", "--json", "--actor", "bench"});
    bd_claim_trip.push_back(static_cast<double>(now_ns() - t0) / 1e6);
    run_bd({"update", "b-y", "--status", "open", "--assignee", ""});
    const pid_t engine = bench::start({bin, "execute", "--group-id", "g", "--beads", "--bd", bd,
                                       "--no-progress", "--log-level", "off"},
                                      beads);
    while (read_file(beads / "state/parallel_groups/g/metadata.json").find("\"blocked\"") ==
               std::string::npos ||
           !sleeping(engine)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    run_bd({"close", "b-x", "--actor", "someone"});
    const long long closed = now_ns();
    int status = 0;
    waitpid(engine, &status, 0);
    const auto stamp = read_file(beads / "stamps");
    if (!stamp.empty()) {
      bd_close_to_launch.push_back(static_cast<double>(std::stoll(stamp) - closed) / 1e6);
    }
  }

  std::printf("watch latency, %d rounds (ms)\n%-40s %6s %9s %9s %9s %9s\n", rounds, "what", "n",
              "p50", "p99", "min", "max");
  print_row("tasks file change -> blocked task launch", change_to_launch, figures, samples);
  print_row("metadata terminal -> wait prints", terminal_to_print, figures, samples);
  print_row("metadata terminal -> wait returns", terminal_to_wait, figures, samples);
  print_row("events.jsonl -> metadata.json (200 tasks)", metadata_lag, figures, samples);
  print_row("bd close -> blocked task launch", bd_close_to_launch, figures, samples);
  print_row("  bd show round trip (alone)", bd_show_trip, figures, samples);
  print_row("  bd update --claim round trip (alone)", bd_claim_trip, figures, samples);
  // The engine's debounce of .beads/ changes (bd_settings::debounce).
  constexpr double debounce_ms = 20;
  const double beads_target =
      20 + debounce_ms + bench::quantile(bd_show_trip, 0.99) + bench::quantile(bd_claim_trip, 0.99);
  const double beads_p99 = bench::quantile(bd_close_to_launch, 0.99);
  std::printf(
      "bd close -> launch: p99 %.1f ms against a target of %.1f ms (20 + %.0f debounce + "
      "show p99 + claim p99): ratio %.2f\n",
      beads_p99, beads_target, debounce_ms, beads_p99 / beads_target);
  figures.row("watch", "bd close -> blocked task launch", "target", "p99_ms", beads_target, "ms");
  std::printf("SPEC targets: p99 <= 20 ms for the first three; <= 200 ms for the fourth.\n");
  std::printf("(the Python coordinator polled every 10,000 ms)\n");
  fs::remove_all(work);
  return 0;
}
