// The local launcher when descriptors run out between the spawn and the
// pidfd: the child must not be left running unobserved, and nothing throws.

#include <cerrno>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/local_launcher.hpp>

#include "support/temp_dir.hpp"

namespace {

// The launch with no descriptor to spare. UBSan's vptr check needs a pipe
// on a cache miss, which an exhausted table cannot give: it is off here
// (the launcher's own checks were warmed by a first launch).
__attribute__((no_sanitize("vptr"))) maestro::child_handle launch_exhausted(
    maestro::local_launcher& launcher, const maestro::launch_spec& spec, bool& exited,
    boost::system::error_code& ec, bool& threw) {
  try {
    return launcher.launch(
        spec, [&exited](maestro::exit_info) { exited = true; }, ec);
  } catch (...) {
    threw = true;
  }
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(local_launcher_limits)

BOOST_AUTO_TEST_CASE(a_child_that_cannot_be_watched_is_ended_and_reported) {
  maestro::test::temp_dir dir;
  boost::asio::io_context io;
  maestro::local_launcher launcher(io.get_executor());
  maestro::launch_spec spec;
  spec.argv = {"/bin/sleep", "30"};
  spec.log_file = dir.path() / "t.log";

  // A launch with descriptors to spare first: it works, and it warms what
  // UBSan's vptr checks cache (on a miss they need a pipe, which an
  // exhausted table cannot give).
  {
    auto ok = spec;
    ok.argv = {"/bin/true"};
    boost::system::error_code first_ec;
    int code = -1;
    (void)launcher.launch(
        ok, [&](maestro::exit_info x) { code = x.exit_code; }, first_ec);
    BOOST_TEST_REQUIRE(!first_ec, first_ec.message());
    io.run();
    io.restart();
    BOOST_TEST(code == 0);
  }

  // Leave exactly one descriptor free: the log takes it, the spawn
  // succeeds, and pidfd_open finds none.
  rlimit saved{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  std::vector<int> filler;
  rlimit low = saved;
  low.rlim_cur = 256;
  BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  for (int fd = ::dup(0); fd >= 0; fd = ::dup(0)) {
    filler.push_back(fd);
  }
  BOOST_TEST_REQUIRE(!filler.empty());
  ::close(filler.back());
  filler.pop_back();

  // No Boost.Test macro until the descriptors are back: the framework (and
  // UBSan's checks) may need one.
  boost::system::error_code ec;
  bool exited = false;
  bool threw = false;
  const auto child = launch_exhausted(launcher, spec, exited, ec, threw);
  for (const int fd : filler) {
    ::close(fd);
  }
  ::setrlimit(RLIMIT_NOFILE, &saved);

  BOOST_TEST(!threw);

  BOOST_TEST(ec.value() == EMFILE, ec.message());
  BOOST_TEST(child.pid == 0);
  // No child is left running or unreaped.
  int status = 0;
  BOOST_TEST(::waitpid(-1, &status, WNOHANG) == -1);
  BOOST_TEST(errno == ECHILD);
  io.run();
  BOOST_TEST(!exited);
}

BOOST_AUTO_TEST_SUITE_END()
