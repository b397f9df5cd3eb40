// `maestro-async execute` and `run`: the coordinator on this process's
// io_context, with signals turned into a graceful (then immediate) stop.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>
#include <fmt/core.h>

#include <maestro/adapters/workspace_adapters.hpp>
#include <maestro/agent_command.hpp>
#include <maestro/coordinator.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_marker.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/log.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"
#include "logging.hpp"
#include "progress.hpp"
#include "serving.hpp"

namespace maestro::app {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

severity threshold_of(const std::string& name) {
  using log::level;
  switch (core::from_string<level>(name).value_or(level::warning)) {
    case level::trace:
    case level::debug:
      return severity::debug;
    case level::info:
      return severity::info;
    case level::warning:
      return severity::warning;
    case level::error:
      return severity::error;
    case level::off:
      return static_cast<severity>(static_cast<int>(severity::error) + 1);
  }
  return severity::warning;
}

// --color: `auto` is colour on a terminal unless NO_COLOR is set (and not
// empty, as no-color.org says).
bool use_color(const std::string& mode, bool on_terminal) {
  if (mode == "always") {
    return true;
  }
  if (mode == "never") {
    return false;
  }
  const char* no_color = std::getenv("NO_COLOR");
  return on_terminal && (no_color == nullptr || *no_color == '\0');
}

std::vector<const core::stage*> selected_stages(const core::plan& plan, const std::string& group) {
  std::vector<const core::stage*> out;
  for (const auto& s : plan.stages) {
    if (group.empty() || s.id == group ||
        (group == core::sequential_group && s.kind == core::stage_kind::sequential)) {
      out.push_back(&s);
    }
  }
  return out;
}

// --dry-run: what would launch, and nothing launched or written.
int dry_run(const coordinator& c, const std::string& group) {
  const auto stages = selected_stages(c.plan(), group);
  if (stages.empty()) {
    throw refused("unknown group: " + group);
  }
  const bool worktrees = c.config().workspace.kind == core::workspace_kind::worktree;
  const worktree_layout layout{std::filesystem::absolute(c.state_dir()).lexically_normal(),
                               c.config().workspace.branch};
  for (const auto* s : stages) {
    fmt::print("group {} ({}):\n", s->id,
               s->kind == core::stage_kind::parallel ? "parallel" : "sequential");
    for (const auto i : s->tasks) {
      const auto& p = c.plan().tasks[i];
      const auto& t = c.tasks()[p.index];
      // Where the first attempt would run (SPEC section 11).
      const attempt_ref first{s->id, t.id, t.title, 1};
      const auto where = worktrees ? layout.attempt_dir(first) : std::filesystem::current_path();
      const auto command =
          build_agent_command(c.config(), t, p.agent.agent, 1, {s->id, where, c.state_dir()});
      std::string argv;
      for (const auto& a : command.argv) {
        argv += (argv.empty() ? "" : " ") + a;
      }
      fmt::print("  would launch {} with {}: {}\n", t.id, p.agent.agent,
                 argv.empty() ? "(no command)" : argv);
      if (worktrees) {
        fmt::print("    in the worktree {} (branch {})\n", where.string(),
                   worktree_layout::attempt_branch(first));
      }
      for (const auto& u : p.blocked_by) {
        fmt::print("    blocked by {}{}{}\n", u.id, u.absent() ? " (absent from the source)" : "",
                   u.via.empty() ? std::string{} : " (through " + u.via + ")");
      }
    }
  }
  return 0;
}

json::object outcome_json(const run_outcome& outcome, int exit_code) {
  json::array groups;
  for (const auto& g : outcome.groups) {
    json::object o{{"group_id", g.group_id}, {"status", to_string(g.status)}};
    if (!g.skipped.empty()) {
      o["skipped"] = g.skipped;
    }
    if (!g.note.empty()) {
      o["note"] = g.note;
    }
    groups.push_back(std::move(o));
  }
  return {{"groups", std::move(groups)}, {"exit_code", exit_code}};
}

}  // namespace

