#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>

#include <maestro/adapters/state_dir.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/core/names.hpp>
#include <maestro/refused.hpp>

namespace maestro {
namespace json = boost::json;

std::filesystem::path group_dir(const std::filesystem::path& state_dir, std::string_view group_id) {
  return state_dir / "parallel_groups" / core::group_dir_name(group_id);
}

int open_state_file(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

std::filesystem::path prepare_group_dir(const std::filesystem::path& state_dir,
                                        std::string_view group_id) {
  std::error_code ec;
  const bool new_state_dir = !std::filesystem::exists(state_dir, ec);
  std::filesystem::create_directories(state_dir / "parallel_groups");
  if (new_state_dir) {
    // A state directory inside a repository leaves `git status` clean.
    const unique_fd fd(::open((state_dir / ".gitignore").c_str(),
                              O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd) {
      [[maybe_unused]] const auto n = ::write(fd.get(), "*\n", 2);
    }
  }
  auto dir = group_dir(state_dir, group_id);
  for (const auto& d : {dir, dir / "logs"}) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      throw std::runtime_error("cannot create " + d.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::lstat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw refused("refusing to use " + d.string() + ": it is a symlink or not a directory");
    }
  }
  return dir;
}

std::vector<std::string> group_ids(const std::filesystem::path& state_dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir / "parallel_groups", ec)) {
    // Only what the encoding made: a stray `tmp` or a planted link is no
    // group (a symlink is not followed: symlink_status).
    if (!entry.is_symlink() && entry.is_directory()) {
      if (auto id = core::decode_file_name(entry.path().filename().native())) {
        ids.push_back(std::move(*id));
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::unordered_set<std::string> completed_task_ids(const std::filesystem::path& state_dir) {
  std::unordered_set<std::string> ids;
  for (const auto& id : group_ids(state_dir)) {
    std::optional<group_metadata> metadata;
    try {
      metadata = read_group_metadata(group_dir(state_dir, id));
    } catch (const state_damaged&) {
      continue;  // a damaged group proves nothing
    }
    if (!metadata || metadata->status == core::group_status::failed) {
      continue;
    }
    for (auto& r : metadata->results) {
      if (r.status == core::task_status::completed) {
        ids.emplace(std::move(r.task_id));
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

std::string reported_status(const group_metadata& metadata, const std::filesystem::path& dir) {
  return reported_status(metadata.status, dir);
}

std::string reported_status(core::group_status s, const std::filesystem::path& dir) {
  if ((s == core::group_status::running || s == core::group_status::pending) &&
      !group_is_locked(dir)) {
    return "interrupted";
  }
  return std::string(core::to_string(s));
}

bool group_is_locked(const std::filesystem::path& dir) {
  unique_fd fd(open_state_file(dir / "lock"));
  if (!fd) {
    return false;
  }
  const bool locked = ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  fd.reset();  // releases the shared lock if it was taken
  return locked;
}

std::optional<group_lock> group_lock::try_acquire(const std::filesystem::path& dir) {
  const auto path = dir / "lock";
  // Never through a symlink: one planted at `lock` would be truncated.
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd && errno == ELOOP) {
    throw refused("refusing to use " + path.string() + ": it is a symlink");
  }
  if (!fd) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return std::nullopt;
  }
  // For people: who holds it. The lock itself is the flock.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    [[maybe_unused]] const auto n = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
  }
  return group_lock(fd.release());
}

group_lock::group_lock(group_lock&& other) noexcept = default;

group_lock& group_lock::operator=(group_lock&& other) noexcept = default;

group_lock::~group_lock() = default;

}  // namespace maestro
