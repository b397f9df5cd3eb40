#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace maestro::json_out {

/// The pieces of JSON text the state files are made of, written by hand:
/// a file of 100,000 results is formatted straight into a buffer, without
/// building a `boost::json::value` per entry. This is the one place that
/// knows how a string is escaped and a number spelled.

/// Appends the inside of a JSON string: quotes, backslashes and control
/// characters escaped (`\u00XX`); UTF-8 passes through.
void append_escaped(std::string& out, std::string_view text);

/// Appends a quoted JSON string.
inline void append_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text);
  out += '"';
}

/// Appends a JSON number: an integer exactly, a double in its shortest
/// form (`null` when it has none, e.g. an infinity).
template <class Number>
void append_number(std::string& out, Number n) {
  std::array<char, 32> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), n);
  out.append(ec == std::errc{}
                 ? std::string_view(text.data(), static_cast<std::size_t>(end - text.data()))
                 : std::string_view("null"));
}

/// Appends `"name":`, after a comma unless it opens an object or array.
inline void append_key(std::string& out, std::string_view name) {
  out += out.empty() || out.back() == '{' || out.back() == '[' ? "\"" : ",\"";
  out += name;
  out += "\":";
}

/// Appends `"name":"text"`, escaped.
inline void append_field(std::string& out, std::string_view name, std::string_view text) {
  append_key(out, name);
  append_string(out, text);
}

/// Appends `"name":number`.
inline void append_field(std::string& out, std::string_view name, long long number) {
  append_key(out, name);
  append_number(out, number);
}

/// Appends `"name":true` or `"name":false`.
inline void append_bool_field(std::string& out, std::string_view name, bool value) {
  append_key(out, name);
  out += value ? "true" : "false";
}

/// Writes all of `data` to `fd`, retrying short and interrupted writes;
/// false on an error (errno is set).
bool write_all(int fd, std::string_view data);

/// Writes JSON text to a file descriptor through a buffer of 64 KiB, so
/// that a large file is never held whole.
class chunked_writer {
 public:
  explicit chunked_writer(int fd) : fd_(fd) { buffer_.reserve(capacity); }

  /// Text as it is (already JSON).
  void append(std::string_view text) {
    if (buffer_.size() + text.size() > capacity) {
      drain();
    }
    if (text.size() >= capacity) {
      ok_ = ok_ && write_all(fd_, text);
      written_ += text.size();
    } else {
      buffer_ += text;
    }
  }
  /// A quoted, escaped JSON string.
  void append_string(std::string_view text) {
    append("\"");
    append_escaped(text);
    append("\"");
  }
  /// The inside of a JSON string, escaped.
  void append_escaped(std::string_view text) {
    if (buffer_.size() + 6 * text.size() > capacity) {
      drain();
    }
    json_out::append_escaped(buffer_, text);
  }
  /// A JSON number.
  template <class Number>
  void append_number(Number n) {
    if (buffer_.size() + 32 > capacity) {
      drain();
    }
    json_out::append_number(buffer_, n);
  }
  void append_null() { append("null"); }
  void append_bool(bool value) { append(value ? "true" : "false"); }
  /// `"name":` after a comma, or after nothing when `first`: one append,
  /// as a literal would be (this is on the path of every result).
  void append_key(std::string_view name, bool first = false) {
    std::array<char, 64> text{};
    if (name.size() > text.size() - 4) {
      append(first ? "\"" : ",\"");
      append(name);
      append("\":");
      return;
    }
    std::size_t n = 0;
    if (!first) {
      text[n++] = ',';
    }
    text[n++] = '"';
    std::copy(name.begin(), name.end(), text.begin() + static_cast<std::ptrdiff_t>(n));
    n += name.size();
    text[n++] = '"';
    text[n++] = ':';
    append(std::string_view(text.data(), n));
  }

  /// Writes what is buffered; false when any write failed (errno is set).
  bool finish() {
    drain();
    return ok_;
  }
  [[nodiscard]] std::size_t written() const noexcept { return written_; }

 private:
  static constexpr std::size_t capacity = std::size_t{64} * 1024;
  void drain() {
    ok_ = ok_ && write_all(fd_, buffer_);
    written_ += buffer_.size();
    buffer_.clear();
  }
  int fd_;
  std::string buffer_;
  std::size_t written_ = 0;
  bool ok_ = true;
};

}  // namespace maestro::json_out
