#pragma once

// The live beads source (SPEC section 10): the task-source port and the
// tracker port, both through the `bd` CLI only. The engine never reads
// beads' storage; it watches `.beads/` as a hint and asks `bd`.

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <maestro/adapters/bd_client.hpp>
#include <maestro/core/config.hpp>
#include <maestro/ports/task_source.hpp>
#include <maestro/ports/tracker.hpp>

namespace maestro {

/// How to reach `bd`, and the `beads.*` settings.
struct bd_settings {
  /// The `bd` to run: a name on PATH, or a path (`--bd PATH`).
  std::string program = "bd";
  /// Where `bd` runs (it finds `.beads/` from there, as it does for a user).
  std::filesystem::path workdir;
  /// Its whole environment; `BD_JSON_ENVELOPE=1` is set in it.
  std::vector<std::string> environment;
  /// Each call's time limit; 0 for none (`beads.timeout_s`).
  std::chrono::milliseconds timeout{30'000};
  /// Who claims (`bd update --claim --actor`).
  std::string actor;
  /// Hand back the claims of tasks that did not complete.
  bool release_claims = true;
  /// The safety re-check's period; 0 disables it (`beads.recheck_s`).
  std::chrono::milliseconds recheck{120'000};
  /// How long a burst of changes under `.beads/` is gathered into one
  /// `bd show`.
  std::chrono::milliseconds debounce{20};
};

/// The actor: `configured` (`beads.actor`), else `BEADS_ACTOR`, else
/// `maestro-async@HOSTNAME`.
[[nodiscard]] std::string beads_actor(const std::optional<std::string>& configured);

/// Settings from `beads`, running `program` in `workdir` with this
/// process's environment.
[[nodiscard]] bd_settings make_bd_settings(const core::beads_config& beads, std::string program,
                                           std::filesystem::path workdir);

/// `bd list --json --all --limit 0` before anything runs: every issue, in
/// id order (as exports are), those another actor holds marked
/// `claimed_by`. Runs its own event loop, so it blocks the caller: call it
/// before the host's loop runs the coordinator. Throws `core::input_error`
/// with bd's own message for a `bd` that is missing, fails, refuses the
/// store, does not answer in time or prints something that is not JSON.
[[nodiscard]] std::vector<core::task> load_beads(const bd_settings& settings);

/// The tracker port through `bd`: claims with `bd update ID --claim`,
/// releases with `bd update ID --status open --assignee "" --append-notes`,
/// closes with `bd close ID... --reason`. Calls that write go one at a time,
/// in the order asked. Handlers run on `strand`.
class bd_tracker final : public tracker {
 public:
  bd_tracker(boost::asio::any_io_executor strand, bd_settings settings);
  bd_tracker(const bd_tracker&) = delete;
  bd_tracker& operator=(const bd_tracker&) = delete;
  ~bd_tracker() override;

  [[nodiscard]] std::string actor() const override { return settings_.actor; }
  void async_claim(const std::string& id, claim_handler done) override;
  void async_release(std::vector<release_request> tasks, release_handler done) override;
  void async_close(const std::vector<std::string>& ids, close_handler done) override;

 private:
  /// One write: started when the one before it has ended; calls `next`
  /// when it has.
  using write = std::function<void(std::function<void()> next)>;
  void enqueue(write w);
  void run_next();
  void release_one(const std::shared_ptr<std::vector<release_request>>& tasks, std::size_t k,
                   const std::shared_ptr<std::vector<std::string>>& errors, release_handler done,
                   std::function<void()> next);
  void close_each(const std::shared_ptr<std::vector<std::string>>& ids, std::size_t k,
                  const std::shared_ptr<std::vector<std::string>>& closed,
                  const std::shared_ptr<std::vector<std::string>>& errors, close_handler done,
                  std::function<void()> next);

  boost::asio::any_io_executor strand_;
  bd_settings settings_;
  bd_client client_;
  std::deque<write> writes_;
  bool writing_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

/// The task-source port through `bd`: `load` is `load_beads`; `watch`
/// watches `.beads/` recursively (inotify) as a hint, gathers a burst of
/// changes for `debounce`, and asks `bd show --json` about the ids that
/// matter; a re-check every `recheck` asks alike, for a Dolt server whose
/// writes leave no trace under `.beads/`.
class bd_task_source final : public task_source {
 public:
  bd_task_source(boost::asio::any_io_executor strand, bd_settings settings);

  [[nodiscard]] std::vector<core::task> load() override;
  [[nodiscard]] std::unique_ptr<subscription> watch(std::unordered_set<std::string> closed,
                                                    interest_query interest,
                                                    closed_handler on_closed,
                                                    warning_handler on_warning) override;

  /// The `.beads/` directory `bd` uses from `workdir`: `BEADS_DIR` in the
  /// environment, else the nearest `.beads` directory at or above it.
  [[nodiscard]] static std::optional<std::filesystem::path> find_beads_dir(
      const std::filesystem::path& workdir, const std::vector<std::string>& environment);

 private:
  boost::asio::any_io_executor strand_;
  bd_settings settings_;
};

}  // namespace maestro
