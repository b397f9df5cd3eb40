#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <maestro/adapters/local_launcher.hpp>
#include <maestro/core/config.hpp>
#include <maestro/ports/launcher.hpp>

namespace maestro {

/// The name of a Slurm job that runs `task_id` of `group_id` for the engine
/// run `run_nonce`: `maestro-<nonce>-<group>-<task>`, or the group's
/// allocation `maestro-<nonce>-<group>` when `task_id` is empty (SPEC
/// section 8). Characters that Slurm's lists or a shell would split on
/// (blanks, commas, quotes, ...) become `_`.
[[nodiscard]] std::string slurm_job_name(std::string_view run_nonce, std::string_view group_id,
                                         std::string_view task_id = {});

/// `srun_args` as `salloc` takes them: without srun's options that only
/// mean something to a step (`--unbuffered`, `--label`, `--pty`,
/// `--cpu-bind`, `--mpi`, `-o/-e/-i FILE`, ...), with their values, which
/// salloc would refuse.
[[nodiscard]] std::vector<std::string> allocation_args(const std::vector<std::string>& srun_args);

/// The id `salloc` reports in "Granted job allocation N" on its stderr;
/// empty when there is none.
[[nodiscard]] std::string granted_allocation(std::string_view salloc_stderr);

/// Runs agents on a Slurm cluster (SPEC section 8) while the engine still
/// sees one child per task: the child is `srun`, on this machine, which
/// lives as long as the job and exits with the task's code. Everything else
/// (refresh and test commands) runs on this machine, through a
/// `local_launcher` that also starts the `srun`s.
///
/// - `allocation: task`: each agent is `srun -N1 -n1 --job-name=NAME
///   SRUN_ARGS... ARGV...`, a job of its own.
/// - `allocation: group`: the group's first launch takes one allocation,
///   `salloc --no-shell -n SLOTS --job-name=maestro-<nonce>-<group>
///   SRUN_ARGS...`, within `allocation_timeout_s`; each agent is then
///   `srun --jobid=J --overlap -N1 -n1 --job-name=NAME SRUN_ARGS... ARGV...`,
///   a step in it. `release` (the group's end) cancels it.
///
/// Stopping: SIGTERM goes to srun, which cancels its job or step. SIGKILL
/// is never sent to an srun whose job may live: the job (or step) is
/// cancelled with `scancel` first. `salloc`, `squeue` and `scancel` are
/// looked up beside `srun` (the same directory when `srun` is a path).
/// `async_end_leftovers` cancels what a run that is gone left, found by
/// its names.
///
/// Each running agent's job id is looked up with `squeue` by its name
/// shortly after it starts (task mode; in group mode it is the
/// allocation's) and reported through `launch_spec::on_placed`.
class slurm_launcher final : public launcher {
 public:
  /// `executor` runs every handler: give the runtime's strand. `salloc`,
  /// `squeue` and `scancel` run with the engine's environment as it is now
  /// (`SLURM_CONF` and the like).
  slurm_launcher(boost::asio::any_io_executor executor, core::launcher_config config);
  slurm_launcher(const slurm_launcher&) = delete;
  slurm_launcher& operator=(const slurm_launcher&) = delete;
  ~slurm_launcher() override;

  child_handle launch(const launch_spec& spec, exit_handler on_exit,
                      boost::system::error_code& ec) override;
  void signal(const child_handle& child, core::kill_signal signal) override;
  void append_to_log(const std::filesystem::path& log_file, std::string_view text) override;
  /// As on this machine: the cluster's nodes are assumed to see the same
  /// files at the same paths.
  [[nodiscard]] bool can_start(const std::string& program,
                               const std::filesystem::path& workdir) const override;
  [[nodiscard]] std::optional<child_capacity> capacity() const override;
  [[nodiscard]] bool is_leftover(int pgid, std::string_view task_id,
                                 std::string_view group_id) const override;
  /// `srun`, `scancel` and `squeue` (and `salloc` in group mode) must be
  /// found.
  [[nodiscard]] std::string unavailable() const override;
  void async_reserve(const group_ref& group, done_handler done) override;
  void release(const std::string& group_id) override;
  void async_end_leftovers(const group_ref& gone, const std::vector<std::string>& task_ids,
                           done_handler done) override;
  void async_drain(std::function<void()> done) override;

 private:
  /// A running srun of an agent, by its process group.
  struct job {
    std::string name;
    std::string allocation;  ///< group mode: the allocation's id
    std::string job_id;      ///< once known
    std::function<void(std::string)> on_placed;
    bool cancelling = false;
  };
  /// A group's allocation (group mode).
  struct allocation {
    std::string name;
    std::string job_id;  ///< once granted
    bool pending = true;
    std::string error;  ///< why it was not granted
    std::vector<done_handler> waiting;
    std::shared_ptr<std::unordered_set<int>> salloc;  ///< salloc's process group while it runs
  };

  /// What a Slurm client command left.
  struct tool_result {
    int exit_code = -1;  ///< -1: it could not start, or timed out
    std::string out;
    std::string err;  ///< or why it could not start
    bool timed_out = false;
  };
  using tool_handler = std::function<void(tool_result)>;

  /// `tool` (salloc, squeue, scancel) beside `srun`.
  [[nodiscard]] std::string tool(std::string_view name) const;
  /// Runs a Slurm client command (killed after `timeout`). Counted until it
  /// ends, for `async_drain`. `groups` holds its process group meanwhile.
  void run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                tool_handler done,
                const std::shared_ptr<std::unordered_set<int>>& groups = nullptr);
  /// Cancels the jobs (or, with `within`, the steps of job `within`) whose
  /// names are in `names`, found with `squeue`; `done` gets an error or "".
  void cancel_named(std::unordered_set<std::string> names, const std::string& within,
                    std::function<void(std::string)> done);
  /// SIGKILL to an srun: its job or step is cancelled first.
  void kill_job(int pgid);
  void granted(const std::string& group_id, const tool_result& salloc);
  /// The group's allocation is `job_id`, or could not be had (`error`).
  void allocated(const std::string& group_id, std::string job_id, const std::string& error);
  /// Looks up the job ids of the running agents that have none yet.
  void look_up_jobs();
  void schedule_lookup();
  void tool_done();

  boost::asio::any_io_executor executor_;
  core::launcher_config config_;
  std::vector<std::string> environment_;
  local_launcher local_;
  std::unordered_map<int, job> jobs_;
  std::unordered_map<std::string, allocation> allocations_;
  // Job ids not looked up yet (task mode): one squeue for all of them at a
  // time, 50 ms after a launch, then less and less often.
  boost::asio::steady_timer lookup_timer_;
  bool lookup_armed_ = false;
  bool lookup_running_ = false;
  std::chrono::milliseconds lookup_delay_{50};
  int tools_running_ = 0;
  std::vector<std::function<void()>> drained_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace maestro
