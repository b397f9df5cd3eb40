#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace maestro::core {

/// The longest file name the state uses (NAME_MAX on Linux).
inline constexpr std::size_t max_file_name = 255;

/// The file-system name of an id or a group name (SPEC section 6): an
/// injective, reversible encoding whose result holds no `/` and no NUL, is
/// never `.` or `..`, and never starts with `.`.
///
/// Bytes other than `A-Z a-z 0-9 _ - .` and UTF-8 above 0x7f are written
/// `%XX` (upper-case hex), as is `%` itself and a leading `.`. With
/// `reserve_underscore`, a leading `_` is written `%5F` too, so the names
/// that start with `_` stay free for the engine's own files (`_refresh.log`,
/// `_tests.log`). Plain ids (`bd-a1b2.3`, `api`) are unchanged.
[[nodiscard]] std::string encode_file_name(std::string_view text, bool reserve_underscore = false);

/// The text `encode_file_name` made `name` from; nullopt when `name` is no
/// such encoding.
[[nodiscard]] std::optional<std::string> decode_file_name(std::string_view name);

/// A task's log file name under `logs/`: its id, encoded with
/// `reserve_underscore`, and `.log`.
[[nodiscard]] std::string log_file_name(std::string_view task_id);

/// A group's directory name under `parallel_groups/`.
[[nodiscard]] std::string group_dir_name(std::string_view group_id);

/// The longest ref component `encode_ref_component` makes: a file name
/// under `.git/refs`, with room for an attempt's `.N`.
inline constexpr std::size_t max_ref_component = 200;

/// One component of a git branch name made from an id or a group name
/// (SPEC section 11): valid for `git check-ref-format` whatever the text
/// (`a..b`, `x~1`, `sp ace`, `-x`, `.lock`), and injective: bytes other
/// than `A-Z a-z 0-9 _ -`, and dots git would refuse (first, last, after
/// another, or starting `.lock` at the end), are written `%XX`. Text that
/// would be longer than `max_ref_component` keeps a prefix and a 64-bit
/// hash of the whole.
[[nodiscard]] std::string encode_ref_component(std::string_view text);

/// Text from the input made safe to print on a terminal or in a log
/// header: control characters (C0, DEL and C1) are written as `\n`, `\t`,
/// `\r`, `\xNN` or `\u00NN`, and a backslash as `\\`; other UTF-8 passes
/// through. Returns the text as it is when nothing needs escaping.
[[nodiscard]] std::string printable(std::string_view text);

}  // namespace maestro::core
