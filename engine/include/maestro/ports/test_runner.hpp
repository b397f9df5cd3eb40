#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <maestro/core/group_machine.hpp>

namespace maestro {

/// A test command found by looking at a directory.
struct found_test_command {
  /// The command; empty when no suite was found.
  std::vector<std::string> argv;
  /// Why this command, or why none: never empty.
  std::string reason;
};

/// The test runner port: which command runs a project's suite when
/// `test.command` is "auto", and what a finished run means. The runtime
/// starts the command through the launcher, like any child.
class test_runner {
 public:
  test_runner() = default;
  test_runner(const test_runner&) = delete;
  test_runner& operator=(const test_runner&) = delete;
  virtual ~test_runner() = default;

  /// The suite's command in `workdir`, or why there is none.
  [[nodiscard]] virtual found_test_command detect(const std::filesystem::path& workdir) = 0;

  /// `passed`, `failed` or `none` for a run of `argv` that ended with
  /// `exit_code` (128 + signal when killed) and wrote `output` (its end).
  [[nodiscard]] virtual core::test_status classify(const std::vector<std::string>& argv,
                                                   int exit_code, std::string_view output) = 0;
};

}  // namespace maestro
