#include <exception>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <maestro/adapters/state_dir.hpp>
#include <maestro/serve/state_feed.hpp>

namespace maestro::serve {
namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {
constexpr std::uint32_t group_mask = inotify_watcher::default_mask | IN_MODIFY;
constexpr std::uint32_t logs_mask =
    IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF;

// `path` or its nearest ancestor that is a directory (`.` for a relative
// path none of whose components exists yet); empty when none is.
fs::path deepest_existing(fs::path path) {
  std::error_code ec;
  while (!path.empty() && !fs::is_directory(path, ec)) {
    if (path == path.parent_path()) {
      return {};
    }
    path = path.parent_path();
  }
  return path.empty() ? fs::path(".") : path;
}
}  // namespace

state_feed::state_feed(const asio::any_io_executor& executor, fs::path state_dir,
                       std::chrono::milliseconds log_coalesce)
    : executor_(executor),
      view_(std::move(state_dir)),
      log_timer_(executor),
      log_coalesce_(log_coalesce) {}

state_feed::~state_feed() {
  stop();
}

void state_feed::start(deltas_handler on_deltas) {
  on_deltas_ = std::move(on_deltas);
  watcher_ = std::make_unique<inotify_watcher>(executor_);
  arm();
  watcher_->start([this](const file_change& change) { guarded([&] { on_change(change); }); });
  deliver();
}

void state_feed::stop() {
  alive_ = std::make_shared<int>(0);
  on_deltas_ = nullptr;
  if (watcher_) {
    watcher_->stop();
  }
  engines_.clear();
  log_timer_.cancel();
}

void state_feed::refresh() {
  if (!watcher_) {
    return;
  }
  guarded([&] {
    view_.rescan(pending_);
    for (const auto& id : view_.group_ids()) {
      view_.group_changed(id, true, pending_);
    }
  });
}

void state_feed::guarded(const std::function<void()>& step) {
  try {
    step();
  } catch (const std::exception&) {
    // A file that went away or changed while it was read (a group removed
    // during a scan): the next change reads it again. The server does not
    // end for it, and what the view already made still goes out.
  }
  deliver();
}

// Watches the deepest existing directory on the way to
// `<state_dir>/parallel_groups`, and every group below it once it exists.
// Each watch is put in place before the look it guards: a directory made
// between a look and its watch would send no event, so the look that
// follows the watch is what sees it.
void state_feed::arm() {
  const auto groups = view_.groups_dir();
  for (;;) {
    std::error_code ec;
    if (fs::is_directory(groups, ec)) {
      if (!watched_.contains(groups) && !watcher_->watch(groups)) {
        watched_[groups] = {dir_kind::groups, ""};
      }
      // Every group directory, those without a metadata.json yet included,
      // then what they hold.
      for (const auto& id : group_ids(view_.state_dir())) {
        watch_group(id);
      }
      view_.rescan(pending_);
      watch_engines();
      return;
    }
    // Not there yet: wait for the next component to appear.
    const auto dir = deepest_existing(groups.parent_path());
    if (dir.empty()) {
      return;
    }
    if (!watched_.contains(dir) &&
        !watcher_->watch(dir, IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF)) {
      watched_[dir] = {dir_kind::ancestor, ""};
    }
    if (deepest_existing(groups.parent_path()) == dir && !fs::is_directory(groups, ec)) {
      return;  // nothing appeared before the watch was in place
    }
  }
}

void state_feed::watch_group(const std::string& id) {
  const auto dir = group_dir(view_.state_dir(), id);
  if (!watched_.contains(dir) && !watcher_->watch(dir, group_mask)) {
    watched_[dir] = {dir_kind::group, id};
  }
  const auto logs = dir / "logs";
  std::error_code ec;
  if (!watched_.contains(logs) && fs::is_directory(logs, ec) && !watcher_->watch(logs, logs_mask)) {
    watched_[logs] = {dir_kind::logs, id};
    // What was written before the watch began.
    for (const auto& entry : fs::directory_iterator(logs, ec)) {
      log_grew(id, entry.path().filename().string());
    }
  }
}

void state_feed::on_change(const file_change& change) {
  if (change.overflow) {
    // Events were dropped: read everything again.
    for (const auto& id : view_.group_ids()) {
      view_.group_changed(id, true, pending_);
    }
    arm();
    deliver();
    return;
  }
  const auto it = watched_.find(change.dir);
  if (it == watched_.end()) {
    return;
  }
  const auto [kind, id] = it->second;
  if ((change.mask & (IN_DELETE_SELF | IN_IGNORED)) != 0 && change.name.empty()) {
    watched_.erase(it);
  }
  switch (kind) {
    case dir_kind::ancestor:
    case dir_kind::groups:
      arm();
      break;
    case dir_kind::group:
      if (change.name == "events.jsonl") {
        view_.group_changed(id, false, pending_);
      } else if (change.name == "metadata.json") {
        view_.group_changed(id, true, pending_);
      } else if (change.name == "logs") {
        watch_group(id);
      } else if (change.name.empty()) {
        view_.rescan(pending_);
      }
      watch_engines();
      break;
    case dir_kind::logs:
      if (!change.name.empty()) {
        log_grew(id, change.name);
      }
      break;
  }
  deliver();
}

void state_feed::log_grew(const std::string& id, const std::string& name) {
  grown_logs_.emplace(id, name);
  if (log_timer_armed_) {
    return;
  }
  log_timer_armed_ = true;
  log_timer_.expires_after(log_coalesce_);
  log_timer_.async_wait(
      [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (!ec && !alive.expired()) {
          log_timer_armed_ = false;
          guarded([&] { flush_logs(); });
        }
      });
}

void state_feed::flush_logs() {
  auto grown = std::move(grown_logs_);
  grown_logs_.clear();
  for (const auto& [id, name] : grown) {
    view_.log_grew(id, name, pending_);
  }
}

// A pidfd per running group's engine: readable when it exits.
void state_feed::watch_engines() {
  for (const auto& id : view_.group_ids()) {
    const auto pid = view_.engine_pid(id);
    if (!pid || engines_.contains(id)) {
      continue;
    }
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
    if (fd < 0) {
      // Gone already (or no pidfd): look at its status once now.
      view_.group_changed(id, true, pending_);
      continue;
    }
    auto descriptor = std::make_unique<asio::posix::stream_descriptor>(executor_, fd);
    descriptor->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [this, id, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
          if (ec || alive.expired()) {
            return;
          }
          // The lock is let go as the process ends; look once it has.
          guarded([&] { view_.group_changed(id, true, pending_); });
          engines_.erase(id);
        });
    engines_[id] = std::move(descriptor);
  }
}

void state_feed::deliver() {
  if (pending_.empty()) {
    return;
  }
  auto batch = std::move(pending_);
  pending_.clear();
  if (on_deltas_) {
    on_deltas_(batch);
  }
}

}  // namespace maestro::serve
