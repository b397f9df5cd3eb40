#include <maestro/core/task.hpp>

namespace maestro::core {

bool dependency::gates() const noexcept {
  return type == "blocks" || type == "conditional-blocks" || type == "waits-for";
}

std::string_view to_string(skip_reason reason) noexcept {
  return name_of(reason);
}

bool is_epic(const task& t) noexcept {
  return t.issue_type == "epic";
}

bool is_closed_status(std::string_view status) noexcept {
  return status == "closed" || status == "tombstone";
}

std::string claim_text(const task& t) {
  if (!t.claimed_by) {
    return {};
  }
  if (!t.claimed_by->empty()) {
    return "claimed by " + *t.claimed_by;
  }
  return (t.status == "in_progress" ? std::string("in progress") : t.status) + ", unassigned";
}

std::optional<skip_reason> why_not_run(const task& t) noexcept {
  if (t.record_type != "issue") {
    return skip_reason::not_an_issue;
  }
  const std::string_view s = t.status;
  if (s == "open" || s == "in_progress" || s == "blocked") {
    if (is_epic(t)) {
      return skip_reason::epic;
    }
    if (t.claimed_by) {
      return skip_reason::claimed;
    }
    return std::nullopt;
  }
  if (is_closed_status(s)) {
    return skip_reason::closed_status;
  }
  if (s == "deferred" || s == "pinned" || s == "hooked") {
    return skip_reason::parked_status;
  }
  return skip_reason::unknown_status;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += separator;
    }
    out += item;
  }
  return out;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  constexpr std::string_view blanks = " \t\r\n";
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto first = item.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
      continue;
    }
    item = item.substr(first, item.find_last_not_of(blanks) - first + 1);
    items.emplace_back(item);
  }
  return items;
}

}  // namespace maestro::core
