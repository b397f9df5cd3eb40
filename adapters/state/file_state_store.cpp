#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <span>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <boost/json.hpp>

#include <maestro/adapters/file_state_store.hpp>

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

// Writes `t` as ISO 8601 UTC with milliseconds into `buffer`; returns the
// length (24). The text up to the second is kept per thread: most calls
// fall in the same second as the one before.
std::size_t format_utc(std::chrono::system_clock::time_point t, std::span<char, 32> buffer) {
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 32> cached{};
  thread_local std::size_t cached_size = 0;
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const auto seconds = static_cast<std::time_t>(millis / 1000);
  if (seconds != cached_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    const int n = std::snprintf(cached.data(), cached.size(), "%04d-%02d-%02dT%02d:%02d:%02d",
                                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                utc.tm_min, utc.tm_sec);
    cached_size = static_cast<std::size_t>(std::clamp(n, 0, 19));
    cached_second = seconds;
  }
  std::copy_n(cached.begin(), cached_size, buffer.begin());
  const auto ms = static_cast<int>(millis % 1000);
  buffer[cached_size] = '.';
  buffer[cached_size + 1] = static_cast<char>('0' + ms / 100);
  buffer[cached_size + 2] = static_cast<char>('0' + ms / 10 % 10);
  buffer[cached_size + 3] = static_cast<char>('0' + ms % 10);
  buffer[cached_size + 4] = 'Z';
  return cached_size + 5;
}

// Appends the inside of a JSON string: quotes, backslashes and control
// characters escaped; UTF-8 passes through.
void append_escaped(std::string& out, std::string_view text) {
  static constexpr std::string_view hex = "0123456789abcdef";
  std::size_t plain = 0;  // start of the run of characters copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u != '"' && u != '\\') {
      continue;
    }
    out.append(text.substr(plain, i - plain));
    plain = i + 1;
    if (u >= 0x20) {
      out += '\\';
      out += text[i];
    } else {
      out += "\\u00";
      out += hex[u >> 4U];
      out += hex[u & 0xfU];
    }
  }
  out.append(text.substr(plain));
}

// Appends a JSON number: an integer exactly, a double in its shortest form.
template <class Number>
void append_number(std::string& out, Number n) {
  std::array<char, 32> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), n);
  out.append(ec == std::errc{}
                 ? std::string_view(text.data(), static_cast<std::size_t>(end - text.data()))
                 : std::string_view("null"));
}

// Appends `"name":`, after a comma unless it opens the object.
void append_key(std::string& out, std::string_view name) {
  out += out.back() == '{' ? "\"" : ",\"";
  out += name;
  out += "\":";
}

// Appends `"name":"text"`, escaped.
void append_field(std::string& out, std::string_view name, std::string_view text) {
  append_key(out, name);
  out += '"';
  append_escaped(out, text);
  out += '"';
}

// Appends `"name":number`.
void append_field(std::string& out, std::string_view name, long long number) {
  append_key(out, name);
  append_number(out, number);
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  std::array<char, 32> buffer{};
  return {buffer.data(), format_utc(t, buffer)};
}

