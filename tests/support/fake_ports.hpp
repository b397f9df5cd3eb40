#pragma once

// Fakes of the runtime's ports, for tests that drive the real runtime with
// no process, file or real time: a launcher whose children exit when the
// test says, a clock the test moves, a state repository in memory, a
// tracker, a test runner and a workspace that answer as told. Every fake reports on the
// strand it is given, as the ports' contracts require.

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <maestro/ports/clock.hpp>
#include <maestro/ports/launcher.hpp>
#include <maestro/ports/state_store.hpp>
#include <maestro/ports/test_runner.hpp>
#include <maestro/ports/tracker.hpp>
#include <maestro/ports/workspace.hpp>

namespace maestro::testing {

/// A clock that moves only when the test calls `advance`. Due alarms are
/// posted to the strand in deadline order.
class manual_clock final : public engine_clock {
 public:
  explicit manual_clock(boost::asio::any_io_executor strand) : strand_(std::move(strand)) {}

  [[nodiscard]] core::clock_time now() const override { return now_; }
  [[nodiscard]] std::chrono::system_clock::time_point wall(core::clock_time t) const override {
    return std::chrono::system_clock::time_point{} +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch());
  }
  [[nodiscard]] std::unique_ptr<alarm> at(core::clock_time deadline,
                                          std::function<void()> fire) override {
    auto entry = std::make_shared<pending>(pending{deadline, std::move(fire), false});
    armed_.push_back(entry);
    return std::make_unique<handle>(entry);
  }

  /// Moves time on by `d` and posts every alarm that fell due.
  void advance(core::clock_time::duration d) {
    now_ += d;
    std::vector<std::shared_ptr<pending>> due;
    std::erase_if(armed_, [&](const std::weak_ptr<pending>& w) {
      const auto p = w.lock();
      if (!p || p->cancelled) {
        return true;
      }
      if (p->deadline <= now_) {
        due.push_back(p);
        return true;
      }
      return false;
    });
    std::stable_sort(due.begin(), due.end(),
                     [](const auto& a, const auto& b) { return a->deadline < b->deadline; });
    for (auto& p : due) {
      boost::asio::post(strand_, [p] {
        if (!p->cancelled) {
          p->cancelled = true;
          p->fire();
        }
      });
    }
  }

  /// Alarms armed and not yet due or cancelled.
  [[nodiscard]] std::size_t armed() const {
    return static_cast<std::size_t>(std::count_if(armed_.begin(), armed_.end(), [](const auto& w) {
      const auto p = w.lock();
      return p && !p->cancelled;
    }));
  }

 private:
  struct pending {
    core::clock_time deadline;
    std::function<void()> fire;
    bool cancelled = false;
  };
  class handle final : public alarm {
   public:
    explicit handle(std::shared_ptr<pending> p) : p_(std::move(p)) {}
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() override { p_->cancelled = true; }

   private:
    std::shared_ptr<pending> p_;
  };

  boost::asio::any_io_executor strand_;
  core::clock_time now_{std::chrono::hours(1)};
  std::vector<std::weak_ptr<pending>> armed_;
};

/// A launcher whose children run until the test ends them with `exit`.
class fake_launcher final : public launcher {
 public:
  struct child {
    launch_spec spec;
    exit_handler on_exit;
    child_handle handle;
    std::vector<core::kill_signal> signals;
    bool exited = false;
  };

  explicit fake_launcher(boost::asio::any_io_executor strand) : strand_(std::move(strand)) {}

  child_handle launch(const launch_spec& spec, exit_handler on_exit,
                      boost::system::error_code& ec) override {
    ec.clear();
    if (spec.argv.empty() || missing_.contains(spec.argv.front())) {
      ec = make_error_code(boost::system::errc::no_such_file_or_directory);
      return {};
    }
    const int pid = next_pid_++;
    children_.push_back({spec, std::move(on_exit), {pid, pid}, {}, false});
    return {pid, pid};
  }
  void signal(const child_handle& target, core::kill_signal signal) override {
    for (auto& c : children_) {
      if (c.handle.pgid == target.pgid && !c.exited) {
        c.signals.push_back(signal);
      }
    }
  }
  void append_to_log(const std::filesystem::path& log_file, std::string_view text) override {
    logs_[log_file.filename().string()] += std::string(text) + "\n";
  }

  /// Ends child `index` with `code` (128 + signal when `signal` is set).
  void exit(std::size_t index, int code, int signal = 0, std::string output = {}) {
    auto& c = children_.at(index);
    c.exited = true;
    boost::asio::post(strand_, [h = c.on_exit, code, signal, output = std::move(output)] {
      h(exit_info{code, signal, output});
    });
  }
  /// Ends every running child with `code`.
  void exit_all(int code) {
    for (std::size_t i = 0; i < children_.size(); ++i) {
      if (!children_[i].exited) {
        exit(i, code);
      }
    }
  }
  /// Makes launches of `program` fail as a missing binary.
  void make_missing(const std::string& program) { missing_.insert(program); }

