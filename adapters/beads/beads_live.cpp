#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <maestro/adapters/bd_output.hpp>
#include <maestro/adapters/beads_live.hpp>
#include <maestro/adapters/inotify_watcher.hpp>
#include <maestro/core/input_error.hpp>
#include <maestro/core/names.hpp>
#include <maestro/log.hpp>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in unistd.h

namespace maestro {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// `bd show` is asked about this many ids at a time: a command line stays
// far below ARG_MAX whatever the backlog.
constexpr std::size_t show_batch = 200;

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// bd's own message: the first line of stderr that says something, else
// the error object on stdout, else the exit status.
std::string bd_message(const bd_result& r) {
  std::size_t at = 0;
  while (at < r.err.size()) {
    const auto end = std::min(r.err.find('\n', at), r.err.size());
    const std::string_view line(r.err.data() + at, end - at);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      return core::printable(line);
    }
    at = end + 1;
  }
  try {
    (void)parse_bd_issues(r.out, "output");
  } catch (const bd_error& e) {
    const std::string what = e.what();
    // "bd output: MESSAGE"
    return what.substr(std::min(what.size(), std::string("bd output: ").size()));
  } catch (const std::exception&) {
  }
  return "exit " + std::to_string(r.exit_code);
}

// The line of bd's stderr that names `id`, else its message.
std::string message_about(const bd_result& r, const std::string& id) {
  std::size_t at = 0;
  while (at < r.err.size()) {
    const auto end = std::min(r.err.find('\n', at), r.err.size());
    const std::string_view line(r.err.data() + at, end - at);
    if (line.find(id) != std::string_view::npos) {
      return core::printable(line);
    }
    at = end + 1;
  }
  return bd_message(r);
}

std::string no_answer(std::string_view call, std::chrono::milliseconds timeout) {
  return std::string(call) + " did not answer within " + seconds_text(timeout);
}

// Who `bd` output says holds `id`: its assignee (empty: no one), or
// nothing when `id` is not in it. Throws as `bd_assignees`.
std::optional<std::string> holder_of(std::string_view output, std::string_view command,
                                     const std::string& id) {
  for (auto& [issue, holder] : bd_assignees(output, command)) {
    if (issue == id) {
      return std::move(holder);
    }
  }
  return std::nullopt;
}

// The holder of `id` in bd's output when it is another actor than `actor`.
std::optional<std::string> other_holder(std::string_view output, std::string_view command,
                                        const std::string& id, const std::string& actor) {
  auto holder = holder_of(output, command, id);
  if (!holder || holder->empty() || *holder == actor) {
    return std::nullopt;
  }
  return holder;
}

std::vector<std::string> with_envelope(std::vector<std::string> environment) {
  std::erase_if(environment,
                [](const std::string& e) { return e.starts_with("BD_JSON_ENVELOPE="); });
  environment.emplace_back("BD_JSON_ENVELOPE=1");
  return environment;
}

std::string env_value(const std::vector<std::string>& environment, std::string_view name) {
  for (const auto& e : environment) {
    if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') {
      return e.substr(name.size() + 1);
    }
  }
  return {};
}

}  // namespace

// --- settings and the first read ------------------------------------------

std::string beads_actor(const std::optional<std::string>& configured) {
  if (configured && !configured->empty()) {
    return *configured;
  }
  if (const char* a = std::getenv("BEADS_ACTOR"); a != nullptr && *a != '\0') {  // NOLINT
    return a;
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    return "maestro-async@localhost";
  }
  return std::string("maestro-async@") + host;
}

bd_settings make_bd_settings(const core::beads_config& beads, std::string program,
                             std::filesystem::path workdir) {
  bd_settings s;
  s.program = std::move(program);
  s.workdir = std::move(workdir);
  for (char** e = environ; *e != nullptr; ++e) {
    s.environment.emplace_back(*e);
  }
  s.environment = with_envelope(std::move(s.environment));
  const auto ms = [](double seconds) {
    return std::chrono::milliseconds(std::llround(seconds * 1000.0));
  };
  s.timeout = ms(beads.timeout_s);
  s.recheck = ms(beads.recheck_s);
  s.actor = beads_actor(beads.actor);
  s.release_claims = beads.release_claims;
  return s;
}

