#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/fwd.hpp>

#include <maestro/core/config.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/core/plan.hpp>
#include <maestro/core/task.hpp>
#include <maestro/ports/clock.hpp>
#include <maestro/ports/launcher.hpp>
#include <maestro/ports/state_store.hpp>
#include <maestro/ports/status_sink.hpp>
#include <maestro/ports/task_source.hpp>
#include <maestro/ports/test_runner.hpp>
#include <maestro/ports/tracker.hpp>
#include <maestro/ports/workspace.hpp>
#include <maestro/refused.hpp>

namespace maestro {

namespace detail {
class group_runner;
struct runtime_context;
}  // namespace detail

/// Where and how a coordinator works. Every pointer is borrowed and must
/// outlive the coordinator; null means the default.
///
/// `process_launcher`, `task_tracker`, `watched_port` and `watched_source` are
/// read by the constructors that build the default ports
/// (`maestro::default_ports`); the one that takes `coordinator_ports`
/// ignores them. A port given here must report on the coordinator's strand:
/// build it on the strand you hand the coordinator.
struct coordinator_options {
  /// The engine's working directory: children run here, `{workdir}`.
  std::filesystem::path workdir = std::filesystem::current_path();
  /// The state directory; empty means `config.state_dir` under `workdir`.
  std::filesystem::path state_dir;
  /// Names the task source in the state files.
  std::string source;
  /// Progress reports; null reports nothing.
  status_sink* sink = nullptr;
  /// Null: a `local_launcher` on the coordinator's strand.
  launcher* process_launcher = nullptr;
  /// Null: a `state_only_tracker`.
  tracker* task_tracker = nullptr;
  /// The tasks file, watched (inotify on its directory) while a group
  /// runs: a blocker that closes there releases its blocked tasks (within
  /// `blocked_wait_s`), and a queued task that closes there is `skipped`.
  /// Empty: no watch.
  std::filesystem::path watched_source;
  /// A task source of the host's, watched instead of `watched_source` (the
  /// live beads source, say).
  task_source* watched_port = nullptr;
};

/// The ports a coordinator works through: its only way out. Every pointer
/// is borrowed, must outlive the coordinator, and must report on the
/// coordinator's strand. Only `source` may be null (no watch).
struct coordinator_ports {
  launcher* process_launcher = nullptr;
  state_repository* state = nullptr;
  tracker* task_tracker = nullptr;
  test_runner* tests = nullptr;
  engine_clock* clock = nullptr;
  /// Watched while a group runs: a blocker that closes releases its
  /// blocked tasks (within `blocked_wait_s`), and a queued task that closes
  /// is `skipped`.
  task_source* source = nullptr;
  /// Where each attempt runs and how its work is merged (SPEC section 11).
  /// Null: every child runs in `coordinator_options::workdir`, as with a
  /// `shared_workspace`.
  workspace* workspaces = nullptr;
};

/// What `async_run` does after a failed stage.
enum class after_failure {
  stop,       ///< stop (the default)
  keep_going  ///< run the stages that do not depend on the failed one
};

/// What `async_execute` does with a group that already completed.
enum class completed_group {
  refuse,    ///< throw `refused` (the default)
  run_again  ///< `--force`
};

/// One stage's outcome.
struct group_outcome {
  std::string group_id;
  core::group_status status = core::group_status::pending;
  /// Set when the stage was not run: why.
  std::string skipped;
  /// Set when a completed stage ran only the tasks it gained since.
  std::string note;
};

/// The outcome of `async_execute` or `async_run`.
struct run_outcome {
  std::vector<group_outcome> groups;
  /// True when `stop` or a cancellation ended the run.
  bool stopped = false;
  /// 0 completed, 1 failed or cancelled, 4 incomplete (SPEC section 4;
  /// the app turns a stop by a signal into 130 or 143).
  [[nodiscard]] int exit_code() const noexcept;
};

/// Runs groups of tasks on the host's executor. It starts no threads,
/// installs no signal handlers and configures no logging. All its work runs
/// on one strand of the given executor, so the host may run the io_context
/// on several threads.
///
/// Operations take any Asio completion token; their signature is
/// `void(std::exception_ptr, run_outcome)`. Cancelling an operation through
/// its cancellation slot stops the running group: terminal cancellation
/// kills every child at once (SIGKILL to its process group); total or
/// partial cancellation sends SIGTERM, then SIGKILL after `kill_grace_s`.
/// Either way the operation completes only when every child has exited,
/// with the group recorded `cancelled`.
class coordinator {
 public:
  using executor_type = boost::asio::strand<boost::asio::any_io_executor>;

