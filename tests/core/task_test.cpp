#include <boost/test/unit_test.hpp>

#include <maestro/core/task.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(task_model)

BOOST_AUTO_TEST_CASE(split_list_trims_and_drops_empty_items) {
  BOOST_TEST(split_list(" a, b ,,c ") == (std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(split_list("").empty());
  BOOST_TEST(split_list(" , ").empty());
}

BOOST_AUTO_TEST_CASE(only_gating_types_gate) {
  for (const auto* type : {"blocks", "conditional-blocks", "waits-for"}) {
    BOOST_TEST(dependency({"x", type}).gates());
  }
  for (const auto* type : {"parent-child", "related", "discovered-from", "tracks", "other"}) {
    BOOST_TEST(!dependency({"x", type}).gates());
  }
}

BOOST_AUTO_TEST_CASE(statuses_that_run_and_that_do_not) {
  task t;
  for (const auto* s : {"open", "in_progress", "blocked"}) {
    t.status = s;
    BOOST_TEST(!why_not_run(t).has_value());
  }
  t.status = "closed";
  BOOST_TEST((why_not_run(t) == skip_reason::closed_status));
  t.status = "tombstone";
  BOOST_TEST((why_not_run(t) == skip_reason::closed_status));
  for (const auto* s : {"deferred", "pinned", "hooked"}) {
    t.status = s;
    BOOST_TEST((why_not_run(t) == skip_reason::parked_status));
  }
  t.status = "review";
  BOOST_TEST((why_not_run(t) == skip_reason::unknown_status));
  t.status = "open";
  t.record_type = "memory";
  BOOST_TEST((why_not_run(t) == skip_reason::not_an_issue));
}

BOOST_AUTO_TEST_SUITE_END()