std::vector<core::task> load_beads(const bd_settings& settings) {
  asio::io_context io;
  bd_client client(io.get_executor(), settings.program, settings.workdir,
                   with_envelope(settings.environment), settings.timeout);
  error_code failure;
  bd_result result;
  client.async_run({"list", "--json", "--all", "--limit", "0"}, [&](error_code ec, bd_result r) {
    failure = ec;
    result = std::move(r);
  });
  io.run();
  const core::input_location where{"bd", 0, 0, {}};
  if (failure) {
    throw core::input_error(where, "cannot start " + core::printable(settings.program) + ": " +
                                       failure.message() + " (give --bd PATH)");
  }
  if (result.timed_out) {
    throw core::input_error(where, no_answer("bd list", settings.timeout));
  }
  if (result.exit_code != 0) {
    throw core::input_error(where, "bd list failed (exit " + std::to_string(result.exit_code) +
                                       "): " + bd_message(result));
  }
  std::vector<core::task> tasks;
  try {
    tasks = parse_bd_issues(result.out, "list", settings.actor);
  } catch (const bd_error& e) {
    throw core::input_error({}, e.what());
  }
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const core::task& a, const core::task& b) { return a.id < b.id; });
  return tasks;
}

// --- the tracker -----------------------------------------------------------

bd_tracker::bd_tracker(asio::any_io_executor strand, bd_settings settings)
    : strand_(std::move(strand)),
      settings_(std::move(settings)),
      client_(strand_, settings_.program, settings_.workdir, with_envelope(settings_.environment),
              settings_.timeout) {}

bd_tracker::~bd_tracker() = default;

void bd_tracker::enqueue(write w) {
  writes_.push_back(std::move(w));
  if (!writing_) {
    run_next();
  }
}

