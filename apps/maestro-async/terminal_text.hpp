#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maestro::app {

/// The columns `text` takes on a terminal, counted as one per UTF-8 code
/// point (the text has been through core::printable(), so it holds no
/// control characters; wide characters are not told apart).
[[nodiscard]] std::size_t columns(std::string_view text);

/// `text` cut to at most `width` columns: when longer, its end is replaced
/// by `...` (or as much of it as fits). A UTF-8 sequence is never split.
[[nodiscard]] std::string fit_to_width(std::string_view text, std::size_t width);

/// The last `count` lines of the file at `path`, read from at most its last
/// `max_bytes`; nullopt when the file cannot be read. A line cut by the
/// start of the window is dropped, unless it is the only one.
[[nodiscard]] std::optional<std::vector<std::string>> tail_lines(const std::filesystem::path& path,
                                                                 std::size_t count,
                                                                 std::size_t max_bytes = 65536);

/// The width in columns of the terminal on descriptor `fd`, or 0 when it
/// is not a terminal or does not say.
[[nodiscard]] std::size_t terminal_width(int fd);

/// The width lines printed on `fd` must keep to: the terminal's, else
/// `$COLUMNS`, else 0 (no limit: the output goes to a file or a pipe).
[[nodiscard]] std::size_t output_width(int fd);

/// A column of `format_table`.
struct table_column {
  std::string title;
  bool right = false;  ///< aligned right (numbers)
  /// 0: never cut; else it may be cut (with `...`) to fit the width, the
  /// columns of the highest `shrink` first.
  int shrink = 0;
};

/// A table for people: each column as wide as its widest cell (or title),
/// two spaces apart, after `indent`. When a line would be wider than
/// `width` (0: no limit), the columns that may shrink are narrowed (those
/// of the highest `shrink` first, down to 8 columns each), then every line
/// is cut to `width`.
/// Returns the lines: the titles, then one per row.
[[nodiscard]] std::vector<std::string> format_table(
    const std::vector<table_column>& table, const std::vector<std::vector<std::string>>& rows,
    std::size_t width, std::string_view indent = "");

/// Seconds as `h:mm:ss`.
[[nodiscard]] std::string clock_text(double seconds);

}  // namespace maestro::app
