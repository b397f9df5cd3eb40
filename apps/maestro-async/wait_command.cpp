// `maestro-async wait` and `cancel`: they follow a group from outside its
// engine. Both block in poll(2) on an inotify descriptor (the group's
// directory) and a pidfd (the engine), so they wake only when something
// happens: never on a timer of their own, apart from --timeout.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fmt/core.h>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/unique_fd.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"

namespace maestro::app {
namespace json = boost::json;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

// Reads and discards what the inotify descriptor holds: any event means
// "look again".
void drain(int fd) {
  char buffer[4096];
  while (::read(fd, buffer, sizeof buffer) > 0) {
  }
}

int exit_code_of(const std::string& status) {
  return status == "completed" ? 0 : 1;
}

bool terminal(const std::string& status) {
  return status == "completed" || status == "failed" || status == "incomplete" ||
         status == "cancelled";
}

std::optional<std::string> recorded_status(const fs::path& dir) {
  const auto metadata = read_group_metadata(dir);
  if (!metadata) {
    return std::nullopt;
  }
  auto status = reported_status(*metadata, dir);
  if (status == "interrupted") {
    // The engine writes its terminal state, then lets the lock go: one that
    // ended between the read above and the look at the lock has written
    // it by now, and a second read sees it.
    if (const auto again = read_group_metadata(dir)) {
      status = reported_status(*again, dir);
    }
  }
  return status;
}

int engine_pid_of(const fs::path& dir) {
  const auto metadata = read_group_metadata(dir);
  return metadata ? metadata->engine_pid.value_or(0) : 0;
}

void report(const common_options& common, const std::string& group, const std::string& status) {
  if (common.json) {
    fmt::print("{}\n", json::serialize(json::object{{"group_id", group}, {"status", status}}));
  } else {
    fmt::print("group {}: {}\n", core::printable(group), status);
  }
  // Out now: closing the inotify descriptor, on the way out, can take the
  // kernel several milliseconds (an SRCU grace period), and a reader of the
  // output should not wait for it.
  (void)std::fflush(stdout);
}

// Blocks until one of `fds` is readable or `deadline` passes; returns false
// on the deadline.
bool wait_readable(std::vector<pollfd>& fds, std::optional<clock_type::time_point> deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock_type::now());
      if (left.count() <= 0) {
        return false;
      }
      timeout_ms = static_cast<int>(std::min<long long>(left.count(), 1'000'000'000));
    }
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n > 0) {
      return true;
    }
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
  }
}

}  // namespace

int run_wait(const common_options& common, const std::string& group_id,
             std::optional<double> timeout) {
  const auto state_dir = state_dir_of(load_state_config(common));
  const auto groups = state_dir / "parallel_groups";
  const auto dir = group_dir(state_dir, group_id);
  std::optional<clock_type::time_point> deadline;
  if (timeout) {
    deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                       std::chrono::duration<double>(*timeout));
  }
  if (!fs::exists(dir / "metadata.json") && !timeout) {
    fmt::print(stderr, "maestro-async: unknown group: {} (no {})\n", core::printable(group_id),
               core::printable((dir / "metadata.json").string()));
    return 2;
  }

  const unique_fd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (inotify.get() < 0) {
    throw std::runtime_error(std::string("inotify_init1: ") + std::strerror(errno));
  }
  // A group that does not exist yet: watch parallel_groups/ for its
  // directory, then its directory for metadata.json. Watches are added
  // before each look, so nothing created in between is missed.
  // (No inotify_rm_watch: a removed watch makes the exit wait for the
  // kernel's deferred clean-up, some milliseconds.)
  int dir_watch = -1;
  if (!fs::exists(dir)) {
    fs::create_directories(groups);
    ::inotify_add_watch(inotify.get(), groups.c_str(), IN_CREATE | IN_MOVED_TO);
  }
  unique_fd pidfd;
  int watched_pid = 0;
  for (;;) {
    if (dir_watch < 0 && fs::exists(dir)) {
      dir_watch = ::inotify_add_watch(inotify.get(), dir.c_str(),
                                      IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE_SELF);
    }
    if (const auto status = recorded_status(dir)) {
      if (terminal(*status) || *status == "interrupted") {
        report(common, group_id, *status);
        return exit_code_of(*status);
      }
      // Running: also watch the engine, so that one that dies without a
      // terminal state is noticed at once.
      if (const int pid = engine_pid_of(dir); pid > 0 && pid != watched_pid) {
        watched_pid = pid;
        pidfd.reset(open_pidfd(pid));
        if (pidfd.get() < 0) {
          continue;  // already gone: the next look reports it
        }
      }
    }
    std::vector<pollfd> fds{{inotify.get(), POLLIN, 0}};
    if (pidfd.get() >= 0) {
      fds.push_back({pidfd.get(), POLLIN, 0});
    }
    if (!wait_readable(fds, deadline)) {
      fmt::print(stderr, "maestro-async: wait: group {}: timed out\n", core::printable(group_id));
      return 3;
    }
    drain(inotify.get());
    if (fds.size() > 1 && (fds[1].revents & POLLIN) != 0) {
      // The engine ended. Its terminal state, if any, was written first.
      const auto status = recorded_status(dir).value_or("interrupted");
      const auto final_status = terminal(status) ? status : std::string("interrupted");
      report(common, group_id, final_status);
      return exit_code_of(final_status);
    }
  }
}

int run_cancel(const common_options& common, const std::string& group_id) {
  const auto state_dir = state_dir_of(load_state_config(common));
  const auto dir = group_dir(state_dir, group_id);
  if (!read_group_metadata(dir)) {
    fmt::print(stderr, "maestro-async: unknown group: {}\n", core::printable(group_id));
    return 2;
  }
  const int pid = engine_pid_of(dir);
  const unique_fd pidfd(pid > 0 ? open_pidfd(pid) : -1);
  if (!group_is_locked(dir) || pidfd.get() < 0) {
    fmt::print(stderr, "maestro-async: group {} is not running\n", core::printable(group_id));
    return 2;
  }
  // Through the pidfd, so that a pid reused since cannot be signalled.
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0) != 0) {
    fmt::print(stderr, "maestro-async: cannot signal engine {}: {}\n", pid, std::strerror(errno));
    return 1;
  }
  std::vector<pollfd> fds{{pidfd.get(), POLLIN, 0}};
  wait_readable(fds, std::nullopt);
  report(common, group_id, recorded_status(dir).value_or("unknown"));
  return 0;
}

}  // namespace maestro::app
