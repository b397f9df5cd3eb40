#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <maestro/adapters/leftovers.hpp>

namespace maestro {
namespace {

// The process group of `pid`, from /proc/<pid>/stat, or -1.
int pgid_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return -1;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
  const auto close = line.rfind(')');
  if (close == std::string::npos) {
    return -1;
  }
  std::istringstream fields(line.substr(close + 1));
  std::string state;
  int ppid = 0;
  int pgrp = -1;
  fields >> state >> ppid >> pgrp;
  return state == "Z" ? -1 : pgrp;  // a zombie has nothing left to end
}

bool has_variable(const std::string& environ, std::string_view entry) {
  std::size_t at = 0;
  while (at < environ.size()) {
    const auto end = environ.find('\0', at);
    const auto item = std::string_view(environ).substr(at, end - at);
    if (item == entry) {
      return true;
    }
    if (end == std::string::npos) {
      break;
    }
    at = end + 1;
  }
  return false;
}

}  // namespace

std::vector<int> leftover_processes(int pgid, std::string_view task_id, std::string_view group_id) {
  std::vector<int> found;
  if (pgid <= 1) {
    return found;
  }
  const std::string want_task = "MAESTRO_TASK_ID=" + std::string(task_id);
  const std::string want_group = "MAESTRO_GROUP_ID=" + std::string(group_id);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    if (pgid_of(name) != pgid) {
      continue;
    }
    std::ifstream in("/proc/" + name + "/environ", std::ios::binary);
    std::ostringstream environ;
    environ << in.rdbuf();
    if (has_variable(environ.str(), want_task) && has_variable(environ.str(), want_group)) {
      found.push_back(std::atoi(name.c_str()));
    }
  }
  return found;
}

}  // namespace maestro
