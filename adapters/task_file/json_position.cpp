#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <maestro/adapters/json_position.hpp>
#include <maestro/core/names.hpp>
#include <maestro/unique_fd.hpp>

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

namespace {

namespace json = boost::json;

/// One open object or array while parsing.
struct frame {
  bool object = false;
  std::size_t elements = 0;                   ///< arrays: elements begun so far
  std::vector<std::string> keys;              ///< objects: keys so far, while few
  std::unordered_set<std::string> many_keys;  ///< objects: keys so far, once many
  std::string last_key;
  std::string id;            ///< the string value of key `id`, once read
  bool value_is_id = false;  ///< the value being read is that of key `id`

  void reset(bool is_object) {
    object = is_object;
    elements = 0;
    keys.clear();
    many_keys.clear();
    last_key.clear();
    id.clear();
    value_is_id = false;
  }

  /// Records `key`; false when the object already has it.
  bool add_key(const std::string& key) {
    // A linear scan is fastest for the few keys of a task record; a set
    // keeps large objects linear overall.
    constexpr std::size_t few = 16;
    if (many_keys.empty()) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        return false;
      }
      if (keys.size() < few) {
        keys.push_back(key);
        return true;
      }
      many_keys.insert(keys.begin(), keys.end());
    }
    return many_keys.insert(key).second;
  }
};

/// Builds the value as `boost::json::parser` does, and refuses duplicate
/// keys.
class strict_handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  strict_handler() { stack.reset(); }

  json::value_stack stack;
  std::vector<frame> frames;
  std::size_t depth = 0;
  std::string key;  ///< the key being read, from its parts
  std::string id;   ///< the `id` value being read, from its parts
  std::vector<json_step> duplicate;

  bool on_document_begin(json::error_code& /*ec*/) { return true; }
  bool on_document_end(json::error_code& /*ec*/) { return true; }
  bool on_object_begin(json::error_code& /*ec*/) {
    open(true);
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code& /*ec*/) {
    stack.push_object(n);
    --depth;
    return true;
  }
  bool on_array_begin(json::error_code& /*ec*/) {
    open(false);
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code& /*ec*/) {
    stack.push_array(n);
    --depth;
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    stack.push_chars(s);
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    key.append(s.data(), s.size());
    frame& f = frames[depth - 1];
    if (!f.add_key(key)) {
      for (std::size_t i = 0; i < depth; ++i) {
        const frame& g = frames[i];
        json_step step;
        if (g.object) {
          step.key = i + 1 == depth ? key : g.last_key;
          step.object_id = g.id;
        } else {
          step.index = g.elements - 1;
        }
        duplicate.push_back(std::move(step));
      }
      ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      return false;
    }
    f.value_is_id = key == "id";
    f.last_key = std::move(key);
    key.clear();
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    stack.push_chars(s);
    if (depth != 0 && frames[depth - 1].value_is_id) {
      id.append(s.data(), s.size());
    }
    return true;
  }
  bool on_string(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    if (depth != 0 && frames[depth - 1].value_is_id) {
      id.append(s.data(), s.size());
      frames[depth - 1].id = std::move(id);
      id.clear();
    }
    scalar();
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
  bool on_int64(std::int64_t i, json::string_view /*s*/, json::error_code& /*ec*/) {
    scalar();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view /*s*/, json::error_code& /*ec*/) {
    scalar();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view /*s*/, json::error_code& /*ec*/) {
    scalar();
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code& /*ec*/) {
    scalar();
    stack.push_bool(b);
    return true;
  }
  bool on_null(json::error_code& /*ec*/) {
    scalar();
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
  bool on_comment(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }

 private:
  /// A value begins in the innermost container.
  void begin_value() {
    if (depth != 0) {
      frame& f = frames[depth - 1];
      if (f.object) {
        f.value_is_id = false;
      } else {
        ++f.elements;
      }
    }
  }
  void scalar() { begin_value(); }
  void open(bool object) {
    begin_value();
    if (depth == frames.size()) {
      frames.emplace_back();
    }
    frames[depth].reset(object);
    ++depth;
  }
};

}  // namespace

std::optional<json_failure> parse_json_strict(std::string_view text, json::value& out,
                                              std::size_t max_depth) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<strict_handler> parser(options);
  json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!parser.handler().duplicate.empty()) {
    // The parser stops at the key's closing quote; point at its opening
    // quote, the first one before it that no odd run of backslashes escapes.
    std::size_t start = used;
    while (used < text.size() && text[used] == '"' && start > 0) {
      --start;
      if (text[start] != '"') {
        continue;
      }
      std::size_t backslashes = 0;
      while (backslashes < start && text[start - backslashes - 1] == '\\') {
        ++backslashes;
      }
      if (backslashes % 2 == 0) {
        break;
      }
    }
    return json_failure{start, {}, std::move(parser.handler().duplicate)};
  }
  if (ec) {
    return json_failure{used, ec, {}};
  }
  // Only blanks may follow the value.
  if (const auto rest = text.find_first_not_of(" \t\r\n", used); rest != std::string_view::npos) {
    return json_failure{rest, json::error::extra_data, {}};
  }
  out = parser.handler().stack.release();
  return std::nullopt;
}

std::string format_json_path(const std::vector<json_step>& steps) {
  std::string out;
  for (const auto& step : steps) {
    if (step.index) {
      out += '[' + std::to_string(*step.index) + ']';
      continue;
    }
    if (!out.empty()) {
      out += '.';
    }
    out += step.key.empty() ? std::string("\"\"") : core::printable(step.key);
  }
  return out;
}

std::optional<std::string> read_input_file(const std::filesystem::path& path, std::string& error,
                                           std::uintmax_t max_bytes) {
  const auto too_large = [&] {
    error = "larger than " + (max_bytes == max_input_bytes ? std::string("1 GiB")
                                                           : std::to_string(max_bytes) + " bytes");
  };
  const auto refuse_type = [&](mode_t mode) {
    if (S_ISDIR(mode)) {
      error = "it is a directory";
    } else if (S_ISCHR(mode)) {
      error = "it is a character device, not a regular file or a FIFO";
    } else if (S_ISBLK(mode)) {
      error = "it is a block device, not a regular file or a FIFO";
    } else {
      error = "not a regular file or a FIFO";
    }
  };
  // The type is checked before opening: opening a device can have effects
  // of its own (a tape rewinds, a terminal becomes ours).
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(before.st_mode) && !S_ISFIFO(before.st_mode)) {
    refuse_type(before.st_mode);
    return std::nullopt;
  }
  if (S_ISREG(before.st_mode) && static_cast<std::uintmax_t>(before.st_size) > max_bytes) {
    too_large();
    return std::nullopt;
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
  const unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  // The path may have been replaced between stat and open.
  struct stat opened {};
  if (::fstat(fd.get(), &opened) != 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(opened.st_mode) && !S_ISFIFO(opened.st_mode)) {
    refuse_type(opened.st_mode);
    return std::nullopt;
  }
  std::string content;
  if (S_ISREG(opened.st_mode)) {
    if (static_cast<std::uintmax_t>(opened.st_size) > max_bytes) {
      too_large();
      return std::nullopt;
    }
    // Reserved to the file's size: a buffer that grows by doubling would be
    // copied on the way. A FIFO has no size and simply grows.
    content.reserve(static_cast<std::size_t>(opened.st_size));
  }
  std::vector<char> chunk(std::size_t{1} << 16U);
  for (;;) {
    const ::ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      too_large();
      return std::nullopt;
    }
    content.append(chunk.data(), static_cast<std::size_t>(n));
  }
  return content;
}

}  // namespace maestro::adapters
