#pragma once

namespace maestro::core {

/// A visitor made of lambdas, one per alternative: `std::visit(overloaded{...}, v)`.
template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace maestro::core
