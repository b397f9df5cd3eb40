#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cli/cli_fixture.hpp"

using maestro::test::cli_fixture;

namespace {

// Exactly one line on stderr, starting with the program's name.
bool one_line_error(const std::string& err) {
  return err.rfind("maestro-async: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(commands_cli, cli_fixture)

BOOST_AUTO_TEST_CASE(version_prints_the_version) {
  const auto r = run({"--version"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.find("maestro-async 0.") == 0U, r.out);
}

BOOST_AUTO_TEST_CASE(help_on_every_command) {
  for (const auto* command :
       {"detect", "execute", "run", "list", "status", "wait", "resume", "cancel"}) {
    const auto r = run({command, "--help"});
    BOOST_TEST(r.exit_code == 0, command);
    BOOST_TEST(r.out.find("--json") != std::string::npos, command);
    BOOST_TEST(r.out.find("--state-dir") != std::string::npos, command);
    BOOST_TEST(r.out.find("--config") != std::string::npos, command);
    BOOST_TEST(r.out.find("--log-level") != std::string::npos, command);
    // The task sources, on the commands that read tasks only.
    const std::string_view c = command;
    const bool reads_tasks = c == "detect" || c == "execute" || c == "run" || c == "resume";
    BOOST_TEST((r.out.find("--beads") != std::string::npos) == reads_tasks, command);
    BOOST_TEST((r.out.find("--bd ") != std::string::npos) == reads_tasks, command);
    BOOST_TEST((r.out.find("--tasks-file") != std::string::npos) == reads_tasks, command);
  }
  const auto top = run({"--help"});
  BOOST_TEST(top.exit_code == 0);
  BOOST_TEST(top.out.find("detect") != std::string::npos);
}

// Each command lists only the flags that mean something to it.
BOOST_AUTO_TEST_CASE(help_lists_only_the_flags_of_the_command) {
  for (const auto* command : {"detect", "execute", "run", "resume"}) {
    BOOST_TEST(run({command, "--help"}).out.find("--tasks-file") != std::string::npos, command);
  }
  for (const auto* command : {"execute", "run", "resume"}) {
    const auto out = run({command, "--help"}).out;
    for (const auto* flag : {"--max-concurrent", "--dry-run", "--no-progress", "--color"}) {
      BOOST_TEST(out.find(flag) != std::string::npos, command << " " << flag);
    }
  }
  for (const auto* command : {"detect", "list", "status", "wait", "cancel"}) {
    const auto out = run({command, "--help"}).out;
    for (const auto* flag :
         {"--max-concurrent", "--dry-run", "--no-progress", "--color", "--keep-going", "--force"}) {
      BOOST_TEST(out.find(flag) == std::string::npos, command << " " << flag);
    }
  }
  for (const auto* command : {"list", "status", "wait", "cancel"}) {
    BOOST_TEST(run({command, "--help"}).out.find("--tasks-file") == std::string::npos, command);
  }
  const auto run_help = run({"run", "--help"}).out;
  BOOST_TEST(run_help.find("-k,--keep-going") != std::string::npos, run_help);
  for (const auto* command : {"execute", "status", "wait", "cancel", "resume"}) {
    const auto out = run({command, "--help"}).out;
    BOOST_TEST(out.find("--group-id") != std::string::npos, command);
    BOOST_TEST(out.find("group TEXT") != std::string::npos, command << ": " << out);
  }
}

BOOST_AUTO_TEST_CASE(a_flag_that_means_nothing_to_the_command_is_a_usage_error) {
  const std::vector<std::vector<std::string>> misuses{
      {"list", "--dry-run"},
      {"list", "--tasks-file", "tasks.json"},
      {"list", "-j", "3"},
      {"status", "g", "--keep-going"},
      {"status", "g", "--no-progress"},
      {"wait", "g", "-j", "3"},
      {"wait", "g", "--color", "never"},
      {"cancel", "g", "--dry-run"},
      {"cancel", "g", "--tasks-file", "tasks.json"},
      {"detect", "--tasks-file", "tasks.json", "--dry-run"},
      {"detect", "--tasks-file", "tasks.json", "-j", "2"},
      {"execute", "g", "--tasks-file", "tasks.json", "--keep-going"},
      {"execute", "g", "--tasks-file", "tasks.json", "-k"},
      {"resume", "g", "--tasks-file", "tasks.json", "--force"},
      {"run", "--tasks-file", "tasks.json", "--status", "failed"},
  };
  for (const auto& args : misuses) {
    const auto r = run(args);
    BOOST_TEST(r.exit_code == 2, args[0] << " " << args.back());
    BOOST_TEST(one_line_error(r.err), r.err);
    BOOST_TEST(r.out.empty());
  }
}

BOOST_AUTO_TEST_CASE(running_from_beads_without_a_bd_is_exit_2_before_anything_runs) {
  const std::vector<std::vector<std::string>> commands{
      {"run", "--beads", "--bd", "/nonexistent/bd"},
      {"execute", "g", "--beads", "--bd", "/nonexistent/bd"},
      {"resume", "g", "--beads", "--bd", "/nonexistent/bd"}};
  for (const auto& command : commands) {
    const auto r = run(command);
    BOOST_TEST(r.exit_code == 2, command.front());
    BOOST_TEST(one_line_error(r.err), r.err);
    BOOST_TEST(r.err.find("cannot start /nonexistent/bd") != std::string::npos, r.err);
    BOOST_TEST(!std::filesystem::exists(dir.path() / ".flow"), command.front());
  }
}

BOOST_AUTO_TEST_CASE(k_is_keep_going) {
  // Accepted (the next complaint is the missing task source).
  const auto r = run({"run", "-k"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err == "maestro-async: no task source: give --tasks-file PATH or --beads\n");
}

BOOST_AUTO_TEST_CASE(the_group_is_positional_or_group_id) {
  for (const auto* command : {"status", "wait", "cancel"}) {
    const std::string c = command;
    auto r = run({command, "api"});
    BOOST_TEST(r.exit_code == 2, c);
    BOOST_TEST(r.err.find("unknown group: api") != std::string::npos, c << ": " << r.err);
    r = run({command, "api", "--group-id", "api"});
    BOOST_TEST(r.err.find("unknown group: api") != std::string::npos, c << ": " << r.err);
    r = run({command, "api", "--group-id", "web"});
    BOOST_TEST(r.exit_code == 2, c);
    BOOST_TEST(r.err ==
               "maestro-async: " + c + ": two different groups given: api and --group-id web\n");
    r = run({command});
    BOOST_TEST(r.exit_code == 2, c);
    BOOST_TEST(r.err ==
               "maestro-async: " + c + ": no group given: " + c + " GROUP, or --group-id GROUP\n");
    BOOST_TEST(run({command, "a", "b"}).exit_code == 2, c);
  }
  for (const auto* command : {"execute", "resume"}) {
    const std::string c = command;
    const auto r = run({command, "api", "--group-id", "web", "--tasks-file", "tasks.json"});
    BOOST_TEST(r.exit_code == 2, c);
    BOOST_TEST(r.err.find("two different groups given") != std::string::npos, c << ": " << r.err);
    BOOST_TEST(run({command, "--tasks-file", "tasks.json"}).err.find("no group given") !=
                   std::string::npos,
               c);
  }
}

BOOST_AUTO_TEST_CASE(max_concurrent_must_be_a_positive_integer) {
  dir.write("tasks.json", R"([{"id":"a","title":"[P:Group-g] a"}])");
  for (const auto* value : {"0", "-1", "abc", "2x", "99999999999"}) {
    const auto r = run(
        {"execute", "g", "--tasks-file", "tasks.json", "--max-concurrent=" + std::string(value)});
    BOOST_TEST(r.exit_code == 2, value);
    BOOST_TEST(r.err == "maestro-async: -j/--max-concurrent: expected a positive integer, got " +
                            std::string(value) + "\n");
    BOOST_TEST(r.out.empty());
  }
  const auto r = run({"run", "-j", "0", "--tasks-file", "tasks.json"});
  BOOST_TEST(r.err == "maestro-async: -j/--max-concurrent: expected a positive integer, got 0\n");
}

BOOST_AUTO_TEST_CASE(state_commands_go_on_with_a_broken_maestro_json) {
  for (const auto* broken : {"{\"state_dir\": ", R"({"no_such_key": 1})"}) {
    dir.write("maestro.json", broken);
    auto r = run({"list"});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.err.rfind("maestro-async: warning: ignoring maestro.json", 0) == 0U, r.err);
    BOOST_TEST(one_line_error(r.err), r.err);
    // The default state directory.
    BOOST_TEST(r.out.find(".flow/maestro/parallel_groups") != std::string::npos, r.out);
    r = run({"list", "--state-dir", "elsewhere", "--json"});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.out == "[]\n");
    r = run({"list", "--log-level", "error"});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.err.empty(), r.err);
    // Unknown, not misconfigured.
    r = run({"status", "g"});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.err.find("unknown group: g") != std::string::npos, r.err);
    r = run({"wait", "g"});
    BOOST_TEST(r.err.find("unknown group: g") != std::string::npos, r.err);
    r = run({"cancel", "g"});
    BOOST_TEST(r.err.find("unknown group: g") != std::string::npos, r.err);
    // The commands that run tasks still refuse it.
    dir.write("tasks.json", R"([{"id":"a","title":"[P:Group-g] a"}])");
    r = run({"execute", "g", "--tasks-file", "tasks.json"});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.err.rfind("maestro-async: maestro.json", 0) == 0U, r.err);
  }
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  const auto unknown = run({"frobnicate"});
  BOOST_TEST(unknown.exit_code == 2);
  BOOST_TEST(!unknown.err.empty());
  BOOST_TEST(run({}).exit_code == 2);
  BOOST_TEST(run({"detect", "--no-such-flag"}).exit_code == 2);
  BOOST_TEST(run({"detect", "-j", "0", "--tasks-file", "x"}).exit_code == 2);
  BOOST_TEST(run({"detect", "--log-level", "loud", "--tasks-file", "x"}).exit_code == 2);
  BOOST_TEST(run({"execute"}).exit_code == 2);  // a group is required
}

BOOST_AUTO_TEST_SUITE_END()
