#pragma once

// Shared by the fuzz targets: what counts as a finding besides a crash.

#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <typeinfo>

namespace maestro::fuzz {

/// The demangled name of `e`'s dynamic type.
inline std::string type_name(const std::exception& e) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(typeid(e).name());
}

/// A reader's error message must be one non-empty line that starts with
/// the origin it was given: anything else aborts, which libFuzzer reports
/// as a crash with the input that caused it.
inline void check_message(std::string_view what, std::string_view origin) {
  if (what.empty() || what.find('\n') != std::string_view::npos ||
      what.find('\r') != std::string_view::npos || what.substr(0, origin.size()) != origin) {
    std::fprintf(stderr, "fuzz: bad error message (not one line starting with '%.*s'): %.*s\n",
                 static_cast<int>(origin.size()), origin.data(), static_cast<int>(what.size()),
                 what.data());
    std::abort();
  }
}

/// An exception the reader does not document. Printed once per type (with
/// its first message); with MAESTRO_FUZZ_STRICT=1 in the environment it
/// aborts instead, so that it becomes a finding.
inline void undocumented_exception(const std::exception& e) {
  static std::mutex mutex;
  static std::set<std::string> seen;
  const auto type = type_name(e);
  const char* strict = std::getenv("MAESTRO_FUZZ_STRICT");
  const std::lock_guard<std::mutex> lock(mutex);
  if (seen.insert(type).second || (strict != nullptr && std::string_view(strict) == "1")) {
    std::fprintf(stderr, "fuzz: undocumented exception %s: %s\n", type.c_str(), e.what());
  }
  if (strict != nullptr && std::string_view(strict) == "1") {
    std::abort();
  }
}

}  // namespace maestro::fuzz
