#include <chrono>
#include <sys/stat.h>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <maestro/adapters/file_task_source.hpp>
#include <maestro/adapters/inotify_watcher.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/log.hpp>

namespace maestro {
namespace {

bool is_plain_file(const std::filesystem::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// One watch: the inotify instance, the pending re-read, and what is known
// closed. Every handler runs on the strand; the watcher's and the timer's
// handlers end with them (both are cancelled by their destructors, and a
// handler already queued finds `alive_` expired).
class file_watch final : public task_source::subscription {
 public:
  file_watch(const boost::asio::any_io_executor& strand, std::filesystem::path file,
             std::unordered_set<std::string> closed, task_source::closed_handler on_closed,
             task_source::warning_handler on_warning)
      : file_(std::move(file)),
        closed_(std::move(closed)),
        on_closed_(std::move(on_closed)),
        on_warning_(std::move(on_warning)),
        watcher_(strand),
        reread_(strand) {}
  file_watch(const file_watch&) = delete;
  file_watch& operator=(const file_watch&) = delete;
  ~file_watch() override { reread_.cancel(); }

  boost::system::error_code start() {
    const auto dir = file_.has_parent_path() ? file_.parent_path() : std::filesystem::path(".");
    if (auto ec = watcher_.watch(dir); ec) {
      return ec;
    }
    watcher_.start([this, name = file_.filename().string()](const file_change& change) {
      if (!change.overflow && change.name != name) {
        return;
      }
      if (armed_) {
        return;
      }
      armed_ = true;
      reread_.expires_after(std::chrono::milliseconds(2));
      reread_.async_wait(
          [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired()) {
              return;
            }
            armed_ = false;
            reread();
          });
    });
    return {};
  }

 private:
  void reread() {
    if (!is_plain_file(file_)) {
      return;  // replaced by a FIFO or a device: never read on the loop
    }
    task_document doc;
    try {
      doc = load_task_file(file_);
    } catch (const core::input_error& e) {
      // Half-written by an editor, perhaps: the next change reads it again.
      if (!warned_ && on_warning_) {
        on_warning_(std::string("task source unreadable: ") + e.what());
        warned_ = true;
      }
      return;
    }
    for (const auto& t : doc.tasks) {
      if (core::is_closed_status(t.status) && closed_.insert(t.id).second) {
        if (log::enabled(log::level::debug)) {
          log::write(log::level::debug, "task source: " + t.id + " is now " + t.status);
        }
        on_closed_(t.id);
      }
    }
  }

  std::filesystem::path file_;
  std::unordered_set<std::string> closed_;
  task_source::closed_handler on_closed_;
  task_source::warning_handler on_warning_;
  inotify_watcher watcher_;
  boost::asio::steady_timer reread_;
  bool armed_ = false;
  bool warned_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace

file_task_source::file_task_source(boost::asio::any_io_executor strand, std::filesystem::path file)
    : strand_(std::move(strand)), file_(std::move(file)) {}

std::vector<core::task> file_task_source::load() {
  return load_task_file(file_).tasks;
}

std::unique_ptr<task_source::subscription> file_task_source::watch(
    std::unordered_set<std::string> closed, interest_query /*interest*/, closed_handler on_closed,
    warning_handler on_warning) {
  // The whole file is read at each change: every id that closed is told.
  if (!is_plain_file(file_)) {
    if (log::enabled(log::level::debug)) {
      log::write(log::level::debug,
                 "task source " + file_.string() + " is not a regular file: not watched");
    }
    return nullptr;
  }
  std::unique_ptr<file_watch> w;
  try {
    w = std::make_unique<file_watch>(strand_, file_, std::move(closed), std::move(on_closed),
                                     on_warning);
  } catch (const boost::system::system_error& e) {
    if (on_warning) {
      on_warning(std::string("cannot watch the task source: ") + e.what());
    }
    return nullptr;
  }
  if (const auto ec = w->start(); ec) {
    const auto dir = file_.has_parent_path() ? file_.parent_path() : std::filesystem::path(".");
    if (on_warning) {
      on_warning("cannot watch " + dir.string() + ": " + ec.message());
    }
    return nullptr;
  }
  return w;
}

}  // namespace maestro
