#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace maestro {

/// One attempt of one task, as the workspace port names it.
struct attempt_ref {
  std::string group_id;
  std::string task_id;
  std::string title;
  std::uint32_t attempt = 0;
};

/// Where a child runs: its working directory and, in a git worktree, the
/// branch checked out there (empty in a shared workspace).
struct workspace_dir {
  std::filesystem::path dir;
  std::string branch;
};

/// The workspace port (SPEC section 11): where each attempt runs, how its
/// work reaches its group, and how a group's tested work reaches the run's
/// integration branch. `shared` runs everything in the engine's working
/// directory; `worktree` gives every attempt a git worktree of its own.
///
/// Every handler is called once, on the runtime's strand, never before the
/// call returns. An empty `error` means success. The runtime never calls
/// `async_integrate` or `async_discard` for an attempt whose process group
/// may still run (it is killed first), and ends each operation with
/// `async_drain`.
class workspace {
 public:
  using done_handler = std::function<void(std::string error)>;
  using dir_handler = std::function<void(workspace_dir where, std::string error)>;

  workspace() = default;
  workspace(const workspace&) = delete;
  workspace& operator=(const workspace&) = delete;
  virtual ~workspace() = default;

  /// Whether attempts get workspaces of their own, whose work is merged
  /// (`group_settings::integrate`).
  [[nodiscard]] virtual bool isolated() const noexcept = 0;

  /// Before a run, before anything is created: checks the preconditions
  /// (a repository whose tracked files are unmodified, naming those that
  /// are not). An error refuses the run.
  virtual void async_check(done_handler done) = 0;

  /// Before `group_id`'s first launch, with its lock held: readies the
  /// integration branch and the group's branch (made from the integration
  /// tip, or brought up to it when it exists). A `fresh` start (not a
  /// resume) first removes what an earlier run of the group kept. An error
  /// refuses the group.
  virtual void async_open_group(const std::string& group_id, bool fresh, done_handler done) = 0;

  /// A fresh workspace for an attempt, from the group's tip.
  virtual void async_prepare(const attempt_ref& a, dir_handler done) = 0;

  /// An attempt that exited 0: commits what it left and merges it into its
  /// group's branch, then removes its workspace. A conflict leaves the
  /// group's branch as it was and names the files in `error`; the
  /// workspace is then treated as `async_discard` does.
  virtual void async_integrate(const attempt_ref& a, done_handler done) = 0;

  /// An attempt that failed (or was stopped): its workspace is kept
  /// (`keep_failed`) or removed.
  virtual void async_discard(const attempt_ref& a, done_handler done) = 0;

  /// The test phase's workspace: the integration tip merged into the
  /// group's branch, checked out on its own. A conflict names the files.
  virtual void async_prepare_tests(const std::string& group_id, dir_handler done) = 0;

  /// After a passed test phase: the integration branch is moved to what
  /// was tested.
  virtual void async_integrate_group(const std::string& group_id, done_handler done) = 0;

  /// The group ended: its test workspace is removed (kept with
  /// `keep_failed` when the group did not complete).
  virtual void async_close_group(const std::string& group_id, bool completed,
                                 done_handler done) = 0;

  /// Completes once every call made before it has completed: the
  /// runtime's last call, so that an operation of the coordinator completes
  /// with no git command of its own still running.
  virtual void async_drain(done_handler done) = 0;
};

}  // namespace maestro
