#pragma once

// What `serve` knows of a state directory: every group's `metadata.json`,
// with the lines of its `events.jsonl` applied on top as they are appended.
// It reads only the files it is told changed, and answers each change with
// the small deltas a page needs (one task's row, one group's row, a log's
// new text), never the whole state. No sockets and no inotify here: the
// feed (state_feed.hpp) tells it what changed, the HTTP server asks it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace maestro::serve {

/// One change for the clients of `/events`: the SSE event's name (`group`,
/// `task`, `log` or `removed`) and its data, one line of JSON.
struct delta {
  std::uint64_t seq = 0;  ///< increases by one per delta; the SSE `id`
  std::string event;
  std::string data;
};

/// `json` serialised with `<`, `>` and `&` written as `\u003c`, ... (still
/// the same JSON), so that no task-provided text can close a `<script>` or
/// start markup wherever the text lands.
[[nodiscard]] std::string safe_json(const boost::json::value& json);

/// The view of one state directory.
class state_view {
 public:
  explicit state_view(std::filesystem::path state_dir);
  state_view(const state_view&) = delete;
  state_view& operator=(const state_view&) = delete;
  state_view(state_view&&) noexcept;
  state_view& operator=(state_view&&) noexcept;
  ~state_view();

  [[nodiscard]] const std::filesystem::path& state_dir() const noexcept { return state_dir_; }
  /// `<state_dir>/parallel_groups`.
  [[nodiscard]] std::filesystem::path groups_dir() const;

  /// Looks for groups that appeared or went away; reads the new ones.
  void rescan(std::vector<delta>& out);
  /// Reads what changed of group `id` (its `metadata.json` when `metadata`,
  /// always the new lines of its `events.jsonl`). A group not seen before
  /// is read whole.
  void group_changed(const std::string& id, bool metadata, std::vector<delta>& out);
  /// Reads what was appended to the group's log named `file_name` since
  /// the last call (at most the last 4 KiB of it).
  void log_grew(const std::string& id, const std::string& file_name, std::vector<delta>& out);

  /// The ids of the known groups, sorted.
  [[nodiscard]] std::vector<std::string> group_ids() const;
  /// The pid of the engine running group `id`, when it runs.
  [[nodiscard]] std::optional<int> engine_pid(const std::string& id) const;

  /// `list --json`'s shape.
  [[nodiscard]] boost::json::array groups_json() const;
  /// `status --json`'s shape; nullopt for a group the view does not know.
  [[nodiscard]] std::optional<boost::json::object> group_json(const std::string& id) const;
  /// The log of a task the view knows (a path taken from the state, never
  /// from the request), or nullopt.
  [[nodiscard]] std::optional<std::filesystem::path> log_path(const std::string& group_id,
                                                              const std::string& task_id) const;
  /// The Prometheus text exposition format (version 0.0.4) of the state.
  [[nodiscard]] std::string metrics(std::chrono::system_clock::time_point now) const;

  /// The seq of the last delta made.
  [[nodiscard]] std::uint64_t seq() const noexcept { return seq_; }

  struct group_state;

 private:
  group_state& load(const std::string& id, std::vector<delta>& out);
  void read_metadata(group_state& g);
  void read_events(group_state& g);
  void publish(group_state& g, std::vector<delta>& out);
  void emit(std::string event, std::string data, std::vector<delta>& out);

  std::filesystem::path state_dir_;
  std::map<std::string, std::unique_ptr<group_state>> groups_;
  std::uint64_t seq_ = 0;
};

/// The last `lines` lines of the file at `path` (at most 1 MiB of it),
/// never through a symlink; nullopt when it cannot be read.
[[nodiscard]] std::optional<std::string> tail_of(const std::filesystem::path& path,
                                                 std::size_t lines);

}  // namespace maestro::serve
