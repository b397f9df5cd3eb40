#pragma once

#include <stdexcept>

namespace maestro {

/// A request that cannot be carried out: an unknown group, a completed group
/// without `--force`, a group another engine is running, an agent without a
/// command. The CLI exits 2 on it.
class refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace maestro