json::value optional_string(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

// Adds the time from its construction to its destruction to `total`.
class stopwatch {
 public:
  explicit stopwatch(std::chrono::nanoseconds& total)
      : total_(total), start_(std::chrono::steady_clock::now()) {}
  stopwatch(const stopwatch&) = delete;
  stopwatch& operator=(const stopwatch&) = delete;
  ~stopwatch() { total_ += std::chrono::steady_clock::now() - start_; }

 private:
  std::chrono::nanoseconds& total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

namespace detail {

// Writes to a file descriptor through a buffer of 64 KiB, with the pieces
// of JSON the state files need.
class chunked_writer {
 public:
  explicit chunked_writer(int fd) : fd_(fd) { buffer_.reserve(capacity); }
  void append(std::string_view text) {
    if (buffer_.size() + text.size() > capacity) {
      drain();
    }
    if (text.size() >= capacity) {
      ok_ = ok_ && write_all(fd_, text);
      written_ += text.size();
    } else {
      buffer_ += text;
    }
  }
  /// A JSON string: quoted, with quotes, backslashes and control
  /// characters escaped (UTF-8 passes through).
  void append_string(std::string_view text) {
    append("\"");
    append_escaped(text);
    append("\"");
  }
  /// The inside of a JSON string: quotes, backslashes and control
  /// characters escaped; UTF-8 passes through.
  void append_escaped(std::string_view text) {
    if (buffer_.size() + 6 * text.size() > capacity) {
      drain();
    }
    maestro::append_escaped(buffer_, text);
  }
  /// A JSON number: integers exactly, doubles in their shortest form.
  template <class Number>
  void append_number(Number n) {
    if (buffer_.size() + 32 > capacity) {
      drain();
    }
    maestro::append_number(buffer_, n);
  }
  /// Writes what is buffered; false when any write failed (errno is set).
  bool finish() {
    drain();
    return ok_;
  }
  [[nodiscard]] std::size_t written() const noexcept { return written_; }

 private:
  static constexpr std::size_t capacity = std::size_t{64} * 1024;
  void drain() {
    ok_ = ok_ && write_all(fd_, buffer_);
    written_ += buffer_.size();
    buffer_.clear();
  }
  int fd_;
  std::string buffer_;
  std::size_t written_ = 0;
  bool ok_ = true;
};

}  // namespace detail

file_state_store::file_state_store(const boost::asio::any_io_executor& executor,
                                   group_record record, error_handler on_error,
                                   std::chrono::milliseconds coalesce)
    : record_(std::move(record)),
      on_error_([this, handler = std::move(on_error)](const std::string& error) {
        last_error_ = error;
        if (handler) {
          handler(error);
        }
      }),
      coalesce_(coalesce),
      timer_(executor),
      wall_anchor_(std::chrono::system_clock::now()),
      steady_anchor_(std::chrono::steady_clock::now()) {
  if (record_.created_at.empty()) {
    record_.created_at = format_utc(wall_anchor_);
  }
  logs_prefix_ = (record_.dir / "logs" / "").native();
  events_fd_.reset(::open((record_.dir / "events.jsonl").c_str(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!events_fd_ && on_error_) {
    on_error_("cannot open " + (record_.dir / "events.jsonl").string() + ": " +
              std::strerror(errno));
  }
  if (struct stat st{}; events_fd_.valid() && ::fstat(events_fd_.get(), &st) == 0) {
    events_size_ = static_cast<std::size_t>(st.st_size);
  }
}

file_state_store::~file_state_store() {
  if (events_fd_.valid()) {
    // Gives back the space reserved beyond the end of the file.
    if (reserved_to_ > events_size_ && pending_events_.empty()) {
      [[maybe_unused]] const int rc =
          ::ftruncate(events_fd_.get(), static_cast<off_t>(events_size_));
    }
    events_fd_.reset();
  }
}

void file_state_store::append_time(detail::chunked_writer& out, core::clock_time t) const {
  std::array<char, 32> buffer{};
  const auto n = format_utc(to_wall(t), buffer);
  out.append("\"");
  out.append(std::string_view(buffer.data(), n));
  out.append("\"");
}

std::chrono::system_clock::time_point file_state_store::to_wall(core::clock_time t) const {
  return wall_anchor_ +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_anchor_);
}

std::string file_state_store::wall_time(core::clock_time t) const {
  return format_utc(to_wall(t));
}

void file_state_store::task_changed(const core::group_machine& machine, std::size_t task,
                                    core::clock_time now) {
  const stopwatch timing(spent_);
  const auto& st = machine.state(task);
  // One line, formatted in place: a group of 100,000 tasks makes 400,000.
  std::array<char, 32> time{};
  const auto time_size = format_utc(to_wall(now), time);
  auto& out = pending_events_;
  out += '{';
  append_field(out, "ts", std::string_view(time.data(), time_size));
  append_field(out, "type", "task");
  append_field(out, "task_id", machine.tasks()[task].id);
  append_field(out, "status", core::to_string(st.status));
  append_field(out, "attempt", st.attempts);
  if (!st.history.empty()) {
    append_field(out, "agent", st.history.back().agent);
  }
  if (st.status == task_status::running && st.pid != 0) {
    append_field(out, "pid", st.pid);
    append_field(out, "pgid", st.pgid);
  }
  if (core::is_terminal(st.status) && st.exit_code) {
    append_field(out, "exit_code", *st.exit_code);
  }
  if (st.closed_in_tracker) {
    out += ",\"closed\":true";
  }
  out += "}\n";
  // A task that ended is written ahead, before the runtime acts on the end
  // (launches the next): a SIGKILL of the engine cannot lose it, since the
  // page cache outlives the process.
  if (core::is_terminal(st.status) || pending_events_.size() >= events_batch) {
    append_events();
  }
  metadata_stale_ = true;
  schedule(machine);
}

void file_state_store::group_changed(const core::group_machine& machine, core::clock_time now) {
  const stopwatch timing(spent_);
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
  metadata_stale_ = true;
  schedule(machine);
}

void file_state_store::schedule(const core::group_machine& machine) {
  machine_ = &machine;
  if (!armed_) {
    arm(std::chrono::steady_clock::now() + coalesce_);
  }
}

void file_state_store::arm(std::chrono::steady_clock::time_point at) {
  armed_ = true;
  timer_.expires_at(at);
  // The store may be gone when a cancelled (or just expired) wait completes.
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) {
      return;
    }
    armed_ = false;
    if (machine_ == nullptr) {
      return;
    }
    {
      const stopwatch timing(spent_);
      append_events();
    }
    const auto now = std::chrono::steady_clock::now();
    if (metadata_stale_ && now < next_metadata_) {
      // A large file, not due yet; the events that come meanwhile still
      // reach events.jsonl within `coalesce_`.
      arm(std::min<std::chrono::steady_clock::time_point>(next_metadata_, now + coalesce_));
      return;
    }
    const bool written = !metadata_stale_ || write(*machine_, false);
    if (!written || !pending_events_.empty()) {
      arm(std::chrono::steady_clock::now() + coalesce_);  // a full disk: try again
    }
  });
}

