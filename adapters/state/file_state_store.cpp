#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>

#include <maestro/file_state_store.hpp>

namespace maestro {
namespace json = boost::json;
using core::task_status;

namespace {

// Writes all of `data` to `fd`, retrying short writes.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, static_cast<int>(millis % 1000));
  return {buffer, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof buffer) - 1))};
}

json::value optional_string(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

}  // namespace

file_state_store::file_state_store(const boost::asio::any_io_executor& executor,
                                   group_record record, error_handler on_error,
                                   std::chrono::milliseconds coalesce)
    : record_(std::move(record)),
      on_error_(std::move(on_error)),
      coalesce_(coalesce),
      timer_(executor),
      wall_anchor_(std::chrono::system_clock::now()),
      steady_anchor_(std::chrono::steady_clock::now()) {
  if (record_.created_at.empty()) {
    record_.created_at = format_utc(wall_anchor_);
  }
  results_.resize(record_.logs.size());
  is_dirty_.assign(record_.logs.size(), true);
  for (std::size_t i = 0; i < record_.logs.size(); ++i) {
    dirty_.push_back(i);
  }
  events_fd_ = ::open((record_.dir / "events.jsonl").c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (events_fd_ < 0 && on_error_) {
    on_error_("cannot open " + (record_.dir / "events.jsonl").string() + ": " +
              std::strerror(errno));
  }
}

file_state_store::~file_state_store() {
  if (events_fd_ >= 0) {
    ::close(events_fd_);
  }
}

std::string file_state_store::wall_time(core::clock_time t) const {
  return format_utc(wall_anchor_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                       t - steady_anchor_));
}

void file_state_store::task_changed(const core::group_machine& machine, std::size_t task,
                                    core::clock_time now) {
  const auto& st = machine.state(task);
  json::object line{{"ts", wall_time(now)},
                    {"type", "task"},
                    {"task_id", machine.tasks()[task].id},
                    {"status", core::to_string(st.status)},
                    {"attempt", st.attempts}};
  if (!st.history.empty()) {
    line["agent"] = st.history.back().agent;
  }
  if (st.status == task_status::running && st.pid != 0) {
    line["pid"] = st.pid;
    line["pgid"] = st.pgid;
  }
  if (core::is_terminal(st.status) && st.exit_code) {
    line["exit_code"] = *st.exit_code;
  }
  if (st.closed_in_tracker) {
    line["closed"] = true;
  }
  pending_events_ += json::serialize(line);
  pending_events_ += '\n';
  if (!is_dirty_[task]) {
    is_dirty_[task] = true;
    dirty_.push_back(task);
  }
  schedule(machine);
}

void file_state_store::group_changed(const core::group_machine& machine, core::clock_time now) {
  if (started_at_.empty() && machine.status() != core::group_status::pending) {
    started_at_ = wall_time(now);
  }
  json::object line{{"type", "group"},
                    {"phase", core::to_string(machine.phase())},
                    {"status", core::to_string(machine.status())},
                    {"test_status", core::to_string(machine.tests())},
                    {"errors", machine.errors().size()}};
  auto text = json::serialize(line);
  if (text != last_group_line_) {
    // Only a real change is logged: the core reports the group often.
    last_group_line_ = text;
    line["ts"] = wall_time(now);
    pending_events_ += json::serialize(line);
    pending_events_ += '\n';
  }
  if (core::is_terminal(machine.status()) && completed_at_.empty()) {
    completed_at_ = wall_time(now);
  }
  schedule(machine);
}

void file_state_store::schedule(const core::group_machine& machine) {
  machine_ = &machine;
  if (armed_) {
    return;
  }
  armed_ = true;
  timer_.expires_after(coalesce_);
  // The store may be gone when a cancelled (or just expired) wait completes.
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) {
      return;
    }
    armed_ = false;
    if (machine_ != nullptr) {
      write(*machine_, false);
    }
  });
}

void file_state_store::flush(const core::group_machine& machine) {
  machine_ = &machine;
  if (armed_) {
    timer_.cancel();
    armed_ = false;
  }
  if (!write(machine, true)) {
    throw std::runtime_error("cannot write the state of group " + record_.group_id + " in " +
                             record_.dir.string());
  }
}