  /// With the default ports: a `local_launcher`, or a `slurm_launcher`
  /// for `launcher.kind: slurm` (or `options.process_launcher`), the
  /// state directory, a
  /// `state_only_tracker` (or `options.task_tracker`), test detection, the
  /// steady clock, and `options.watched_source` watched with inotify.
  /// Defined in the `maestro::default_ports` target, which
  /// `maestro::engine` links. Plans `tasks` at once; throws
  /// `core::input_error` on bad input, as `core::make_plan` does.
  coordinator(const boost::asio::any_io_executor& executor, core::config config,
              std::vector<core::task> tasks, coordinator_options options = {});
  /// The same on `strand`, which the ports of `options` report on.
  coordinator(executor_type strand, core::config config, std::vector<core::task> tasks,
              coordinator_options options = {});

  /// With the host's ports, which report on `strand` (the coordinator's
  /// executor from then on). Throws `std::invalid_argument` for a
  /// required port left null; otherwise as above.
  coordinator(executor_type strand, core::config config, std::vector<core::task> tasks,
              coordinator_options options, coordinator_ports ports);
  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;
  ~coordinator();

  /// The strand all of the coordinator's work runs on. A host that emits a
  /// cancellation signal of its own should do it here.
  [[nodiscard]] executor_type get_executor() const noexcept { return strand_; }

  /// The plan: stages in run order.
  [[nodiscard]] const core::plan& plan() const noexcept { return plan_; }
  [[nodiscard]] const std::vector<core::task>& tasks() const noexcept { return tasks_; }
  [[nodiscard]] const core::config& config() const noexcept { return config_; }
  [[nodiscard]] const std::filesystem::path& state_dir() const noexcept { return state_dir_; }

  /// Runs the four phases for one group: a parallel group's NAME,
  /// `_sequential.<task-id>`, or `_sequential` for every sequential stage
  /// in order.
  template <class CompletionToken>
  auto async_execute(std::string group_id, completed_group policy, CompletionToken&& token) {
    return boost::asio::co_spawn(strand_, execute_impl(std::move(group_id), policy),
                                 std::forward<CompletionToken>(token));
  }

  /// Runs every stage: one at a time in run order (`schedule: stages`), or
  /// every stage whose prerequisites have finished at once, under one set
  /// of limits (`schedule: graph`).
  template <class CompletionToken>
  auto async_run(after_failure policy, CompletionToken&& token) {
    return boost::asio::co_spawn(strand_, run_impl(policy), std::forward<CompletionToken>(token));
  }

  /// Continues an interrupted or crashed group: first ends every process
  /// group its state records as running (after checking, through /proc,
  /// that the processes are that task's), then runs the tasks that did not
  /// complete, keeping the earlier attempts in the history. Completed tasks
  /// are not run again. Throws `refused` for a group that is running, that
  /// has no state to resume, or that is unknown.
  template <class CompletionToken>
  auto async_resume(std::string group_id, CompletionToken&& token) {
    return boost::asio::co_spawn(strand_, resume_impl(std::move(group_id)),
                                 std::forward<CompletionToken>(token));
  }

  /// Stops the running group, or every running stage of `async_run` (and
  /// any stage after it). Thread-safe.
  void stop(core::stop_mode mode, std::string reason = {});

 private:
  /// Sets the fields that need no port; `wire` does the rest.
  struct fields_only {};
  coordinator(fields_only, executor_type strand, core::config config, std::vector<core::task> tasks,
              coordinator_options options);
  /// Plans, and readies the runtime's context, through `ports`.
  void wire(coordinator_ports ports);

