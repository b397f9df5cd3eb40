#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <maestro/ports/task_source.hpp>

namespace maestro {

/// The task source of a tasks file (SPEC section 1): loaded with
/// `load_task_file`, and watched with inotify on its directory while a
/// group runs. A change is read again a moment later (a burst of events,
/// a write then a rename, is one read); a file half-written by an editor
/// is read again at its next change. Only a regular file is read while the
/// engine runs: reading a FIFO or a device would block the event loop.
class file_task_source final : public task_source {
 public:
  /// `strand` is the runtime's: the reports come there.
  file_task_source(boost::asio::any_io_executor strand, std::filesystem::path file);

  [[nodiscard]] std::vector<core::task> load() override;
  [[nodiscard]] std::unique_ptr<subscription> watch(std::unordered_set<std::string> closed,
                                                    interest_query interest,
                                                    closed_handler on_closed,
                                                    warning_handler on_warning) override;

 private:
  boost::asio::any_io_executor strand_;
  std::filesystem::path file_;
};

}  // namespace maestro
