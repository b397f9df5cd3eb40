#pragma once

#include <string>

namespace maestro::app {

/// Sends Boost.Log records at or above `level_name` (trace, debug, info,
/// warning, error, off) to stderr as human-readable lines, and opens the
/// engine's own gate to the same level.
void configure_logging(const std::string& level_name);

}  // namespace maestro::app
