#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/json_reader.hpp>
#include <maestro/adapters/state_dir.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/names.hpp>
#include <maestro/unique_fd.hpp>

namespace maestro {
namespace json = boost::json;
namespace key = metadata_key;

// ================================================================ writing

namespace {

void write_string_or_null(json_out::chunked_writer& out, std::string_view text) {
  if (text.empty()) {
    out.append_null();
  } else {
    out.append_string(text);
  }
}

void write_strings(json_out::chunked_writer& out, std::span<const std::string> items) {
  out.append("[");
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.append(i == 0 ? "" : ",");
    out.append_string(items[i]);
  }
  out.append("]");
}

void write_time_or_null(json_out::chunked_writer& out,
                        const std::optional<std::chrono::system_clock::time_point>& t) {
  if (!t) {
    out.append_null();
    return;
  }
  std::array<char, 32> buffer{};
  const auto n = format_utc(*t, buffer);
  out.append("\"");
  out.append(std::string_view(buffer.data(), n));
  out.append("\"");
}

template <class Number>
void write_number_or_null(json_out::chunked_writer& out, const std::optional<Number>& n) {
  if (n) {
    out.append_number(*n);
  } else {
    out.append_null();
  }
}

}  // namespace

void write_metadata_head(json_out::chunked_writer& out, const metadata_header& h) {
  out.append("{");
  out.append_key(key::group_id, true);
  out.append_string(h.group_id);
  out.append_key(key::group_name);
  out.append_string(h.group_name);
  out.append_key(key::kind);
  out.append_string(h.parallel ? "parallel" : "sequential");
  out.append_key(key::phase);
  out.append_string(core::to_string(h.phase));
  out.append_key(key::created_at);
  out.append_string(h.created_at);
  out.append_key(key::started_at);
  write_string_or_null(out, h.started_at);
  out.append_key(key::completed_at);
  write_string_or_null(out, h.completed_at);
  out.append_key(key::status);
  out.append_string(core::to_string(h.status));
  out.append_key(key::errors);
  write_strings(out, h.errors);
  out.append_key(key::warnings);
  write_strings(out, h.warnings);
  out.append_key(key::refresh_completed);
  out.append_bool(h.refresh_completed);
  out.append_key(key::limits);
  out.append("{");
  out.append_key(key::max_concurrent, true);
  out.append_number(h.max_concurrent);
  out.append_key(key::group_limit);
  write_number_or_null(out, h.group_limit);
  out.append_key(key::agent_limits);
  out.append("{");
  if (h.agent_limits != nullptr) {
    bool first = true;
    for (const auto& [agent, limit] : *h.agent_limits) {
      out.append(first ? "" : ",");
      out.append_string(agent);
      out.append(":");
      out.append_number(limit);
      first = false;
    }
  }
  out.append("}}");
  out.append_key(key::test_status);
  if (h.tests == core::test_status::not_run) {
    out.append_null();
  } else {
    out.append_string(core::to_string(h.tests));
  }
  out.append_key(key::engine_pid);
  out.append_number(h.engine_pid);
  out.append_key(key::run_nonce);
  write_string_or_null(out, h.run_nonce);
  out.append_key(key::source);
  out.append_string(h.source);
  out.append_key(key::actor);
  if (h.actor.empty()) {
    out.append_null();
  } else {
    out.append_string(h.actor);
  }
  out.append_key(key::epics);
  out.append("[");
  for (std::size_t k = 0; k < h.epics.size(); ++k) {
    out.append(k == 0 ? "{" : ",{");
    out.append_key(key::epic_id, true);
    out.append_string(h.epics[k].id);
    out.append_key(key::closed);
    out.append_bool(h.epics[k].closed);
    out.append("}");
  }
  out.append("]");
  out.append_key(key::tasks);
  out.append("[");
}

void write_task_id(json_out::chunked_writer& out, std::size_t index, std::string_view id) {
  if (index != 0) {
    out.append(",");
  }
  out.append_string(id);
}

void write_metadata_middle(json_out::chunked_writer& out) {
  out.append("]");
  out.append_key(key::results);
  out.append("[");
}

