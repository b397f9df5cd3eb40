// fake_agent: a stand-in for a coding agent, launched for real by the
// integration tests.
//
// Its arguments are a script of steps, run in order, so that a test composes
// the behaviour it needs:
//
//   fake_agent stamp /tmp/x/stamps sleep 200 exit 0
//
// Steps:
//   exit N              exit with code N now (later steps are ignored)
//   sleep MS            sleep MS milliseconds
//   stamp FILE          append `<id> start <ns>` to FILE now, and `<id> end <ns>`
//                       when the program exits through `exit`, `attempt-exit` or
//                       the end of the steps. <id> is $MAESTRO_TASK_ID (`-` when
//                       unset), <ns> is CLOCK_MONOTONIC in nanoseconds.
//   write FILE TEXT     append TEXT and a newline to FILE
//   put FILE TEXT       replace FILE's contents with TEXT and a newline
//   env FILE            append every MAESTRO_* variable, sorted, as NAME=value lines
//   getenv NAME FILE    append `<id> NAME=value`, or `<id> NAME unset`
//   raise N             send itself signal N (death by a signal)
//   fds FILE            append one line with this process's open descriptors,
//                       e.g. `0 1 2`
//   stdin FILE          append everything read from stdin to FILE
//   pgid FILE           append `<pid> <pgid>`
//   spawn-grandchild FILE
//                       fork a grandchild, in the same process group, that appends
//                       its pid to FILE and then sleeps forever; the step returns
//                       once the pid is written
//   hang                sleep forever
//   ignore-term         ignore SIGTERM (so that only the SIGKILL ends it)
//   attempt-exit N M    exit with code M if $MAESTRO_ATTEMPT is N, else go on
//   print TEXT          write TEXT and a newline to stdout
//   eprint TEXT         write TEXT and a newline to stderr
//
// Exit codes of its own: 0 at the end of the steps, 100 for an unknown step,
// 101 for a missing or malformed argument, 102 when a file cannot be written
// or stdin cannot be read.
//
// Every line goes to its file with one write() on an O_APPEND descriptor, so
// that agents running at the same time never interleave their lines. Only
// POSIX and the standard library are used: the program must start fast and
// hold no descriptor of its own beyond the step being run.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <signal.h>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

constexpr int exit_unknown_step = 100;
constexpr int exit_bad_argument = 101;
constexpr int exit_io_error = 102;

/// The files that get an `end` line at exit, one entry per `stamp` step.
std::vector<std::string> stamp_files;

/// Writes all of `data` to `fd`, resuming after a signal or a short write.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// `$MAESTRO_TASK_ID`, or `-` when unset.
std::string task_id() {
  const char* id = std::getenv("MAESTRO_TASK_ID");
  return id == nullptr ? std::string("-") : std::string(id);
}

std::int64_t monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  constexpr std::int64_t ns_per_s = 1'000'000'000;
  return static_cast<std::int64_t>(now.tv_sec) * ns_per_s + now.tv_nsec;
}

[[noreturn]] void finish(int code);

/// Appends `text` to `file` with one write(). Exits with `exit_io_error` on
/// failure: a test must not mistake a lost line for a behaviour.
void append(const std::string& file, std::string_view text, bool replace = false) {
  const int fd =
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_APPEND), 0644);
  if (fd < 0) {
    const std::string message =
        "fake_agent: cannot open " + file + ": " + std::strerror(errno) + "\n";
    write_all(STDERR_FILENO, message);
    ::_exit(exit_io_error);
  }
  const bool ok = write_all(fd, text);
  ::close(fd);
  if (!ok) {
    const std::string message = "fake_agent: cannot write " + file + "\n";
    write_all(STDERR_FILENO, message);
    ::_exit(exit_io_error);
  }
}

void write_stamp(const std::string& file, std::string_view what) {
  append(file, task_id() + " " + std::string(what) + " " + std::to_string(monotonic_ns()) + "\n");
}

/// Exits with `code` after writing the `end` line of every `stamp` step.
void finish(int code) {
  for (const auto& file : stamp_files) {
    write_stamp(file, "end");
  }
  std::exit(code);
}

[[noreturn]] void sleep_forever() {
  // pause() returns after any handled signal; keep sleeping.
  for (;;) {
    ::pause();
  }
}

void sleep_ms(std::int64_t ms) {
  timespec left{};
  left.tv_sec = static_cast<time_t>(ms / 1000);
  left.tv_nsec = static_cast<long>((ms % 1000) * 1'000'000);
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

/// The `MAESTRO_*` environment, sorted, one `NAME=value` line each.
std::string maestro_environment() {
  std::vector<std::string_view> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("MAESTRO_")) {
      entries.push_back(text);
    }
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto entry : entries) {
    out.append(entry).append("\n");
  }
  return out;
}

