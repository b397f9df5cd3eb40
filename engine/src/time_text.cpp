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

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, then an optional fraction, then Z.
  const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > text.size()) {
      return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto year = digits(0, 4);
  const auto month = digits(5, 2);
  const auto day = digits(8, 2);
  const auto hour = digits(11, 2);
  const auto minute = digits(14, 2);
  const auto second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text.size() < 20 ||
      text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text.back() != 'Z' || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  std::chrono::nanoseconds fraction{0};
  std::size_t at = 19;
  if (text[at] == '.') {
    long long scale = 100'000'000;
    for (++at; at + 1 < text.size(); ++at) {
      if (text[at] < '0' || text[at] > '9') {
        return std::nullopt;
      }
      fraction += std::chrono::nanoseconds((text[at] - '0') * scale);
      scale /= 10;
    }
  }
  if (at + 1 != text.size()) {
    return std::nullopt;
  }
  return std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
         std::chrono::seconds(*second) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

}  // namespace maestro