void bd_tracker::run_next() {
  if (writes_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto w = std::move(writes_.front());
  writes_.pop_front();
  w([this, alive = std::weak_ptr<int>(alive_)] {
    // Posted: the next write never starts inside the last one's handler.
    asio::post(strand_, [this, alive] {
      if (!alive.expired()) {
        run_next();
      }
    });
  });
}

void bd_tracker::async_claim(const std::string& id, claim_handler done) {
  enqueue([this, id, done = std::move(done)](std::function<void()> next) mutable {
    client_.async_run(
        {"update", id, "--claim", "--json", "--actor", settings_.actor},
        [this, id, alive = std::weak_ptr<int>(alive_), done = std::move(done),
         next = std::move(next)](error_code ec, const bd_result& r) mutable {
          if (alive.expired()) {
            return;  // the tracker is gone: nobody to tell
          }
          if (ec) {
            done({claim_outcome::failed,
                  "cannot start " + core::printable(settings_.program) + ": " + ec.message()});
            next();
            return;
          }
          if (r.timed_out) {
            done({claim_outcome::failed, no_answer("bd update --claim", settings_.timeout)});
            next();
            return;
          }
          if (r.exit_code == 0) {
            try {
              if (auto holder = other_holder(r.out, "update", id, settings_.actor)) {
                done({claim_outcome::held, std::move(*holder)});
              } else {
                done({claim_outcome::claimed, {}});
              }
            } catch (const std::exception& e) {
              done({claim_outcome::failed, e.what()});
            }
            next();
            return;
          }
          // Refused: held by another actor (skipped), or anything else (a
          // failed attempt). bd's wording is not a contract: ask who holds it.
          const std::string refusal = bd_message(r);
          client_.async_run(
              {"show", id, "--json"},
              [this, id, refusal, alive = std::weak_ptr<int>(alive_), done = std::move(done),
               next = std::move(next)](error_code show_ec, const bd_result& shown) {
                if (alive.expired()) {
                  return;
                }
                if (!show_ec && !shown.timed_out && shown.exit_code == 0) {
                  try {
                    if (auto holder = other_holder(shown.out, "show", id, settings_.actor)) {
                      done({claim_outcome::held, std::move(*holder)});
                      next();
                      return;
                    }
                  } catch (const std::exception&) {
                    // Reported as the refusal it was.
                  }
                }
                done({claim_outcome::failed, refusal});
                next();
              });
        });
  });
}

void bd_tracker::async_release(std::vector<release_request> tasks, release_handler done) {
  if (!settings_.release_claims || tasks.empty()) {
    done({});
    return;
  }
  enqueue([this, tasks = std::make_shared<std::vector<release_request>>(std::move(tasks)),
           done = std::move(done)](std::function<void()> next) mutable {
    release_one(tasks, 0, std::make_shared<std::vector<std::string>>(), std::move(done),
                std::move(next));
  });
}

void bd_tracker::release_one(const std::shared_ptr<std::vector<release_request>>& tasks,
                             std::size_t k, const std::shared_ptr<std::vector<std::string>>& errors,
                             release_handler done, std::function<void()> next) {
  if (k == tasks->size()) {
    done(std::move(*errors));
    next();
    return;
  }
  // Only what is still the actor's is handed back: another actor may have
  // taken it since.
  client_.async_run(
      {"show", (*tasks)[k].id, "--json"},
      [this, tasks, k, errors, alive = std::weak_ptr<int>(alive_), done = std::move(done),
       next = std::move(next)](error_code ec, const bd_result& r) mutable {
        if (alive.expired()) {
          return;
        }
        const auto& t = (*tasks)[k];
        const auto fail = [&](std::string why) { errors->push_back(t.id + ": " + std::move(why)); };
        bool ours = false;
        if (ec) {
          fail("cannot start " + core::printable(settings_.program) + ": " + ec.message());
        } else if (r.timed_out) {
          fail(no_answer("bd show", settings_.timeout));
        } else if (r.exit_code != 0) {
          fail(bd_message(r));
        } else {
          try {
            ours = holder_of(r.out, "show", t.id) == settings_.actor;
          } catch (const std::exception& e) {
            fail(e.what());
          }
        }
        if (!ours) {
          release_one(tasks, k + 1, errors, std::move(done), std::move(next));
          return;
        }
        client_.async_run(
            {"update", t.id, "--status", "open", "--assignee", "", "--append-notes", t.reason,
             "--json", "--actor", settings_.actor},
            [this, tasks, k, errors, alive = std::weak_ptr<int>(alive_), done = std::move(done),
             next = std::move(next)](error_code uec, const bd_result& u) mutable {
              if (alive.expired()) {
                return;
              }
              const auto& released = (*tasks)[k];
              if (uec) {
                errors->push_back(released.id + ": cannot start " +
                                  core::printable(settings_.program) + ": " + uec.message());
              } else if (u.timed_out) {
                errors->push_back(released.id + ": " + no_answer("bd update", settings_.timeout));
              } else if (u.exit_code != 0) {
                errors->push_back(released.id + ": " + bd_message(u));
              }
              release_one(tasks, k + 1, errors, std::move(done), std::move(next));
            });
      });
}

void bd_tracker::async_close(const std::vector<std::string>& ids, close_handler done) {
  if (ids.empty()) {
    done({}, {});
    return;
  }
  enqueue([this, ids, done = std::move(done)](std::function<void()> next) mutable {
    std::vector<std::string> args{"close"};
    args.insert(args.end(), ids.begin(), ids.end());
    args.insert(args.end(),
                {"--reason", "maestro-async: completed", "--json", "--actor", settings_.actor});
    client_.async_run(std::move(args), [this, ids, alive = std::weak_ptr<int>(alive_),
                                        done = std::move(done), next = std::move(next)](
                                           error_code ec, const bd_result& r) mutable {
      if (alive.expired()) {
        return;
      }
      std::vector<std::string> closed;
      std::vector<std::string> errors;
      if (ec) {
        for (const auto& id : ids) {
          errors.push_back(id + ": cannot start " + core::printable(settings_.program) + ": " +
                           ec.message());
        }
      } else if (r.timed_out) {
        for (const auto& id : ids) {
          errors.push_back(id + ": " + no_answer("bd close", settings_.timeout));
        }
      } else if (r.exit_code != 0 && ids.size() > 1) {
        // Nothing closed: one unknown id aborts a multi-id close. Each
        // alone, in the same order, so the others still close.
        close_each(std::make_shared<std::vector<std::string>>(ids), 0,
                   std::make_shared<std::vector<std::string>>(),
                   std::make_shared<std::vector<std::string>>(), std::move(done), std::move(next));
        return;
      } else {
        std::unordered_set<std::string> done_ids;
        if (r.exit_code == 0) {
          try {
            for (const auto& t : parse_bd_issues(r.out, "close")) {
              if (core::is_closed_status(t.status)) {
                done_ids.insert(t.id);
              }
            }
          } catch (const std::exception& e) {
            for (const auto& id : ids) {
              errors.push_back(id + ": " + e.what());
            }
            done(std::move(closed), std::move(errors));
            next();
            return;
          }
        }
        for (const auto& id : ids) {
          if (done_ids.contains(id)) {
            closed.push_back(id);
          } else {
            errors.push_back(id + ": " + message_about(r, id));
          }
        }
      }
      done(std::move(closed), std::move(errors));
      next();
    });
  });
}

void bd_tracker::close_each(const std::shared_ptr<std::vector<std::string>>& ids, std::size_t k,
                            const std::shared_ptr<std::vector<std::string>>& closed,
                            const std::shared_ptr<std::vector<std::string>>& errors,
                            close_handler done, std::function<void()> next) {
  if (k == ids->size()) {
    done(std::move(*closed), std::move(*errors));
    next();
    return;
  }
  client_.async_run(
      {"close", (*ids)[k], "--reason", "maestro-async: completed", "--json", "--actor",
       settings_.actor},
      [this, ids, k, closed, errors, alive = std::weak_ptr<int>(alive_), done = std::move(done),
       next = std::move(next)](error_code ec, const bd_result& r) mutable {
        if (alive.expired()) {
          return;
        }
        const std::string& id = (*ids)[k];
        bool ok = false;
        if (ec) {
          errors->push_back(id + ": cannot start " + core::printable(settings_.program) + ": " +
                            ec.message());
        } else if (r.timed_out) {
          errors->push_back(id + ": " + no_answer("bd close", settings_.timeout));
        } else if (r.exit_code == 0) {
          try {
            for (const auto& t : parse_bd_issues(r.out, "close")) {
              ok = ok || (t.id == id && core::is_closed_status(t.status));
            }
            if (!ok) {
              errors->push_back(id + ": " + message_about(r, id));
            }
          } catch (const std::exception& e) {
            errors->push_back(id + ": " + e.what());
          }
        } else {
          errors->push_back(id + ": " + message_about(r, id));
        }
        if (ok) {
          closed->push_back(id);
        }
        close_each(ids, k + 1, closed, errors, std::move(done), std::move(next));
      });
}

// --- the watch -------------------------------------------------------------

namespace {

constexpr std::uint32_t in_isdir = 0x40000000U;   // IN_ISDIR
constexpr std::uint32_t in_create = 0x00000100U;  // IN_CREATE
constexpr std::uint32_t in_moved_to = 0x00000080U;
// Dolt appends to files it keeps open: a write without a close counts too.
constexpr std::uint32_t beads_mask = inotify_watcher::default_mask | 0x00000002U;  // IN_MODIFY

// One watch of `.beads/`: inotify on it and every directory under it, the
// debounce, the re-check, and the `bd show` calls that confirm. Every
// handler runs on the strand; none runs after the watch is destroyed (the
// timers and the watcher are cancelled by their destructors, and a handler
// already queued finds `alive_` expired).
class beads_watch final : public task_source::subscription {
 public:
  beads_watch(const asio::any_io_executor& strand, const bd_settings& settings,
              std::unordered_set<std::string> closed, task_source::interest_query interest,
              task_source::closed_handler on_closed, task_source::warning_handler on_warning)
      : settings_(settings),
        client_(strand, settings.program, settings.workdir, with_envelope(settings.environment),
                settings.timeout),
        closed_(std::move(closed)),
        interest_(std::move(interest)),
        on_closed_(std::move(on_closed)),
        on_warning_(std::move(on_warning)),
        debounce_(strand),
        recheck_(strand) {
    try {
      watcher_.emplace(strand);
    } catch (const boost::system::system_error& e) {
      warn(std::string("cannot watch .beads/: ") + e.what() + "; only the re-check sees changes");
    }
  }
  beads_watch(const beads_watch&) = delete;
  beads_watch& operator=(const beads_watch&) = delete;
  ~beads_watch() override {
    debounce_.cancel();
    recheck_.cancel();
  }

  void start(const std::optional<std::filesystem::path>& beads_dir) {
    if (watcher_ && beads_dir) {
      watch_tree(*beads_dir);
      watcher_->start([this](const file_change& change) {
        if ((change.mask & in_isdir) != 0 && (change.mask & (in_create | in_moved_to)) != 0) {
          watch_tree(change.dir / change.name);  // a new directory: watched too
        }
        if (changed(change)) {
          hint();
        }
      });
    } else if (watcher_) {
      warn("no .beads directory found from " + settings_.workdir.string() +
           ": only the re-check (beads.recheck_s) sees changes");
    }
    arm_recheck();
  }

 private:
  void warn(const std::string& text) const {
    if (on_warning_) {
      on_warning_(text);
    }
  }

  void watch_tree(const std::filesystem::path& dir) {
    if (const auto ec = watcher_->watch(dir, beads_mask); ec) {
      warn("cannot watch " + dir.string() + ": " + ec.message());
      return;
    }
    error_code ec;
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        (void)watcher_->watch(it->path(), beads_mask);
      } else if (it->is_regular_file(ec)) {
        (void)changed_file(it->path().string());  // the baseline
      }
    }
  }

  // The identity and content stamp of a file: what a write changes and a
  // read does not.
  struct file_stamp {
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    friend bool operator==(const file_stamp&, const file_stamp&) = default;
  };

  // True when the file at `path` differs from when it was last seen (or is
  // new, or gone).
  bool changed_file(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return stamps_.erase(path) > 0;
    }
    const file_stamp now{st.st_ino, st.st_size,
                         std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
    const auto [it, added] = stamps_.try_emplace(path, now);
    if (added) {
      return true;
    }
    if (it->second == now) {
      return false;
    }
    it->second = now;
    return true;
  }

  // Whether an inotify event is worth asking bd about. bd's reads open
  // files for writing too (a lock file): closing one unchanged is no news,
  // or each `bd show` of the engine's would call for another.
  bool changed(const file_change& change) {
    if (change.overflow || change.name.empty() || (change.mask & in_isdir) != 0) {
      return true;
    }
    return changed_file((change.dir / change.name).string());
  }

  void hint() {
    if (armed_) {
      return;  // a burst: one confirmation
    }
    armed_ = true;
    debounce_.expires_after(settings_.debounce);
    debounce_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const error_code& ec) {
      if (ec || alive.expired()) {
        return;
      }
      armed_ = false;
      confirm();
    });
  }

  void arm_recheck() {
    if (settings_.recheck.count() <= 0) {
      return;
    }
    recheck_.expires_after(settings_.recheck);
    recheck_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const error_code& ec) {
      if (ec || alive.expired()) {
        return;
      }
      confirm();
      arm_recheck();
    });
  }

  // Asks bd about the ids that matter and are not known closed.
  void confirm() {
    if (asking_) {
      again_ = true;  // a change during the call: ask once more after it
      return;
    }
    std::vector<std::string> ids;
    for (auto& id : interest_ ? interest_() : std::vector<std::string>{}) {
      if (!closed_.contains(id)) {
        ids.push_back(std::move(id));
      }
    }
    if (ids.empty()) {
      return;
    }
    asking_ = true;
    ask(std::make_shared<std::vector<std::string>>(std::move(ids)), 0);
  }

  void ask(const std::shared_ptr<std::vector<std::string>>& ids, std::size_t from) {
    if (from >= ids->size()) {
      asking_ = false;
      if (again_) {
        again_ = false;
        confirm();
      }
      return;
    }
    std::vector<std::string> args{"show"};
    const auto to = std::min(ids->size(), from + show_batch);
    args.insert(args.end(), ids->begin() + static_cast<std::ptrdiff_t>(from),
                ids->begin() + static_cast<std::ptrdiff_t>(to));
    args.emplace_back("--json");
    client_.async_run(std::move(args), [this, ids, to, alive = std::weak_ptr<int>(alive_)](
                                           error_code ec, const bd_result& r) {
      if (alive.expired()) {
        return;
      }
      // One warning until bd answers again: every write is a hint, and a
      // bd that is down would otherwise warn at each one.
      std::string failure;
      if (ec) {
        failure =
            "bd show: cannot start " + core::printable(settings_.program) + ": " + ec.message();
      } else if (r.timed_out) {
        failure = no_answer("bd show", settings_.timeout);
      } else if (r.exit_code != 0) {
        failure = "bd show failed: " + bd_message(r);
      } else {
        try {
          report(parse_bd_issues(r.out, "show"));
        } catch (const std::exception& e) {
          failure = e.what();
        }
      }
      if (failure.empty()) {
        failing_ = false;
      } else if (!failing_) {
        failing_ = true;
        warn(failure + "; the hint is dropped, the next one or the re-check asks again");
      }
      ask(ids, to);
    });
  }

  void report(const std::vector<core::task>& shown) {
    for (const auto& t : shown) {
      if (core::is_closed_status(t.status) && closed_.insert(t.id).second) {
        if (log::enabled(log::level::debug)) {
          log::write(log::level::debug, "bd: " + t.id + " is now " + t.status);
        }
        on_closed_(t.id);
      }
    }
  }

  bd_settings settings_;
  bd_client client_;
  std::unordered_set<std::string> closed_;
  task_source::interest_query interest_;
  task_source::closed_handler on_closed_;
  task_source::warning_handler on_warning_;
  std::optional<inotify_watcher> watcher_;
  std::unordered_map<std::string, file_stamp> stamps_;  // files under .beads/, as last seen
  asio::steady_timer debounce_;
  asio::steady_timer recheck_;
  bool armed_ = false;
  bool asking_ = false;
  bool again_ = false;
  bool failing_ = false;  // warned of a failed `bd show`; quiet until one succeeds
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace

