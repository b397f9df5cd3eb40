// libFuzzer target: the task-file reader (every layout: JSON array, object
// with `tasks`, JSON Lines and beads exports), then planning, which is what
// the CLI does with the records it read.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

#include <maestro/adapters/task_file.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/plan.hpp>

#include "fuzz_support.hpp"

// libFuzzer names the entry points.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::string_view origin = "tasks.jsonl";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto document = maestro::parse_task_document(text, origin);
    // Every way of forming groups: parents name groups in two of them.
    for (const auto grouping : {maestro::core::grouping::marker, maestro::core::grouping::epic,
                                maestro::core::grouping::parent}) {
      maestro::core::plan_options options;
      options.origin = origin;
      options.group_by = grouping;
      const auto plan = maestro::core::make_plan(document.tasks, options);
      for (const auto& stage : plan.stages) {
        static_cast<void>(plan.find_stage(stage.id));
      }
      static_cast<void>(plan.blocked_count());
    }
  } catch (const maestro::core::input_error& e) {
    maestro::fuzz::check_message(e.what(), origin);
  } catch (const std::exception& e) {
    maestro::fuzz::undocumented_exception(e);
  }
  return 0;
}
