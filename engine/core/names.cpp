#include <cstdint>

#include <maestro/core/names.hpp>

namespace maestro::core {
namespace {

constexpr std::string_view hex_digits = "0123456789ABCDEF";

bool is_plain(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c >= 0x80;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;  // lower case is never written, so it is no encoding
}

void append_hex(std::string& out, unsigned char c) {
  out += '%';
  out += hex_digits[c >> 4U];
  out += hex_digits[c & 0xfU];
}

}  // namespace

std::string encode_file_name(std::string_view text, bool reserve_underscore) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool leading_reserved = i == 0 && (c == '.' || (reserve_underscore && c == '_'));
    if (is_plain(c) && !leading_reserved) {
      out += static_cast<char>(c);
    } else {
      append_hex(out, c);
    }
  }
  return out;
}

std::optional<std::string> decode_file_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c != '%') {
      if (!is_plain(c) || (i == 0 && c == '.')) {
        return std::nullopt;
      }
      out += static_cast<char>(c);
      continue;
    }
    if (i + 2 >= name.size()) {
      return std::nullopt;
    }
    const int high = hex_value(name[i + 1]);
    const int low = hex_value(name[i + 2]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string log_file_name(std::string_view task_id) {
  return encode_file_name(task_id, true) + ".log";
}

std::string group_dir_name(std::string_view group_id) {
  return encode_file_name(group_id);
}

std::string encode_ref_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool ascii_plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                             (c >= 'a' && c <= 'z') || c == '_' || c == '-';
    // A dot is kept where git takes it: not first, not after a dot, not
    // last, and not starting a trailing ".lock".
    const bool plain_dot =
        c == '.' && i > 0 && i + 1 < text.size() && out.back() != '.' && text.substr(i) != ".lock";
    if (ascii_plain || plain_dot) {
      out += static_cast<char>(c);
    } else {
      append_hex(out, c);
    }
  }
  if (out.empty()) {
    return "%";  // "" (git takes no empty component); no encoding yields a lone %
  }
  if (out.size() > max_ref_component) {
    // Too long for a file name under .git/refs: a prefix and a hash of the
    // whole (recorded in the state, which is what names the branch).
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
    for (const char ch : text) {
      h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    }
    out.resize(max_ref_component - 17);
    while (!out.empty() && (out.back() == '.' || out.back() == '%' ||
                            (out.size() >= 2 && out[out.size() - 2] == '%'))) {
      out.pop_back();  // no trailing dot, no cut escape
    }
    static constexpr char digits[] = "0123456789abcdef";
    out += '-';
    for (int shift = 60; shift >= 0; shift -= 4) {
      out += digits[(h >> shift) & 0xfU];
    }
  }
  return out;
}

std::string printable(std::string_view text) {
  const auto needs_escape = [](std::string_view t, std::size_t i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      return true;
    }
    // C1 controls (U+0080 to U+009F) are 0xC2 0x80..0x9F in UTF-8.
    return c == 0xc2 && i + 1 < t.size() && static_cast<unsigned char>(t[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(t[i + 1]) <= 0x9f;
  };
  std::size_t i = 0;
  while (i < text.size() && !needs_escape(text, i)) {
    ++i;
  }
  if (i == text.size()) {
    return std::string(text);
  }
  std::string out(text.substr(0, i));
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape(text, i)) {
      out += static_cast<char>(c);
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == 0xc2) {
      const auto next = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += hex_digits[next >> 4U];
      out += hex_digits[next & 0xfU];
    } else {
      out += "\\x";
      out += hex_digits[c >> 4U];
      out += hex_digits[c & 0xfU];
    }
  }
  return out;
}

}  // namespace maestro::core
