#include <algorithm>
#include <cstddef>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include <maestro/adapters/test_detection.hpp>

namespace maestro {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

/// What `detect_test_command` looked for, in its order, for the reason given
/// when nothing matched.
constexpr std::string_view looked_for =
    "CTestTestfile.cmake in ./ or build/, pytest.ini, conftest.py, tox.ini with [pytest], "
    "setup.cfg with [tool:pytest], pyproject.toml with [tool.pytest], test_*.py or *_test.py "
    "in tests/ or test/, package.json with a test script, Cargo.toml, go.mod, "
    "a makefile with a test target";

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

/// The content of `path`, or nothing when it cannot be read.
std::optional<std::string> read_text(const fs::path& path) {
  if (!is_file(path)) {
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view blanks = " \t\r\n";
  const auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return lines;
}

/// Whether the file at `path` has a line that, trimmed, satisfies `matches`.
template <typename Predicate>
bool has_line(const fs::path& path, Predicate matches) {
  const auto text = read_text(path);
  if (!text) {
    return false;
  }
  const auto lines = lines_of(*text);
  return std::any_of(lines.begin(), lines.end(),
                     [&](std::string_view line) { return matches(trim(line)); });
}

/// Whether `dir` directly holds a `test_*.py` or `*_test.py` file.
bool has_python_tests(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return false;
  }
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      return false;
    }
    const std::string name = it->path().filename().string();
    const bool named_as_test =
        name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"));
    if (named_as_test && is_file(it->path())) {
      return true;
    }
  }
  return false;
}

/// The pytest marker found in `dir`, if any, as a reason.
std::optional<std::string> pytest_marker(const fs::path& dir) {
  if (is_file(dir / "pytest.ini")) {
    return "pytest.ini";
  }
  if (is_file(dir / "conftest.py")) {
    return "conftest.py";
  }
  if (has_line(dir / "tox.ini", [](std::string_view line) { return line == "[pytest]"; })) {
    return "tox.ini with a [pytest] section";
  }
  if (has_line(dir / "setup.cfg", [](std::string_view line) { return line == "[tool:pytest]"; })) {
    return "setup.cfg with a [tool:pytest] section";
  }
  if (has_line(dir / "pyproject.toml",
               [](std::string_view line) { return line.starts_with("[tool.pytest"); })) {
    return "pyproject.toml with a [tool.pytest] table";
  }
  for (const std::string_view sub : {"tests", "test"}) {
    if (has_python_tests(dir / sub)) {
      return "Python test files in " + std::string(sub) + "/";
    }
  }
  return std::nullopt;
}

/// What package.json says about an npm suite.
struct npm_verdict {
  bool suite = false;
  std::string note;  ///< why not, when package.json exists but has no suite
};