  boost::asio::awaitable<run_outcome> execute_impl(std::string group_id, completed_group policy);
  boost::asio::awaitable<run_outcome> run_impl(after_failure policy);
  boost::asio::awaitable<run_outcome> resume_impl(std::string group_id);
  /// Ends what an engine that is gone (its run nonce `gone_nonce`) left
  /// running of `stage`: its launcher's jobs (of the stage's tasks and of
  /// `recorded_ids`, those its state recorded), then the process groups
  /// `(task id, pgid)` it recorded.
  boost::asio::awaitable<void> end_leftovers(
      const std::vector<std::pair<std::string, int>>& running, const core::stage& stage,
      const std::string& gone_nonce, const std::vector<std::string>& recorded_ids);
  /// What the state directory holds of a stage.
  enum class recorded { absent, completed, unfinished };
  struct recorded_stage_state {
    recorded kind = recorded::absent;
    std::size_t new_tasks = 0;  ///< tasks of the stage the state does not know
  };
  [[nodiscard]] recorded_stage_state recorded_stage(const core::stage& stage) const;
  /// Before anything launches (SPEC section 4): every task of `stages` has
  /// an agent in its chain whose command resolves. Throws
  /// `core::config_error` naming the task, the commands and the key to set.
  void preflight(const std::vector<const core::stage*>& stages) const;
  /// Before anything is created: the workspace's preconditions (SPEC
  /// section 11). Throws `refused` naming what is wrong.
  boost::asio::awaitable<void> check_workspace();
  /// At an operation's end: waits until no workspace call is under way,
  /// and until the launcher has let go of what it held.
  boost::asio::awaitable<void> drain_ports();
  /// How a stage starts: from nothing, or from its recorded state.
  enum class stage_start { fresh, resume };
  boost::asio::awaitable<group_outcome> run_stage(const core::stage& stage, stage_start start);
  /// A stage ready to run: its lock, and what its group is made of.
  struct prepared_stage;
  /// Locks the stage (waiting for the lock of an engine that is gone),
  /// ends what an earlier engine left running, and works out its group.
  /// Throws `refused` for a stage that is running or whose state is
  /// damaged.
  boost::asio::awaitable<prepared_stage> prepare_stage(const core::stage& stage, stage_start start);
  /// Notes the tasks a stage's group completed: they satisfy what depends
  /// on them in later stages.
  void note_completed(const core::stage& stage, const core::group_machine& machine);
  /// `run` under the run-level scheduler (engine/src/run_loop.cpp).
  struct run_loop;
  /// Opens stage `k` of `loop` (`open_stage_action`), answering the
  /// scheduler with the stage's group, or that it completed before, or why
  /// it cannot run.
  boost::asio::awaitable<void> open_stage(run_loop& loop, std::size_t k);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  core::config config_;
  std::vector<core::task> tasks_;
  coordinator_options options_;
  std::filesystem::path state_dir_;
  core::plan plan_;
  std::unordered_set<std::string> closed_in_source_;  // closed in the source as loaded
  std::unordered_set<std::string> completed_;         // completed in the state directory at start
  std::vector<bool> completed_here_;                  // per task: completed by this coordinator
  std::vector<std::size_t> critical_paths_;  // per planned task, while `run` runs under graph
  // The default ports, when this coordinator made them.
  std::unique_ptr<engine_clock> own_clock_;
  std::unique_ptr<launcher> own_launcher_;
  std::unique_ptr<state_repository> own_state_;
  std::unique_ptr<tracker> own_tracker_;
  std::unique_ptr<test_runner> own_tests_;
  std::unique_ptr<task_source> own_source_;
  std::unique_ptr<workspace> own_workspace_;
  coordinator_ports ports_;
  std::unique_ptr<detail::runtime_context> context_;
  detail::group_runner* current_ = nullptr;
  run_loop* run_ = nullptr;  // while `run` runs
  bool stopped_ = false;
};

}  // namespace maestro
