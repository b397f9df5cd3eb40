#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>

#include <boost/json.hpp>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>
#include <maestro/adapters/workspace_adapters.hpp>
#include <maestro/core/names.hpp>
#include <maestro/serve/state_view.hpp>
#include <maestro/time_text.hpp>
#include <maestro/unique_fd.hpp>

namespace maestro::serve {
namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::system_clock;

std::string safe_json(const json::value& value) {
  const auto text = json::serialize(value);
  std::string out;
  out.reserve(text.size() + 16);
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Reads at most `limit` bytes of `fd` from `offset`.
std::string read_from(int fd, std::uint64_t offset, std::size_t limit) {
  std::string out;
  std::array<char, 65536> buffer{};
  while (out.size() < limit) {
    const auto want = std::min(buffer.size(), limit - out.size());
    const auto n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset + out.size()));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return out;
}

unique_fd open_no_follow(const fs::path& path) {
  return unique_fd(open_state_file(path));
}

std::uint64_t size_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return 0;
  }
  return static_cast<std::uint64_t>(st.st_size);
}

// Orders a task's states within one attempt number: a later line never
// goes back. The engine counts an attempt when it launches, so `queued`
// after attempt N (N >= 1) is the wait for a retry, after `running` N.
int rank_of(std::string_view status, std::int64_t attempt) {
  if (status == "pending" || status == "blocked") {
    return 0;
  }
  if (status == "queued") {
    return attempt == 0 ? 1 : 3;
  }
  if (status == "running") {
    return 2;
  }
  return 4;  // ended
}

bool is_terminal(std::string_view status) {
  const auto s = core::from_string<core::task_status>(status);
  return s && core::is_terminal(*s);
}

int group_rank(std::string_view status) {
  if (status == "pending") {
    return 0;
  }
  if (status == "running") {
    return 1;
  }
  return 2;
}

std::string string_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
}

std::optional<std::int64_t> int_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

json::value or_null(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

// Whether two reads of one task's result show the same (the fields a row
// is made of).
bool same_result(const result_metadata& a, const result_metadata& b) {
  return a.status == b.status && a.attempts == b.attempts && a.exit_code == b.exit_code &&
         a.pid == b.pid && a.subagent == b.subagent && a.started_at == b.started_at &&
         a.completed_at == b.completed_at && a.duration_s == b.duration_s && a.error == b.error &&
         a.closed == b.closed && a.job_id == b.job_id && a.log == b.log;
}

// The histogram's upper bounds, in seconds: an agent's attempt runs from
// a second to an hour.
constexpr std::array<double, 12> bucket_bounds{0.1, 0.5, 1,   2.5, 5,    10,
                                               30,  60,  300, 900, 1800, 3600};

struct histogram {
  std::array<std::uint64_t, bucket_bounds.size()> buckets{};  // not cumulative
  std::uint64_t count = 0;
  double sum = 0;

  void observe(double seconds) {
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
      if (seconds <= bucket_bounds[i]) {
        ++buckets[i];
        break;
      }
    }
    ++count;
    sum += seconds;
  }
};

// A label value in the text format: backslash, double quote and newline
// escaped.
std::string label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  // The shortest text that reads back as `v`.
  std::array<char, 64> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
  return ec == std::errc{} ? std::string(buffer.data(), end) : std::string("NaN");
}

}  // namespace

// A task as the lines of `events.jsonl` of the current run say.
struct task_live {
  std::string status;
  std::uint32_t attempt = 0;
  std::string agent;
  int pid = 0;
  std::optional<std::int64_t> exit_code;
  bool closed = false;
  std::string attempt_started;  // the time the attempt began running
  // For the metrics: the attempt under way, across runs.
  bool open = false;
  std::optional<system_clock::time_point> open_since;
  std::string open_agent;
};

