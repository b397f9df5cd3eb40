// Scripts for the run-level scheduler: the exact actions each event calls
// for, across several groups that share one set of limits, ending with
// every stage settled and no timer armed.

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/run_graph.hpp>
#include <maestro/core/run_scheduler.hpp>

#include "group_script.hpp"

using namespace maestro::core;
using namespace maestro::core::test;
using namespace std::chrono_literals;

namespace {

using run_list = std::vector<run_action>;

struct printed_run {
  const std::vector<run_action>& actions;
};
std::ostream& operator<<(std::ostream& out, const printed_run& p) {
  for (const auto& a : p.actions) {
    out << "\n    " << a;
  }
  return out;
}

#define CHECK_RUN(got, expected)                                                                   \
  do {                                                                                             \
    const run_list got_ = (got);                                                                   \
    const run_list expected_ = (expected);                                                         \
    BOOST_TEST((got_ == expected_), "actions differ; got:" << printed_run{got_} << "\n  expected:" \
                                                           << printed_run{expected_});             \
  } while (false)

// `action` of stage `k`. The scripts flatten each stage's actions into one
// entry per action, so that a list states the exact order.
stage_actions at(std::size_t k, action a) {
  return {k, {std::move(a)}};
}

run_list flattened(run_list actions) {
  run_list out;
  for (auto& a : actions) {
    if (auto* s = std::get_if<stage_actions>(&a)) {
      for (auto& one : s->actions) {
        out.emplace_back(at(s->stage, std::move(one)));
      }
    } else {
      out.push_back(std::move(a));
    }
  }
  return out;
}

// Drives a run_scheduler: feeds events, keeps the timers that actions arm,
// and tracks how many tasks run at once (the most, over the whole script).
class run_script {
 public:
  run_script(std::vector<run_stage> stages, run_settings settings)
      : scheduler_(std::move(stages), std::move(settings)) {}

  run_list feed(run_event_body body) {
    last_ = flattened(scheduler_.handle({now_, std::move(body)}));
    for (const auto& a : last_) {
      const auto* s = std::get_if<stage_actions>(&a);
      if (s == nullptr) {
        continue;
      }
      const auto& one = s->actions.front();
      if (const auto* set = std::get_if<set_timer_action>(&one)) {
        armed_[{s->stage, set->id}] = true;
      } else if (const auto* cancel = std::get_if<cancel_timer_action>(&one)) {
        armed_.erase({s->stage, cancel->id});
      } else if (const auto* l = std::get_if<launch_action>(&one)) {
        ++running_;
        ++launches_per_agent_running_[l->agent];
        most_per_agent_[l->agent] =
            std::max(most_per_agent_[l->agent], launches_per_agent_running_[l->agent]);
        most_ = std::max(most_, running_);
        launched_.push_back(scheduler_.stage(s->stage).id + "/" +
                            scheduler_.machine(s->stage)->tasks()[l->task].id);
      } else if (std::holds_alternative<run_tests_action>(one) ||
                 std::holds_alternative<run_refresh_action>(one)) {
        ++commands_running_;
        most_commands_ = std::max(most_commands_, commands_running_);
      }
    }
    return last_;
  }
  run_list start() { return feed(run_start_event{}); }
  run_list open(std::size_t k, stage_setup setup) {
    return feed(stage_opened_event{k, std::move(setup)});
  }
  run_list exit(std::size_t k, std::size_t task, int code = 0) {
    const auto& m = *scheduler_.machine(k);
    const auto agent = m.state(task).history.back().agent;
    --running_;
    --launches_per_agent_running_[agent];
    return feed(stage_event{k, exited_event{task, m.state(task).attempts, code, 0}});
  }
  run_list tests(std::size_t k, test_status status = test_status::passed) {
    --commands_running_;
    return feed(stage_event{k, tests_done_event{status, ""}});
  }
  run_list refreshed(std::size_t k) {
    --commands_running_;
    return feed(stage_event{k, refresh_done_event{true, ""}});
  }
  // The stages the last actions open.
  std::vector<std::size_t> opens() const {
    std::vector<std::size_t> out;
    for (const auto& a : last_) {
      if (const auto* o = std::get_if<open_stage_action>(&a)) {
        out.push_back(o->stage);
      }
    }
    return out;
  }
  const run_scheduler& scheduler() const { return scheduler_; }
  const run_list& last() const { return last_; }
  int most_running() const { return most_; }
  int most_running(const std::string& agent) const {
    const auto it = most_per_agent_.find(agent);
    return it == most_per_agent_.end() ? 0 : it->second;
  }
  int most_commands() const { return most_commands_; }
  const std::vector<std::string>& launched() const { return launched_; }
  // The launches among the last actions, as "stage/task".
  std::vector<std::string> last_launches() const {
    std::vector<std::string> out;
    for (const auto& a : last_) {
      if (const auto* s = std::get_if<stage_actions>(&a)) {
        if (const auto* l = std::get_if<launch_action>(&s->actions.front())) {
          out.push_back(scheduler_.stage(s->stage).id + "/" +
                        scheduler_.machine(s->stage)->tasks()[l->task].id);
        }
      }
    }
    return out;
  }
  // Every script ends with every stage settled, nothing running and no
  // timer armed.
  void check_settled() const {
    BOOST_TEST(scheduler_.finished());
    BOOST_TEST(scheduler_.running_tasks() == 0U);
    BOOST_TEST(scheduler_.queued_tasks() == 0U);
    BOOST_TEST(armed_.empty());
    BOOST_TEST(running_ == 0);
    BOOST_TEST(commands_running_ == 0);
    BOOST_TEST(!last_.empty());
    BOOST_TEST((!last_.empty() && std::holds_alternative<run_finished_action>(last_.back())));
  }