namespace {

// `,"name":`: a key as the writer appends it after a value.
std::string key_text(std::string_view name) {
  return ",\"" + std::string(name) + "\":";
}

// The keys of a result as whole pieces of text, made once from the key
// names: each is one append on the path of every result.
struct result_keys {
  std::string first_task_id = "{\"" + std::string(key::task_id) + "\":";
  std::string next_task_id = "," + first_task_id;
  std::string subagent = key_text(key::subagent);
  std::string skills = key_text(key::skills) + "[";
  std::string status = "]" + key_text(key::status);
  std::string started_at = key_text(key::started_at);
  std::string completed_at = key_text(key::completed_at);
  std::string exit_code = key_text(key::exit_code);
  std::string attempts = key_text(key::attempts);
  std::string agent_history = key_text(key::agent_history) + "[";
  std::string log = "]" + key_text(key::log) + "\"";
  std::string duration_s = "\"" + key_text(key::duration_s);
  std::string error = key_text(key::error);
  std::string closed_true = key_text(key::closed) + "true";
  std::string closed_false = key_text(key::closed) + "false";
  std::string pid = key_text(key::pid);
  std::string pgid = key_text(key::pgid);
};

const result_keys& keys_of_results() {
  static const result_keys keys;
  return keys;
}

}  // namespace

void write_result(json_out::chunked_writer& out, std::size_t index, const result_entry& r) {
  const auto& k = keys_of_results();
  out.append(index == 0 ? k.first_task_id : k.next_task_id);
  out.append_string(r.task_id);
  out.append(k.subagent);
  out.append_string(r.subagent);
  out.append(k.skills);
  for (std::size_t i = 0; i < r.skills.size(); ++i) {
    out.append(i == 0 ? "" : ",");
    out.append_string(r.skills[i]);
  }
  out.append(k.status);
  out.append_string(core::to_string(r.status));
  out.append(k.started_at);
  write_time_or_null(out, r.started_at);
  out.append(k.completed_at);
  write_time_or_null(out, r.completed_at);
  out.append(k.exit_code);
  write_number_or_null(out, r.exit_code);
  out.append(k.attempts);
  out.append_number(r.attempts);
  out.append(k.agent_history);
  for (std::size_t i = 0; i < r.history.size(); ++i) {
    out.append(i == 0 ? "" : ",");
    out.append_string(r.history[i].agent);
  }
  out.append(k.log);
  out.append_escaped(r.log_dir);
  out.append_escaped(r.log_name);
  out.append(k.duration_s);
  write_number_or_null(out, r.duration_s);
  out.append(k.error);
  write_string_or_null(out, r.error);
  out.append(r.closed ? k.closed_true : k.closed_false);
  bool any_worktree = false;
  for (const auto& attempt : r.history) {
    if (attempt.worktree.empty()) {
      continue;
    }
    out.append(any_worktree ? ",{" : key_text(key::worktrees) + "[{");
    any_worktree = true;
    out.append("\"" + std::string(key::attempt) + "\":");
    out.append_number(attempt.number);
    out.append(key_text(key::path));
    out.append_string(attempt.worktree);
    out.append(key_text(key::branch));
    out.append_string(attempt.branch);
    out.append("}");
  }
  if (any_worktree) {
    out.append("]");
  }
  if (!r.job_id.empty()) {
    out.append(key_text(key::job_id));
    out.append_string(r.job_id);
  }
  if (r.running) {
    out.append(k.pid);
    write_number_or_null(out, r.pid != 0 ? std::optional<int>(r.pid) : std::nullopt);
    out.append(k.pgid);
    write_number_or_null(out, r.pgid != 0 ? std::optional<int>(r.pgid) : std::nullopt);
  }
  out.append("}");
}

void write_metadata_tail(json_out::chunked_writer& out) {
  out.append("]}\n");
}

void append_task_event(std::string& out, const task_event& e) {
  // One line, formatted in place: a group of 100,000 tasks makes 400,000.
  out += '{';
  json_out::append_field(out, event_key::ts, e.ts);
  json_out::append_field(out, event_key::type, "task");
  json_out::append_field(out, event_key::task_id, e.task_id);
  json_out::append_field(out, event_key::status, core::to_string(e.status));
  json_out::append_field(out, event_key::attempt, e.attempt);
  if (!e.agent.empty()) {
    json_out::append_field(out, event_key::agent, e.agent);
  }
  if (e.pid != 0) {
    json_out::append_field(out, event_key::pid, e.pid);
    json_out::append_field(out, event_key::pgid, e.pgid);
  }
  if (e.exit_code) {
    json_out::append_field(out, event_key::exit_code, *e.exit_code);
  }
  if (e.closed) {
    json_out::append_bool_field(out, event_key::closed, true);
  }
  out += "}\n";
}

