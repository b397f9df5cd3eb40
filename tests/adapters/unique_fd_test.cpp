#include <cerrno>
#include <fcntl.h>
#include <type_traits>
#include <unistd.h>
#include <utility>

#include <boost/test/unit_test.hpp>

#include <maestro/unique_fd.hpp>

using maestro::unique_fd;

namespace {

// True when `fd` names an open descriptor of this process.
bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

// A fresh descriptor, close-on-exec.
int open_one() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(fd >= 0);
  return fd;
}

static_assert(!std::is_copy_constructible_v<unique_fd>);
static_assert(!std::is_copy_assignable_v<unique_fd>);
static_assert(std::is_nothrow_move_constructible_v<unique_fd>);
static_assert(std::is_nothrow_move_assignable_v<unique_fd>);

}  // namespace

BOOST_AUTO_TEST_SUITE(unique_fd_owner)

BOOST_AUTO_TEST_CASE(a_default_one_holds_nothing) {
  const unique_fd none;
  BOOST_TEST(none.get() == -1);
  BOOST_TEST(!none.valid());
  BOOST_TEST(!none);
  const unique_fd failed(-1);  // what a failed open(2) returns
  BOOST_TEST(!failed);
}

BOOST_AUTO_TEST_CASE(it_closes_what_it_holds_when_destroyed) {
  const int fd = open_one();
  {
    const unique_fd owner(fd);
    BOOST_TEST(owner.get() == fd);
    BOOST_TEST(owner.valid());
    BOOST_TEST(is_open(fd));
  }
  BOOST_TEST(!is_open(fd));
}

BOOST_AUTO_TEST_CASE(it_keeps_the_descriptors_flags) {
  unique_fd owner(open_one());
  BOOST_TEST((::fcntl(owner.get(), F_GETFD) & FD_CLOEXEC) != 0);
  const unique_fd moved(std::move(owner));
  BOOST_TEST((::fcntl(moved.get(), F_GETFD) & FD_CLOEXEC) != 0);
}

BOOST_AUTO_TEST_CASE(a_move_hands_the_descriptor_over) {
  const int fd = open_one();
  unique_fd first(fd);
  unique_fd second(std::move(first));
  // A moved-from owner holds nothing (checked on purpose).
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  BOOST_TEST(first.get() == -1);
  BOOST_TEST(second.get() == fd);
  BOOST_TEST(is_open(fd));
  first.reset();  // holds nothing: closes nothing
  BOOST_TEST(is_open(fd));
}

BOOST_AUTO_TEST_CASE(a_move_assignment_closes_the_old_descriptor) {
  const int old_fd = open_one();
  const int new_fd = open_one();
  unique_fd target(old_fd);
  unique_fd source(new_fd);
  target = std::move(source);
  BOOST_TEST(!is_open(old_fd));
  BOOST_TEST(target.get() == new_fd);
  BOOST_TEST(is_open(new_fd));
  // A moved-from owner holds nothing (checked on purpose).
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  BOOST_TEST(source.get() == -1);
  auto& same = target;
  target = std::move(same);  // assigned to itself: keeps its descriptor
  BOOST_TEST(target.get() == new_fd);
  BOOST_TEST(is_open(new_fd));
}

BOOST_AUTO_TEST_CASE(reset_closes_and_release_does_not) {
  const int first = open_one();
  const int second = open_one();
  unique_fd owner(first);
  owner.reset(second);
  BOOST_TEST(!is_open(first));
  BOOST_TEST(owner.get() == second);
  const int released = owner.release();
  BOOST_TEST(released == second);
  BOOST_TEST(!owner);
  BOOST_TEST(is_open(second));
  owner.reset();
  BOOST_TEST(is_open(second));  // released: no longer the owner's to close
  static_cast<void>(::close(second));
}

BOOST_AUTO_TEST_SUITE_END()