npm_verdict npm_suite(const fs::path& dir) {
  const auto text = read_text(dir / "package.json");
  if (!text) {
    return {};
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(*text, ec);
  if (ec) {
    return {false, "package.json is malformed (" + ec.message() + "), so it was not used"};
  }
  const auto* const root = doc.if_object();
  const auto* const scripts = root == nullptr ? nullptr : root->if_contains("scripts");
  const auto* const scripts_object = scripts == nullptr ? nullptr : scripts->if_object();
  const auto* const test =
      scripts_object == nullptr ? nullptr : scripts_object->if_contains("test");
  const auto* const command = test == nullptr ? nullptr : test->if_string();
  if (command == nullptr || trim(*command).empty()) {
    return {false, "package.json has no test script"};
  }
  if (std::string_view(*command).find("no test specified") != std::string_view::npos) {
    return {false, "package.json's test script is npm's placeholder"};
  }
  return {true, {}};
}

/// Whether a trimmed makefile line starts a rule for the `test` target:
/// `test:` or `test :`, but not the assignments `test := ...` or `test ::= ...`.
bool is_test_rule(std::string_view line) {
  if (!line.starts_with("test")) {
    return false;
  }
  line.remove_prefix(4);
  line = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
  if (!line.starts_with(':')) {
    return false;
  }
  const auto after = line.find_first_not_of(':');
  return after == std::string_view::npos || line[after] != '=';
}

/// A word of `argv`, split on blanks, whose file name satisfies `matches`.
template <typename Predicate>
bool has_word(const std::vector<std::string>& argv, Predicate matches) {
  constexpr std::string_view blanks = " \t\n";
  for (const std::string_view arg : argv) {
    std::size_t start = 0;
    while ((start = arg.find_first_not_of(blanks, start)) != std::string_view::npos) {
      const auto end = std::min(arg.find_first_of(blanks, start), arg.size());
      std::string_view word = arg.substr(start, end - start);
      if (const auto slash = word.rfind('/'); slash != std::string_view::npos) {
        word.remove_prefix(slash + 1);
      }
      if (matches(word)) {
        return true;
      }
      start = end;
    }
  }
  return false;
}

bool runs(const std::vector<std::string>& argv, std::string_view tool) {
  return has_word(argv, [&](std::string_view word) { return word == tool; });
}

bool runs_pytest(const std::vector<std::string>& argv) {
  // `pytest`, `pytest-3` (Debian), `py.test`, or `-m pytest`.
  return has_word(
      argv, [](std::string_view word) { return word.starts_with("pytest") || word == "py.test"; });
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// go test: package lines exist and none of them reports tests that ran.
bool go_tested_nothing(std::string_view output) {
  if (contains(output, "no packages to test")) {
    return true;
  }
  bool any = false;
  for (std::string_view line : lines_of(output)) {
    line = trim(line);
    const auto word = line.substr(0, line.find_first_of(" \t"));
    if (word != "ok" && word != "?" && word != "FAIL") {
      continue;
    }
    if (!contains(line, "[no test files]") && !contains(line, "[no tests to run]")) {
      return false;
    }
    any = true;
  }
  return any;
}

/// cargo test: result lines exist and each counts 0 passed and 0 failed.
bool cargo_tested_nothing(std::string_view output) {
  bool any = false;
  for (std::string_view line : lines_of(output)) {
    line = trim(line);
    if (!line.starts_with("test result:")) {
      continue;
    }
    if (!contains(line, " 0 passed; 0 failed;")) {
      return false;
    }
    any = true;
  }
  return any;
}

}  // namespace

detected_test_command detect_test_command(const fs::path& dir) {
  if (is_file(dir / "CTestTestfile.cmake")) {
    return {{"ctest", "--output-on-failure"}, "CTestTestfile.cmake in ./"};
  }
  if (is_file(dir / "build" / "CTestTestfile.cmake")) {
    return {{"ctest", "--test-dir", "build", "--output-on-failure"},
            "CTestTestfile.cmake in build/"};
  }
  if (auto marker = pytest_marker(dir)) {
    return {{"python3", "-m", "pytest", "-q"}, std::move(*marker)};
  }
  const npm_verdict npm = npm_suite(dir);
  if (npm.suite) {
    return {{"npm", "test", "--silent"}, "package.json with a test script"};
  }
  if (is_file(dir / "Cargo.toml")) {
    return {{"cargo", "test"}, "Cargo.toml"};
  }
  if (is_file(dir / "go.mod")) {
    return {{"go", "test", "./..."}, "go.mod"};
  }
  // Only the makefile that make would read counts: a test target in a
  // Makefile shadowed by a GNUmakefile would not be run.
  for (const std::string_view name : {"GNUmakefile", "makefile", "Makefile"}) {
    if (is_file(dir / name)) {
      if (has_line(dir / name, is_test_rule)) {
        return {{"make", "test"}, std::string(name) + " with a test target"};
      }
      break;
    }
  }
  std::string reason = "no test suite found (looked for " + std::string(looked_for) + ")";
  if (!npm.note.empty()) {
    reason += "; " + npm.note;
  }
  return {{}, std::move(reason)};
}

core::test_status classify_test_run(const std::vector<std::string>& argv, int exit_code,
                                    std::string_view output) {
  using core::test_status;
  constexpr int pytest_no_tests_collected = 5;
  if (exit_code != 0) {
    return exit_code == pytest_no_tests_collected && runs_pytest(argv) ? test_status::none
                                                                       : test_status::failed;
  }
  if (runs(argv, "ctest") && contains(output, "No tests were found")) {
    return test_status::none;
  }
  if (runs(argv, "go") && go_tested_nothing(output)) {
    return test_status::none;
  }
  if (runs(argv, "cargo") && cargo_tested_nothing(output)) {
    return test_status::none;
  }
  return test_status::passed;
}

}  // namespace maestro
