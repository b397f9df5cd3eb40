#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <maestro/ports/launcher.hpp>
#include <maestro/unique_fd.hpp>

namespace maestro {

/// Starts children on this machine with `posix_spawn`, each in a process
/// group of its own, with every descriptor above 2 closed in the child, and
/// observes each exit through Boost.Process v2 (a pidfd watched by the
/// executor).
///
/// Why not Process v2's own launcher: in Boost 1.81 its default launcher is
/// a synchronous `fork()` whose cost grows with the engine's memory, it lets
/// non-close-on-exec descriptors leak into children, and a failed exec
/// calls `exit()` in the child. `posix_spawn` avoids all three; the pid is
/// then handed to a Process v2 `process` for `async_wait`.
///
/// A child's stdin is /dev/null, or a Unix socket carrying `stdin_data`
/// (a socket rather than a pipe, so that a child that exits without reading
/// cannot raise SIGPIPE in the engine).
///
/// Hosts must not reap children themselves (`waitpid(-1)` or SIGCHLD set to
/// SIG_IGN): the exit status would be lost and the exit reported as code -1.
class local_launcher final : public launcher {
 public:
  /// `executor` runs the exit handlers; give the runtime's strand.
  explicit local_launcher(boost::asio::any_io_executor executor);
  local_launcher(const local_launcher&) = delete;
  local_launcher& operator=(const local_launcher&) = delete;
  ~local_launcher() override;

  child_handle launch(const launch_spec& spec, exit_handler on_exit,
                      boost::system::error_code& ec) override;
  void signal(const child_handle& child, core::kill_signal signal) override;
  void append_to_log(const std::filesystem::path& log_file, std::string_view text) override;
  /// A path (relative to `workdir`) to an executable file, or a name found
  /// on `PATH`.
  [[nodiscard]] bool can_start(const std::string& program,
                               const std::filesystem::path& workdir) const override;
  /// Two descriptors per child (its pidfd; its log and stdin while it
  /// starts) within `RLIMIT_NOFILE`, less 64 kept for the engine.
  [[nodiscard]] std::optional<child_capacity> capacity() const override;
  /// Checked through /proc (see `leftover_processes`).
  [[nodiscard]] bool is_leftover(int pgid, std::string_view task_id,
                                 std::string_view group_id) const override;

 private:
  boost::asio::any_io_executor executor_;
  unique_fd null_fd_;  // /dev/null, opened once: every child's default stdin
};

}  // namespace maestro