struct state_view::group_state {
  std::string id;
  fs::path dir;
  std::optional<group_metadata> md;
  std::string damaged_file;
  std::string damaged_reason;
  std::uint64_t events_offset = 0;
  std::string partial;  // an events line not yet whole
  std::map<std::string, task_live> live;
  // The group as its lines say: phase, status, test status.
  std::string line_phase;
  std::string line_status;
  std::string line_tests;
  // The results by task id.
  std::unordered_map<std::string, std::size_t> index;
  // Tasks whose lines changed since the last publish; every task when the
  // file was read again.
  std::set<std::string> dirty;
  bool all_dirty = true;
  // What was last sent, to send only what changed, and the statuses it
  // showed, counted.
  std::map<std::string, std::string> sent_rows;
  std::map<std::string, std::string> sent_status;
  std::map<std::string, std::int64_t> status_counts;
  std::string sent_group;
  std::map<std::string, std::uint64_t> log_offsets;
  // Metrics, from every line since the file began.
  std::map<std::string, std::uint64_t> launches;                                // by agent
  std::map<std::pair<std::string, std::string>, std::uint64_t> attempt_counts;  // agent, outcome
  std::map<std::string, histogram> durations;                                   // by agent

  [[nodiscard]] const result_metadata* result(const std::string& task_id) const {
    const auto it = index.find(task_id);
    return md && it != index.end() ? &md->results[it->second] : nullptr;
  }

  // The status shown: the lines' when at least as far as the file's.
  [[nodiscard]] std::string group_status() const {
    if (!md) {
      return damaged_reason.empty() ? "pending" : "damaged";
    }
    auto s = md->status;
    if (const auto lines = core::from_string<core::group_status>(line_status);
        lines && group_rank(line_status) >= group_rank(core::to_string(s))) {
      s = *lines;
    }
    return reported_status(s, dir);
  }

  [[nodiscard]] std::string group_phase() const {
    if (!md) {
      return "";
    }
    std::string p(core::to_string(md->phase));
    if (line_phase.empty()) {
      return p;
    }
    // The phases in their order.
    const auto order = [](std::string_view x) {
      return x == "pre_execution" ? 0 : x == "coordination" ? 1 : 2;
    };
    return order(line_phase) >= order(p) ? line_phase : p;
  }

  // One task's row: the file's result with the lines' state on top when
  // they are at least as far (same attempt and a later state, or a later
  // attempt).
  [[nodiscard]] json::object task_row(const result_metadata& r) const {
    std::string status(core::to_string(r.status));
    std::int64_t attempt = r.attempts;
    std::string agent = r.subagent.value_or("");
    std::optional<std::int64_t> exit_code = r.exit_code;
    std::optional<int> pid = r.pid;
    bool closed = r.closed;
    std::string started = r.started_at.value_or("");
    if (const auto it = live.find(r.task_id); it != live.end() && !it->second.status.empty()) {
      const auto& l = it->second;
      const auto a = static_cast<std::int64_t>(l.attempt);
      if (a > attempt || (a == attempt && rank_of(l.status, a) >= rank_of(status, attempt))) {
        status = l.status;
        attempt = a;
        if (!l.agent.empty()) {
          agent = l.agent;
        }
        exit_code = l.exit_code ? l.exit_code : (is_terminal(l.status) ? exit_code : std::nullopt);
        pid = l.pid != 0 ? std::optional<int>(l.pid) : std::nullopt;
        closed = closed || l.closed;
        if (status == "running" && !l.attempt_started.empty()) {
          started = l.attempt_started;
        }
      }
    }
    const bool running = status == "running";
    return json::object{
        {"task_id", r.task_id},
        {"status", status},
        {"agent", agent.empty() ? json::value(nullptr) : json::value(agent)},
        {"attempt", attempt},
        {"pid", running && pid ? json::value(*pid) : json::value(nullptr)},
        {"exit_code", exit_code ? json::value(*exit_code) : json::value(nullptr)},
        {"started_at", started.empty() ? json::value(nullptr) : json::value(started)},
        {"completed_at", running ? json::value(nullptr) : or_null(r.completed_at)},
        {"duration_s", !running && r.duration_s ? json::value(*r.duration_s) : nullptr},
        {"error", or_null(r.error)},
        {"job_id", running ? or_null(r.job_id) : json::value(nullptr)},
        {"closed", closed},
        {"log", fs::path(r.log).filename().string()}};
  }

