// The runtime (coordinator and group runner) driven through fake ports: a
// launcher whose children end when the script says, a clock the script
// moves, state in memory. No process, file or real time is involved, so
// every timeout and stop below happens exactly where the script puts it.

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/coordinator.hpp>

#include "support/fake_ports.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using maestro::core::group_status;
using maestro::core::kill_signal;
using maestro::core::task_status;
using maestro::core::test_status;

namespace {

using signals = std::vector<kill_signal>;

struct runtime_fixture {
  asio::io_context io;
  maestro::coordinator::executor_type strand = asio::make_strand(io.get_executor());
  maestro::testing::manual_clock clock{strand};
  maestro::testing::fake_launcher launcher{strand};
  maestro::testing::memory_repository state;
  maestro::testing::fake_tracker tracker;
  maestro::testing::fake_test_runner tests;
  maestro::testing::fake_workspace workspace{strand};
  bool isolated = false;  // plan() hands `workspace` to the coordinator
  maestro::core::config config;
  std::optional<maestro::coordinator> coordinator;
  std::optional<maestro::run_outcome> outcome;
  std::exception_ptr error;

  runtime_fixture() {
    config.agent_defaults.command = {"agent"};
    config.agent_defaults.timeout_s = 0;
    config.test.kind = maestro::core::test_command_kind::auto_detect;
    config.test.timeout_s = 600;
    config.kill_grace_s = 5;
    config.max_concurrent = 2;
  }

  // Plans `n` tasks of parallel group `g`.
  void plan(int n) {
    std::vector<maestro::core::task> tasks;
    for (int i = 1; i <= n; ++i) {
      maestro::core::task t;
      t.id = "t" + std::to_string(i);
      t.title = "[P:Group-g] Task " + std::to_string(i);
      tasks.push_back(std::move(t));
    }
    maestro::coordinator_ports ports;
    ports.process_launcher = &launcher;
    ports.state = &state;
    ports.task_tracker = &tracker;
    ports.tests = &tests;
    ports.clock = &clock;
    if (isolated) {
      config.workspace.kind = maestro::core::workspace_kind::worktree;
      ports.workspaces = &workspace;
    }
    maestro::coordinator_options options;
    options.workdir = "/nowhere";
    coordinator.emplace(strand, config, std::move(tasks), options, ports);
  }

  void execute() {
    coordinator->async_execute("g", maestro::completed_group::refuse,
                               [this](std::exception_ptr e, maestro::run_outcome o) {
                                 error = std::move(e);
                                 outcome = std::move(o);
                               });
    settle();
  }

  // Runs every handler that is ready; real time plays no part.
  void settle() {
    io.restart();
    while (io.poll() > 0) {
      io.restart();
    }
  }
  void advance(maestro::core::clock_time::duration d) {
    clock.advance(d);
    settle();
  }
  void exit(std::size_t child, int code, int signal = 0) {
    launcher.exit(child, code, signal);
    settle();
  }
  void stop(maestro::core::stop_mode mode = maestro::core::stop_mode::graceful) {
    coordinator->stop(mode, "stopped by the test");
    settle();
  }

  std::size_t child_of(const std::string& program) const {
    const auto found = launcher.last(program);
    BOOST_TEST_REQUIRE(found.has_value(), "no child " << program);
    return *found;
  }
  const signals& signals_of(std::size_t child) const {
    return launcher.children().at(child).signals;
  }
  // The group as the store saw it at its last flush (the first state, and
  // the terminal one).
  const maestro::testing::group_snapshot& snapshot() { return state.snapshots.at("g"); }
  std::size_t agents_started() const {
    const auto& c = launcher.children();
    return static_cast<std::size_t>(
        std::count_if(c.begin(), c.end(), [](const auto& x) { return x.spec.argv[0] == "agent"; }));
  }

