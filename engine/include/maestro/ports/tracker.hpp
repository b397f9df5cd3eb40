#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace maestro {

/// The tracker port: where tasks are claimed before they launch, handed
/// back when they do not complete, and closed when they do. A tracker
/// without claims (a tasks file) only closes. Every handler is called on
/// the runtime's strand; a tracker may call it before its call returns.
class tracker {
 public:
  /// Called once with the ids it closed and one line per id it could not.
  using close_handler =
      std::function<void(std::vector<std::string> closed, std::vector<std::string> errors)>;

  /// How a claim ended.
  enum class claim_outcome {
    claimed,  ///< the task is the actor's now (or was already)
    held,     ///< another actor holds it: `detail` names them
    failed    ///< refused for another reason, or no answer: `detail` says why
  };
  struct claim_result {
    claim_outcome outcome = claim_outcome::claimed;
    std::string detail;
  };
  using claim_handler = std::function<void(claim_result)>;

  /// A claimed task to hand back, and why it did not complete.
  struct release_request {
    std::string id;
    std::string reason;
  };
  /// Called once with one line per task it could not hand back.
  using release_handler = std::function<void(std::vector<std::string> errors)>;

  tracker() = default;
  tracker(const tracker&) = delete;
  tracker& operator=(const tracker&) = delete;
  virtual ~tracker() = default;

  /// The actor this tracker claims tasks as; empty when it holds no claims
  /// (then `async_claim` and `async_release` are never called).
  [[nodiscard]] virtual std::string actor() const { return {}; }

  /// Claims `id` for `actor()` before its first launch.
  // By value: the port's signature, whose implementations keep what they
  // are given; this default only calls it.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void async_claim(const std::string& /*id*/, claim_handler done) {
    std::move(done)(claim_result{});
  }

  /// Hands back claimed tasks that did not complete.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): as above
  virtual void async_release(std::vector<release_request> /*tasks*/, release_handler done) {
    std::move(done)(std::vector<std::string>{});
  }

  /// Closes `ids` in the order given (blockers before what they block, an
  /// epic after its children).
  virtual void async_close(const std::vector<std::string>& ids, close_handler done) = 0;
};

}  // namespace maestro
