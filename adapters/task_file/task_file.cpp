#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include <boost/json.hpp>

#include <maestro/adapters/json_reader.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/config.hpp>
#include <maestro/core/names.hpp>

namespace maestro {
namespace json = boost::json;
using adapters::array_element_offsets;
using adapters::kind_name;
using adapters::position_of;
using adapters::text_position;
using core::input_error;
using core::input_location;

namespace {

[[noreturn]] void fail(const input_location& where, std::string_view field,
                       std::string_view expected, const json::value& got) {
  throw input_error(where, std::string(field) + ": expected " + std::string(expected) + ", got " +
                               std::string(kind_name(got)));
}

// An optional string field: absent and null give `fallback`.
std::string string_field(const json::object& record, std::string_view key,
                         const input_location& where, std::string fallback = {}) {
  const auto* v = record.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return fallback;
  }
  if (!v->is_string()) {
    fail(where, key, "a string", *v);
  }
  return std::string(v->get_string());
}

// Reads an integer from a number or a string of digits.
std::optional<long long> as_integer(const json::value& v) {
  if (v.is_int64()) {
    return v.get_int64();
  }
  if (v.is_uint64()) {
    return v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)
               ? std::optional<long long>(static_cast<long long>(v.get_uint64()))
               : std::nullopt;
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15) {
      return static_cast<long long>(d);
    }
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto& s = v.get_string();
    long long out = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) {
      return out;
    }
  }
  return std::nullopt;
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_number()) {
    return v.to_number<double>();
  }
  if (v.is_string()) {
    const std::string s(v.get_string());
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0 && std::isfinite(d)) {
      return d;
    }
  }
  return std::nullopt;
}

// A list given as a JSON array of strings or as one comma-separated string.
std::vector<std::string> list_field(const json::value& v, std::string_view field,
                                    const input_location& where) {
  if (v.is_null()) {
    return {};
  }
  if (v.is_string()) {
    return core::split_list(v.get_string());
  }
  if (!v.is_array()) {
    fail(where, field, "a list or a comma-separated string", v);
  }
  std::vector<std::string> items;
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) {
      fail(where, field, "a list of strings", item);
    }
    for (auto& part : core::split_list(item.get_string())) {
      items.push_back(std::move(part));
    }
  }
  return items;
}

core::dependency dependency_from_json(const json::value& v, std::size_t i,
                                      const input_location& where) {
  const std::string field = "dependencies[" + std::to_string(i) + "]";
  if (v.is_string()) {
    return {std::string(v.get_string()), "blocks"};
  }
  if (!v.is_object()) {
    fail(where, field, "an id or a dependency record", v);
  }
  const auto& record = v.get_object();
  // Exports and `bd list` give {issue_id, depends_on_id, type}; `bd show`
  // gives the blocker's whole issue plus `dependency_type`.
  const bool is_edge = record.contains("depends_on_id");
  const std::string id = string_field(record, is_edge ? "depends_on_id" : "id", where);
  if (id.empty()) {
    throw input_error(where, field + ": dependency record without depends_on_id or id");
  }
  std::string type = string_field(record, is_edge ? "type" : "dependency_type", where, "blocks");
  if (type.empty()) {
    type = "blocks";
  }
  return {id, std::move(type)};
}

void read_metadata(const json::value& raw, core::task& t, const input_location& where) {
  // beads stores any JSON value here; older tools wrote a JSON string.
  json::value parsed;
  const json::value* metadata = &raw;
  if (raw.is_string()) {
    // Text that is not JSON is no metadata; an object with a key twice is
    // refused like any other.
    if (const auto failure = adapters::parse_json_strict(raw.get_string(), parsed)) {
      if (failure->duplicate_path.empty()) {
        return;
      }
      const auto& path = failure->duplicate_path;
      std::string problem = "metadata: duplicate key \"" + core::printable(path.back().key) + '"';
      if (path.size() > 1) {
        problem += " in " + adapters::format_json_path({path.begin(), path.end() - 1});
      }
      throw input_error(where, problem);
    }
    metadata = &parsed;
  }
  if (!metadata->is_object()) {
    return;
  }
  const auto& m = metadata->get_object();
  t.subagent_type = string_field(m, "subagent_type", where);
  if (const auto* v = m.if_contains("fallback_agents")) {
    t.fallback_agents = list_field(*v, "metadata.fallback_agents", where);
  }
  if (const auto* v = m.if_contains("applicable_skills")) {
    t.applicable_skills = list_field(*v, "metadata.applicable_skills", where);
  }
  if (const auto* v = m.if_contains("timeout_s"); v != nullptr && !v->is_null()) {
    // Bounded as the configuration's durations are: a larger limit would
    // overflow the clock when the attempt's timer is set.
    const auto seconds = as_number(*v);
    if (!seconds || *seconds <= 0 || *seconds > core::max_duration_s) {
      throw input_error(where,
                        "metadata.timeout_s: expected a number of seconds > 0 and no greater "
                        "than 1e9, got " +
                            json::serialize(*v));
    }
    t.timeout_s = *seconds;
  }
}

