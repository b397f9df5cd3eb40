#include "terminal_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/ioctl.h>

namespace maestro::app {
namespace {

bool continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
}

// The byte offset where the code point after the first `n` begins.
std::size_t offset_of_column(std::string_view text, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!continuation_byte(text[i])) {
      if (seen == n) {
        return i;
      }
      ++seen;
    }
  }
  return text.size();
}

}  // namespace

std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !continuation_byte(c); }));
}

std::string fit_to_width(std::string_view text, std::size_t width) {
  if (columns(text) <= width) {
    return std::string(text);
  }
  constexpr std::string_view ellipsis = "...";
  if (width <= ellipsis.size()) {
    return std::string(ellipsis.substr(0, width));
  }
  std::string out(text.substr(0, offset_of_column(text, width - ellipsis.size())));
  out += ellipsis;
  return out;
}

std::optional<std::vector<std::string>> tail_lines(const std::filesystem::path& path,
                                                   std::size_t count, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0));
  const std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string text(size - start, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));

  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) {
      end = text.size();
    }
    lines.emplace_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  if (start > 0 && lines.size() > 1) {
    lines.erase(lines.begin());  // cut by the window
  }
  if (lines.size() > count) {
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
  }
  return lines;
}

std::size_t terminal_width(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0) {
    return 0;
  }
  return size.ws_col;
}

std::size_t output_width(int fd) {
  if (const auto width = terminal_width(fd); width > 0) {
    return width;
  }
  if (const char* columns_env = std::getenv("COLUMNS"); columns_env != nullptr) {
    std::size_t width = 0;
    const std::string_view text(columns_env);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), width);
    if (ec == std::errc{} && end == text.data() + text.size()) {
      return width;
    }
  }
  return 0;
}

std::vector<std::string> format_table(const std::vector<table_column>& table,
                                      const std::vector<std::vector<std::string>>& rows,
                                      std::size_t width, std::string_view indent) {
  constexpr std::size_t gap = 2;
  constexpr std::size_t narrowest = 8;
  std::vector<std::size_t> widths(table.size());
  for (std::size_t c = 0; c < table.size(); ++c) {
    widths[c] = columns(table[c].title);
    for (const auto& row : rows) {
      if (c < row.size()) {
        widths[c] = std::max(widths[c], columns(row[c]));
      }
    }
  }
  const auto total = [&] {
    std::size_t sum = columns(indent);
    for (const auto w : widths) {
      sum += w;
    }
    return sum + gap * (widths.empty() ? 0 : widths.size() - 1);
  };
  // Narrow the column that shrinks first, one column at a time.
  while (width > 0 && total() > width) {
    std::size_t widest = table.size();
    for (std::size_t c = 0; c < table.size(); ++c) {
      if (table[c].shrink == 0 || widths[c] <= narrowest) {
        continue;
      }
      if (widest == table.size() || table[c].shrink > table[widest].shrink ||
          (table[c].shrink == table[widest].shrink && widths[c] > widths[widest])) {
        widest = c;
      }
    }
    if (widest == table.size()) {
      break;
    }
    --widths[widest];
  }
  const auto line_of = [&](const auto& cell_at) {
    std::string line(indent);
    for (std::size_t c = 0; c < table.size(); ++c) {
      auto cell = fit_to_width(cell_at(c), widths[c]);
      const auto pad = std::string(widths[c] - columns(cell), ' ');
      if (c + 1 == table.size() && !table[c].right) {
        line += cell;  // no padding at the end of a line
      } else {
        line += table[c].right ? pad + cell : cell + pad;
      }
      if (c + 1 < table.size()) {
        line += std::string(gap, ' ');
      }
    }
    return width > 0 ? fit_to_width(line, width) : line;
  };
  std::vector<std::string> out;
  out.push_back(line_of([&](std::size_t c) -> std::string_view { return table[c].title; }));
  for (const auto& row : rows) {
    out.push_back(line_of([&](std::size_t c) -> std::string_view {
      return c < row.size() ? std::string_view(row[c]) : std::string_view();
    }));
  }
  return out;
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds));
  char buffer[32];
  (void)std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buffer;
}

}  // namespace maestro::app
