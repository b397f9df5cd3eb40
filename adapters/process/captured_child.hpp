#pragma once

// One short command as an asynchronous child process, its stdout and
// stderr read apart through pipes, its exit watched through a pidfd, and a
// time limit after which its process group is killed: what `bd` calls and
// git commands are. Internal to the adapters.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

namespace maestro::detail {

/// What one command left.
struct captured_output {
  int exit_code = -1;  ///< the exit status, or 128 + the signal that ended it
  std::string out;
  std::string err;
  bool timed_out = false;
};

using captured_handler = std::function<void(boost::system::error_code, captured_output)>;

/// Runs `argv` (argv[0] looked up on PATH) in `workdir` (empty: the
/// engine's) with `environment`
/// as its whole environment and /dev/null as stdin. `done` runs on
/// `executor` once the process was reaped and both pipes reached their end;
/// it gets an error only when the process could not be started. A command
/// that runs longer than `timeout` (0: no limit) is killed (SIGKILL to its
/// process group) and completes with `timed_out`. While it runs its process
/// group is in `running_groups` (when not null), so that its owner can kill it.
void run_captured(const boost::asio::any_io_executor& executor,
                  const std::vector<std::string>& argv, const std::filesystem::path& workdir,
                  const std::vector<std::string>& environment, std::chrono::milliseconds timeout,
                  const std::shared_ptr<std::unordered_set<int>>& running_groups,
                  captured_handler done);

}  // namespace maestro::detail
