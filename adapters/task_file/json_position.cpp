#include "task_file/json_position.hpp"

#include <algorithm>

namespace maestro::adapters {

text_position position_of(std::string_view text, std::size_t offset) noexcept {
  offset = std::min(offset, text.size());
  text_position pos;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

std::vector<std::size_t> array_element_offsets(std::string_view text) {
  std::vector<std::size_t> offsets;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  bool expect_element = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      continue;
    }
    if (expect_element && c != ']') {
      offsets.push_back(i);
    }
    expect_element = false;
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth == 1 && c == '[') {
          expect_element = true;
        }
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
        expect_element = depth == 1;
        break;
      default:
        break;
    }
  }
  return offsets;
}

}  // namespace maestro::adapters