  // The tasks by the status last published.
  [[nodiscard]] json::object counts() const {
    json::object out;
    for (const auto& [status, n] : status_counts) {
      if (n > 0) {
        out[status] = n;
      }
    }
    return out;
  }

  // The group's row for `/events` and the page.
  [[nodiscard]] json::object group_row() const {
    json::object row{{"group_id", id}, {"status", group_status()}, {"phase", group_phase()}};
    if (!md) {
      row["damaged"] = json::object{{"file", damaged_file}, {"reason", damaged_reason}};
      return row;
    }
    row["counts"] = counts();
    row["tasks_total"] = md->results.size();
    if (!line_tests.empty()) {
      row["test_status"] = line_tests;
    } else {
      row["test_status"] = md->tests ? core::to_string(*md->tests) : std::string_view("not_run");
    }
    row["started_at"] = or_null(md->started_at);
    row["completed_at"] = or_null(md->completed_at);
    row["errors"] = json::value_from(md->errors);
    return row;
  }

  // Closes the metrics' open attempt of `t`.
  void close_attempt(task_live& t, const std::string& outcome,
                     std::optional<system_clock::time_point> at) {
    if (!t.open) {
      return;
    }
    ++attempt_counts[{t.open_agent, outcome}];
    if (at && t.open_since && *at >= *t.open_since) {
      durations[t.open_agent].observe(std::chrono::duration<double>(*at - *t.open_since).count());
    }
    t.open = false;
  }

  void apply_line(std::string_view line) {
    boost::system::error_code ec;
    const auto v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      return;  // a line cut by a crash
    }
    const auto& o = v.get_object();
    const auto type = string_of(o, event_key::type);
    const auto ts = string_of(o, event_key::ts);
    const auto at = parse_utc(ts);
    if (type == "run") {
      // A new run: the lines of the last one say nothing more of now.
      for (auto& entry : live) {
        close_attempt(entry.second, "interrupted", std::nullopt);
        entry.second = task_live{};
      }
      all_dirty = true;
      line_phase.clear();
      line_status.clear();
      line_tests.clear();
      return;
    }
    if (type == "group") {
      line_phase = string_of(o, event_key::phase);
      line_status = string_of(o, event_key::status);
      line_tests = string_of(o, event_key::test_status);
      return;
    }
    if (type != "task") {
      return;
    }
    const auto task_id = string_of(o, event_key::task_id);
    dirty.insert(task_id);
    auto& t = live[task_id];
    const auto new_status = string_of(o, event_key::status);
    const auto attempt = static_cast<std::uint32_t>(int_of(o, event_key::attempt).value_or(0));
    const auto agent = string_of(o, event_key::agent);
    if (new_status == "running") {
      if (!(t.open && t.status == "running" && t.attempt == attempt)) {
        close_attempt(t, "failed", at);  // a retry or a fallback ended the last one
        t.open = true;
        t.open_since = at;
        t.open_agent = agent;
        ++launches[agent];
        t.attempt_started = ts;
      }
    } else if (t.open) {
      close_attempt(t, is_terminal(new_status) && attempt == t.attempt ? new_status : "failed", at);
    }
    t.status = new_status;
    t.attempt = attempt;
    if (!agent.empty()) {
      t.agent = agent;
    }
    t.pid = static_cast<int>(int_of(o, event_key::pid).value_or(0));
    t.exit_code = int_of(o, event_key::exit_code);
    const auto* closed = o.if_contains(event_key::closed);
    t.closed = closed != nullptr && closed->is_bool() && closed->get_bool();
  }
};