 private:
  run_scheduler scheduler_;
  clock_time now_{};
  run_list last_;
  std::map<std::pair<std::size_t, timer_id>, bool> armed_;
  int running_ = 0;
  int most_ = 0;
  std::map<std::string, int> launches_per_agent_running_;
  std::map<std::string, int> most_per_agent_;
  int commands_running_ = 0;
  int most_commands_ = 0;
  std::vector<std::string> launched_;
};

// A stage's setup: tasks of agent "a" unless said, no timeouts, no close.
stage_setup setup(std::vector<group_task> tasks, bool parallel = true) {
  stage_setup s;
  s.tasks = std::move(tasks);
  s.settings = settings();
  s.settings.close_tasks = false;
  s.parallel = parallel;
  return s;
}

group_task job(std::string id, std::size_t order, std::size_t path = 0,
               std::vector<std::string> chain = {"a"}) {
  auto t = make(std::move(id), std::move(chain));
  t.order = order;
  t.critical_path = path;
  return t;
}

run_settings graph(int max_concurrent, bool keep_going = false) {
  run_settings s;
  s.mode = schedule_mode::graph;
  s.max_concurrent = max_concurrent;
  s.keep_going = keep_going;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(run_scheduler_scripts)

BOOST_AUTO_TEST_CASE(actions_print_one_readable_line_each) {
  std::ostringstream out;
  out << run_action{open_stage_action{2}} << "; " << run_action{at(1, launch(0, 1))} << "; "
      << run_action{stage_skipped_action{3, "stopped"}} << "; "
      << run_action{run_finished_action{}};
  BOOST_TEST(out.str() == "open(s2); s1 launch(t0#1, a); skipped(s3: stopped); run_finished");
}

BOOST_AUTO_TEST_CASE(two_independent_groups_share_a_global_limit_of_three) {
  run_script r({{"A", {}}, {"B", {}}}, graph(3));
  CHECK_RUN(r.start(), (run_list{open_stage_action{0}, open_stage_action{1}}));
  // A opens first and takes every slot; B's tasks queue behind A's.
  CHECK_RUN(
      r.open(0, setup({job("a0", 0), job("a1", 1), job("a2", 2), job("a3", 3)})),
      (run_list{at(0, group_changed_action{}), at(0, changed(0)), at(0, changed(1)),
                at(0, changed(2)), at(0, changed(3)),    // the start: all four queued
                at(0, launch(0, 1)), at(0, changed(0)),  // then one grant each
                at(0, launch(1, 1)), at(0, changed(1)), at(0, launch(2, 1)), at(0, changed(2))}));
  CHECK_RUN(r.open(1, setup({job("b0", 4), job("b1", 5)})),
            (run_list{at(1, group_changed_action{}), at(1, changed(0)), at(1, changed(1))}));
  BOOST_TEST(r.scheduler().running_tasks() == 3U);
  BOOST_TEST(r.scheduler().queued_tasks() == 3U);
  // A slot freed in A goes to the best queued task of either group: a3,
  // which comes first in the input.
  CHECK_RUN(r.exit(0, 0), (run_list{at(0, changed(0)), at(0, launch(3, 1)), at(0, changed(3))}));
  // One freed in A again: B's turn, since A has nothing queued.
  CHECK_RUN(r.exit(0, 1), (run_list{at(0, changed(1)), at(1, launch(0, 1)), at(1, changed(0))}));
  r.exit(0, 2);
  BOOST_TEST(r.last_launches() == (ids{"B/b1"}));
  // A's last task ends: its tests wait for their turn, which is free.
  CHECK_RUN(r.exit(0, 3), (run_list{at(0, group_changed_action{}), at(0, changed(3)),
                                    at(0, run_tests_action{}), at(0, group_changed_action{})}));
  CHECK_RUN(r.tests(0), (run_list{at(0, group_changed_action{}),
                                  at(0, finished_action{group_status::completed})}));
  r.exit(1, 0);
  r.exit(1, 1);
  CHECK_RUN(r.tests(1),
            (run_list{at(1, group_changed_action{}),
                      at(1, finished_action{group_status::completed}), run_finished_action{}}));
  BOOST_TEST(r.most_running() == 3);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(an_exit_in_one_group_launches_the_best_head_of_another) {
  // docs/architecture.md, "The same exit under schedule: graph": t0 of A
  // fails and goes back to the queue for its fallback agent b; the freed
  // slot goes to B's t4, whose chain is longer.
  run_script r({{"A", {}}, {"B", {}}}, graph(1));
  r.start();
  auto a = setup({job("t0", 0, 1, {"a", "b"})});
  a.settings.default_timeout_s = 60;
  r.open(0, std::move(a));
  auto b =
      setup({job("t0", 1, 1), job("t1", 2, 1), job("t2", 3, 1), job("t3", 4, 1), job("t4", 5, 3)});
  b.settings.default_timeout_s = 60;
  r.open(1, std::move(b));
  CHECK_RUN(
      r.exit(0, 0, 1),
      (run_list{at(0, cancel_timer_action{{timer_kind::attempt_timeout, 0, 1}}), at(0, changed(0)),
                at(1, launch(4, 1)),
                at(1, set_timer_action{{timer_kind::attempt_timeout, 4, 1}, clock_time{} + 60s}),
                at(1, changed(4))}));
  r.feed(run_stop_event{stop_mode::immediate, "the script ends"});
  r.exit(1, 4, 137);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(a_per_agent_limit_holds_across_groups) {
  auto s = graph(8);
  s.agent_limits["slow"] = 2;
  run_script r({{"A", {}}, {"B", {}}}, s);
  r.start();
  r.open(0,
         setup({job("a0", 0, 0, {"slow"}), job("a1", 1, 0, {"slow"}), job("a2", 2, 0, {"fast"})}));
  BOOST_TEST(r.last_launches() == (ids{"A/a0", "A/a1", "A/a2"}));
  r.open(1, setup({job("b0", 3, 0, {"slow"}), job("b1", 4, 0, {"fast"})}));
  // b0 waits for a slot of "slow", which A holds; b1 does not wait for it.
  BOOST_TEST(r.last_launches() == (ids{"B/b1"}));
  BOOST_TEST(r.scheduler().queued_tasks() == 1U);
  r.exit(0, 2);  // a "fast" slot frees: nothing for it
  BOOST_TEST(r.last_launches().empty());
  r.exit(0, 0);  // a "slow" one: b0
  BOOST_TEST(r.last_launches() == (ids{"B/b0"}));
  r.exit(0, 1);
  r.tests(0);
  r.exit(1, 0);
  r.exit(1, 1);
  r.tests(1);
  BOOST_TEST(r.most_running("slow") == 2);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(the_longest_chain_goes_first_then_priority_wins_over_it) {
  run_script r({{"A", {}}, {"B", {}}}, graph(1));
  r.start();
  r.open(0, setup({job("a0", 0, 1), job("a1", 1, 1)}));
  BOOST_TEST(r.last_launches() == (ids{"A/a0"}));
  auto b = setup({job("b0", 2, 5), job("b1", 3, 2), job("b2", 4, 1)});
  b.tasks[2].priority = 0;  // the highest priority, whatever its chain
  r.open(1, std::move(b));
  r.exit(0, 0);
  r.exit(1, 2);
  r.exit(1, 0);
  r.exit(1, 1);
  r.tests(1);
  r.exit(0, 1);
  r.tests(0);
  BOOST_TEST(r.launched() == (ids{"A/a0", "B/b2", "B/b0", "B/b1", "A/a1"}));
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(critical_paths_count_the_work_after_a_stage) {
  // Stage A (a0 <- a1) comes before stage B (b0, b1 <- b2 <- b3); C alone.
  plan p;
  const auto add = [&p](std::size_t index, std::string stage, std::vector<std::size_t> waits) {
    planned_task t;
    t.index = index;
    t.stage_id = std::move(stage);
    for (const auto w : waits) {
      t.waits_for.push_back({"x" + std::to_string(w), {}, {}, w});
    }
    p.tasks.push_back(std::move(t));
  };
  add(0, "A", {});
  add(1, "A", {0});
  add(2, "B", {});
  add(3, "B", {});
  add(4, "B", {3});
  add(5, "B", {4});
  add(6, "C", {});
  p.stages.push_back({"A", stage_kind::parallel, "A", {0, 1}, {}, {}});
  p.stages.push_back({"B", stage_kind::parallel, "B", {2, 3, 4, 5}, {"A"}, {}});
  p.stages.push_back({"C", stage_kind::parallel, "C", {6}, {}, {}});
  const auto before = stage_prerequisites(p);
  BOOST_TEST_REQUIRE(before.size() == 3U);
  BOOST_TEST(before[0].empty());
  BOOST_TEST(before[1] == (std::vector<std::size_t>{0}), boost::test_tools::per_element());
  BOOST_TEST(before[2].empty());
  // B's longest chain is b1, b2, b3: 3; a1 comes before all of B: 4; a0
  // before a1: 5.
  BOOST_TEST(critical_paths(p) == (std::vector<std::size_t>{5, 4, 1, 3, 2, 1, 1}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(refresh_and_test_phases_never_overlap) {
  run_script r({{"A", {}}, {"B", {}}}, graph(4));
  r.start();
  auto with_refresh = [](std::vector<group_task> tasks) {
    auto s = setup(std::move(tasks));
    s.settings.refresh = true;
    return s;
  };
  // A refreshes at once; B waits for its turn, running nothing.
  CHECK_RUN(r.open(0, with_refresh({job("a0", 0)})),
            (run_list{at(0, group_changed_action{}), at(0, run_refresh_action{}),
                      at(0, group_changed_action{})}));
  CHECK_RUN(r.open(1, with_refresh({job("b0", 1)})), (run_list{at(1, group_changed_action{})}));
  BOOST_TEST(r.scheduler().machine(1)->wants_command());
  // A's refresh ends: its task launches, and B's refresh gets the turn.
  CHECK_RUN(r.refreshed(0), (run_list{at(0, group_changed_action{}), at(0, changed(0)),
                                      at(0, launch(0, 1)), at(0, changed(0)),
                                      at(1, run_refresh_action{}), at(1, group_changed_action{})}));
  // A's tests wait until B's refresh has ended.
  CHECK_RUN(r.exit(0, 0), (run_list{at(0, group_changed_action{}), at(0, changed(0))}));
  CHECK_RUN(r.refreshed(1), (run_list{at(1, group_changed_action{}), at(1, changed(0)),
                                      at(1, launch(0, 1)), at(1, changed(0)),
                                      at(0, run_tests_action{}), at(0, group_changed_action{})}));
  r.exit(1, 0);
  BOOST_TEST(r.scheduler().machine(1)->wants_command());
  r.tests(0);
  BOOST_TEST(r.last_launches().empty());
  BOOST_TEST(!r.scheduler().machine(1)->wants_command());
  r.tests(1);
  BOOST_TEST(r.most_commands() == 1);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(a_dependent_stage_starts_only_after_its_prerequisite_passed_its_tests) {
  run_script r({{"A", {}}, {"B", {0}}}, graph(4));
  CHECK_RUN(r.start(), (run_list{open_stage_action{0}}));
  r.open(0, setup({job("a0", 0)}));
  CHECK_RUN(r.exit(0, 0), (run_list{at(0, group_changed_action{}), at(0, changed(0)),
                                    at(0, run_tests_action{}), at(0, group_changed_action{})}));
  CHECK_RUN(r.tests(0),
            (run_list{at(0, group_changed_action{}),
                      at(0, finished_action{group_status::completed}), open_stage_action{1}}));
  r.open(1, setup({job("b0", 1)}));
  BOOST_TEST(r.last_launches() == (ids{"B/b0"}));
  r.exit(1, 0);
  r.tests(1);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(failed_tests_skip_what_depends_on_the_stage) {
  run_script r({{"A", {}}, {"B", {0}}}, graph(4, true));
  r.start();
  r.open(0, setup({job("a0", 0)}));
  r.exit(0, 0);
  CHECK_RUN(r.tests(0, test_status::failed),
            (run_list{at(0, group_changed_action{}), at(0, finished_action{group_status::failed}),
                      stage_skipped_action{1, "depends on stage A, which did not complete"},
                      run_finished_action{}}));
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(keep_going_skips_exactly_the_dependents_of_a_failed_stage) {
  // A fails. B and C depend on it (C through B); D and E do not, and E
  // waits for D, which completes.
  run_script r({{"A", {}}, {"B", {0}}, {"C", {1}}, {"D", {}}, {"E", {3}}}, graph(4, true));
  CHECK_RUN(r.start(), (run_list{open_stage_action{0}, open_stage_action{3}}));
  r.open(0, setup({job("a0", 0)}));
  r.open(3, setup({job("d0", 1)}));
  CHECK_RUN(r.exit(0, 0, 1),
            (run_list{at(0, group_changed_action{}), at(0, changed(0)),
                      at(0, finished_action{group_status::failed}),
                      stage_skipped_action{1, "depends on stage A, which did not complete"},
                      stage_skipped_action{2, "depends on stage B, which did not complete"}}));
  r.exit(3, 0);
  CHECK_RUN(r.tests(3),
            (run_list{at(3, group_changed_action{}),
                      at(3, finished_action{group_status::completed}), open_stage_action{4}}));
  r.open(4, setup({job("e0", 2)}));
  r.exit(4, 0);
  r.tests(4);
  BOOST_TEST((r.scheduler().state(1) == stage_state::skipped));
  BOOST_TEST((r.scheduler().state(4) == stage_state::finished));
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(without_keep_going_nothing_new_starts_after_a_failure) {
  // A fails while D runs: D finishes, E (after D) and B (after A) never
  // start.
  run_script r({{"A", {}}, {"B", {0}}, {"D", {}}, {"E", {2}}}, graph(4));
  r.start();
  r.open(0, setup({job("a0", 0)}));
  r.open(2, setup({job("d0", 1), job("d1", 2)}));
  CHECK_RUN(r.exit(0, 0, 1),
            (run_list{at(0, group_changed_action{}), at(0, changed(0)),
                      at(0, finished_action{group_status::failed}),
                      stage_skipped_action{1, "stopped"}, stage_skipped_action{3, "stopped"}}));
  r.exit(2, 0);  // D's tasks go on
  r.exit(2, 1);
  CHECK_RUN(r.tests(2),
            (run_list{at(2, group_changed_action{}),
                      at(2, finished_action{group_status::completed}), run_finished_action{}}));
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(stages_run_one_at_a_time_in_run_order) {
  run_settings s;
  s.max_concurrent = 4;
  run_script r({{"A", {}}, {"B", {}}, {"C", {1}}}, s);
  CHECK_RUN(r.start(), (run_list{open_stage_action{0}}));
  r.open(0, setup({job("a0", 0)}));
  r.exit(0, 0);
  CHECK_RUN(r.tests(0),
            (run_list{at(0, group_changed_action{}),
                      at(0, finished_action{group_status::completed}), open_stage_action{1}}));
  // B completed before: settled without running, C opens.
  CHECK_RUN(r.feed(stage_settled_event{1, group_status::completed}),
            (run_list{open_stage_action{2}}));
  r.open(2, setup({job("c0", 1)}));
  r.exit(2, 0);
  r.tests(2);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(a_stop_stops_every_running_stage_and_starts_nothing) {
  run_script r({{"A", {}}, {"B", {}}, {"C", {0}}}, graph(4));
  r.start();
  r.open(0, setup({job("a0", 0)}));
  CHECK_RUN(r.feed(run_stop_event{stop_mode::graceful, "SIGINT"}),
            (run_list{stage_skipped_action{2, "stopped"}, at(0, signal_action{0, 1}),
                      at(0, set_timer_action{{timer_kind::kill_grace, 0, 1}, clock_time{} + 1s}),
                      at(0, group_changed_action{})}));
  // B was opening: it opens stopped, and ends cancelled before it starts.
  CHECK_RUN(
      r.open(1, setup({job("b0", 1)})),
      (run_list{at(1, group_changed_action{}), at(1, finished_action{group_status::cancelled})}));
  CHECK_RUN(r.exit(0, 0, 143),
            (run_list{at(0, cancel_timer_action{{timer_kind::kill_grace, 0, 1}}),
                      at(0, group_changed_action{}), at(0, changed(0)),
                      at(0, finished_action{group_status::cancelled}), run_finished_action{}}));
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(a_stage_that_cannot_open_stops_the_run) {
  run_script r({{"A", {}}, {"B", {}}}, graph(4));
  r.start();
  r.open(0, setup({job("a0", 0)}));
  CHECK_RUN(
      r.feed(stage_refused_event{1, "group B is already running"}),
      (run_list{stage_skipped_action{1, "group B is already running"}, at(0, signal_action{0, 1}),
                at(0, set_timer_action{{timer_kind::kill_grace, 0, 1}, clock_time{} + 1s}),
                at(0, group_changed_action{})}));
  r.exit(0, 0, 143);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(the_group_timeout_counts_from_the_first_launch_under_graph) {
  run_script r({{"A", {}}, {"B", {}}}, graph(1));
  r.start();
  auto timed = [](std::vector<group_task> tasks) {
    auto s = setup(std::move(tasks));
    s.settings.group_timeout_s = 10;
    return s;
  };
  r.open(0, timed({job("a0", 0)}));
  r.open(1, timed({job("b0", 1)}));
  BOOST_TEST(r.last().size() == 2U);  // queued (group and task changed): no timer yet
  r.exit(0, 0);
  BOOST_TEST(r.last_launches() == (ids{"B/b0"}));
  BOOST_TEST(
      (std::find(r.last().begin(), r.last().end(),
                 run_action{at(1, set_timer_action{{timer_kind::group_timeout, 0, 0},
                                                   clock_time{} + 10s})}) != r.last().end()));
  r.tests(0);
  r.exit(1, 0);
  r.tests(1);
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(a_ready_stage_opens_when_it_can_use_a_slot_best_first) {
  // Four one-task stages that wait for nothing, at -j2; s3's task has the
  // best priority. Opening all four at once would lock and start groups
  // that have no slot to run in.
  std::vector<run_stage> stages;
  for (std::size_t k = 0; k < 4; ++k) {
    run_stage st{"S" + std::to_string(k), {}};
    st.tasks = 1;
    st.order = k;
    st.best = {k == 3 ? 0 : 2, 1};
    stages.push_back(std::move(st));
  }
  run_script r(std::move(stages), graph(2));
  r.start();
  BOOST_TEST(r.opens() == (std::vector<std::size_t>{3, 0}), boost::test_tools::per_element());
  auto first = setup({job("t3", 3, 1)});
  first.tasks[0].priority = 0;
  r.open(3, std::move(first));
  BOOST_TEST(r.opens().empty());  // s0 is opening: it will take the other slot
  r.open(0, setup({job("t0", 0, 1)}));
  // Both slots are taken and nothing is queued: the next stage opens, so
  // that its task is queued when a slot frees, but only one.
  BOOST_TEST(r.opens() == (std::vector<std::size_t>{1}), boost::test_tools::per_element());
  r.exit(3, 0);
  BOOST_TEST(r.opens().empty());  // the freed slot is s1's, which is opening
  r.open(1, setup({job("t1", 1, 1)}));
  BOOST_TEST(r.last_launches() == (ids{"S1/t1"}));
  BOOST_TEST(r.opens() == (std::vector<std::size_t>{2}), boost::test_tools::per_element());
  r.tests(3);
  r.open(2, setup({job("t2", 2, 1)}));
  BOOST_TEST(r.last_launches().empty());  // queued: the slots are s0's and s1's
  r.exit(0, 0);
  BOOST_TEST(r.last_launches() == (ids{"S2/t2"}));
  r.tests(0);
  r.exit(1, 0);
  r.tests(1);
  r.exit(2, 0);
  r.tests(2);
  BOOST_TEST(r.launched() == (ids{"S3/t3", "S0/t0", "S1/t1", "S2/t2"}),
             boost::test_tools::per_element());
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(an_empty_run_finishes_at_once) {
  run_script r({}, graph(2));
  CHECK_RUN(r.start(), (run_list{run_finished_action{}}));
  r.check_settled();
}

BOOST_AUTO_TEST_CASE(a_stage_may_wait_only_for_earlier_stages) {
  BOOST_CHECK_THROW(run_scheduler({{"A", {1}}, {"B", {}}}, graph(2)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
