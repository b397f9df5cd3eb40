#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>

namespace maestro::core {

/// One value of an enum and its name.
template <class E>
struct enum_entry {
  E value;
  std::string_view name;
};

/// An enum's names: entry `i` holds the value `i`.
template <class E, std::size_t N>
using enum_table = std::array<enum_entry<E>, N>;

/// Builds an enum's table, checked when it is compiled: the entries list
/// every value from 0 in declaration order, and the names are non-empty and
/// distinct. Each enum `E` that has names declares, in its own namespace,
/// the one function that holds them (found by argument-dependent lookup):
///
///     constexpr auto enum_names(colour) noexcept {
///       return core::make_enum_table<colour>({{colour::red, "red"}, {colour::blue, "blue"}});
///     }
///
/// and everything else (`name_of`, `from_string`, `all_values`,
/// `enum_count`) is derived from it.
template <class E, std::size_t N>
consteval enum_table<E, N> make_enum_table(const enum_entry<E> (&entries)[N]) {
  static_assert(std::is_enum_v<E>);
  enum_table<E, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<std::size_t>(entries[i].value) != i) {
      throw "enum table: entry i must hold the value i";
    }
    if (entries[i].name.empty()) {
      throw "enum table: a name is empty";
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (entries[j].name == entries[i].name) {
        throw "enum table: a name is given twice";
      }
    }
    out[i] = entries[i];
  }
  return out;
}

/// The table of `E`, one object for the whole program.
template <class E>
inline constexpr auto enum_names_v = enum_names(E{});

/// How many values `E` has.
template <class E>
inline constexpr std::size_t enum_count = enum_names_v<E>.size();

/// Every value of `E`, in declaration order.
template <class E>
[[nodiscard]] constexpr std::array<E, enum_count<E>> all_values() noexcept {
  std::array<E, enum_count<E>> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = enum_names_v<E>[i].value;
  }
  return out;
}

/// The name of `value`, or `fallback` for a value outside the table.
template <class E>
[[nodiscard]] constexpr std::string_view name_of(E value,
                                                 std::string_view fallback = "unknown") noexcept {
  const auto i = static_cast<std::size_t>(value);
  return i < enum_count<E> ? enum_names_v<E>[i].name : fallback;
}

/// The value named `name`, if any (exact, case-sensitive).
template <class E>
[[nodiscard]] constexpr std::optional<E> from_string(std::string_view name) noexcept {
  for (const auto& entry : enum_names_v<E>) {
    if (entry.name == name) {
      return entry.value;
    }
  }
  return std::nullopt;
}

}  // namespace maestro::core
