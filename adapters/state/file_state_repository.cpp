#include <cerrno>
#include <signal.h>
#include <unistd.h>
#include <utility>

#include <maestro/adapters/file_state_repository.hpp>
#include <maestro/adapters/file_state_store.hpp>
#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>

namespace maestro {
namespace {

class file_lock final : public state_repository::lock {
 public:
  explicit file_lock(group_lock held) : held_(std::move(held)) {}

 private:
  group_lock held_;
};

}  // namespace

file_state_repository::file_state_repository(boost::asio::any_io_executor strand,
                                             std::filesystem::path state_dir)
    : strand_(std::move(strand)), state_dir_(std::move(state_dir)) {}

std::unordered_set<std::string> file_state_repository::completed_task_ids() const {
  return maestro::completed_task_ids(state_dir_);
}

std::optional<recorded_group> file_state_repository::recorded(std::string_view group_id) const {
  auto metadata = read_group_metadata(group_dir(state_dir_, group_id));
  if (!metadata) {
    return std::nullopt;
  }
  recorded_group out;
  out.status = metadata->status;
  out.created_at = metadata->created_at.value_or("");
  out.engine_pid = metadata->engine_pid.value_or(0);
  out.run_nonce = metadata->run_nonce.value_or("");
  out.tasks.reserve(metadata->results.size());
  for (auto& r : metadata->results) {
    out.tasks.push_back(
        {std::move(r.task_id), r.status, std::move(r.agent_history), r.pgid.value_or(0)});
  }
  return out;
}

std::unordered_map<std::string, replayed_change> file_state_repository::replay(
    std::string_view group_id) const {
  std::unordered_map<std::string, replayed_change> out;
  for (auto& [id, r] : replay_events(group_dir(state_dir_, group_id))) {
    replayed_change c;
    c.status = core::from_string<core::task_status>(r.status).value_or(core::task_status::pending);
    c.attempt = r.attempt;
    c.agent = std::move(r.agent);
    c.pgid = r.pgid;
    out.emplace(id, std::move(c));
  }
  return out;
}

std::unique_ptr<state_repository::lock> file_state_repository::try_lock(std::string_view group_id) {
  auto held = group_lock::try_acquire(prepare_group_dir(state_dir_, group_id));
  if (!held) {
    return nullptr;
  }
  return std::make_unique<file_lock>(std::move(*held));
}

std::string file_state_repository::lock_name(std::string_view group_id) const {
  return "lock " + (group_dir(state_dir_, group_id) / "lock").string();
}

bool file_state_repository::recorded_engine_gone(std::string_view group_id) const {
  const auto group = recorded(group_id);
  return group && group->engine_pid > 0 && group->engine_pid != ::getpid() &&
         ::kill(static_cast<pid_t>(group->engine_pid), 0) != 0 && errno == ESRCH;
}

std::unique_ptr<state_store> file_state_repository::open(group_record record,
                                                         error_handler on_error,
                                                         written_handler on_written) {
  // Under the group's lock: `try_lock` made the directory, refusing symlinks.
  record.dir = group_dir(state_dir_, record.group_id);
  auto store = std::make_unique<file_state_store>(strand_, std::move(record), std::move(on_error));
  if (on_written) {
    store->on_written(std::move(on_written));
  }
  return store;
}

}  // namespace maestro
