#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

namespace maestro {

/// One change seen in a watched directory.
struct file_change {
  std::filesystem::path dir;  ///< the watched directory
  std::string name;           ///< the entry's name in it; empty for the directory itself
  std::uint32_t mask = 0;     ///< inotify's event mask
  /// The kernel's queue overflowed and events were dropped: re-read
  /// everything the watches cover.
  bool overflow = false;
};

/// Watches directories with inotify through an Asio stream descriptor, and
/// calls a handler for each change. Directories, not files, are watched: an
/// atomic `rename` over a file replaces its inode, which would end a watch
/// on the file itself.
///
/// The inotify descriptor is close-on-exec and non-blocking. Handlers run on
/// the executor given; nothing is read until `start`. Destroying the watcher
/// (or `stop`) ends the watch; a handler is never called after that.
class inotify_watcher {
 public:
  using handler = std::function<void(const file_change&)>;

  /// The default events: a file written and closed, moved in or out,
  /// created, deleted, and the directory itself going away.
  static constexpr std::uint32_t default_mask = 0x00000008U     // IN_CLOSE_WRITE
                                                | 0x00000080U   // IN_MOVED_TO
                                                | 0x00000040U   // IN_MOVED_FROM
                                                | 0x00000100U   // IN_CREATE
                                                | 0x00000200U   // IN_DELETE
                                                | 0x00000400U;  // IN_DELETE_SELF

  /// Opens an inotify instance. Throws `boost::system::system_error` when
  /// the kernel refuses (no inotify, or the per-user limit reached).
  explicit inotify_watcher(const boost::asio::any_io_executor& executor);
  inotify_watcher(const inotify_watcher&) = delete;
  inotify_watcher& operator=(const inotify_watcher&) = delete;
  ~inotify_watcher();

  /// Watches `dir` for `mask` events. Returns an error when the directory
  /// cannot be watched (it does not exist, say).
  boost::system::error_code watch(const std::filesystem::path& dir,
                                  std::uint32_t mask = default_mask);

  /// Starts reading; `on_change` is called for every change, in order.
  void start(handler on_change);

  /// Stops reading and closes the descriptor.
  void stop();

  /// The inotify descriptor (for tests of close-on-exec).
  [[nodiscard]] int native_handle() noexcept { return descriptor_.native_handle(); }

 private:
  void read_more();

  boost::asio::posix::stream_descriptor descriptor_;
  std::map<int, std::filesystem::path> dirs_;  // watch descriptor -> directory
  handler on_change_;
  std::unique_ptr<char[]> buffer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace maestro
