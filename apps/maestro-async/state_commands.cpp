// `maestro-async list` and `status`: read the state directory.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>
#include <fmt/core.h>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>
#include <maestro/adapters/workspace_adapters.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/time_text.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"
#include "terminal_text.hpp"

namespace maestro::app {
namespace json = boost::json;

namespace {

// A member as text for a person to read: strings from the input (ids,
// errors) go through core::printable().
std::string text_of(const json::object& o, std::string_view key, std::string fallback = "-") {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return fallback;
  }
  if (v->is_string()) {
    return core::printable(v->get_string());
  }
  return json::serialize(*v);
}

json::object counts_of(const group_metadata& metadata) {
  std::map<std::string_view, std::int64_t> counts;
  for (const auto& r : metadata.results) {
    ++counts[core::to_string(r.status)];
  }
  json::object out;
  for (const auto& [status, n] : counts) {
    out[status] = n;
  }
  return out;
}

json::value or_null(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

// An optional member as text for a person to read.
template <class T>
std::string text_or(const std::optional<T>& v, std::string fallback = "-") {
  if (!v) {
    return fallback;
  }
  if constexpr (std::is_same_v<T, std::string>) {
    return core::printable(*v);
  } else {
    return std::to_string(*v);
  }
}

std::string counts_text(const json::object& counts) {
  std::string out;
  for (const auto& [status, n] : counts) {
    out += (out.empty() ? "" : ", ") + json::serialize(n) + " " + std::string(status);
  }
  return out.empty() ? "no tasks" : out;
}

// The status to show. A group whose engine ended between the read of its
// state and the look at its lock would show `interrupted`: the engine
// writes its terminal state before it lets the lock go, so a second read
// then has it.
std::string current_status(std::optional<group_metadata>& metadata,
                           const std::filesystem::path& dir) {
  auto status = reported_status(*metadata, dir);
  if (status == "interrupted") {
    try {
      if (auto again = read_group_metadata(dir)) {
        metadata = std::move(again);
        status = reported_status(*metadata, dir);
      }
    } catch (const state_damaged&) {
      // The first read stands.
    }
  }
  return status;
}

// The order tasks are shown in: failures first, then what runs and what
// waits, then what ended otherwise.
int display_rank(core::task_status s) {
  using core::task_status;
  switch (s) {
    case task_status::failed:
    case task_status::timed_out:
      return 0;
    case task_status::running:
      return 1;
    case task_status::queued:
      return 2;
    case task_status::blocked:
    case task_status::pending:
      return 3;
    case task_status::cancelled:
    case task_status::skipped:
      return 4;
    case task_status::completed:
      return 5;
  }
  return 6;
}

bool is_finished(std::string_view status) {
  const auto s = core::from_string<core::task_status>(status);
  return s && core::is_terminal(*s);
}

// `2026-12-07T03:57:47.554Z` as `2026-12-07 03:57:47`; "-" when empty.
std::string short_time(const std::string& iso) {
  if (iso.size() < 19 || iso == "-") {
    return "-";
  }
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

// From `started` to `ended` (or to `now` when empty) as h:mm:ss.
std::string span_text(const std::string& started, const std::string& ended,
                      std::chrono::system_clock::time_point now) {
  const auto from = parse_utc(started);
  const auto to = ended.empty() || ended == "-" ? std::optional(now) : parse_utc(ended);
  if (!from || !to) {
    return "-";
  }
  return clock_text(std::chrono::duration<double>(*to - *from).count());
}

}  // namespace

int run_list(const common_options& common, const std::string& status_filter) {
  const auto state_dir = state_dir_of(load_state_config(common));
  json::array groups;
  for (const auto& id : group_ids(state_dir)) {
    const auto dir = group_dir(state_dir, id);
    std::optional<group_metadata> metadata;
    try {
      metadata = read_group_metadata(dir);
    } catch (const state_damaged& e) {
      // One damaged group is shown as such; the others are still listed.
      if (status_filter.empty() || status_filter == "damaged") {
        groups.push_back(json::object{
            {"group_id", id},
            {"status", "damaged"},
            {"phase", ""},
            {"counts", json::object{}},
            {"damaged", json::object{{"file", e.file().string()}, {"reason", e.reason()}}}});
      }
      continue;
    }
    if (!metadata) {
      continue;
    }
    const auto status = current_status(metadata, dir);
    const auto& md = *metadata;
    if (!status_filter.empty() && status != status_filter) {
      continue;
    }
    json::array tasks;
    for (const auto& t : md.tasks) {
      tasks.emplace_back(t);
    }
    groups.push_back(
        json::object{{"group_id", id},
                     {"status", status},
                     {"phase", core::to_string(md.phase)},
                     {"counts", counts_of(md)},
                     {"tasks", std::move(tasks)},
                     {"started_at", or_null(md.started_at)},
                     {"completed_at", or_null(md.completed_at)},
                     {"engine_pid", md.engine_pid ? json::value(*md.engine_pid) : nullptr}});
  }
  if (common.json) {
    fmt::print("{}\n", json::serialize(groups));
    return 0;
  }
  if (groups.empty()) {
    fmt::print("no groups in {}\n", (state_dir / "parallel_groups").string());
    return 0;
  }
  const auto width = output_width(STDOUT_FILENO);
  const auto now = std::chrono::system_clock::now();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> damaged;
  for (const auto& g : groups) {
    const auto& o = g.get_object();
    const auto id = core::printable(text_of(o, "group_id"));
    if (const auto* d = o.if_contains("damaged")) {
      rows.push_back({id, "damaged", "", "", "", "", ""});
      damaged.push_back(id + ": " + text_of(d->get_object(), "file") + ": " +
                        core::printable(text_of(d->get_object(), "reason")));
      continue;
    }
    const auto& counts = o.at("counts").get_object();
    std::int64_t total = 0;
    std::int64_t ended = 0;
    for (const auto& [status, n] : counts) {
      total += n.as_int64();
      if (is_finished(status)) {
        ended += n.as_int64();
      }
    }
    rows.push_back({id, text_of(o, "status"), text_of(o, "phase"),
                    std::to_string(ended) + "/" + std::to_string(total),
                    short_time(text_of(o, "started_at", "")),
                    span_text(text_of(o, "started_at", ""), text_of(o, "completed_at", ""), now),
                    counts_text(counts)});
  }
  const auto lines = format_table({{"GROUP", false, 1},
                                   {"STATUS"},
                                   {"PHASE"},
                                   {"DONE", true},
                                   {"STARTED"},
                                   {"DURATION", true},
                                   {"TASKS", false, 2}},
                                  rows, width);
  for (const auto& line : lines) {
    fmt::print("{}\n", line);
  }
  for (const auto& line : damaged) {
    fmt::print("{}\n", width > 0 ? fit_to_width("damaged: " + line, width) : "damaged: " + line);
  }
  return 0;
}

int run_status(const common_options& common, const std::string& group_id,
               const std::string& task_filter) {
  if (!task_filter.empty() && !core::from_string<core::task_status>(task_filter)) {
    throw usage_error("--task-status: unknown task status " + core::printable(task_filter));
  }
  const auto state_dir = state_dir_of(load_state_config(common));
  const auto dir = group_dir(state_dir, group_id);
  std::optional<group_metadata> metadata;
  try {
    metadata = read_group_metadata(dir);
  } catch (const state_damaged& e) {
    if (common.json) {
      fmt::print("{}\n",
                 json::serialize(json::object{{"group_id", group_id},
                                              {"status", "damaged"},
                                              {"damaged", json::object{{"file", e.file().string()},
                                                                       {"reason", e.reason()}}}}));
    } else {
      fmt::print("group {}: damaged: {}: {}\n", core::printable(group_id), e.file().string(),
                 core::printable(e.reason()));
    }
    return 0;
  }
  if (!metadata) {
    fmt::print(stderr, "maestro-async: unknown group: {} (no {})\n", core::printable(group_id),
               core::printable((dir / "metadata.json").string()));
    return 2;
  }
  const auto status = current_status(metadata, dir);
  const auto& md = *metadata;
  const auto counts = counts_of(md);
  // The worktrees on disk (SPEC section 11): those of failed attempts kept
  // with keep_failed, and a failed group's test worktree.
  const worktree_layout layout{std::filesystem::absolute(state_dir).lexically_normal(), {}};
  const auto worktrees = layout.kept(group_id);
  if (common.json) {
    auto shown = to_json(md);
    shown["status"] = status;
    shown["counts"] = counts;
    shown["worktrees"] = layout.kept_json(group_id);
    if (!task_filter.empty()) {
      // The same shape, with fewer results; `counts` still counts all.
      auto& results = shown["results"].as_array();
      json::array kept;
      for (auto& r : results) {
        if (r.at("status").as_string() == task_filter) {
          kept.push_back(std::move(r));
        }
      }
      results = std::move(kept);
    }
    fmt::print("{}\n", json::serialize(shown));
    return 0;
  }
  const auto width = output_width(STDOUT_FILENO);
  const auto fit = [&](const std::string& line) {
    return width > 0 ? fit_to_width(line, width) : line;
  };
  const auto now = std::chrono::system_clock::now();
  fmt::print("{}\n",
             fit(fmt::format("group {}: {} (phase {}), tests: {}", core::printable(group_id),
                             status, core::to_string(md.phase),
                             md.tests ? std::string(core::to_string(*md.tests)) : "not run")));
  fmt::print("{}\n", fit(fmt::format(
                         "started {}, {} {}, engine pid {}",
                         md.started_at ? short_time(*md.started_at) : std::string("-"),
                         md.completed_at ? "ran" : "running for",
                         span_text(md.started_at.value_or(""), md.completed_at.value_or(""), now),
                         text_or(md.engine_pid))));
  fmt::print("{}\n\n", fit(counts_text(counts)));
  // Failures first, then what runs, what waits, and what ended well.
  std::vector<const result_metadata*> shown;
  for (const auto& r : md.results) {
    if (task_filter.empty() || core::to_string(r.status) == task_filter) {
      shown.push_back(&r);
    }
  }
  std::stable_sort(shown.begin(), shown.end(), [](const auto* a, const auto* b) {
    return display_rank(a->status) < display_rank(b->status);
  });
  const auto cwd = std::filesystem::current_path();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<std::string>> notes;  // lines under each row
  for (const auto* r : shown) {
    const bool running = r->status == core::task_status::running;
    std::string time = "-";
    if (running && r->started_at) {
      time = span_text(*r->started_at, "", now);
    } else if (r->duration_s) {
      time = clock_text(*r->duration_s);
    }
    // Ids, agents and logs are escaped twice, as they always were.
    rows.push_back(
        {core::printable(core::printable(r->task_id)), std::string(core::to_string(r->status)),
         core::printable(text_or(r->subagent)), std::to_string(r->attempts), text_or(r->exit_code),
         running ? text_or(r->pid) : "", time,
         core::printable(
             core::printable(std::filesystem::path(r->log).lexically_proximate(cwd).string()))});
    std::vector<std::string> under;
    if (running && r->job_id) {
      under.push_back("running as cluster job " + core::printable(*r->job_id));
    }
    if (r->error && !r->error->empty()) {
      under.push_back(core::printable(*r->error));
    }
    notes.push_back(std::move(under));
  }
  if (shown.empty()) {
    fmt::print("  no {}tasks\n", task_filter.empty() ? "" : task_filter + " ");
  } else {
    const auto lines = format_table({{"TASK", false, 1},
                                     {"STATUS"},
                                     {"AGENT", false, 2},
                                     {"ATTEMPTS", true},
                                     {"EXIT", true},
                                     {"PID", true},
                                     {"TIME", true},
                                     {"LOG", false, 3}},
                                    rows, width, "  ");
    fmt::print("{}\n", lines.front());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      fmt::print("{}\n", lines[i + 1]);
      for (const auto& note : notes[i]) {
        fmt::print("{}\n", fit("      " + note));
      }
    }
  }
  if (!worktrees.empty()) {
    fmt::print("\nkept worktrees:\n");
    for (const auto& w : worktrees) {
      const auto path = core::printable(w.path.lexically_proximate(cwd).string());
      fmt::print("{}\n", fit(w.task_id.empty() ? fmt::format("  {:<20} {}", "(tests)", path)
                                               : fmt::format("  {:<20} {}  ({})",
                                                             core::printable(w.task_id) + " #" +
                                                                 std::to_string(w.attempt),
                                                             path, w.branch)));
    }
  }
  if (!md.epics.empty()) {
    fmt::print("\nepics closed after this group's tasks:\n");
    for (const auto& e : md.epics) {
      fmt::print("{}\n", fit(fmt::format("  {:<20} {}", core::printable(e.id),
                                         e.closed ? "closed" : "open")));
    }
  }
  for (const auto& [name, list] : {std::pair{"warnings", &md.warnings}, {"errors", &md.errors}}) {
    if (!list->empty()) {
      fmt::print("\n{}:\n", name);
      for (const auto& line : *list) {
        fmt::print("{}\n", fit("  " + core::printable(line)));
      }
    }
  }
  return 0;
}

}  // namespace maestro::app
