// `launcher.kind: slurm` on the real binary against a real one-node Slurm
// cluster on localhost, which CTest brings up before this program
// (tests/slurm/cluster.sh, a fixture) and tears down after it. Every case
// runs under both allocation modes: each agent a job of its own, and every
// agent a step of its group's allocation.
//
// When the cluster could not come up here (no root, no Slurm and no way to
// install it), every case is skipped, saying why; CTest reports the
// program as skipped, and CI fails on it.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Where CTest's fixture brought the cluster up (SLURM_CONF), or why not.
struct cluster_up {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id /*id*/) const {
    const char* conf = std::getenv("SLURM_CONF");
    if (conf == nullptr || *conf == '\0') {
      boost::test_tools::assertion_result r(false);
      r.message() << "SLURM_CONF is not set (run this program through CTest)";
      return r;
    }
    const auto skipped = fs::path(conf).parent_path() / "skipped";
    if (fs::exists(skipped)) {
      boost::test_tools::assertion_result r(false);
      r.message() << "no Slurm cluster here: " << read_file(skipped);
      return r;
    }
    if (!fs::exists(conf)) {
      boost::test_tools::assertion_result r(false);
      r.message() << "no Slurm cluster here: " << conf << " is missing";
      return r;
    }
    return true;
  }
};

