#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

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

}  // namespace maestro::adapters