int run_execute(const common_options& common, const execute_options& options) {
  raise_open_file_limit();
  configure_logging(common.log_level);
  const auto config = load_effective_config(common);
  std::string origin;
  auto doc = load_source(common, config, origin);
  asio::io_context io;
  // The live beads source's ports report on the coordinator's strand.
  const auto strand = asio::make_strand(io.get_executor());
  std::optional<bd_tracker> beads_tracker;
  std::optional<bd_task_source> beads_source;
  const bool on_terminal = ::isatty(STDERR_FILENO) != 0;
  const bool live = on_terminal && !common.no_progress;
  progress_reporter progress(live ? progress_style::live_line : progress_style::line_per_event,
                             threshold_of(common.log_level), state_dir_of(config),
                             use_color(common.color, on_terminal));
  coordinator_options place;
  place.state_dir = state_dir_of(config);
  place.source = origin;
  place.sink = &progress;
  if (common.beads) {
    const auto settings = beads_settings(common, config);
    beads_tracker.emplace(strand, settings);
    beads_source.emplace(strand, settings);
    place.task_tracker = &*beads_tracker;
    place.watched_port = &*beads_source;
  } else {
    place.watched_source = origin;
  }
  coordinator c(coordinator::executor_type(strand), config, std::move(doc.tasks), place);
  if (common.dry_run) {
    return dry_run(c, options.group_id);
  }

  // `--serve`: listening before anything runs, so that a port in use is
  // exit 2 with nothing started.
  std::optional<serving> server;
  if (common.serve) {
    const bool configured = common.serve->empty();
    server.emplace(io, place.state_dir, configured ? config.serve.listen : *common.serve,
                   configured ? "serve.listen" : "--serve");
  }

  int signal_exit = 0;
  bool finished = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        // A signal whose handler was already queued when the run finished
        // must not wait again: the pending wait would keep io.run() going.
        if (ec || finished) {
          return;
        }
        if (signal_exit != 0 && signal == SIGINT) {
          c.stop(core::stop_mode::immediate, "second SIGINT");
        } else if (signal_exit == 0) {
          signal_exit = signal == SIGINT ? 130 : 143;
          c.stop(core::stop_mode::graceful, signal == SIGINT ? "SIGINT" : "SIGTERM");
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  std::exception_ptr error;
  run_outcome outcome;
  const auto done = [&](std::exception_ptr e, run_outcome o) {
    error = std::move(e);
    outcome = std::move(o);
    finished = true;
    signals.cancel();
    if (server) {
      server->stop();
    }
  };
  if (options.resume) {
    c.async_resume(options.group_id, done);
  } else if (options.group_id.empty()) {
    c.async_run(options.keep_going ? after_failure::keep_going : after_failure::stop, done);
  } else {
    c.async_execute(options.group_id,
                    options.force ? completed_group::run_again : completed_group::refuse, done);
  }
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  for (const auto& g : outcome.groups) {
    if (!g.skipped.empty()) {
      fmt::print(stderr, "maestro-async: group {}: not run: {}\n", core::printable(g.group_id),
                 core::printable(g.skipped));
    }
    if (!g.note.empty()) {
      fmt::print(stderr, "maestro-async: group {}: {}\n", core::printable(g.group_id), g.note);
    }
  }
  if (config.workspace.kind == core::workspace_kind::worktree && !common.json &&
      std::any_of(outcome.groups.begin(), outcome.groups.end(), [](const group_outcome& g) {
        return g.status == core::group_status::completed ||
               g.status == core::group_status::incomplete;
      })) {
    // The user's branches are never touched: how to take the result.
    fmt::print(stderr,
               "maestro-async: the tested work is on the branch {}; take it with `git merge {}`\n",
               config.workspace.branch, config.workspace.branch);
  }
  const int code = signal_exit != 0 ? signal_exit : outcome.exit_code();
  if (common.json) {
    fmt::print("{}\n", json::serialize(outcome_json(outcome, code)));
  }
  return code;
}

}  // namespace maestro::app
