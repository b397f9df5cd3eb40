#include <algorithm>
#include <charconv>
#include <memory>
#include <signal.h>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/system_error.hpp>

#include <maestro/adapters/workspace_adapters.hpp>
#include <maestro/core/names.hpp>

#include "../process/captured_child.hpp"

namespace maestro {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// What goes wrong with the repository: the message is the whole error.
struct workspace_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<std::string> split_nul(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\0', start), text.size());
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// git's message: its first line that says something.
std::string first_line(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    auto line = trimmed(std::string(text.substr(start, end - start)));
    if (!line.empty()) {
      return core::printable(line);
    }
    start = end + 1;
  }
  return "no message";
}

// Up to ten names, then how many more.
std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(names.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) {
    out += (i == 0 ? "" : ", ") + core::printable(names[i]);
  }
  if (names.size() > shown) {
    out += " and " + std::to_string(names.size() - shown) + " more";
  }
  return out;
}

// The text after the first `n` spaces of `record`.
std::string after_fields(const std::string& record, int n) {
  std::size_t at = 0;
  for (int k = 0; k < n && at != std::string::npos; ++k) {
    at = record.find(' ', at);
    if (at != std::string::npos) {
      ++at;
    }
  }
  return at == std::string::npos ? std::string{} : record.substr(at);
}

// The tracked paths `git status --porcelain=v2 -z` reports as changed
// (staged, modified, renamed, or unmerged).
std::vector<std::string> changed_tracked_paths(std::string_view out) {
  std::vector<std::string> paths;
  const auto fields = split_nul(out);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    if (f.empty()) {
      continue;
    }
    switch (f.front()) {
      case '1':  // 1 XY sub mH mI mW hH hI path
        paths.push_back(after_fields(f, 8));
        break;
      case '2':  // 2 XY sub mH mI mW hH hI Xscore path, then the original path
        paths.push_back(after_fields(f, 9));
        ++i;
        break;
      case 'u':  // u XY sub m1 m2 m3 mW h1 h2 h3 path
        paths.push_back(after_fields(f, 10));
        break;
      default:  // # headers, ? untracked, ! ignored
        break;
    }
  }
  return paths;
}

// A command's arguments. (Not a braced list at the call: GCC 12 rejects
// one of string literals inside a co_await expression.)
template <class... Args>
std::vector<std::string> argv_of(Args&&... args) {
  return {std::string(std::forward<Args>(args))...};
}

// Whether `git version` printed version `major`.`minor` or later.
bool at_least(std::string_view version_line, int major, int minor) {
  constexpr std::string_view lead = "git version ";
  if (!version_line.starts_with(lead)) {
    return false;
  }
  version_line.remove_prefix(lead.size());
  int got[2] = {0, 0};
  for (int& part : got) {
    const auto* end = version_line.data() + version_line.size();
    const auto [next, ec] = std::from_chars(version_line.data(), end, part);
    if (ec != std::errc{}) {
      return false;
    }
    version_line.remove_prefix(static_cast<std::size_t>(next - version_line.data()));
    if (version_line.starts_with('.')) {
      version_line.remove_prefix(1);
    }
  }
  return got[0] > major || (got[0] == major && got[1] >= minor);
}

std::string error_text(const std::exception_ptr& e) {
  if (!e) {
    return {};
  }
  try {
    std::rethrow_exception(e);
  } catch (const workspace_failure& failure) {
    return failure.what();
  } catch (const boost::system::system_error& error) {
    return std::string("cannot run git: ") + error.code().message();
  } catch (const std::exception& other) {
    return std::string("workspace: ") + other.what();
  }
}

// What every git command gets: no hooks, no signing, no automatic gc or
// maintenance (a background process that would outlive the command and
// hold locks), no fsmonitor daemon.
const std::vector<std::string>& git_settings() {
  static const std::vector<std::string> settings{
      "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false",
      "-c", "tag.gpgSign=false",        "-c", "gc.auto=0",
      "-c", "maintenance.auto=false",   "-c", "core.fsmonitor=false"};
  return settings;
}

}  // namespace

// --- layout -------------------------------------------------------------------

