#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace maestro::core {

/// The exit code that asks for a later retry with the same agent.
inline constexpr int ex_tempfail = 75;

/// The settings of the policy (`retries`, `retry_backoff_s`,
/// `tempfail_cooldown_s`, `tempfail_max` of the configuration).
struct retry_settings {
  int retries = 0;
  double retry_backoff_s = 0;
  double tempfail_cooldown_s = 0;
  int tempfail_max = 0;
  std::uint64_t seed = 0;
};

/// How a failed attempt ended, as far as the policy cares.
struct attempt_outcome {
  bool started = true;  ///< false: it could not start
  bool timed_out = false;
  std::optional<int> exit_code;
};

/// Where a task stands in its attempts.
struct attempt_position {
  std::size_t chain_position = 0;  ///< the agent of the attempt, in the chain
  std::size_t chain_size = 1;
  int round = 0;      ///< rounds of the whole chain already retried
  int tempfails = 0;  ///< EX_TEMPFAIL cool-downs already taken
};

/// What to do after an attempt that did not complete.
enum class retry_kind {
  next_agent,  ///< the next agent of the chain, at once
  retry,       ///< the whole chain again, after `delay_s` (a new round)
  cool_down,   ///< the same agent again, after `delay_s` (EX_TEMPFAIL)
  give_up      ///< the task failed
};

struct retry_step {
  retry_kind kind = retry_kind::give_up;
  double delay_s = 0;
  friend bool operator==(const retry_step&, const retry_step&) = default;
};

/// The retry policy, pure but for its seeded generator: an attempt that
/// exited EX_TEMPFAIL (75) is rate limited, not failed, and cools down
/// before the same agent runs again, up to `tempfail_max` times; any other
/// failure moves to the next agent of the chain at once; a chain used up
/// starts again after an exponential back-off, up to `retries` rounds.
/// Delays are jittered by +-20% with splitmix64, so that a seed replays
/// them.
class retry_policy {
 public:
  retry_policy() = default;
  explicit retry_policy(const retry_settings& settings) noexcept
      : settings_(settings), rng_(settings.seed) {}

  [[nodiscard]] retry_step next(const attempt_outcome& attempt, const attempt_position& at);
  /// `seconds` within +-20%, from the next value of the generator.
  [[nodiscard]] double jitter(double seconds) noexcept;
  [[nodiscard]] const retry_settings& settings() const noexcept { return settings_; }

 private:
  retry_settings settings_;
  std::uint64_t rng_ = 0;
};

}  // namespace maestro::core