/// The error for a duplicate key found in a document. `record_depth` is
/// how many steps from the root a task record is (0 for JSON Lines, 1 for
/// the array, 2 for the object form): the task id comes from that record,
/// and the key is named relative to it.
[[noreturn]] void throw_duplicate(const std::vector<adapters::json_step>& path,
                                  std::size_t record_depth, input_location where) {
  std::size_t first = 0;
  if (path.size() > record_depth) {
    where.task_id = path[record_depth].object_id;
    first = record_depth;
  }
  const auto& key = path.back().key;
  std::string problem = "duplicate key \"" + core::printable(key) + '"';
  if (path.size() - first > 1) {
    problem += " in " + adapters::format_json_path(
                            {path.begin() + static_cast<std::ptrdiff_t>(first), path.end() - 1});
  }
  throw input_error(where, problem);
}

// Parses one complete JSON text, reporting syntax errors and duplicate keys
// at their line and column. `base_position` is the position of `text` in the
// whole document, so that errors in JSON Lines name the line.
json::value parse_located(std::string_view text, const input_location& where_base,
                          text_position base_position, std::size_t record_depth) {
  json::value value;
  const auto failure = adapters::parse_json_strict(text, value);
  if (!failure) {
    return value;
  }
  const auto p = position_of(text, failure->offset);
  input_location where = where_base;
  where.line = base_position.line + p.line - 1;
  where.column = p.line == 1 ? base_position.column + p.column - 1 : p.column;
  if (!failure->duplicate_path.empty()) {
    throw_duplicate(failure->duplicate_path, record_depth, where);
  }
  throw input_error(where, "malformed JSON: " + failure->error.message());
}

void append_records(const json::array& records, std::string_view content,
                    std::size_t first_offset_hint, task_document& doc, std::string_view origin) {
  // Each element's line comes from a scan of the text; the object form has
  // no line per element, so its records are named by index instead.
  std::vector<std::size_t> offsets;
  if (first_offset_hint == 0) {
    offsets = array_element_offsets(content);
  }
  doc.tasks.reserve(doc.tasks.size() + records.size());
  std::size_t line = 1;
  std::size_t scanned = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    input_location where{std::string(origin), 0, 0, {}};
    if (i < offsets.size()) {
      for (; scanned < offsets[i]; ++scanned) {
        line += content[scanned] == '\n' ? 1 : 0;
      }
      where.line = line;
    }
    core::task t = task_from_json(records[i], where);
    t.line = where.line;
    doc.tasks.push_back(std::move(t));
  }
}

}  // namespace