struct slurm_fixture : engine_fixture {
  // `squeue` lines (`id|name|state`), for every job (or, with `steps`,
  // every step) on the cluster.
  [[nodiscard]] std::vector<std::string> squeue(bool steps = false) const {
    std::vector<std::string> argv{"squeue", "-h", "-o", "%i|%j|%T"};
    if (steps) {
      argv.emplace_back("-s");
    }
    const auto r = run_process(argv, dir.path());
    BOOST_TEST_REQUIRE(r.exit_code == 0, "squeue: " << r.err);
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < r.out.size()) {
      const auto nl = r.out.find('\n', at);
      out.push_back(r.out.substr(at, nl - at));
      at = nl == std::string::npos ? r.out.size() : nl + 1;
    }
    return out;
  }
  [[nodiscard]] bool queue_empty() const { return squeue().empty(); }
  // The cluster's queue empties (a cancelled job ends within its KillWait).
  [[nodiscard]] bool eventually_queue_empty() const {
    return eventually([&] { return queue_empty(); });
  }

  // The pids of the processes whose command line holds `text`.
  [[nodiscard]] static std::vector<int> processes_with(const std::string& text) {
    std::vector<int> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
      const auto name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      std::ifstream in(e.path() / "cmdline", std::ios::binary);
      const std::string cmdline((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
      if (cmdline.find(text) != std::string::npos && !process_gone(std::stoi(name))) {
        out.push_back(std::stoi(name));
      }
    }
    return out;
  }

  // maestro.json for the Slurm launcher in `mode` (and `launcher`'s
  // other members), agents running `steps` with `defaults` (members of
  // `agent_defaults`), and `extra` top-level members.
  void slurm_config(const std::string& mode, const std::vector<std::string>& steps,
                    const std::string& extra = {}, const std::string& defaults = {},
                    const std::string& launcher = {}) const {
    config(R"("launcher": {"kind": "slurm", "srun_args": ["--partition=local"], "allocation": ")" +
           mode + "\"" + (launcher.empty() ? "" : ", " + launcher) +
           R"(}, "agent_defaults": {"command": )" + agent(steps) +
           (defaults.empty() ? "" : ", " + defaults) + "}" + (extra.empty() ? "" : ", " + extra));
  }

  // Three tasks of group g.
  void three_tasks() const {
    tasks(R"([{"id":"a","title":"[P:Group-g] a"},{"id":"b","title":"[P:Group-g] b"},
              {"id":"c","title":"[P:Group-g] c"}])");
  }

  [[nodiscard]] std::string nonce(const std::string& group) const {
    return std::string(metadata(group).at("run_nonce").as_string());
  }

  // Once every task of g runs as a known job: what `status` shows.
  void wait_until_running(std::size_t count) const {
    BOOST_TEST_REQUIRE(eventually([&] {
      std::size_t placed = 0;
      const auto md = metadata("g");
      for (const auto& r : md.at("results").as_array()) {
        placed += r.at("status") == "running" && r.as_object().contains("job_id") ? 1U : 0U;
      }
      return placed == count;
    }));
  }

  // Every process that wrote its pid to `file` (fake_agent's `pgid` step)
  // is gone.
  void check_agents_gone(const std::string& file) const {
    for (const auto& line : lines(file)) {
      const int pid = std::stoi(line.substr(0, line.find(' ')));
      BOOST_TEST(eventually([&] { return process_gone(pid); }), "agent " << pid << " still runs");
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(slurm_cli, *boost::unit_test::precondition(cluster_up()))

// Each case as a function of the allocation mode, run under both.
#define SLURM_CASE(name)                                 \
  void name(slurm_fixture& f, const std::string& mode);  \
  BOOST_FIXTURE_TEST_CASE(name##_task, slurm_fixture) {  \
    name(*this, "task");                                 \
  }                                                      \
  BOOST_FIXTURE_TEST_CASE(name##_group, slurm_fixture) { \
    name(*this, "group");                                \
  }                                                      \
  void name(slurm_fixture& f, const std::string& mode)

SLURM_CASE(a_group_completes_and_each_task_ran_in_a_job) {
  f.slurm_config(
      mode, {"getenv", "SLURM_JOB_ID", (f.dir.path() / "jobs").string(), "getenv", "SLURM_JOB_NAME",
             (f.dir.path() / "names").string(), "env", (f.dir.path() / "env-{id}").string(),
             // long enough for the job ids to be looked up while they run
             "sleep", "1000"});
  f.three_tasks();
  const auto r = f.run({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto nonce = f.nonce("g");
  BOOST_TEST(nonce.size() == 12U);
  const auto jobs = f.lines("jobs");
  BOOST_TEST_REQUIRE(jobs.size() == 3U);
  std::set<std::string> ids;
  for (const auto& line : jobs) {
    const auto eq = line.find("SLURM_JOB_ID=");
    BOOST_TEST_REQUIRE(eq != std::string::npos, line);
    const auto id = line.substr(eq + 13);
    ids.insert(id);
    // The state records the job each task ran as.
    BOOST_TEST(f.result("g", line.substr(0, 1)).at("job_id") == id.c_str());
  }
  // One job per task, or one allocation for all.
  BOOST_TEST(ids.size() == (mode == "task" ? 3U : 1U));
  // Task mode: named after the run, the group and the task.
  if (mode == "task") {
    for (const auto& line : f.lines("names")) {
      const std::string id = line.substr(0, 1);
      std::string expected = id;
      expected += " SLURM_JOB_NAME=maestro-" + nonce + "-g-";
      BOOST_TEST(line == expected + id);
    }
  }
  // The engine's environment reached the job.
  BOOST_TEST(read_file(f.dir.path() / "env-a").find("MAESTRO_TASK_ID=a\n") != std::string::npos);
  BOOST_TEST(f.eventually_queue_empty());
}

SLURM_CASE(a_failing_task_s_exit_code_comes_back) {
  f.slurm_config(mode, {"attempt-exit", "1", "3", "raise", "9"});
  f.tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  (void)f.run({"execute", "--group-id", "g"});
  BOOST_TEST(f.result("g", "a").at("exit_code") == 3);
  BOOST_TEST(f.result("g", "a").at("status") == "failed");
  // A second task dies by SIGKILL: 128 + 9.
  f.slurm_config(mode, {"raise", "9"});
  f.tasks(R"([{"id":"b","title":"[P:Group-h] b"}])");
  const auto r = f.run({"execute", "--group-id", "h"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(f.result("h", "b").at("exit_code") == 137);
  BOOST_TEST(f.eventually_queue_empty());
}

SLURM_CASE(a_timeout_cancels_the_job) {
  // One agent that ends on SIGTERM, one that ignores it: srun's SIGTERM
  // cancels the first job; the second is cancelled with scancel before srun
  // is killed.
  const auto pids = (f.dir.path() / "pids").string();
  f.slurm_config(mode, {"pgid", pids, "hang"},
                 R"("agents": {"stubborn": {"command": )" +
                     f.agent({"pgid", pids, "ignore-term", "hang"}) + "}}",
                 R"("timeout_s": 1.5)");
  f.tasks(R"([{"id":"a","title":"[P:Group-g] a"},
              {"id":"b","title":"[P:Group-g] b","metadata":{"subagent_type":"stubborn"}}])");
  const auto r = f.run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(f.result("g", "a").at("status") == "timed_out");
  BOOST_TEST(f.result("g", "b").at("status") == "timed_out");
  BOOST_TEST(f.eventually_queue_empty());
  f.check_agents_gone("pids");
}

SLURM_CASE(sigint_leaves_no_job_and_no_process) {
  f.slurm_config(mode, {"pgid", (f.dir.path() / "pids").string(), "hang"});
  f.three_tasks();
  auto engine = f.start({"execute", "--group-id", "g"});
  f.wait_until_running(3);
  const auto nonce = f.nonce("g");
  BOOST_TEST(f.squeue().size() == (mode == "task" ? 3U : 1U));
  // `status` shows each running task's job.
  const auto shown = f.run({"status", "g"});
  BOOST_TEST(shown.out.find("running as cluster job ") != std::string::npos, shown.out);
  engine.signal(SIGINT);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 130, r.err);
  BOOST_TEST(f.metadata("g").at("status") == "cancelled");
  BOOST_TEST(f.eventually_queue_empty());
  f.check_agents_gone("pids");
  BOOST_TEST(f.processes_with("maestro-" + nonce).empty());  // no srun or salloc left
}

SLURM_CASE(sigkill_then_resume_leaves_no_job_and_finishes) {
  // The first attempt hangs; the one that resume starts completes.
  f.slurm_config(mode,
                 {"pgid", (f.dir.path() / "pids").string(), "attempt-exit", "2", "0", "hang"});
  f.three_tasks();
  auto engine = f.start({"execute", "--group-id", "g"});
  f.wait_until_running(3);
  const auto first = f.nonce("g");
  engine.signal(SIGKILL);
  (void)engine.wait();
  // What the engine started outlives it: its sruns, and their jobs.
  BOOST_TEST(!f.squeue().empty());
  const auto r = f.run({"resume", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(f.metadata("g").at("status") == "completed");
  BOOST_TEST(f.nonce("g") != first);
  BOOST_TEST(f.eventually_queue_empty());
  f.check_agents_gone("pids");
  BOOST_TEST(eventually([&] { return f.processes_with("maestro-" + first).empty(); }));
}

BOOST_FIXTURE_TEST_CASE(an_allocation_not_granted_in_time_fails_the_group, slurm_fixture) {
  // More slots than the cluster has: salloc waits, then the engine gives up.
  slurm_config("group", {"exit", "0"}, R"("max_concurrent": 1000)", {},
               R"("allocation_timeout_s": 1)");
  three_tasks();
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto md = metadata("g");
  BOOST_TEST(md.at("status") == "failed");
  BOOST_TEST(json::serialize(md.at("errors")).find("not granted within 1 s") != std::string::npos,
             json::serialize(md.at("errors")));
  BOOST_TEST(eventually_queue_empty());
}

BOOST_FIXTURE_TEST_CASE(sigint_while_the_allocation_waits_ends_the_group_at_once, slurm_fixture) {
  // The allocation cannot be granted; SIGINT must not wait for its time
  // limit, and the request leaves the queue.
  slurm_config("group", {"exit", "0"}, R"("max_concurrent": 1000)", {},
               R"("allocation_timeout_s": 120)");
  three_tasks();
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] {
    const auto queue = squeue();
    return queue.size() == 1U && queue[0].find("PENDING") != std::string::npos;
  }));
  engine.signal(SIGINT);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 130, r.err);
  BOOST_TEST(metadata("g").at("status") == "cancelled");
  BOOST_TEST(eventually_queue_empty());
}

BOOST_FIXTURE_TEST_CASE(a_missing_srun_is_a_configuration_error, slurm_fixture) {
  config(
      R"("launcher": {"kind": "slurm", "srun": "/nonexistent/srun"}, "agent_defaults": {"command": )" +
      agent({"exit", "0"}) + "}");
  three_tasks();
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("/nonexistent/srun is not found") != std::string::npos, r.err);
  BOOST_TEST(!fs::exists(group_path("g")));
}

BOOST_AUTO_TEST_SUITE_END()
