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

#include <maestro/ports/state_store.hpp>
#include <maestro/unique_fd.hpp>

namespace maestro {

namespace detail {
class chunked_writer;
}  // namespace detail

/// The default state store: `metadata.json` (replaced atomically: a
/// temporary file, then `rename`) and `events.jsonl` (one JSON object per
/// change, appended in whole lines) in the group's directory.
///
/// Writes are coalesced: a change arms a timer of `coalesce` (100 ms by
/// default), so a burst of changes costs one write, and each change is in
/// `events.jsonl` within that delay. A task's terminal state is written
/// ahead, at once, before the runtime acts on it (a write-ahead log: a
/// SIGKILL of the engine cannot lose it). The first `flush` writes
/// `metadata.json`, then a `run` marker: `resume` replays the lines after
/// the last marker over `metadata.json`.
///
/// `metadata.json` is rewritten with the same delay for groups of up to
/// `paced_from` (10,000) tasks. In larger groups, once one rewrite takes
/// longer than 1/20 of the delay, the next waits 20 times as long as the
/// last one took, so that writing state stays under about 5 % of the
/// engine's time however large the group. Results are formatted straight
/// into the file, in a 64 KiB buffer: nothing of size proportional to the
/// group is kept or built. `flush` writes both at once and `fsync`s; the
/// runtime calls it for the first state and for the terminal one.
///
/// A failed write (a full disk) leaves the previous `metadata.json` whole
/// and is reported to `on_error`; the store tries again on its timer.
class file_state_store final : public state_store {
 public:
  using error_handler = std::function<void(const std::string&)>;
  /// Told after each write of `metadata.json`: its size, and the time the
  /// store spent since the previous report (recording changes, serialising
  /// and writing).
  using written_handler = std::function<void(std::size_t bytes, std::chrono::nanoseconds spent)>;

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

  [[nodiscard]] const group_record& record() const noexcept override { return record_; }

  /// Sets the handler told after each write.
  void on_written(written_handler handler) { on_written_ = std::move(handler); }

  /// The ISO 8601 UTC text of a point on the engine's clock.
  [[nodiscard]] std::string wall_time(core::clock_time t) const;

 private:
  void schedule(const core::group_machine& machine);
  bool write(const core::group_machine& machine, bool sync);
  bool write_files(const core::group_machine& machine, bool sync, std::size_t& bytes);
  void append_events();
  /// Keeps space allocated beyond the end of `events.jsonl`
  /// (`fallocate`, keeping its size), so that the lines of the children
  /// that still run can be written when the disk fills up.
  void reserve_ahead();
  static constexpr std::size_t reserve_chunk = std::size_t{256} * 1024;
  static constexpr std::size_t reserve_margin = std::size_t{64} * 1024;

  /// Groups of more tasks than this may have their metadata.json rewritten
  /// less often than every `coalesce` (SPEC section 6).
  static constexpr std::size_t paced_from = 10'000;
  /// Pending event lines are appended once they reach this size.
  static constexpr std::size_t events_batch = std::size_t{64} * 1024;
  /// Task `task`'s entry of `results`.
  void append_result(detail::chunked_writer& out, const core::group_machine& machine,
                     std::size_t task) const;
  void arm(std::chrono::steady_clock::time_point at);
  void append_time(detail::chunked_writer& out, core::clock_time t) const;
  [[nodiscard]] std::chrono::system_clock::time_point to_wall(core::clock_time t) const;

  group_record record_;
  std::string logs_prefix_;  // `dir/logs/`
  error_handler on_error_;
  written_handler on_written_;
  std::chrono::milliseconds coalesce_;
  std::chrono::nanoseconds spent_{0};                      // since the last report
  bool metadata_stale_ = true;                             // metadata.json lags the machine
  std::chrono::steady_clock::time_point next_metadata_{};  // no rewrite before
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  const core::group_machine* machine_ = nullptr;
  std::chrono::system_clock::time_point wall_anchor_;
  core::clock_time steady_anchor_;
  std::string started_at_;
  std::string completed_at_;
  std::string pending_events_;   // whole lines not yet appended
  std::string last_group_line_;  // to log a group change once
  std::string last_error_;       // the last failed write's reason
  unique_fd events_fd_;
  std::size_t events_size_ = 0;  // what events.jsonl holds
  std::size_t reserved_to_ = 0;  // allocated up to here
  bool reserve_supported_ = true;
  bool marked_ = false;                                    // this run's `run` marker is written
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the store
};

}  // namespace maestro
