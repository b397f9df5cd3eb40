// `maestro-async logs TASK [--group-id G] [-f]` (SPEC section 4): prints a
// task's log; with -f it follows the log until the task's last attempt
// ends, woken by inotify (the log's appends, the group's metadata.json
// renamed into place), by a pidfd on the group's engine (one that dies
// without a terminal state ends the follow too), and by SIGINT or SIGTERM
// through a signalfd. Nothing polls on a timer.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <vector>

#include <fmt/core.h>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>
#include <maestro/core/group_events.hpp>
#include <maestro/core/names.hpp>
#include <maestro/unique_fd.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"

namespace maestro::app {
namespace fs = std::filesystem;

namespace {

// Where a task's log is: the group's directory and the log's name in its
// `logs/` (only the recorded name is taken from the state, never its path).
struct task_log {
  std::string group_id;
  fs::path dir;
  fs::path file;
};

std::optional<result_metadata> result_of(const group_metadata& md, const std::string& task_id) {
  for (const auto& r : md.results) {
    if (r.task_id == task_id) {
      return r;
    }
  }
  return std::nullopt;
}

task_log log_of(const fs::path& dir, const std::string& group_id, const result_metadata& r) {
  return {group_id, dir, dir / "logs" / fs::path(r.log).filename()};
}

// The task's group: the one given, or the group in the state that holds
// the task (the latest started, when several do).
std::optional<task_log> find_log(const fs::path& state_dir, const std::string& task_id,
                                 const std::string& group_id) {
  if (!group_id.empty()) {
    const auto dir = group_dir(state_dir, group_id);
    const auto md = read_group_metadata(dir);
    if (!md) {
      throw usage_error("logs: unknown group: " + core::printable(group_id));
    }
    const auto r = result_of(*md, task_id);
    return r ? std::optional<task_log>(log_of(dir, group_id, *r)) : std::nullopt;
  }
  std::optional<task_log> found;
  std::string found_started;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_dir / "parallel_groups", ec)) {
    std::optional<group_metadata> md;
    try {
      md = read_group_metadata(entry.path());
    } catch (const state_damaged&) {
      continue;  // `status` names it; another group may hold the task
    }
    if (!md) {
      continue;
    }
    if (const auto r = result_of(*md, task_id)) {
      const auto started = md->started_at.value_or("");
      if (!found || started > found_started) {
        found = log_of(entry.path(), md->group_id, *r);
        found_started = started;
      }
    }
  }
  return found;
}

// Copies what `fd` holds from `offset` on to stdout; returns the new offset.
off_t copy_from(int fd, off_t offset) {
  char buffer[65536];
  for (;;) {
    const auto n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n <= 0) {
      break;
    }
    (void)std::fwrite(buffer, 1, static_cast<std::size_t>(n), stdout);
    offset += n;
  }
  (void)std::fflush(stdout);
  return offset;
}

// Whether the follow is over: the task's last attempt ended, or its group
// has no engine any more (ended, or died without a terminal state).
bool follow_over(const task_log& log, const std::string& task_id) {
  std::optional<group_metadata> md;
  try {
    md = read_group_metadata(log.dir);
  } catch (const state_damaged&) {
    return false;  // a moment of a partial view: the next change tells
  }
  if (!md) {
    return true;
  }
  const auto r = result_of(*md, task_id);
  if (!r || core::is_terminal(r->status)) {
    return true;
  }
  const auto status = reported_status(*md, log.dir);
  return status != "running" && status != "pending";
}

}  // namespace

int run_logs(const common_options& common, const std::string& task_id, const std::string& group_id,
             bool follow) {
  const auto state_dir = state_dir_of(load_state_config(common));
  const auto log = find_log(state_dir, task_id, group_id);
  if (!log) {
    fmt::print(stderr, "maestro-async: unknown task: {}{}\n", core::printable(task_id),
               group_id.empty() ? std::string(" (in no group of ") + state_dir.string() + ")"
                                : " (not in group " + core::printable(group_id) + ")");
    return 2;
  }
  unique_fd file(::open(log->file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  off_t offset = 0;
  if (!follow) {
    if (file.get() >= 0) {
      (void)copy_from(file.get(), 0);
    }
    return 0;
  }

  // SIGINT and SIGTERM end the follow (exit 0), read through a signalfd.
  sigset_t stops;
  ::sigemptyset(&stops);
  ::sigaddset(&stops, SIGINT);
  ::sigaddset(&stops, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &stops, nullptr);
  const unique_fd signals(::signalfd(-1, &stops, SFD_CLOEXEC | SFD_NONBLOCK));
  const unique_fd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (inotify.get() < 0 || signals.get() < 0) {
    throw std::runtime_error(std::string("logs -f: ") + std::strerror(errno));
  }
  // The group's directory (metadata.json renamed into place, logs/ made)
  // and its logs/ (appends to the log, the log created).
  ::inotify_add_watch(inotify.get(), log->dir.c_str(), IN_MOVED_TO | IN_CREATE);
  int logs_watch = -1;
  unique_fd engine;
  int engine_pid = 0;
  // The state is read again only when metadata.json changed (or the
  // engine ended), not on every append to some task's log.
  bool state_changed = true;
  for (;;) {
    if (logs_watch < 0) {
      logs_watch = ::inotify_add_watch(inotify.get(), (log->dir / "logs").c_str(),
                                       IN_MODIFY | IN_CREATE | IN_MOVED_TO);
    }
    if (file.get() < 0) {
      file.reset(::open(log->file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    }
    if (file.get() >= 0) {
      offset = copy_from(file.get(), offset);
    }
    // The state after the log: a task that ended wrote its last output
    // before its end was recorded, so what was copied above is all of it.
    if (state_changed && follow_over(*log, task_id)) {
      if (file.get() >= 0) {
        (void)copy_from(file.get(), offset);
      }
      return 0;
    }
    if (state_changed) {
      if (const auto md = read_group_metadata(log->dir);
          md && md->engine_pid && *md->engine_pid != engine_pid) {
        engine_pid = *md->engine_pid;
        engine.reset(open_pidfd(engine_pid));
      }
    }
    state_changed = false;
    std::vector<pollfd> fds{{inotify.get(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
    if (engine.get() >= 0) {
      fds.push_back({engine.get(), POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    if ((fds[1].revents & POLLIN) != 0) {
      if (file.get() >= 0) {
        (void)copy_from(file.get(), offset);
      }
      return 0;  // stopped by the user: what was there is printed
    }
    // An event of the group's directory (metadata.json renamed into place)
    // or a lost one means: look at the state; appends only mean copying.
    char buffer[4096];
    for (ssize_t n = 0; (n = ::read(inotify.get(), buffer, sizeof buffer)) > 0;) {
      for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
        inotify_event e{};
        std::memcpy(&e, buffer + at, sizeof e);
        state_changed = state_changed || e.wd != logs_watch || (e.mask & IN_Q_OVERFLOW) != 0;
        at += static_cast<ssize_t>(sizeof e + e.len);
      }
    }
    if (fds.size() > 2 && (fds[2].revents & POLLIN) != 0) {
      engine.reset();  // gone: the next look at the state ends the follow
      engine_pid = -1;
      state_changed = true;
    }
  }
}

}  // namespace maestro::app
