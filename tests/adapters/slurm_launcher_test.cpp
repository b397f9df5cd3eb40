// The Slurm launcher's parts that need no cluster: job names, salloc's
// answer, what it refuses before anything launches, and that the engine's
// own commands still run on this machine. The cluster itself is
// tests/integration/slurm_cli_test.cpp.

#include <filesystem>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/slurm_launcher.hpp>

#include "support/temp_dir.hpp"

using namespace maestro;

BOOST_AUTO_TEST_SUITE(slurm_launcher_suite)

BOOST_AUTO_TEST_CASE(job_names_carry_the_run_the_group_and_the_task) {
  BOOST_TEST(slurm_job_name("0123456789ab", "Group-A", "bd-a1.2") ==
             "maestro-0123456789ab-Group-A-bd-a1.2");
  BOOST_TEST(slurm_job_name("0123456789ab", "Group-A") == "maestro-0123456789ab-Group-A");
  // What squeue's lists or a shell would split on becomes `_`.
  BOOST_TEST(slurm_job_name("n", "g", "a b,c\"d'e/f") == "maestro-n-g-a_b_c_d_e_f");
}

BOOST_AUTO_TEST_CASE(salloc_s_grant_is_read_from_its_stderr) {
  BOOST_TEST(granted_allocation("salloc: Granted job allocation 1234\n") == "1234");
  BOOST_TEST(granted_allocation("salloc: Pending job allocation 7\n"
                                "salloc: job 7 queued and waiting for resources\n"
                                "salloc: job 7 has been allocated resources\n"
                                "salloc: Granted job allocation 7\n") == "7");
  BOOST_TEST(granted_allocation("salloc: error: Job submit/allocate failed\n").empty());
}

BOOST_AUTO_TEST_CASE(salloc_gets_srun_args_without_the_step_only_options) {
  const std::vector<std::string> srun_args{"--partition=gpu",
                                           "-A",
                                           "team",
                                           "--time=01:00:00",
                                           "-u",
                                           "--label",
                                           "--cpu-bind=cores",
                                           "--mpi",
                                           "pmix",
                                           "-o",
                                           "out.txt",
                                           "-eerr.txt",
                                           "--output=o.txt",
                                           "--exclusive",
                                           "-c",
                                           "4",
                                           "--kill-on-bad-exit=1"};
  // A left-out option's value goes with it (`--mpi pmix`, `-o out.txt`).
  const std::vector<std::string> expected{"--partition=gpu", "-A", "team", "--time=01:00:00",
                                          "--exclusive",     "-c", "4"};
  BOOST_TEST(allocation_args(srun_args) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_missing_srun_or_salloc_is_named_before_anything_launches) {
  boost::asio::io_context io;
  core::launcher_config config;
  config.kind = core::launcher_kind::slurm;
  config.srun = "/nonexistent/bin/srun";
  const slurm_launcher missing(io.get_executor(), config);
  const auto why = missing.unavailable();
  BOOST_TEST(why.find("/nonexistent/bin/srun is not found") != std::string::npos, why);
  BOOST_TEST(why.find("launcher.srun") != std::string::npos, why);
  // Group mode also needs salloc, looked up beside srun.
  const test::temp_dir dir;
  dir.write("srun", "#!/bin/sh\n");
  dir.write("squeue", "#!/bin/sh\n");
  dir.write("scancel", "#!/bin/sh\n");
  for (const auto* name : {"srun", "squeue", "scancel"}) {
    std::filesystem::permissions(dir.path() / name, std::filesystem::perms::owner_all);
  }
  config.srun = (dir.path() / "srun").string();
  BOOST_TEST(slurm_launcher(io.get_executor(), config).unavailable().empty());
  config.allocation = core::allocation_mode::group;
  const auto group_why = slurm_launcher(io.get_executor(), config).unavailable();
  BOOST_TEST(
      group_why.find((dir.path() / "salloc").string() + " is not found") != std::string::npos,
      group_why);
}

BOOST_AUTO_TEST_CASE(the_engine_s_own_commands_run_on_this_machine) {
  // srun is missing, and a command (not an agent) still runs.
  boost::asio::io_context io;
  core::launcher_config config;
  config.kind = core::launcher_kind::slurm;
  config.srun = "/nonexistent/bin/srun";
  slurm_launcher launcher(io.get_executor(), config);
  const test::temp_dir dir;
  launch_spec spec;
  spec.argv = {"/bin/sh", "-c", "exit 7"};
  spec.log_file = dir.path() / "command.log";
  spec.env = {"PATH=/usr/bin:/bin"};
  int code = -1;
  boost::system::error_code ec;
  (void)launcher.launch(
      spec, [&code](const exit_info& x) { code = x.exit_code; }, ec);
  BOOST_TEST_REQUIRE(!ec, ec.message());
  io.run();
  BOOST_TEST(code == 7);
  // An agent goes through srun, which is missing here.
  spec.role = child_role::agent;
  spec.group = {"n", "g", 1};
  spec.task_id = "a";
  (void)launcher.launch(
      spec, [](const exit_info&) {}, ec);
  BOOST_TEST((ec == boost::system::errc::no_such_file_or_directory), ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