  [[nodiscard]] const std::vector<child>& children() const noexcept { return children_; }
  /// The children still running.
  [[nodiscard]] std::size_t running() const {
    return static_cast<std::size_t>(std::count_if(children_.begin(), children_.end(),
                                                  [](const child& c) { return !c.exited; }));
  }
  /// The index of the last child started as `program`; nullopt if none.
  [[nodiscard]] std::optional<std::size_t> last(const std::string& program) const {
    for (std::size_t i = children_.size(); i-- > 0;) {
      if (children_[i].spec.argv.front() == program) {
        return i;
      }
    }
    return std::nullopt;
  }
  [[nodiscard]] const std::map<std::string, std::string>& logs() const noexcept { return logs_; }

 private:
  boost::asio::any_io_executor strand_;
  std::vector<child> children_;
  std::unordered_set<std::string> missing_;
  std::map<std::string, std::string> logs_;
  int next_pid_ = 1000;
};

/// What a memory store saw of its group at the last flush.
struct group_snapshot {
  core::group_status status = core::group_status::pending;
  core::test_status tests = core::test_status::not_run;
  std::vector<core::task_status> tasks;
  std::vector<bool> closed;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::size_t flushes = 0;
  std::size_t task_changes = 0;
  std::string actor;  ///< the record's
};

/// A state repository in memory. `fail_writes` makes every store report a
/// failed write at its first task change, as a full disk would.
class memory_repository final : public state_repository {
 public:
  [[nodiscard]] std::unordered_set<std::string> completed_task_ids() const override {
    return completed;
  }
  [[nodiscard]] std::optional<recorded_group> recorded(std::string_view group_id) const override {
    const auto it = groups.find(std::string(group_id));
    return it == groups.end() ? std::nullopt : std::optional<recorded_group>(it->second);
  }
  [[nodiscard]] std::unordered_map<std::string, replayed_change> replay(
      std::string_view /*group_id*/) const override {
    return {};
  }
  [[nodiscard]] std::unique_ptr<lock> try_lock(std::string_view group_id) override {
    if (locked.contains(std::string(group_id))) {
      return nullptr;
    }
    return std::make_unique<lock>();
  }
  [[nodiscard]] std::string lock_name(std::string_view group_id) const override {
    return "the memory lock of " + std::string(group_id);
  }
  [[nodiscard]] bool recorded_engine_gone(std::string_view /*group_id*/) const override {
    return false;
  }
  [[nodiscard]] std::unique_ptr<state_store> open(group_record record, error_handler on_error,
                                                  written_handler /*on_written*/) override {
    record.dir = "/memory/" + record.group_id;
    auto& snap = snapshots[record.group_id];
    snap = {};
    return std::make_unique<store>(std::move(record), snap,
                                   fail_writes ? std::move(on_error) : error_handler{});
  }

  std::unordered_set<std::string> completed;
  std::map<std::string, recorded_group> groups;
  std::unordered_set<std::string> locked;
  std::map<std::string, group_snapshot> snapshots;
  bool fail_writes = false;

 private:
  class store final : public state_store {
   public:
    store(group_record record, group_snapshot& snap, error_handler fail)
        : record_(std::move(record)), snap_(snap), fail_(std::move(fail)) {}
    void task_changed(const core::group_machine& /*machine*/, std::size_t /*task*/,
                      core::clock_time /*now*/) override {
      ++snap_.task_changes;
      if (fail_) {
        fail_("cannot write the state: no space left on device");
      }
    }
    void group_changed(const core::group_machine& /*machine*/, core::clock_time /*now*/) override {}
    void flush(const core::group_machine& m) override {
      ++snap_.flushes;
      snap_.actor = record_.actor;
      snap_.status = m.status();
      snap_.tests = m.tests();
      snap_.errors = m.errors();
      snap_.warnings = m.warnings();
      snap_.tasks.clear();
      snap_.closed.clear();
      for (std::size_t i = 0; i < m.tasks().size(); ++i) {
        snap_.tasks.push_back(m.state(i).status);
        snap_.closed.push_back(m.state(i).closed_in_tracker);
      }
    }
    [[nodiscard]] const group_record& record() const noexcept override { return record_; }

   private:
    group_record record_;
    group_snapshot& snap_;
    error_handler fail_;
  };
};

/// A tracker that closes what it is asked to, except the ids in `refuse`.
/// With `claimant` set it holds claims: `held` ids belong to another actor,
/// `claim_errors` are refused; with `hold_claims` every claim waits until
/// the test calls `answer_claims`.
class fake_tracker final : public tracker {
 public:
  [[nodiscard]] std::string actor() const override { return claimant; }
  void async_claim(const std::string& id, claim_handler done) override {
    claims.push_back(id);
    claim_result r;
    if (const auto h = held.find(id); h != held.end()) {
      r = {claim_outcome::held, h->second};
    } else if (const auto e = claim_errors.find(id); e != claim_errors.end()) {
      r = {claim_outcome::failed, e->second};
    }
    if (hold_claims) {
      waiting.emplace_back(std::move(done), std::move(r));
      return;
    }
    done(std::move(r));
  }
  /// Answers the claims held back, in order.
  void answer_claims() {
    auto all = std::move(waiting);
    waiting.clear();
    for (auto& [done, r] : all) {
      done(std::move(r));
    }
  }
  void async_release(std::vector<release_request> tasks, release_handler done) override {
    for (auto& t : tasks) {
      released.push_back(std::move(t));
    }
    done({});
  }
  std::string claimant;
  std::map<std::string, std::string> held;
  std::map<std::string, std::string> claim_errors;
  bool hold_claims = false;
  std::vector<std::pair<claim_handler, claim_result>> waiting;
  std::vector<std::string> claims;
  std::vector<release_request> released;