fs::path worktree_layout::group_dir(const std::string& group_id) const {
  return root() / core::group_dir_name(group_id);
}

fs::path worktree_layout::attempt_dir(const attempt_ref& a) const {
  return group_dir(a.group_id) /
         (core::encode_file_name(a.task_id, true) + "." + std::to_string(a.attempt));
}

fs::path worktree_layout::test_dir(const std::string& group_id) const {
  return group_dir(group_id) / "_test";
}

std::string worktree_layout::group_branch(const std::string& group_id) {
  return "maestro/group/" + core::encode_ref_component(group_id);
}

std::string worktree_layout::attempt_branch(const attempt_ref& a) {
  return "maestro/task/" + core::encode_ref_component(a.group_id) + "/" +
         core::encode_ref_component(a.task_id) + "." + std::to_string(a.attempt);
}

boost::json::array worktree_layout::kept_json(const std::string& group_id) const {
  boost::json::array out;
  for (const auto& w : kept(group_id)) {
    out.push_back(boost::json::object{
        {"task_id",
         w.task_id.empty() ? boost::json::value(nullptr) : boost::json::value(w.task_id)},
        {"attempt", w.attempt},
        {"path", w.path.string()},
        {"branch", w.branch.empty() ? boost::json::value(nullptr) : boost::json::value(w.branch)}});
  }
  return out;
}

std::vector<kept_worktree> worktree_layout::kept(const std::string& group_id) const {
  std::vector<kept_worktree> out;
  std::error_code ec;
  for (fs::directory_iterator it(group_dir(group_id), ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name == "_test") {
      out.push_back({{}, 0, it->path(), {}});
      continue;
    }
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || dot + 1 == name.size() ||
        name.find_first_not_of("0123456789", dot + 1) != std::string::npos) {
      continue;
    }
    const auto id = core::decode_file_name(name.substr(0, dot));
    if (!id) {
      continue;
    }
    const auto attempt = static_cast<std::uint32_t>(std::stoul(name.substr(dot + 1)));
    out.push_back({*id, attempt, it->path(), attempt_branch({group_id, *id, {}, attempt})});
  }
  std::sort(out.begin(), out.end(),
            [](const kept_worktree& a, const kept_worktree& b) { return a.path < b.path; });
  return out;
}

// --- the adapter ----------------------------------------------------------------

git_worktree_workspace::git_worktree_workspace(asio::any_io_executor executor, fs::path workdir,
                                               const fs::path& state_dir,
                                               core::workspace_config config,
                                               const std::vector<std::string>& environment,
                                               std::chrono::milliseconds git_timeout)
    : executor_(std::move(executor)),
      workdir_(std::move(workdir)),
      layout_{fs::absolute(state_dir).lexically_normal(), config.branch},
      config_(std::move(config)),
      git_timeout_(git_timeout) {
  // Without the engine's GIT_* variables (GIT_DIR or GIT_INDEX_FILE, set
  // by a hook that runs the engine, would point every command elsewhere),
  // and with the engine's own identity for what it commits.
  for (const auto& entry : environment) {
    if (!entry.starts_with("GIT_")) {
      environment_.push_back(entry);
    }
  }
  for (const char* entry :
       {"GIT_AUTHOR_NAME=maestro-async", "GIT_AUTHOR_EMAIL=maestro-async@localhost",
        "GIT_COMMITTER_NAME=maestro-async", "GIT_COMMITTER_EMAIL=maestro-async@localhost",
        "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0"}) {
    environment_.emplace_back(entry);
  }
}

git_worktree_workspace::~git_worktree_workspace() {
  for (const int pgid : *running_) {
    ::kill(-pgid, SIGKILL);
  }
}

asio::awaitable<git_worktree_workspace::git_result> git_worktree_workspace::git(
    std::vector<std::string> args, const fs::path& dir) {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), git_settings().begin(), git_settings().end());
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  auto output =
      co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                    void(boost::system::error_code, detail::captured_output)>(
          [&](auto handler) {
            // The port's handlers are copyable; the coroutine's is not.
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            detail::run_captured(
                executor_, argv, dir, environment_, git_timeout_, running_,
                [shared](boost::system::error_code ec, detail::captured_output out) {
                  (*shared)(ec, std::move(out));
                });
          },
          asio::use_awaitable);
  if (output.timed_out) {
    throw workspace_failure("git " + core::printable(argv[git_settings().size() + 1]) +
                            " timed out after " + std::to_string(git_timeout_.count() / 1000) +
                            " s");
  }
  co_return git_result{output.exit_code, std::move(output.out), std::move(output.err)};
}

