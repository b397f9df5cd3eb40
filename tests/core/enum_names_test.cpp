#include <string>
#include <string_view>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include <maestro/core/agent_selection.hpp>
#include <maestro/core/config.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/core/task.hpp>

#include "support/enum_checks.hpp"

namespace core = maestro::core;

namespace {

// Every enum of the core that has a table.
using core_enums =
    std::tuple<core::task_status, core::group_phase, core::group_status, core::test_status,
               core::skip_reason, core::agent_source, core::stdin_source, core::launcher_kind>;

// `to_string` where the enum has one, else the table itself.
template <class E>
std::string_view public_name(E value) {
  if constexpr (requires { core::to_string(value); }) {
    return core::to_string(value);
  } else {
    return core::name_of(value);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(enum_names)

BOOST_AUTO_TEST_CASE_TEMPLATE(every_value_round_trips_through_its_name, E, core_enums) {
  maestro::test::check_enum_table<E>([](E value) { return public_name(value); });
}

BOOST_AUTO_TEST_CASE_TEMPLATE(other_text_names_nothing, E, core_enums) {
  BOOST_TEST(!core::from_string<E>("").has_value());
  BOOST_TEST(!core::from_string<E>("unknown").has_value());
  BOOST_TEST(!core::from_string<E>("no such name").has_value());
  const auto first = std::string(core::name_of(core::all_values<E>().front()));
  BOOST_TEST(!core::from_string<E>(first + " ").has_value());
  BOOST_TEST(!core::from_string<E>(first.substr(0, first.size() - 1)).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_value_outside_the_enum_is_unknown, E, core_enums) {
  const auto outside = static_cast<E>(core::enum_count<E>);
  BOOST_TEST(public_name(outside) == "unknown");
  BOOST_TEST(core::name_of(outside, "note") == "note");
  BOOST_TEST(core::name_of(static_cast<E>(-1)) == "unknown");
}

// The names are written to metadata.json, --json output and messages: they
// are pinned here, so that a change to a table is seen.
BOOST_AUTO_TEST_CASE(the_names_are_the_documented_ones) {
  BOOST_TEST(core::enum_count<core::task_status> == 9U);
  BOOST_TEST(core::to_string(core::task_status::pending) == "pending");
  BOOST_TEST(core::to_string(core::task_status::timed_out) == "timed_out");
  BOOST_TEST(core::to_string(core::task_status::cancelled) == "cancelled");
  BOOST_TEST(core::to_string(core::group_phase::concurrent_execution) == "concurrent_execution");
  BOOST_TEST(core::to_string(core::group_status::incomplete) == "incomplete");
  BOOST_TEST(core::to_string(core::test_status::not_run) == "not_run");
  BOOST_TEST(core::to_string(core::test_status::none) == "none");
  BOOST_TEST(core::to_string(core::skip_reason::not_an_issue) == "not an issue record");
  BOOST_TEST(core::to_string(core::skip_reason::unknown_status) == "unknown status");
  BOOST_TEST(core::to_string(core::agent_source::metadata) == "metadata.subagent_type");
  BOOST_TEST(core::to_string(core::agent_source::default_agent) == "default_agent");
  BOOST_TEST(core::name_of(core::stdin_source::null_device) == "null");
  BOOST_TEST(core::name_of(core::launcher_kind::slurm) == "slurm");
}

// Tables are usable at compile time.
static_assert(core::from_string<core::task_status>("running") == core::task_status::running);
static_assert(core::name_of(core::group_status::failed) == "failed");
static_assert(core::all_values<core::group_phase>().back() == core::group_phase::post_execution);

BOOST_AUTO_TEST_SUITE_END()
