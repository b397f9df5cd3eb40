#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include <maestro/core/config.hpp>

namespace maestro {

/// Parses a configuration document (the contents of `maestro.json`).
/// `origin` names the document in error messages. Every key is optional and
/// missing keys keep their defaults. Throws `core::config_error` with a
/// one-line message that starts with `origin`:
/// - malformed JSON: `ORIGIN:LINE:COLUMN: malformed JSON: ...`, where the
///   parser stopped (1-based; columns count characters);
/// - an unknown key at any level: `ORIGIN: unknown key: agents.web.comand`;
/// - a key twice in one object:
///   `ORIGIN:LINE:COLUMN: duplicate key: agents.web.timeout_s`;
/// - a value of the wrong type or out of range, naming the key with its full
///   path: `ORIGIN: agents.web.timeout_s: expected a number >= 0, got -1`;
/// - an agent that resolves to no command (its own `command` absent and
///   `agent_defaults.command` null or empty), for every agent in `agents`,
///   `default_agent` and the agents of an explicit `auto_detect`.
/// Keys are checked in document order and the first problem is reported; the
/// command check comes last. Synchronous and free of I/O.
[[nodiscard]] core::config parse_config(std::string_view json, std::string_view origin);

/// Loads the configuration: `explicit_path` when given (it must exist; a
/// relative path is taken as given, not against `working_dir`), else
/// `maestro.json` in `working_dir` when that exists, else the defaults.
/// Messages name the explicit path as given, or `maestro.json`. Throws
/// `core::config_error` as `parse_config` does, and
/// `PATH: cannot read config: REASON` when the file cannot be read, is
/// neither a regular file nor a FIFO, or holds more than 1 GiB.
/// Synchronous: it reads one file, with a close-on-exec descriptor.
[[nodiscard]] core::config load_config(const std::optional<std::filesystem::path>& explicit_path,
                                       const std::filesystem::path& working_dir);

}  // namespace maestro
