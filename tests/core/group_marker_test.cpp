#include <boost/test/unit_test.hpp>

#include <maestro/core/group_marker.hpp>

using maestro::core::scan_group_markers;

BOOST_AUTO_TEST_SUITE(group_marker)

BOOST_AUTO_TEST_CASE(hyphenated_names_are_whole) {
  const auto scan = scan_group_markers("[P:Group-auth-flow] log in", "");
  BOOST_TEST(scan.group.value() == "auth-flow");
  BOOST_TEST(!scan.conflicting);
}

BOOST_AUTO_TEST_CASE(marker_in_description) {
  const auto scan = scan_group_markers("plain", "Part of [P:Group-infra_2] work");
  BOOST_TEST(scan.group.value() == "infra_2");
}

BOOST_AUTO_TEST_CASE(no_marker_means_sequential) {
  BOOST_TEST(!scan_group_markers("plain", "nothing here").group);
  BOOST_TEST(maestro::core::sequential_stage_id("t-1") == "_sequential.t-1");
}

BOOST_AUTO_TEST_CASE(malformed_markers_are_ignored) {
  BOOST_TEST(!scan_group_markers("[P:Group-] x", "[P:Group-a b] [P:Group-c").group);
  BOOST_TEST(!scan_group_markers("[p:group-x]", "").group);
}

BOOST_AUTO_TEST_CASE(same_marker_twice_is_fine) {
  const auto scan = scan_group_markers("[P:Group-ui] a", "[P:Group-ui] again");
  BOOST_TEST(scan.group.value() == "ui");
  BOOST_TEST(!scan.conflicting);
}

BOOST_AUTO_TEST_CASE(two_different_markers_conflict) {
  const auto scan = scan_group_markers("[P:Group-ui] a", "[P:Group-api] b");
  BOOST_TEST(scan.group.value() == "ui");
  BOOST_TEST(scan.conflicting.value() == "api");
}

BOOST_AUTO_TEST_SUITE_END()
