#include <utility>

#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>

namespace maestro::core {
namespace {

std::string format_message(const input_location& where, const std::string& problem) {
  std::string out;
  if (!where.file.empty()) {
    out += printable(where.file);
    if (where.line != 0) {
      out += ':' + std::to_string(where.line);
      if (where.column != 0) {
        out += ':' + std::to_string(where.column);
      }
    }
    out += ": ";
  }
  if (!where.task_id.empty()) {
    out += "task " + printable(where.task_id) + ": ";
  }
  out += problem;
  return out;
}

}  // namespace

input_error::input_error(input_location where, const std::string& problem)
    : std::runtime_error(format_message(where, problem)), where_(std::move(where)) {}

}  // namespace maestro::core
