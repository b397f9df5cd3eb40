#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/adapters/test_detection.hpp>
#include <maestro/core/group_machine.hpp>

#include "support/temp_dir.hpp"

namespace {

using maestro::classify_test_run;
using maestro::detect_test_command;
using maestro::core::to_string;
using maestro::test::temp_dir;
using strings = std::vector<std::string>;

/// The commands `detect_test_command` chooses.
strings ctest_here() {
  return {"ctest", "--output-on-failure"};
}
strings ctest_build() {
  return {"ctest", "--test-dir", "build", "--output-on-failure"};
}
strings pytest() {
  return {"python3", "-m", "pytest", "-q"};
}
strings npm() {
  return {"npm", "test", "--silent"};
}
strings cargo() {
  return {"cargo", "test"};
}
strings go() {
  return {"go", "test", "./..."};
}
strings make() {
  return {"make", "test"};
}

/// The argv chosen for `dir`, after checking that a reason comes with it.
strings detected(const temp_dir& dir) {
  const auto result = detect_test_command(dir.path());
  BOOST_TEST(!result.reason.empty());
  return result.argv;
}

/// The argv chosen for a directory holding only `name` with `content`.
strings detected_with(std::string_view name, std::string_view content) {
  const temp_dir dir;
  dir.write(name, content);
  return detected(dir);
}

/// The outcome of a run, by name, so that a failed check prints it.
std::string classify(const strings& argv, int exit_code, std::string_view output) {
  return std::string(to_string(classify_test_run(argv, exit_code, output)));
}

constexpr std::string_view npm_placeholder =
    R"({"name": "x", "scripts": {"test": "echo \"Error: no test specified\" && exit 1"}})";

}  // namespace

BOOST_AUTO_TEST_SUITE(test_detection)

BOOST_AUTO_TEST_CASE(an_empty_directory_has_no_suite) {
  const temp_dir dir;
  const auto result = detect_test_command(dir.path());
  BOOST_TEST(result.argv.empty());
  BOOST_TEST(result.reason.starts_with("no test suite found"));
}

BOOST_AUTO_TEST_CASE(a_missing_directory_has_no_suite) {
  const temp_dir dir;
  const auto result = detect_test_command(dir.path() / "absent");
  BOOST_TEST(result.argv.empty());
  BOOST_TEST(!result.reason.empty());
}

BOOST_AUTO_TEST_CASE(ctest_in_the_directory_or_in_build) {
  BOOST_TEST(detected_with("CTestTestfile.cmake", "") == ctest_here());
  BOOST_TEST(detected_with("build/CTestTestfile.cmake", "") == ctest_build());

  const temp_dir dir;
  dir.write("build/CTestTestfile.cmake", "");
  BOOST_TEST(detect_test_command(dir.path()).reason == "CTestTestfile.cmake in build/");
}

BOOST_AUTO_TEST_CASE(pytest_markers) {
  BOOST_TEST(detected_with("pytest.ini", "[pytest]\n") == pytest());
  BOOST_TEST(detected_with("conftest.py", "") == pytest());
  BOOST_TEST(detected_with("tox.ini", "[tox]\nenvlist = py3\n\n[pytest]\naddopts = -q\n") ==
             pytest());
  BOOST_TEST(detected_with("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\n") == pytest());
  BOOST_TEST(detected_with("pyproject.toml",
                           "[project]\nname = \"x\"\n[tool.pytest.ini_options]\n") == pytest());
  BOOST_TEST(detected_with("tests/test_parser.py", "def test_x(): pass\n") == pytest());
  BOOST_TEST(detected_with("test/parser_test.py", "def test_x(): pass\n") == pytest());
}

BOOST_AUTO_TEST_CASE(python_files_without_pytest_markers_are_not_a_suite) {
  BOOST_TEST(detected_with("tox.ini", "[tox]\nenvlist = py3\n").empty());
  BOOST_TEST(detected_with("setup.cfg", "[metadata]\nname = x\n").empty());
  BOOST_TEST(detected_with("pyproject.toml", "[project]\nname = \"x\"\n").empty());
  BOOST_TEST(detected_with("tests/helpers.py", "").empty());
  BOOST_TEST(detected_with("src/test_x.py", "").empty());
  // Only the top of tests/ is looked at.
  BOOST_TEST(detected_with("tests/unit/test_x.py", "").empty());
}

