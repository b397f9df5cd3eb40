#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include <maestro/core/group_machine.hpp>

namespace maestro {

/// What a child is for. Agents may run elsewhere (the Slurm launcher runs
/// them as cluster jobs); the engine's own commands (the refresh and test
/// commands) always run on this machine.
enum class child_role { command, agent };

/// Whose agents: one engine run's group. A launcher may name, group and
/// find what it starts after it.
struct group_ref {
  /// The engine run's nonce, recorded in the group's state: what tells
  /// this run's children from another run's.
  std::string run_nonce;
  std::string group_id;
  /// How many of the group's agents may run at once (the smaller of the
  /// group's limit and the global one).
  int slots = 1;
};

/// What to start: one child process.
struct launch_spec {
  /// argv; `argv[0]` is looked up in `PATH` unless it holds a `/`.
  std::vector<std::string> argv;
  /// The child's working directory; empty: the engine's. (A relative
  /// `argv[0]` is resolved by the runtime beforehand, against the engine's.)
  std::filesystem::path workdir;
  /// The whole environment, as `NAME=value` entries.
  std::vector<std::string> env;
  /// stdout and stderr are appended to this file.
  std::filesystem::path log_file;
  /// Written to the log, on a line of its own, before the child starts.
  std::string log_header;
  /// Written to the child's stdin when set; otherwise stdin is /dev/null.
  std::optional<std::string> stdin_data;
  /// When not 0: `exit_info::output_tail` carries up to this many of the
  /// last bytes the child wrote to its log (the header included).
  std::size_t output_tail = 0;
  child_role role = child_role::command;
  /// An agent's run, group and task (empty for a command).
  group_ref group;
  std::string task_id;
  /// Told where the child runs once the launcher knows (a cluster's job
  /// id), on the runtime's strand, at most once and before `on_exit`.
  /// May be empty.
  std::function<void(std::string)> on_placed;
};

/// A started child: its pid and its process group (the child leads its own).
struct child_handle {
  int pid = 0;
  int pgid = 0;
};

/// How a child ended.
struct exit_info {
  int exit_code = 0;  ///< the exit status, or 128 + signal when killed
  int signal = 0;     ///< the signal that killed it, 0 when it exited
  /// The end of the child's log, when `launch_spec::output_tail` asked.
  std::string output_tail;
};

/// How many children a launcher can hold at once, and what sets the limit.
struct child_capacity {
  int children = 0;
  /// What sets it, e.g. "the open-file limit allows (RLIMIT_NOFILE 1024)".
  std::string limit;
  /// How to raise it, e.g. "raise the limit with `ulimit -n`".
  std::string remedy;
};

/// The launcher port: starts children, signals their process groups, and
/// owns their log files. Implementations call `on_exit` exactly once per
/// successful launch, on the runtime's strand (the executor they were built
/// with), once the child has exited and been reaped. Completion is the
/// child's exit, never EOF on a pipe.
///
/// Besides launching, the runtime asks the launcher what only it can know:
/// whether a program can be started at all (the check before anything
/// launches), how many children it can hold, the environment children
/// inherit, and whether a process group that an engine that is gone left
/// behind still holds a given task's processes.
class launcher {
 public:
  using exit_handler = std::function<void(exit_info)>;
  /// An asynchronous call's end: empty, or why it failed.
  using done_handler = std::function<void(std::string error)>;

  launcher() = default;
  launcher(const launcher&) = delete;
  launcher& operator=(const launcher&) = delete;
  virtual ~launcher() = default;

  /// Starts `spec`. Returns the child, or the reason it could not start
  /// (a missing binary is `no_such_file_or_directory`); `on_exit` is then
  /// never called.
  virtual child_handle launch(const launch_spec& spec, exit_handler on_exit,
                              boost::system::error_code& ec) = 0;

  /// Sends `signal` to the child's whole process group. A group that is
  /// already gone is not an error.
  virtual void signal(const child_handle& child, core::kill_signal signal) = 0;

  /// Appends `text` and a newline to `log_file` (a launch that failed, or
  /// that had no command, is told there). Errors are ignored.
  virtual void append_to_log(const std::filesystem::path& /*log_file*/, std::string_view /*text*/) {
  }

  /// True when `program` (argv[0]) can be started from `workdir`: the
  /// check made before anything launches. The default cannot tell: true.
  [[nodiscard]] virtual bool can_start(const std::string& /*program*/,
                                       const std::filesystem::path& /*workdir*/) const {
    return true;
  }

  /// How many children can run at once; nullopt when nothing limits them.
  [[nodiscard]] virtual std::optional<child_capacity> capacity() const { return std::nullopt; }

  /// The environment children inherit (`NAME=value`), which each launch
  /// extends with the task's own variables. The default: the engine's own
  /// environment, as it is when the coordinator is made.
  [[nodiscard]] virtual std::vector<std::string> inherited_environment() const;

  /// True when process group `pgid`, recorded as running task `task_id` of
  /// `group_id` by an engine that is gone, still holds that task's
  /// processes, so that `signal({0, pgid}, ...)` ends them and nothing
  /// else. The default cannot tell: false (leftovers are left alone).
  [[nodiscard]] virtual bool is_leftover(int /*pgid*/, std::string_view /*task_id*/,
                                         std::string_view /*group_id*/) const {
    return false;
  }

  // Group-scoped calls, for launchers that hold something per group or
  // outside this machine (a cluster's allocation, its jobs). Their
  // handlers run on the runtime's strand; the defaults, for launchers that
  // hold nothing, call them at once.

  /// Why agents cannot be launched at all (a missing `srun`), or empty:
  /// checked before anything launches.
  [[nodiscard]] virtual std::string unavailable() const { return {}; }

  /// Called before each agent of `group` launches: readies what the
  /// group's agents need (an allocation). `done` gets an error when it
  /// cannot be had; the runtime then launches nothing more in the group.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep it
  virtual void async_reserve(const group_ref& /*group*/, done_handler done) { done({}); }

  /// The group's agents have all ended: lets go of what `async_reserve`
  /// took, also when it is still being taken. Not awaited by the group;
  /// `async_drain` waits for it.
  virtual void release(const std::string& /*group_id*/) {}

  /// Ends what a run that is gone (`gone.run_nonce`) left of `gone`'s
  /// tasks outside this machine's process groups (cluster jobs), before
  /// the runtime signals the process groups that run recorded.
  virtual void async_end_leftovers(
      const group_ref& /*gone*/, const std::vector<std::string>& /*task_ids*/,
      done_handler done) {  // NOLINT(performance-unnecessary-value-param)
    done({});
  }

  /// Completes once every release and stop started so far has ended: the
  /// end of an operation.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep it
  virtual void async_drain(std::function<void()> done) { done(); }
};

}  // namespace maestro
