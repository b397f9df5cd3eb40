#include <maestro/core/group_machine.hpp>
#include <maestro/core/task_board.hpp>

namespace maestro::core {

std::string describe(const attempt_record& a) {
  if (!a.error.empty()) {
    // One that exited (0) failed after: its work could not be merged.
    return a.exit_code ? "exit code " + std::to_string(*a.exit_code) + ", then " + a.error
                       : "could not start: " + a.error;
  }
  if (a.timed_out) {
    return "timed out";
  }
  if (a.signal != 0) {
    return "killed by signal " + std::to_string(a.signal);
  }
  return "exit code " + (a.exit_code ? std::to_string(*a.exit_code) : std::string("?"));
}

task_board::task_board(const std::vector<group_task>& tasks)
    : states_(tasks.size()), is_dirty_(tasks.size(), false) {
  counts_[static_cast<std::size_t>(task_status::pending)] = tasks.size();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    auto& st = states_[i];
    for (const auto& agent : tasks[i].earlier_agents) {
      st.history.push_back({agent, ++st.attempts, std::nullopt, 0, false, {}});
    }
    if (tasks[i].already_completed) {  // before any event: counted, not reported
      --counts_[static_cast<std::size_t>(task_status::pending)];
      ++counts_[static_cast<std::size_t>(task_status::completed)];
      st.status = task_status::completed;
    }
  }
}

std::vector<std::size_t> task_board::with_status(task_status s) const {
  std::vector<std::size_t> tasks;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (states_[i].status == s) {
      tasks.push_back(i);
    }
  }
  return tasks;
}

std::uint32_t task_board::begin_attempt(std::size_t task, const std::string& agent,
                                        clock_time now) {
  auto& st = states_[task];
  ++st.attempts;
  set_status(task, task_status::running);
  st.pid = 0;
  st.pgid = 0;
  if (!st.started) {
    st.started = now;
  }
  st.history.push_back({agent, st.attempts, std::nullopt, 0, false, {}});
  return st.attempts;
}

void task_board::attempt_exited(std::size_t task, int exit_code, int signal) {
  auto& st = states_[task];
  auto& attempt = st.history.back();
  attempt.exit_code = exit_code;
  attempt.signal = signal;
  st.exit_code = exit_code;
  st.pid = 0;
}

void task_board::advance(std::size_t task, retry_kind kind) {
  auto& st = states_[task];
  switch (kind) {
    case retry_kind::cool_down:  // EX_TEMPFAIL: not a failure
      ++st.tempfails;
      break;
    case retry_kind::next_agent:
      ++st.chain_position;
      break;
    case retry_kind::retry:
      ++st.round;
      st.chain_position = 0;
      break;
    case retry_kind::give_up:
      break;
  }
}

std::string task_board::give_up(std::size_t task, std::string_view id) {
  auto& st = states_[task];
  const auto& attempt = st.history.back();
  const auto n = st.history.size();
  st.error = "attempt " + std::to_string(attempt.number) + " (" + attempt.agent +
             "): " + describe(attempt);
  return "task " + std::string(id) + " " + (attempt.timed_out ? "timed out" : "failed") +
         " after " + std::to_string(n) + " attempt" + (n == 1 ? "" : "s") + ": " + st.error;
}

void task_board::report_ended(std::vector<action>& out) {
  std::size_t kept = 0;
  for (const auto task : dirty_) {
    if (is_terminal(states_[task].status)) {
      out.emplace_back(task_changed_action{task});
      is_dirty_[task] = false;
    } else {
      dirty_[kept++] = task;
    }
  }
  dirty_.resize(kept);
}

void task_board::report_changes(std::vector<action>& out) {
  if (group_dirty_) {
    out.emplace_back(group_changed_action{});
    group_dirty_ = false;
  }
  for (const auto task : dirty_) {
    out.emplace_back(task_changed_action{task});
    is_dirty_[task] = false;
  }
  dirty_.clear();
}

}  // namespace maestro::core
