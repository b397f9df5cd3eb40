#include <cerrno>
#include <cstring>
#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>

#include <maestro/adapters/inotify_watcher.hpp>

namespace maestro {
namespace {

constexpr std::size_t buffer_size = std::size_t{64} * 1024;

int open_inotify() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    throw boost::system::system_error(errno, boost::system::system_category(), "inotify_init1");
  }
  return fd;
}

}  // namespace

static_assert(inotify_watcher::default_mask == (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                                IN_CREATE | IN_DELETE | IN_DELETE_SELF));

inotify_watcher::inotify_watcher(const boost::asio::any_io_executor& executor)
    : descriptor_(executor, open_inotify()), buffer_(new char[buffer_size]) {}

inotify_watcher::~inotify_watcher() {
  stop();
}

boost::system::error_code inotify_watcher::watch(const std::filesystem::path& dir,
                                                 std::uint32_t mask) {
  const int wd = ::inotify_add_watch(descriptor_.native_handle(), dir.c_str(), mask);
  if (wd < 0) {
    return {errno, boost::system::system_category()};
  }
  dirs_[wd] = dir;
  return {};
}

void inotify_watcher::start(handler on_change) {
  on_change_ = std::move(on_change);
  read_more();
}

void inotify_watcher::stop() {
  alive_.reset();
  alive_ = std::make_shared<int>(0);
  on_change_ = nullptr;
  boost::system::error_code ignored;
  descriptor_.close(ignored);
}

void inotify_watcher::read_more() {
  if (!descriptor_.is_open()) {
    return;
  }
  descriptor_.async_read_some(
      boost::asio::buffer(buffer_.get(), buffer_size),
      [this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec, std::size_t n) {
        if (ec || alive.expired() || !on_change_) {
          return;
        }
        // One read returns whole events; each is a header and a padded name.
        std::size_t at = 0;
        while (at + sizeof(inotify_event) <= n) {
          inotify_event header{};
          std::memcpy(&header, buffer_.get() + at, sizeof header);
          file_change change;
          change.mask = header.mask;
          change.overflow = (header.mask & IN_Q_OVERFLOW) != 0;
          if (const auto it = dirs_.find(header.wd); it != dirs_.end()) {
            change.dir = it->second;
          }
          if (header.len > 0) {
            const char* name = buffer_.get() + at + sizeof(inotify_event);
            change.name.assign(name, ::strnlen(name, header.len));
          }
          at += sizeof(inotify_event) + header.len;
          if ((header.mask & IN_IGNORED) != 0) {
            dirs_.erase(header.wd);
            continue;
          }
          on_change_(change);
          if (alive.expired()) {
            return;  // the handler stopped the watcher
          }
        }
        read_more();
      });
}

}  // namespace maestro
