#pragma once

// A script for group_machine tests: feed events, assert the exact actions,
// and end by checking that the group settled.

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/group_machine.hpp>

namespace maestro::core::test {

// Drives a group_machine like a script: feed an event, look at the actions.
// The script keeps the timers the actions armed (set, then cancelled or
// fired), so that every script can end by checking that none is left.
class script {
 public:
  script(std::vector<group_task> tasks, group_settings settings, bool parallel = true,
         std::vector<group_epic> epics = {})
      : machine_(std::move(tasks), std::move(settings), parallel, std::move(epics)) {}
  script(std::vector<group_task> tasks, group_settings settings, std::shared_ptr<limit_pools> pools,
         std::string_view group)
      : machine_(std::move(tasks), std::move(settings), true, std::move(pools), group) {}

  std::vector<action> feed(event_body body) {
    if (const auto* t = std::get_if<timer_event>(&body)) {
      armed_.erase(t->id);
    }
    last_ = machine_.handle({now_, std::move(body)});
    for (const auto& a : last_) {
      if (const auto* set = std::get_if<set_timer_action>(&a)) {
        armed_[set->id] = set->deadline;
      } else if (const auto* cancel = std::get_if<cancel_timer_action>(&a)) {
        armed_.erase(cancel->id);
      }
    }
    return last_;
  }
  std::vector<action> start() { return feed(start_event{}); }
  std::vector<action> exit(std::size_t task, int code) {
    return feed(exited_event{task, machine_.state(task).attempts, code, 0});
  }
  // Fires the armed timer `id`, after moving the clock to its deadline.
  std::vector<action> fire(const timer_id& id) {
    const auto it = armed_.find(id);
    BOOST_TEST_REQUIRE((it != armed_.end()), "timer not armed: " << id);
    now_ = std::max(now_, it->second);
    return feed(timer_event{id});
  }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  clock_time now() const { return now_; }
  clock_time in(std::chrono::milliseconds d) const { return now_ + d; }
  bool armed(const timer_id& id) const { return armed_.contains(id); }

  const group_machine& machine() const { return machine_; }
  task_status status(std::size_t task) const { return machine_.state(task).status; }

  // The launches among the last actions, as "task:agent".
  std::vector<std::string> launches() const {
    std::vector<std::string> out;
    for (const auto& a : last_) {
      if (const auto* l = std::get_if<launch_action>(&a)) {
        out.push_back(machine_.tasks()[l->task].id + ":" + l->agent);
      }
    }
    return out;
  }
  template <class T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& a : last_) {
      if (const auto* x = std::get_if<T>(&a)) {
        out.push_back(*x);
      }
    }
    return out;
  }
  template <class T>
  bool has() const {
    return !all<T>().empty();
  }
  // The timer of a kind that the last actions set.
  std::optional<set_timer_action> timer(timer_kind kind) const {
    for (const auto& t : all<set_timer_action>()) {
      if (t.id.kind == kind) {
        return t;
      }
    }
    return std::nullopt;
  }
  // Every script ends with the group finished, nothing running, queued or
  // waiting, and no timer armed.
  void check_settled(group_status expected) const {
    BOOST_TEST(machine_.running_count() == 0U);
    BOOST_TEST(machine_.queued_count() == 0U);
    BOOST_TEST(machine_.delayed_count() == 0U);
    BOOST_TEST(armed_.empty(),
               "still armed: " << (armed_.empty() ? timer_id{} : armed_.begin()->first));
    BOOST_TEST((machine_.lifecycle() == group_lifecycle::finished ||
                machine_.lifecycle() == group_lifecycle::dropped),
               "lifecycle " << name_of(machine_.lifecycle()));
    BOOST_TEST((machine_.status() == expected), "status " << to_string(machine_.status()));
  }

 private:
  group_machine machine_;
  clock_time now_{};
  std::vector<action> last_;
  std::map<timer_id, clock_time> armed_;
};

inline group_task make(std::string id, std::vector<std::string> chain = {"a"},
                       long long priority = 2) {
  group_task t;
  t.id = std::move(id);
  t.chain = std::move(chain);
  t.priority = priority;
  return t;
}

inline group_settings settings(int max_concurrent = 4) {
  group_settings s;
  s.max_concurrent = max_concurrent;
  s.default_timeout_s = 0;
  s.kill_grace_s = 1;
  s.test_timeout_s = 0;
  return s;
}

// Runs the post-execution phase to a completed group: tests pass, close ok.
inline void pass_tests_and_close(script& s) {
  BOOST_TEST_REQUIRE(s.has<run_tests_action>());
  s.feed(tests_done_event{test_status::passed, ""});
  const auto closes = s.all<close_tasks_action>();
  BOOST_TEST_REQUIRE(closes.size() == 1U);
  s.feed(close_done_event{closes[0].tasks, {}});
}

using ids = std::vector<std::string>;
using list = std::vector<action>;

inline launch_action launch(std::size_t task, std::uint32_t attempt, std::string agent = "a") {
  return {task, attempt, std::move(agent)};
}
inline task_changed_action changed(std::size_t task) {
  return {task};
}

/// A list of actions, one per line, for a failed check's message.
struct printed {
  const std::vector<action>& actions;
};
inline std::ostream& operator<<(std::ostream& out, const printed& p) {
  for (const auto& a : p.actions) {
    out << "\n    " << a;
  }
  return out;
}

}  // namespace maestro::core::test

/// Checks that `got` is exactly `expected`, and shows both lists if not.
/// `got` is evaluated first (it may move the script's clock).
#define CHECK_ACTIONS(got, expected)                                                             \
  do {                                                                                           \
    const std::vector<::maestro::core::action> got_ = (got);                                     \
    const std::vector<::maestro::core::action> expected_ = (expected);                           \
    BOOST_TEST((got_ == expected_),                                                              \
               "actions differ; got:" << ::maestro::core::test::printed{got_} << "\n  expected:" \
                                      << ::maestro::core::test::printed{expected_});             \
  } while (false)
