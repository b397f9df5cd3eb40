#include <boost/test/unit_test.hpp>

#include "cli/cli_fixture.hpp"

using maestro::test::cli_fixture;

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
    BOOST_TEST(r.out.find("--tasks-file") != std::string::npos, command);
    BOOST_TEST(r.out.find("--json") != std::string::npos, command);
  }
  const auto top = run({"--help"});
  BOOST_TEST(top.exit_code == 0);
  BOOST_TEST(top.out.find("detect") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  const auto unknown = run({"frobnicate"});
  BOOST_TEST(unknown.exit_code == 2);
  BOOST_TEST(!unknown.err.empty());
  BOOST_TEST(run({}).exit_code == 2);
  BOOST_TEST(run({"detect", "--no-such-flag"}).exit_code == 2);
  BOOST_TEST(run({"detect", "-j", "0", "--tasks-file", "x"}).exit_code == 2);
  BOOST_TEST(run({"detect", "--log-level", "loud", "--tasks-file", "x"}).exit_code == 2);
  BOOST_TEST(run({"execute"}).exit_code == 2);  // --group-id is required
}

BOOST_AUTO_TEST_SUITE_END()