core::task task_from_json(const json::value& value, input_location where) {
  if (!value.is_object()) {
    throw input_error(where,
                      std::string("expected a task object, got ") + std::string(kind_name(value)));
  }
  const auto& record = value.get_object();
  core::task t;
  t.line = where.line;
  t.record_type = string_field(record, "_type", where, "issue");
  const auto* id = record.if_contains("id");
  if (t.record_type != "issue") {
    // Other Dolt-era records (memories, config, ...) are reported as
    // skipped by id when they have one, and otherwise not read.
    if (id != nullptr && id->is_string()) {
      t.id = std::string(id->get_string());
    }
    return t;
  }
  if (id == nullptr || id->is_null()) {
    throw input_error(where, "missing id");
  }
  if (!id->is_string() || id->get_string().empty()) {
    throw input_error(where, "id: expected a non-empty string, got " + json::serialize(*id));
  }
  t.id = std::string(id->get_string());
  where.task_id = t.id;
  t.title = string_field(record, "title", where);
  t.description = string_field(record, "description", where);
  t.status = string_field(record, "status", where, "open");
  if (t.status.empty()) {
    t.status = "open";
  }
  t.issue_type = string_field(record, "issue_type", where, "task");
  if (t.issue_type.empty()) {
    t.issue_type = "task";
  }
  if (const auto* p = record.if_contains("priority"); p != nullptr && !p->is_null()) {
    const auto priority = as_integer(*p);
    if (!priority || *priority < 0 || *priority > 4) {
      throw input_error(where,
                        "priority: expected an integer from 0 (highest) to 4 (lowest), got " +
                            json::serialize(*p));
    }
    t.priority = *priority;
  }
  if (const auto* deps = record.if_contains("dependencies"); deps != nullptr && !deps->is_null()) {
    if (!deps->is_array()) {
      fail(where, "dependencies", "an array", *deps);
    }
    const auto& list = deps->get_array();
    t.dependencies.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      t.dependencies.push_back(dependency_from_json(list[i], i, where));
    }
  }
  if (const auto* m = record.if_contains("metadata"); m != nullptr) {
    read_metadata(*m, t, where);
  }
  return t;
}

task_document parse_task_document(std::string_view content, std::string_view origin) {
  task_document doc;
  const input_location file_only{std::string(origin), 0, 0, {}};
  std::size_t start = 0;
  if (content.starts_with("\xEF\xBB\xBF")) {
    start = 3;  // a UTF-8 byte-order mark
  }
  const auto first = content.find_first_not_of(" \t\r\n", start);
  if (first == std::string_view::npos) {
    return doc;  // an empty export holds no tasks
  }
  if (content[first] == '[') {
    doc.format = task_file_format::json_array;
    const auto value = parse_located(content, file_only, {}, 1);
    append_records(value.get_array(), content, 0, doc, origin);
    return doc;
  }
  if (content[first] == '{') {
    // One object with a `tasks` key is the object form; anything else,
    // including a first line that is a whole object, is JSON Lines.
    json::value value;
    if (const auto failure = adapters::parse_json_strict(content, value);
        failure && !failure->duplicate_path.empty()) {
      // The document is one object with a duplicate key somewhere: the
      // object form when it has `tasks`, else JSON Lines.
      boost::system::error_code ec;
      json::parse_options options;
      options.max_depth = 64;
      const auto lenient = json::parse(content, ec, {}, options);
      if (!ec && lenient.is_object() && lenient.get_object().contains("tasks")) {
        (void)parse_located(content, file_only, {}, 2);
      }
    }
    if (value.is_object() && value.get_object().contains("tasks")) {
      doc.format = task_file_format::tasks_object;
      const auto& tasks = value.get_object().at("tasks");
      if (!tasks.is_array()) {
        fail(file_only, "tasks", "an array", tasks);
      }
      append_records(tasks.get_array(), content, 1, doc, origin);
      return doc;
    }
  }
  doc.format = task_file_format::json_lines;
  // One record per line at most: reserving avoids copying every task as the
  // vector grows (100,000 tasks are tens of megabytes).
  doc.tasks.reserve(static_cast<std::size_t>(std::count(content.begin(), content.end(), '\n')) + 1);
  std::size_t line_number = 0;
  std::size_t at = 0;
  while (at < content.size()) {
    auto end = content.find('\n', at);
    if (end == std::string_view::npos) {
      end = content.size();
    }
    ++line_number;
    std::string_view line = content.substr(at, end - at);
    if (line_number == 1 && start != 0) {
      line.remove_prefix(start);
    }
    at = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      continue;
    }
    input_location where{std::string(origin), line_number, 0, {}};
    const auto value = parse_located(line, where, {line_number, 1}, 0);
    core::task t = task_from_json(value, where);
    doc.tasks.push_back(std::move(t));
  }
  return doc;
}

task_document load_task_file(const std::filesystem::path& path) {
  std::string error;
  const auto content = adapters::read_input_file(path, error);
  if (!content) {
    throw input_error({path.string(), 0, 0, {}}, "cannot read tasks file: " + error);
  }
  return parse_task_document(*content, path.string());
}

}  // namespace maestro
