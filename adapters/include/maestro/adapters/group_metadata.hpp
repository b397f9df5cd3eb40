#pragma once

// The schema of a group's state files: `metadata.json` (the whole state,
// rewritten) and `events.jsonl` (one line per change). This is the one
// place that spells their keys: the store writes through the functions
// below, and every reader (list, status, wait, resume, dependencies on
// earlier groups) goes through `read_group_metadata` and `replay_events`.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <maestro/adapters/json_writer.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/time_text.hpp>

namespace maestro {

/// The keys of `metadata.json`.
namespace metadata_key {
// The group.
inline constexpr std::string_view group_id = "group_id";
inline constexpr std::string_view group_name = "group_name";
inline constexpr std::string_view kind = "kind";
inline constexpr std::string_view phase = "phase";
inline constexpr std::string_view created_at = "created_at";
inline constexpr std::string_view started_at = "started_at";
inline constexpr std::string_view completed_at = "completed_at";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view errors = "errors";
inline constexpr std::string_view warnings = "warnings";
inline constexpr std::string_view refresh_completed = "pre_group_refresh_completed";
inline constexpr std::string_view limits = "limits";
inline constexpr std::string_view max_concurrent = "max_concurrent";  // in `limits`
inline constexpr std::string_view group_limit = "group";              // in `limits`
inline constexpr std::string_view agent_limits = "agents";            // in `limits`
inline constexpr std::string_view test_status = "test_status";
inline constexpr std::string_view engine_pid = "engine_pid";
// The engine run's nonce: its cluster jobs are named after it (SPEC
// section 8), so that only this run's are cancelled.
inline constexpr std::string_view run_nonce = "run_nonce";
inline constexpr std::string_view source = "source";
inline constexpr std::string_view actor = "actor";  // who claims in the tracker, or null
inline constexpr std::string_view epics = "epics";  // closed after the group's tasks
inline constexpr std::string_view epic_id = "id";   // in an entry of `epics`
inline constexpr std::string_view tasks = "tasks";
inline constexpr std::string_view results = "results";
// One entry of `results`.
inline constexpr std::string_view task_id = "task_id";
inline constexpr std::string_view subagent = "subagent";
inline constexpr std::string_view skills = "skills_applied";
// "status", "started_at" and "completed_at" as for the group
inline constexpr std::string_view exit_code = "exit_code";
inline constexpr std::string_view attempts = "attempts";
inline constexpr std::string_view agent_history = "agent_history";
inline constexpr std::string_view log = "log";
inline constexpr std::string_view duration_s = "duration_s";
inline constexpr std::string_view error = "error";
inline constexpr std::string_view closed = "closed";
inline constexpr std::string_view pid = "pid";
inline constexpr std::string_view pgid = "pgid";
// The cluster job of the last attempt (the Slurm launcher), once known.
inline constexpr std::string_view job_id = "job_id";
// Written when attempts had workspaces of their own (SPEC section 11):
// `[{"attempt": N, "path": "...", "branch": "..."}]`.
inline constexpr std::string_view worktrees = "worktrees";
inline constexpr std::string_view attempt = "attempt";  // in an entry of `worktrees`
inline constexpr std::string_view path = "path";        // in an entry of `worktrees`
inline constexpr std::string_view branch = "branch";    // in an entry of `worktrees`
}  // namespace metadata_key

/// The keys of an `events.jsonl` line.
namespace event_key {
inline constexpr std::string_view ts = "ts";
inline constexpr std::string_view type = "type";
inline constexpr std::string_view task_id = "task_id";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view attempt = "attempt";
inline constexpr std::string_view agent = "agent";
inline constexpr std::string_view pid = "pid";
inline constexpr std::string_view pgid = "pgid";
inline constexpr std::string_view exit_code = "exit_code";
inline constexpr std::string_view closed = "closed";
inline constexpr std::string_view phase = "phase";
inline constexpr std::string_view test_status = "test_status";
inline constexpr std::string_view errors = "errors";  // a count on a group line
inline constexpr std::string_view engine_pid = "engine_pid";
}  // namespace event_key

// ---------------------------------------------------------------- reading

/// One entry of `results`, as read. The fields the store always writes and
/// the readers rely on are validated (a wrong one makes the file damaged);
/// the others are taken when they have the right kind, else left empty.
struct result_metadata {
  std::string task_id;
  core::task_status status = core::task_status::pending;
  std::string log;
  std::int64_t attempts = 0;
  std::vector<std::string> agent_history;
  std::optional<std::int64_t> exit_code;
  std::optional<int> pid;   ///< recorded while `running`
  std::optional<int> pgid;  ///< recorded while `running`
  // Not validated: empty when absent or of another kind.
  std::optional<std::string> subagent;
  std::vector<std::string> skills;
  std::optional<std::string> started_at;
  std::optional<std::string> completed_at;
  std::optional<double> duration_s;
  std::optional<std::string> error;
  bool closed = false;
  std::optional<std::string> job_id;
};

/// An epic closed after a group's tasks (SPEC section 1), as read.
struct epic_metadata {
  std::string id;
  bool closed = false;
};

/// A group's `metadata.json`, as read.
struct group_metadata {
  std::string group_id;
  core::group_status status = core::group_status::pending;
  core::group_phase phase = core::group_phase::pre_execution;
  std::vector<std::string> tasks;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::optional<std::string> created_at;
  std::optional<std::string> started_at;
  std::optional<std::string> completed_at;
  std::optional<int> engine_pid;
  std::vector<result_metadata> results;
  // Not validated: empty when absent or of another kind.
  std::optional<std::string> group_name;
  std::optional<bool> parallel;  ///< from `kind`
  std::optional<bool> refresh_completed;
  std::optional<int> max_concurrent;
  std::optional<int> group_limit;
  std::map<std::string, int> agent_limits;
  std::optional<core::test_status> tests;  ///< nullopt: not run (null)
  std::optional<std::string> source;
  std::optional<std::string> actor;
  std::optional<std::string> run_nonce;
  /// The entries of `epics` that have the right shape.
  std::vector<epic_metadata> epics;
};

/// A group's `metadata.json`, parsed and validated; nullopt when the group
/// has none. The file is never opened through a symlink. Throws
/// `state_damaged` (state_dir.hpp) naming the file and the reason when it
/// cannot be read, is not JSON, or lacks the shape `group_metadata` gives.
[[nodiscard]] std::optional<group_metadata> read_group_metadata(const std::filesystem::path& dir);

/// `metadata` as `metadata.json` holds it, keys in the order the store
/// writes them (what `status --json` shows).
[[nodiscard]] boost::json::object to_json(const group_metadata& metadata);

/// The reason `value` does not have the shape of `metadata.json`; nullopt
/// when it does, with `out` (when given) filled in.
[[nodiscard]] std::optional<std::string> convert_metadata(const boost::json::value& value,
                                                          group_metadata* out);

/// A group's `metadata.json` parsed but not validated (see
/// `convert_metadata`); nullopt when the group has none. Never through a
/// symlink; throws `state_damaged` when it cannot be read or is not JSON.
[[nodiscard]] std::optional<boost::json::value> read_metadata_value(
    const std::filesystem::path& dir);

/// A task's last state in `events.jsonl`.
struct replayed_task {
  std::string status;
  std::uint32_t attempt = 0;
  std::string agent;  ///< the agent of `attempt`, when known
  int pgid = 0;       ///< while `running`
};

/// The last state of each task in the group's `events.jsonl`, from the
/// lines after its last `run` marker (the latest run's). Lines that do not
/// parse (one cut by a crash) are skipped. Never through a symlink; an
/// absent file replays nothing.
[[nodiscard]] std::unordered_map<std::string, replayed_task> replay_events(
    const std::filesystem::path& dir);

// ---------------------------------------------------------------- writing

// Timestamps are ISO 8601 UTC with milliseconds: `format_utc`
// (maestro/time_text.hpp), which the runtime's log headers use too.

/// An epic the group closes after its tasks, and whether it did.
struct epic_entry {
  std::string_view id;
  bool closed = false;
};

/// What `metadata.json` says of the group, ahead of its tasks.
struct metadata_header {
  std::string_view group_id;
  std::string_view group_name;
  bool parallel = true;
  core::group_phase phase = core::group_phase::pre_execution;
  std::string_view created_at;
  std::string_view started_at;    ///< empty: null
  std::string_view completed_at;  ///< empty: null
  core::group_status status = core::group_status::pending;
  std::span<const std::string> errors;
  std::span<const std::string> warnings;
  bool refresh_completed = false;
  int max_concurrent = 0;
  std::optional<int> group_limit;
  const std::map<std::string, int>* agent_limits = nullptr;
  core::test_status tests = core::test_status::not_run;
  int engine_pid = 0;
  std::string_view run_nonce;  ///< empty: null
  std::string_view source;
  std::string_view actor;  ///< empty: null
  std::span<const epic_entry> epics;
};

/// What `metadata.json` says of one task. Views: nothing is copied.
struct result_entry {
  std::string_view task_id;
  std::string_view subagent;
  std::span<const std::string> skills;
  core::task_status status = core::task_status::pending;
  std::optional<std::chrono::system_clock::time_point> started_at;
  std::optional<std::chrono::system_clock::time_point> completed_at;
  std::optional<int> exit_code;
  std::uint32_t attempts = 0;
  std::span<const core::attempt_record> history;
  std::string_view log_dir;   ///< the logs directory, ending in '/'
  std::string_view log_name;  ///< the log's name in it
  std::optional<double> duration_s;
  std::string_view error;  ///< empty: null
  bool closed = false;
  /// `pid` and `pgid` are written only for a running task; 0 is null.
  bool running = false;
  int pid = 0;
  /// The last attempt's cluster job; empty: left out.
  std::string_view job_id;
  int pgid = 0;
};

/// `metadata.json` is written as: `write_metadata_head`, one
/// `write_task_id` per task, `write_metadata_middle`, one `write_result`
/// per task, `write_metadata_tail`.
void write_metadata_head(json_out::chunked_writer& out, const metadata_header& header);
void write_task_id(json_out::chunked_writer& out, std::size_t index, std::string_view id);
void write_metadata_middle(json_out::chunked_writer& out);
void write_result(json_out::chunked_writer& out, std::size_t index, const result_entry& result);
void write_metadata_tail(json_out::chunked_writer& out);

/// What an `events.jsonl` line says of a task.
struct task_event {
  std::string_view ts;
  std::string_view task_id;
  core::task_status status = core::task_status::pending;
  std::uint32_t attempt = 0;
  std::string_view agent;  ///< empty: left out
  int pid = 0;             ///< 0: left out (with pgid)
  int pgid = 0;
  std::optional<int> exit_code;  ///< left out when none
  bool closed = false;           ///< left out when false
};

/// Appends one `task` line (with its newline) to `out`.
void append_task_event(std::string& out, const task_event& event);

/// A `group` line without its time and closing brace: two equal bodies
/// say the same, so a repeated report is logged once.
[[nodiscard]] std::string group_event_body(core::group_phase phase, core::group_status status,
                                           core::test_status tests, std::size_t errors);
/// Appends the `group` line of `body` at `ts` (with its newline).
void append_group_event(std::string& out, std::string_view body, std::string_view ts);

/// Appends the `run` marker line (with its newline): the lines of a run
/// begin after it.
void append_run_marker(std::string& out, std::string_view ts, int engine_pid);

}  // namespace maestro
