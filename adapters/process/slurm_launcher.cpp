#include <algorithm>
#include <cctype>
#include <cmath>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <boost/asio/post.hpp>

#include <maestro/adapters/slurm_launcher.hpp>
#include <maestro/core/names.hpp>

#include "captured_child.hpp"
#include "child_spawn.hpp"

namespace maestro {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// What Slurm's client commands may take at most (they answer in
// milliseconds; a controller that does not answer must not hang a stop).
constexpr std::chrono::milliseconds tool_timeout{30'000};

bool plain_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
         c == '+' || c == ':' || c == '@';
}

// The last line of `text` that is not empty.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  const auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

// `squeue -h -o %i|%j` lines: job (or step) id by name.
std::unordered_map<std::string, std::string> ids_by_name(std::string_view listing) {
  std::unordered_map<std::string, std::string> out;
  while (!listing.empty()) {
    const auto nl = listing.find('\n');
    const auto line = listing.substr(0, nl);
    listing.remove_prefix(nl == std::string_view::npos ? listing.size() : nl + 1);
    const auto bar = line.find('|');
    if (bar == std::string_view::npos) {
      continue;
    }
    auto name = line.substr(bar + 1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) {
      name.remove_suffix(1);
    }
    out.emplace(name, line.substr(0, bar));
  }
  return out;
}

// srun's options that only mean something to a step, which salloc would
// refuse: how many arguments `arg` (and what follows) takes from the
// command line, 0 when salloc keeps it.
std::size_t step_only(std::string_view arg) {
  constexpr std::string_view flags[] = {
      "-u", "--unbuffered",     "-l",        "--label", "--pty",        "-K",
      "-X", "--disable-status", "--overlap", "--exact", "--multi-prog", "--kill-on-bad-exit"};
  constexpr std::string_view valued[] = {"--cpu-bind",    "--mpi",        "--output",
                                         "--error",       "--input",      "--open-mode",
                                         "--task-prolog", "--task-epilog"};
  constexpr std::string_view short_valued[] = {"-o", "-e", "-i"};
  for (const auto f : flags) {
    if (arg == f || (f.starts_with("--") && arg.starts_with(f) && arg.size() > f.size() &&
                     arg[f.size()] == '=')) {
      return 1;
    }
  }
  for (const auto v : valued) {
    if (arg == v) {
      return 2;  // and its value
    }
    if (arg.starts_with(v) && arg.size() > v.size() && arg[v.size()] == '=') {
      return 1;
    }
  }
  for (const auto v : short_valued) {
    if (arg == v) {
      return 2;
    }
    if (arg.starts_with(v)) {
      return 1;  // -oFILE
    }
  }
  return 0;
}

// `names` as one `--name=` argument of squeue: comma-separated.
template <class Names>
std::string name_list(const Names& names) {
  std::string out = "--name=";
  bool first = true;
  for (const auto& name : names) {
    out += first ? "" : ",";
    out += name;
    first = false;
  }
  return out;
}

std::string seconds_text(double s) {
  const auto whole = std::llround(s);
  return std::abs(s - static_cast<double>(whole)) < 1e-9 ? std::to_string(whole)
                                                         : std::to_string(s);
}

}  // namespace

std::string slurm_job_name(std::string_view run_nonce, std::string_view group_id,
                           std::string_view task_id) {
  std::string out = "maestro-";
  const auto add = [&out](std::string_view part) {
    for (const char c : part) {
      out += plain_name_char(c) ? c : '_';
    }
  };
  add(run_nonce);
  out += '-';
  add(group_id);
  if (!task_id.empty()) {
    out += '-';
    add(task_id);
  }
  return out;
}

std::vector<std::string> allocation_args(const std::vector<std::string>& srun_args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < srun_args.size();) {
    const auto taken = step_only(srun_args[i]);
    if (taken == 0) {
      out.push_back(srun_args[i]);
    }
    i += std::max<std::size_t>(taken, 1);
  }
  return out;
}

