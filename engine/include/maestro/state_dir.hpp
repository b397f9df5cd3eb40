#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/json/value.hpp>

namespace maestro {

/// `<state_dir>/parallel_groups/<group-id>`.
[[nodiscard]] std::filesystem::path group_dir(const std::filesystem::path& state_dir,
                                              std::string_view group_id);

/// A group's `metadata.json`, parsed; nullopt when the group has none.
/// Throws `std::runtime_error` naming the file when it is not valid JSON.
[[nodiscard]] std::optional<boost::json::value> read_metadata(const std::filesystem::path& dir);

/// The group ids found under `<state_dir>/parallel_groups`, sorted.
[[nodiscard]] std::vector<std::string> group_ids(const std::filesystem::path& state_dir);

/// Ids of tasks recorded `completed` in groups whose status is not
/// `failed`: a dependency on them is satisfied.
[[nodiscard]] std::unordered_set<std::string> completed_task_ids(
    const std::filesystem::path& state_dir);

/// The status to report for a group: its recorded `status`, except that a
/// group recorded `pending` or `running` whose lock nobody holds (its engine
/// is gone) is `interrupted`.
[[nodiscard]] std::string reported_status(const boost::json::value& metadata,
                                          const std::filesystem::path& dir);

/// True when an engine holds the group's lock, i.e. the group is running.
[[nodiscard]] bool group_is_locked(const std::filesystem::path& dir);

/// The lock of a group: `flock` on `<dir>/lock`, held while the object
/// lives. Its descriptor is close-on-exec, so children do not hold it.
class group_lock {
 public:
  /// Takes the lock, or returns nullopt when another engine holds it.
  /// Throws `std::runtime_error` when the lock file cannot be opened.
  [[nodiscard]] static std::optional<group_lock> try_acquire(const std::filesystem::path& dir);

  group_lock(group_lock&& other) noexcept;
  group_lock& operator=(group_lock&& other) noexcept;
  group_lock(const group_lock&) = delete;
  group_lock& operator=(const group_lock&) = delete;
  ~group_lock();

 private:
  explicit group_lock(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace maestro
