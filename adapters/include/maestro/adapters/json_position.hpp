#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace maestro::adapters {

/// A 1-based line and column in a text.
struct text_position {
  std::size_t line = 1;
  std::size_t column = 1;
};

/// The line and column of byte `offset` in `text`.
[[nodiscard]] text_position position_of(std::string_view text, std::size_t offset) noexcept;

/// The byte offsets at which the elements of the top-level JSON array in
/// `text` begin. `text` must hold a well-formed array (parse it first); the
/// scan only tracks strings and nesting, so it is linear and allocates one
/// entry per element.
[[nodiscard]] std::vector<std::size_t> array_element_offsets(std::string_view text);

/// One step on the way from the root of a JSON document to a value: a key of
/// an object, or an index into an array.
struct json_step {
  std::string key;                   ///< the key, as in the input; empty for an index
  std::optional<std::size_t> index;  ///< set for an array element
  /// For a key: the string value of the `id` key of the object the key is
  /// in, when that object gave one before the step; empty otherwise.
  std::string object_id;
};

/// Why `parse_json_strict` failed.
struct json_failure {
  /// Byte offset in the text where the problem was found.
  std::size_t offset = 0;
  /// The syntax error; empty for a duplicate key.
  boost::system::error_code error;
  /// For a duplicate key: the steps from the root to it; the last step is
  /// the duplicate key itself.
  std::vector<json_step> duplicate_path;
};

/// Parses one complete JSON text (only blanks may follow it) like
/// `boost::json::parse`, except that a key that appears twice in one object
/// is an error instead of silently keeping the last value. Linear in the
/// size of the text. Returns the failure, or nothing and the value in `out`.
[[nodiscard]] std::optional<json_failure> parse_json_strict(std::string_view text,
                                                            boost::json::value& out,
                                                            std::size_t max_depth = 64);

/// `steps` as a message shows them: `agents.web.timeout_s`, `dependencies[0]`,
/// each key escaped with `core::printable`.
[[nodiscard]] std::string format_json_path(const std::vector<json_step>& steps);

/// The largest tasks file or configuration that is read (1 GiB).
inline constexpr std::uintmax_t max_input_bytes = std::uintmax_t{1} << 30U;

/// Reads a whole input file: a regular file of at most `max_bytes`, or a
/// FIFO, read until its writer closes it, whose content is at most
/// `max_bytes`. Anything else (a directory, a device, a socket) is refused
/// before it is opened. On failure returns nothing and sets `error` to the
/// reason, ready to follow "cannot read ...: ". The descriptor is
/// close-on-exec.
[[nodiscard]] std::optional<std::string> read_input_file(
    const std::filesystem::path& path, std::string& error,
    std::uintmax_t max_bytes = max_input_bytes);

}  // namespace maestro::adapters