state_view::state_view(fs::path state_dir) : state_dir_(std::move(state_dir)) {}
state_view::state_view(state_view&&) noexcept = default;
state_view& state_view::operator=(state_view&&) noexcept = default;
state_view::~state_view() = default;

fs::path state_view::groups_dir() const {
  return state_dir_ / "parallel_groups";
}

void state_view::emit(std::string event, std::string data, std::vector<delta>& out) {
  out.push_back(delta{++seq_, std::move(event), std::move(data)});
}

void state_view::read_metadata(group_state& g) {
  try {
    auto md = read_group_metadata(g.dir);
    // Only the results that differ are composed again, when the tasks are
    // the same ones in the same order (a rewrite during a run).
    const bool same_tasks =
        g.md && md && g.md->results.size() == md->results.size() &&
        std::equal(g.md->results.begin(), g.md->results.end(), md->results.begin(),
                   [](const auto& a, const auto& b) { return a.task_id == b.task_id; });
    if (same_tasks) {
      for (std::size_t i = 0; i < md->results.size(); ++i) {
        if (!same_result(g.md->results[i], md->results[i])) {
          g.dirty.insert(md->results[i].task_id);
        }
      }
    } else {
      g.all_dirty = true;
    }
    g.md = std::move(md);
    g.damaged_file.clear();
    g.damaged_reason.clear();
    g.index.clear();
    if (g.md) {
      for (std::size_t i = 0; i < g.md->results.size(); ++i) {
        g.index.emplace(g.md->results[i].task_id, i);
      }
    }
  } catch (const state_damaged& e) {
    // Everything is sent again once the file reads.
    g.md.reset();
    g.index.clear();
    g.sent_rows.clear();
    g.sent_status.clear();
    g.status_counts.clear();
    g.damaged_file = e.file().string();
    g.damaged_reason = e.reason();
  }
}

void state_view::read_events(group_state& g) {
  const auto fd = open_no_follow(g.dir / "events.jsonl");
  if (!fd) {
    return;
  }
  const auto size = size_of(fd.get());
  if (size < g.events_offset) {
    // Replaced by a shorter file: read it again from its start.
    g.events_offset = 0;
    g.partial.clear();
  }
  while (g.events_offset < size) {
    const auto chunk = read_from(fd.get(), g.events_offset,
                                 static_cast<std::size_t>(std::min<std::uint64_t>(
                                     size - g.events_offset, std::uint64_t{1} << 20)));
    if (chunk.empty()) {
      break;
    }
    g.events_offset += chunk.size();
    g.partial += chunk;
    std::size_t begin = 0;
    for (auto end = g.partial.find('\n'); end != std::string::npos;
         end = g.partial.find('\n', begin)) {
      g.apply_line(std::string_view(g.partial).substr(begin, end - begin));
      begin = end + 1;
    }
    g.partial.erase(0, begin);
  }
}

// Sends the rows that differ from those last sent: of the tasks whose
// lines changed, or of every task when the file was read again.
void state_view::publish(group_state& g, std::vector<delta>& out) {
  std::vector<std::string> tasks;
  const auto send = [&](const result_metadata& r) {
    auto task = g.task_row(r);
    std::string status(task.at("status").as_string());
    task["group_id"] = g.id;
    auto text = safe_json(task);
    auto& sent = g.sent_rows[r.task_id];
    if (text == sent) {
      return;
    }
    sent = text;
    auto& was = g.sent_status[r.task_id];
    if (!was.empty()) {
      --g.status_counts[was];
    }
    ++g.status_counts[status];
    was = std::move(status);
    tasks.push_back(std::move(text));
  };
  if (g.md) {
    if (g.all_dirty) {
      for (const auto& r : g.md->results) {
        send(r);
      }
    } else {
      for (const auto& id : g.dirty) {
        if (const auto* r = g.result(id)) {
          send(*r);
        }
      }
    }
  }
  g.dirty.clear();
  g.all_dirty = false;
  // The group's row first (its counts already count these tasks).
  auto row = safe_json(g.group_row());
  if (row != g.sent_group) {
    g.sent_group = row;
    emit("group", std::move(row), out);
  }
  for (auto& text : tasks) {
    emit("task", std::move(text), out);
  }
}

