#pragma once

#include <unistd.h>
#include <utility>

namespace maestro {

/// Owns a file descriptor: the one owner of raw descriptors in the engine
/// and its host. Move-only; closes what it holds when destroyed or reset.
/// A negative value means "none". It never changes a descriptor's flags
/// (close-on-exec stays as it was opened), and it ignores `close`'s result:
/// a caller that must know whether a close succeeded (a written file) calls
/// `::close(release())` itself.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  ~unique_fd() { reset(); }

  /// The descriptor, still owned; negative when none.
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// True when it holds a descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  /// Gives the descriptor up without closing it.
  int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes the descriptor held, if any, and holds `fd` instead.
  void reset(int fd = -1) noexcept {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) {
      static_cast<void>(::close(old));
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace maestro
