#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/group_machine.hpp>
#include <maestro/core/limit_pool.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(limit_pool_tests)

BOOST_AUTO_TEST_CASE(counts_up_to_its_capacity) {
  limit_pool pool(2);
  BOOST_TEST(pool.try_acquire());
  BOOST_TEST(pool.try_acquire());
  BOOST_TEST(!pool.try_acquire());
  BOOST_TEST(!pool.has_room());
  BOOST_TEST(pool.in_use() == 2);
  pool.release();
  BOOST_TEST(pool.has_room());
  BOOST_TEST(pool.try_acquire());
}

BOOST_AUTO_TEST_CASE(capacity_zero_is_unlimited) {
  limit_pool pool(0);
  for (int i = 0; i < 1000; ++i) {
    BOOST_TEST_REQUIRE(pool.try_acquire());
  }
  BOOST_TEST(pool.in_use() == 1000);
  limit_pool negative(-1);
  BOOST_TEST(negative.try_acquire());
}

BOOST_AUTO_TEST_CASE(release_never_goes_below_zero) {
  limit_pool pool(1);
  pool.release();
  BOOST_TEST(pool.in_use() == 0);
  BOOST_TEST(pool.try_acquire());
  BOOST_TEST(!pool.try_acquire());
}

BOOST_AUTO_TEST_CASE(named_pools_are_created_unlimited_and_stay_put) {
  limit_pools pools(3);
  BOOST_TEST(pools.global().capacity() == 3);
  auto& a = pools.agent("a");
  BOOST_TEST(a.capacity() == 0);
  a.set_capacity(1);
  for (int i = 0; i < 100; ++i) {
    (void)pools.agent("agent-" + std::to_string(i));  // many more nodes
  }
  BOOST_TEST(&pools.agent("a") == &a);
  BOOST_TEST(pools.agent("a").capacity() == 1);
  BOOST_TEST(&pools.group("g") != &pools.agent("g"));
}

namespace {

std::vector<group_task> tasks(const std::string& prefix, std::size_t n) {
  std::vector<group_task> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i].id = prefix + std::to_string(i);
    out[i].chain = {i % 2 == 0 ? "a" : "b"};
  }
  return out;
}

std::size_t launches(const std::vector<action>& actions) {
  std::size_t n = 0;
  for (const auto& a : actions) {
    n += std::holds_alternative<launch_action>(a) ? 1 : 0;
  }
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_machines_drawing_from_one_pool_never_exceed_it_together) {
  auto pools = std::make_shared<limit_pools>(3);
  pools->agent("a").set_capacity(1);
  group_settings settings;
  settings.default_timeout_s = 0;
  settings.test_timeout_s = 0;
  group_machine one(tasks("x", 6), settings, true, pools, "one");
  group_machine two(tasks("y", 6), settings, true, pools, "two");
  const clock_time now{};
  std::vector<std::pair<group_machine*, launch_action>> running;
  const auto run = [&](group_machine& m, event_body body) {
    for (const auto& a : m.handle({now, std::move(body)})) {
      if (const auto* l = std::get_if<launch_action>(&a)) {
        running.emplace_back(&m, *l);
      }
    }
    BOOST_TEST_REQUIRE(running.size() <= 3U);
    BOOST_TEST_REQUIRE(pools->global().in_use() == static_cast<int>(running.size()));
    BOOST_TEST_REQUIRE(pools->agent("a").in_use() <= 1);
    BOOST_TEST(one.running_count() + two.running_count() == running.size());
  };
  run(one, start_event{});
  BOOST_TEST(one.running_count() == 3U);  // x0 (a), then x1 and x3 (b): a is full
  run(two, start_event{});
  BOOST_TEST(two.running_count() == 0U);                        // the global pool is full
  BOOST_TEST(launches(two.handle({now, room_event{}})) == 0U);  // still full
  // Each exit frees a slot; the other group takes it when told.
  std::size_t exits = 0;
  while (!running.empty()) {
    const auto [m, l] = running.front();
    running.erase(running.begin());
    run(*m, exited_event{l.task, l.attempt, 0, 0});
    run(one, room_event{});
    run(two, room_event{});
    ++exits;
  }
  BOOST_TEST(exits == 12U);
  BOOST_TEST(pools->global().in_use() == 0);
  BOOST_TEST(pools->agent("a").in_use() == 0);
  BOOST_TEST(pools->agent("b").in_use() == 0);
}

BOOST_AUTO_TEST_CASE(a_group_pool_limits_its_group_only) {
  auto pools = std::make_shared<limit_pools>();
  pools->group("slow").set_capacity(1);
  group_settings settings;
  settings.default_timeout_s = 0;
  group_machine slow(tasks("s", 4), settings, true, pools, "slow");
  group_machine fast(tasks("f", 4), settings, true, pools, "fast");
  BOOST_TEST(launches(slow.handle({clock_time{}, start_event{}})) == 1U);
  BOOST_TEST(launches(fast.handle({clock_time{}, start_event{}})) == 4U);
}

BOOST_AUTO_TEST_SUITE_END()
