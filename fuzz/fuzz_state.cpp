// libFuzzer target: the state readers. The input is written as
// `<tmp>/parallel_groups/g/metadata.json`, then read the ways the engine and
// the CLI read it: `read_group_metadata`, `reported_status` and `to_json` on what it returns,
// and `completed_task_ids` over the state directory.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>

#include "fuzz_support.hpp"

namespace {

// Set once, in LLVMFuzzerInitialize.
std::filesystem::path state_dir;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

void remove_state_dir() {
  std::error_code ec;
  std::filesystem::remove_all(state_dir, ec);
}

}  // namespace

// libFuzzer names the entry points.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  std::string pattern = (std::filesystem::temp_directory_path() / "maestro-fuzz-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("fuzz_state: mkdtemp");
    std::abort();
  }
  state_dir = pattern;
  std::filesystem::create_directories(maestro::group_dir(state_dir, "g"));
  static_cast<void>(std::atexit(remove_state_dir));
  return 0;
}

// libFuzzer names the entry points.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = maestro::group_dir(state_dir, "g");
  const auto file = (dir / "metadata.json").string();
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
      std::perror("fuzz_state: write metadata.json");
      std::abort();
    }
  }
  // Documented: read_group_metadata throws std::runtime_error (or a class
  // derived from it) naming the file; the others throw nothing of their own.
  try {
    if (const auto metadata = maestro::read_group_metadata(dir)) {
      static_cast<void>(maestro::reported_status(*metadata, dir));
      static_cast<void>(maestro::to_json(*metadata));
    }
  } catch (const std::runtime_error& e) {
    maestro::fuzz::check_message(e.what(), file);
  } catch (const std::exception& e) {
    maestro::fuzz::undocumented_exception(e);
  }
  try {
    static_cast<void>(maestro::completed_task_ids(state_dir));
  } catch (const std::exception& e) {
    maestro::fuzz::undocumented_exception(e);
  }
  return 0;
}
