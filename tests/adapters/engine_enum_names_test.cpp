#include <string_view>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include <maestro/adapters/task_file.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/log.hpp>
#include <maestro/ports/status_sink.hpp>

#include "support/enum_checks.hpp"

namespace core = maestro::core;

namespace {

// Every enum of the engine (outside the core) that has a table.
using engine_enums = std::tuple<maestro::log::level, maestro::severity, maestro::task_file_format>;

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_enum_names)

BOOST_AUTO_TEST_CASE_TEMPLATE(every_value_round_trips_through_its_name, E, engine_enums) {
  maestro::test::check_enum_table<E>([](E value) { return core::name_of(value); });
  BOOST_TEST(!core::from_string<E>("").has_value());
  BOOST_TEST(core::name_of(static_cast<E>(core::enum_count<E>)) == "unknown");
}

BOOST_AUTO_TEST_CASE(log_levels_keep_their_names) {
  using maestro::log::level;
  for (const auto l : core::all_values<level>()) {
    BOOST_TEST(maestro::log::to_string(l) == core::name_of(l));
  }
  BOOST_TEST(maestro::log::to_string(level::trace) == "trace");
  BOOST_TEST(maestro::log::to_string(level::warning) == "warning");
  BOOST_TEST(maestro::log::to_string(level::off) == "off");
  BOOST_TEST(maestro::log::to_string(static_cast<level>(6)) == "unknown");
  BOOST_TEST(core::name_of(maestro::severity::error) == "error");
  BOOST_TEST(core::name_of(maestro::task_file_format::tasks_object) == "tasks_object");
}

BOOST_AUTO_TEST_SUITE_END()
