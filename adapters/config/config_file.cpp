#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include <maestro/adapters/config_file.hpp>
#include <maestro/adapters/json_reader.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>

namespace maestro {
namespace {

namespace json = boost::json;

/// A problem found in the document, before the origin is prefixed. `path` is
/// the dotted key (empty when the message names it itself).
struct problem {
  std::string path;
  std::string what;
};

using adapters::column_unit;

using adapters::describe_value;
using adapters::index_path;
using adapters::key_path;
using adapters::printable_key;

[[noreturn]] void fail(const std::string& path, const std::string& expected, const json::value& v) {
  throw problem{path, "expected " + expected + ", got " + describe_value(v)};
}

// Scalar readers. Each takes the value and its key path, and returns the
// converted value or throws a `problem` naming the key.

std::string read_string(const json::value& v, const std::string& path) {
  if (!v.is_string()) {
    fail(path, "a string", v);
  }
  const json::string& s = v.get_string();
  // Strings become paths, argv elements and environment entries, none of
  // which can hold a NUL.
  if (std::find(s.begin(), s.end(), '\0') != s.end()) {
    throw problem{path, "must not contain a NUL character"};
  }
  return std::string(s);
}

std::string read_non_empty_string(const json::value& v, const std::string& path) {
  if (!v.is_string() || v.get_string().empty()) {
    fail(path, "a non-empty string", v);
  }
  return read_string(v, path);
}

bool read_bool(const json::value& v, const std::string& path) {
  if (!v.is_bool()) {
    fail(path, "true or false", v);
  }
  return v.get_bool();
}

/// The value as an integer when it is one: a JSON integer, or a number with
/// an integral value such as 4.0. Values beyond int64 are clamped to it.
std::optional<std::int64_t> as_integer(const json::value& v) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  switch (v.kind()) {
    case json::kind::int64:
      return v.get_int64();
    case json::kind::uint64:
      return v.get_uint64() > static_cast<std::uint64_t>(max)
                 ? max
                 : static_cast<std::int64_t>(v.get_uint64());
    case json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d) || std::trunc(d) != d) {
        return std::nullopt;
      }
      if (d >= static_cast<double>(max)) {
        return max;
      }
      if (d <= static_cast<double>(min)) {
        return min;
      }
      return static_cast<std::int64_t>(d);
    }
    default:
      return std::nullopt;
  }
}

int read_int_at_least(const json::value& v, const std::string& path, int min,
                      const std::string& expected) {
  constexpr int max = std::numeric_limits<int>::max();
  const std::optional<std::int64_t> n = as_integer(v);
  if (!n || *n < min) {
    fail(path, expected, v);
  }
  if (*n > max) {
    fail(path, expected + " no greater than " + std::to_string(max), v);
  }
  return static_cast<int>(*n);
}

int read_positive_int(const json::value& v, const std::string& path) {
  return read_int_at_least(v, path, 1, "a positive integer");
}

int read_count(const json::value& v, const std::string& path) {
  return read_int_at_least(v, path, 0, "an integer >= 0");
}

double read_seconds(const json::value& v, const std::string& path) {
  if (!v.is_number()) {
    fail(path, "a number >= 0", v);
  }
  const double d = v.to_number<double>();
  if (!std::isfinite(d) || d < 0) {
    fail(path, "a number >= 0", v);
  }
  if (d > core::max_duration_s) {
    fail(path, "a number of seconds no greater than 1e9", v);
  }
  return d;
}

// The names of `E` for an error message: `"a", "b" or "c"`.
template <class E>
std::string quoted_names() {
  std::string out;
  const auto& names = core::enum_names_v<E>;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += i + 1 == names.size() ? " or " : ", ";
    }
    out += "\"" + std::string(names[i].name) + "\"";
  }
  return out;
}

// A value of `E` given by its name.
template <class E>
E read_enum(const json::value& v, const std::string& path) {
  if (v.is_string()) {
    if (const auto value = core::from_string<E>(v.get_string())) {
      return *value;
    }
  }
  fail(path, quoted_names<E>(), v);
}

core::stdin_source read_stdin(const json::value& v, const std::string& path) {
  return read_enum<core::stdin_source>(v, path);
}

core::launcher_kind read_launcher_kind(const json::value& v, const std::string& path) {
  return read_enum<core::launcher_kind>(v, path);
}

core::workspace_kind read_workspace_kind(const json::value& v, const std::string& path) {
  return read_enum<core::workspace_kind>(v, path);
}

