#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

namespace maestro::app {

/// `serve`'s server on a command's io_context (SPEC section 12): the
/// state directory's view, kept current by inotify, over HTTP. Listening
/// starts in the constructor, so that a bad address or a port in use is
/// a `usage_error` (exit 2) before anything runs; then it prints
/// `maestro-async: serving DIR on URL` on stderr.
class serving {
 public:
  /// `listen` is `ADDR:PORT`; `origin` names where it came from, for the
  /// error (`--listen`, `--serve`, `serve.listen`).
  serving(boost::asio::io_context& io, const std::filesystem::path& state_dir,
          const std::string& listen, const std::string& origin);
  serving(const serving&) = delete;
  serving& operator=(const serving&) = delete;
  ~serving();

  /// `http://ADDR:PORT/`, with the port bound.
  [[nodiscard]] std::string url() const;
  /// Closes the listener and every connection.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace maestro::app
