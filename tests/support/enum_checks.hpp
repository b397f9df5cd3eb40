#pragma once

#include <cstddef>
#include <set>
#include <string_view>

#include <boost/test/unit_test.hpp>

#include <maestro/core/enum_names.hpp>

namespace maestro::test {

/// Checks an enum's one table: every value in declaration order, each with
/// a non-empty name that `name(value)` gives and `core::from_string` reads
/// back, and no name twice. `name` is how the program prints the value.
template <class E, class Name>
void check_enum_table(Name name) {
  const auto values = core::all_values<E>();
  BOOST_TEST(values.size() == core::enum_count<E>);
  BOOST_TEST(values.size() > 0U);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < values.size(); ++i) {
    BOOST_TEST(static_cast<std::size_t>(values[i]) == i);
    const std::string_view shown = name(values[i]);
    BOOST_TEST(shown == core::name_of(values[i]));
    BOOST_TEST(!shown.empty());
    const auto back = core::from_string<E>(shown);
    BOOST_TEST_REQUIRE(back.has_value(), "no value for " << shown);
    BOOST_TEST(static_cast<std::size_t>(*back) == i);
    names.insert(shown);
  }
  BOOST_TEST(names.size() == values.size(), "a name is given twice");
}

}  // namespace maestro::test