core::grouping read_grouping(const json::value& v, const std::string& path) {
  return read_enum<core::grouping>(v, path);
}

core::schedule_mode read_schedule(const json::value& v, const std::string& path) {
  return read_enum<core::schedule_mode>(v, path);
}

// Composite readers.

const json::object& read_object_value(const json::value& v, const std::string& path) {
  if (!v.is_object()) {
    fail(path, "an object", v);
  }
  return v.get_object();
}

std::vector<std::string> read_string_array(const json::value& v, const std::string& path) {
  if (!v.is_array()) {
    fail(path, "an array of strings", v);
  }
  std::vector<std::string> out;
  const json::array& items = v.get_array();
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(read_string(items[i], index_path(path, i)));
  }
  return out;
}

/// A command line: a non-empty array of strings whose first element, the
/// program, is not empty.
std::vector<std::string> read_argv(const json::value& v, const std::string& path) {
  if (!v.is_array() || v.get_array().empty()) {
    fail(path, "a non-empty array of strings", v);
  }
  std::vector<std::string> argv = read_string_array(v, path);
  if (argv.front().empty()) {
    throw problem{index_path(path, 0), "the program name must not be empty"};
  }
  return argv;
}

/// `agent_defaults.command`: an argv, or `null` or `[]` for "no default
/// command" (then every agent needs a command of its own).
std::vector<std::string> read_optional_argv(const json::value& v, const std::string& path) {
  if (v.is_null() || (v.is_array() && v.get_array().empty())) {
    return {};
  }
  if (!v.is_array()) {
    fail(path, "an array of strings or null", v);
  }
  return read_argv(v, path);
}

std::map<std::string, std::string> read_env(const json::value& v, const std::string& path) {
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : read_object_value(v, path)) {
    const std::string entry = key_path(path, name);
    if (name.empty() || name.find('=') != json::string_view::npos ||
        name.find('\0') != json::string_view::npos) {
      throw problem{entry, "not a valid environment variable name"};
    }
    env[std::string(name)] = read_string(value, entry);
  }
  return env;
}

bool is_group_name(std::string_view name) {
  // As in the `[P:Group-NAME]` marker: letters, digits, `_` and `-`.
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::map<std::string, int> read_group_limits(const json::value& v, const std::string& path) {
  std::map<std::string, int> limits;
  for (const auto& [name, value] : read_object_value(v, path)) {
    const std::string entry = key_path(path, name);
    if (!is_group_name(name)) {
      throw problem{entry, "not a group name (letters, digits, _ and -)"};
    }
    limits[std::string(name)] = read_positive_int(value, entry);
  }
  return limits;
}

void check_agent_name(std::string_view name, const std::string& path) {
  if (name.empty()) {
    throw problem{path, "an agent name must not be empty"};
  }
  if (name.find('\0') != std::string_view::npos) {
    throw problem{path, "must not contain a NUL character"};
  }
}

std::optional<core::keyword_table> read_auto_detect(const json::value& v, const std::string& path) {
  if (v.is_null()) {
    return std::nullopt;
  }
  if (!v.is_object()) {
    fail(path, "null or an object", v);
  }
  // Document order is kept: a tie in the keyword score goes to the agent
  // listed first.
  core::keyword_table table;
  for (const auto& [agent, keywords] : v.get_object()) {
    const std::string entry = key_path(path, agent);
    check_agent_name(agent, entry);
    std::vector<std::string> words = read_string_array(keywords, entry);
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (words[i].empty()) {
        throw problem{index_path(entry, i), "a keyword must not be empty"};
      }
    }
    table.emplace_back(std::string(agent), std::move(words));
  }
  return table;
}

// Objects with a fixed set of keys are read through a table of fields: one
// entry per key, naming the function that stores its value.

template <class T>
struct field {
  std::string_view name;
  void (*read)(const json::value& v, const std::string& path, T& out);
};

template <class>
struct member_traits;

template <class C, class M>
struct member_traits<M C::*> {
  using owner = C;
};

/// A field reader that stores `Read(value, path)` into `Member`.
template <auto Member, auto Read>
void assign(const json::value& v, const std::string& path,
            typename member_traits<decltype(Member)>::owner& out) {
  out.*Member = Read(v, path);
}

