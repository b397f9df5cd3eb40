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
};

}  // namespace maestro
