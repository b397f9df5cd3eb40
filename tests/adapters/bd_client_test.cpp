// One `bd` call as an asynchronous child: the double (tests/support/fake_bd)
// answering, slow, hung, missing; stdout and stderr kept apart.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/bd_client.hpp>
#include <maestro/adapters/bd_output.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace maestro;
using namespace std::chrono_literals;

namespace {

struct bd_store {
  test::temp_dir dir;
  bd_store() {
    BOOST_TEST_REQUIRE(test::run_process({MAESTRO_FAKE_BD, "init"}, dir.path()).exit_code == 0);
    BOOST_TEST_REQUIRE(test::run_process({MAESTRO_FAKE_BD, "import", "-i",
                                          std::string(MAESTRO_BEADS_EXPORTS_DIR) + "/atari.jsonl"},
                                         dir.path())
                           .exit_code == 0);
  }

  // Runs one call to completion on an io_context of its own.
  std::pair<boost::system::error_code, bd_result> call(
      std::vector<std::string> args, std::vector<std::string> env = {"PATH=/usr/bin:/bin"},
      std::chrono::milliseconds timeout = 20s, std::string program = MAESTRO_FAKE_BD) const {
    boost::asio::io_context io;
    bd_client client(io.get_executor(), std::move(program), dir.path(), std::move(env), timeout);
    std::optional<std::pair<boost::system::error_code, bd_result>> out;
    client.async_run(std::move(args), [&](boost::system::error_code ec, bd_result r) {
      out.emplace(ec, std::move(r));
    });
    io.run();
    BOOST_TEST_REQUIRE(out.has_value());
    return *out;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(bd_client_calls, bd_store)

BOOST_AUTO_TEST_CASE(output_larger_than_a_pipe_is_read_whole_and_apart_from_stderr) {
  // 131 issues are well over a pipe's 64 KiB.
  const auto [ec, r] = call({"list", "--json", "--all", "--limit", "0"});
  BOOST_TEST_REQUIRE(!ec, ec.message());
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(r.out.size() > 65536U);
  BOOST_TEST(parse_bd_issues(r.out, "list").size() == 131U);
  const auto [ec2, hinted] = call({"list", "--json", "--all"});  // atari is all closed
  BOOST_TEST(hinted.err.find("Showing 50 of") != std::string::npos, hinted.err);
  BOOST_TEST(parse_bd_issues(hinted.out, "list").size() == 50U);
}

BOOST_AUTO_TEST_CASE(a_refusal_is_an_exit_code_and_a_message) {
  const auto [ec, r] = call({"show", "nope", "--json"});
  BOOST_TEST(!ec);
  BOOST_TEST(r.exit_code == 1);
  BOOST_CHECK_THROW((void)parse_bd_issues(r.out, "show"), bd_error);
}

BOOST_AUTO_TEST_CASE(a_slow_or_hung_bd_is_killed_at_its_time_limit) {
  const auto start = std::chrono::steady_clock::now();
  const auto [ec, r] = call({"list", "--json"}, {"PATH=/usr/bin:/bin", "FAKE_BD_HANG=list"}, 300ms);
  BOOST_TEST(!ec);
  BOOST_TEST(r.timed_out);
  BOOST_TEST(r.exit_code == 128 + 9);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 15s));
  const auto [ec2, slow] =
      call({"list", "--json"}, {"PATH=/usr/bin:/bin", "FAKE_BD_DELAY_MS=5000"}, 300ms);
  BOOST_TEST(slow.timed_out);
}

BOOST_AUTO_TEST_CASE(a_missing_bd_is_an_error_to_the_caller) {
  const auto [ec, r] = call({"list", "--json"}, {}, 5s, "/nonexistent/bd");
  BOOST_TEST(ec.value() == ENOENT, ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