/// Reads the object `v` into `out`. Every key must be in `fields`, and keys
/// are handled in document order, so the first problem in the file is the
/// one reported.
template <class T>
void read_fields(const json::value& v, const std::string& path, std::span<const field<T>> fields,
                 T& out) {
  for (const auto& [key, value] : read_object_value(v, path)) {
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&key = key](const field<T>& f) { return f.name == key; });
    const std::string entry = key_path(path, key);
    if (it == fields.end()) {
      throw problem{"", "unknown key: " + entry};
    }
    it->read(value, entry, out);
  }
}

using core::agent_config;
using core::agent_defaults_config;
using core::config;
using core::launcher_config;
using core::refresh_config;
using core::test_config;

constexpr std::array<field<agent_defaults_config>, 4> agent_defaults_fields{{
    {"command", &assign<&agent_defaults_config::command, read_optional_argv>},
    {"timeout_s", &assign<&agent_defaults_config::timeout_s, read_seconds>},
    {"env", &assign<&agent_defaults_config::env, read_env>},
    {"stdin", &assign<&agent_defaults_config::stdin_mode, read_stdin>},
}};

constexpr std::array<field<agent_config>, 5> agent_fields{{
    {"command", &assign<&agent_config::command, read_argv>},
    {"max_concurrent", &assign<&agent_config::max_concurrent, read_positive_int>},
    {"timeout_s", &assign<&agent_config::timeout_s, read_seconds>},
    {"env", &assign<&agent_config::env, read_env>},
    {"stdin", &assign<&agent_config::stdin_mode, read_stdin>},
}};

constexpr std::array<field<refresh_config>, 3> refresh_fields{{
    {"command", &assign<&refresh_config::command, read_argv>},
    {"timeout_s", &assign<&refresh_config::timeout_s, read_seconds>},
    {"required", &assign<&refresh_config::required, read_bool>},
}};

void read_test_command(const json::value& v, const std::string& path, test_config& out) {
  if (v.is_string() && v.get_string() == "auto") {
    out.kind = core::test_command_kind::auto_detect;
    out.command.clear();
  } else if (v.is_string() && v.get_string() == "none") {
    out.kind = core::test_command_kind::none;
    out.command.clear();
  } else if (v.is_array() && !v.get_array().empty()) {
    out.command = read_argv(v, path);
    out.kind = core::test_command_kind::argv;
  } else {
    fail(path, R"(a non-empty array of strings, "auto" or "none")", v);
  }
}

constexpr std::array<field<test_config>, 3> test_fields{{
    {"command", &read_test_command},
    {"timeout_s", &assign<&test_config::timeout_s, read_seconds>},
    {"required", &assign<&test_config::required, read_bool>},
}};

core::allocation_mode read_allocation(const json::value& v, const std::string& path) {
  return read_enum<core::allocation_mode>(v, path);
}

// A time limit that must be one: `bd` calls (SPEC section 10), a Slurm
// allocation's wait (section 8).
double read_positive_seconds(const json::value& v, const std::string& path) {
  const double d = read_seconds(v, path);
  if (d <= 0) {
    fail(path, "a number of seconds > 0", v);
  }
  return d;
}

constexpr std::array<field<launcher_config>, 5> launcher_fields{{
    {"kind", &assign<&launcher_config::kind, read_launcher_kind>},
    {"srun", &assign<&launcher_config::srun, read_non_empty_string>},
    {"srun_args", &assign<&launcher_config::srun_args, read_string_array>},
    {"allocation", &assign<&launcher_config::allocation, read_allocation>},
    {"allocation_timeout_s",
     &assign<&launcher_config::allocation_timeout_s, read_positive_seconds>},
}};

std::optional<std::string> read_actor(const json::value& v, const std::string& path) {
  if (v.is_null()) {
    return std::nullopt;
  }
  return read_non_empty_string(v, path);
}

constexpr std::array<field<core::beads_config>, 4> beads_fields{{
    {"actor", &assign<&core::beads_config::actor, read_actor>},
    {"timeout_s", &assign<&core::beads_config::timeout_s, read_positive_seconds>},
    {"recheck_s", &assign<&core::beads_config::recheck_s, read_seconds>},
    {"release_claims", &assign<&core::beads_config::release_claims, read_bool>},
}};