void file_state_store::flush(const core::group_machine& machine) {
  machine_ = &machine;
  if (armed_) {
    timer_.cancel();
    armed_ = false;
  }
  const bool written = write(machine, true);  // appends the pending lines first
  if (written && !marked_) {
    // This run's lines begin here, right after a metadata.json that holds
    // everything before them: `resume` replays the lines after the last
    // marker over metadata.json (SPEC section 6).
    std::string& out = pending_events_;
    out += '{';
    append_field(out, "ts", format_utc(std::chrono::system_clock::now()));
    append_field(out, "type", "run");
    append_field(out, "engine_pid", record_.engine_pid);
    out += "}\n";
    append_events();
    marked_ = true;
  }
  if (!written || !pending_events_.empty() || !events_fd_) {
    throw std::runtime_error("cannot write the state of group " + record_.group_id + " in " +
                             record_.dir.string() +
                             (last_error_.empty() ? std::string{} : ": " + last_error_));
  }
}

void file_state_store::append_result(detail::chunked_writer& out,
                                     const core::group_machine& machine, std::size_t task) const {
  const auto& t = machine.tasks()[task];
  const auto& st = machine.state(task);
  const auto& agent = st.history.empty() ? t.chain[std::min(st.chain_position, t.chain.size() - 1)]
                                         : st.history.back().agent;
  const bool ended = st.finished && core::is_terminal(st.status);
  out.append("{\"task_id\":");
  out.append_string(t.id);
  out.append(",\"subagent\":");
  out.append_string(agent);
  out.append(",\"skills_applied\":[");
  for (std::size_t i = 0; i < record_.skills[task].size(); ++i) {
    out.append(i == 0 ? "" : ",");
    out.append_string(record_.skills[task][i]);
  }
  out.append("],\"status\":");
  out.append_string(core::to_string(st.status));
  out.append(",\"started_at\":");
  if (st.started) {
    append_time(out, *st.started);
  } else {
    out.append("null");
  }
  out.append(",\"completed_at\":");
  if (ended) {
    append_time(out, *st.finished);
  } else {
    out.append("null");
  }
  out.append(",\"exit_code\":");
  if (st.exit_code) {
    out.append_number(*st.exit_code);
  } else {
    out.append("null");
  }
  out.append(",\"attempts\":");
  out.append_number(st.attempts);
  out.append(",\"agent_history\":[");
  for (std::size_t i = 0; i < st.history.size(); ++i) {
    out.append(i == 0 ? "" : ",");
    out.append_string(st.history[i].agent);
  }
  out.append("],\"log\":\"");
  out.append_escaped(logs_prefix_);
  out.append_escaped(record_.log_names[task]);
  out.append("\"");
  out.append(",\"duration_s\":");
  if (ended && st.started) {
    out.append_number(std::chrono::duration<double>(*st.finished - *st.started).count());
  } else {
    out.append("null");
  }
  out.append(",\"error\":");
  if (st.error.empty()) {
    out.append("null");
  } else {
    out.append_string(st.error);
  }
  out.append(st.closed_in_tracker ? ",\"closed\":true" : ",\"closed\":false");
  if (st.status == task_status::running) {
    out.append(",\"pid\":");
    if (st.pid != 0) {
      out.append_number(st.pid);
    } else {
      out.append("null");
    }
    out.append(",\"pgid\":");
    if (st.pgid != 0) {
      out.append_number(st.pgid);
    } else {
      out.append("null");
    }
  }
  out.append("}");
}