state_view::group_state& state_view::load(const std::string& id, std::vector<delta>& out) {
  auto& slot = groups_[id];
  if (!slot) {
    slot = std::make_unique<group_state>();
    slot->id = id;
    slot->dir = group_dir(state_dir_, id);
    read_metadata(*slot);
    read_events(*slot);
    publish(*slot, out);
  }
  return *slot;
}

void state_view::rescan(std::vector<delta>& out) {
  std::vector<std::string> ids;
  std::error_code ec;
  if (fs::is_directory(groups_dir(), ec)) {
    ids = maestro::group_ids(state_dir_);
  }
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (!std::binary_search(ids.begin(), ids.end(), it->first)) {
      emit("removed", safe_json(json::object{{"group_id", it->first}}), out);
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& id : ids) {
    std::error_code exists_ec;
    if (fs::exists(group_dir(state_dir_, id) / "metadata.json", exists_ec)) {
      load(id, out);
    }
  }
}

void state_view::group_changed(const std::string& id, bool metadata, std::vector<delta>& out) {
  const bool known = groups_.contains(id);
  std::error_code ec;
  if (!known && !fs::exists(group_dir(state_dir_, id) / "metadata.json", ec)) {
    return;  // not a group yet
  }
  auto& g = load(id, out);
  if (!known) {
    return;
  }
  if (metadata) {
    // The lines first: they are never behind the file.
    read_events(g);
    read_metadata(g);
  } else {
    read_events(g);
  }
  publish(g, out);
}

void state_view::log_grew(const std::string& id, const std::string& file_name,
                          std::vector<delta>& out) {
  const auto it = groups_.find(id);
  if (it == groups_.end() || !it->second->md) {
    return;
  }
  auto& g = *it->second;
  // Only the log of a task the state knows.
  const result_metadata* owner = nullptr;
  for (const auto& r : g.md->results) {
    if (fs::path(r.log).filename() == file_name) {
      owner = &r;
      break;
    }
  }
  if (owner == nullptr) {
    return;
  }
  const auto fd = open_no_follow(g.dir / "logs" / file_name);
  if (!fd) {
    return;
  }
  const auto size = size_of(fd.get());
  auto& offset = g.log_offsets[file_name];
  if (size < offset) {
    offset = 0;
  }
  if (size == offset) {
    return;
  }
  constexpr std::uint64_t most = 4096;
  const bool cut = size - offset > most;
  const auto from = cut ? size - most : offset;
  auto text = read_from(fd.get(), from, static_cast<std::size_t>(size - from));
  offset = from + text.size();
  emit("log",
       safe_json(json::object{
           {"group_id", id}, {"task_id", owner->task_id}, {"text", text}, {"cut", cut}}),
       out);
}

std::vector<std::string> state_view::group_ids() const {
  std::vector<std::string> out;
  out.reserve(groups_.size());
  for (const auto& [id, g] : groups_) {
    out.push_back(id);
  }
  return out;
}

std::optional<int> state_view::engine_pid(const std::string& id) const {
  const auto it = groups_.find(id);
  if (it == groups_.end() || !it->second->md || !it->second->md->engine_pid) {
    return std::nullopt;
  }
  const auto status = it->second->group_status();
  if (status != "running" && status != "pending") {
    return std::nullopt;
  }
  return it->second->md->engine_pid;
}

