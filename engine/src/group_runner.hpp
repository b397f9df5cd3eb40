#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <maestro/coordinator.hpp>
#include <maestro/core/config.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/core/task.hpp>
#include <maestro/ports/clock.hpp>
#include <maestro/ports/launcher.hpp>
#include <maestro/ports/state_store.hpp>
#include <maestro/ports/status_sink.hpp>
#include <maestro/ports/task_source.hpp>
#include <maestro/ports/test_runner.hpp>
#include <maestro/ports/tracker.hpp>
#include <maestro/ports/workspace.hpp>

namespace maestro::detail {

/// What every group of one coordinator shares: the configuration and the
/// ports, the runtime's only way out.
struct runtime_context {
  const core::config* config = nullptr;
  std::filesystem::path workdir;
  std::filesystem::path state_dir;
  coordinator_ports ports;
  /// Null: nothing reported.
  status_sink* sink = nullptr;
  std::vector<std::string> base_environment;
  /// This engine run's nonce (`group_ref::run_nonce`).
  std::string run_nonce;
};

/// Waits for `d` on `clock` (a test's clock moves by hand).
boost::asio::awaitable<void> pause(engine_clock& clock, core::clock_time::duration d);

/// A refresh or test command in flight. Its time limit and kill sequence
/// are the core's (command timers, `signal_command_action`).
struct command_run {
  child_handle child;
};

/// One group to run.
struct group_request {
  std::string group_id;
  std::string group_name;  ///< the group's NAME, or `_sequential`
  bool parallel = true;
  /// The source's records, in machine order; the coordinator owns them and
  /// outlives the runner.
  std::vector<const core::task*> tasks;
  /// The machine's tasks; moved into the machine.
  std::vector<core::group_task> machine_tasks;
  /// The epics closed after this group's tasks; moved into the machine.
  std::vector<core::group_epic> epics;
  core::group_settings settings;
  group_record record;
  /// Ids the source shows closed when the group starts; handed to the task
  /// source's watch, which reports the ids closed since.
  std::unordered_set<std::string> closed_in_source;
};

/// The runtime of one group: one coroutine on a strand that awaits the next
/// event, hands it to the core, and carries out the actions. Producers
/// (child exits, timers, the tracker, `stop`) only push events; the queue is
/// unbounded so that a producer never waits, and a timer that never expires
/// serves as the coroutine's wake-up.
class group_runner {
 public:
  /// A group of its own: the runner owns its machine and its event loop
  /// (`run`).
  group_runner(boost::asio::any_io_executor strand, const runtime_context& context,
               group_request request);
  /// A group of a run: the run's scheduler owns its machine (`attach`)
  /// and hands its actions to `execute`; the runner's events go to `post`
  /// (on the strand). The caller calls `open_store`, `attach`, `begin`,
  /// then `end` once the machine has finished. `request.machine_tasks` and
  /// `request.epics` are not used (the scheduler builds the machine).
  group_runner(boost::asio::any_io_executor strand, const runtime_context& context,
               group_request request, std::function<void(core::event_body)> post);
  group_runner(const group_runner&) = delete;
  group_runner& operator=(const group_runner&) = delete;
  ~group_runner();

  /// Runs the group to its terminal state. Must be awaited on the strand.
  /// A cancellation of the awaiting operation stops the group (terminal
  /// cancellation: at once; otherwise gracefully) and still completes only
  /// when every child has exited.
  boost::asio::awaitable<core::group_status> run();

  /// Asks the group to stop. Call on the strand.
  void stop(core::stop_mode mode, std::string reason);

  /// Opens the group's state store. Throws when it cannot.
  void open_store();
  /// The machine of a group of a run, once the scheduler made it.
  void attach(const core::group_machine& machine);
  /// Writes the group's first state and watches the task source.
  void begin();
  /// Carries out one of the machine's actions.
  void execute(const core::action& a);
  /// Once the machine has finished: writes the terminal state (retrying
  /// for a few seconds) and reports the end.
  boost::asio::awaitable<core::group_status> end();

  [[nodiscard]] const core::group_machine& machine() const noexcept { return *machine_; }

 private:
  using command_done = std::function<void(const exit_info&)>;

