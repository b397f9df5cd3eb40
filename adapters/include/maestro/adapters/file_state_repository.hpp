#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include <maestro/ports/state_store.hpp>

namespace maestro {

/// The default state repository: the state directory of SPEC section 4,
/// `<state_dir>/parallel_groups/<group-id>/` with `metadata.json`,
/// `events.jsonl`, `logs/` and `lock`, each run written by a
/// `file_state_store`.
class file_state_repository final : public state_repository {
 public:
  /// `strand` is the runtime's: the stores' timers run there.
  file_state_repository(boost::asio::any_io_executor strand, std::filesystem::path state_dir);

  [[nodiscard]] std::unordered_set<std::string> completed_task_ids() const override;
  [[nodiscard]] std::optional<recorded_group> recorded(std::string_view group_id) const override;
  [[nodiscard]] std::unordered_map<std::string, replayed_change> replay(
      std::string_view group_id) const override;
  [[nodiscard]] std::unique_ptr<lock> try_lock(std::string_view group_id) override;
  [[nodiscard]] std::string lock_name(std::string_view group_id) const override;
  [[nodiscard]] bool recorded_engine_gone(std::string_view group_id) const override;
  [[nodiscard]] std::unique_ptr<state_store> open(group_record record, error_handler on_error,
                                                  written_handler on_written) override;

  [[nodiscard]] const std::filesystem::path& state_dir() const noexcept { return state_dir_; }

 private:
  boost::asio::any_io_executor strand_;
  std::filesystem::path state_dir_;
};

}  // namespace maestro
