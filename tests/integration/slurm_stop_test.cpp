// The order of the Slurm launcher's stops, which a real cluster does not
// let a test force: srun ends within milliseconds of a SIGTERM there, so
// the SIGKILL path and a dead run's jobs are shown with stand-ins for srun,
// squeue and scancel (shell scripts written by each case) that keep a
// queue in a file. The real binary runs them as it would run Slurm's.
// Everything else about the launcher runs against a real cluster in
// slurm_cli_test.cpp.

#include <filesystem>
#include <signal.h>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;

namespace {

struct stand_in_fixture : engine_fixture {
  stand_in_fixture() {
    // srun: registers a job (its pid as the id) under its --job-name,
    // ignores SIGTERM when told, and "runs" until scancel marks the job
    // cancelled; after `resumed` exists it completes at once.
    tool("srun", R"(#!/bin/bash
name=
for a in "$@"; do case $a in --job-name=*) name=${a#--job-name=} ;; esac; done
[ -e @STATE@/resumed ] && exit 0
echo "$$|$name" >>@STATE@/queue
[ -e @STATE@/ignore-term ] && trap '' TERM
while [ ! -e @STATE@/cancelled-$$ ]; do sleep 0.02; done
echo "srun $$ saw its job cancelled" >>@STATE@/order
touch @STATE@/seen-$$
# A real srun ends with its job; one that ignores SIGTERM here waits to be
# killed, as a hung one would.
[ -e @STATE@/ignore-term ] || exit 143
sleep 1000 &
wait
)");
    // squeue: the queue, whatever the filters.
    tool("squeue", "#!/bin/bash\ncat @STATE@/queue 2>/dev/null\nexit 0\n");
    // scancel: by id or --name, slowly; like Slurm's, it returns once its
    // job has seen the cancel (or after 5 s), so that a SIGKILL of srun
    // before scancel ended would leave the cancel unseen.
    tool("scancel", R"(#!/bin/bash
for a in "$@"; do
  case $a in
    --name=*) ids=$(grep "|${a#--name=}\$" @STATE@/queue | cut -d'|' -f1) ;;
    *) ids=$a ;;
  esac
  for id in $ids; do
    sleep 0.3
    echo "scancel $id" >>@STATE@/order
    touch @STATE@/cancelled-$id
    for _ in $(seq 250); do [ -e @STATE@/seen-$id ] && break; sleep 0.02; done
  done
done
)");
    tool("salloc", "#!/bin/bash\nexit 1\n");
  }

  // Writes the stand-in `name`, @STATE@ standing for the test's directory.
  void tool(const std::string& name, std::string text) const {
    for (auto at = text.find("@STATE@"); at != std::string::npos; at = text.find("@STATE@")) {
      text.replace(at, 7, dir.path().string());
    }
    fs::create_directories(dir.path() / "slurm");
    dir.write("slurm/" + name, text);
    fs::permissions(dir.path() / "slurm" / name, fs::perms::owner_all);
  }

  void stand_in_config(const std::string& extra = {}) const {
    config(R"("launcher": {"kind": "slurm", "srun": ")" + (dir.path() / "slurm" / "srun").string() +
           R"("}, "agent_defaults": {"command": ["/bin/true"], "timeout_s": 0.5})" +
           (extra.empty() ? "" : ", " + extra));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(slurm_stops, stand_in_fixture)

BOOST_AUTO_TEST_CASE(srun_is_killed_only_after_scancel_ended_its_job) {
  // srun ignores SIGTERM: after the grace period the engine cancels the job
  // and only then kills srun, which therefore sees the cancel.
  dir.write("ignore-term", "");
  stand_in_config();
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  const auto r = run({"execute", "--group-id", "g"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(result("g", "a").at("status") == "timed_out");
  const auto order = lines("order");
  BOOST_TEST_REQUIRE(order.size() == 2U, read_file(dir.path() / "order"));
  BOOST_TEST(order[0].starts_with("scancel "));
  BOOST_TEST(order[1].find("saw its job cancelled") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(resume_cancels_the_jobs_named_after_the_dead_run) {
  // The engine is killed while its job runs; resume cancels that job by the
  // dead run's nonce before running the task again.
  config(R"("launcher": {"kind": "slurm", "srun": ")" + (dir.path() / "slurm" / "srun").string() +
         R"("}, "agent_defaults": {"command": ["/bin/true"]})");
  tasks(R"([{"id":"a","title":"[P:Group-g] a"}])");
  auto engine = start({"execute", "--group-id", "g"});
  BOOST_TEST_REQUIRE(eventually([&] { return lines("queue").size() == 1U; }));
  const auto nonce = std::string(metadata("g").at("run_nonce").as_string());
  const auto job = lines("queue").front();
  BOOST_TEST(job.ends_with("|maestro-" + nonce + "-g-a"), job);
  engine.signal(SIGKILL);
  (void)engine.wait();
  dir.write("resumed", "");  // the next srun completes at once
  const auto r = run({"resume", "g"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto order = lines("order");
  BOOST_TEST_REQUIRE(!order.empty());
  BOOST_TEST(order[0] == "scancel " + job.substr(0, job.find('|')));
  BOOST_TEST(result("g", "a").at("status") == "completed");
}

BOOST_AUTO_TEST_SUITE_END()
