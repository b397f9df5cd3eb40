#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include <boost/json.hpp>

#include <maestro/adapters/json_reader.hpp>
#include <maestro/core/names.hpp>

namespace maestro::adapters {
namespace json = boost::json;

text_position position_of(std::string_view text, std::size_t offset, column_unit unit) noexcept {
  if (unit == column_unit::bytes) {
    return position_of(text, offset);
  }
  text_position pos;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++pos.line;
      pos.column = 1;
    } else if ((c & 0xC0U) != 0x80U) {
      ++pos.column;
    }
  }
  return pos;
}

std::string_view kind_name(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string describe_value(const json::value& v) {
  constexpr std::size_t max_length = 40;
  std::string text;
  switch (v.kind()) {
    case json::kind::array:
      return v.as_array().empty() ? "[]" : "an array";
    case json::kind::object:
      return v.as_object().empty() ? "{}" : "an object";
    case json::kind::double_: {
      // Boost.JSON would print 4.5 as 4.5E0; print the shortest form instead.
      std::array<char, 32> buf{};
      const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), v.get_double());
      text.assign(buf.data(), result.ptr);
      break;
    }
    default:
      text = json::serialize(v);
      break;
  }
  if (text.size() > max_length) {
    text.resize(max_length);
    text += "...";
  }
  return text;
}

std::string printable_key(std::string_view key) {
  return key.empty() ? std::string("\"\"") : core::printable(key);
}

std::string key_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? printable_key(key) : parent + '.' + printable_key(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + '[' + std::to_string(index) + ']';
}

std::optional<std::string> string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<int> as_int(const json::value* v) {
  if (v == nullptr || !v->is_int64() || v->get_int64() < std::numeric_limits<int>::min() ||
      v->get_int64() > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  return static_cast<int>(v->get_int64());
}

std::optional<int> int_member(const json::object& o, std::string_view key) {
  return as_int(o.if_contains(key));
}

bool read_string_array(const json::value* v, std::vector<std::string>& out) {
  if (v == nullptr || !v->is_array()) {
    return false;
  }
  const auto& items = v->get_array();
  if (!std::all_of(items.begin(), items.end(),
                   [](const json::value& e) { return e.is_string(); })) {
    return false;
  }
  out.clear();
  out.reserve(items.size());
  for (const auto& e : items) {
    out.emplace_back(e.get_string());
  }
  return true;
}

}  // namespace maestro::adapters
