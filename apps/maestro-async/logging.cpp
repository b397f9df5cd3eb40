#include "logging.hpp"

#include <iostream>

#include <boost/core/null_deleter.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/utility/setup/common_attributes.hpp>
#include <boost/make_shared.hpp>

#include <maestro/log.hpp>

namespace maestro::app {
namespace {

maestro::log::level parse_level(const std::string& name) {
  return maestro::core::from_string<maestro::log::level>(name).value_or(maestro::log::level::off);
}

}  // namespace

void configure_logging(const std::string& level_name) {
  namespace logging = boost::log;
  namespace expr = boost::log::expressions;
  const auto threshold = parse_level(level_name);
  maestro::log::set_level(threshold);
  auto core = logging::core::get();
  if (threshold == maestro::log::level::off) {
    core->set_logging_enabled(false);
    return;
  }
  using backend = logging::sinks::text_ostream_backend;
  auto sink_backend = boost::make_shared<backend>();
  sink_backend->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
  sink_backend->auto_flush(true);
  auto sink = boost::make_shared<logging::sinks::synchronous_sink<backend>>(sink_backend);
  sink->set_formatter([](const logging::record_view& record, logging::formatting_ostream& out) {
    const auto severity = logging::extract<maestro::log::level>("Severity", record);
    out << "maestro-async: " << (severity ? maestro::log::to_string(*severity) : "log") << ": "
        << record[expr::smessage];
  });
  core->add_sink(sink);
}

}  // namespace maestro::app
