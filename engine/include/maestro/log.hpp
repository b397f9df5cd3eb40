#pragma once

#include <string_view>

#include <maestro/core/enum_names.hpp>

namespace maestro::log {

/// Severity of an engine log record, lowest first.
enum class level { trace, debug, info, warning, error, off };

/// The names of the levels, as `--log-level` takes them.
constexpr auto enum_names(level) noexcept {
  return core::make_enum_table<level>({
      {level::trace, "trace"},
      {level::debug, "debug"},
      {level::info, "info"},
      {level::warning, "warning"},
      {level::error, "error"},
      {level::off, "off"},
  });
}

/// The engine's own gate. It is `off` until the host raises it, so an
/// embedding host that configures no Boost.Log sink never sees Boost.Log's
/// default sink print the engine's records.
void set_level(level threshold) noexcept;

/// True when records of `severity` pass the engine's gate. Cheap: check it
/// before building a message on a hot path.
[[nodiscard]] bool enabled(level severity) noexcept;

/// Emits one Boost.Log record on the channel `maestro` with attribute
/// `Severity` (a `maestro::log::level`), if `enabled(severity)`. The engine
/// adds no sinks and no global filters: the host decides where records go.
void write(level severity, std::string_view message);

/// The name of a level: "trace", "debug", ...
[[nodiscard]] std::string_view to_string(level severity) noexcept;

}  // namespace maestro::log
