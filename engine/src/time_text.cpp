#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include <maestro/time_text.hpp>

namespace maestro {

std::size_t format_utc(std::chrono::system_clock::time_point t, std::span<char, 32> buffer) {
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 32> cached{};
  thread_local std::size_t cached_size = 0;
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const auto seconds = static_cast<std::time_t>(millis / 1000);
  if (seconds != cached_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    const int n = std::snprintf(cached.data(), cached.size(), "%04d-%02d-%02dT%02d:%02d:%02d",
                                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                utc.tm_min, utc.tm_sec);
    cached_size = static_cast<std::size_t>(std::clamp(n, 0, 19));
    cached_second = seconds;
  }
  std::copy_n(cached.begin(), cached_size, buffer.begin());
  const auto ms = static_cast<int>(millis % 1000);
  buffer[cached_size] = '.';
  buffer[cached_size + 1] = static_cast<char>('0' + ms / 100);
  buffer[cached_size + 2] = static_cast<char>('0' + ms / 10 % 10);
  buffer[cached_size + 3] = static_cast<char>('0' + ms % 10);
  buffer[cached_size + 4] = 'Z';
  return cached_size + 5;
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  std::array<char, 32> buffer{};
  return {buffer.data(), format_utc(t, buffer)};
}

}  // namespace maestro