  // Every script ends here: the operation completed, nothing runs, no
  // alarm is left armed.
  void check_settled(group_status expected) {
    BOOST_TEST_REQUIRE(outcome.has_value(), "the operation did not complete");
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        BOOST_FAIL("the operation failed: " << e.what());
      }
    }
    BOOST_TEST_REQUIRE(outcome->groups.size() == 1U);
    BOOST_TEST((outcome->groups[0].status == expected),
               "status " << to_string(outcome->groups[0].status));
    BOOST_TEST(launcher.running() == 0U);
    BOOST_TEST(clock.armed() == 0U);
  }
  bool has_warning(const std::string& text) {
    const auto& w = snapshot().warnings;
    return std::any_of(w.begin(), w.end(),
                       [&](const std::string& x) { return x.find(text) != std::string::npos; });
  }
  bool has_error(const std::string& text) {
    const auto& w = snapshot().errors;
    return std::any_of(w.begin(), w.end(),
                       [&](const std::string& x) { return x.find(text) != std::string::npos; });
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(group_runner_fakes, runtime_fixture)

BOOST_AUTO_TEST_CASE(runs_tasks_under_the_limit_then_the_tests_then_closes) {
  plan(3);
  execute();
  BOOST_TEST(launcher.children().size() == 2U);  // max_concurrent 2
  exit(0, 0);
  BOOST_TEST(launcher.children().size() == 3U);  // the third takes the free slot
  BOOST_TEST(launcher.children()[2].spec.log_file.filename() == "t3.log");
  exit(1, 0);
  exit(2, 0);
  const auto suite = child_of("run-tests");
  BOOST_TEST(launcher.children()[suite].spec.log_file.filename() == "_tests.log");
  exit(suite, 0);
  check_settled(group_status::completed);
  BOOST_TEST((snapshot().tests == test_status::passed));
  BOOST_TEST(tracker.asked == (std::vector<std::string>{"t1", "t2", "t3"}));
  BOOST_TEST(snapshot().closed == (std::vector<bool>{true, true, true}));
}

BOOST_AUTO_TEST_CASE(an_attempt_that_times_out_gets_sigterm_then_sigkill_after_the_grace) {
  config.agent_defaults.timeout_s = 60;
  plan(1);
  execute();
  advance(59s);
  BOOST_TEST(signals_of(0).empty());
  advance(1s);
  BOOST_TEST(signals_of(0) == (signals{kill_signal::terminate}));
  advance(4s);
  BOOST_TEST(signals_of(0) == (signals{kill_signal::terminate}));
  advance(1s);
  BOOST_TEST(signals_of(0) == (signals{kill_signal::terminate, kill_signal::kill}));
  exit(0, 137, 9);
  check_settled(group_status::failed);
  BOOST_TEST((snapshot().tasks == std::vector<task_status>{task_status::timed_out}));
  BOOST_TEST(agents_started() == 1U);
}

BOOST_AUTO_TEST_CASE(a_refresh_that_times_out_is_ended_and_the_group_goes_on) {
  config.refresh = maestro::core::refresh_config{{"refresh"}, 30, false};
  plan(1);
  execute();
  const auto refresh = child_of("refresh");
  BOOST_TEST(launcher.children()[refresh].spec.log_file.filename() == "_refresh.log");
  BOOST_TEST(agents_started() == 0U);  // nothing launches before the refresh ends
  advance(30s);
  BOOST_TEST(signals_of(refresh) == (signals{kill_signal::terminate}));
  advance(5s);
  BOOST_TEST(signals_of(refresh) == (signals{kill_signal::terminate, kill_signal::kill}));
  exit(refresh, 137, 9);
  BOOST_TEST(agents_started() == 1U);
  exit(child_of("agent"), 0);
  exit(child_of("run-tests"), 0);
  check_settled(group_status::completed);
  BOOST_TEST(has_warning("refresh failed (not required): timed out"));
}

BOOST_AUTO_TEST_CASE(a_required_refresh_that_times_out_skips_every_task) {
  config.refresh = maestro::core::refresh_config{{"refresh"}, 30, true};
  plan(2);
  execute();
  advance(30s);
  advance(5s);
  exit(child_of("refresh"), 137, 9);
  check_settled(group_status::failed);
  BOOST_TEST(agents_started() == 0U);
  BOOST_TEST(has_error("refresh failed: timed out"));
  BOOST_TEST(
      (snapshot().tasks == std::vector<task_status>{task_status::skipped, task_status::skipped}));
}

BOOST_AUTO_TEST_CASE(a_stop_during_the_refresh_ends_it_and_launches_nothing) {
  config.refresh = maestro::core::refresh_config{{"refresh"}, 30, false};
  plan(2);
  execute();
  const auto refresh = child_of("refresh");
  stop();
  BOOST_TEST(signals_of(refresh) == (signals{kill_signal::terminate}));
  advance(5s);  // the grace period: SIGKILL
  BOOST_TEST(signals_of(refresh) == (signals{kill_signal::terminate, kill_signal::kill}));
  exit(refresh, 137, 9);
  check_settled(group_status::cancelled);
  BOOST_TEST(outcome->stopped);
  BOOST_TEST(agents_started() == 0U);
  BOOST_TEST((snapshot().tasks ==
              std::vector<task_status>{task_status::cancelled, task_status::cancelled}));
}

BOOST_AUTO_TEST_CASE(tests_that_time_out_are_ended_and_fail_the_group) {
  config.test.timeout_s = 100;
  plan(1);
  execute();
  exit(0, 0);
  const auto suite = child_of("run-tests");
  advance(100s);
  BOOST_TEST(signals_of(suite) == (signals{kill_signal::terminate}));
  advance(5s);
  BOOST_TEST(signals_of(suite) == (signals{kill_signal::terminate, kill_signal::kill}));
  exit(suite, 137, 9);
  check_settled(group_status::failed);
  BOOST_TEST((snapshot().tests == test_status::failed));
  BOOST_TEST(has_error("tests failed: run-tests: timed out"));
  BOOST_TEST(tracker.asked.empty());  // a failed group closes nothing
}

BOOST_AUTO_TEST_CASE(a_stop_during_the_tests_ends_them_and_cancels_the_group) {
  plan(1);
  execute();
  exit(0, 0);
  const auto suite = child_of("run-tests");
  stop();
  BOOST_TEST(signals_of(suite) == (signals{kill_signal::terminate}));
  exit(suite, 143, 15);
  check_settled(group_status::cancelled);
  BOOST_TEST(tracker.asked.empty());
}

BOOST_AUTO_TEST_CASE(a_stop_before_the_start_launches_nothing) {
  plan(2);
  stop();
  execute();
  BOOST_TEST_REQUIRE(outcome.has_value());
  BOOST_TEST(outcome->stopped);
  BOOST_TEST(outcome->groups.at(0).skipped == "stopped");
  BOOST_TEST(launcher.children().empty());
  BOOST_TEST(clock.armed() == 0U);
}

BOOST_AUTO_TEST_CASE(a_task_the_tracker_cannot_close_is_an_error_not_a_failure) {
  tracker.refuse["t2"] = "the tracker is read-only";
  plan(2);
  execute();
  launcher.exit_all(0);
  settle();
  exit(child_of("run-tests"), 0);
  check_settled(group_status::completed);
  BOOST_TEST(has_error("closing: t2: the tracker is read-only"));
  BOOST_TEST(snapshot().closed == (std::vector<bool>{true, false}));
}

BOOST_AUTO_TEST_CASE(each_task_is_claimed_before_it_launches_and_failures_are_handed_back) {
  tracker.claimant = "me";
  tracker.hold_claims = true;
  tracker.held["t2"] = "bob";
  tracker.claim_errors["t3"] = "database is read-only";
  config.max_concurrent = 4;
  plan(4);
  execute();
  // Nothing launches before its claim is answered.
  BOOST_TEST(agents_started() == 0U);
  BOOST_TEST(tracker.claims == (std::vector<std::string>{"t1", "t2", "t3", "t4"}));
  tracker.answer_claims();
  settle();
  BOOST_TEST(agents_started() == 2U);  // t1 and t4
  launcher.exit_all(0);
  settle();
  BOOST_TEST(
      (snapshot().tasks == std::vector<task_status>{task_status::completed, task_status::skipped,
                                                    task_status::failed, task_status::completed}));
  // t3 failed (its claim was refused): no tests, no close. It is handed
  // back all the same, as bd may have made the claim (a timeout after the
  // commit); the tracker hands back only what is the actor's. t2 (held by
  // bob) is not.
  check_settled(group_status::failed);
  BOOST_TEST_REQUIRE(tracker.released.size() == 1U);
  BOOST_TEST(tracker.released[0].id == "t3");
  BOOST_TEST(has_error("task t3 failed after 1 attempt: attempt 1 (backend-architect): could not "
                       "start: cannot claim t3: database is read-only"),
             maestro::core::join(snapshot().errors, "\n"));
  BOOST_TEST(state.snapshots.at("g").actor == "me");
}

BOOST_AUTO_TEST_CASE(a_stop_while_a_claim_is_answered_launches_nothing_and_hands_it_back) {
  tracker.claimant = "me";
  tracker.hold_claims = true;
  plan(1);
  execute();
  stop();
  settle();
  tracker.answer_claims();  // claimed, but the group is stopping: not launched
  settle();
  BOOST_TEST(agents_started() == 0U);
  check_settled(group_status::cancelled);
  BOOST_TEST_REQUIRE(tracker.released.size() == 1U);
  BOOST_TEST(tracker.released[0].id == "t1");
  BOOST_TEST(tracker.released[0].reason ==
             "maestro-async: cancelled in group g: "
             "stopped before it launched");
}

BOOST_AUTO_TEST_CASE(each_attempt_runs_in_its_workspace_and_completes_once_merged) {
  isolated = true;
  plan(2);
  execute();
  BOOST_TEST_REQUIRE(agents_started() == 2U);
  const auto& spec = launcher.children()[0].spec;
  BOOST_TEST(spec.workdir == "/ws/t1.1");
  BOOST_TEST(
      (std::find(spec.env.begin(), spec.env.end(), "MAESTRO_WORKTREE=/ws/t1.1") != spec.env.end()));
  exit(0, 0);
  exit(1, 0);
  // Merged, then tested in the test phase's workspace, then integrated.
  const auto suite = child_of("run-tests");
  BOOST_TEST(launcher.children()[suite].spec.workdir == "/ws/_test");
  exit(suite, 0);
  check_settled(group_status::completed);
  BOOST_TEST(workspace.calls ==
                 (std::vector<std::string>{"check", "open g fresh", "prepare t1.1", "prepare t2.1",
                                           "integrate t1.1", "integrate t2.1", "tests g",
                                           "integrate_group g", "close g completed", "drain"}),
             boost::test_tools::per_element());
  BOOST_TEST(snapshot().closed == (std::vector<bool>{true, true}));
}

BOOST_AUTO_TEST_CASE(a_conflict_fails_the_attempt_and_nothing_is_integrated) {
  isolated = true;
  workspace.conflicts.insert("t2");
  plan(2);
  execute();
  exit(0, 0);
  exit(1, 0);
  check_settled(group_status::failed);
  BOOST_TEST(has_error("task t2 failed after 1 attempt: attempt 1 (backend-architect): exit code "
                       "0, then merge conflict in maestro/group/g: f.txt"),
             maestro::core::join(snapshot().errors, "\n"));
  BOOST_TEST(workspace.calls ==
                 (std::vector<std::string>{"check", "open g fresh", "prepare t1.1", "prepare t2.1",
                                           "integrate t1.1", "integrate t2.1", "discard t2.1",
                                           "close g", "drain"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_stop_while_a_workspace_is_prepared_launches_nothing) {
  isolated = true;
  workspace.hold_prepares = true;
  plan(1);
  execute();
  stop();
  workspace.answer_prepares();  // ready, but the group is stopping: not launched
  settle();
  BOOST_TEST(agents_started() == 0U);
  check_settled(group_status::cancelled);
  BOOST_TEST(workspace.calls == (std::vector<std::string>{"check", "open g fresh", "prepare t1.1",
                                                          "discard t1.1", "close g", "drain"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_stop_while_the_test_workspace_is_readied_starts_no_tests) {
  isolated = true;
  workspace.hold_tests = true;
  plan(1);
  execute();
  exit(0, 0);
  stop();
  workspace.answer_tests();
  settle();
  BOOST_TEST(!launcher.last("run-tests").has_value());
  check_settled(group_status::cancelled);
  BOOST_TEST((snapshot().tasks == std::vector<task_status>{task_status::completed}));
}

BOOST_AUTO_TEST_CASE(state_that_cannot_be_written_halts_launches_and_fails_the_group) {
  state.fail_writes = true;
  config.max_concurrent = 1;
  plan(2);
  execute();
  BOOST_TEST(agents_started() == 1U);
  exit(0, 0);
  check_settled(group_status::failed);
  BOOST_TEST(agents_started() == 1U);  // no launch after the failed write
  BOOST_TEST(has_error("no space left on device"));
  BOOST_TEST((snapshot().tasks[1] == task_status::skipped));
}

BOOST_AUTO_TEST_CASE(a_missing_test_command_is_reported_like_one_that_failed_at_once) {
  launcher.make_missing("run-tests");
  plan(1);
  execute();
  exit(0, 0);
  check_settled(group_status::failed);
  BOOST_TEST((snapshot().tests == test_status::failed));
  BOOST_TEST(launcher.logs().at("_tests.log").find("cannot start run-tests") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_group_whose_lock_is_held_is_refused) {
  state.locked.insert("g");
  plan(1);
  execute();
  BOOST_TEST_REQUIRE(static_cast<bool>(error));
  try {
    std::rethrow_exception(error);
  } catch (const maestro::refused& e) {
    BOOST_TEST(std::string(e.what()) ==
               "group g is already running (the memory lock of g is held)");
  }
  BOOST_TEST(launcher.children().empty());
}

BOOST_AUTO_TEST_SUITE_END()
