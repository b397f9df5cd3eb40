#include <cerrno>
#include <unistd.h>

#include <maestro/adapters/json_writer.hpp>

namespace maestro::json_out {

void append_escaped(std::string& out, std::string_view text) {
  static constexpr std::string_view hex = "0123456789abcdef";
  std::size_t plain = 0;  // start of the run of characters copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u != '"' && u != '\\') {
      continue;
    }
    out.append(text.substr(plain, i - plain));
    plain = i + 1;
    if (u >= 0x20) {
      out += '\\';
      out += text[i];
    } else {
      out += "\\u00";
      out += hex[u >> 4U];
      out += hex[u & 0xfU];
    }
  }
  out.append(text.substr(plain));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace maestro::json_out