json::array state_view::groups_json() const {
  json::array out;
  for (const auto& [id, g] : groups_) {
    if (!g->md) {
      out.push_back(json::object{
          {"group_id", id},
          {"status", "damaged"},
          {"phase", ""},
          {"counts", json::object{}},
          {"damaged", json::object{{"file", g->damaged_file}, {"reason", g->damaged_reason}}}});
      continue;
    }
    const auto& md = *g->md;
    out.push_back(json::object{
        {"group_id", id},
        {"status", g->group_status()},
        {"phase", g->group_phase()},
        {"counts", g->counts()},
        {"tasks", json::value_from(md.tasks)},
        {"started_at", or_null(md.started_at)},
        {"completed_at", or_null(md.completed_at)},
        {"engine_pid", md.engine_pid ? json::value(*md.engine_pid) : json::value(nullptr)}});
  }
  return out;
}

std::optional<json::object> state_view::group_json(const std::string& id) const {
  const auto it = groups_.find(id);
  if (it == groups_.end()) {
    return std::nullopt;
  }
  const auto& g = *it->second;
  if (!g.md) {
    return json::object{
        {"group_id", id},
        {"status", "damaged"},
        {"damaged", json::object{{"file", g.damaged_file}, {"reason", g.damaged_reason}}}};
  }
  // `status --json`: the file's shape, brought up to the lines.
  auto shown = to_json(*g.md);
  auto& results = shown["results"].as_array();
  for (std::size_t i = 0; i < results.size() && i < g.md->results.size(); ++i) {
    const auto row = g.task_row(g.md->results[i]);
    auto& r = results[i].as_object();
    for (const auto* key :
         {"status", "exit_code", "pid", "started_at", "completed_at", "duration_s", "error"}) {
      r[key] = row.at(key);
    }
    r["attempts"] = row.at("attempt");
    if (!row.at("agent").is_null()) {
      r["subagent"] = row.at("agent");
    }
    r["closed"] = row.at("closed");
    if (r.at("pid").is_null()) {
      r.erase("pid");
    }
  }
  shown["status"] = g.group_status();
  shown["phase"] = g.group_phase();
  shown["counts"] = g.counts();
  // The worktrees on disk (SPEC section 11), as `status --json` has them.
  const worktree_layout layout{fs::absolute(state_dir_).lexically_normal(), {}};
  shown["worktrees"] = layout.kept_json(id);
  return shown;
}

std::optional<fs::path> state_view::log_path(const std::string& group_id,
                                             const std::string& task_id) const {
  const auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return std::nullopt;
  }
  const auto* r = it->second->result(task_id);
  if (r == nullptr || r->log.empty()) {
    return std::nullopt;
  }
  // The file name the state gives, in the group's own logs directory.
  return it->second->dir / "logs" / fs::path(r->log).filename();
}

