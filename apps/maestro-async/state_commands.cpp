// `maestro-async list` and `status`: read the state directory.

#include <map>
#include <optional>
#include <string>

#include <boost/json.hpp>
#include <fmt/core.h>

#include <maestro/adapters/state_dir.hpp>
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

json::object counts_of(const json::object& metadata) {
  std::map<std::string, std::int64_t> counts;
  if (const auto* results = metadata.if_contains("results"); results && results->is_array()) {
    for (const auto& r : results->get_array()) {
      if (const auto* o = r.if_object()) {
        ++counts[text_of(*o, "status", "unknown")];
      }
    }
  }
  json::object out;
  for (const auto& [status, n] : counts) {
    out[status] = n;
  }
  return out;
}

std::string counts_text(const json::object& counts) {
  std::string out;
  for (const auto& [status, n] : counts) {
    out += (out.empty() ? "" : ", ") + json::serialize(n) + " " + std::string(status);
  }
  return out.empty() ? "no tasks" : out;
}

}  // namespace

int run_list(const common_options& common, const std::string& status_filter) {
  const auto state_dir = state_dir_of(load_state_config(common));
  json::array groups;
  for (const auto& id : group_ids(state_dir)) {
    const auto dir = group_dir(state_dir, id);
    std::optional<json::value> metadata;
    try {
      metadata = read_metadata(dir);
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
    const auto& md = metadata->get_object();
    const auto status = reported_status(*metadata, dir);
    if (!status_filter.empty() && status != status_filter) {
      continue;
    }
    groups.push_back(json::object{
        {"group_id", id},
        {"status", status},
        {"phase", text_of(md, "phase", "")},
        {"counts", counts_of(md)},
        {"tasks", md.contains("tasks") ? md.at("tasks") : json::array{}},
        {"started_at", md.contains("started_at") ? md.at("started_at") : nullptr},
        {"completed_at", md.contains("completed_at") ? md.at("completed_at") : nullptr},
        {"engine_pid", md.contains("engine_pid") ? md.at("engine_pid") : nullptr}});
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
  std::optional<json::value> metadata;
  try {
    metadata = read_metadata(dir);
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
  auto md = metadata->get_object();
  const auto status = reported_status(*metadata, dir);
  md["status"] = status;
  md["counts"] = counts_of(md);
  if (common.json) {
    fmt::print("{}\n", json::serialize(md));
    return 0;
  }
  fmt::print("group {}: {} (phase {}), tests: {}\n", core::printable(group_id), status,
             text_of(md, "phase"), text_of(md, "test_status", "not run"));
  fmt::print("started {}, completed {}, engine pid {}\n", text_of(md, "started_at"),
             text_of(md, "completed_at"), text_of(md, "engine_pid"));
  fmt::print("{}\n\n", counts_text(md.at("counts").get_object()));
  fmt::print("  {:<20} {:<10} {:<24} {:>8} {:>5}  {}\n", "TASK", "STATUS", "AGENT", "ATTEMPTS",
             "EXIT", "LOG");
  if (const auto* results = md.if_contains("results"); results && results->is_array()) {
    for (const auto& r : results->get_array()) {
      const auto& o = r.get_object();
      fmt::print("  {:<20} {:<10} {:<24} {:>8} {:>5}  {}\n", core::printable(text_of(o, "task_id")),
                 text_of(o, "status"), core::printable(text_of(o, "subagent")),
                 text_of(o, "attempts"), text_of(o, "exit_code"),
                 core::printable(text_of(o, "log")));
      if (const auto error = text_of(o, "error", ""); !error.empty()) {
        fmt::print("      {}\n", core::printable(error));
      }
    }
  }
  for (const auto* key : {"warnings", "errors"}) {
    if (const auto* list = md.if_contains(key);
        list && list->is_array() && !list->get_array().empty()) {
      fmt::print("\n{}:\n", key);
      for (const auto& line : list->get_array()) {
        fmt::print("  {}\n", core::printable(line.is_string() ? std::string(line.get_string())
                                                              : json::serialize(line)));
      }
    }
  }
  return 0;
}

}  // namespace maestro::app
