#include <boost/test/unit_test.hpp>

#include <maestro/core/retry_policy.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(retry_policy_tests)

namespace {

retry_settings settings() {
  retry_settings s;
  s.retries = 2;
  s.retry_backoff_s = 10;
  s.tempfail_cooldown_s = 30;
  s.tempfail_max = 1;
  s.seed = 42;
  return s;
}

attempt_outcome exit_code(int code) {
  return {true, false, code};
}

}  // namespace

BOOST_AUTO_TEST_CASE(next_agent_at_once_then_rounds_with_backoff_then_give_up) {
  retry_policy p(settings());
  BOOST_TEST((p.next(exit_code(1), {0, 2, 0, 0}) == retry_step{retry_kind::next_agent, 0}));
  const auto first = p.next(exit_code(1), {1, 2, 0, 0});
  BOOST_TEST((first.kind == retry_kind::retry));
  BOOST_TEST(first.delay_s >= 8.0);
  BOOST_TEST(first.delay_s <= 12.0);
  const auto second = p.next(exit_code(1), {1, 2, 1, 0});
  BOOST_TEST((second.kind == retry_kind::retry));
  BOOST_TEST(second.delay_s >= 16.0);  // doubled
  BOOST_TEST(second.delay_s <= 24.0);
  BOOST_TEST((p.next(exit_code(1), {1, 2, 2, 0}).kind == retry_kind::give_up));
}

BOOST_AUTO_TEST_CASE(tempfail_cools_down_up_to_its_maximum) {
  retry_policy p(settings());
  const auto step = p.next(exit_code(ex_tempfail), {0, 2, 0, 0});
  BOOST_TEST((step.kind == retry_kind::cool_down));
  BOOST_TEST(step.delay_s >= 24.0);
  BOOST_TEST(step.delay_s <= 36.0);
  // Used up: an ordinary failure.
  BOOST_TEST((p.next(exit_code(ex_tempfail), {0, 2, 0, 1}).kind == retry_kind::next_agent));
  // Exit 75 that did not start, or timed out, is no tempfail.
  BOOST_TEST((p.next({false, false, ex_tempfail}, {0, 1, 2, 0}).kind == retry_kind::give_up));
  BOOST_TEST((p.next({true, true, ex_tempfail}, {0, 1, 2, 0}).kind == retry_kind::give_up));
}

BOOST_AUTO_TEST_CASE(a_seed_replays_its_delays) {
  retry_policy a(settings());
  retry_policy b(settings());
  auto other = settings();
  other.seed = 43;
  retry_policy c(other);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const double x = a.jitter(100);
    BOOST_TEST(x == b.jitter(100));
    BOOST_TEST(x >= 80.0);
    BOOST_TEST(x <= 120.0);
    differs = differs || x != c.jitter(100);
  }
  BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(no_retries_no_chain_gives_up_at_once) {
  retry_policy p(retry_settings{});
  BOOST_TEST((p.next(exit_code(1), {0, 1, 0, 0}) == retry_step{retry_kind::give_up, 0}));
  BOOST_TEST((p.next({false, false, std::nullopt}, {0, 1, 0, 0}).kind == retry_kind::give_up));
}

BOOST_AUTO_TEST_SUITE_END()
