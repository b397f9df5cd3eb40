#include <algorithm>

#include <maestro/core/launch_template.hpp>
#include <maestro/core/task.hpp>

namespace maestro::core {
namespace {

// The value of placeholder `name`, or nullptr when it is not one.
const std::string* scalar(std::string_view name, const placeholder_values& v) {
  if (name == "id") {
    return &v.id;
  }
  if (name == "title") {
    return &v.title;
  }
  if (name == "description") {
    return &v.description;
  }
  if (name == "agent") {
    return &v.agent;
  }
  if (name == "group") {
    return &v.group;
  }
  if (name == "prompt") {
    return &v.prompt;
  }
  if (name == "workdir") {
    return &v.workdir;
  }
  return nullptr;
}

std::string fill(std::string_view text, const placeholder_values& v, bool with_prompt) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto open = text.find('{', at);
    if (open == std::string_view::npos) {
      break;
    }
    const auto close = text.find('}', open + 1);
    if (close == std::string_view::npos) {
      break;
    }
    out.append(text.substr(at, open - at));
    const auto name = text.substr(open + 1, close - open - 1);
    if (name == "skills") {
      out += join(v.skills, ",");
    } else if (name == "files") {
      out += join(v.files, " ");
    } else if (const auto* value = scalar(name, v);
               value != nullptr && (with_prompt || name != "prompt")) {
      out += *value;
    } else {
      out.append(text.substr(open, close - open + 1));  // not ours: as it was
    }
    at = close + 1;
  }
  out.append(text.substr(std::min(at, text.size())));
  return out;
}

bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`' ||
         c == '(' || c == ')' || c == '[' || c == ']' || c == '<' || c == '>' || c == ',' ||
         c == ';' || c == '{' || c == '}' || c == '\x1b';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool looks_like_path(std::string_view word) {
  if (word.size() < 2 || word.find("://") != std::string_view::npos || word.front() == '-') {
    return false;
  }
  if (!std::any_of(word.begin(), word.end(), is_alpha)) {
    return false;  // 1.5, 3/4
  }
  for (const char c : word) {
    const bool ok = is_alpha(c) || (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_' ||
                    c == '-' || c == '~' || c == '+' || c == '@';
    if (!ok) {
      return false;
    }
  }
  if (word.find('/') != std::string_view::npos) {
    return true;
  }
  const auto dot = word.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == word.size()) {
    return false;
  }
  if (dot == 1 && word.size() == 3) {
    return false;  // "e.g", "i.e": abbreviations, not files
  }
  const auto ext = word.substr(dot + 1);
  return ext.size() <= 10 && std::any_of(ext.begin(), ext.end(), is_alpha);
}

}  // namespace

std::vector<std::string> expand_argv(const std::vector<std::string>& argv,
                                     const placeholder_values& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& element : argv) {
    if (element == "{skills}") {
      out.insert(out.end(), values.skills.begin(), values.skills.end());
    } else if (element == "{files}") {
      out.insert(out.end(), values.files.begin(), values.files.end());
    } else {
      out.push_back(fill(element, values, true));
    }
  }
  return out;
}

std::string expand_text(std::string_view text, const placeholder_values& values) {
  return fill(text, values, false);
}

namespace {

// Drops terminal escape sequences (ESC [ ... final byte), which beads
// descriptions may hold.
std::string without_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) {
        ++i;
      }
      out += ' ';
      continue;
    }
    out += text[i];
  }
  return out;
}

}  // namespace

std::vector<std::string> file_paths_in(std::string_view raw) {
  const std::string text = without_escapes(raw);
  const std::string_view description = text;
  std::vector<std::string> files;
  std::size_t at = 0;
  while (at < description.size()) {
    while (at < description.size() && is_separator(description[at])) {
      ++at;
    }
    auto end = at;
    while (end < description.size() && !is_separator(description[end])) {
      ++end;
    }
    auto word = description.substr(at, end - at);
    at = end;
    while (!word.empty() &&
           (word.back() == '.' || word.back() == ':' || word.back() == '!' || word.back() == '?')) {
      word.remove_suffix(1);
    }
    if (looks_like_path(word) && std::find(files.begin(), files.end(), word) == files.end()) {
      files.emplace_back(word);
    }
  }
  return files;
}

}  // namespace maestro::core