/// This process's open descriptors, ascending, without the one used to list
/// them.
std::string open_descriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    write_all(STDERR_FILENO, "fake_agent: cannot open /proc/self/fd\n");
    ::_exit(exit_io_error);
  }
  const int own = ::dirfd(dir);
  std::vector<int> fds;
  while (const dirent* entry = ::readdir(dir)) {
    const auto fd = parse_int(entry->d_name);
    if (fd && *fd != own) {
      fds.push_back(static_cast<int>(*fd));
    }
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  std::string out;
  for (const int fd : fds) {
    if (!out.empty()) {
      out += ' ';
    }
    out += std::to_string(fd);
  }
  return out + "\n";
}

std::string read_stdin() {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      return out;
    } else if (errno != EINTR) {
      write_all(STDERR_FILENO, "fake_agent: cannot read stdin\n");
      ::_exit(exit_io_error);
    }
  }
}

/// Forks a grandchild that appends its pid to `file` and sleeps forever.
/// Returns once the pid is written, so that a test may read the file as soon
/// as this agent has exited. The pipe only carries that "written" news: the
/// grandchild closes its end, and the parent's read() then sees EOF.
void spawn_grandchild(const std::string& file) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    write_all(STDERR_FILENO, "fake_agent: pipe failed\n");
    ::_exit(exit_io_error);
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    write_all(STDERR_FILENO, "fake_agent: fork failed\n");
    ::_exit(exit_io_error);
  }
  if (pid == 0) {
    ::close(ready[0]);
    stamp_files.clear();  // the grandchild never writes the parent's end stamps
    append(file, std::to_string(::getpid()) + "\n");
    ::close(ready[1]);
    sleep_forever();
  }
  ::close(ready[1]);
  char byte = 0;
  while (::read(ready[0], &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
}

/// Runs the steps in `args`; returns only at their end.
void run(std::span<char* const> args) {
  std::size_t i = 0;
  // The next argument of the current step, or exit 101 when there is none.
  const auto next = [&](std::string_view step) -> std::string {
    if (i >= args.size()) {
      const std::string message = "fake_agent: missing argument for " + std::string(step) + "\n";
      write_all(STDERR_FILENO, message);
      finish(exit_bad_argument);
    }
    return args[i++];
  };
  const auto next_int = [&](std::string_view step) -> std::int64_t {
    const std::string text = next(step);
    const auto value = parse_int(text);
    if (!value || *value < 0) {
      const std::string message =
          "fake_agent: bad number for " + std::string(step) + ": " + text + "\n";
      write_all(STDERR_FILENO, message);
      finish(exit_bad_argument);
    }
    return *value;
  };

  while (i < args.size()) {
    const std::string step = args[i++];
    if (step == "exit") {
      finish(static_cast<int>(next_int(step)));
    } else if (step == "sleep") {
      sleep_ms(next_int(step));
    } else if (step == "stamp") {
      const std::string file = next(step);
      write_stamp(file, "start");
      stamp_files.push_back(file);
    } else if (step == "write") {
      const std::string file = next(step);
      const std::string text = next(step);
      append(file, text + "\n");
    } else if (step == "put") {
      const std::string file = next(step);
      const std::string text = next(step);
      append(file, text + "\n", true);
    } else if (step == "env") {
      append(next(step), maestro_environment());
    } else if (step == "getenv") {
      const std::string name = next(step);
      const std::string file = next(step);
      const char* value = std::getenv(name.c_str());
      const char* id = std::getenv("MAESTRO_TASK_ID");
      append(file, std::string(id != nullptr ? id : "-") + " " + name +
                       (value != nullptr ? "=" + std::string(value) : std::string(" unset")) +
                       "\n");
    } else if (step == "raise") {
      ::raise(static_cast<int>(next_int(step)));
    } else if (step == "fds") {
      const std::string file = next(step);
      append(file, open_descriptors());
    } else if (step == "stdin") {
      const std::string file = next(step);
      append(file, read_stdin());
    } else if (step == "pgid") {
      append(next(step), std::to_string(::getpid()) + " " + std::to_string(::getpgrp()) + "\n");
    } else if (step == "spawn-grandchild") {
      spawn_grandchild(next(step));
    } else if (step == "hang") {
      sleep_forever();
    } else if (step == "ignore-term") {
      struct sigaction action {};
      action.sa_handler = SIG_IGN;
      ::sigemptyset(&action.sa_mask);
      ::sigaction(SIGTERM, &action, nullptr);
    } else if (step == "attempt-exit") {
      const std::int64_t attempt = next_int(step);
      const std::int64_t code = next_int(step);
      const char* current = std::getenv("MAESTRO_ATTEMPT");
      if (current != nullptr && parse_int(current) == attempt) {
        finish(static_cast<int>(code));
      }
    } else if (step == "print") {
      write_all(STDOUT_FILENO, next(step) + "\n");
    } else if (step == "eprint") {
      write_all(STDERR_FILENO, next(step) + "\n");
    } else {
      write_all(STDERR_FILENO, "fake_agent: unknown step " + step + "\n");
      finish(exit_unknown_step);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  run(std::span<char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  finish(0);
}