std::string granted_allocation(std::string_view err) {
  constexpr std::string_view marker = "Granted job allocation ";
  const auto at = err.find(marker);
  if (at == std::string_view::npos) {
    return {};
  }
  std::string id;
  for (auto i = at + marker.size();
       i < err.size() && std::isdigit(static_cast<unsigned char>(err[i])); ++i) {
    id += err[i];
  }
  return id;
}

slurm_launcher::slurm_launcher(asio::any_io_executor executor, core::launcher_config config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      environment_(launcher::inherited_environment()),
      local_(executor_),
      lookup_timer_(executor_) {}

slurm_launcher::~slurm_launcher() {
  // Destroyed with something still held (a host that drops the engine in
  // the middle of a run): what the cluster would keep is cancelled now,
  // waiting at most a few seconds for scancel. The normal end has let go
  // of everything already (`release`, `async_drain`).
  // scancel takes one --name: a call per name, and one for all the ids.
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> ids{tool("scancel")};
  const auto cancel = [&](const std::string& job_id, const std::string& name) {
    if (job_id.empty()) {
      calls.push_back({tool("scancel"), "--name=" + name});
    } else {
      ids.push_back(job_id);
    }
  };
  for (auto& [group, a] : allocations_) {
    if (a.salloc) {
      for (const int pgid : *a.salloc) {
        ::kill(-pgid, SIGTERM);
      }
    }
    cancel(a.job_id, a.name);
  }
  for (const auto& [pgid, j] : jobs_) {
    if (j.allocation.empty()) {
      cancel(j.job_id, j.name);
    }
  }
  if (ids.size() > 1) {
    calls.push_back(std::move(ids));
  }
  if (calls.empty()) {
    return;  // the normal end: everything was let go of
  }
  const auto env = detail::c_strings(environment_);
  for (const auto& call : calls) {
    const auto args = detail::c_strings(call);
    pid_t pid = -1;
    if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), env.data()) != 0) {
      continue;
    }
    int status = 0;
    for (int waited = 0; ::waitpid(pid, &status, WNOHANG) == 0; ++waited) {
      if (waited == 500) {  // 5 s
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      ::usleep(10'000);
    }
  }
}

std::string slurm_launcher::tool(std::string_view name) const {
  const std::filesystem::path srun(config_.srun);
  if (!srun.has_parent_path()) {
    return std::string(name);
  }
  return (srun.parent_path() / name).string();
}

std::string slurm_launcher::unavailable() const {
  std::vector<std::string> needed{config_.srun, tool("squeue"), tool("scancel")};
  if (config_.allocation == core::allocation_mode::group) {
    needed.push_back(tool("salloc"));
  }
  std::error_code ec;
  const auto here = std::filesystem::current_path(ec);
  for (const auto& program : needed) {
    if (!local_.can_start(program, here)) {
      return "launcher.kind \"slurm\": " + core::printable(program) +
             " is not found (set launcher.srun to the path of srun; salloc, squeue and scancel "
             "are looked up beside it)";
    }
  }
  return {};
}

bool slurm_launcher::can_start(const std::string& program,
                               const std::filesystem::path& workdir) const {
  return local_.can_start(program, workdir);
}

std::optional<child_capacity> slurm_launcher::capacity() const {
  return local_.capacity();
}

bool slurm_launcher::is_leftover(int pgid, std::string_view task_id,
                                 std::string_view group_id) const {
  return local_.is_leftover(pgid, task_id, group_id);
}

void slurm_launcher::append_to_log(const std::filesystem::path& log_file, std::string_view text) {
  local_.append_to_log(log_file, text);
}

