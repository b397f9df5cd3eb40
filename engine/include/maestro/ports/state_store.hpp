#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <maestro/core/group_machine.hpp>

namespace maestro {

/// A state file that exists but cannot be used: not JSON, the wrong
/// shape, a symlink. `what()` names the file and the reason.
class state_damaged : public std::runtime_error {
 public:
  state_damaged(const std::filesystem::path& file, const std::string& reason)
      : std::runtime_error(file.string() + ": damaged: " + reason), file_(file), reason_(reason) {}
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::filesystem::path file_;
  std::string reason_;
};

/// What a group's state records besides the machine's own state.
struct group_record {
  std::string group_id;
  std::string group_name;
  bool parallel = true;
  /// The group's place (its directory, for the file store); the
  /// repository sets it when it opens the store.
  std::filesystem::path dir;
  /// Per task, in the machine's order: its skills, and its log file's name
  /// under `dir/logs` (a name, not a path: a path costs far more memory,
  /// and a group may hold 100,000 tasks).
  std::vector<std::vector<std::string>> skills;
  std::vector<std::string> log_names;

  /// Task `task`'s log file.
  [[nodiscard]] std::filesystem::path log_path(std::size_t task) const {
    return dir / "logs" / log_names[task];
  }
  /// The log of the group's own command `name` (`_refresh.log`, ...).
  [[nodiscard]] std::filesystem::path command_log_path(std::string_view name) const {
    return dir / "logs" / name;
  }
  int max_concurrent = 0;
  std::optional<int> group_limit;
  std::map<std::string, int> agent_limits;
  int engine_pid = 0;
  /// The engine run's nonce (`group_ref::run_nonce`).
  std::string run_nonce;
  std::string source;
  /// Who claims the group's tasks in the tracker; empty when it has no claims.
  std::string actor;
  /// Kept from an earlier run of the group (resume); now when empty.
  std::string created_at;
};

/// The state port of one run of one group: where the runtime records its
/// progress. Calls come from the runtime's strand, in the order the changes
/// happened.
class state_store {
 public:
  state_store() = default;
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;
  virtual ~state_store() = default;

  /// `task` of `machine` changed (status, pid, attempts, ...).
  virtual void task_changed(const core::group_machine& machine, std::size_t task,
                            core::clock_time now) = 0;
  /// The group's phase, status, errors or test status changed.
  virtual void group_changed(const core::group_machine& machine, core::clock_time now) = 0;
  /// Writes everything recorded so far, before returning. Throws
  /// `std::runtime_error` when it cannot.
  virtual void flush(const core::group_machine& machine) = 0;
  /// What the store records besides the machine's state: the log paths.
  [[nodiscard]] virtual const group_record& record() const noexcept = 0;
};

/// One task as an earlier run recorded it.
struct recorded_task {
  std::string id;
  core::task_status status = core::task_status::pending;
  /// The agents of its attempts, in order.
  std::vector<std::string> agents;
  /// Its process group while `running`, 0 otherwise.
  int pgid = 0;
};

/// What the state holds of a group (`metadata.json`, for the file store).
struct recorded_group {
  core::group_status status = core::group_status::pending;
  std::string created_at;
  /// The engine that ran it last; 0 when unknown.
  int engine_pid = 0;
  /// That engine run's nonce; empty when unknown.
  std::string run_nonce;
  std::vector<recorded_task> tasks;
};

/// A task's last change after the recorded state (the lines of
/// `events.jsonl` after `metadata.json`, for the file store): what a
/// SIGKILL of the engine may have left unrecorded there.
struct replayed_change {
  core::task_status status = core::task_status::pending;
  std::uint32_t attempt = 0;
  std::string agent;  ///< the agent of `attempt`, when known
  int pgid = 0;       ///< while `running`
};

/// The state repository port: every group's state, for planning, locking
/// and resuming, and the factory of each run's `state_store`. Its members
/// throw `state_damaged` for state that exists but cannot be used; the
/// runtime refuses such a group.
class state_repository {
 public:
  /// Told when the store cannot write (a full disk): once per failure.
  using error_handler = std::function<void(const std::string&)>;
  /// Told after each write of the group's state: its size, and the time the
  /// store spent since the previous report.
  using written_handler = std::function<void(std::size_t bytes, std::chrono::nanoseconds spent)>;

  /// Held while a group runs; destroying it lets go.
  class lock {
   public:
    lock() = default;
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;
    virtual ~lock() = default;
  };

  state_repository() = default;
  state_repository(const state_repository&) = delete;
  state_repository& operator=(const state_repository&) = delete;
  virtual ~state_repository() = default;

  /// Ids of tasks recorded `completed` in groups that did not fail: a
  /// dependency on them is satisfied.
  [[nodiscard]] virtual std::unordered_set<std::string> completed_task_ids() const = 0;
  /// The group's recorded state; nullopt when it has none.
  [[nodiscard]] virtual std::optional<recorded_group> recorded(std::string_view group_id) const = 0;
  /// The changes recorded after `recorded(group_id)`, per task id.
  [[nodiscard]] virtual std::unordered_map<std::string, replayed_change> replay(
      std::string_view group_id) const = 0;
  /// Makes the group's place and takes its lock; null when another engine
  /// holds it.
  [[nodiscard]] virtual std::unique_ptr<lock> try_lock(std::string_view group_id) = 0;
  /// The group's lock as a person finds it, for messages (`lock <path>`).
  [[nodiscard]] virtual std::string lock_name(std::string_view group_id) const = 0;
  /// True when the engine the group's state records is gone: a lock it
  /// still holds is about to be let go (a child it was spawning holds it
  /// until its exec).
  [[nodiscard]] virtual bool recorded_engine_gone(std::string_view group_id) const = 0;
  /// A store for one run of the group, under its lock. Sets `record.dir`.
  [[nodiscard]] virtual std::unique_ptr<state_store> open(group_record record,
                                                          error_handler on_error,
                                                          written_handler on_written) = 0;
};

}  // namespace maestro
