#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>

#include <maestro/adapters/state_dir.hpp>
#include <maestro/core/enum_names.hpp>
#include <maestro/core/group_machine.hpp>
#include <maestro/core/names.hpp>
#include <maestro/refused.hpp>

namespace maestro {
namespace json = boost::json;

std::filesystem::path group_dir(const std::filesystem::path& state_dir, std::string_view group_id) {
  return state_dir / "parallel_groups" / core::group_dir_name(group_id);
}

namespace {

bool is_string_array(const json::value* v) {
  return v != nullptr && v->is_array() &&
         std::all_of(v->get_array().begin(), v->get_array().end(),
                     [](const json::value& e) { return e.is_string(); });
}

bool is_int_or_null(const json::value* v) {
  return v == nullptr || v->is_null() || v->is_int64();
}

// True when `value` is the name of one of the enum's values: the core's own
// names, not a copy of them.
template <class Enum>
bool names_one_of(std::string_view value) {
  return core::from_string<Enum>(value).has_value();
}

std::string in_quotes(std::string_view key) {
  return "\"" + std::string(key) + "\"";
}

// The reason one entry of `results` is not what readers rely on.
std::optional<std::string> result_shape_error(const json::value& entry) {
  const auto* o = entry.if_object();
  if (o == nullptr) {
    return std::string("an entry is not an object");
  }
  for (const auto* key : {"task_id", "status", "log"}) {
    const auto* v = o->if_contains(key);
    if (v == nullptr || !v->is_string()) {
      return "an entry's " + in_quotes(key) + " is not a string";
    }
  }
  if (!names_one_of<core::task_status>(o->at("status").get_string())) {
    return "task " + core::printable(o->at("task_id").get_string()) + ": unknown status " +
           in_quotes(core::printable(o->at("status").get_string()));
  }
  const auto* attempts = o->if_contains("attempts");
  if (attempts == nullptr || !attempts->is_int64() || attempts->get_int64() < 0) {
    return "task " + core::printable(o->at("task_id").get_string()) +
           ": \"attempts\" is not a non-negative integer";
  }
  if (!is_string_array(o->if_contains("agent_history"))) {
    return "task " + core::printable(o->at("task_id").get_string()) +
           ": \"agent_history\" is not an array of strings";
  }
  for (const auto* key : {"exit_code", "pid", "pgid"}) {
    if (!is_int_or_null(o->if_contains(key))) {
      return "task " + core::printable(o->at("task_id").get_string()) + ": " + in_quotes(key) +
             " is not an integer";
    }
  }
  for (const auto* key : {"pid", "pgid"}) {
    const auto* v = o->if_contains(key);
    if (v != nullptr && v->is_int64() &&
        (v->get_int64() < 0 || v->get_int64() > std::numeric_limits<int>::max())) {
      return "task " + core::printable(o->at("task_id").get_string()) + ": " + in_quotes(key) +
             " is out of range";
    }
  }
  return std::nullopt;
}

// Opens `path` for reading, never through a symlink.
int open_state_file(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

}  // namespace

std::optional<std::string> metadata_shape_error(const json::value& metadata) {
  const auto* md = metadata.if_object();
  if (md == nullptr) {
    return std::string("not a JSON object");
  }
  for (const auto* key : {"group_id", "status", "phase"}) {
    const auto* v = md->if_contains(key);
    if (v == nullptr || !v->is_string()) {
      return in_quotes(key) + " is missing or not a string";
    }
  }
  if (!names_one_of<core::group_status>(md->at("status").get_string())) {
    return "unknown status " + in_quotes(core::printable(md->at("status").get_string()));
  }
  if (!names_one_of<core::group_phase>(md->at("phase").get_string())) {
    return "unknown phase " + in_quotes(core::printable(md->at("phase").get_string()));
  }
  for (const auto* key : {"tasks", "errors", "warnings"}) {
    const auto* v = md->if_contains(key);
    if (v != nullptr && !is_string_array(v)) {
      return in_quotes(key) + " is not an array of strings";
    }
  }
  for (const auto* key : {"created_at", "started_at", "completed_at"}) {
    const auto* v = md->if_contains(key);
    if (v != nullptr && !v->is_null() && !v->is_string()) {
      return in_quotes(key) + " is not a string";
    }
  }
  const auto* pid = md->if_contains("engine_pid");
  if (pid != nullptr && (!pid->is_int64() || pid->get_int64() < 0 ||
                         pid->get_int64() > std::numeric_limits<int>::max())) {
    return std::string("\"engine_pid\" is not a process id");
  }
  const auto* results = md->if_contains("results");
  if (results == nullptr || !results->is_array()) {
    return std::string("\"results\" is missing or not an array");
  }
  for (const auto& r : results->get_array()) {
    if (auto error = result_shape_error(r)) {
      return error;
    }
  }
  return std::nullopt;
}

std::optional<json::value> read_metadata(const std::filesystem::path& dir) {
  const auto path = dir / "metadata.json";
  unique_fd fd(open_state_file(path));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::nullopt;
    }
    throw state_damaged(path, errno == ELOOP ? std::string("is a symlink, not followed")
                                             : std::string(std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw state_damaged(path, "not a regular file");
  }
  // Parsed as it is read, into one monotonic arena: a group of 100,000
  // tasks has a metadata.json of tens of megabytes, which neither a copy of
  // the text nor a node-by-node allocation should double.
  json::stream_parser parser;
  parser.reset(json::make_shared_resource<json::monotonic_resource>());
  std::array<char, 65536> chunk{};
  boost::system::error_code ec;
  int read_errno = 0;
  for (;;) {
    const auto n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      read_errno = errno;
      break;
    }
    if (n == 0) {
      break;
    }
    parser.write(chunk.data(), static_cast<std::size_t>(n), ec);
    if (ec) {
      break;
    }
  }
  fd.reset();
  if (read_errno != 0) {
    throw state_damaged(path, std::strerror(read_errno));
  }
  if (!ec) {
    parser.finish(ec);
  }
  if (ec) {
    throw state_damaged(path, "not valid JSON: " + ec.message());
  }
  auto value = parser.release();
  if (auto error = metadata_shape_error(value)) {
    throw state_damaged(path, *error);
  }
  return value;
}

std::unordered_map<std::string, replayed_task> replay_events(const std::filesystem::path& dir) {
  std::unordered_map<std::string, replayed_task> out;
  const auto path = dir / "events.jsonl";
  unique_fd fd(open_state_file(path));
  if (!fd) {
    return out;
  }
  std::string text;
  std::array<char, 65536> chunk{};
  for (;;) {
    const auto n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  fd.reset();
  // Only the latest run's lines count: find its marker first.
  std::size_t from = 0;
  if (const auto marker = text.rfind("\"type\":\"run\""); marker != std::string::npos) {
    const auto line_start = text.rfind('\n', marker);
    from = line_start == std::string::npos ? 0 : line_start + 1;
  }
  json::parser parser;
  boost::system::error_code ec;
  while (from < text.size()) {
    auto end = text.find('\n', from);
    if (end == std::string::npos) {
      end = text.size();  // a last line without its newline: cut by a crash
    }
    const std::string_view line(text.data() + from, end - from);
    from = end + 1;
    parser.reset();
    parser.write(line.data(), line.size(), ec);  // the whole value, or an error
    if (ec) {
      continue;
    }
    const auto value = parser.release();
    const auto* o = value.if_object();
    if (o == nullptr) {
      continue;
    }
    const auto* type = o->if_contains("type");
    const auto* id = o->if_contains("task_id");
    const auto* status = o->if_contains("status");
    if (type == nullptr || *type != "task" || id == nullptr || !id->is_string() ||
        status == nullptr || !status->is_string()) {
      continue;
    }
    auto& task = out[std::string(id->get_string())];
    task.status = std::string(status->get_string());
    if (const auto* attempt = o->if_contains("attempt");
        attempt != nullptr && attempt->is_int64() && attempt->get_int64() >= 0 &&
        attempt->get_int64() <= std::numeric_limits<std::uint32_t>::max()) {
      task.attempt = static_cast<std::uint32_t>(attempt->get_int64());
    }
    if (const auto* agent = o->if_contains("agent"); agent != nullptr && agent->is_string()) {
      task.agent = std::string(agent->get_string());
    }
    task.pgid = 0;
    if (const auto* pgid = o->if_contains("pgid");
        pgid != nullptr && pgid->is_int64() && pgid->get_int64() > 0 &&
        pgid->get_int64() <= std::numeric_limits<int>::max()) {
      task.pgid = static_cast<int>(pgid->get_int64());
    }
  }
  return out;
}

std::filesystem::path prepare_group_dir(const std::filesystem::path& state_dir,
                                        std::string_view group_id) {
  std::error_code ec;
  const bool new_state_dir = !std::filesystem::exists(state_dir, ec);
  std::filesystem::create_directories(state_dir / "parallel_groups");
  if (new_state_dir) {
    // A state directory inside a repository leaves `git status` clean.
    const unique_fd fd(::open((state_dir / ".gitignore").c_str(),
                              O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd) {
      [[maybe_unused]] const auto n = ::write(fd.get(), "*\n", 2);
    }
  }
  auto dir = group_dir(state_dir, group_id);
  for (const auto& d : {dir, dir / "logs"}) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      throw std::runtime_error("cannot create " + d.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::lstat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw refused("refusing to use " + d.string() + ": it is a symlink or not a directory");
    }
  }
  return dir;
}

std::vector<std::string> group_ids(const std::filesystem::path& state_dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir / "parallel_groups", ec)) {
    // Only what the encoding made: a stray `tmp` or a planted link is no
    // group (a symlink is not followed: symlink_status).
    if (!entry.is_symlink() && entry.is_directory()) {
      if (auto id = core::decode_file_name(entry.path().filename().native())) {
        ids.push_back(std::move(*id));
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::unordered_set<std::string> completed_task_ids(const std::filesystem::path& state_dir) {
  std::unordered_set<std::string> ids;
  for (const auto& id : group_ids(state_dir)) {
    std::optional<json::value> metadata;
    try {
      metadata = read_metadata(group_dir(state_dir, id));
    } catch (const state_damaged&) {
      continue;  // a damaged group proves nothing
    }
    if (!metadata) {
      continue;
    }
    const auto& group = metadata->get_object();
    const auto* status = group.if_contains("status");
    if (status == nullptr || (status->is_string() && status->get_string() == "failed")) {
      continue;
    }
    const auto* results = group.if_contains("results");
    if (results == nullptr || !results->is_array()) {
      continue;
    }
    for (const auto& r : results->get_array()) {
      const auto* o = r.if_object();
      if (o == nullptr) {
        continue;
      }
      const auto* s = o->if_contains("status");
      const auto* task = o->if_contains("task_id");
      if (s != nullptr && s->is_string() && s->get_string() == "completed" && task != nullptr &&
          task->is_string()) {
        ids.emplace(task->get_string());
      }
    }
  }
  return ids;
}

std::string reported_status(const json::value& metadata, const std::filesystem::path& dir) {
  const auto* status = metadata.is_object() ? metadata.get_object().if_contains("status") : nullptr;
  if (status == nullptr || !status->is_string()) {
    return "unknown";
  }
  std::string s(status->get_string());
  if ((s == "running" || s == "pending") && !group_is_locked(dir)) {
    return "interrupted";
  }
  return s;
}

bool group_is_locked(const std::filesystem::path& dir) {
  unique_fd fd(open_state_file(dir / "lock"));
  if (!fd) {
    return false;
  }
  const bool locked = ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  fd.reset();  // releases the shared lock if it was taken
  return locked;
}

std::optional<group_lock> group_lock::try_acquire(const std::filesystem::path& dir) {
  const auto path = dir / "lock";
  // Never through a symlink: one planted at `lock` would be truncated.
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd && errno == ELOOP) {
    throw refused("refusing to use " + path.string() + ": it is a symlink");
  }
  if (!fd) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return std::nullopt;
  }
  // For people: who holds it. The lock itself is the flock.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    [[maybe_unused]] const auto n = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
  }
  return group_lock(fd.release());
}

group_lock::group_lock(group_lock&& other) noexcept = default;

group_lock& group_lock::operator=(group_lock&& other) noexcept = default;

group_lock::~group_lock() = default;

}  // namespace maestro
