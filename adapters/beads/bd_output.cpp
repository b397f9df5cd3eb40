#include <boost/json.hpp>

#include <maestro/adapters/bd_output.hpp>
#include <maestro/adapters/json_position.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/names.hpp>

namespace maestro {
namespace {

namespace json = boost::json;

std::string shorten(std::string_view text) {
  constexpr std::size_t most = 200;
  return core::printable(text.size() > most ? std::string(text.substr(0, most)) + "..."
                                            : std::string(text));
}

// The payload of the envelope, or the value itself.
const json::value& unwrap(const json::value& v) {
  if (const auto* o = v.if_object()) {
    const auto* data = o->if_contains("data");
    if (data != nullptr && o->contains("schema_version") && !o->contains("id")) {
      return *data;
    }
  }
  return v;
}

// The records of `output`: its array, its one object, or none. Throws
// `bd_error` for an error object or output that is not one of bd's shapes.
template <class Read>
void for_each_record(std::string_view output, const std::string& origin, Read read) {
  if (output.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return;  // v0.47: an unknown id prints nothing
  }
  json::value document;
  if (const auto failure = adapters::parse_json_strict(output, document)) {
    const std::string why =
        failure->duplicate_path.empty()
            ? failure->error.message()
            : "duplicate key " + adapters::format_json_path(failure->duplicate_path);
    throw bd_error(origin + ": output is not JSON (" + why + "): " + shorten(output));
  }
  const auto& payload = unwrap(document);
  if (const auto* o = payload.if_object(); o != nullptr && o->contains("error")) {
    const auto& error = o->at("error");
    throw bd_error(origin + ": " +
                   (error.is_string() ? core::printable(error.get_string())
                                      : shorten(json::serialize(error))));
  }
  if (const auto* a = payload.if_array()) {
    for (const auto& record : *a) {
      read(record);
    }
  } else if (payload.is_object()) {
    read(payload);
  } else if (!payload.is_null()) {
    throw bd_error(origin + ": expected an array of issues, an issue or an envelope, got " +
                   shorten(json::serialize(payload)));
  }
}

std::string assignee_of(const json::value& record) {
  if (const auto* o = record.if_object()) {
    if (const auto* a = o->if_contains("assignee"); a != nullptr && a->is_string()) {
      return std::string(a->get_string());
    }
  }
  return {};
}

}  // namespace

std::vector<core::task> parse_bd_issues(std::string_view output, std::string_view command) {
  const std::string origin = "bd " + std::string(command);
  std::vector<core::task> issues;
  for_each_record(output, origin, [&](const json::value& record) {
    issues.push_back(task_from_json(record, {origin, 0, 0, {}}));
  });
  return issues;
}

std::vector<core::task> parse_bd_issues(std::string_view output, std::string_view command,
                                        const std::string& actor) {
  const std::string origin = "bd " + std::string(command);
  std::vector<core::task> issues;
  for_each_record(output, origin, [&](const json::value& record) {
    auto t = task_from_json(record, {origin, 0, 0, {}});
    if (t.status == "in_progress" || t.status == "blocked") {
      if (auto holder = assignee_of(record); holder != actor) {
        t.claimed_by = std::move(holder);
      }
    }
    issues.push_back(std::move(t));
  });
  return issues;
}

std::vector<std::pair<std::string, std::string>> bd_assignees(std::string_view output,
                                                              std::string_view command) {
  const std::string origin = "bd " + std::string(command);
  std::vector<std::pair<std::string, std::string>> out;
  for_each_record(output, origin, [&](const json::value& record) {
    const auto* o = record.if_object();
    const auto* id = o != nullptr ? o->if_contains("id") : nullptr;
    if (id != nullptr && id->is_string()) {
      out.emplace_back(std::string(id->get_string()), assignee_of(record));
    }
  });
  return out;
}

}  // namespace maestro
