// The wiring: the one file that names both the runtime and the adapters.
// It builds the default ports for the coordinator's convenience
// constructor. It is a target of its own (maestro::default_ports), so an
// embedder that brings every port leaves it, and the adapters, out.

#include <memory>
#include <utility>

#include <boost/asio/strand.hpp>

#include <maestro/adapters/asio_clock.hpp>
#include <maestro/adapters/file_state_repository.hpp>
#include <maestro/adapters/file_task_source.hpp>
#include <maestro/adapters/local_launcher.hpp>
#include <maestro/adapters/slurm_launcher.hpp>
#include <maestro/adapters/state_only_tracker.hpp>
#include <maestro/adapters/test_detection.hpp>
#include <maestro/adapters/workspace_adapters.hpp>
#include <maestro/coordinator.hpp>

namespace maestro {

coordinator::coordinator(const boost::asio::any_io_executor& executor, core::config config,
                         std::vector<core::task> tasks, coordinator_options options)
    : coordinator(boost::asio::make_strand(executor), std::move(config), std::move(tasks),
                  std::move(options)) {}

coordinator::coordinator(executor_type strand, core::config config, std::vector<core::task> tasks,
                         coordinator_options options)
    : coordinator(fields_only{}, std::move(strand), std::move(config), std::move(tasks),
                  std::move(options)) {
  coordinator_ports ports;
  own_clock_ = std::make_unique<asio_clock>(strand_);
  ports.clock = own_clock_.get();
  if (options_.process_launcher == nullptr) {
    if (config_.launcher.kind == core::launcher_kind::slurm) {
      own_launcher_ = std::make_unique<slurm_launcher>(strand_, config_.launcher);
    } else {
      own_launcher_ = std::make_unique<local_launcher>(strand_);
    }
  }
  ports.process_launcher =
      options_.process_launcher != nullptr ? options_.process_launcher : own_launcher_.get();
  own_state_ = std::make_unique<file_state_repository>(strand_, state_dir_);
  ports.state = own_state_.get();
  if (options_.task_tracker == nullptr) {
    own_tracker_ = std::make_unique<state_only_tracker>();
  }
  ports.task_tracker =
      options_.task_tracker != nullptr ? options_.task_tracker : own_tracker_.get();
  own_tests_ = std::make_unique<detecting_test_runner>();
  ports.tests = own_tests_.get();
  if (options_.watched_port != nullptr) {
    ports.source = options_.watched_port;
  } else if (!options_.watched_source.empty()) {
    own_source_ = std::make_unique<file_task_source>(strand_, options_.watched_source);
    ports.source = own_source_.get();
  }
  if (config_.workspace.kind == core::workspace_kind::worktree) {
    own_workspace_ = std::make_unique<git_worktree_workspace>(
        strand_, options_.workdir, state_dir_, config_.workspace,
        ports.process_launcher->inherited_environment());
  } else {
    own_workspace_ = std::make_unique<shared_workspace>(strand_, options_.workdir);
  }
  ports.workspaces = own_workspace_.get();
  wire(ports);
}

}  // namespace maestro
