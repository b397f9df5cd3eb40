#pragma once

// What the adapters that start children share (local_launcher, bd_client):
// posix_spawn set up for a child of the engine, and its adoption into a
// pidfd-watched process. Internal to the adapters.

#include <memory>
#include <spawn.h>
#include <string>
#include <sys/types.h>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/system/error_code.hpp>

namespace maestro::detail {

/// errno as an error code.
[[nodiscard]] boost::system::error_code last_error();

/// `items` as posix_spawn wants them: pointers, ending in a null one. The
/// strings must outlive the result.
[[nodiscard]] std::vector<char*> c_strings(const std::vector<std::string>& items);

/// posix_spawn's attribute and file-action objects, destroyed on scope
/// exit, set up for a child of the engine: a process group of its own, no
/// signal blocked and every signal at its default (whatever the engine
/// blocks or handles). The caller adds the file actions.
struct spawn_setup {
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  spawn_setup();
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
  ~spawn_setup();
};

/// Ends a child that must not run unobserved: SIGKILL to its process
/// group, then reaps it.
void end_child(pid_t pid);

using watched_process = boost::process::v2::basic_process<boost::asio::any_io_executor>;

/// Watches the child `pid` through a pidfd on `executor`. A child that
/// cannot be watched (descriptors or memory ran out) must not run
/// unobserved: its process group is killed and it is reaped, and the result
/// is null with `ec` saying why.
[[nodiscard]] std::shared_ptr<watched_process> watch_child(
    const boost::asio::any_io_executor& executor, pid_t pid, boost::system::error_code& ec);

}  // namespace maestro::detail
