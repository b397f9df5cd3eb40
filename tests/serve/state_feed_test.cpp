// serve's state_feed against a state directory made while it watches: a
// directory that appears between the feed's look and its watch is still
// seen (the feed looks again once each watch is in place).

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/serve/state_feed.hpp>

#include "support/temp_dir.hpp"

using namespace maestro;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const char* const metadata_text =
    R"({"group_id":"g","status":"running","phase":"coordination","tasks":["a"],)"
    R"("errors":[],"warnings":[],"created_at":"2026-01-01T00:00:00.000Z",)"
    R"("started_at":"2026-01-01T00:00:00.000Z","completed_at":null,"engine_pid":null,)"
    R"("results":[{"task_id":"a","subagent":"x","status":"running","log":"/nowhere/a.log",)"
    R"("attempts":1,"agent_history":["x"],"exit_code":null}]})";

// Busy-waits `us` microseconds: short enough to land inside the feed's
// handling of the last directory's creation.
void spin(std::chrono::microseconds us) {
  const auto until = std::chrono::steady_clock::now() + us;
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_feed_suite)

BOOST_AUTO_TEST_CASE(a_state_directory_made_step_by_step_is_always_seen) {
  std::mt19937 random(20261207U);
  std::uniform_int_distribution<int> pause(0, 400);
  int missed = 0;
  constexpr int rounds = 150;
  for (int round = 0; round < rounds; ++round) {
    test::temp_dir root;
    const auto state = root.path() / ".maestro";
    boost::asio::io_context io;
    serve::state_feed feed(io.get_executor(), state, 1ms);
    bool seen = false;
    feed.start([&](const std::vector<serve::delta>& deltas) {
      for (const auto& d : deltas) {
        seen = seen || d.event == "group";
      }
    });
    const std::vector<std::chrono::microseconds> pauses{std::chrono::microseconds(pause(random)),
                                                        std::chrono::microseconds(pause(random)),
                                                        std::chrono::microseconds(pause(random))};
    std::thread maker([&] {
      fs::create_directory(state);
      spin(pauses[0]);
      fs::create_directory(state / "parallel_groups");
      spin(pauses[1]);
      fs::create_directory(state / "parallel_groups" / "g");
      spin(pauses[2]);
      const auto dir = state / "parallel_groups" / "g";
      std::ofstream(dir / "metadata.json.tmp") << metadata_text;
      fs::rename(dir / "metadata.json.tmp", dir / "metadata.json");
    });
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(50ms);
    }
    maker.join();
    missed += seen ? 0 : 1;
  }
  BOOST_TEST(missed == 0, missed << " of " << rounds << " rounds never saw the group");
}

BOOST_AUTO_TEST_SUITE_END()
