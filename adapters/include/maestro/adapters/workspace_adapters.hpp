#pragma once

// The workspace port's two adapters (SPEC section 11): `shared`, where
// every child runs in the engine's working directory, and `worktree`, a git
// worktree per attempt whose work is merged per group and integrated
// through a tested merge queue.

#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>

#include <maestro/core/config.hpp>
#include <maestro/ports/workspace.hpp>

namespace maestro {

/// `workspace.kind: "shared"`: every child runs in `workdir`, and nothing
/// is merged (the behaviour before workspaces existed).
class shared_workspace final : public workspace {
 public:
  /// Handlers run on `executor` (give the runtime's strand).
  shared_workspace(boost::asio::any_io_executor executor, std::filesystem::path workdir);

  [[nodiscard]] bool isolated() const noexcept override { return false; }
  void async_check(done_handler done) override;
  void async_open_group(const std::string& group_id, bool fresh, done_handler done) override;
  void async_prepare(const attempt_ref& a, dir_handler done) override;
  void async_integrate(const attempt_ref& a, done_handler done) override;
  void async_discard(const attempt_ref& a, done_handler done) override;
  void async_prepare_tests(const std::string& group_id, dir_handler done) override;
  void async_integrate_group(const std::string& group_id, done_handler done) override;
  void async_close_group(const std::string& group_id, bool completed, done_handler done) override;
  void async_drain(done_handler done) override;

 private:
  void post_done(done_handler done) const;
  boost::asio::any_io_executor executor_;
  std::filesystem::path workdir_;
};

/// A worktree that is still on disk: an attempt's, or the test phase's
/// (`task_id` empty, `attempt` 0, no branch: it is detached).
struct kept_worktree {
  std::string task_id;
  std::uint32_t attempt = 0;
  std::filesystem::path path;
  std::string branch;
};

/// Where `worktree` puts things, from the names alone (SPEC section 11):
/// shared by the adapter, `status` and `--dry-run`.
struct worktree_layout {
  std::filesystem::path state_dir;  ///< absolute
  std::string integration_branch;

  /// `<state_dir>/worktrees`.
  [[nodiscard]] std::filesystem::path root() const { return state_dir / "worktrees"; }
  /// `<state_dir>/worktrees/<G>`, the group's name encoded.
  [[nodiscard]] std::filesystem::path group_dir(const std::string& group_id) const;
  /// `<state_dir>/worktrees/<G>/<T>.<N>`.
  [[nodiscard]] std::filesystem::path attempt_dir(const attempt_ref& a) const;
  /// `<state_dir>/worktrees/<G>/_test`: the test phase's worktree.
  [[nodiscard]] std::filesystem::path test_dir(const std::string& group_id) const;
  /// `maestro/group/<G>`, encoded into a valid ref name.
  [[nodiscard]] static std::string group_branch(const std::string& group_id);
  /// `maestro/task/<G>/<T>.<N>`, encoded into a valid ref name.
  [[nodiscard]] static std::string attempt_branch(const attempt_ref& a);
  /// The worktrees of `group_id` on disk, in name order.
  [[nodiscard]] std::vector<kept_worktree> kept(const std::string& group_id) const;
  /// `kept(group_id)` as `status --json` shows it: `[{"task_id", "attempt",
  /// "path", "branch"}]` (`task_id` and `branch` null for the tests').
  [[nodiscard]] boost::json::array kept_json(const std::string& group_id) const;
};

/// `workspace.kind: "worktree"`: git runs as asynchronous child processes
/// (porcelain output, `-z`), one at a time, each with a time limit; the
/// event loop never waits on it. Hooks and signing are off for every
/// command, commits carry the identity `maestro-async`, and the user's
/// checkout, its index and its branches are never written: merges are made
/// with `git merge-tree --write-tree` and `git commit-tree`, and refs move
/// with `git update-ref OLD NEW`, which refuses a ref that moved meanwhile.
class git_worktree_workspace final : public workspace {
 public:
  /// `workdir` is the engine's working directory (inside the repository);
  /// `environment` the engine's, which git commands inherit without its
  /// `GIT_*` variables. Handlers run on `executor` (the runtime's strand).
  git_worktree_workspace(boost::asio::any_io_executor executor, std::filesystem::path workdir,
                         const std::filesystem::path& state_dir, core::workspace_config config,
                         const std::vector<std::string>& environment,
                         std::chrono::milliseconds git_timeout = std::chrono::minutes(10));
  git_worktree_workspace(const git_worktree_workspace&) = delete;
  git_worktree_workspace& operator=(const git_worktree_workspace&) = delete;
  /// Kills the git commands still running.
  ~git_worktree_workspace() override;

