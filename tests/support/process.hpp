#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace maestro::test {

/// What a finished command left behind.
struct process_result {
  int exit_code = -1;  ///< the exit status, or 128 + signal when killed
  std::string out;
  std::string err;
};

/// Runs `argv` in `cwd` to completion, capturing stdout and stderr, with
/// stdin from /dev/null. Test code only: it blocks.
process_result run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd);

}  // namespace maestro::test
