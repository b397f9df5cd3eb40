#pragma once

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace maestro::test {

/// A working directory with a tasks file and a configuration, and the real
/// maestro-async binary to run in it. Agents are the fake_agent program.
struct engine_fixture {
  temp_dir dir;

  /// `["<fake_agent>", steps...]` as a JSON array, for a config's command.
  static std::string agent(const std::vector<std::string>& steps) {
    boost::json::array argv{MAESTRO_FAKE_AGENT};
    for (const auto& s : steps) {
      argv.emplace_back(s);
    }
    return boost::json::serialize(argv);
  }

  /// Writes maestro.json: `extra` holds more top-level members (JSON text,
  /// without braces); tests are off and grace periods short unless given.
  void config(const std::string& extra) const {
    std::string text = "{\"state_dir\": \"state\"";
    if (extra.find("\"test\"") == std::string::npos) {
      text += ", \"test\": {\"command\": \"none\"}";
    }
    if (extra.find("\"kill_grace_s\"") == std::string::npos) {
      text += ", \"kill_grace_s\": 0.3";
    }
    text += extra.empty() ? "}" : ", " + extra + "}";
    dir.write("maestro.json", text);
  }

  void tasks(const std::string& json_text) const { dir.write("tasks.json", json_text); }

  /// `maestro-async ARGS...`, with `--tasks-file tasks.json` and
  /// `--no-progress` added for the commands that take them.
  [[nodiscard]] static std::vector<std::string> command_line(std::vector<std::string> args) {
    const std::string command = args.empty() ? std::string() : args.front();
    if (command == "execute" || command == "run" || command == "resume") {
      args.insert(args.end(), {"--tasks-file", "tasks.json", "--no-progress"});
    } else if (command == "detect") {
      args.insert(args.end(), {"--tasks-file", "tasks.json"});
    }
    args.insert(args.begin(), MAESTRO_ASYNC_BIN);
    return args;
  }

  [[nodiscard]] process_result run(std::vector<std::string> args) const {
    return run_process(command_line(std::move(args)), dir.path());
  }

  [[nodiscard]] running_process start(std::vector<std::string> args) const {
    return start_process(command_line(std::move(args)), dir.path());
  }

  [[nodiscard]] std::filesystem::path group_path(const std::string& group) const {
    return dir.path() / "state" / "parallel_groups" / group;
  }

  /// The group's metadata.json; fails the test if it does not parse.
  [[nodiscard]] boost::json::object metadata(const std::string& group) const {
    return boost::json::parse(read_file(group_path(group) / "metadata.json")).as_object();
  }

  /// The result of one task in a group's metadata.
  [[nodiscard]] boost::json::object result(const std::string& group, const std::string& id) const {
    const auto md = metadata(group);
    for (const auto& r : md.at("results").as_array()) {
      if (r.at("task_id") == id.c_str()) {
        return r.as_object();
      }
    }
    throw std::runtime_error("no result for " + id);
  }

  /// The lines of a file in the working directory.
  [[nodiscard]] std::vector<std::string> lines(const std::string& name) const {
    std::ifstream in(dir.path() / name);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      out.push_back(line);
    }
    return out;
  }
};

/// One task's interval from a fake_agent stamps file.
struct interval {
  std::string id;
  long long start = 0;
  long long end = 0;
};

/// Intervals by task id (the last run of each), from `<id> start|end <ns>`.
inline std::vector<interval> intervals(const std::vector<std::string>& lines) {
  std::map<std::string, interval> by_id;
  for (const auto& line : lines) {
    std::istringstream in(line);
    std::string id;
    std::string what;
    long long ns = 0;
    in >> id >> what >> ns;
    auto& i = by_id[id];
    i.id = id;
    (what == "start" ? i.start : i.end) = ns;
  }
  std::vector<interval> out;
  for (auto& [id, i] : by_id) {
    out.push_back(i);
  }
  std::sort(out.begin(), out.end(),
            [](const interval& a, const interval& b) { return a.start < b.start; });
  return out;
}

/// The largest number of intervals open at once.
inline int max_overlap(const std::vector<interval>& all) {
  std::vector<std::pair<long long, int>> edges;
  for (const auto& i : all) {
    edges.emplace_back(i.start, +1);
    edges.emplace_back(i.end, -1);
  }
  std::sort(edges.begin(), edges.end());  // an end sorts before a start at the same time
  int open = 0;
  int most = 0;
  for (const auto& [t, d] : edges) {
    open += d;
    most = std::max(most, open);
  }
  return most;
}

}  // namespace maestro::test