asio::awaitable<std::string> git_worktree_workspace::must(std::vector<std::string> args,
                                                          const fs::path& dir,
                                                          const std::string& what) {
  auto r = co_await git(std::move(args), dir);
  if (r.code != 0) {
    throw workspace_failure(what + ": " + first_line(r.err.empty() ? r.out : r.err));
  }
  co_return std::move(r.out);
}

asio::awaitable<std::string> git_worktree_workspace::tip(const std::string& ref) {
  auto r = co_await git(argv_of("rev-parse", "--verify", "--quiet", ref + "^{commit}"), workdir_);
  if (r.code != 0) {
    co_return std::string{};
  }
  co_return trimmed(std::move(r.out));
}

asio::awaitable<bool> git_worktree_workspace::is_ancestor(const std::string& a,
                                                          const std::string& b) {
  const auto r = co_await git(argv_of("merge-base", "--is-ancestor", a, b), workdir_);
  if (r.code > 1) {
    throw workspace_failure("git merge-base: " + first_line(r.err));
  }
  co_return r.code == 0;
}

asio::awaitable<std::string> git_worktree_workspace::merge(const std::string& ours,
                                                           const std::string& theirs,
                                                           const std::string& message,
                                                           const std::string& conflict_prefix) {
  // A merge with no worktree and no index: the user's checkout is not
  // touched, and a conflict leaves nothing behind to abort.
  const auto r = co_await git(
      argv_of("merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", ours, theirs),
      workdir_);
  auto fields = split_nul(r.out);
  if (r.code == 1) {
    std::vector<std::string> files;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (!fields[i].empty() && std::find(files.begin(), files.end(), fields[i]) == files.end()) {
        files.push_back(fields[i]);
      }
    }
    throw workspace_failure(conflict_prefix + name_list(files));
  }
  if (r.code != 0 || fields.empty()) {
    throw workspace_failure("git merge-tree: " + first_line(r.err));
  }
  co_return trimmed(
      co_await must(argv_of("commit-tree", fields.front(), "-p", ours, "-p", theirs, "-m", message),
                    workdir_, "cannot commit the merge"));
}

asio::awaitable<void> git_worktree_workspace::remove_worktree(const fs::path& dir,
                                                              const std::string& branch) {
  if (fs::exists(dir)) {
    // Twice forced: a worktree whose `git worktree add` was killed keeps
    // its "initializing" lock. Only called once no attempt can run there.
    const auto r =
        co_await git(argv_of("worktree", "remove", "--force", "--force", dir.string()), workdir_);
    if (r.code != 0 && fs::exists(dir)) {
      throw workspace_failure("cannot remove the worktree " + core::printable(dir.string()) + ": " +
                              first_line(r.err));
    }
  }
  if (!branch.empty()) {
    (void)co_await git(argv_of("update-ref", "-d", "refs/heads/" + branch), workdir_);
  }
}

asio::awaitable<void> git_worktree_workspace::ready_integration_branch() {
  const auto ref = "refs/heads/" + config_.branch;
  if (!(co_await tip(ref)).empty()) {
    co_return;
  }
  const auto base = co_await tip(config_.base);
  if (base.empty()) {
    throw workspace_failure("workspace.base " + core::printable(config_.base) +
                            " is not a commit of the repository");
  }
  // "" as the old value: made only if it does not exist yet.
  (void)co_await must(
      argv_of("update-ref", "-m", "maestro-async: integration branch", ref, base, ""), workdir_,
      "cannot create the branch " + config_.branch);
}

// --- one operation at a time -----------------------------------------------------

