#include <cstddef>

#include <maestro/core/agent_selection.hpp>

namespace maestro::core {
namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_word_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool equal_at(std::string_view text, std::size_t at, std::string_view keyword) noexcept {
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (lower(text[at + i]) != lower(keyword[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view to_string(agent_source source) noexcept {
  return name_of(source);
}

bool contains_word(std::string_view text, std::string_view keyword) noexcept {
  if (keyword.empty() || keyword.size() > text.size()) {
    return false;
  }
  for (std::size_t at = 0; at + keyword.size() <= text.size(); ++at) {
    if (!equal_at(text, at, keyword)) {
      continue;
    }
    const bool starts_word = at == 0 || !is_word_char(text[at - 1]);
    const auto end = at + keyword.size();
    const bool ends_word = end == text.size() || !is_word_char(text[end]);
    if (starts_word && ends_word) {
      return true;
    }
  }
  return false;
}

agent_choice choose_agent(const task& t, const keyword_table& table,
                          std::string_view default_agent) {
  if (!t.subagent_type.empty()) {
    return {t.subagent_type, agent_source::metadata, {}};
  }
  agent_choice best{std::string(default_agent), agent_source::default_agent, {}};
  for (const auto& [agent, keywords] : table) {
    std::vector<std::string> matched;
    for (const auto& keyword : keywords) {
      if (contains_word(t.title, keyword) || contains_word(t.description, keyword)) {
        matched.push_back(keyword);
      }
    }
    // Strictly greater: a tie keeps the agent listed first.
    if (matched.size() > best.matched.size()) {
      best = {agent, agent_source::keywords, std::move(matched)};
    }
  }
  return best;
}

}  // namespace maestro::core
