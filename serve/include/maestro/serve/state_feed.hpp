#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <maestro/adapters/inotify_watcher.hpp>
#include <maestro/serve/state_view.hpp>

namespace maestro::serve {

/// Keeps a `state_view` current, woken only by the kernel: inotify on the
/// state directory (each group's directory, for `metadata.json` replaced
/// and `events.jsonl` appended to, and its `logs/`), and a pidfd per
/// running group's engine (an engine that dies writes nothing; its group
/// turns `interrupted`). A state directory that does not exist yet is
/// waited for by watching its nearest existing ancestor; nothing is
/// created. Each change becomes deltas, handed to `on_deltas` at once.
///
/// Log growth is gathered for `log_coalesce` (a chatty agent's thousand
/// writes a second are a few messages); state changes are never delayed.
/// Everything runs on `executor`, which must not run handlers
/// concurrently (a strand, or a single-threaded io_context).
class state_feed {
 public:
  using deltas_handler = std::function<void(const std::vector<delta>&)>;

  state_feed(const boost::asio::any_io_executor& executor, std::filesystem::path state_dir,
             std::chrono::milliseconds log_coalesce = std::chrono::milliseconds(100));
  state_feed(const state_feed&) = delete;
  state_feed& operator=(const state_feed&) = delete;
  ~state_feed();

  /// Reads the state as it is and starts watching. Throws
  /// `boost::system::system_error` when inotify cannot be had.
  void start(deltas_handler on_deltas);
  /// Stops watching; `on_deltas` is not called after this.
  void stop();
  /// Reads every group again now, and hands on what changed: the last
  /// word before a server that stops with its run.
  void refresh();

  [[nodiscard]] const state_view& view() const noexcept { return view_; }

 private:
  enum class dir_kind { ancestor, groups, group, logs };
  void arm();
  void watch_group(const std::string& id);
  void on_change(const file_change& change);
  void watch_engines();
  void log_grew(const std::string& id, const std::string& name);
  void flush_logs();
  void deliver();
  /// Runs `step`, then hands on what it made, even when it threw.
  void guarded(const std::function<void()>& step);

  boost::asio::any_io_executor executor_;
  state_view view_;
  std::unique_ptr<inotify_watcher> watcher_;
  std::map<std::filesystem::path, std::pair<dir_kind, std::string>> watched_;
  std::map<std::string, std::unique_ptr<boost::asio::posix::stream_descriptor>> engines_;
  std::set<std::pair<std::string, std::string>> grown_logs_;  // group, log file name
  boost::asio::steady_timer log_timer_;
  std::chrono::milliseconds log_coalesce_;
  bool log_timer_armed_ = false;
  std::vector<delta> pending_;
  deltas_handler on_deltas_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace maestro::serve
