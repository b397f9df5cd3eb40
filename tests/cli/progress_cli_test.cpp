// The live status line and the failure blocks, on the real binary: on a
// pseudo-terminal of a chosen width, and with stderr not a terminal.

#include <cerrno>
#include <pty.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"
#include "terminal_text.hpp"

extern char** environ;

namespace {

using maestro::test::engine_fixture;

struct pty_result {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr, as the terminal received them
};

// Runs `maestro-async ARGS...` in the fixture's directory on a new
// pseudo-terminal `cols` wide, NO_COLOR set to `no_color` (unset when
// empty), and returns everything it printed.
pty_result run_on_pty(const engine_fixture& f, const std::vector<std::string>& args,
                      unsigned short cols, const std::string& no_color = "") {
  std::vector<std::string> argv{MAESTRO_ASYNC_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("NO_COLOR=", 0) != 0) {
      env.emplace_back(*e);
    }
  }
  if (!no_color.empty()) {
    env.push_back("NO_COLOR=" + no_color);
  }
  std::vector<char*> argv_c;
  for (auto& a : argv) {
    argv_c.push_back(a.data());
  }
  argv_c.push_back(nullptr);
  std::vector<char*> env_c;
  for (auto& e : env) {
    env_c.push_back(e.data());
  }
  env_c.push_back(nullptr);

  winsize size{};
  size.ws_col = cols;
  size.ws_row = 24;
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(f.dir.path().c_str()) != 0) {
      ::_exit(126);
    }
    ::execve(argv_c[0], argv_c.data(), env_c.data());
    ::_exit(127);
  }
  pty_result result;
  char buffer[4096];
  for (;;) {
    const auto n = ::read(master, buffer, sizeof buffer);
    if (n > 0) {
      result.output.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO: every holder of the terminal's other side is gone
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(master);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// The redraws of the live line: what comes after each `\r` that starts a
// `[done/total]` text, up to the next `\r` or `\n`.
std::vector<std::string> live_line_draws(const std::string& output) {
  std::vector<std::string> draws;
  std::size_t at = 0;
  while ((at = output.find('\r', at)) != std::string::npos) {
    ++at;
    if (at < output.size() && output[at] == '[') {
      draws.push_back(output.substr(at, output.find_first_of("\r\n", at) - at));
    }
  }
  return draws;
}

const std::string long_id_1 = "a-task-with-a-rather-long-identifier-number-one";
const std::string long_id_2 = "a-task-with-a-rather-long-identifier-number-two";

// Two tasks with long ids in group g: the first prints 12 lines and fails,
// the second completes.
void two_tasks_one_failing(const engine_fixture& f) {
  std::vector<std::string> steps;
  for (int i = 1; i <= 12; ++i) {
    steps.emplace_back("print");
    steps.push_back("out-" + std::string(i < 10 ? "0" : "") + std::to_string(i));
  }
  steps.emplace_back("exit");
  steps.emplace_back("1");
  f.config("\"agent_defaults\": {\"command\": " + engine_fixture::agent({"exit", "0"}) +
           "}, \"agents\": {\"bad\": {\"command\": " + engine_fixture::agent(steps) + "}}");
  f.tasks(R"([{"id":")" + long_id_1 +
          R"(","title":"[P:Group-g] one","metadata":{"subagent_type":"bad"}},
              {"id":")" +
          long_id_2 + R"(","title":"[P:Group-g] two"}])");
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(progress_cli, engine_fixture)