  [[nodiscard]] bool isolated() const noexcept override { return true; }
  void async_check(done_handler done) override;
  void async_open_group(const std::string& group_id, bool fresh, done_handler done) override;
  void async_prepare(const attempt_ref& a, dir_handler done) override;
  void async_integrate(const attempt_ref& a, done_handler done) override;
  void async_discard(const attempt_ref& a, done_handler done) override;
  void async_prepare_tests(const std::string& group_id, dir_handler done) override;
  void async_integrate_group(const std::string& group_id, done_handler done) override;
  void async_close_group(const std::string& group_id, bool completed, done_handler done) override;
  /// Its turn comes after every call before it: they have all ended.
  void async_drain(done_handler done) override;

 private:
  struct git_result {
    int code = -1;
    std::string out;
    std::string err;
  };
  /// Runs `git ARGS` in `dir`; throws when git cannot be started.
  boost::asio::awaitable<git_result> git(std::vector<std::string> args,
                                         const std::filesystem::path& dir);
  /// The same; a non-zero exit throws, with `what` and git's message.
  boost::asio::awaitable<std::string> must(std::vector<std::string> args,
                                           const std::filesystem::path& dir,
                                           const std::string& what);
  /// The commit a ref points at, or empty when it does not exist.
  boost::asio::awaitable<std::string> tip(const std::string& ref);
  boost::asio::awaitable<bool> is_ancestor(const std::string& a, const std::string& b);
  /// Merges `theirs` into `ours` (commits) without a worktree: the merge
  /// commit, or throws naming the conflicting files.
  boost::asio::awaitable<std::string> merge(const std::string& ours, const std::string& theirs,
                                            const std::string& message,
                                            const std::string& conflict_prefix);
  boost::asio::awaitable<void> remove_worktree(const std::filesystem::path& dir,
                                               const std::string& branch);
  boost::asio::awaitable<void> ready_integration_branch();
  /// Where a child runs in `worktree`: where the engine runs within the
  /// repository (`git rev-parse --show-prefix`).
  [[nodiscard]] std::filesystem::path within(const std::filesystem::path& worktree) const;

  /// One operation at a time touches the repository.
  boost::asio::awaitable<void> acquire();
  void release();
  /// Awaits `work()` in its turn.
  template <class Op>
  auto in_turn(Op work) -> decltype(work());
  /// Runs the coroutine `op` makes in its turn, then `done` with what it
  /// threw, if anything (and what it returned).
  template <class Op, class Done>
  void start(Op op, Done done);

  boost::asio::any_io_executor executor_;
  std::filesystem::path workdir_;
  worktree_layout layout_;
  core::workspace_config config_;
  std::vector<std::string> environment_;
  std::chrono::milliseconds git_timeout_;
  std::shared_ptr<std::unordered_set<int>> running_ = std::make_shared<std::unordered_set<int>>();
  bool busy_ = false;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiting_;
  /// Per attempt (its branch): the group's tip it started from.
  std::map<std::string, std::string> started_from_;
  /// Per group: what its test phase tested, and the integration tip it
  /// was merged with.
  struct tested {
    std::string commit;
    std::string integration;
  };
  std::map<std::string, tested> tested_;
  /// The engine's directory within the repository, `dir/` or empty.
  std::string prefix_;
};

}  // namespace maestro
