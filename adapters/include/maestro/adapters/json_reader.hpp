#pragma once

// The JSON reader toolkit that every reader of a file (the configuration,
// task files, metadata.json, events.jsonl) uses: the strict parser with
// positions and the input file reader (json_position.hpp), and the pieces
// error messages are made of, so that each is spelled once.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <maestro/adapters/json_position.hpp>

namespace maestro::adapters {

/// How a column is counted.
enum class column_unit {
  bytes,       ///< task files
  characters,  ///< the configuration: UTF-8 continuation bytes are skipped
};

/// The 1-based line and column of byte `offset` in `text`.
[[nodiscard]] text_position position_of(std::string_view text, std::size_t offset,
                                        column_unit unit) noexcept;

/// The kind of a value as a message names it: "null", "a boolean",
/// "a number", "a string", "an array", "an object".
[[nodiscard]] std::string_view kind_name(const boost::json::value& v) noexcept;

/// The value as a message shows it after "got": JSON text for scalars
/// (numbers in their shortest form), shortened past 40 characters; `[]`,
/// `{}`, "an array" or "an object" for the others.
[[nodiscard]] std::string describe_value(const boost::json::value& v);

/// A key as a message shows it: escaped with `core::printable`, and the
/// empty key as `""`.
[[nodiscard]] std::string printable_key(std::string_view key);

/// `parent.key` (just `key` at the top), and `parent[index]`: the dotted
/// paths of the configuration's messages.
[[nodiscard]] std::string key_path(const std::string& parent, std::string_view key);
[[nodiscard]] std::string index_path(const std::string& parent, std::size_t index);

// Lenient typed access, for state files: a member of the wrong kind reads
// as absent, and the caller decides whether that is damage.

/// The member's text when it is a string.
[[nodiscard]] std::optional<std::string> string_member(const boost::json::object& o,
                                                       std::string_view key);
/// The member's value when it is an integer that fits an int.
[[nodiscard]] std::optional<int> int_member(const boost::json::object& o, std::string_view key);
/// `v` as an int when it is an integer that fits one.
[[nodiscard]] std::optional<int> as_int(const boost::json::value* v);
/// The strings of `v` into `out` when it is an array of strings (else
/// false, `out` untouched).
[[nodiscard]] bool read_string_array(const boost::json::value* v, std::vector<std::string>& out);

}  // namespace maestro::adapters