BOOST_AUTO_TEST_CASE(live_line_fits_the_terminal_and_failures_print_above_it) {
  two_tasks_one_failing(*this);
  const auto r = run_on_pty(*this, {"execute", "g", "--tasks-file", "tasks.json"}, 40);
  BOOST_TEST(r.exit_code == 1, r.output);
  const auto draws = live_line_draws(r.output);
  BOOST_TEST(!draws.empty(), r.output);
  for (const auto& d : draws) {
    // `\r`, the text, `\x1b[K`: cut to the width, nothing left of the last.
    BOOST_TEST_REQUIRE(d.size() >= 3U);
    BOOST_TEST(d.substr(d.size() - 3) == "\x1b[K", d);
    const auto text = d.substr(0, d.size() - 3);
    BOOST_TEST(text.find('\x1b') == std::string::npos, d);
    BOOST_TEST(maestro::app::columns(text) <= 40U, text);
  }
  // The failure, for good, with the last 10 lines of its log.
  const auto failed = r.output.find("FAILED:");
  BOOST_TEST_REQUIRE(failed != std::string::npos, r.output);
  const auto block = r.output.substr(failed);
  BOOST_TEST(block.find(long_id_1 + " failed") != std::string::npos, block);
  BOOST_TEST(block.find("last 10 lines of ") != std::string::npos, block);
  for (int i = 3; i <= 12; ++i) {
    const auto line = "    out-" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "\r\n";
    BOOST_TEST(block.find(line) != std::string::npos, line);
  }
  BOOST_TEST(block.find("out-02") == std::string::npos, block);
  // The live line was cleared before the block was printed.
  BOOST_TEST(r.output.substr(0, failed).rfind("\r\x1b[K") != std::string::npos, r.output);
  // auto: colour on a terminal.
  BOOST_TEST(r.output.find("\x1b[1;31mFAILED:\x1b[0m") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(no_color_and_color_never_turn_colour_off) {
  two_tasks_one_failing(*this);
  auto r = run_on_pty(*this, {"execute", "g", "--tasks-file", "tasks.json"}, 60, "1");
  BOOST_TEST(r.output.find("FAILED:") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("\x1b[1;31m") == std::string::npos, r.output);
  BOOST_TEST(r.output.find("\x1b[0m") == std::string::npos, r.output);
  r = run_on_pty(*this, {"execute", "g", "--tasks-file", "tasks.json", "--color", "never"}, 60);
  BOOST_TEST(r.output.find("FAILED:") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("\x1b[0m") == std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(not_a_terminal_one_line_per_event_and_the_failure_with_its_log) {
  two_tasks_one_failing(*this);
  auto r = run({"execute", "g"});  // stderr to a file
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(r.err.find('\r') == std::string::npos, r.err);
  BOOST_TEST(r.err.find('\x1b') == std::string::npos, r.err);
  BOOST_TEST(r.err.find("] g: " + long_id_2 + " completed") != std::string::npos, r.err);
  const auto failed = r.err.find("FAILED: [");
  BOOST_TEST_REQUIRE(failed != std::string::npos, r.err);
  const auto block = r.err.substr(failed);
  BOOST_TEST(block.find("g: " + long_id_1 + " failed") != std::string::npos, block);
  BOOST_TEST(block.find("    out-12\n") != std::string::npos, block);
  BOOST_TEST(block.find("    out-03\n") != std::string::npos, block);
  BOOST_TEST(block.find("out-02") == std::string::npos, block);
  // --color always colours even when not on a terminal.
  r = run({"execute", "g", "--color", "always"});
  BOOST_TEST(r.err.find("\x1b[1;31mFAILED:\x1b[0m") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(one_live_line_covers_a_whole_graph_run) {
  // Two groups at once under graph: the line counts the run's 4 tasks,
  // names the stages that run, and a failure prints above it.
  config("\"agent_defaults\": {\"command\": " + agent({"sleep", "300"}) +
         "}, \"agents\": {\"bad\": {\"command\": " + agent({"sleep", "100", "exit", "1"}) + "}}");
  tasks(R"([{"id":"a1","title":"[P:Group-ga] a1"},
            {"id":"a2","title":"[P:Group-ga] a2","metadata":{"subagent_type":"bad"}},
            {"id":"b1","title":"[P:Group-gb] b1"},
            {"id":"b2","title":"[P:Group-gb] b2"}])");
  const auto r = run_on_pty(
      *this, {"run", "--tasks-file", "tasks.json", "--schedule", "graph", "-j", "4", "-k"}, 200);
  BOOST_TEST(r.exit_code == 1, r.output);
  const auto draws = live_line_draws(r.output);
  BOOST_TEST_REQUIRE(!draws.empty(), r.output);
  bool both = false;
  for (const auto& d : draws) {
    BOOST_TEST(d.find("/4] ") != std::string::npos, d);  // the run's total, not a group's
    both = both || d.find("stages: ga, gb") != std::string::npos;
  }
  BOOST_TEST(both, r.output);
  BOOST_TEST(r.output.find("FAILED:") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("] ga: a2 failed") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
