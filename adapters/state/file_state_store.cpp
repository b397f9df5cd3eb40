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

#include <maestro/adapters/file_state_store.hpp>
#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/json_writer.hpp>

namespace maestro {
using core::task_status;

namespace {

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
// The writer of metadata.json: the toolkit's (declared in the header as
// detail's, which must not change).
class chunked_writer : public json_out::chunked_writer {
 public:
  using json_out::chunked_writer::chunked_writer;
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
  std::array<char, 32> time{};
  const auto time_size = format_utc(to_wall(now), time);
  task_event event;
  event.ts = std::string_view(time.data(), time_size);
  event.task_id = machine.tasks()[task].id;
  event.status = st.status;
  event.attempt = st.attempts;
  if (!st.history.empty()) {
    event.agent = st.history.back().agent;
  }
  if (st.status == task_status::running && st.pid != 0) {
    event.pid = st.pid;
    event.pgid = st.pgid;
  }
  if (core::is_terminal(st.status)) {
    event.exit_code = st.exit_code;
  }
  event.closed = st.closed_in_tracker;
  append_task_event(pending_events_, event);
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
  auto body =
      group_event_body(machine.phase(), machine.status(), machine.tests(), machine.errors().size());
  if (body != last_group_line_) {
    // Only a real change is logged: the core reports the group often.
    append_group_event(pending_events_, body, wall_time(now));
    last_group_line_ = std::move(body);
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
    append_run_marker(pending_events_, format_utc(std::chrono::system_clock::now()),
                      record_.engine_pid);
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
  const bool ended = st.finished && core::is_terminal(st.status);
  result_entry r;
  r.task_id = t.id;
  r.subagent = st.history.empty() ? t.chain[std::min(st.chain_position, t.chain.size() - 1)]
                                  : st.history.back().agent;
  r.skills = record_.skills[task];
  r.status = st.status;
  if (st.started) {
    r.started_at = to_wall(*st.started);
  }
  if (ended) {
    r.completed_at = to_wall(*st.finished);
  }
  r.exit_code = st.exit_code;
  r.attempts = st.attempts;
  r.history = st.history;
  r.log_dir = logs_prefix_;
  r.log_name = record_.log_names[task];
  if (ended && st.started) {
    r.duration_s = std::chrono::duration<double>(*st.finished - *st.started).count();
  }
  r.error = st.error;
  r.closed = st.closed_in_tracker;
  r.running = st.status == task_status::running;
  r.pid = st.pid;
  r.pgid = st.pgid;
  if (!st.history.empty()) {
    r.job_id = st.history.back().job_id;
  }
  write_result(out, task, r);
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
    metadata_header head;
    head.group_id = record_.group_id;
    head.group_name = record_.group_name;
    head.parallel = record_.parallel;
    head.phase = machine.phase();
    head.created_at = record_.created_at;
    head.started_at = started_at_;
    head.completed_at = completed_at_;
    head.status = machine.status();
    head.errors = machine.errors();
    head.warnings = machine.warnings();
    head.refresh_completed = machine.refresh_completed();
    head.max_concurrent = record_.max_concurrent;
    head.group_limit = record_.group_limit;
    head.agent_limits = &record_.agent_limits;
    head.tests = machine.tests();
    head.engine_pid = record_.engine_pid;
    head.run_nonce = record_.run_nonce;
    head.source = record_.source;
    head.actor = record_.actor;
    std::vector<epic_entry> epics;
    epics.reserve(machine.epics().size());
    for (std::size_t k = 0; k < machine.epics().size(); ++k) {
      epics.push_back({machine.epics()[k].id, machine.epic_closed(k)});
    }
    head.epics = epics;
    write_metadata_head(out, head);
    for (std::size_t i = 0; i < machine.tasks().size(); ++i) {
      write_task_id(out, i, machine.tasks()[i].id);
    }
    write_metadata_middle(out);
    for (std::size_t i = 0; i < machine.tasks().size(); ++i) {
      append_result(out, machine, i);
    }
    write_metadata_tail(out);
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
