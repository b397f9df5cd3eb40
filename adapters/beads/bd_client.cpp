#include <array>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2/process.hpp>

#include <maestro/adapters/bd_client.hpp>
#include <maestro/unique_fd.hpp>

namespace maestro {
namespace asio = boost::asio;
namespace bp2 = boost::process::v2;
using boost::system::error_code;

namespace {

error_code last_error() {
  return {errno, boost::system::system_category()};
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (auto& s : items) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// One call in flight: it completes once the process was reaped and both
// pipes reached their end (a process that exits leaves its output behind
// in the pipes).
struct call : std::enable_shared_from_this<call> {
  call(const asio::any_io_executor& ex, int out_fd, int err_fd, bd_client::handler h)
      : out(ex, out_fd), err(ex, err_fd), timer(ex), done(std::move(h)) {}

  asio::posix::stream_descriptor out;
  asio::posix::stream_descriptor err;
  asio::steady_timer timer;
  std::shared_ptr<bp2::basic_process<asio::any_io_executor>> process;
  int pgid = 0;
  int pending = 3;  // stdout, stderr, the exit
  bd_result result;
  bd_client::handler done;

  void read(asio::posix::stream_descriptor& from, std::string& into) {
    auto self = shared_from_this();
    auto buffer = std::make_shared<std::array<char, 16384>>();
    from.async_read_some(asio::buffer(*buffer),
                         [self, &from, &into, buffer](error_code ec, std::size_t n) {
                           into.append(buffer->data(), n);
                           if (!ec) {
                             self->read(from, into);
                             return;
                           }
                           self->finish_one();
                         });
  }

  void finish_one() {
    if (--pending == 0) {
      timer.cancel();
      auto handler = std::move(done);
      handler({}, std::move(result));
    }
  }
};

}  // namespace

bd_client::bd_client(asio::any_io_executor executor, std::string program,
                     std::filesystem::path workdir, std::vector<std::string> environment,
                     std::chrono::milliseconds timeout)
    : executor_(std::move(executor)),
      program_(std::move(program)),
      workdir_(std::move(workdir)),
      environment_(std::move(environment)),
      timeout_(timeout) {}

void bd_client::async_run(std::vector<std::string> args, handler done) {
  const auto fail = [&](error_code ec) {
    asio::post(executor_, [done = std::move(done), ec] { done(ec, {}); });
  };
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return fail(last_error());
  }
  unique_fd out_read(out_pipe[0]);
  unique_fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return fail(last_error());
  }
  unique_fd err_read(err_pipe[0]);
  unique_fd err_write(err_pipe[1]);
  const unique_fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_in) {
    return fail(last_error());
  }

  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_init(&actions);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  sigfillset(&signals);
  posix_spawnattr_setsigdefault(&attr, &signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_adddup2(&actions, null_in.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawn_file_actions_addchdir_np(&actions, workdir_.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<std::string> argv_strings{program_};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto argv = c_strings(argv_strings);
  auto env_strings = environment_;
  auto envp = c_strings(env_strings);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return fail(error_code(rc, boost::system::system_category()));
  }
  out_write.reset();  // the child holds the write ends now
  err_write.reset();

  unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  std::shared_ptr<call> c;
  try {
    if (!pidfd) {
      throw boost::system::system_error(last_error());
    }
    c = std::make_shared<call>(executor_, out_read.get(), err_read.get(), std::move(done));
    out_read.release();
    err_read.release();
    c->process =
        std::make_shared<bp2::basic_process<asio::any_io_executor>>(executor_, pid, pidfd.get());
    pidfd.release();
  } catch (const boost::system::system_error& e) {
    // Unobserved, it must not run on: end it and report the call failed.
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (c) {
      asio::post(executor_, [c, ec = e.code()] { c->done(ec, {}); });
    } else {
      // `done` was not moved into a call.
      fail(e.code());
    }
    return;
  }
  c->pgid = pid;
  c->timer.expires_after(timeout_);
  c->timer.async_wait([c](error_code ec) {
    if (!ec && c->pending > 0) {
      c->result.timed_out = true;
      ::kill(-c->pgid, SIGKILL);
    }
  });
  c->read(c->out, c->result.out);
  c->read(c->err, c->result.err);
  c->process->async_wait([c](error_code wait_ec, int /*portable*/) {
    const int status = c->process->native_exit_code();
    (void)c->process->detach();
    if (wait_ec) {
      c->result.exit_code = -1;
    } else if (WIFSIGNALED(status)) {
      c->result.exit_code = 128 + WTERMSIG(status);
    } else {
      c->result.exit_code = WEXITSTATUS(status);
    }
    // Something it left running in its group may hold the pipes open: the
    // timer still ends that.
    c->finish_one();
  });
}

}  // namespace maestro
