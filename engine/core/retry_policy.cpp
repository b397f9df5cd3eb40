#include <cmath>

#include <maestro/core/retry_policy.hpp>

namespace maestro::core {

retry_step retry_policy::next(const attempt_outcome& attempt, const attempt_position& at) {
  if (attempt.started && !attempt.timed_out && attempt.exit_code == ex_tempfail &&
      at.tempfails < settings_.tempfail_max) {
    return {retry_kind::cool_down, jitter(settings_.tempfail_cooldown_s)};
  }
  if (at.chain_position + 1 < at.chain_size) {
    return {retry_kind::next_agent, 0};
  }
  if (at.round < settings_.retries) {
    return {retry_kind::retry, jitter(settings_.retry_backoff_s * std::pow(2.0, at.round))};
  }
  return {retry_kind::give_up, 0};
}

double retry_policy::jitter(double seconds) noexcept {
  // splitmix64: a tiny, seedable generator, so tests can replay delays.
  rng_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = rng_;
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  z ^= z >> 31U;
  const double unit = static_cast<double>(z >> 11U) * 0x1.0p-53;
  return seconds * (0.8 + 0.4 * unit);  // within +-20%
}

}  // namespace maestro::core
