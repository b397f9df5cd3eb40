#include <chrono>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/group_machine.hpp>
#include <maestro/core/task_board.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(task_board_tests)

namespace {

std::vector<group_task> three_tasks() {
  std::vector<group_task> tasks(3);
  tasks[0].id = "a";
  tasks[1].id = "b";
  tasks[2].id = "c";
  return tasks;
}

std::vector<action> reports(task_board& board) {
  std::vector<action> out;
  board.report_changes(out);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(starts_pending_but_for_completed_tasks_and_keeps_earlier_attempts) {
  auto tasks = three_tasks();
  tasks[1].already_completed = true;
  tasks[2].earlier_agents = {"x", "y"};
  task_board board(tasks);
  BOOST_TEST(board.size() == 3U);
  BOOST_TEST(board.count(task_status::pending) == 2U);
  BOOST_TEST(board.count(task_status::completed) == 1U);
  BOOST_TEST((board[1].status == task_status::completed));
  BOOST_TEST(board[2].attempts == 2U);
  BOOST_TEST(board[2].history.size() == 2U);
  BOOST_TEST(board[2].history[1].agent == "y");
  BOOST_TEST(board[2].history[1].number == 2U);
  BOOST_TEST(reports(board).empty());  // the state before any event is no change
}

BOOST_AUTO_TEST_CASE(counts_follow_every_status_change) {
  task_board board(three_tasks());
  board.set_status(0, task_status::queued);
  board.set_status(0, task_status::running);
  board.set_status(1, task_status::skipped);
  BOOST_TEST(board.count(task_status::pending) == 1U);
  BOOST_TEST(board.count(task_status::queued) == 0U);
  BOOST_TEST(board.count(task_status::running) == 1U);
  BOOST_TEST(board.count(task_status::skipped) == 1U);
  std::size_t total = 0;
  for (const auto s : all_values<task_status>()) {
    total += board.count(s);
  }
  BOOST_TEST(total == 3U);
}

BOOST_AUTO_TEST_CASE(the_tasks_with_a_status_in_order) {
  task_board board(three_tasks());
  board.set_status(2, task_status::blocked);
  board.set_status(0, task_status::blocked);
  BOOST_TEST(board.with_status(task_status::blocked) == (std::vector<std::size_t>{0, 2}));
  BOOST_TEST(board.with_status(task_status::pending) == (std::vector<std::size_t>{1}));
  BOOST_TEST(board.with_status(task_status::failed).empty());
}

BOOST_AUTO_TEST_CASE(one_report_per_change_in_the_order_of_first_change_group_first) {
  task_board board(three_tasks());
  board.set_status(2, task_status::queued);
  board.set_status(0, task_status::queued);
  board.changed(2);
  board.set_status(2, task_status::running);
  board.group_changed();
  BOOST_TEST((reports(board) == std::vector<action>{group_changed_action{}, task_changed_action{2},
                                                    task_changed_action{0}}));
  BOOST_TEST(reports(board).empty());  // reported once: the next event starts afresh
  board.changed(2);
  BOOST_TEST((reports(board) == std::vector<action>{task_changed_action{2}}));
}

BOOST_AUTO_TEST_CASE(an_attempt_runs_and_only_the_current_one_counts) {
  task_board board(three_tasks());
  const clock_time t0{std::chrono::seconds(5)};
  BOOST_TEST(board.begin_attempt(0, "agent", t0) == 1U);
  BOOST_TEST((board[0].status == task_status::running));
  BOOST_TEST((board[0].started == t0));
  BOOST_TEST(board.is_current(0, 1));
  BOOST_TEST(!board.is_current(0, 2));
  BOOST_TEST(!board.is_current(1, 0));  // not running
  BOOST_CHECK_THROW((void)board.is_current(7, 1), std::out_of_range);
  board.attempt_exited(0, 3, 0);
  BOOST_TEST((board[0].exit_code == 3));
  BOOST_TEST((board[0].history.back().exit_code == 3));
  BOOST_TEST(board.begin_attempt(0, "other", t0 + std::chrono::seconds(1)) == 2U);
  BOOST_TEST((board[0].started == t0));  // the first attempt's start
  BOOST_TEST(board[0].history.back().agent == "other");
}

BOOST_AUTO_TEST_CASE(advance_moves_along_the_chain_and_the_rounds) {
  task_board board(three_tasks());
  board.advance(0, retry_kind::cool_down);
  BOOST_TEST(board[0].tempfails == 1);
  BOOST_TEST(board[0].chain_position == 0U);
  board.advance(0, retry_kind::next_agent);
  board.advance(0, retry_kind::next_agent);
  BOOST_TEST(board[0].chain_position == 2U);
  board.advance(0, retry_kind::retry);
  BOOST_TEST(board[0].chain_position == 0U);
  BOOST_TEST(board[0].round == 1);
}

BOOST_AUTO_TEST_CASE(giving_up_tells_how_the_last_attempt_ended) {
  task_board board(three_tasks());
  (void)board.begin_attempt(1, "a1", clock_time{});
  board.attempt_exited(1, 2, 0);
  BOOST_TEST(board.give_up(1, "b") == "task b failed after 1 attempt: attempt 1 (a1): exit code 2");
  BOOST_TEST(board[1].error == "attempt 1 (a1): exit code 2");
  (void)board.begin_attempt(1, "a2", clock_time{});
  board[1].history.back().timed_out = true;
  BOOST_TEST(board.give_up(1, "b") ==
             "task b timed out after 2 attempts: attempt 2 (a2): timed out");
}

BOOST_AUTO_TEST_CASE(describe_an_attempt) {
  BOOST_TEST(describe({"a", 1, std::nullopt, 0, false, "no such file"}) ==
             "could not start: no such file");
  BOOST_TEST(describe({"a", 1, 137, 9, false, {}}) == "killed by signal 9");
  BOOST_TEST(describe({"a", 1, 0, 0, true, {}}) == "timed out");
  BOOST_TEST(describe({"a", 1, std::nullopt, 0, false, {}}) == "exit code ?");
}

BOOST_AUTO_TEST_SUITE_END()
