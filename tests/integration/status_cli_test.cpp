// `status` and `list` for people (issue: a 200-task group was 227 lines of
// absolute paths in input order): computed widths within the terminal,
// failures first with their error, relative log paths, pid and elapsed
// time of running tasks, `--task-status`, and `list`'s progress; `--json`
// unchanged.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// Columns on a terminal: one per UTF-8 code point.
std::size_t width_of(const std::string& line) {
  std::size_t n = 0;
  for (const char c : line) {
    n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  }
  return n;
}

// Sets $COLUMNS for the commands this test runs, and puts it back.
struct columns_env {
  explicit columns_env(const std::string& value) { ::setenv("COLUMNS", value.c_str(), 1); }
  columns_env(const columns_env&) = delete;
  columns_env& operator=(const columns_env&) = delete;
  ~columns_env() { ::unsetenv("COLUMNS"); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(status_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(a_large_group_fits_the_terminal_failures_first) {
  config(R"("max_concurrent": 16, "agent_defaults": {"command": )" + agent({"exit", "0"}) +
         R"(}, "agents": {"bad": {"command": )" + agent({"eprint", "it broke", "exit", "3"}) +
         "}}");
  std::string list = "[";
  for (int i = 0; i < 200; ++i) {
    const bool bad = i % 50 == 49;  // 4 of them fail, late in input order
    list += std::string(i == 0 ? "" : ",") + R"({"id":"task-with-a-long-name-)" +
            std::to_string(i) + R"(","title":"[P:Group-big] t")" +
            (bad ? R"(,"metadata":{"subagent_type":"bad"})" : "") + "}";
  }
  tasks(list + "]");
  BOOST_TEST_REQUIRE(run({"execute", "big"}).exit_code == 1);
  for (const std::string cols : {"100", "72"}) {
    const columns_env env(cols);
    const auto r = run({"status", "big"});
    BOOST_TEST(r.exit_code == 0, r.err);
    const auto lines = split_lines(r.out);
    for (const auto& line : lines) {
      BOOST_TEST(width_of(line) <= std::stoul(cols), cols << ": " << line);
      BOOST_TEST(line.find(dir.path().string()) == std::string::npos, line);
    }
    // The table: the titles, then the four failures, each with its error.
    const auto title = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.find("TASK") != std::string::npos && l.find("STATUS") != std::string::npos;
    });
    BOOST_TEST_REQUIRE((title != lines.end()), r.out);
    auto row = title + 1;
    for (int failed = 0; failed < 4; ++failed) {
      BOOST_TEST_REQUIRE((row != lines.end()));
      BOOST_TEST(row->find(" failed ") != std::string::npos, *row);
      ++row;
      BOOST_TEST(row->find("exit code 3") != std::string::npos, *row);
      ++row;
    }
    BOOST_TEST(row->find(" completed ") != std::string::npos, *row);
  }
  // Log paths are relative to the working directory.
  const auto wide = run({"status", "big"});
  BOOST_TEST(wide.out.find("state/parallel_groups/big/logs/task-with-a-long-name-0.log") !=
                 std::string::npos,
             wide.out);
  // Only the failed tasks.
  const auto failed = run({"status", "big", "--task-status", "failed"});
  BOOST_TEST(failed.exit_code == 0);
  std::size_t rows = 0;
  for (const auto& line : split_lines(failed.out)) {
    rows += line.starts_with("  task-with-a-long-name-") ? 1 : 0;
    BOOST_TEST(line.find(" completed ") == std::string::npos, line);
  }
  BOOST_TEST(rows == 4U);
  BOOST_TEST(run({"status", "big", "--task-status", "nonsense"}).exit_code == 2);
  // --json keeps its shape, every result included.
  const auto json_text = run({"status", "big", "--json"}).out;
  const auto shown = boost::json::parse(json_text);
  BOOST_TEST(shown.at("results").as_array().size() == 200U);
  BOOST_TEST(shown.at("results").at(0).at("log").as_string().starts_with("/"));
  const auto only =
      boost::json::parse(run({"status", "big", "--json", "--task-status", "failed"}).out);
  BOOST_TEST(only.at("results").as_array().size() == 4U);
  BOOST_TEST(only.at("counts").at("completed") == 196);
}

BOOST_AUTO_TEST_CASE(running_tasks_show_pid_and_elapsed_time_and_list_shows_progress) {
  config(R"("agent_defaults": {"command": )" +
         agent({"pgid", (dir.path() / "pids").string(), "hang"}) +
         R"(}, "agents": {"quick": {"command": )" + agent({"exit", "0"}) + "}}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b",
             "metadata":{"subagent_type":"quick"}}])");
  auto engine = start({"execute", "g"});
  BOOST_TEST_REQUIRE(eventually([&] {
    return result("g", "a").at("status") == "running" && result("g", "a").contains("pid") &&
           result("g", "b").at("status") == "completed";
  }));
  const auto pid = std::to_string(result("g", "a").at("pid").as_int64());
  const auto r = run({"status", "g"});
  const std::regex running_row("  a +running +backend-architect +1 +- +" + pid +
                               " +[0-9]+:[0-9]{2}:[0-9]{2}  state/parallel_groups/g/logs/a\\.log");
  BOOST_TEST(std::regex_search(r.out, running_row), r.out);
  // The running task comes before the completed one.
  BOOST_TEST(r.out.find("  a ") < r.out.find("  b "), r.out);
  const auto list = run({"list"});
  const std::regex list_row(
      "\ng +running +coordination +1/2 +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +[0-9]+:[0-9]{2}:"
      "[0-9]{2}  1 completed, 1 running");
  BOOST_TEST(std::regex_search(list.out, list_row), list.out);
  BOOST_TEST(list.out.find("GROUP") == 0U, list.out);
  engine.signal(SIGINT);
  (void)engine.wait();
}

BOOST_AUTO_TEST_SUITE_END()
