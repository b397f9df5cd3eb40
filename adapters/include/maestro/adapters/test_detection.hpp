#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <maestro/core/group_machine.hpp>
#include <maestro/ports/test_runner.hpp>

namespace maestro {

/// A test command chosen by looking at a directory.
struct detected_test_command {
  /// The command to run in that directory; empty when no suite was found.
  std::vector<std::string> argv;
  /// Why: the marker that chose the command (e.g. "CTestTestfile.cmake in
  /// build/"), or "no test suite found (looked for ...)" followed by any near
  /// miss worth a warning (npm's placeholder script, a malformed
  /// package.json). Never empty.
  std::string reason;
};

/// Picks the test command of `test.command: "auto"` (SPEC section 3) by what
/// `dir` holds. Only `dir` itself and the few sub-directories named below are
/// looked at, never a whole tree. The first rule that matches wins:
///
/// 1. ctest: `CTestTestfile.cmake` in `dir` gives
///    `ctest --output-on-failure`; else one in `dir/build` gives
///    `ctest --test-dir build --output-on-failure`.
/// 2. pytest (`python3 -m pytest -q`): `pytest.ini`; `conftest.py`; `tox.ini`
///    with a `[pytest]` section; `setup.cfg` with a `[tool:pytest]` section;
///    `pyproject.toml` with a `[tool.pytest...]` table; or a `test_*.py` or
///    `*_test.py` file directly inside `tests/` or `test/`.
/// 3. npm (`npm test --silent`): `package.json` with a string `scripts.test`
///    that is neither empty nor npm's placeholder (the one containing
///    "no test specified"). A malformed package.json counts as no npm suite,
///    and the reason says so.
/// 4. cargo (`cargo test`): `Cargo.toml`.
/// 5. go (`go test ./...`): `go.mod`.
/// 6. make (`make test`): the makefile that make itself would read
///    (`GNUmakefile`, else `makefile`, else `Makefile`) has a line starting
///    with a `test` target, `test:` or `test :` (a `.PHONY: test` line alone
///    is not enough, and `test := ...` is a variable).
///
/// Otherwise the argv is empty, which the caller reports as
/// `test_status::none`. Files that cannot be read count as absent. Never
/// throws for the directory's content; may throw `std::bad_alloc`.
[[nodiscard]] detected_test_command detect_test_command(const std::filesystem::path& dir);

/// Decides the outcome of a finished test run: `passed`, `failed` or `none`
/// (never `not_run`). `exit_code` is the run's exit status (128+signal when
/// it was killed), `output` the tail of its combined stdout and stderr (it
/// may be cut to its last 64 KiB).
///
/// A non-zero exit is `failed`, except exit 5 from pytest (an argv word
/// naming pytest), which is pytest's "no tests collected": `none`.
///
/// An exit of 0 is `passed`, except when the output shows that nothing was
/// tested, which is `none`:
/// - ctest: "No tests were found";
/// - go test: every package line (`ok`, `?` or `FAIL`) says
///   "[no test files]" or "[no tests to run]", or "no packages to test";
/// - cargo test: every "test result:" line counts 0 passed and 0 failed.
///
/// The tool is recognised by a word of `argv` (split on blanks, so that
/// `sh -c "ctest ..."` is recognised too) whose file name is the tool's.
[[nodiscard]] core::test_status classify_test_run(const std::vector<std::string>& argv,
                                                  int exit_code, std::string_view output);

/// The default test runner: the rules above.
class detecting_test_runner final : public test_runner {
 public:
  [[nodiscard]] found_test_command detect(const std::filesystem::path& workdir) override {
    auto found = detect_test_command(workdir);
    return {std::move(found.argv), std::move(found.reason)};
  }
  [[nodiscard]] core::test_status classify(const std::vector<std::string>& argv, int exit_code,
                                           std::string_view output) override {
    return classify_test_run(argv, exit_code, output);
  }
};

}  // namespace maestro
