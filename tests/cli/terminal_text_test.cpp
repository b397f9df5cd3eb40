// The text helpers of the live status line, on their own.

#include "terminal_text.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

#include "support/temp_dir.hpp"

using maestro::app::columns;
using maestro::app::fit_to_width;
using maestro::app::tail_lines;

BOOST_AUTO_TEST_SUITE(terminal_text)

BOOST_AUTO_TEST_CASE(columns_count_code_points) {
  BOOST_TEST(columns("") == 0U);
  BOOST_TEST(columns("abc") == 3U);
  BOOST_TEST(columns("h\u00e9llo") == 5U);        // 2-byte sequence
  BOOST_TEST(columns("\u2026\U0001F600") == 2U);  // 3- and 4-byte sequences
}

BOOST_AUTO_TEST_CASE(text_that_fits_is_unchanged) {
  BOOST_TEST(fit_to_width("", 0) == "");
  BOOST_TEST(fit_to_width("abc", 3) == "abc");
  BOOST_TEST(fit_to_width("h\u00e9llo", 5) == "h\u00e9llo");
}

BOOST_AUTO_TEST_CASE(longer_text_ends_in_an_ellipsis) {
  BOOST_TEST(fit_to_width("abcdefghij", 8) == "abcde...");
  BOOST_TEST(fit_to_width("abcdefghij", 4) == "a...");
  BOOST_TEST(fit_to_width("abcdefghij", 3) == "...");
  BOOST_TEST(fit_to_width("abcdefghij", 2) == "..");
  BOOST_TEST(fit_to_width("abcdefghij", 0) == "");
}

BOOST_AUTO_TEST_CASE(a_utf8_sequence_is_never_split) {
  const std::string text = "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9";  // 6 columns, 12 bytes
  const auto cut = fit_to_width(text, 5);
  BOOST_TEST(cut == "\u00e9\u00e9...");
  BOOST_TEST(columns(cut) == 5U);
  for (std::size_t width = 0; width < 8; ++width) {
    BOOST_TEST(columns(fit_to_width(text, width)) <= width, width);
  }
}

BOOST_AUTO_TEST_CASE(tail_keeps_the_last_lines) {
  const maestro::test::temp_dir dir;
  std::string text;
  for (int i = 1; i <= 12; ++i) {
    text += "line " + std::to_string(i) + "\n";
  }
  const auto path = dir.write("log", text);
  const auto lines = tail_lines(path, 3);
  BOOST_TEST_REQUIRE(lines.has_value());
  BOOST_TEST(*lines == (std::vector<std::string>{"line 10", "line 11", "line 12"}),
             boost::test_tools::per_element());
  // A window of 20 bytes holds " 10\nline 11\nline 12\n": the cut line goes.
  const auto windowed = tail_lines(path, 10, 20);
  BOOST_TEST_REQUIRE(windowed.has_value());
  BOOST_TEST(*windowed == (std::vector<std::string>{"line 11", "line 12"}),
             boost::test_tools::per_element());
  // No newline at the end.
  const auto partial = tail_lines(dir.write("partial", "a\nb"), 10);
  BOOST_TEST(*partial == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(tail_lines(dir.write("empty", ""), 10)->empty());
  BOOST_TEST(!tail_lines(dir.path() / "missing", 10).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