BOOST_AUTO_TEST_CASE(npm_with_a_real_test_script) {
  BOOST_TEST(detected_with("package.json", R"({"scripts": {"test": "jest"}})") == npm());
}

BOOST_AUTO_TEST_CASE(npm_placeholder_is_not_a_suite) {
  const temp_dir dir;
  dir.write("package.json", npm_placeholder);
  const auto result = detect_test_command(dir.path());
  BOOST_TEST(result.argv.empty());
  BOOST_TEST(result.reason.find("placeholder") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(package_json_without_a_test_script_is_not_a_suite) {
  BOOST_TEST(detected_with("package.json", R"({"name": "x"})").empty());
  BOOST_TEST(detected_with("package.json", R"({"scripts": {"build": "tsc"}})").empty());
  BOOST_TEST(detected_with("package.json", R"({"scripts": {"test": ""}})").empty());
  BOOST_TEST(detected_with("package.json", R"({"scripts": {"test": 1}})").empty());
  BOOST_TEST(detected_with("package.json", R"({"scripts": "test"})").empty());
  BOOST_TEST(detected_with("package.json", R"(["scripts"])").empty());
}

BOOST_AUTO_TEST_CASE(malformed_package_json_is_not_a_suite) {
  const temp_dir dir;
  dir.write("package.json", R"({"scripts": {"test": "jest"})");
  const auto result = detect_test_command(dir.path());
  BOOST_TEST(result.argv.empty());
  BOOST_TEST(result.reason.find("package.json is malformed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_malformed_package_json_does_not_hide_a_later_suite) {
  const temp_dir dir;
  dir.write("package.json", "{");
  dir.write("Cargo.toml", "[package]\nname = \"x\"\n");
  BOOST_TEST(detected(dir) == cargo());
}

BOOST_AUTO_TEST_CASE(cargo_and_go) {
  BOOST_TEST(detected_with("Cargo.toml", "[package]\nname = \"x\"\n") == cargo());
  BOOST_TEST(detected_with("go.mod", "module example.com/x\n") == go());
}

BOOST_AUTO_TEST_CASE(make_needs_a_test_target) {
  BOOST_TEST(detected_with("Makefile", "all:\n\tcc x.c\n\ntest: all\n\t./x --test\n") == make());
  BOOST_TEST(detected_with("makefile", "test :\n\ttrue\n") == make());
  BOOST_TEST(detected_with("GNUmakefile", "test:: all\n\ttrue\n") == make());

  BOOST_TEST(detected_with("Makefile", ".PHONY: test\nall:\n\ttrue\n").empty());
  BOOST_TEST(detected_with("Makefile", "test := ./run\nall:\n\t$(test)\n").empty());
  BOOST_TEST(detected_with("Makefile", "tests:\n\ttrue\n").empty());
  BOOST_TEST(detected_with("Makefile", "check: test\n\ttrue\n").empty());
}

BOOST_AUTO_TEST_CASE(only_the_makefile_make_reads_counts) {
  const temp_dir dir;
  dir.write("GNUmakefile", "all:\n\ttrue\n");
  dir.write("Makefile", "test:\n\ttrue\n");
  BOOST_TEST(detected(dir).empty());
}

BOOST_AUTO_TEST_CASE(priority_follows_the_documented_order) {
  const temp_dir dir;
  dir.write("Makefile", "test:\n\ttrue\n");
  BOOST_TEST(detected(dir) == make());
  dir.write("go.mod", "module example.com/x\n");
  BOOST_TEST(detected(dir) == go());
  dir.write("Cargo.toml", "[package]\n");
  BOOST_TEST(detected(dir) == cargo());
  dir.write("package.json", R"({"scripts": {"test": "jest"}})");
  BOOST_TEST(detected(dir) == npm());
  dir.write("conftest.py", "");
  BOOST_TEST(detected(dir) == pytest());
  dir.write("build/CTestTestfile.cmake", "");
  BOOST_TEST(detected(dir) == ctest_build());
  dir.write("CTestTestfile.cmake", "");
  BOOST_TEST(detected(dir) == ctest_here());
}

BOOST_AUTO_TEST_CASE(plain_pass_and_fail) {
  BOOST_TEST(classify(make(), 0, "all good\n") == "passed");
  BOOST_TEST(classify(make(), 2, "make: *** [test] Error 1\n") == "failed");
  BOOST_TEST(classify(npm(), 1, "") == "failed");
  BOOST_TEST(classify(pytest(), 0, "3 passed in 0.01s\n") == "passed");
  BOOST_TEST(classify(pytest(), 1, "1 failed, 2 passed\n") == "failed");
}

BOOST_AUTO_TEST_CASE(a_killed_run_failed) {
  BOOST_TEST(classify(pytest(), 137, "") == "failed");
  BOOST_TEST(classify(ctest_here(), 143, "No tests were found!!!\n") == "failed");
}

BOOST_AUTO_TEST_CASE(pytest_collecting_nothing_is_none) {
  BOOST_TEST(classify(pytest(), 5, "no tests ran in 0.01s\n") == "none");
  BOOST_TEST(classify({"pytest"}, 5, "") == "none");
  BOOST_TEST(classify({"/usr/bin/pytest-3", "-q"}, 5, "") == "none");
  // Exit 5 means nothing special to other tools.
  BOOST_TEST(classify(make(), 5, "") == "failed");
}

BOOST_AUTO_TEST_CASE(ctest_finding_nothing_is_none) {
  constexpr std::string_view output = "Test project /tmp/x/build\nNo tests were found!!!\n";
  BOOST_TEST(classify(ctest_build(), 0, output) == "none");
  BOOST_TEST(classify({"sh", "-c", "ctest --test-dir build"}, 0, output) == "none");
  BOOST_TEST(classify(ctest_here(), 0, "100% tests passed, 0 tests failed out of 4\n") == "passed");
}

BOOST_AUTO_TEST_CASE(go_without_test_files_is_none) {
  BOOST_TEST(classify(go(), 0,
                      "?   \texample.com/x\t[no test files]\n"
                      "?   \texample.com/x/y\t[no test files]\n") == "none");
  BOOST_TEST(classify(go(), 0, "ok  \texample.com/x\t0.002s [no tests to run]\n") == "none");
  BOOST_TEST(classify(go(), 0,
                      "go: warning: \"./...\" matched no packages\n"
                      "no packages to test\n") == "none");
  BOOST_TEST(classify(go(), 0,
                      "?   \texample.com/x\t[no test files]\n"
                      "ok  \texample.com/x/y\t0.004s\n") == "passed");
  BOOST_TEST(classify(go(), 1,
                      "?   \texample.com/x\t[no test files]\n"
                      "FAIL\texample.com/x/y [build failed]\n") == "failed");
}

BOOST_AUTO_TEST_CASE(cargo_running_no_test_is_none) {
  constexpr std::string_view nothing =
      "running 0 tests\n\n"
      "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\n"
      "   Doc-tests x\n\nrunning 0 tests\n\n"
      "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n";
  BOOST_TEST(classify(cargo(), 0, nothing) == "none");
  constexpr std::string_view some =
      "running 2 tests\n\n"
      "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\n"
      "running 0 tests\n\n"
      "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n";
  BOOST_TEST(classify(cargo(), 0, some) == "passed");
}

BOOST_AUTO_TEST_CASE(no_tests_markers_only_count_for_their_tool) {
  BOOST_TEST(classify(make(), 0, "No tests were found!!!\n") == "passed");
  BOOST_TEST(classify(npm(), 0, "?   \tx\t[no test files]\n") == "passed");
}

BOOST_AUTO_TEST_SUITE_END()