  void push(core::event_body body);
  /// A function that pushes an event from a port's handler, which may run
  /// before the port's call returns (inside `execute`) or after the runner
  /// ended (then it does nothing).
  [[nodiscard]] std::function<void(core::event_body)> pusher();
  /// Claims the task first when the tracker holds claims and it is not
  /// claimed yet, then spawns it.
  void launch(const core::launch_action& a);
  /// Readies the attempt's workspace (its own worktree under
  /// `workspace: worktree`), then spawns it there.
  void prepare(const core::launch_action& a);
  void spawn(const core::launch_action& a, const std::filesystem::path& dir);
  [[nodiscard]] bool isolated() const noexcept {
    return context_.ports.workspaces != nullptr && context_.ports.workspaces->isolated();
  }
  [[nodiscard]] attempt_ref attempt_of(std::size_t task, std::uint32_t attempt) const;
  /// A port call's handler (workspace, launcher): `f`, called while the runner lives.
  template <class F>
  auto port_call(F f);
  /// Readies what the launcher needs for the group's agents (a cluster's
  /// allocation), then `prepare`s the launch.
  void reserve(const core::launch_action& l);
  /// Lets go of it once no agent of the group can launch any more.
  void release_reservation();
  void integrate(const core::integrate_action& a);
  void discard(const core::discard_workspace_action& a);
  void integrate_group();
  /// Runs the test command (or reports that there is none) in `dir`.
  void run_tests_in(const std::filesystem::path& dir);
  void close_tasks(const core::close_tasks_action& c);
  void release_claims(const core::release_claims_action& r);
  void set_timer(const core::timer_id& id, core::clock_time deadline);
  void start_command(const std::vector<std::string>& argv, std::string_view log,
                     const command_done& done, const std::filesystem::path& dir = {});
  void stop_command(core::kill_signal signal);
  void run_tests();
  void watch_source();
  [[nodiscard]] std::string wall_time(core::clock_time t) const;
  launch_spec make_spec(std::size_t task, const std::string& agent, std::uint32_t attempt,
                        const std::filesystem::path& dir) const;

  /// Tries at writing the terminal state, 250 ms apart.
  static constexpr int terminal_write_attempts = 12;

  boost::asio::any_io_executor strand_;
  const runtime_context& context_;
  /// Whether `reserve` was called (and `release` is owed), and why it
  /// failed when it did.
  bool reserved_ = false;
  std::string reserve_error_;
  group_request request_;
  std::unique_ptr<core::group_machine> own_;  // a group of its own
  const core::group_machine* machine_;
  std::function<void(core::event_body)> post_;  // a group of a run
  std::unique_ptr<state_store> store_;
  std::deque<core::event> queue_;
  boost::asio::steady_timer wake_;
  bool waiting_ = false;
  bool finished_ = false;
  std::map<core::timer_id, std::unique_ptr<engine_clock::alarm>> timers_;
  std::vector<std::optional<std::pair<std::uint32_t, child_handle>>> children_;
  std::optional<command_run> command_;
  std::unique_ptr<task_source::subscription> watch_;
  // Claims (a tracker that holds them): per task, claimed by this run; and
  // the attempts whose claim is under way, with whether the core asked to
  // signal them meanwhile (they are then not spawned).
  struct pending_claim {
    std::uint32_t attempt = 0;
    bool stopped = false;
  };
  enum class claim : std::uint8_t {
    none,
    maybe,  // a claim failed or timed out: bd may have made it all the same
    held
  };
  std::vector<claim> claimed_;
  std::map<std::size_t, pending_claim> claiming_;  // claimed, or its workspace readied
  // Launches waiting for the launcher's `async_reserve` (an allocation
  // being granted), by task: their attempt. A stop ends them at once.
  std::map<std::size_t, std::uint32_t> reserving_;
  // The test phase's workspace is being readied; a stop meanwhile means the
  // test command is not started.
  bool tests_pending_ = false;
  bool tests_stopped_ = false;
  bool state_failed_ = false;  // the store reported a failed write
  // The tracker's answer may come after the runner (it should not: the
  // machine waits for it): it holds a weak_ptr to this and does nothing
  // once it has expired.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace maestro::detail