std::string file_state_store::result_json(const core::group_machine& machine,
                                          std::size_t task) const {
  const auto& t = machine.tasks()[task];
  const auto& st = machine.state(task);
  json::array history;
  for (const auto& a : st.history) {
    history.emplace_back(a.agent);
  }
  json::array skills;
  for (const auto& s : record_.skills[task]) {
    skills.emplace_back(s);
  }
  const auto& agent = st.history.empty() ? t.chain[std::min(st.chain_position, t.chain.size() - 1)]
                                         : st.history.back().agent;
  json::object r{
      {"task_id", t.id},
      {"subagent", agent},
      {"skills_applied", std::move(skills)},
      {"status", core::to_string(st.status)},
      {"started_at", st.started ? json::value(wall_time(*st.started)) : json::value(nullptr)},
      {"completed_at", st.finished && core::is_terminal(st.status)
                           ? json::value(wall_time(*st.finished))
                           : json::value(nullptr)},
      {"exit_code", st.exit_code ? json::value(*st.exit_code) : json::value(nullptr)},
      {"attempts", st.attempts},
      {"agent_history", std::move(history)},
      {"log", record_.logs[task].string()},
      {"duration_s",
       st.started && st.finished && core::is_terminal(st.status)
           ? json::value(std::chrono::duration<double>(*st.finished - *st.started).count())
           : json::value(nullptr)},
      {"error", optional_string(st.error)},
      {"closed", st.closed_in_tracker}};
  if (st.status == task_status::running) {
    r["pid"] = st.pid != 0 ? json::value(st.pid) : json::value(nullptr);
    r["pgid"] = st.pgid != 0 ? json::value(st.pgid) : json::value(nullptr);
  }
  return json::serialize(r);
}

std::string file_state_store::metadata_json(const core::group_machine& machine) {
  for (const auto task : dirty_) {
    results_[task] = result_json(machine, task);
    is_dirty_[task] = false;
  }
  dirty_.clear();
  json::array tasks;
  tasks.reserve(machine.tasks().size());
  for (const auto& t : machine.tasks()) {
    tasks.emplace_back(t.id);
  }
  json::array errors;
  for (const auto& e : machine.errors()) {
    errors.emplace_back(e);
  }
  json::array warnings;
  for (const auto& w : machine.warnings()) {
    warnings.emplace_back(w);
  }
  json::object agents;
  for (const auto& [agent, limit] : record_.agent_limits) {
    agents[agent] = limit;
  }
  const auto test = machine.tests();
  json::object group{
      {"group_id", record_.group_id},
      {"group_name", record_.group_name},
      {"kind", record_.parallel ? "parallel" : "sequential"},
      {"phase", core::to_string(machine.phase())},
      {"tasks", std::move(tasks)},
      {"created_at", record_.created_at},
      {"started_at", optional_string(started_at_)},
      {"completed_at", optional_string(completed_at_)},
      {"status", core::to_string(machine.status())},
      {"errors", std::move(errors)},
      {"warnings", std::move(warnings)},
      {"pre_group_refresh_completed", machine.refresh_completed()},
      {"limits", json::object{{"max_concurrent", record_.max_concurrent},
                              {"group", record_.group_limit ? json::value(*record_.group_limit)
                                                            : json::value(nullptr)},
                              {"agents", std::move(agents)}}},
      {"test_status", test == core::test_status::not_run ? json::value(nullptr)
                                                         : json::value(core::to_string(test))},
      {"engine_pid", record_.engine_pid},
      {"source", record_.source}};
  std::string out = json::serialize(group);
  // Splice the cached results in, rather than serialising them all again.
  out.pop_back();
  out += ",\"results\":[";
  for (std::size_t i = 0; i < results_.size(); ++i) {
    if (i != 0) {
      out += ',';
    }
    out += results_[i];
  }
  out += "]}\n";
  return out;
}

bool file_state_store::write(const core::group_machine& machine, bool sync) {
  if (!pending_events_.empty() && events_fd_ >= 0) {
    if (write_all(events_fd_, pending_events_)) {
      pending_events_.clear();
    } else if (on_error_) {
      on_error_("cannot append to events.jsonl: " + std::string(std::strerror(errno)));
    }
  }
  const auto text = metadata_json(machine);
  const auto target = record_.dir / "metadata.json";
  const auto temporary = record_.dir / ("metadata.json.tmp." + std::to_string(::getpid()));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && write_all(fd, text) && (!sync || ::fsync(fd) == 0);
  const int saved = errno;
  if (fd >= 0) {
    ok = ::close(fd) == 0 && ok;
  }
  if (ok && ::rename(temporary.c_str(), target.c_str()) == 0) {
    if (sync && events_fd_ >= 0) {
      ::fsync(events_fd_);
    }
    return true;
  }
  const std::string reason = std::strerror(ok ? errno : saved);
  ::unlink(temporary.c_str());
  // The previous metadata.json is untouched; the next change writes the
  // whole file again.
  if (on_error_) {
    on_error_("cannot write " + target.string() + ": " + reason);
  }
  return false;
}

}  // namespace maestro
