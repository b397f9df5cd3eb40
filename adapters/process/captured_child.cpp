#include "captured_child.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <maestro/unique_fd.hpp>

#include "child_spawn.hpp"

namespace maestro::detail {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// One call in flight: it completes once the process was reaped and both
// pipes reached their end (a process that exits leaves its output behind
// in the pipes).
struct call : std::enable_shared_from_this<call> {
  explicit call(const asio::any_io_executor& ex) : out(ex), err(ex), timer(ex) {}

  asio::posix::stream_descriptor out;
  asio::posix::stream_descriptor err;
  asio::steady_timer timer;
  std::shared_ptr<watched_process> process;
  int pgid = 0;
  std::weak_ptr<std::unordered_set<int>> running;  // the client's, while it lives
  int pending = 3;                                 // stdout, stderr, the exit
  captured_output result;
  captured_handler done;

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

void run_captured(const asio::any_io_executor& executor,
                  const std::vector<std::string>& argv_strings,
                  const std::filesystem::path& workdir, const std::vector<std::string>& environment,
                  std::chrono::milliseconds timeout,
                  const std::shared_ptr<std::unordered_set<int>>& running_groups,
                  captured_handler done) {
  const auto fail = [&](error_code ec) {
    asio::post(executor, [done = std::move(done), ec] { done(ec, {}); });
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

  spawn_setup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, null_in.get(), 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), 2);
  if (!workdir.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, workdir.c_str());
  }
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  const auto argv = c_strings(argv_strings);
  const auto envp = c_strings(environment);
  pid_t pid = 0;
  if (const int rc =
          ::posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
      rc != 0) {
    return fail(error_code(rc, boost::system::system_category()));
  }
  out_write.reset();  // the child holds the write ends now
  err_write.reset();

  error_code watch_failed;
  auto process = watch_child(executor, pid, watch_failed);
  if (!process) {
    return fail(watch_failed);  // it was ended: it must not run unobserved
  }
  // The pipes' read ends go to the call; a descriptor asio cannot take
  // (memory ran out) ends the child, which must not run unobserved.
  std::shared_ptr<call> c;
  try {
    c = std::make_shared<call>(executor);
    c->out.assign(out_read.get());
    out_read.release();
    c->err.assign(err_read.get());
    err_read.release();
  } catch (const std::exception& e) {
    end_child(pid);
    (void)process->detach();  // reaped: its pid must not be signalled again
    const auto* system = dynamic_cast<const boost::system::system_error*>(&e);
    return fail(system != nullptr ? system->code()
                                  : make_error_code(boost::system::errc::not_enough_memory));
  }
  c->done = std::move(done);
  c->process = std::move(process);
  c->pgid = pid;
  if (running_groups) {
    running_groups->insert(pid);
    c->running = running_groups;
  }
  // No limit (0): the timer never expires.
  if (timeout.count() > 0) {
    c->timer.expires_after(timeout);
  } else {
    c->timer.expires_at(asio::steady_timer::time_point::max());
  }
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
    if (const auto running = c->running.lock()) {
      running->erase(c->pgid);  // reaped: its process group may be reused
    }
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

}  // namespace maestro::detail
