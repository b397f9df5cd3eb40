// The only translation unit of the engine that includes Boost.Log: its
// headers are heavy, and the rest of the engine logs through log.hpp.

#include <atomic>
#include <string>

#include <boost/log/attributes/constant.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_channel_logger.hpp>

#include <maestro/log.hpp>

namespace maestro::log {
namespace {

std::atomic<level> gate{level::off};

using logger_type = boost::log::sources::severity_channel_logger_mt<level, std::string>;

logger_type& logger() {
  static logger_type instance(boost::log::keywords::channel = "maestro");
  return instance;
}

}  // namespace

void set_level(level threshold) noexcept {
  gate.store(threshold, std::memory_order_relaxed);
}

bool enabled(level severity) noexcept {
  const auto threshold = gate.load(std::memory_order_relaxed);
  return threshold != level::off && severity >= threshold && severity != level::off;
}

void write(level severity, std::string_view message) {
  if (!enabled(severity)) {
    return;
  }
  BOOST_LOG_SEV(logger(), severity) << message;
}

std::string_view to_string(level severity) noexcept {
  return core::name_of(severity);
}

}  // namespace maestro::log
