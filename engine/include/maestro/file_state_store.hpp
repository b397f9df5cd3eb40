#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <maestro/state_store.hpp>

namespace maestro {

/// What the state files record besides the machine's own state.
struct group_record {
  std::string group_id;
  std::string group_name;
  bool parallel = true;
  /// The group's directory: `<state_dir>/parallel_groups/<group-id>`.
  std::filesystem::path dir;
  /// Per task, in the machine's order: its skills and its log file.
  std::vector<std::vector<std::string>> skills;
  std::vector<std::filesystem::path> logs;
  int max_concurrent = 0;
  std::optional<int> group_limit;
  std::map<std::string, int> agent_limits;
  int engine_pid = 0;
  std::string source;
  /// Kept from an earlier run of the group (resume); now when empty.
  std::string created_at;
};

/// The default state store: `metadata.json` (replaced atomically: a
/// temporary file, then `rename`) and `events.jsonl` (one JSON object per
/// change, appended in whole lines) in the group's directory.
///
/// Writes are coalesced: a change arms a timer of `coalesce` (100 ms by
/// default), so a burst of changes costs one write, and each change reaches
/// the disk within that delay. Each task's result is serialised again only
/// when that task changed; `metadata.json` is then the concatenation of the
/// cached results. `flush` writes at once and `fsync`s; the runtime calls it
/// for the first state and for the terminal one.
///
/// A failed write (a full disk) leaves the previous `metadata.json` whole
/// and is reported to `on_error`; the next change tries again.
class file_state_store final : public state_store {
 public:
  using error_handler = std::function<void(const std::string&)>;

  /// `executor` must be the runtime's strand. `anchor_*` map the engine's
  /// monotonic clock to wall time for the ISO 8601 timestamps.
  file_state_store(const boost::asio::any_io_executor& executor, group_record record,
                   error_handler on_error,
                   std::chrono::milliseconds coalesce = std::chrono::milliseconds(100));
  ~file_state_store() override;

  void task_changed(const core::group_machine& machine, std::size_t task,
                    core::clock_time now) override;
  void group_changed(const core::group_machine& machine, core::clock_time now) override;
  void flush(const core::group_machine& machine) override;

  /// The ISO 8601 UTC text of a point on the engine's clock.
  [[nodiscard]] std::string wall_time(core::clock_time t) const;

 private:
  void schedule(const core::group_machine& machine);
  bool write(const core::group_machine& machine, bool sync);
  std::string result_json(const core::group_machine& machine, std::size_t task) const;
  std::string metadata_json(const core::group_machine& machine);

  group_record record_;
  error_handler on_error_;
  std::chrono::milliseconds coalesce_;
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  const core::group_machine* machine_ = nullptr;
  std::chrono::system_clock::time_point wall_anchor_;
  core::clock_time steady_anchor_;
  std::string started_at_;
  std::string completed_at_;
  std::vector<std::string> results_;  // cached, per task
  std::vector<std::size_t> dirty_;    // tasks whose cache is stale
  std::vector<bool> is_dirty_;
  std::string pending_events_;   // whole lines not yet appended
  std::string last_group_line_;  // to log a group change once
  int events_fd_ = -1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the store
};

}  // namespace maestro
