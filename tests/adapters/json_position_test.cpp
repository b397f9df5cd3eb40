#include <boost/test/unit_test.hpp>

#include <maestro/adapters/json_position.hpp>

using namespace maestro::adapters;

BOOST_AUTO_TEST_SUITE(json_position)

BOOST_AUTO_TEST_CASE(line_and_column_of_an_offset) {
  const std::string_view text = "ab\ncd\n\nef";
  BOOST_TEST(position_of(text, 0).line == 1U);
  BOOST_TEST(position_of(text, 1).column == 2U);
  BOOST_TEST(position_of(text, 3).line == 2U);
  BOOST_TEST(position_of(text, 3).column == 1U);
  BOOST_TEST(position_of(text, 8).line == 4U);
  BOOST_TEST(position_of(text, 99).line == 4U);
}

BOOST_AUTO_TEST_CASE(element_offsets_skip_nested_values_and_strings) {
  const std::string_view text = R"([ {"a": [1, 2], "s": "x,]}"},
  "y" , [3] ,4])";
  const auto offsets = array_element_offsets(text);
  BOOST_TEST_REQUIRE(offsets.size() == 4U);
  BOOST_TEST(text[offsets[0]] == '{');
  BOOST_TEST(text.substr(offsets[1], 3) == "\"y\"");
  BOOST_TEST(text[offsets[2]] == '[');
  BOOST_TEST(text[offsets[3]] == '4');
  BOOST_TEST(array_element_offsets("[]").empty());
  BOOST_TEST(array_element_offsets(" [ ] ").empty());
}

BOOST_AUTO_TEST_CASE(escaped_quotes_stay_inside_strings) {
  const std::string_view text = R"(["a\"],[", "b"])";
  const auto offsets = array_element_offsets(text);
  BOOST_TEST_REQUIRE(offsets.size() == 2U);
  BOOST_TEST(text.substr(offsets[1], 3) == "\"b\"");
}

BOOST_AUTO_TEST_SUITE_END()