std::string file_state_store::metadata_head(const core::group_machine& machine) {
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
  // The task ids and the results follow, formatted by `write_files`.
  std::string out = json::serialize(group);
  out.pop_back();
  out += ",\"tasks\":[";
  return out;
}

bool file_state_store::write(const core::group_machine& machine, bool sync) {
  const auto started = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  const bool ok = write_files(machine, sync, bytes);
  const auto ended = std::chrono::steady_clock::now();
  const auto took = ended - started;
  // A large file is written less often, at most 1/20 of the time; up to
  // `paced_from` tasks every change reaches it within the delay.
  if (machine.tasks().size() > paced_from) {
    next_metadata_ = ended + took * 19;
  }
  if (ok) {
    metadata_stale_ = false;
  }
  spent_ += took;
  if (ok && on_written_) {
    on_written_(bytes, spent_);
  }
  if (ok) {
    spent_ = std::chrono::nanoseconds(0);
  }
  return ok;
}

void file_state_store::append_events() {
  if (pending_events_.empty() || !events_fd_) {
    return;
  }
  // What was written is dropped from the buffer even when a later write
  // fails, so that a retry appends the rest (completing a cut line) and
  // never a line twice.
  std::size_t done = 0;
  int error = 0;
  while (done < pending_events_.size()) {
    const auto n =
        ::write(events_fd_.get(), pending_events_.data() + done, pending_events_.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  events_size_ += done;
  pending_events_.erase(0, done);
  if (error != 0) {
    if (on_error_) {
      on_error_("cannot append to " + (record_.dir / "events.jsonl").string() + ": " +
                std::strerror(error));
    }
    return;
  }
  if (pending_events_.capacity() > events_batch) {
    pending_events_.shrink_to_fit();  // a burst (100,000 tasks queued) is not kept
  }
  reserve_ahead();
}

void file_state_store::reserve_ahead() {
  if (!reserve_supported_ || events_size_ + reserve_margin <= reserved_to_) {
    return;
  }
  if (::fallocate(events_fd_.get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(events_size_),
                  static_cast<off_t>(reserve_chunk)) == 0) {
    reserved_to_ = events_size_ + reserve_chunk;
  } else if (errno != ENOSPC && errno != EDQUOT) {
    reserve_supported_ = false;  // not offered by this file system: no reserve
  } else if (on_error_) {
    // The disk is (nearly) full: what is reserved still takes the lines of
    // the children that run, while the runtime stops launching.
    on_error_("cannot reserve space for " + (record_.dir / "events.jsonl").string() + ": " +
              std::strerror(errno));
  }
}

bool file_state_store::write_files(const core::group_machine& machine, bool sync,
                                   std::size_t& bytes) {
  append_events();
  const auto target = record_.dir / "metadata.json";
  // An unpredictable name, created exclusively: nothing planted in the
  // directory is followed or truncated.
  std::string temporary = (record_.dir / "metadata.json.tmp.XXXXXX").native();
  unique_fd fd(::mkostemp(temporary.data(), O_CLOEXEC));
  const bool created = fd.valid();
  if (created) {
    ::fchmod(fd.get(), 0644);
  }
  bool ok = created;
  if (ok) {
    // Streamed through a small buffer: with 100,000 tasks the whole text
    // would be tens of megabytes held twice.
    detail::chunked_writer out(fd.get());
    out.append(metadata_head(machine));
    for (std::size_t i = 0; i < machine.tasks().size(); ++i) {
      if (i != 0) {
        out.append(",");
      }
      out.append_string(machine.tasks()[i].id);
    }
    out.append("],\"results\":[");
    for (std::size_t i = 0; i < machine.tasks().size(); ++i) {
      if (i != 0) {
        out.append(",");
      }
      append_result(out, machine, i);
    }
    out.append("]}\n");
    ok = out.finish() && (!sync || ::fsync(fd.get()) == 0);
    bytes = out.written();
  }
  const int saved = errno;
  if (created) {
    ok = ::close(fd.release()) == 0 && ok;  // a failed close is a failed write
  }
  if (ok && ::rename(temporary.c_str(), target.c_str()) == 0) {
    if (sync && events_fd_.valid()) {
      ::fsync(events_fd_.get());
    }
    return true;
  }
  const std::string reason = std::strerror(ok ? errno : saved);
  if (created) {
    ::unlink(temporary.c_str());
  }
  // The previous metadata.json is untouched; the next change writes the
  // whole file again.
  if (on_error_) {
    on_error_("cannot write " + target.string() + ": " + reason);
  }
  return false;
}

}  // namespace maestro
