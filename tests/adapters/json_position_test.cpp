#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/json_position.hpp>
#include <maestro/adapters/json_reader.hpp>

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

// The rest of the reader toolkit (json_reader.hpp): the pieces messages are
// made of.
BOOST_AUTO_TEST_SUITE(json_reader)

BOOST_AUTO_TEST_CASE(columns_count_bytes_or_characters) {
  const std::string_view text = "\xc3\xa9\xc3\xa9x\n\xc3\xa9y";
  BOOST_TEST(position_of(text, 4, column_unit::bytes).column == 5U);
  BOOST_TEST(position_of(text, 4, column_unit::characters).column == 3U);
  BOOST_TEST(position_of(text, 8, column_unit::characters).line == 2U);
  BOOST_TEST(position_of(text, 8, column_unit::characters).column == 2U);
  BOOST_TEST(position_of(text, 8, column_unit::bytes).column == 3U);
}

BOOST_AUTO_TEST_CASE(values_are_named_and_described) {
  namespace json = boost::json;
  BOOST_TEST(kind_name(json::value(nullptr)) == "null");
  BOOST_TEST(kind_name(json::value(true)) == "a boolean");
  BOOST_TEST(kind_name(json::value(1.5)) == "a number");
  BOOST_TEST(kind_name(json::value("x")) == "a string");
  BOOST_TEST(kind_name(json::value(json::array{})) == "an array");
  BOOST_TEST(kind_name(json::value(json::object{})) == "an object");
  BOOST_TEST(describe_value(json::value(4.5)) == "4.5");
  BOOST_TEST(describe_value(json::value("x")) == "\"x\"");
  BOOST_TEST(describe_value(json::value(json::array{})) == "[]");
  BOOST_TEST(describe_value(json::value(json::array{1})) == "an array");
  BOOST_TEST(describe_value(json::value(json::object{})) == "{}");
  BOOST_TEST(describe_value(json::value(std::string(50, 'a'))) ==
             "\"" + std::string(39, 'a') + "...");
}

BOOST_AUTO_TEST_CASE(key_paths_escape_their_keys) {
  BOOST_TEST(key_path("", "agents") == "agents");
  BOOST_TEST(key_path("agents", "we\nb") == "agents.we\\nb");
  BOOST_TEST(key_path("agents", "") == "agents.\"\"");
  BOOST_TEST(index_path("agents.web.command", 0) == "agents.web.command[0]");
}

BOOST_AUTO_TEST_CASE(lenient_members_read_absent_when_of_another_kind) {
  namespace json = boost::json;
  const json::object o{{"s", "x"},
                       {"n", 7},
                       {"big", 1LL << 40},
                       {"a", json::array{"p", "q"}},
                       {"mixed", json::array{"p", 1}}};
  BOOST_TEST(string_member(o, "s").value_or("") == "x");
  BOOST_TEST(!string_member(o, "n").has_value());
  BOOST_TEST(int_member(o, "n").value_or(0) == 7);
  BOOST_TEST(!int_member(o, "big").has_value());
  BOOST_TEST(!int_member(o, "absent").has_value());
  std::vector<std::string> items{"kept"};
  BOOST_TEST(!read_string_array(o.if_contains("mixed"), items));
  BOOST_TEST(items == std::vector<std::string>{"kept"});
  BOOST_TEST(read_string_array(o.if_contains("a"), items));
  BOOST_TEST((items == std::vector<std::string>{"p", "q"}));
}

BOOST_AUTO_TEST_SUITE_END()
