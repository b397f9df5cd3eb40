#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace maestro {

/// Writes `t` as ISO 8601 UTC with milliseconds (`2026-11-27T16:01:51.042Z`)
/// into `buffer`; returns the length (24). The text up to the second is
/// kept per thread: most calls fall in the same second as the one before.
std::size_t format_utc(std::chrono::system_clock::time_point t, std::span<char, 32> buffer);

/// The same, as a string.
[[nodiscard]] std::string format_utc(std::chrono::system_clock::time_point t);
/// The inverse of `format_utc`: `YYYY-MM-DDTHH:MM:SS[.fff]Z`; nullopt for
/// any other text.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text);

}  // namespace maestro
