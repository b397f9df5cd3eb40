#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <memory>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/process.hpp>

#include <maestro/adapters/leftovers.hpp>
#include <maestro/adapters/local_launcher.hpp>

#include "child_spawn.hpp"

namespace maestro {
namespace asio = boost::asio;
namespace bp2 = boost::process::v2;
using boost::system::error_code;

namespace {

using detail::c_strings;
using detail::last_error;

// The last `limit` bytes of `path` from `offset` on.
std::string read_tail(const std::filesystem::path& path, std::uintmax_t offset, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uintmax_t>(std::max<std::streamoff>(in.tellg(), 0));
  const auto from = std::max<std::uintmax_t>(offset, size > limit ? size - limit : 0);
  in.seekg(static_cast<std::streamoff>(from));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool is_executable(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

local_launcher::local_launcher(asio::any_io_executor executor)
    : executor_(std::move(executor)), null_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

local_launcher::~local_launcher() = default;

child_handle local_launcher::launch(const launch_spec& spec, exit_handler on_exit, error_code& ec) {
  ec.clear();
  if (spec.argv.empty() || spec.argv.front().empty()) {
    ec = make_error_code(boost::system::errc::invalid_argument);
    return {};
  }
  const unique_fd log(
      ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (log.get() < 0) {
    ec = last_error();
    return {};
  }
  std::uintmax_t log_start = 0;  // where this run's part of the log begins
  if (spec.output_tail > 0) {
    struct stat st {};
    log_start = ::fstat(log.get(), &st) == 0 ? static_cast<std::uintmax_t>(st.st_size) : 0;
  }
  if (!spec.log_header.empty()) {
    const std::string line = spec.log_header + "\n";
    if (::write(log.get(), line.data(), line.size()) < 0) {
      ec = last_error();
      return {};
    }
  }
  unique_fd stdin_fd;
  std::shared_ptr<asio::local::stream_protocol::socket> feed;
  if (spec.stdin_data) {
    int pair[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      ec = last_error();
      return {};
    }
    stdin_fd = unique_fd(pair[0]);
    unique_fd feed_fd(pair[1]);
    // Made before the spawn: once a child runs, nothing may fail but the
    // pidfd (below).
    try {
      feed = std::make_shared<asio::local::stream_protocol::socket>(
          executor_, asio::local::stream_protocol(), feed_fd.get());
      feed_fd.release();
    } catch (const boost::system::system_error& e) {
      ec = e.code();
      return {};
    }
  } else if (!null_fd_) {
    ec = make_error_code(boost::system::errc::no_such_device);  // no /dev/null
    return {};
  }

  detail::spawn_setup setup;
  posix_spawn_file_actions_adddup2(&setup.actions,
                                   spec.stdin_data ? stdin_fd.get() : null_fd_.get(), 0);
  posix_spawn_file_actions_adddup2(&setup.actions, log.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, log.get(), 2);
  // Nothing of the engine's, close-on-exec or not, reaches the child.
  if (!spec.workdir.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, spec.workdir.c_str());
  }
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);

  auto argv = c_strings(spec.argv);
  auto envp = c_strings(spec.env);
  pid_t pid = 0;
  if (const int rc =
          ::posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
      rc != 0) {
    ec = error_code(rc, boost::system::system_category());
    return {};
  }

  // The child is watched through a pidfd. Without one (descriptors ran
  // out) it would run unobserved: it was ended, and the launch is reported
  // failed, so the caller's accounting stays whole.
  const auto process = detail::watch_child(executor_, pid, ec);
  if (!process) {
    return {};
  }
  if (feed) {
    auto socket = std::move(feed);
    auto data = std::make_shared<std::string>(*spec.stdin_data);
    asio::async_write(*socket, asio::buffer(*data), [socket, data](error_code, std::size_t) {
      // A child that exits without reading is fine; either way stdin ends.
      error_code ignored;
      socket->shutdown(asio::socket_base::shutdown_send, ignored);
      socket->close(ignored);
    });
  }

  std::filesystem::path tail_of;
  if (spec.output_tail > 0) {
    tail_of = spec.log_file;
  }
  process->async_wait([process, on_exit = std::move(on_exit), tail_of = std::move(tail_of),
                       log_start,
                       tail = spec.output_tail](error_code wait_ec, int /*portable_code*/) {
    // The portable code folds "killed by signal 9" and "exit(9)" into
    // one value; the native wait status keeps them apart.
    const int native_status = process->native_exit_code();
    // Reaped: let go of the pid so that the destructor cannot signal a
    // process that reused it.
    (void)process->detach();
    exit_info info;
    if (wait_ec) {
      info.exit_code = -1;  // the host reaped it (see the class comment)
    } else if (WIFSIGNALED(native_status)) {
      info.signal = WTERMSIG(native_status);
      info.exit_code = 128 + info.signal;
    } else {
      info.exit_code = WEXITSTATUS(native_status);
    }
    if (tail > 0) {
      info.output_tail = read_tail(tail_of, log_start, tail);
    }
    on_exit(std::move(info));
  });
  return {pid, pid};
}

void local_launcher::signal(const child_handle& child, core::kill_signal signal) {
  if (child.pgid <= 0) {
    return;
  }
  ::kill(-child.pgid, signal == core::kill_signal::kill ? SIGKILL : SIGTERM);
}

void local_launcher::append_to_log(const std::filesystem::path& log_file, std::string_view text) {
  const unique_fd fd(
      ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd) {
    std::string line(text);
    line += '\n';
    [[maybe_unused]] const auto n = ::write(fd.get(), line.data(), line.size());
  }
}

bool local_launcher::can_start(const std::string& program,
                               const std::filesystem::path& workdir) const {
  if (program.empty()) {
    return false;
  }
  if (program.find('/') != std::string::npos) {
    const std::filesystem::path p(program);
    return is_executable(p.is_absolute() ? p : workdir / p);
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    if (is_executable(std::filesystem::path(dir.empty() ? "." : dir) / program)) {
      return true;
    }
    if (colon == std::string_view::npos) {
      return false;
    }
    dirs.remove_prefix(colon + 1);
  }
}

std::optional<child_capacity> local_launcher::capacity() const {
  // Each running child holds a pidfd, and while it starts its log and, with
  // a prompt, a socket pair; the engine keeps some for itself (state files,
  // watches, the host's own).
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  constexpr rlim_t reserved = 64;
  constexpr rlim_t per_child = 2;
  const auto cap = limit.rlim_cur > reserved ? (limit.rlim_cur - reserved) / per_child : 1;
  return child_capacity{
      static_cast<int>(
          std::clamp<rlim_t>(cap, 1, static_cast<rlim_t>(std::numeric_limits<int>::max()))),
      "the open-file limit allows (RLIMIT_NOFILE " + std::to_string(limit.rlim_cur) + ")",
      "raise the limit with `ulimit -n`"};
}

bool local_launcher::is_leftover(int pgid, std::string_view task_id,
                                 std::string_view group_id) const {
  return pgid > 0 && !leftover_processes(pgid, task_id, group_id).empty();
}

}  // namespace maestro
