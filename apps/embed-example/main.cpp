// maestro-embed-example: a host program that runs the coordinator beside
// work of its own on ONE boost::asio::io_context.
//
//   maestro-embed-example [STATE_DIR]
//
// It plans three tasks of one parallel group, runs that group with
// `async_execute` awaited from a coroutine, and meanwhile runs a heartbeat
// coroutine on the same io_context, to show that the engine neither blocks
// the host nor needs a thread of its own. A custom `status_sink` prints every
// task change. When the group has finished it prints the outcome, stops the
// heartbeat, and exits with the outcome's exit code (0 when the group
// completed).
//
// STATE_DIR defaults to a fresh temporary directory, removed at exit.

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <maestro/adapters/config_file.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/coordinator.hpp>
#include <maestro/ports/status_sink.hpp>

namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

/// The engine's configuration, as a host might hold it in memory. Every key
/// is optional; here each task runs `sh -c "sleep 0.2; echo <id>"` (its
/// output goes to the task's log in the state directory) and no test suite
/// is run after the group.
constexpr std::string_view config_json = R"({
  "max_concurrent": 2,
  "agent_defaults": {"command": ["sh", "-c", "sleep 0.2; echo {id}"]},
  "test": {"command": "none"}
})";

/// The tasks: three tasks of the parallel group `demo` (the `[P:Group-NAME]`
/// marker in the title), in the same format as a tasks file.
constexpr std::string_view tasks_json = R"([
  {"id": "demo-1", "title": "[P:Group-demo] Write the parser"},
  {"id": "demo-2", "title": "[P:Group-demo] Write the printer"},
  {"id": "demo-3", "title": "[P:Group-demo] Write the docs"}
])";

/// A status sink that prints each task's status as it changes. The engine
/// calls it on its strand; with one thread running the io_context, that is
/// this thread. `task_changed` also reports changes that keep the status
/// (a pid recorded, a task closed), which this sink leaves out.
class printing_sink final : public maestro::status_sink {
 public:
  void group_started(std::string_view group_id,
                     const maestro::core::group_machine& machine) override {
    std::cout << "  [" << group_id << "] started, " << machine.tasks().size() << " task(s)\n";
    shown_.assign(machine.tasks().size(), maestro::core::task_status::pending);
  }

  void task_changed(std::string_view group_id, const maestro::core::group_machine& machine,
                    std::size_t task) override {
    const auto status = machine.state(task).status;
    if (task < shown_.size() && shown_[task] != status) {
      shown_[task] = status;
      std::cout << "  [" << group_id << "] " << machine.tasks()[task].id << ": "
                << maestro::core::to_string(status) << '\n';
    }
  }

  void group_finished(std::string_view group_id,
                      const maestro::core::group_machine& machine) override {
    std::cout << "  [" << group_id << "] finished: " << maestro::core::to_string(machine.status())
              << '\n';
  }

  void message(maestro::severity /*level*/, std::string_view text) override {
    std::cout << "  engine: " << text << '\n';
  }

 private:
  std::vector<maestro::core::task_status> shown_;  // the last status printed, per task
};

/// The host's own work: a tick every 50 ms until `stop` is called.
class heartbeat {
 public:
  explicit heartbeat(asio::io_context& io) : timer_(io) {}

  /// Ticks until stopped.
  asio::awaitable<void> run() {
    auto next = std::chrono::steady_clock::now();
    for (int tick = 1; !stopped_; ++tick) {
      next += 50ms;
      timer_.expires_at(next);
      // as_tuple: a cancelled wait yields an error code instead of throwing.
      const auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || stopped_) {
        break;
      }
      std::cout << "heartbeat " << tick << '\n';
    }
    std::cout << "heartbeat stopped\n";
  }

  /// Ends `run`. The flag covers a wait that already expired but whose
  /// completion has not run yet, which `cancel` cannot reach.
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  bool stopped_ = false;
};

/// The completion handler for `co_spawn`: an exception escaping a coroutine
/// is rethrown from `io.run()` rather than lost (which `detached` would do).
void rethrow_if_failed(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

/// A fresh directory under the system's temporary directory.
std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "maestro-embed-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory");
  }
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  const bool own_state_dir = argc < 2;
  std::filesystem::path state_dir;
  int exit_code = 2;
  try {
    state_dir = own_state_dir ? make_temp_dir() : std::filesystem::path(argv[1]);

    // Inputs: both parsers are synchronous and throw on bad input.
    auto config = maestro::parse_config(config_json, "embedded config");
    auto document = maestro::parse_task_document(tasks_json, "embedded tasks");

    // The host's io_context. The engine starts no threads of its own: all of
    // its work runs on a strand of the executor given here.
    asio::io_context io;
    printing_sink sink;
    maestro::coordinator_options options;
    options.state_dir = state_dir;
    options.source = "embedded tasks";
    options.sink = &sink;  // borrowed: must outlive the coordinator
    maestro::coordinator coordinator(io.get_executor(), std::move(config),
                                     std::move(document.tasks), std::move(options));
    std::cout << "planned " << coordinator.plan().stages.size() << " stage(s), state in "
              << coordinator.state_dir().string() << '\n';

    heartbeat beat(io);
    asio::co_spawn(io, beat.run(), rethrow_if_failed);

    // The group's id is the marker's NAME. `run_again` lets the example be
    // run twice on the same STATE_DIR; the default refuses a completed group.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          const auto outcome = co_await coordinator.async_execute(
              "demo", maestro::completed_group::run_again, asio::use_awaitable);
          for (const auto& group : outcome.groups) {
            std::cout << "group " << group.group_id << ": "
                      << maestro::core::to_string(group.status) << '\n';
          }
          exit_code = outcome.exit_code();
          std::cout << "exit code " << exit_code << '\n';
          beat.stop();  // the host's work ends with the group here
        },
        rethrow_if_failed);

    // Returns once both coroutines are done.
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "maestro-embed-example: " << e.what() << '\n';
    exit_code = 2;
  }
  if (own_state_dir && !state_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(state_dir, ignored);
  }
  return exit_code;
}