std::string group_event_body(core::group_phase phase, core::group_status status,
                             core::test_status tests, std::size_t errors) {
  std::string out = "{";
  json_out::append_field(out, event_key::type, "group");
  json_out::append_field(out, event_key::phase, core::to_string(phase));
  json_out::append_field(out, event_key::status, core::to_string(status));
  json_out::append_field(out, event_key::test_status, core::to_string(tests));
  json_out::append_key(out, event_key::errors);
  json_out::append_number(out, errors);
  return out;
}

void append_group_event(std::string& out, std::string_view body, std::string_view ts) {
  out += body;
  json_out::append_key(out, event_key::ts);
  json_out::append_string(out, ts);
  out += "}\n";
}

void append_run_marker(std::string& out, std::string_view ts, int engine_pid) {
  out += '{';
  json_out::append_field(out, event_key::ts, ts);
  json_out::append_field(out, event_key::type, "run");
  json_out::append_field(out, event_key::engine_pid, engine_pid);
  out += "}\n";
}

// ================================================================ reading

namespace {

std::string in_quotes(std::string_view name) {
  return "\"" + std::string(name) + "\"";
}

const json::value* member(const json::object& o, std::string_view name) {
  return o.if_contains(name);
}

using adapters::read_string_array;

bool is_int_or_null(const json::value* v) {
  return v == nullptr || v->is_null() || v->is_int64();
}

std::optional<std::string> string_of(const json::value* v) {
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<int> int_of(const json::value* v) {
  return adapters::as_int(v);
}

// The reason one entry of `results` is not what readers rely on; fills
// `out` when it is.
std::optional<std::string> convert_result(const json::value& entry, result_metadata* out) {
  const auto* o = entry.if_object();
  if (o == nullptr) {
    return std::string("an entry is not an object");
  }
  for (const auto name : {key::task_id, key::status, key::log}) {
    const auto* v = member(*o, name);
    if (v == nullptr || !v->is_string()) {
      return "an entry's " + in_quotes(name) + " is not a string";
    }
  }
  const auto id = o->at(key::task_id).get_string();
  const auto task = [&] { return "task " + core::printable(id) + ": "; };
  const auto status = core::from_string<core::task_status>(o->at(key::status).get_string());
  if (!status) {
    return task() + "unknown status " + in_quotes(core::printable(o->at(key::status).get_string()));
  }
  const auto* attempts = member(*o, key::attempts);
  if (attempts == nullptr || !attempts->is_int64() || attempts->get_int64() < 0) {
    return task() + "\"attempts\" is not a non-negative integer";
  }
  std::vector<std::string> history;
  if (!read_string_array(member(*o, key::agent_history), history)) {
    return task() + "\"agent_history\" is not an array of strings";
  }
  for (const auto name : {key::exit_code, key::pid, key::pgid}) {
    if (!is_int_or_null(member(*o, name))) {
      return task() + in_quotes(name) + " is not an integer";
    }
  }
  for (const auto name : {key::pid, key::pgid}) {
    const auto* v = member(*o, name);
    if (v != nullptr && v->is_int64() &&
        (v->get_int64() < 0 || v->get_int64() > std::numeric_limits<int>::max())) {
      return task() + in_quotes(name) + " is out of range";
    }
  }
  if (out == nullptr) {
    return std::nullopt;
  }
  out->task_id = std::string(id);
  out->status = *status;
  out->log = std::string(o->at(key::log).get_string());
  out->attempts = attempts->get_int64();
  out->agent_history = std::move(history);
  if (const auto* v = member(*o, key::exit_code); v != nullptr && v->is_int64()) {
    out->exit_code = v->get_int64();
  }
  out->pid = int_of(member(*o, key::pid));
  out->pgid = int_of(member(*o, key::pgid));
  out->subagent = string_of(member(*o, key::subagent));
  if (!read_string_array(member(*o, key::skills), out->skills)) {
    out->skills.clear();
  }
  out->started_at = string_of(member(*o, key::started_at));
  out->completed_at = string_of(member(*o, key::completed_at));
  if (const auto* v = member(*o, key::duration_s); v != nullptr && v->is_number()) {
    out->duration_s = v->to_number<double>();
  }
  out->error = string_of(member(*o, key::error));
  out->job_id = string_of(member(*o, key::job_id));
  if (const auto* v = member(*o, key::closed); v != nullptr && v->is_bool()) {
    out->closed = v->get_bool();
  }
  return std::nullopt;
}

void read_limits(const json::object& md, group_metadata& out) {
  const auto* limits = member(md, key::limits);
  if (limits == nullptr || !limits->is_object()) {
    return;
  }
  const auto& l = limits->get_object();
  out.max_concurrent = int_of(member(l, key::max_concurrent));
  out.group_limit = int_of(member(l, key::group_limit));
  if (const auto* agents = member(l, key::agent_limits); agents != nullptr && agents->is_object()) {
    for (const auto& [agent, limit] : agents->get_object()) {
      if (const auto n = int_of(&limit)) {
        out.agent_limits[std::string(agent)] = *n;
      }
    }
  }
}

}  // namespace

std::optional<std::string> convert_metadata(const json::value& metadata, group_metadata* out) {
  const auto* md = metadata.if_object();
  if (md == nullptr) {
    return std::string("not a JSON object");
  }
  for (const auto name : {key::group_id, key::status, key::phase}) {
    const auto* v = member(*md, name);
    if (v == nullptr || !v->is_string()) {
      return in_quotes(name) + " is missing or not a string";
    }
  }
  const auto status = core::from_string<core::group_status>(md->at(key::status).get_string());
  if (!status) {
    return "unknown status " + in_quotes(core::printable(md->at(key::status).get_string()));
  }
  const auto phase = core::from_string<core::group_phase>(md->at(key::phase).get_string());
  if (!phase) {
    return "unknown phase " + in_quotes(core::printable(md->at(key::phase).get_string()));
  }
  group_metadata scratch;
  auto& g = out != nullptr ? *out : scratch;
  const std::array<std::pair<std::string_view, std::vector<std::string>*>, 3> lists{
      {{key::tasks, &g.tasks}, {key::errors, &g.errors}, {key::warnings, &g.warnings}}};
  for (const auto& [name, list] : lists) {
    const auto* v = member(*md, name);
    if (v != nullptr && !read_string_array(v, *list)) {
      return in_quotes(name) + " is not an array of strings";
    }
  }
  const std::array<std::pair<std::string_view, std::optional<std::string>*>, 3> times{
      {{key::created_at, &g.created_at},
       {key::started_at, &g.started_at},
       {key::completed_at, &g.completed_at}}};
  for (const auto& [name, time] : times) {
    const auto* v = member(*md, name);
    if (v != nullptr && !v->is_null() && !v->is_string()) {
      return in_quotes(name) + " is not a string";
    }
    *time = string_of(v);
  }
  const auto* pid = member(*md, key::engine_pid);
  if (pid != nullptr && (!pid->is_int64() || pid->get_int64() < 0 ||
                         pid->get_int64() > std::numeric_limits<int>::max())) {
    return std::string("\"engine_pid\" is not a process id");
  }
  const auto* results = member(*md, key::results);
  if (results == nullptr || !results->is_array()) {
    return std::string("\"results\" is missing or not an array");
  }
  if (out != nullptr) {
    out->results.reserve(results->get_array().size());
  }
  for (const auto& r : results->get_array()) {
    result_metadata entry;
    if (auto error = convert_result(r, out != nullptr ? &entry : nullptr)) {
      return error;
    }
    if (out != nullptr) {
      out->results.push_back(std::move(entry));
    }
  }
  if (out == nullptr) {
    return std::nullopt;
  }
  g.group_id = std::string(md->at(key::group_id).get_string());
  g.status = *status;
  g.phase = *phase;
  g.engine_pid = int_of(pid);
  g.run_nonce = string_of(member(*md, key::run_nonce));
  g.group_name = string_of(member(*md, key::group_name));
  if (const auto kind = string_of(member(*md, key::kind))) {
    if (*kind == "parallel" || *kind == "sequential") {
      g.parallel = *kind == "parallel";
    }
  }
  if (const auto* v = member(*md, key::refresh_completed); v != nullptr && v->is_bool()) {
    g.refresh_completed = v->get_bool();
  }
  read_limits(*md, g);
  if (const auto tests = string_of(member(*md, key::test_status))) {
    g.tests = core::from_string<core::test_status>(*tests);
  }
  g.source = string_of(member(*md, key::source));
  g.actor = string_of(member(*md, key::actor));
  if (const auto* epics = member(*md, key::epics); epics != nullptr && epics->is_array()) {
    for (const auto& e : epics->get_array()) {
      const auto* entry = e.if_object();
      if (entry == nullptr) {
        continue;
      }
      const auto id = string_of(member(*entry, key::epic_id));
      const auto* closed = member(*entry, key::closed);
      if (id && closed != nullptr && closed->is_bool()) {
        g.epics.push_back({*id, closed->get_bool()});
      }
    }
  }
  return std::nullopt;
}

std::optional<json::value> read_metadata_value(const std::filesystem::path& dir) {
  const auto path = dir / "metadata.json";
  unique_fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!file) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::nullopt;
    }
    throw state_damaged(path, errno == ELOOP ? std::string("is a symlink, not followed")
                                             : std::string(std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw state_damaged(path, "not a regular file");
  }
  // Mapped and parsed in one piece, into one monotonic arena: a group of
  // 100,000 tasks has a metadata.json of tens of megabytes, which neither a
  // copy of the text nor a node-by-node allocation should double. Not fed
  // in chunks: Boost.JSON 1.81's stream_parser rejects some valid
  // documents split across writes when built without optimisation
  // (boostorg/json#828, fixed in 1.82); tests/data/state holds one.
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    throw state_damaged(path, "not valid JSON: empty file");
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.get(), 0);
  if (mapped == MAP_FAILED) {
    throw state_damaged(path, std::strerror(errno));
  }
  file.reset();
  json::parser parser;
  parser.reset(json::make_shared_resource<json::monotonic_resource>());
  boost::system::error_code ec;
  parser.write(static_cast<const char*>(mapped), size, ec);
  ::munmap(mapped, size);
  if (ec) {
    throw state_damaged(path, "not valid JSON: " + ec.message());
  }
  return parser.release();
}

