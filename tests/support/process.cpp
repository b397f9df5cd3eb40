#include "support/process.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include "support/temp_dir.hpp"

extern char** environ;

namespace maestro::test {

running_process::running_process(pid_t pid, std::unique_ptr<temp_dir> capture)
    : pid_(pid), capture_(std::move(capture)) {}

running_process::running_process(running_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), capture_(std::move(other.capture_)) {}

running_process& running_process::operator=(running_process&& other) noexcept {
  pid_ = std::exchange(other.pid_, -1);
  capture_ = std::move(other.capture_);
  return *this;
}

running_process::~running_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void running_process::signal(int signal) const {
  ::kill(pid_, signal);
}

process_result running_process::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  process_result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(capture_->path() / "out");
  result.err = read_file(capture_->path() / "err");
  return result;
}

running_process start_process(const std::vector<std::string>& argv,
                              const std::filesystem::path& cwd) {
  auto capture = std::make_unique<temp_dir>();
  const auto out_path = capture->path() / "out";
  const auto err_path = capture->path() / "err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's signature predates const
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + argv.front() + " failed");
  }
  return running_process(pid, std::move(capture));
}

process_result run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
  return start_process(argv, cwd).wait();
}

bool process_gone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return true;
  }
  // pid (comm) STATE ...: the comm may hold spaces, so look after the last ')'.
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'Z';
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  // A file that does not exist yet, or a JSON document not written yet,
  // is "not yet".
  const auto check = [&done] {
    try {
      return done();
    } catch (const std::exception&) {
      return false;
    }
  };
  while (!check()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace maestro::test