child_handle slurm_launcher::launch(const launch_spec& spec, exit_handler on_exit, error_code& ec) {
  if (spec.role != child_role::agent) {
    return local_.launch(spec, std::move(on_exit), ec);  // only agents go to the cluster
  }
  job j;
  j.name = slurm_job_name(spec.group.run_nonce, spec.group.group_id, spec.task_id);
  launch_spec sent = spec;
  std::vector<std::string> argv{config_.srun};
  if (config_.allocation == core::allocation_mode::group) {
    const auto a = allocations_.find(spec.group.group_id);
    if (a == allocations_.end() || a->second.job_id.empty()) {
      ec = make_error_code(boost::system::errc::operation_not_permitted);  // no async_reserve
      return {};
    }
    j.allocation = a->second.job_id;
    argv.insert(argv.end(), {"--jobid=" + j.allocation, "--overlap", "-N1", "-n1"});
  } else {
    argv.insert(argv.end(), {"-N1", "-n1"});
  }
  argv.push_back("--job-name=" + j.name);
  argv.insert(argv.end(), config_.srun_args.begin(), config_.srun_args.end());
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  sent.argv = std::move(argv);
  sent.on_placed = nullptr;
  // The log says what ran: the agent's command line, then srun's.
  sent.log_header += "\n=== maestro-async: as Slurm job " + j.name + ":";
  for (const auto& a : sent.argv) {
    sent.log_header += ' ';
    sent.log_header += core::printable(a);
  }

  const auto alive = std::weak_ptr<int>(alive_);
  std::shared_ptr<int> pgid_of = std::make_shared<int>(0);
  const auto child = local_.launch(
      sent,
      [this, alive, pgid_of, on_exit = std::move(on_exit)](exit_info x) {
        if (!alive.expired()) {
          jobs_.erase(*pgid_of);
        }
        on_exit(std::move(x));
      },
      ec);
  if (ec) {
    return child;
  }
  *pgid_of = child.pgid;
  j.on_placed = spec.on_placed;
  if (!j.allocation.empty()) {
    // A step of the group's allocation: its id is the allocation's.
    if (j.on_placed) {
      asio::post(executor_, [placed = std::move(j.on_placed), id = j.allocation] { placed(id); });
    }
    j.job_id = j.allocation;
  } else if (j.on_placed) {
    lookup_delay_ = std::chrono::milliseconds(50);
    schedule_lookup();
  }
  jobs_.emplace(child.pgid, std::move(j));
  return child;
}

void slurm_launcher::signal(const child_handle& child, core::kill_signal signal) {
  const auto it = jobs_.find(child.pgid);
  if (it == jobs_.end() || signal == core::kill_signal::terminate) {
    // SIGTERM to srun cancels its job (or step) within milliseconds.
    local_.signal(child, signal);
    return;
  }
  kill_job(child.pgid);
}

void slurm_launcher::kill_job(int pgid) {
  auto& j = jobs_.at(pgid);
  if (j.cancelling) {
    return;
  }
  j.cancelling = true;
  // SIGKILL to srun would leave the job running (until the cluster's
  // InactiveLimit): the job goes first, then srun.
  auto then = [this, alive = std::weak_ptr<int>(alive_), pgid](const std::string& /*error*/) {
    if (!alive.expired() && jobs_.contains(pgid)) {
      local_.signal({0, pgid}, core::kill_signal::kill);
    }
  };
  if (j.allocation.empty()) {
    // By its id once known (a name may be another group's too: group `g`
    // with task `a-b`, group `g-a` with task `b`), else by its name.
    run_tool({tool("scancel"), j.job_id.empty() ? "--name=" + j.name : j.job_id}, tool_timeout,
             [then = std::move(then)](const tool_result&) { then({}); });
    return;
  }
  cancel_named({j.name}, j.allocation, std::move(then));
}

void slurm_launcher::run_tool(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout, tool_handler done,
                              const std::shared_ptr<std::unordered_set<int>>& groups) {
  ++tools_running_;
  detail::run_captured(executor_, argv, {}, environment_, timeout, groups,
                       [this, alive = std::weak_ptr<int>(alive_), done = std::move(done)](
                           error_code ec, detail::captured_output o) {
                         if (alive.expired()) {
                           return;
                         }
                         tool_result r;
                         if (ec) {
                           r.err = ec.message();
                         } else {
                           r.exit_code = o.timed_out ? -1 : o.exit_code;
                           r.out = std::move(o.out);
                           r.err = o.timed_out ? std::string("no answer within the time limit")
                                               : std::move(o.err);
                           r.timed_out = o.timed_out;
                         }
                         done(std::move(r));
                         tool_done();
                       });
}