std::optional<group_metadata> read_group_metadata(const std::filesystem::path& dir) {
  const auto path = dir / "metadata.json";
  auto value = read_metadata_value(dir);
  if (!value) {
    return std::nullopt;
  }
  group_metadata out;
  if (auto error = convert_metadata(*value, &out)) {
    throw state_damaged(path, *error);
  }
  return out;
}

namespace {

json::value or_null(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& s : items) {
    out.emplace_back(s);
  }
  return out;
}

json::value number_of(double d) {
  // As the file spells it: a whole number without a fraction (which the
  // parser read as an integer).
  if (std::trunc(d) == d && std::abs(d) < 9e15) {
    return static_cast<std::int64_t>(d);
  }
  return d;
}

}  // namespace

json::object to_json(const group_metadata& md) {
  json::object limits{
      {key::max_concurrent, md.max_concurrent ? json::value(*md.max_concurrent) : nullptr},
      {key::group_limit, md.group_limit ? json::value(*md.group_limit) : nullptr}};
  json::object agents;
  for (const auto& [agent, limit] : md.agent_limits) {
    agents[agent] = limit;
  }
  limits[key::agent_limits] = std::move(agents);
  json::array results;
  results.reserve(md.results.size());
  for (const auto& r : md.results) {
    json::object o{{key::task_id, r.task_id},
                   {key::subagent, or_null(r.subagent)},
                   {key::skills, string_array(r.skills)},
                   {key::status, core::to_string(r.status)},
                   {key::started_at, or_null(r.started_at)},
                   {key::completed_at, or_null(r.completed_at)},
                   {key::exit_code, r.exit_code ? json::value(*r.exit_code) : nullptr},
                   {key::attempts, r.attempts},
                   {key::agent_history, string_array(r.agent_history)},
                   {key::log, r.log},
                   {key::duration_s, r.duration_s ? number_of(*r.duration_s) : nullptr},
                   {key::error, or_null(r.error)},
                   {key::closed, r.closed}};
    if (r.status == core::task_status::running || r.pid || r.pgid) {
      o[key::pid] = r.pid ? json::value(*r.pid) : nullptr;
      o[key::pgid] = r.pgid ? json::value(*r.pgid) : nullptr;
    }
    if (r.job_id) {
      o[key::job_id] = *r.job_id;
    }
    results.emplace_back(std::move(o));
  }
  json::array epics;
  for (const auto& e : md.epics) {
    epics.push_back(json::object{{key::epic_id, e.id}, {key::closed, e.closed}});
  }
  return json::object{
      {key::group_id, md.group_id},
      {key::group_name, or_null(md.group_name)},
      {key::kind, md.parallel ? json::value(*md.parallel ? "parallel" : "sequential") : nullptr},
      {key::phase, core::to_string(md.phase)},
      {key::created_at, or_null(md.created_at)},
      {key::started_at, or_null(md.started_at)},
      {key::completed_at, or_null(md.completed_at)},
      {key::status, core::to_string(md.status)},
      {key::errors, string_array(md.errors)},
      {key::warnings, string_array(md.warnings)},
      {key::refresh_completed, md.refresh_completed ? json::value(*md.refresh_completed) : nullptr},
      {key::limits, std::move(limits)},
      {key::test_status, md.tests ? json::value(core::to_string(*md.tests)) : nullptr},
      {key::engine_pid, md.engine_pid ? json::value(*md.engine_pid) : nullptr},
      {key::run_nonce, or_null(md.run_nonce)},
      {key::source, or_null(md.source)},
      {key::actor, or_null(md.actor)},
      {key::epics, std::move(epics)},
      {key::tasks, string_array(md.tasks)},
      {key::results, std::move(results)}};
}

