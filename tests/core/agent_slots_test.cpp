#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/agent_slots.hpp>
#include <maestro/core/group_machine.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(agent_slots_tests)

namespace {

std::vector<group_task> chains(const std::vector<std::vector<std::string>>& agents) {
  std::vector<group_task> tasks;
  for (const auto& chain : agents) {
    tasks.emplace_back();
    tasks.back().chain = chain;
  }
  return tasks;
}

}  // namespace

BOOST_AUTO_TEST_CASE(agents_are_indexed_once_across_the_chains) {
  const agent_slots slots(chains({{"a", "b"}, {"b"}, {"c", "a", "b"}}),
                          std::make_shared<limit_pools>(), "g");
  BOOST_TEST(slots.agent_count() == 3U);
  BOOST_TEST(slots.name(slots.agent(0, 0)) == "a");
  BOOST_TEST(slots.name(slots.agent(0, 1)) == "b");
  BOOST_TEST(slots.agent(1, 0) == slots.agent(0, 1));
  BOOST_TEST(slots.name(slots.agent(2, 0)) == "c");
  BOOST_TEST(slots.agent(2, 1) == slots.agent(0, 0));
  BOOST_TEST(slots.name(slots.agent(2, 9)) == "b");  // past the end: the last agent
}

BOOST_AUTO_TEST_CASE(an_attempt_takes_a_slot_in_each_of_its_three_pools) {
  auto pools = std::make_shared<limit_pools>(3);
  pools->group("g").set_capacity(2);
  pools->agent("a").set_capacity(1);
  agent_slots slots(chains({{"a"}, {"a"}, {"b"}}), pools, "g");
  const auto a = slots.agent(0, 0);
  const auto b = slots.agent(2, 0);
  slots.acquire(a);
  BOOST_TEST(slots.running() == 1U);
  BOOST_TEST(slots.has_room());
  BOOST_TEST(!slots.has_room(a));
  BOOST_TEST(slots.has_room(b));
  BOOST_TEST(pools->global().in_use() == 1);
  BOOST_TEST(pools->group("g").in_use() == 1);
  slots.acquire(b);
  BOOST_TEST(!slots.has_room());  // the group's pool is full, the global one is not
  BOOST_TEST(pools->global().has_room());
  slots.release(a);
  BOOST_TEST(slots.running() == 1U);
  BOOST_TEST(slots.has_room());
  BOOST_TEST(slots.has_room(a));
  BOOST_TEST(pools->agent("a").in_use() == 0);
}

BOOST_AUTO_TEST_CASE(groups_that_share_pools_share_their_limits) {
  auto pools = std::make_shared<limit_pools>(2);
  pools->agent("a").set_capacity(1);
  agent_slots one(chains({{"a"}}), pools, "one");
  agent_slots two(chains({{"b"}, {"a"}}), pools, "two");
  one.acquire(one.agent(0, 0));
  BOOST_TEST(!two.has_room(two.agent(1, 0)));  // agent a is busy in the other group
  two.acquire(two.agent(0, 0));
  BOOST_TEST(!one.has_room());  // the global pool is full
  BOOST_TEST(one.running() == 1U);
  BOOST_TEST(two.running() == 1U);
}

BOOST_AUTO_TEST_CASE(own_pools_are_sized_from_the_settings) {
  group_settings s;
  s.max_concurrent = 4;
  s.group_limit = 2;
  s.agent_limits["a"] = 1;
  const auto pools = own_pools(s);
  BOOST_TEST(pools->global().capacity() == 4);
  BOOST_TEST(pools->group({}).capacity() == 2);
  BOOST_TEST(pools->agent("a").capacity() == 1);
  BOOST_TEST(pools->agent("b").capacity() == 0);  // unlimited
  group_settings unlimited_group;
  BOOST_TEST(own_pools(unlimited_group)->group({}).capacity() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
