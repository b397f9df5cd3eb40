#include "inputs.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <fmt/core.h>

#include <maestro/adapters/bd_client.hpp>
#include <maestro/adapters/bd_output.hpp>
#include <maestro/adapters/config_file.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>

namespace maestro::app {

// `beads.timeout_s`'s default (SPEC section 3); the key itself comes with
// the rest of the live source.
constexpr std::chrono::milliseconds beads_timeout{30'000};

core::config load_effective_config(const common_options& common) {
  auto config = load_config(
      common.config ? std::optional<std::filesystem::path>(*common.config) : std::nullopt,
      std::filesystem::current_path());
  if (common.max_concurrent) {
    config.max_concurrent = *common.max_concurrent;
  }
  if (common.state_dir) {
    config.state_dir = *common.state_dir;
  }
  return config;
}

core::config load_state_config(const common_options& common) {
  try {
    return load_effective_config(common);
  } catch (const core::config_error& e) {
    if (common.log_level != "error" && common.log_level != "off") {
      // The message starts with the file's name: "ignoring maestro.json: ...".
      fmt::print(stderr, "maestro-async: warning: ignoring {}\n", core::printable(e.what()));
    }
  }
  core::config config;
  if (common.max_concurrent) {
    config.max_concurrent = *common.max_concurrent;
  }
  if (common.state_dir) {
    config.state_dir = *common.state_dir;
  }
  return config;
}

std::filesystem::path state_dir_of(const core::config& config) {
  return std::filesystem::absolute(config.state_dir);
}

namespace {

// `bd list --json --all --limit 0`, in id order (as exports are), so that
// `detect --beads` and `detect --tasks-file` on an export of the same issues
// print the same plan. A bd that is missing, broken, refuses the store or
// prints something else is bad input (exit 2) with bd's own message.
task_document load_beads(const common_options& common, std::string& origin) {
  const std::string& program = common.bd;
  origin = "bd list";
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("BD_JSON_ENVELOPE=")) {
      environment.emplace_back(*e);
    }
  }
  environment.emplace_back("BD_JSON_ENVELOPE=1");
  boost::asio::io_context io;
  bd_client client(io.get_executor(), program, std::filesystem::current_path(),
                   std::move(environment), beads_timeout);
  boost::system::error_code failure;
  bd_result result;
  client.async_run({"list", "--json", "--all", "--limit", "0"},
                   [&](boost::system::error_code ec, bd_result r) {
                     failure = ec;
                     result = std::move(r);
                   });
  io.run();
  const core::input_location where{"bd", 0, 0, {}};
  if (failure) {
    throw core::input_error(where, "cannot start " + core::printable(program) + ": " +
                                       failure.message() + " (give --bd PATH)");
  }
  if (result.timed_out) {
    throw core::input_error(where, "bd list did not answer within " +
                                       std::to_string(beads_timeout.count() / 1000) + " s");
  }
  if (result.exit_code != 0) {
    std::string message = result.err.substr(0, result.err.find('\n'));
    throw core::input_error(where, "bd list failed (exit " + std::to_string(result.exit_code) +
                                       ")" +
                                       (message.empty() ? "" : ": " + core::printable(message)));
  }
  task_document doc;
  try {
    doc.tasks = parse_bd_issues(result.out, "list");
  } catch (const bd_error& e) {
    throw core::input_error({}, e.what());
  }
  std::stable_sort(doc.tasks.begin(), doc.tasks.end(),
                   [](const core::task& a, const core::task& b) { return a.id < b.id; });
  return doc;
}

}  // namespace

task_document load_source(const common_options& common, std::string& origin) {
  if (common.beads) {
    return load_beads(common, origin);
  }
  if (!common.tasks_file) {
    throw usage_error("no task source: give --tasks-file PATH or --beads");
  }
  origin = *common.tasks_file;
  return load_task_file(*common.tasks_file);
}

}  // namespace maestro::app
