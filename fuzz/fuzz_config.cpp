// libFuzzer target: the configuration reader (`maestro.json`).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

#include <maestro/adapters/config_file.hpp>
#include <maestro/core/input_error.hpp>

#include "fuzz_support.hpp"

// libFuzzer names the entry points.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::string_view origin = "maestro.json";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    static_cast<void>(maestro::parse_config(text, origin));
  } catch (const maestro::core::config_error& e) {
    maestro::fuzz::check_message(e.what(), origin);
  } catch (const std::exception& e) {
    maestro::fuzz::undocumented_exception(e);
  }
  return 0;
}
