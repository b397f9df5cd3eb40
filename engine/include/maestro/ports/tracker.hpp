#pragma once

#include <functional>
#include <string>
#include <vector>

namespace maestro {

/// The tracker port: where completed tasks are closed.
class tracker {
 public:
  /// Called once with the ids it closed and one line per id it could not.
  using close_handler =
      std::function<void(std::vector<std::string> closed, std::vector<std::string> errors)>;

  tracker() = default;
  tracker(const tracker&) = delete;
  tracker& operator=(const tracker&) = delete;
  virtual ~tracker() = default;

  /// Closes `ids` in the order given (an epic comes after its children),
  /// then calls `done` on the runtime's strand.
  virtual void async_close(const std::vector<std::string>& ids, close_handler done) = 0;
};

}  // namespace maestro
