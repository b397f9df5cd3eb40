#include "terminal_text.hpp"

#include <algorithm>
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

}  // namespace maestro::app