std::string state_view::metrics(system_clock::time_point now) const {
  std::string out;
  const auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  };
  const auto sample = [&](std::string_view name, std::string_view labels, const std::string& v) {
    out += name;
    if (!labels.empty()) {
      out += '{';
      out += labels;
      out += '}';
    }
    out += ' ';
    out += v;
    out += '\n';
  };

  family("maestro_groups", "gauge", "Groups in the state directory, by status.");
  std::map<std::string, std::int64_t> by_status;
  for (const auto& [id, g] : groups_) {
    ++by_status[g->group_status()];
  }
  for (const auto& [status, n] : by_status) {
    sample("maestro_groups", "status=\"" + label(status) + "\"", std::to_string(n));
  }

  family("maestro_tasks", "gauge", "Tasks by group and status.");
  std::map<std::string, std::int64_t> running;
  std::map<std::string, std::int64_t> queued;
  for (const auto& [id, g] : groups_) {
    for (const auto& [status, n] : g->counts()) {
      sample("maestro_tasks",
             "group=\"" + label(id) + "\",status=\"" + label(std::string(status)) + "\"",
             json::serialize(n));
    }
    if (!g->md) {
      continue;
    }
    for (const auto& r : g->md->results) {
      const auto row = g->task_row(r);
      const auto& status = row.at("status").get_string();
      const auto agent =
          row.at("agent").is_string() ? std::string(row.at("agent").get_string()) : std::string{};
      if (status == "running") {
        ++running[agent];
      } else if (status == "queued") {
        ++queued[agent];
      }
    }
  }

  family("maestro_tasks_running", "gauge", "Tasks running now, by agent.");
  for (const auto& [agent, n] : running) {
    sample("maestro_tasks_running", "agent=\"" + label(agent) + "\"", std::to_string(n));
  }
  family("maestro_tasks_queued", "gauge", "Tasks waiting for a slot or a retry, by agent.");
  for (const auto& [agent, n] : queued) {
    sample("maestro_tasks_queued", "agent=\"" + label(agent) + "\"", std::to_string(n));
  }

  family("maestro_launches_total", "counter", "Attempts launched, by group and agent.");
  for (const auto& [id, g] : groups_) {
    for (const auto& [agent, n] : g->launches) {
      sample("maestro_launches_total", "group=\"" + label(id) + "\",agent=\"" + label(agent) + "\"",
             std::to_string(n));
    }
  }

  family("maestro_attempts_total", "counter",
         "Attempts ended, by group, agent and outcome (an attempt that was retried or fell back "
         "is failed).");
  for (const auto& [id, g] : groups_) {
    for (const auto& [key, n] : g->attempt_counts) {
      sample("maestro_attempts_total",
             "group=\"" + label(id) + "\",agent=\"" + label(key.first) + "\",outcome=\"" +
                 label(key.second) + "\"",
             std::to_string(n));
    }
  }

  family("maestro_attempt_duration_seconds", "histogram",
         "How long attempts ran, from launch to exit, by agent.");
  std::map<std::string, histogram> by_agent;
  for (const auto& [id, g] : groups_) {
    for (const auto& [agent, h] : g->durations) {
      auto& total = by_agent[agent];
      for (std::size_t i = 0; i < h.buckets.size(); ++i) {
        total.buckets[i] += h.buckets[i];
      }
      total.count += h.count;
      total.sum += h.sum;
    }
  }
  for (const auto& [agent, h] : by_agent) {
    const auto a = "agent=\"" + label(agent) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
      cumulative += h.buckets[i];
      sample("maestro_attempt_duration_seconds_bucket",
             a + ",le=\"" + number(bucket_bounds[i]) + "\"", std::to_string(cumulative));
    }
    sample("maestro_attempt_duration_seconds_bucket", a + ",le=\"+Inf\"", std::to_string(h.count));
    sample("maestro_attempt_duration_seconds_sum", a, number(h.sum));
    sample("maestro_attempt_duration_seconds_count", a, std::to_string(h.count));
  }

  family("maestro_group_duration_seconds", "gauge",
         "How long each group has run: to its end, or to now while it runs.");
  for (const auto& [id, g] : groups_) {
    if (!g->md || !g->md->started_at) {
      continue;
    }
    const auto start = parse_utc(*g->md->started_at);
    const auto end = g->md->completed_at ? parse_utc(*g->md->completed_at) : std::optional(now);
    if (start && end && *end >= *start) {
      sample("maestro_group_duration_seconds", "group=\"" + label(id) + "\"",
             number(std::chrono::duration<double>(*end - *start).count()));
    }
  }
  return out;
}

std::optional<std::string> tail_of(const fs::path& path, std::size_t lines) {
  const auto fd = open_no_follow(path);
  if (!fd) {
    return std::nullopt;
  }
  const auto size = size_of(fd.get());
  constexpr std::uint64_t most = std::uint64_t{1} << 20;
  const auto from = size > most ? size - most : 0;
  auto text = read_from(fd.get(), from, static_cast<std::size_t>(size - from));
  // Back from the end, `lines` newlines (a last line without one counts).
  std::size_t begin = text.size();
  std::size_t seen = 0;
  if (!text.empty() && text.back() == '\n') {
    --begin;
  }
  while (begin > 0) {
    if (text[begin - 1] == '\n') {
      if (++seen == lines) {
        break;
      }
    }
    --begin;
  }
  if (lines == 0) {
    return std::string{};
  }
  return text.substr(begin);
}

}  // namespace maestro::serve
