#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace maestro::test {

class temp_dir;

/// What a finished command left behind.
struct process_result {
  int exit_code = -1;  ///< the exit status, or 128 + signal when killed
  std::string out;
  std::string err;
};

/// A command started in the background, stdout and stderr captured.
class running_process {
 public:
  running_process(pid_t pid, std::unique_ptr<temp_dir> capture);
  running_process(running_process&&) noexcept;
  running_process& operator=(running_process&&) noexcept;
  running_process(const running_process&) = delete;
  running_process& operator=(const running_process&) = delete;
  ~running_process();

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Sends `signal` to the process.
  void signal(int signal) const;
  /// Waits for the process to end and returns what it left.
  process_result wait();

 private:
  pid_t pid_ = -1;
  std::unique_ptr<temp_dir> capture_;
};

/// Starts `argv` in `cwd`, with stdin from /dev/null.
running_process start_process(const std::vector<std::string>& argv,
                              const std::filesystem::path& cwd);

/// Runs `argv` in `cwd` to completion. Test code only: it blocks.
process_result run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd);

/// True when no process `pid` runs: it does not exist or is a zombie.
[[nodiscard]] bool process_gone(int pid);

/// Calls `done` until it returns true or `limit` passes; returns its last
/// answer. An exception from `done` counts as false. Tests use it to wait
/// for something a real process does.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

}  // namespace maestro::test