  void async_close(const std::vector<std::string>& ids, close_handler done) override {
    std::vector<std::string> closed;
    std::vector<std::string> errors;
    for (const auto& id : ids) {
      if (refuse.contains(id)) {
        errors.push_back(id + ": " + refuse.at(id));
      } else {
        closed.push_back(id);
      }
    }
    asked.insert(asked.end(), ids.begin(), ids.end());
    done(std::move(closed), std::move(errors));
  }
  std::map<std::string, std::string> refuse;
  std::vector<std::string> asked;
};

/// A test runner that finds `command` and reads exit 0 as passed.
class fake_test_runner final : public test_runner {
 public:
  [[nodiscard]] found_test_command detect(const std::filesystem::path& /*workdir*/) override {
    return {command, command.empty() ? "no test suite found" : "the fake suite"};
  }
  [[nodiscard]] core::test_status classify(const std::vector<std::string>& /*argv*/, int exit_code,
                                           std::string_view /*output*/) override {
    return exit_code == 0 ? core::test_status::passed : core::test_status::failed;
  }
  std::vector<std::string> command{"run-tests"};
};

/// A workspace that isolates attempts in directories it only names
/// (`/ws/<T>.<N>`, the tests' `/ws/_test`), and records every call, in
/// order, as one line (`prepare t1.1`, `integrate t1.1`, ...). Prepares are
/// answered at once, or when the test says (`hold_prepares`); an attempt
/// of a task in `conflicts` does not merge.
class fake_workspace final : public workspace {
 public:
  explicit fake_workspace(boost::asio::any_io_executor strand) : strand_(std::move(strand)) {}

  [[nodiscard]] bool isolated() const noexcept override { return true; }
  void async_check(done_handler done) override { answer("check", std::move(done)); }
  void async_open_group(const std::string& group_id, bool fresh, done_handler done) override {
    answer("open " + group_id + (fresh ? " fresh" : ""), std::move(done));
  }
  void async_prepare(const attempt_ref& a, dir_handler done) override {
    const auto name = a.task_id + "." + std::to_string(a.attempt);
    calls.push_back("prepare " + name);
    prepares_.emplace_back([done = std::move(done), name] {
      done({"/ws/" + name, "maestro/task/g/" + name}, {});
    });
    if (!hold_prepares) {
      answer_prepares();
    }
  }
  void async_integrate(const attempt_ref& a, done_handler done) override {
    const auto name = a.task_id + "." + std::to_string(a.attempt);
    answer("integrate " + name, std::move(done),
           conflicts.contains(a.task_id) ? "merge conflict in maestro/group/g: f.txt" : "");
  }
  void async_discard(const attempt_ref& a, done_handler done) override {
    answer("discard " + a.task_id + "." + std::to_string(a.attempt), std::move(done));
  }
  void async_prepare_tests(const std::string& group_id, dir_handler done) override {
    calls.push_back("tests " + group_id);
    tests_ = [done = std::move(done)] { done({"/ws/_test", {}}, {}); };
    if (!hold_tests) {
      answer_tests();
    }
  }
  void async_integrate_group(const std::string& group_id, done_handler done) override {
    answer("integrate_group " + group_id, std::move(done));
  }
  void async_close_group(const std::string& group_id, bool completed, done_handler done) override {
    answer("close " + group_id + (completed ? " completed" : ""), std::move(done));
  }
  void async_drain(done_handler done) override { answer("drain", std::move(done)); }
  /// Answers the prepares held so far.
  void answer_prepares() {
    for (auto& p : std::exchange(prepares_, {})) {
      boost::asio::post(strand_, std::move(p));
    }
  }

  /// Answers the test phase's prepare, when held.
  void answer_tests() {
    if (tests_) {
      boost::asio::post(strand_, std::exchange(tests_, {}));
    }
  }

  std::vector<std::string> calls;
  bool hold_prepares = false;
  bool hold_tests = false;
  std::unordered_set<std::string> conflicts;

 private:
  void answer(std::string call, done_handler done, std::string error = {}) {
    calls.push_back(std::move(call));
    boost::asio::post(strand_, [done = std::move(done), error = std::move(error)] { done(error); });
  }
  boost::asio::any_io_executor strand_;
  std::vector<std::function<void()>> prepares_;
  std::function<void()> tests_;
};

}  // namespace maestro::testing
