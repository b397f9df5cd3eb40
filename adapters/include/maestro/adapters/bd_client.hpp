#pragma once

// One `bd` call as an asynchronous child process (SPEC section 10): its
// stdout and stderr read apart through pipes, its exit watched through a
// pidfd, and a time limit after which its process group is killed. The
// event loop never waits on it.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

namespace maestro {

/// What one `bd` call left.
struct bd_result {
  int exit_code = -1;  ///< the exit status, or 128 + the signal that ended it
  std::string out;     ///< stdout: the JSON
  std::string err;     ///< stderr: bd's messages and hints
  bool timed_out = false;
};

/// Runs `bd` calls. Calls may overlap. Every handler of a call runs on the
/// executor given, which must be a strand when the host runs the
/// `io_context` on several threads (the coordinator's is one).
class bd_client {
 public:
  using handler = std::function<void(boost::system::error_code, bd_result)>;

  /// `program` is the `bd` to run (a name on PATH, or a path), in
  /// `workdir`, with `environment` as its whole environment. A call that
  /// runs longer than `timeout` is killed (SIGKILL to its process group)
  /// and completes with `timed_out`.
  bd_client(boost::asio::any_io_executor executor, std::string program,
            std::filesystem::path workdir, std::vector<std::string> environment,
            std::chrono::milliseconds timeout);
  bd_client(const bd_client&) = delete;
  bd_client& operator=(const bd_client&) = delete;
  /// Kills the calls still running (SIGKILL to their process groups), so
  /// that a client that is done with waits for no `bd`; their handlers
  /// still run, with the exit they got.
  ~bd_client();

  /// Runs `bd ARGS...`. `done` gets an error only when the process could
  /// not be started (the program is missing, descriptors ran out). Throws
  /// `std::invalid_argument` when the client was given no executor.
  void async_run(std::vector<std::string> args, handler done);

 private:
  boost::asio::any_io_executor executor_;
  std::string program_;
  std::filesystem::path workdir_;
  std::vector<std::string> environment_;
  std::chrono::milliseconds timeout_;
  /// The process groups of the calls not reaped yet.
  std::shared_ptr<std::unordered_set<int>> running_ = std::make_shared<std::unordered_set<int>>();
};

}  // namespace maestro
