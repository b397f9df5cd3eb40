#include "child_spawn.hpp"

#include <cerrno>
#include <new>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <maestro/unique_fd.hpp>

namespace maestro::detail {

using boost::system::error_code;

error_code last_error() {
  return {errno, boost::system::system_category()};
}

std::vector<char*> c_strings(const std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (const auto& s : items) {
    out.push_back(const_cast<char*>(s.c_str()));  // posix_spawn's signature predates const
  }
  out.push_back(nullptr);
  return out;
}

spawn_setup::spawn_setup() {
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_init(&actions);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);  // whatever the engine blocks
  sigfillset(&signals);
  posix_spawnattr_setsigdefault(&attr, &signals);  // whatever the engine handles
  posix_spawnattr_setpgroup(&attr, 0);             // a process group of its own
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

spawn_setup::~spawn_setup() {
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
}

void end_child(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

std::shared_ptr<watched_process> watch_child(const boost::asio::any_io_executor& executor,
                                             pid_t pid, error_code& ec) {
  const auto abandon = [pid, &ec](error_code reason) {
    end_child(pid);
    ec = reason;
    return std::shared_ptr<watched_process>{};
  };
  unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    return abandon(last_error());
  }
  try {
    auto process = std::make_shared<watched_process>(executor, pid, pidfd.get());
    pidfd.release();  // adopted by the process
    ec.clear();
    return process;
  } catch (const boost::system::system_error& e) {
    pidfd.reset();  // not adopted: registering it failed
    return abandon(e.code());
  } catch (const std::bad_alloc&) {
    pidfd.reset();
    return abandon(make_error_code(boost::system::errc::not_enough_memory));
  }
}

}  // namespace maestro::detail
