#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace maestro::core {

/// Where in the input a problem was found. Every field is optional: an
/// empty `file`, a zero `line` or `column`, or an empty `task_id` is left out
/// of the message.
struct input_location {
  std::string file;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string task_id;
};

/// Bad input found at start-up: a malformed task source, a duplicate id, a
/// dependency cycle, conflicting group markers. `what()` is the whole
/// one-line message, `file:line:column: task ID: problem`, ready to print.
/// The CLI maps it to exit code 2.
class input_error : public std::runtime_error {
 public:
  input_error(input_location where, const std::string& problem);

  /// The location the error was raised with.
  const input_location& where() const noexcept { return where_; }

 private:
  input_location where_;
};

/// A bad configuration value. `what()` names the key, as in
/// `maestro.json: agents.web.max_concurrent: expected a positive integer`.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace maestro::core