asio::awaitable<void> git_worktree_workspace::acquire() {
  if (!busy_) {
    busy_ = true;
    co_return;
  }
  auto wake =
      std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
  waiting_.push_back(wake);
  co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
  // `release` handed the turn over: busy_ stays true.
}

void git_worktree_workspace::release() {
  if (waiting_.empty()) {
    busy_ = false;
    return;
  }
  const auto next = waiting_.front();
  waiting_.pop_front();
  next->cancel();
}

template <class Op>
auto git_worktree_workspace::in_turn(Op work) -> decltype(work()) {
  // `work` lives in this frame while its coroutine runs.
  co_await acquire();
  try {
    if constexpr (std::is_void_v<typename decltype(work())::value_type>) {
      co_await work();
      release();
    } else {
      auto result = co_await work();
      release();
      co_return result;
    }
  } catch (...) {
    release();
    throw;
  }
}

template <class Op, class Done>
void git_worktree_workspace::start(Op op, Done done) {
  // co_spawn posts the start: the handler never runs before this returns.
  asio::co_spawn(executor_, in_turn(std::move(op)), std::move(done));
}

// --- the port -------------------------------------------------------------------

void git_worktree_workspace::async_check(done_handler done) {
  start(
      [this]() -> asio::awaitable<void> {
        // Merges without a worktree need `git merge-tree --write-tree`.
        const auto version = co_await git(argv_of("version"), workdir_);
        if (version.code != 0 || !at_least(version.out, 2, 38)) {
          throw workspace_failure(
              "workspace.kind \"worktree\" needs git 2.38 or later (" +
              (version.code == 0 ? first_line(version.out) : std::string("git not found")) + ")");
        }
        const auto top = co_await git(argv_of("rev-parse", "--show-toplevel"), workdir_);
        if (top.code != 0) {
          throw workspace_failure("workspace.kind is \"worktree\", but " +
                                  core::printable(workdir_.string()) +
                                  " is not inside a git repository");
        }
        // Where the engine runs within the repository: children run at the
        // same place within their worktrees.
        prefix_ = trimmed(
            co_await must(argv_of("rev-parse", "--show-prefix"), workdir_, "cannot read git"));
        const auto status =
            co_await must(argv_of("status", "--porcelain=v2", "-z", "--untracked-files=no",
                                  "--ignore-submodules=none"),
                          workdir_, "cannot read the checkout's status");
        if (const auto changed = changed_tracked_paths(status); !changed.empty()) {
          throw workspace_failure("workspace \"worktree\": tracked files are modified in " +
                                  core::printable(trimmed(top.out)) + ": " + name_list(changed) +
                                  " (commit or stash them first; untracked files are not checked)");
        }
        bool base_ok = !config_.base.starts_with('-');
        if (base_ok) {
          base_ok = !(co_await tip(config_.base)).empty();
        }
        if (!base_ok) {
          if ((co_await tip("refs/heads/" + config_.branch)).empty()) {
            throw workspace_failure("workspace.base " + core::printable(config_.base) +
                                    " is not a commit of the repository");
          }
        }
      },
      [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

void git_worktree_workspace::async_open_group(const std::string& group_id, bool fresh,
                                              done_handler done) {
  start(
      [this, group_id, fresh]() -> asio::awaitable<void> {
        co_await ready_integration_branch();
        if (fresh) {
          // What an earlier run of the group kept: its engine is gone (the
          // group's lock is ours) and its leftovers were ended.
          const auto list = co_await must(argv_of("worktree", "list", "--porcelain", "-z"),
                                          workdir_, "cannot list the worktrees");
          // git may show a path with its symlinks resolved: compared so.
          std::error_code ec;
          const auto mine = fs::weakly_canonical(layout_.group_dir(group_id), ec).string() + "/";
          std::string path;
          for (const auto& field : split_nul(list)) {
            if (field.starts_with("worktree ")) {
              path = fs::weakly_canonical(field.substr(9), ec).string();
              if (!path.starts_with(mine)) {
                path.clear();
              }
            } else if (!path.empty() && field.empty()) {
              co_await remove_worktree(path, {});  // detached: the test phase's
              path.clear();
            } else if (!path.empty() && field.starts_with("branch refs/heads/")) {
              co_await remove_worktree(path, field.substr(18));
              path.clear();
            }
          }
        }
        const auto integration = co_await tip("refs/heads/" + config_.branch);
        const auto branch = worktree_layout::group_branch(group_id);
        const auto ref = "refs/heads/" + branch;
        const auto group_tip = co_await tip(ref);
        if (group_tip.empty()) {
          (void)co_await must(
              argv_of("update-ref", "-m", "maestro-async: group branch", ref, integration, ""),
              workdir_, "cannot create the branch " + branch);
        } else if (!co_await is_ancestor(integration, group_tip)) {
          // Made by an earlier run: brought up to the integration tip, so
          // that it holds what the stages before it integrated since.
          const auto merged = co_await merge(
              group_tip, integration, "maestro-async: merge " + config_.branch + " into " + branch,
              "the branch " + branch + " (from an earlier run) conflicts with " + config_.branch +
                  " in: ");
          (void)co_await must(
              argv_of("update-ref", "-m", "maestro-async: merge", ref, merged, group_tip), workdir_,
              "cannot move the branch " + branch);
        }
      },
      [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

void git_worktree_workspace::async_prepare(const attempt_ref& a, dir_handler done) {
  start(
      [this, a]() -> asio::awaitable<workspace_dir> {
        const auto dir = layout_.attempt_dir(a);
        const auto branch = worktree_layout::attempt_branch(a);
        if (fs::exists(dir)) {
          throw workspace_failure("the worktree " + core::printable(dir.string()) +
                                  " exists already (an earlier attempt's: it is never reused)");
        }
        const auto group_tip =
            co_await tip("refs/heads/" + worktree_layout::group_branch(a.group_id));
        if (group_tip.empty()) {
          throw workspace_failure("the branch " + worktree_layout::group_branch(a.group_id) +
                                  " does not exist");
        }
        (void)co_await must(
            argv_of("worktree", "add", "--quiet", "--force", "-B", branch, dir.string(), group_tip),
            workdir_, "cannot create the worktree " + core::printable(dir.string()));
        started_from_[branch] = group_tip;
        co_return workspace_dir{within(dir), branch};
      },
      [done = std::move(done)](const std::exception_ptr& e, workspace_dir where) {
        done(e ? workspace_dir{} : std::move(where), error_text(e));
      });
}

void git_worktree_workspace::async_integrate(const attempt_ref& a, done_handler done) {
  start(
      [this, a]() -> asio::awaitable<void> {
        const auto dir = layout_.attempt_dir(a);
        const auto branch = worktree_layout::attempt_branch(a);
        if (!fs::exists(dir)) {
          throw workspace_failure("the worktree " + core::printable(dir.string()) + " is gone");
        }
        // What the agent left uncommitted, committed as the engine.
        const auto left =
            co_await must(argv_of("status", "--porcelain=v2", "-z", "--untracked-files=all"), dir,
                          "cannot read the worktree's status");
        if (!trimmed(left).empty()) {
          (void)co_await must(argv_of("add", "--all"), dir, "cannot stage the attempt's work");
          std::string message = a.task_id;
          if (!a.title.empty()) {
            message += ": " + a.title;
          }
          (void)co_await must(
              argv_of("commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message), dir,
              "cannot commit the attempt's work");
        }
        const auto head = trimmed(co_await must(argv_of("rev-parse", "--verify", "HEAD"), dir,
                                                "cannot read the worktree's HEAD"));
        const auto group_branch = worktree_layout::group_branch(a.group_id);
        const auto ref = "refs/heads/" + group_branch;
        const auto group_tip = co_await tip(ref);
        const auto from = started_from_.find(branch);
        // (No co_await inside || or ?: here: GCC 12 destroys the
        // temporaries of such an expression twice in a coroutine.)
        bool nothing_new = from != started_from_.end() && from->second == head;
        if (!nothing_new) {
          nothing_new = co_await is_ancestor(head, group_tip);
        }
        if (!nothing_new) {
          std::string message = "Merge " + branch;
          if (!a.title.empty()) {
            message += ": " + a.title;
          }
          const auto merged =
              co_await merge(group_tip, head, message, "merge conflict in " + group_branch + ": ");
          (void)co_await must(
              argv_of("update-ref", "-m", "maestro-async: merge " + branch, ref, merged, group_tip),
              workdir_, "cannot move the branch " + group_branch);
        }
        started_from_.erase(branch);
        co_await remove_worktree(dir, branch);
      },
      [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

void git_worktree_workspace::async_discard(const attempt_ref& a, done_handler done) {
  start(
      [this, a]() -> asio::awaitable<void> {
        const auto branch = worktree_layout::attempt_branch(a);
        started_from_.erase(branch);
        if (!config_.keep_failed) {
          co_await remove_worktree(layout_.attempt_dir(a), branch);
        }
      },
      [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

void git_worktree_workspace::async_prepare_tests(const std::string& group_id, dir_handler done) {
  start(
      [this, group_id]() -> asio::awaitable<workspace_dir> {
        const auto branch = worktree_layout::group_branch(group_id);
        const auto ref = "refs/heads/" + branch;
        const auto group_tip = co_await tip(ref);
        const auto integration = co_await tip("refs/heads/" + config_.branch);
        if (group_tip.empty() || integration.empty()) {
          throw workspace_failure("the branch " + (group_tip.empty() ? branch : config_.branch) +
                                  " does not exist");
        }
        auto merged = group_tip;
        if (!co_await is_ancestor(integration, group_tip)) {
          merged = co_await merge(group_tip, integration,
                                  "maestro-async: merge " + config_.branch + " into " + branch,
                                  config_.branch + " conflicts with " + branch + " in: ");
          (void)co_await must(
              argv_of("update-ref", "-m", "maestro-async: merge", ref, merged, group_tip), workdir_,
              "cannot move the branch " + branch);
        }
        const auto dir = layout_.test_dir(group_id);
        co_await remove_worktree(dir, {});  // an earlier test phase's
        (void)co_await must(
            argv_of("worktree", "add", "--quiet", "--force", "--detach", dir.string(), merged),
            workdir_, "cannot create the worktree " + core::printable(dir.string()));
        tested_[group_id] = {merged, integration};
        co_return workspace_dir{within(dir), {}};
      },
      [done = std::move(done)](const std::exception_ptr& e, workspace_dir where) {
        done(e ? workspace_dir{} : std::move(where), error_text(e));
      });
}

void git_worktree_workspace::async_integrate_group(const std::string& group_id, done_handler done) {
  start(
      [this, group_id]() -> asio::awaitable<void> {
        const auto found = tested_.find(group_id);
        if (found == tested_.end()) {
          throw workspace_failure("group " + core::printable(group_id) +
                                  " has no tested state to integrate");
        }
        const auto [commit, integration] = found->second;
        if (commit != integration) {
          // A compare-and-swap: refused when the branch moved since the
          // test phase began (another engine's group, say).
          (void)co_await must(argv_of("update-ref", "-m", "maestro-async: integrate " + group_id,
                                      "refs/heads/" + config_.branch, commit, integration),
                              workdir_,
                              config_.branch + " moved while group " + core::printable(group_id) +
                                  " was tested; run the group again");
        }
      },
      [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

void git_worktree_workspace::async_close_group(const std::string& group_id, bool completed,
                                               done_handler done) {
  start(
      [this, group_id, completed]() -> asio::awaitable<void> {
        tested_.erase(group_id);
        if (completed || !config_.keep_failed) {
          co_await remove_worktree(layout_.test_dir(group_id), {});
        }
        std::error_code ignored;
        fs::remove(layout_.group_dir(group_id), ignored);  // only when empty
      },
      [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

fs::path git_worktree_workspace::within(const fs::path& worktree) const {
  if (prefix_.empty()) {
    return worktree;
  }
  auto dir = (worktree / prefix_).lexically_normal();
  std::error_code ignored;
  fs::create_directories(dir, ignored);  // a directory with no tracked file
  return dir;
}

void git_worktree_workspace::async_drain(done_handler done) {
  start([]() -> asio::awaitable<void> { co_return; },
        [done = std::move(done)](const std::exception_ptr& e) { done(error_text(e)); });
}

}  // namespace maestro