// ================================================================ events

std::unordered_map<std::string, replayed_task> replay_events(const std::filesystem::path& dir) {
  std::unordered_map<std::string, replayed_task> out;
  const auto path = dir / "events.jsonl";
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) {
    return out;
  }
  std::string text;
  std::array<char, 65536> chunk{};
  for (;;) {
    const auto n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  fd.reset();
  // Only the latest run's lines count: find its marker first.
  std::size_t from = 0;
  if (const auto marker = text.rfind("\"type\":\"run\""); marker != std::string::npos) {
    const auto line_start = text.rfind('\n', marker);
    from = line_start == std::string::npos ? 0 : line_start + 1;
  }
  json::parser parser;
  boost::system::error_code ec;
  while (from < text.size()) {
    auto end = text.find('\n', from);
    if (end == std::string::npos) {
      end = text.size();  // a last line without its newline: cut by a crash
    }
    const std::string_view line(text.data() + from, end - from);
    from = end + 1;
    parser.reset();
    parser.write(line.data(), line.size(), ec);  // the whole value, or an error
    if (ec) {
      continue;
    }
    const auto value = parser.release();
    const auto* o = value.if_object();
    if (o == nullptr) {
      continue;
    }
    const auto* type = o->if_contains(event_key::type);
    const auto* id = o->if_contains(event_key::task_id);
    const auto* status = o->if_contains(event_key::status);
    if (type == nullptr || *type != "task" || id == nullptr || !id->is_string() ||
        status == nullptr || !status->is_string()) {
      continue;
    }
    auto& task = out[std::string(id->get_string())];
    task.status = std::string(status->get_string());
    if (const auto* attempt = o->if_contains(event_key::attempt);
        attempt != nullptr && attempt->is_int64() && attempt->get_int64() >= 0 &&
        attempt->get_int64() <= std::numeric_limits<std::uint32_t>::max()) {
      task.attempt = static_cast<std::uint32_t>(attempt->get_int64());
    }
    if (const auto* agent = o->if_contains(event_key::agent);
        agent != nullptr && agent->is_string()) {
      task.agent = std::string(agent->get_string());
    }
    task.pgid = 0;
    if (const auto* pgid = o->if_contains(event_key::pgid);
        pgid != nullptr && pgid->is_int64() && pgid->get_int64() > 0 &&
        pgid->get_int64() <= std::numeric_limits<int>::max()) {
      task.pgid = static_cast<int>(pgid->get_int64());
    }
  }
  return out;
}

}  // namespace maestro
