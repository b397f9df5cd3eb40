#include <boost/test/unit_test.hpp>

#include <maestro/core/group_settings.hpp>

using namespace maestro::core;

BOOST_AUTO_TEST_SUITE(group_settings_tests)

BOOST_AUTO_TEST_CASE(defaults_are_the_configuration_defaults) {
  const group_settings d;
  // A named configuration, not a temporary: GCC 12 at -O3 warns that the
  // temporary's maps "may be used uninitialized" in their destructor.
  const config defaults;
  const auto s = settings_for(defaults, "any");
  BOOST_TEST(s.max_concurrent == d.max_concurrent);
  BOOST_TEST(!s.group_limit.has_value());
  BOOST_TEST(s.agent_limits.empty());
  BOOST_TEST(s.agent_timeouts.empty());
  BOOST_TEST(s.default_timeout_s == d.default_timeout_s);
  BOOST_TEST(s.retries == d.retries);
  BOOST_TEST(s.retry_backoff_s == d.retry_backoff_s);
  BOOST_TEST(s.tempfail_cooldown_s == d.tempfail_cooldown_s);
  BOOST_TEST(s.tempfail_max == d.tempfail_max);
  BOOST_TEST(s.kill_grace_s == d.kill_grace_s);
  BOOST_TEST(s.group_timeout_s == d.group_timeout_s);
  BOOST_TEST(s.blocked_wait_s == d.blocked_wait_s);
  BOOST_TEST(s.refresh == d.refresh);
  BOOST_TEST(s.refresh_required == d.refresh_required);
  BOOST_TEST(s.refresh_timeout_s == d.refresh_timeout_s);
  BOOST_TEST(s.test_required == d.test_required);
  BOOST_TEST(s.test_timeout_s == d.test_timeout_s);
  BOOST_TEST(s.close_tasks == d.close_tasks);
  BOOST_TEST(d.max_concurrent == 4);
  BOOST_TEST(d.test_timeout_s == 1800.0);
}

BOOST_AUTO_TEST_CASE(a_group_gets_its_limits_and_policies) {
  config cfg;
  cfg.max_concurrent = 9;
  cfg.group_limits = {{"ui", 2}, {"api", 3}};
  cfg.agents["fast"].max_concurrent = 5;
  cfg.agents["slow"].timeout_s = 60;
  cfg.agent_defaults.timeout_s = 120;
  cfg.retries = 2;
  cfg.kill_grace_s = 3;
  cfg.refresh = refresh_config{{"git", "pull"}, 45, true};
  cfg.test.timeout_s = 90;
  cfg.test.required = true;
  cfg.close_tasks = false;
  const auto s = settings_for(cfg, "ui");
  BOOST_TEST(s.max_concurrent == 9);
  BOOST_TEST_REQUIRE(s.group_limit.has_value());
  BOOST_TEST(*s.group_limit == 2);
  BOOST_TEST(s.agent_limits.size() == 1U);
  BOOST_TEST(s.agent_limits.at("fast") == 5);
  BOOST_TEST(s.agent_timeouts.at("slow") == 60.0);
  BOOST_TEST(s.default_timeout_s == 120.0);
  BOOST_TEST(s.retries == 2);
  BOOST_TEST(s.kill_grace_s == 3.0);
  BOOST_TEST(s.refresh);
  BOOST_TEST(s.refresh_required);
  BOOST_TEST(s.refresh_timeout_s == 45.0);
  BOOST_TEST(s.test_timeout_s == 90.0);
  BOOST_TEST(s.test_required);
  BOOST_TEST(!s.close_tasks);
  BOOST_TEST(!settings_for(cfg, "other").group_limit.has_value());
}

BOOST_AUTO_TEST_CASE(an_attempt_s_time_limit_is_the_task_s_then_the_agent_s_then_the_default) {
  group_settings s;
  s.default_timeout_s = 100;
  s.agent_timeouts["slow"] = 300;
  BOOST_TEST(attempt_timeout_s(s, std::nullopt, "fast") == 100.0);
  BOOST_TEST(attempt_timeout_s(s, std::nullopt, "slow") == 300.0);
  BOOST_TEST(attempt_timeout_s(s, 5.0, "slow") == 5.0);
  BOOST_TEST(attempt_timeout_s(s, 0.0, "slow") == 0.0);  // the task's own: no limit
}

BOOST_AUTO_TEST_SUITE_END()