// A branch name git takes (`git check-ref-format --branch`): checked here
// so that a bad one is a configuration error, not a failed run.
std::string read_branch_name(const json::value& v, const std::string& path) {
  auto name = read_non_empty_string(v, path);
  const auto bad = [&](const std::string& why) {
    throw problem{path, "not a valid branch name (" + why + "): " + printable_key(name)};
  };
  if (name.front() == '-' || name.front() == '/' || name.back() == '/' || name.back() == '.') {
    bad("it starts with - or /, or ends with / or .");
  }
  if (name.find("..") != std::string::npos || name.find("//") != std::string::npos ||
      name.find("@{") != std::string::npos || name == "@" || name.find("/.") != std::string::npos ||
      name.front() == '.' || name.ends_with(".lock") || name.find(".lock/") != std::string::npos) {
    bad("it holds .., //, @{, a component starting with . or ending with .lock");
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || std::string_view(" ~^:?*[\\").find(c) != std::string_view::npos) {
      bad("it holds a space, a control character or one of ~^:?*[\\");
    }
  }
  return name;
}

constexpr std::array<field<core::workspace_config>, 4> workspace_fields{{
    {"kind", &assign<&core::workspace_config::kind, read_workspace_kind>},
    {"base", &assign<&core::workspace_config::base, read_non_empty_string>},
    {"branch", &assign<&core::workspace_config::branch, read_branch_name>},
    {"keep_failed", &assign<&core::workspace_config::keep_failed, read_bool>},
}};

core::workspace_config read_workspace(const json::value& v, const std::string& path) {
  core::workspace_config out;
  read_fields<core::workspace_config>(v, path, workspace_fields, out);
  return out;
}

core::beads_config read_beads(const json::value& v, const std::string& path) {
  core::beads_config out;
  read_fields<core::beads_config>(v, path, beads_fields, out);
  return out;
}

agent_defaults_config read_agent_defaults(const json::value& v, const std::string& path) {
  agent_defaults_config out;
  read_fields<agent_defaults_config>(v, path, agent_defaults_fields, out);
  return out;
}

std::map<std::string, agent_config> read_agents(const json::value& v, const std::string& path) {
  std::map<std::string, agent_config> agents;
  for (const auto& [name, value] : read_object_value(v, path)) {
    const std::string entry = key_path(path, name);
    check_agent_name(name, entry);
    agent_config agent;
    read_fields<agent_config>(value, entry, agent_fields, agent);
    agents[std::string(name)] = std::move(agent);
  }
  return agents;
}

std::optional<refresh_config> read_refresh(const json::value& v, const std::string& path) {
  if (v.is_null()) {
    return std::nullopt;
  }
  if (!v.is_object()) {
    fail(path, "null or an object", v);
  }
  refresh_config out;
  read_fields<refresh_config>(v, path, refresh_fields, out);
  // `read_argv` never yields an empty command, so empty means "not given".
  if (out.command.empty()) {
    throw problem{key_path(path, "command"), "missing (required when refresh is an object)"};
  }
  return out;
}

test_config read_test(const json::value& v, const std::string& path) {
  test_config out;
  read_fields<test_config>(v, path, test_fields, out);
  return out;
}

launcher_config read_launcher(const json::value& v, const std::string& path) {
  launcher_config out;
  read_fields<launcher_config>(v, path, launcher_fields, out);
  return out;
}

constexpr std::array<field<core::serve_config>, 1> serve_fields{{
    {"listen", &assign<&core::serve_config::listen, read_non_empty_string>},
}};

core::serve_config read_serve(const json::value& v, const std::string& path) {
  core::serve_config out;
  read_fields<core::serve_config>(v, path, serve_fields, out);
  return out;
}

constexpr std::array<field<config>, 24> config_fields{{
    {"state_dir", &assign<&config::state_dir, read_non_empty_string>},
    {"max_concurrent", &assign<&config::max_concurrent, read_positive_int>},
    {"group_limits", &assign<&config::group_limits, read_group_limits>},
    {"default_agent", &assign<&config::default_agent, read_non_empty_string>},
    {"auto_detect", &assign<&config::auto_detect, read_auto_detect>},
    {"prompt_template", &assign<&config::prompt_template, read_string>},
    {"agent_defaults", &assign<&config::agent_defaults, read_agent_defaults>},
    {"agents", &assign<&config::agents, read_agents>},
    {"refresh", &assign<&config::refresh, read_refresh>},
    {"test", &assign<&config::test, read_test>},
    {"group_timeout_s", &assign<&config::group_timeout_s, read_seconds>},
    {"blocked_wait_s", &assign<&config::blocked_wait_s, read_seconds>},
    {"retries", &assign<&config::retries, read_count>},
    {"retry_backoff_s", &assign<&config::retry_backoff_s, read_seconds>},
    {"tempfail_cooldown_s", &assign<&config::tempfail_cooldown_s, read_seconds>},
    {"tempfail_max", &assign<&config::tempfail_max, read_count>},
    {"kill_grace_s", &assign<&config::kill_grace_s, read_seconds>},
    {"close_tasks", &assign<&config::close_tasks, read_bool>},
    {"launcher", &assign<&config::launcher, read_launcher>},
    {"group_by", &assign<&config::group_by, read_grouping>},
    {"schedule", &assign<&config::schedule, read_schedule>},
    {"beads", &assign<&config::beads, read_beads>},
    {"workspace", &assign<&config::workspace, read_workspace>},
    {"serve", &assign<&config::serve, read_serve>},
}};

