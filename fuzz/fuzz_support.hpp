#pragma once

// Shared by the fuzz targets: findings besides crashes, UB, leaks, hangs and
// running out of memory, which the sanitizers and libFuzzer catch.

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

#include <maestro/core/names.hpp>

namespace maestro::fuzz {

/// The demangled name of `e`'s dynamic type.
inline std::string type_name(const std::exception& e) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(typeid(e).name());
}

/// A reader broke its documented contract without crashing. Aborts, which
/// libFuzzer reports as a crash with the input; with MAESTRO_FUZZ_STRICT=0
/// in the environment it prints the first case of each `kind` as
/// `fuzz: contract: KIND: DETAIL` and goes on instead.
inline void contract_violation(const std::string& kind, std::string_view detail) {
  static std::mutex mutex;
  static std::set<std::string> seen;
  const char* strict = std::getenv("MAESTRO_FUZZ_STRICT");
  const bool lenient = strict != nullptr && std::string_view(strict) == "0";
  const std::lock_guard<std::mutex> lock(mutex);
  if (seen.insert(kind).second || !lenient) {
    std::fprintf(stderr, "fuzz: contract: %s: %s\n", kind.c_str(), core::printable(detail).c_str());
  }
  if (!lenient) {
    std::abort();
  }
}

/// A reader's error message must be one non-empty line that starts with
/// the origin it was given.
inline void check_message(std::string_view what, std::string_view origin) {
  if (what.empty() || what.find('\n') != std::string_view::npos ||
      what.find('\r') != std::string_view::npos || what.substr(0, origin.size()) != origin) {
    contract_violation("error message is not one line starting with " + std::string(origin), what);
  }
}

/// An exception of a type the reader does not document.
inline void undocumented_exception(const std::exception& e) {
  contract_violation("undocumented exception " + type_name(e), e.what());
}

}  // namespace maestro::fuzz