bd_task_source::bd_task_source(asio::any_io_executor strand, bd_settings settings)
    : strand_(std::move(strand)), settings_(std::move(settings)) {}

std::vector<core::task> bd_task_source::load() {
  return load_beads(settings_);
}

std::optional<std::filesystem::path> bd_task_source::find_beads_dir(
    const std::filesystem::path& workdir, const std::vector<std::string>& environment) {
  error_code ec;
  if (const auto dir = env_value(environment, "BEADS_DIR"); !dir.empty()) {
    if (std::filesystem::is_directory(dir, ec)) {
      return std::filesystem::path(dir);
    }
    return std::nullopt;
  }
  auto here = std::filesystem::absolute(workdir, ec);
  if (ec) {
    return std::nullopt;
  }
  for (;;) {
    const auto candidate = here / ".beads";
    if (std::filesystem::is_directory(candidate, ec)) {
      return candidate;
    }
    if (!here.has_parent_path() || here.parent_path() == here) {
      return std::nullopt;
    }
    here = here.parent_path();
  }
}

std::unique_ptr<task_source::subscription> bd_task_source::watch(
    std::unordered_set<std::string> closed, interest_query interest, closed_handler on_closed,
    warning_handler on_warning) {
  auto w = std::make_unique<beads_watch>(strand_, settings_, std::move(closed), std::move(interest),
                                         std::move(on_closed), std::move(on_warning));
  w->start(find_beads_dir(settings_.workdir, settings_.environment));
  return w;
}

}  // namespace maestro
