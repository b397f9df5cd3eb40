// `maestro-async list` and `status`: read the state directory.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/json.hpp>
#include <fmt/core.h>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>
#include <maestro/adapters/workspace_adapters.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"

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
  fmt::print("{:<28} {:<12} {:<22} {}\n", "GROUP", "STATUS", "PHASE", "TASKS");
  for (const auto& g : groups) {
    const auto& o = g.get_object();
    if (const auto* damaged = o.if_contains("damaged")) {
      fmt::print("{:<28} {:<12} {}: {}\n", core::printable(text_of(o, "group_id")), "damaged",
                 text_of(damaged->get_object(), "file"),
                 core::printable(text_of(damaged->get_object(), "reason")));
      continue;
    }
    fmt::print("{:<28} {:<12} {:<22} {}\n", core::printable(text_of(o, "group_id")),
               text_of(o, "status"), text_of(o, "phase"), counts_text(o.at("counts").get_object()));
  }
  return 0;
}

int run_status(const common_options& common, const std::string& group_id) {
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
    fmt::print("{}\n", json::serialize(shown));
    return 0;
  }
  fmt::print("group {}: {} (phase {}), tests: {}\n", core::printable(group_id), status,
             core::to_string(md.phase),
             md.tests ? std::string(core::to_string(*md.tests)) : std::string("not run"));
  fmt::print("started {}, completed {}, engine pid {}\n", text_or(md.started_at),
             text_or(md.completed_at), text_or(md.engine_pid));
  fmt::print("{}\n\n", counts_text(counts));
  fmt::print("  {:<20} {:<10} {:<24} {:>8} {:>5}  {}\n", "TASK", "STATUS", "AGENT", "ATTEMPTS",
             "EXIT", "LOG");
  for (const auto& r : md.results) {
    // Ids, agents and logs are escaped twice, as they always were.
    fmt::print("  {:<20} {:<10} {:<24} {:>8} {:>5}  {}\n",
               core::printable(core::printable(r.task_id)), core::to_string(r.status),
               core::printable(text_or(r.subagent)), r.attempts, text_or(r.exit_code),
               core::printable(core::printable(r.log)));
    if (r.status == core::task_status::running && r.job_id) {
      fmt::print("      running as cluster job {}\n", core::printable(*r.job_id));
    }
    if (r.error && !r.error->empty()) {
      fmt::print("      {}\n", core::printable(*r.error));
    }
  }
  if (!worktrees.empty()) {
    fmt::print("\nkept worktrees:\n");
    for (const auto& w : worktrees) {
      if (w.task_id.empty()) {
        fmt::print("  {:<20} {}\n", "(tests)", core::printable(w.path.string()));
      } else {
        fmt::print("  {:<20} {}  ({})\n",
                   core::printable(w.task_id) + " #" + std::to_string(w.attempt),
                   core::printable(w.path.string()), w.branch);
      }
    }
  }
  if (!md.epics.empty()) {
    fmt::print("\nepics closed after this group's tasks:\n");
    for (const auto& e : md.epics) {
      fmt::print("  {:<20} {}\n", core::printable(e.id), e.closed ? "closed" : "open");
    }
  }
  for (const auto& [name, list] : {std::pair{"warnings", &md.warnings}, {"errors", &md.errors}}) {
    if (!list->empty()) {
      fmt::print("\n{}:\n", name);
      for (const auto& line : *list) {
        fmt::print("  {}\n", core::printable(line));
      }
    }
  }
  return 0;
}

}  // namespace maestro::app
