#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

#include <maestro/core/group_machine.hpp>

namespace maestro {

/// What to start: one child process.
struct launch_spec {
  /// argv; `argv[0]` is looked up in `PATH` unless it holds a `/`.
  std::vector<std::string> argv;
  /// The whole environment, as `NAME=value` entries.
  std::vector<std::string> env;
  /// stdout and stderr are appended to this file.
  std::filesystem::path log_file;
  /// Written to the log, on a line of its own, before the child starts.
  std::string log_header;
  /// Written to the child's stdin when set; otherwise stdin is /dev/null.
  std::optional<std::string> stdin_data;
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
};

/// The launcher port: starts children and signals their process groups.
/// Implementations call `on_exit` exactly once per successful launch, on the
/// executor they were built with, once the child has exited and been
/// reaped. Completion is the child's exit, never EOF on a pipe.
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
};

}  // namespace maestro
