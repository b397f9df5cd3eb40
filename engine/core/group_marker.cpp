#include <maestro/core/group_marker.hpp>

namespace maestro::core {
namespace {

constexpr std::string_view marker_prefix = "[P:Group-";

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Feeds every well-formed marker of `text` to `found`, in order.
template <class Found>
void for_each_marker(std::string_view text, Found found) {
  for (auto at = text.find(marker_prefix); at != std::string_view::npos;
       at = text.find(marker_prefix, at + 1)) {
    const auto name_begin = at + marker_prefix.size();
    auto end = name_begin;
    while (end < text.size() && is_name_char(text[end])) {
      ++end;
    }
    // `[P:Group-]` and `[P:Group-a b]` are not markers.
    if (end > name_begin && end < text.size() && text[end] == ']') {
      found(text.substr(name_begin, end - name_begin));
    }
  }
}

}  // namespace

marker_scan scan_group_markers(std::string_view title, std::string_view description) {
  marker_scan scan;
  const auto found = [&scan](std::string_view name) {
    if (!scan.group) {
      scan.group.emplace(name);
    } else if (*scan.group != name && !scan.conflicting) {
      scan.conflicting.emplace(name);
    }
  };
  for_each_marker(title, found);
  for_each_marker(description, found);
  return scan;
}

std::string sequential_stage_id(std::string_view task_id) {
  std::string id(sequential_group);
  id += '.';
  id += task_id;
  return id;
}

}  // namespace maestro::core
