#include <limits>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/ready_queue.hpp>

using maestro::core::ready_queue;

BOOST_AUTO_TEST_SUITE(ready_queue_tests)

namespace {

const auto any_lane = [](std::size_t) { return true; };

}  // namespace

BOOST_AUTO_TEST_CASE(priority_then_input_order) {
  ready_queue q(1);
  q.push(0, {2}, 0);
  q.push(0, {0}, 1);
  q.push(0, {2}, 2);
  q.push(0, {1}, 3);
  BOOST_TEST(q.size() == 4U);
  std::vector<std::size_t> order;
  while (!q.empty()) {
    order.push_back(q.pop_best(any_lane));
  }
  BOOST_TEST(order == (std::vector<std::size_t>{1, 3, 0, 2}));
  BOOST_TEST(q.pop_best(any_lane) == ready_queue::none);
}

BOOST_AUTO_TEST_CASE(priority_then_the_longest_chain_then_input_order) {
  ready_queue q(1);
  q.push(0, {2, 1}, 0);
  q.push(0, {2, 5}, 1);
  q.push(0, {1, 0}, 2);  // a better priority wins over any chain
  q.push(0, {2, 5}, 3);
  q.push(0, {2, 3}, 4);
  BOOST_TEST(q.head(0) == 2U);
  BOOST_TEST(q.head(1) == ready_queue::none);
  BOOST_TEST(!q.erase(0, {2, 4}, 4));  // the rank is part of the key
  std::vector<std::size_t> order;
  while (!q.empty()) {
    order.push_back(q.pop_best(any_lane));
  }
  BOOST_TEST(order == (std::vector<std::size_t>{2, 1, 3, 4, 0}));
}

BOOST_AUTO_TEST_CASE(extreme_ranks_keep_their_order) {
  // An embedding host may use any priority, and a chain may be long.
  ready_queue q(1);
  q.push(0, {std::numeric_limits<long long>::max(), 0}, 0);
  q.push(0, {-1, 0}, 1);
  q.push(0, {std::numeric_limits<long long>::min(), 0}, 2);
  q.push(0, {-1, std::numeric_limits<std::size_t>::max()}, 3);
  q.push(0, {5, 7}, 4);
  std::vector<std::size_t> order;
  while (!q.empty()) {
    order.push_back(q.pop_best(any_lane));
  }
  BOOST_TEST(order == (std::vector<std::size_t>{2, 3, 1, 4, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_best_head_among_lanes_with_room) {
  ready_queue q(2);
  q.push(0, {0}, 0);  // the best overall, in lane 0
  q.push(0, {0}, 1);
  q.push(1, {4}, 2);
  q.push(1, {4}, 3);
  const auto lane_1_only = [](std::size_t lane) { return lane == 1; };
  BOOST_TEST(q.pop_best(lane_1_only) == 2U);  // a full lane 0 does not hold back lane 1
  BOOST_TEST(q.pop_best(any_lane) == 0U);
  BOOST_TEST(q.pop_best([](std::size_t) { return false; }) == ready_queue::none);
  BOOST_TEST(q.size() == 2U);
}

BOOST_AUTO_TEST_CASE(erase_takes_a_task_out_of_its_lane) {
  ready_queue q;
  q.push(3, {1}, 7);  // lanes grow on demand
  q.push(3, {1}, 8);
  BOOST_TEST(!q.erase(2, {1}, 7));
  BOOST_TEST(!q.erase(3, {2}, 7));
  BOOST_TEST(q.erase(3, {1}, 7));
  BOOST_TEST(q.size() == 1U);
  BOOST_TEST(q.pop_best(any_lane) == 8U);
}

BOOST_AUTO_TEST_CASE(a_delayed_task_is_counted_apart_until_its_delay_ends) {
  ready_queue q(1);
  q.delay(4);
  q.delay(4);  // once
  q.delay(1);
  BOOST_TEST(q.delayed() == 2U);
  BOOST_TEST(q.empty());  // not ready: in no lane
  BOOST_TEST(q.end_delay(4));
  BOOST_TEST(!q.end_delay(4));
  BOOST_TEST(!q.end_delay(9));
  BOOST_TEST(q.delayed() == 1U);
  q.push(0, {0}, 4);
  BOOST_TEST(q.pop_best(any_lane) == 4U);
}

BOOST_AUTO_TEST_SUITE_END()
