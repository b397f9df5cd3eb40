// stamp FILE: appends CLOCK_MONOTONIC nanoseconds to FILE, the moment the
// agent started. The benchmark's agent, as small as an agent can be.
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    return 2;
  }
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  char line[32];
  const int n = std::snprintf(line, sizeof line, "%lld\n",
                              static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec);
  const int fd = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 || n <= 0 || ::write(fd, line, static_cast<std::size_t>(n)) != n) {
    return 1;
  }
  ::close(fd);
  return 0;
}
