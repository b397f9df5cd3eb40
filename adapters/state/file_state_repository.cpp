#include <cerrno>
#include <signal.h>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>

#include <maestro/adapters/file_state_repository.hpp>
#include <maestro/adapters/file_state_store.hpp>
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
  const auto metadata = read_metadata(group_dir(state_dir_, group_id));
  if (!metadata) {
    return std::nullopt;
  }
  // read_metadata validated the shape: the keys below exist and are typed.
  const auto& md = metadata->get_object();
  recorded_group out;
  out.status = core::from_string<core::group_status>(md.at("status").get_string())
                   .value_or(core::group_status::pending);
  if (const auto* c = md.if_contains("created_at"); c != nullptr && c->is_string()) {
    out.created_at = std::string(c->get_string());
  }
  if (const auto* pid = md.if_contains("engine_pid"); pid != nullptr && pid->is_int64()) {
    out.engine_pid = static_cast<int>(pid->get_int64());
  }
  const auto& results = md.at("results").get_array();
  out.tasks.reserve(results.size());
  for (const auto& r : results) {
    const auto& o = r.get_object();
    recorded_task t;
    t.id = std::string(o.at("task_id").get_string());
    t.status = core::from_string<core::task_status>(o.at("status").get_string())
                   .value_or(core::task_status::pending);
    for (const auto& a : o.at("agent_history").get_array()) {
      t.agents.emplace_back(a.get_string());
    }
    if (const auto* pgid = o.if_contains("pgid"); pgid != nullptr && pgid->is_int64()) {
      t.pgid = static_cast<int>(pgid->get_int64());
    }
    out.tasks.push_back(std::move(t));
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
  record.dir = prepare_group_dir(state_dir_, record.group_id);
  auto store = std::make_unique<file_state_store>(strand_, std::move(record), std::move(on_error));
  if (on_written) {
    store->on_written(std::move(on_written));
  }
  return store;
}

}  // namespace maestro
