// Workspace: the per-task overhead of `workspace: worktree` (a worktree
// made from the group's tip, the agent's work committed, merged into the
// group's branch, the worktree removed) on a generated repository of 5,000
// files, beside the same git commands run alone in the same program:
// `worktree add`, `add` + `commit`, `merge --no-ff` (in a checkout of the
// target branch) and `worktree remove`. The engine's side is the adapter
// itself (git_worktree_workspace), driven on an io_context as the runtime
// drives it. Target (SPEC section 9): at most 2x.
//
//   bench_workspace [--quick] [--files N] [--tasks N] [--csv FILE]
//
// The two sides alternate task by task, so that a noisy moment of the
// machine falls on both.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <maestro/adapters/workspace_adapters.hpp>

#include "bench.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace bench = maestro::bench;
using bench::clock_type;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Runs git, quietly; false when it failed.
bool git(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  return bench::run(argv, cwd).status == 0;
}

// A repository of `files` files in 50 directories, one commit.
void make_repository(const fs::path& repo, int files) {
  fs::create_directories(repo);
  git({"init", "-q", "-b", "main"}, repo);
  git({"config", "user.email", "bench@example.com"}, repo);
  git({"config", "user.name", "bench"}, repo);
  for (int i = 0; i < files; ++i) {
    const auto dir = repo / ("dir" + std::to_string(i % 50));
    fs::create_directories(dir);
    std::ofstream(dir / ("file" + std::to_string(i) + ".txt"))
        << "line one of file " << i << "\nline two\n";
  }
  std::ofstream(repo / ".gitignore") << "/state/\n/baseline/\n";
  git({"add", "-A"}, repo);
  git({"commit", "-q", "-m", "generated"}, repo);
}

// What an agent does: one new file.
void agent_work(const fs::path& dir, int i) {
  std::ofstream(dir / ("task-" + std::to_string(i) + ".txt")) << "work of task " << i << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const bench::arguments args(argc, argv);
  const bool quick = args.flag("--quick");
  const int files = args.number("--files", 5000);
  const int tasks = args.number("--tasks", quick ? 6 : 20);
  bench::results figures(args.text("--csv", ""), bench::figures_header);
  const auto work = fs::temp_directory_path() / ("bench-workspace-" + std::to_string(::getpid()));
  const auto repo = work / "repo";
  make_repository(repo, files);

  // The baseline's target branch, checked out once (merge needs a checkout).
  const auto target = repo / "baseline" / "target";
  git({"worktree", "add", "-q", "-b", "baseline-target", target.string(), "main"}, repo);

  boost::asio::io_context io;
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    environment.emplace_back(*e);
  }
  maestro::core::workspace_config config;
  config.kind = maestro::core::workspace_kind::worktree;
  maestro::git_worktree_workspace workspace(io.get_executor(), repo, repo / "state", config,
                                            environment);
  std::string error;
  const auto wait_for = [&](auto start) {
    error.clear();
    start();
    io.restart();
    io.run();
    return error.empty();
  };
  const auto done = [&](std::string e) { error = std::move(e); };
  if (!wait_for([&] { workspace.async_check(done); }) ||
      !wait_for([&] { workspace.async_open_group("g", true, done); })) {
    (void)std::fprintf(stderr, "bench_workspace: %s\n", error.c_str());
    return 1;
  }

  std::vector<double> alone;
  std::vector<double> engine;
  bool ok = true;
  for (int i = 0; i < tasks && ok; ++i) {
    // The git commands alone.
    {
      const auto dir = repo / "baseline" / ("t" + std::to_string(i));
      const auto branch = "baseline/t" + std::to_string(i);
      const auto t0 = clock_type::now();
      ok =
          ok && git({"worktree", "add", "-q", "-b", branch, dir.string(), "baseline-target"}, repo);
      agent_work(dir, i);
      ok = ok && git({"add", "-A"}, dir);
      ok = ok && git({"commit", "-q", "--no-verify", "-m", "task"}, dir);
      ok = ok && git({"merge", "-q", "--no-ff", "--no-edit", branch}, target);
      ok = ok && git({"worktree", "remove", "--force", dir.string()}, repo);
      alone.push_back(seconds_since(t0));
    }
    // The same through the workspace port.
    {
      const maestro::attempt_ref a{"g", "t" + std::to_string(i), "task " + std::to_string(i), 1};
      const auto t0 = clock_type::now();
      fs::path dir;
      ok = ok && wait_for([&] {
             workspace.async_prepare(a, [&](const maestro::workspace_dir& where, std::string e) {
               dir = where.dir;
               error = std::move(e);
             });
           });
      agent_work(dir, i);
      ok = ok && wait_for([&] { workspace.async_integrate(a, done); });
      engine.push_back(seconds_since(t0));
    }
  }
  if (!ok) {
    (void)std::fprintf(stderr, "bench_workspace: a git command failed%s%s\n",
                       error.empty() ? "" : ": ", error.c_str());
    return 1;
  }
  // Both sides did the work: a merge per task on each target branch, and
  // no worktree left but the baseline's target.
  const auto count = std::to_string(tasks);
  if (bench::shell("test \"$(git rev-list --merges --count maestro/group/g)\" = " + count +
                       " && test \"$(git rev-list --merges --count baseline-target)\" = " + count +
                       " && test \"$(git worktree list | wc -l)\" = 2",
                   repo)
          .status != 0) {
    (void)std::fprintf(stderr,
                       "bench_workspace: the merges or the clean-up are not what they should be\n");
    return 1;
  }

  const double alone_ms = bench::median(alone) * 1000;
  const double engine_ms = bench::median(engine) * 1000;
  const double ratio = engine_ms / alone_ms;
  std::printf("workspace: per-task overhead on a repository of %d files, %d tasks, median\n", files,
              tasks);
  std::printf("%-34s %10s %10s %10s\n", "competitor", "median ms", "min ms", "max ms");
  std::printf("%-34s %10.1f %10.1f %10.1f\n", "git commands alone", alone_ms,
              bench::smallest(alone) * 1000, bench::largest(alone) * 1000);
  std::printf("%-34s %10.1f %10.1f %10.1f\n", "maestro-async worktree (adapter)", engine_ms,
              bench::smallest(engine) * 1000, bench::largest(engine) * 1000);
  std::printf("ratio worktree/alone: %.2fx (target: at most 2x) %s\n", ratio,
              ratio <= 2.0 ? "met" : "NOT MET");
  const auto kase = std::to_string(files) + " files";
  figures.row("workspace", kase, "git-alone", "per_task_ms", alone_ms, "ms");
  figures.row("workspace", kase, "maestro-async", "per_task_ms", engine_ms, "ms");
  figures.row("workspace", kase, "maestro-async", "ratio_to_alone", ratio, "x");
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return 0;
}