void slurm_launcher::tool_done() {
  if (--tools_running_ == 0) {
    auto waiting = std::move(drained_);
    drained_.clear();
    for (auto& d : waiting) {
      d();
    }
  }
}

void slurm_launcher::async_drain(std::function<void()> done) {
  if (tools_running_ == 0) {
    done();
    return;
  }
  drained_.push_back(std::move(done));
}

void slurm_launcher::cancel_named(std::unordered_set<std::string> names, const std::string& within,
                                  std::function<void(std::string)> done) {
  std::vector<std::string> argv{tool("squeue"), "-h", "-a", "-o", "%i|%j"};
  if (!within.empty()) {
    argv.insert(argv.end(), {"-s", "-j", within});
  } else {
    argv.push_back(name_list(names));
  }
  run_tool(
      argv, tool_timeout,
      [this, names = std::move(names), done = std::move(done)](const tool_result& listed) {
        if (listed.exit_code != 0) {
          done("cannot list the Slurm jobs (squeue): " + core::printable(last_line(listed.err)));
          return;
        }
        std::vector<std::string> scancel{tool("scancel")};
        for (const auto& [name, id] : ids_by_name(listed.out)) {
          if (names.contains(name)) {
            scancel.push_back(id);
          }
        }
        if (scancel.size() == 1) {
          done({});
          return;
        }
        run_tool(scancel, tool_timeout, [done](const tool_result& cancelled) {
          done(cancelled.exit_code == 0
                   ? std::string()
                   : "scancel failed: " + core::printable(last_line(cancelled.err)));
        });
      });
}

void slurm_launcher::async_reserve(const group_ref& group, done_handler done) {
  if (config_.allocation != core::allocation_mode::group) {
    done({});
    return;
  }
  auto [it, fresh] = allocations_.try_emplace(group.group_id);
  auto& a = it->second;
  if (!fresh) {
    if (a.pending) {
      a.waiting.push_back(std::move(done));
    } else {
      done(a.error);
    }
    return;
  }
  a.name = slurm_job_name(group.run_nonce, group.group_id);
  a.waiting.push_back(std::move(done));
  a.salloc = std::make_shared<std::unordered_set<int>>();
  std::vector<std::string> argv{tool("salloc"), "--no-shell", "-n", std::to_string(group.slots),
                                "--job-name=" + a.name};
  const auto args = allocation_args(config_.srun_args);
  argv.insert(argv.end(), args.begin(), args.end());
  const auto timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(config_.allocation_timeout_s * 1000.0)));
  run_tool(
      argv, timeout,
      [this, id = group.group_id](const tool_result& salloc) { granted(id, salloc); }, a.salloc);
}

void slurm_launcher::granted(const std::string& group_id, const tool_result& salloc) {
  const auto it = allocations_.find(group_id);
  if (it == allocations_.end()) {
    // Released while it was being granted: `release` cancelled it by name.
    return;
  }
  auto& a = it->second;
  a.salloc.reset();
  if (salloc.exit_code == 0) {
    if (auto id = granted_allocation(salloc.err); !id.empty()) {
      allocated(group_id, std::move(id), {});
      return;
    }
    // Granted, but not said (srun_args with --quiet): found by its name.
    run_tool({tool("squeue"), "-h", "-a", "-o", "%i|%j", "--name=" + a.name}, tool_timeout,
             [this, group_id, name = a.name](const tool_result& listed) {
               const auto ids = listed.exit_code == 0
                                    ? ids_by_name(listed.out)
                                    : std::unordered_map<std::string, std::string>{};
               const auto found = ids.find(name);
               allocated(group_id, found == ids.end() ? std::string() : found->second,
                         "salloc granted no allocation that squeue shows");
             });
    return;
  }
  allocated(group_id, {},
            salloc.timed_out
                ? "the Slurm allocation for group " + core::printable(group_id) +
                      " was not granted within " + seconds_text(config_.allocation_timeout_s) +
                      " s (launcher.allocation_timeout_s)"
                : "salloc could not allocate for group " + core::printable(group_id) + ": " +
                      core::printable(last_line(salloc.err)));
}

