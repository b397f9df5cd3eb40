#include <fcntl.h>
#include <filesystem>
#include <sys/inotify.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/inotify_watcher.hpp>

#include "support/temp_dir.hpp"

using maestro::file_change;
using maestro::inotify_watcher;

BOOST_AUTO_TEST_SUITE(inotify_watcher_tests)

BOOST_AUTO_TEST_CASE(descriptor_is_close_on_exec) {
  boost::asio::io_context io;
  inotify_watcher watcher(io.get_executor());
  const int flags = ::fcntl(watcher.native_handle(), F_GETFD);
  BOOST_TEST((flags & FD_CLOEXEC) != 0);
}

BOOST_AUTO_TEST_CASE(sees_an_atomic_replace_and_a_write) {
  const maestro::test::temp_dir dir;
  dir.write("tasks.json", "[]");
  boost::asio::io_context io;
  inotify_watcher watcher(io.get_executor());
  BOOST_TEST_REQUIRE(!watcher.watch(dir.path()));
  std::vector<file_change> seen;
  watcher.start([&](const file_change& c) {
    seen.push_back(c);
    if ((c.mask & IN_MOVED_TO) != 0) {
      watcher.stop();  // stopping from the handler ends the watch cleanly
    }
  });
  dir.write("other.txt", "x");  // written and closed
  dir.write("tasks.json.tmp", "[1]");
  std::filesystem::rename(dir.path() / "tasks.json.tmp", dir.path() / "tasks.json");
  io.run();  // returns once the watcher stopped: nothing else is pending
  const auto has = [&](const std::string& name, std::uint32_t mask) {
    return std::any_of(seen.begin(), seen.end(), [&](const file_change& c) {
      return c.name == name && (c.mask & mask) != 0 && c.dir == dir.path();
    });
  };
  BOOST_TEST(has("other.txt", IN_CLOSE_WRITE));
  BOOST_TEST(has("tasks.json", IN_MOVED_TO));
  BOOST_TEST(!seen.back().overflow);
}

BOOST_AUTO_TEST_CASE(a_missing_directory_is_an_error) {
  boost::asio::io_context io;
  inotify_watcher watcher(io.get_executor());
  BOOST_TEST(static_cast<bool>(watcher.watch("/no/such/directory")));
}

BOOST_AUTO_TEST_SUITE_END()
