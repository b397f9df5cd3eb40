#pragma once

#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace maestro::test {

/// A temporary working directory and a way to run the real binary in it.
struct cli_fixture {
  temp_dir dir;

  /// Runs `maestro-async ARGS...` with the fixture's directory as cwd.
  [[nodiscard]] process_result run(std::vector<std::string> args) const {
    args.insert(args.begin(), MAESTRO_ASYNC_BIN);
    return run_process(args, dir.path());
  }
};

}  // namespace maestro::test
