// `workspace: worktree` on the real binary, with real git in temporary
// repositories: a worktree per attempt, merges into the group's branch,
// the tested merge queue into the integration branch, and what the user's
// checkout must never see.

#include <algorithm>
#include <filesystem>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct repo_fixture : engine_fixture {
  repo_fixture() {
    (void)git({"init", "-q", "-b", "main"});
    (void)git({"config", "user.email", "user@example.com"});
    (void)git({"config", "user.name", "user"});
    dir.write("README", "base\n");
    dir.write("shared.txt", "base\n");
    // The engine's own files stay untracked (which the check allows).
    dir.write(".git/info/exclude", "maestro.json\ntasks.json\n*.out\n");
    (void)git({"add", "README", "shared.txt"});
    (void)git({"commit", "-q", "-m", "init"});
    initial = rev("main");
  }

  // `git ARGS...` in the repository; its stdout.
  [[nodiscard]] std::string git(std::vector<std::string> args, int expect = 0) const {
    args.insert(args.begin(), "git");
    const auto r = run_process(args, dir.path());
    BOOST_TEST_REQUIRE(r.exit_code == expect, "git " << args[1] << ": " << r.err);
    return r.out;
  }
  [[nodiscard]] std::string rev(const std::string& what) const {
    auto out = git({"rev-parse", what});
    while (!out.empty() && out.back() == '\n') {
      out.pop_back();
    }
    return out;
  }
  // A file as the integration branch holds it.
  [[nodiscard]] std::string integrated(const std::string& path) const {
    return git({"show", "maestro/integration:" + path});
  }
  // The paths of `git worktree list`, the main checkout first.
  [[nodiscard]] std::vector<std::string> worktree_paths() const {
    std::vector<std::string> out;
    const auto text = git({"worktree", "list", "--porcelain"});
    std::size_t at = 0;
    while ((at = text.find("worktree ", at)) != std::string::npos) {
      const auto end = text.find('\n', at);
      out.push_back(text.substr(at + 9, end - at - 9));
      at = end;
    }
    return out;
  }
  // What `status --json` lists as kept worktrees.
  [[nodiscard]] std::vector<std::string> status_worktrees(const std::string& group) const {
    const auto r = run({"status", "--group-id", group, "--json"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    std::vector<std::string> out;
    const auto shown = json::parse(r.out);
    for (const auto& w : shown.at("worktrees").as_array()) {
      out.emplace_back(w.at("path").as_string());
    }
    return out;
  }
  // The user's side is as it was: branch, working tree, worktrees.
  void check_user_checkout_untouched() const {
    BOOST_TEST(rev("main") == initial);
    BOOST_TEST(git({"symbolic-ref", "HEAD"}) == "refs/heads/main\n");
    BOOST_TEST(git({"status", "--porcelain"}) == "");
  }

  // A group's metadata.json under `sub/state`.
  [[nodiscard]] json::object metadata_in(const std::string& sub, const std::string& group) const {
    return json::parse(
               read_file(dir.path() / sub / "state" / "parallel_groups" / group / "metadata.json"))
        .as_object();
  }

  std::string initial;
};

std::string worktree_config(const std::string& agent_json, const std::string& extra = {}) {
  return R"("workspace": {"kind": "worktree"}, "agent_defaults": {"command": )" + agent_json + "}" +
         (extra.empty() ? "" : ", " + extra);
}

std::string error_of(const json::object& result) {
  const auto& e = result.at("error");
  return e.is_string() ? std::string(e.as_string()) : std::string();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(worktree_cli, repo_fixture)

BOOST_AUTO_TEST_CASE(four_tasks_reach_the_integration_branch_and_the_checkout_is_untouched) {
  config(worktree_config(agent({"write", "file-{id}.txt", "{id}", "env", "env-{id}.txt"})));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"},
            {"id":"c","title":"[P:Group-g] c"},{"id":"d","title":"[P:Group-g] d"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  for (const std::string id : {"a", "b", "c", "d"}) {
    BOOST_TEST(integrated("file-" + id + ".txt") == id + "\n");
    // It ran in its own worktree, which it was told of.
    const auto env = integrated("env-" + id + ".txt");
    const auto path = (fs::absolute(dir.path()) / "state" / "worktrees" / "g" / (id + ".1"))
                          .lexically_normal()
                          .string();
    BOOST_TEST(env.find("MAESTRO_WORKTREE=" + path + "\n") != std::string::npos, env);
    BOOST_TEST(!fs::exists(dir.path() / ("file-" + id + ".txt")));
    // Its attempt's branch and worktree are recorded in the state.
    const auto worktrees = result("g", id).at("worktrees").as_array();
    BOOST_TEST_REQUIRE(worktrees.size() == 1U);
    BOOST_TEST(worktrees[0].at("branch") == ("maestro/task/g/" + id + ".1").c_str());
    BOOST_TEST(worktrees[0].at("path") == path.c_str());
  }
  // Each task's work came in as a merge commit into the group's branch,
  // and the integration branch is the group's tested tip.
  BOOST_TEST(rev("maestro/integration") == rev("maestro/group/g"));
  const auto merges = git({"log", "--merges", "--format=%s", "maestro/integration"});
  BOOST_TEST(std::count(merges.begin(), merges.end(), '\n') == 4);
  BOOST_TEST(git({"log", "-1", "--format=%an <%ae>", "maestro/integration"}) ==
             "maestro-async <maestro-async@localhost>\n");
  check_user_checkout_untouched();
  BOOST_TEST(worktree_paths().size() == 1U);  // the completed attempts' are gone
  BOOST_TEST(status_worktrees("g").empty());
  BOOST_TEST(git({"branch", "--list", "maestro/task/*"}) == "");
  BOOST_TEST(r.err.find("git merge maestro/integration") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(two_tasks_on_one_line_one_merges_the_other_fails_naming_the_file) {
  config(worktree_config(agent({"put", "shared.txt", "{id}"})));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto a = result("g", "a");
  const auto b = result("g", "b");
  const bool a_won = a.at("status") == "completed";
  const auto& lost = a_won ? b : a;
  const std::string loser = a_won ? "b" : "a";
  BOOST_TEST((a_won ? b : a).at("status") == "failed");
  BOOST_TEST((a_won ? a : b).at("status") == "completed");
  BOOST_TEST(error_of(lost).find("merge conflict") != std::string::npos, error_of(lost));
  BOOST_TEST(error_of(lost).find("shared.txt") != std::string::npos, error_of(lost));
  // The group failed: nothing reached the integration branch; the group's
  // branch holds the winner's edit.
  BOOST_TEST(rev("maestro/integration") == initial);
  BOOST_TEST(git({"show", "maestro/group/g:shared.txt"}) == (a_won ? "a\n" : "b\n"));
  // The loser's worktree is kept (keep_failed), and status lists just it.
  const auto kept = status_worktrees("g");
  BOOST_TEST_REQUIRE(kept.size() == 1U);
  BOOST_TEST(fs::path(kept[0]).filename() == loser + ".1");
  auto listed = worktree_paths();
  BOOST_TEST_REQUIRE(listed.size() == 2U);
  BOOST_TEST(listed[1] == kept[0]);
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(without_keep_failed_a_failed_attempts_worktree_and_branch_go) {
  config(
      R"("workspace": {"kind": "worktree", "keep_failed": false}, "agent_defaults": {"command": )" +
      agent({"put", "shared.txt", "{id}"}) + "}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(status_worktrees("g").empty());
  BOOST_TEST(worktree_paths().size() == 1U);
  BOOST_TEST(git({"branch", "--list", "maestro/task/*"}) == "");
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_relative_agent_is_the_engines_and_runs_in_the_worktree) {
  // An untracked script: not in any worktree, found all the same.
  dir.write("agent.out.sh", "#!/bin/sh\npwd > where.txt\n");
  fs::permissions(dir.path() / "agent.out.sh", fs::perms::owner_all);
  config(worktree_config(R"(["./agent.out.sh", "{workdir}"])"));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto path =
      (fs::absolute(dir.path()) / "state" / "worktrees" / "g" / "a.1").lexically_normal().string();
  BOOST_TEST(integrated("where.txt") == path + "\n");
}

BOOST_AUTO_TEST_CASE(an_engine_in_a_subdirectory_runs_its_agents_there_in_each_worktree) {
  dir.write("pkg/lib.txt", "lib\n");
  (void)git({"add", "pkg/lib.txt"});
  (void)git({"commit", "-q", "-m", "pkg"});
  initial = rev("main");
  // The engine's files live in pkg/, and its children run in pkg/ of
  // their worktrees.
  dir.write("pkg/maestro.json",
            R"({"state_dir": "state", "test": {"command": ["test", "-f", "lib.txt"]},
                "workspace": {"kind": "worktree"}, "agent_defaults": {"command": )" +
                agent({"write", "made-here.txt", "{id}"}) + "}}");
  dir.write("pkg/tasks.json", R"([{"id":"a","title":"[P:Group-g] a"}])");
  dir.write(".git/info/exclude", "pkg/maestro.json\npkg/tasks.json\n");
  const auto r = run_process(command_line({"execute", "--group-id", "g"}), dir.path() / "pkg");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(integrated("pkg/made-here.txt") == "a\n");
  BOOST_TEST(metadata_in("pkg", "g").at("test_status") == "passed");
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_retry_starts_from_the_new_tip_and_succeeds) {
  config(worktree_config(agent({"put", "shared.txt", "{id}"}),
                         R"("retries": 1, "retry_backoff_s": 0)"));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto a = result("g", "a");
  const auto b = result("g", "b");
  BOOST_TEST(a.at("status") == "completed");
  BOOST_TEST(b.at("status") == "completed");
  // One of them conflicted once, and its second attempt, made from the tip
  // that holds the other's edit, merged.
  const auto retried = a.at("attempts").as_int64() == 2 ? std::string("a") : std::string("b");
  BOOST_TEST(a.at("attempts").as_int64() + b.at("attempts").as_int64() == 3);
  BOOST_TEST(integrated("shared.txt") == retried + "\n");
  const auto first_of_retried = git({"log", "--format=%s", "maestro/integration"});
  BOOST_TEST(first_of_retried.find("Merge maestro/task/g/" + retried + ".2") != std::string::npos,
             first_of_retried);
  // The conflicting attempt's worktree is kept; the rest are gone.
  const auto kept = status_worktrees("g");
  BOOST_TEST_REQUIRE(kept.size() == 1U);
  BOOST_TEST(fs::path(kept[0]).filename() == retried + ".1");
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_group_whose_tests_fail_on_the_merged_result_is_not_integrated) {
  // The test command runs in the test worktree, on the merged result.
  config(worktree_config(agent({"write", "bad-{id}.txt", "x"}),
                         R"("test": {"command": ["sh", "-c", "test ! -f bad-a.txt"]})"));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto md = metadata("g");
  BOOST_TEST(md.at("test_status") == "failed");
  BOOST_TEST(result("g", "a").at("status") == "completed");
  BOOST_TEST(rev("maestro/integration") == initial);
  BOOST_TEST(git({"show", "maestro/group/g:bad-a.txt"}) == "x\n");
  // The failed group's test worktree is kept for a look.
  const auto kept = status_worktrees("g");
  BOOST_TEST_REQUIRE(kept.size() == 1U);
  BOOST_TEST(fs::path(kept[0]).filename() == "_test");
  BOOST_TEST(fs::exists(fs::path(kept[0]) / "bad-a.txt"));
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_passing_group_is_tested_in_its_own_worktree_then_integrated) {
  config(worktree_config(agent({"write", "good-{id}.txt", "x"}),
                         R"("test": {"command": ["sh", "-c", "test -f good-a.txt"]})"));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(metadata("g").at("test_status") == "passed");
  BOOST_TEST(integrated("good-a.txt") == "x\n");
  BOOST_TEST(status_worktrees("g").empty());  // the test worktree went with the group's end
}

BOOST_AUTO_TEST_CASE(two_groups_that_conflict_at_integration_under_graph) {
  config(worktree_config(agent({"put", "shared.txt", "{group}"}), R"("schedule": "graph")"));
  tasks(R"([{"id":"x1","title":"[P:Group-x] x1"},{"id":"y1","title":"[P:Group-y] y1"}])");
  const auto r = run({"run"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto x = metadata("x");
  const auto y = metadata("y");
  const bool x_first = x.at("status") == "completed";
  const auto& second = x_first ? y : x;
  const std::string second_id = x_first ? "y" : "x";
  BOOST_TEST((x_first ? x : y).at("status") == "completed");
  BOOST_TEST(second.at("status") == "failed");
  const auto errors = json::serialize(second.at("errors"));
  BOOST_TEST(errors.find("shared.txt") != std::string::npos, errors);
  BOOST_TEST(errors.find("maestro/integration conflicts with") != std::string::npos, errors);
  BOOST_TEST(integrated("shared.txt") == (x_first ? "x\n" : "y\n"));
  // The second group's branch is kept, with its work.
  BOOST_TEST(git({"show", "maestro/group/" + second_id + ":shared.txt"}) == second_id + "\n");
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(groups_build_in_parallel_and_are_tested_one_at_a_time_under_graph) {
  // Each group's test phase stamps its start and end: the merge queue lets
  // one group test (and integrate) at a time, on top of the one before.
  const auto stamps = (fs::absolute(dir.path()) / "tests.out").string();
  config(
      worktree_config(agent({"write", "file-{id}.txt", "{id}"}),
                      R"("schedule": "graph", "test": {"command": ["sh", "-c", "echo start >> )" +
                          stamps + R"(; ls file-*.txt | tr '\n' ' ' >> )" + stamps + "; echo >> " +
                          stamps + "; sleep 0.3; echo end >> " + stamps + R"("]})"));
  tasks(R"([{"id":"x1","title":"[P:Group-x] x1"},{"id":"x2","title":"[P:Group-x] x2"},
            {"id":"y1","title":"[P:Group-y] y1"},{"id":"y2","title":"[P:Group-y] y2"}])");
  const auto r = run({"run"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto l = lines("tests.out");
  BOOST_TEST_REQUIRE(l.size() == 6U);
  BOOST_TEST(l[0] == "start");
  BOOST_TEST(l[2] == "end");
  BOOST_TEST(l[3] == "start");
  BOOST_TEST(l[5] == "end");
  // The second group was tested on top of the first: all four files.
  BOOST_TEST(l[4] == "file-x1.txt file-x2.txt file-y1.txt file-y2.txt ");
  for (const std::string id : {"x1", "x2", "y1", "y2"}) {
    BOOST_TEST(integrated("file-" + id + ".txt") == id + "\n");
  }
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_timeout_and_a_cancel_leave_no_lock_and_what_status_lists) {
  config(worktree_config(
      agent({"write", "file-{id}.txt", "{id}", "hang"}),
      R"("agents": {"slow": {"timeout_s": 0.5}}, "auto_detect": {"slow": ["slow"]})"));
  tasks(R"([{"id":"t","title":"[P:Group-g] slow t"},{"id":"c","title":"[P:Group-g] c"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] {
    try {
      return result("g", "t").at("status") == "timed_out" &&
             result("g", "c").at("status") == "running" && !result("g", "c").at("pid").is_null();
    } catch (const std::exception&) {
      return false;
    }
  }));
  const auto cancelled = run({"cancel", "--group-id", "g"});
  BOOST_TEST(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST(engine.wait().exit_code == 143);
  BOOST_TEST(result("g", "c").at("status") == "cancelled");
  auto listed = worktree_paths();
  listed.erase(listed.begin());
  const auto kept = status_worktrees("g");
  std::sort(listed.begin(), listed.end());
  BOOST_TEST(listed == kept, boost::test_tools::per_element());
  BOOST_TEST(kept.size() == 2U);
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / ".git")) {
    BOOST_TEST(entry.path().extension() != ".lock", entry.path());
  }
  BOOST_TEST(rev("maestro/integration") == initial);
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_dependent_stage_sees_its_prerequisites_files) {
  config(worktree_config(
      R"(["sh", "-c", "if [ \"$MAESTRO_TASK_ID\" = a ]; then echo from-a > a.txt; else cat a.txt > b-saw.txt; fi"])"));
  tasks(R"([{"id":"a","title":"[P:Group-p] a"},
            {"id":"b","title":"[P:Group-q] b","dependencies":["a"]}])");
  const auto r = run({"run"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(integrated("b-saw.txt") == "from-a\n");
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(sigint_then_resume_merges_nothing_twice) {
  // `slow` hangs on its first attempt; its attempt after the resume ends.
  config(R"("workspace": {"kind": "worktree"}, "default_agent": "fast",
            "auto_detect": {"slow": ["slow"]},
            "agents": {"fast": {"command": )" +
         agent({"write", "file-{id}.txt", "{id}"}) + R"(},
                       "slow": {"command": )" +
         agent({"write", "file-{id}.txt", "{id}", "attempt-exit", "2", "0", "hang"}) + "}}");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] slow b"},
            {"id":"c","title":"[P:Group-g] slow c"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] {
    try {
      return result("g", "a").at("status") == "completed" &&
             result("g", "b").at("status") == "running" &&
             result("g", "c").at("status") == "running" && !result("g", "b").at("pid").is_null() &&
             !result("g", "c").at("pid").is_null();
    } catch (const std::exception&) {
      return false;  // not written yet
    }
  }));
  engine.signal(SIGINT);
  BOOST_TEST(engine.wait().exit_code == 130);
  // What is on disk is what status lists: the stopped attempts' worktrees.
  auto listed = worktree_paths();
  listed.erase(listed.begin());
  auto kept = status_worktrees("g");
  std::sort(listed.begin(), listed.end());
  BOOST_TEST(listed == kept, boost::test_tools::per_element());
  BOOST_TEST(kept.size() == 2U);
  check_user_checkout_untouched();

  const auto r = run({"resume", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  for (const std::string id : {"a", "b", "c"}) {
    BOOST_TEST(integrated("file-" + id + ".txt") == id + "\n");
  }
  // a merged once (before the SIGINT), b and c once each (their second
  // attempts): three merges in all.
  const auto merges = git({"log", "--merges", "--format=%s", "maestro/integration"});
  BOOST_TEST(std::count(merges.begin(), merges.end(), '\n') == 3, merges);
  BOOST_TEST(merges.find("maestro/task/g/a.1") != std::string::npos, merges);
  BOOST_TEST(merges.find("maestro/task/g/b.2") != std::string::npos, merges);
  BOOST_TEST(merges.find("maestro/task/g/c.2") != std::string::npos, merges);
  // The stopped attempts' worktrees are still kept, and still listed.
  listed = worktree_paths();
  listed.erase(listed.begin());
  kept = status_worktrees("g");
  std::sort(listed.begin(), listed.end());
  BOOST_TEST(listed == kept, boost::test_tools::per_element());
  // No git lock is left behind anywhere.
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / ".git")) {
    BOOST_TEST(entry.path().extension() != ".lock", entry.path());
  }
  check_user_checkout_untouched();
}

BOOST_AUTO_TEST_CASE(a_modified_tracked_file_is_refused_with_nothing_created) {
  config(worktree_config(agent({"exit", "0"})));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  dir.write("shared.txt", "changed\n");
  for (const auto* command : {"execute", "run"}) {
    std::vector<std::string> args{command};
    if (std::string(command) == "execute") {
      args.insert(args.end(), {"--group-id", "g"});
    }
    const auto r = run(args);
    BOOST_TEST(r.exit_code == 2, r.err);
    BOOST_TEST(r.err.find("shared.txt") != std::string::npos, r.err);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  }
  BOOST_TEST(!fs::exists(dir.path() / "state"));
  BOOST_TEST(git({"branch", "--list", "maestro/*"}) == "");
  BOOST_TEST(worktree_paths().size() == 1U);
}

BOOST_AUTO_TEST_CASE(outside_a_repository_is_refused) {
  fs::remove_all(dir.path() / ".git");
  config(worktree_config(agent({"exit", "0"})));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 2, r.err);
  BOOST_TEST(r.err.find("not inside a git repository") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(ids_git_refuses_in_branch_names_get_valid_unique_branches) {
  config(worktree_config(agent({"write", "file-{id}.txt", "{id}"}), R"("retries": 0)"));
  tasks(R"([{"id":"a..b","title":"[P:Group-g] one"},{"id":"x~1","title":"[P:Group-g] two"},
            {"id":"sp ace","title":"[P:Group-g] three"},{"id":"-x","title":"[P:Group-g] four"},
            {"id":"e.lock","title":"[P:Group-g] five"},{"id":"a.b","title":"[P:Group-g] six"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  std::vector<std::string> branches;
  for (const std::string id : {"a..b", "x~1", "sp ace", "-x", "e.lock", "a.b"}) {
    BOOST_TEST(integrated("file-" + id + ".txt") == id + "\n");
    const auto w = result("g", id).at("worktrees").as_array();
    BOOST_TEST_REQUIRE(w.size() == 1U);
    const std::string branch(w[0].at("branch").as_string());
    (void)git({"check-ref-format", "--branch", branch});
    branches.push_back(branch);
  }
  std::sort(branches.begin(), branches.end());
  BOOST_TEST((std::adjacent_find(branches.begin(), branches.end()) == branches.end()));
}

BOOST_AUTO_TEST_CASE(dry_run_says_where_each_task_would_run) {
  config(worktree_config(agent({"exit", "0"})));
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const auto r = run({"execute", "--group-id", "g", "--dry-run"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto path =
      (fs::absolute(dir.path()) / "state" / "worktrees" / "g" / "a.1").lexically_normal().string();
  BOOST_TEST(
      r.out.find("in the worktree " + path + " (branch maestro/task/g/a.1)") != std::string::npos,
      r.out);
  BOOST_TEST(!fs::exists(dir.path() / "state"));
  BOOST_TEST(git({"branch", "--list", "maestro/*"}) == "");
}

BOOST_AUTO_TEST_SUITE_END()
