#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>

#include <maestro/state_dir.hpp>

namespace maestro {
namespace json = boost::json;

std::filesystem::path group_dir(const std::filesystem::path& state_dir, std::string_view group_id) {
  return state_dir / "parallel_groups" / std::string(group_id);
}

std::optional<json::value> read_metadata(const std::filesystem::path& dir) {
  const auto path = dir / "metadata.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  // Parsed as it is read, into one monotonic arena: a group of 100,000
  // tasks has a metadata.json of tens of megabytes, which neither a copy of
  // the text nor a node-by-node allocation should double.
  json::stream_parser parser;
  parser.reset(json::make_shared_resource<json::monotonic_resource>());
  std::array<char, 65536> chunk{};
  boost::system::error_code ec;
  while (!ec && (in.read(chunk.data(), chunk.size()) || in.gcount() > 0)) {
    parser.write(chunk.data(), static_cast<std::size_t>(in.gcount()), ec);
  }
  if (!ec) {
    parser.finish(ec);
  }
  if (ec || in.bad()) {
    throw std::runtime_error(path.string() + ": not a valid metadata file" +
                             (ec ? ": " + ec.message() : std::string{}));
  }
  auto value = parser.release();
  if (!value.is_object()) {
    throw std::runtime_error(path.string() + ": not a valid metadata file");
  }
  return value;
}

std::vector<std::string> group_ids(const std::filesystem::path& state_dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir / "parallel_groups", ec)) {
    if (entry.is_directory()) {
      ids.push_back(entry.path().filename().string());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::unordered_set<std::string> completed_task_ids(const std::filesystem::path& state_dir) {
  std::unordered_set<std::string> ids;
  for (const auto& id : group_ids(state_dir)) {
    std::optional<json::value> metadata;
    try {
      metadata = read_metadata(group_dir(state_dir, id));
    } catch (const std::runtime_error&) {
      continue;  // a damaged group proves nothing
    }
    if (!metadata) {
      continue;
    }
    const auto& group = metadata->get_object();
    const auto* status = group.if_contains("status");
    if (status == nullptr || (status->is_string() && status->get_string() == "failed")) {
      continue;
    }
    const auto* results = group.if_contains("results");
    if (results == nullptr || !results->is_array()) {
      continue;
    }
    for (const auto& r : results->get_array()) {
      const auto* o = r.if_object();
      if (o == nullptr) {
        continue;
      }
      const auto* s = o->if_contains("status");
      const auto* task = o->if_contains("task_id");
      if (s != nullptr && s->is_string() && s->get_string() == "completed" && task != nullptr &&
          task->is_string()) {
        ids.emplace(task->get_string());
      }
    }
  }
  return ids;
}

std::string reported_status(const json::value& metadata, const std::filesystem::path& dir) {
  const auto* status = metadata.is_object() ? metadata.get_object().if_contains("status") : nullptr;
  if (status == nullptr || !status->is_string()) {
    return "unknown";
  }
  std::string s(status->get_string());
  if ((s == "running" || s == "pending") && !group_is_locked(dir)) {
    return "interrupted";
  }
  return s;
}

bool group_is_locked(const std::filesystem::path& dir) {
  const int fd = ::open((dir / "lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the shared lock if it was taken
  return locked;
}

std::optional<group_lock> group_lock::try_acquire(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto path = dir / "lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  // For people: who holds it. The lock itself is the flock.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const auto n = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return group_lock(fd);
}

group_lock::group_lock(group_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

group_lock& group_lock::operator=(group_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

group_lock::~group_lock() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

}  // namespace maestro