/// Every agent the configuration names must resolve to a command before
/// anything launches. With a default command, every agent does.
void check_agents_resolve(const config& cfg) {
  if (!cfg.agent_defaults.command.empty()) {
    return;
  }
  const auto no_command = [](const std::string& name) {
    return "agent " + printable_key(name) +
           " resolves to no command (agent_defaults.command is empty)";
  };
  for (const auto& [name, agent] : cfg.agents) {
    if (!agent.command) {
      throw problem{key_path(key_path("agents", name), "command"), no_command(name)};
    }
  }
  if (!cfg.agents.contains(cfg.default_agent)) {
    throw problem{"agent_defaults.command",
                  "default agent " + printable_key(cfg.default_agent) + " resolves to no command"};
  }
  if (cfg.auto_detect) {
    for (const auto& entry : *cfg.auto_detect) {
      if (!cfg.agents.contains(entry.first)) {
        throw problem{key_path("auto_detect", entry.first), no_command(entry.first)};
      }
    }
  }
}

/// 1-based line and column of byte `offset` in `text`. Columns count
/// characters, not bytes.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset) {
  const auto p = adapters::position_of(text, offset, column_unit::characters);
  return {p.line, p.column};
}

[[noreturn]] void throw_malformed(std::string_view text, std::size_t offset,
                                  const json::error_code& ec, std::string_view origin) {
  if (ec == json::error::extra_data) {
    // The parser stops after the document; point at what follows it instead.
    while (offset < text.size() && std::strchr(" \t\r\n", text[offset]) != nullptr) {
      ++offset;
    }
  }
  const auto [line, column] = line_and_column(text, offset);
  throw core::config_error(std::string(origin) + ':' + std::to_string(line) + ':' +
                           std::to_string(column) + ": malformed JSON: " + ec.message());
}

std::string read_file(const std::filesystem::path& path, std::string_view origin) {
  std::string error;
  auto text = adapters::read_input_file(path, error);
  if (!text) {
    throw core::config_error(std::string(origin) + ": cannot read config: " + error);
  }
  return std::move(*text);
}

}  // namespace

core::config parse_config(std::string_view json_text, std::string_view origin) {
  json::value document;
  if (const auto failure = adapters::parse_json_strict(json_text, document)) {
    if (!failure->duplicate_path.empty()) {
      const auto [line, column] = line_and_column(json_text, failure->offset);
      throw core::config_error(
          std::string(origin) + ':' + std::to_string(line) + ':' + std::to_string(column) +
          ": duplicate key: " + adapters::format_json_path(failure->duplicate_path));
    }
    throw_malformed(json_text, failure->offset, failure->error, origin);
  }
  if (!document.is_object()) {
    throw core::config_error(std::string(origin) +
                             ": expected a JSON object at the top level, got " +
                             describe_value(document));
  }
  core::config cfg;
  try {
    read_fields<config>(document, "", config_fields, cfg);
    check_agents_resolve(cfg);
  } catch (const problem& p) {
    std::string message(origin);
    message += ": ";
    if (!p.path.empty()) {
      message += p.path + ": ";
    }
    throw core::config_error(message + p.what);
  }
  return cfg;
}

core::config load_config(const std::optional<std::filesystem::path>& explicit_path,
                         const std::filesystem::path& working_dir) {
  if (explicit_path) {
    const std::string origin = explicit_path->string();
    return parse_config(read_file(*explicit_path, origin), origin);
  }
  const std::filesystem::path implicit = working_dir / "maestro.json";
  // symlink_status, so that a dangling maestro.json link is reported rather
  // than silently ignored.
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(implicit, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return core::config{};
  }
  return parse_config(read_file(implicit, "maestro.json"), "maestro.json");
}

}  // namespace maestro