void slurm_launcher::allocated(const std::string& group_id, std::string job_id,
                               const std::string& error) {
  const auto it = allocations_.find(group_id);
  if (it == allocations_.end()) {
    if (!job_id.empty()) {
      run_tool({tool("scancel"), job_id}, tool_timeout, [](const tool_result&) {});
    }
    return;
  }
  auto& a = it->second;
  a.pending = false;
  a.job_id = std::move(job_id);
  if (a.job_id.empty()) {
    a.error = error;
    // A request still queued goes: cancelled by its name.
    run_tool({tool("scancel"), "--name=" + a.name}, tool_timeout, [](const tool_result&) {});
  }
  auto waiting = std::move(a.waiting);
  a.waiting.clear();
  for (auto& done : waiting) {
    done(a.error);
  }
}

void slurm_launcher::release(const std::string& group_id) {
  const auto it = allocations_.find(group_id);
  if (it == allocations_.end()) {
    return;
  }
  auto a = std::move(it->second);
  allocations_.erase(it);
  if (a.pending && a.salloc) {
    for (const int pgid : *a.salloc) {
      ::kill(-pgid, SIGTERM);  // salloc withdraws its request
    }
  }
  for (auto& done : a.waiting) {
    done("the group ended before its Slurm allocation was granted");
  }
  if (!a.job_id.empty()) {
    run_tool({tool("scancel"), a.job_id}, tool_timeout, [](const tool_result&) {});
  } else if (a.pending) {
    run_tool({tool("scancel"), "--name=" + a.name}, tool_timeout, [](const tool_result&) {});
  }
}

void slurm_launcher::async_end_leftovers(const group_ref& gone,
                                         const std::vector<std::string>& task_ids,
                                         done_handler done) {
  std::unordered_set<std::string> names{slurm_job_name(gone.run_nonce, gone.group_id)};
  for (const auto& t : task_ids) {
    names.insert(slurm_job_name(gone.run_nonce, gone.group_id, t));
  }
  cancel_named(std::move(names), {}, std::move(done));
}

void slurm_launcher::schedule_lookup() {
  if (lookup_armed_ || lookup_running_) {
    return;
  }
  lookup_armed_ = true;
  lookup_timer_.expires_after(lookup_delay_);
  lookup_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](error_code ec) {
    if (alive.expired() || ec) {
      return;
    }
    lookup_armed_ = false;
    look_up_jobs();
  });
}

void slurm_launcher::look_up_jobs() {
  std::vector<std::string> unknown;
  for (const auto& [pgid, j] : jobs_) {
    if (j.job_id.empty() && j.on_placed) {
      unknown.push_back(j.name);
    }
  }
  if (unknown.empty()) {
    return;
  }
  lookup_running_ = true;
  // Pending or running only: a retry's name is also its earlier attempt's,
  // which may still be completing.
  run_tool({tool("squeue"), "-h", "-a", "-t", "PD,CF,R,S", "-o", "%i|%j", name_list(unknown)},
           tool_timeout, [this](const tool_result& listed) {
             lookup_running_ = false;
             const auto ids = listed.exit_code == 0
                                  ? ids_by_name(listed.out)
                                  : std::unordered_map<std::string, std::string>{};
             bool missing = false;
             for (auto& [pgid, j] : jobs_) {
               if (!j.job_id.empty() || !j.on_placed) {
                 continue;
               }
               const auto found = ids.find(j.name);
               if (found == ids.end()) {
                 missing = true;
                 continue;
               }
               j.job_id = found->second;
               j.on_placed(j.job_id);
             }
             if (missing) {
               lookup_delay_ = std::min(lookup_delay_ * 2, std::chrono::milliseconds(2000));
               schedule_lookup();
             }
           });
}

}  // namespace maestro
