#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/adapters/config_file.hpp>
#include <maestro/core/config.hpp>
#include <maestro/core/input_error.hpp>

namespace {

using maestro::load_config;
using maestro::parse_config;
using maestro::core::config_error;
using strings = std::vector<std::string>;

/// The message of the `config_error` that parsing `json` throws, or an empty
/// string when it parses.
std::string error_of(std::string_view json) {
  try {
    static_cast<void>(parse_config(json, "maestro.json"));
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}

/// Checks that `json` is rejected with a one-line message, prefixed with the
/// origin, that contains every one of `parts`.
void check_rejected(std::string_view json, const std::vector<std::string_view>& parts) {
  BOOST_TEST_CONTEXT("document: " << json) {
    const std::string message = error_of(json);
    BOOST_TEST_REQUIRE(!message.empty(), "the document was accepted");
    BOOST_TEST(message.starts_with("maestro.json:"), message);
    BOOST_TEST(message.find('\n') == std::string::npos, message);
    for (const std::string_view part : parts) {
      BOOST_TEST(message.find(part) != std::string::npos, message << " lacks " << part);
    }
  }
}

/// A fresh directory under the system's temporary directory, removed with
/// its contents at the end of the test.
struct temp_dir {
  temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "maestro-config-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  void write(const std::string& name, std::string_view text) const {
    std::ofstream out(path / name, std::ios::binary);
    out << text;
  }

  std::filesystem::path path;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(empty_document_gives_the_documented_defaults) {
  const auto cfg = parse_config("{}", "maestro.json");
  // The literal values of SPEC section 3, not the struct's initialisers, so
  // that a drifting default is caught.
  BOOST_TEST(cfg.state_dir == ".flow/maestro");
  BOOST_TEST(cfg.max_concurrent == 4);
  BOOST_TEST(cfg.group_limits.empty());
  BOOST_TEST(cfg.default_agent == "backend-architect");
  BOOST_TEST(!cfg.auto_detect.has_value());
  BOOST_TEST(&cfg.keywords() == &maestro::core::default_keyword_table());
  BOOST_TEST(cfg.prompt_template ==
             "Use the {agent} subagent. Skills: {skills}. Task {id}: {title}\n{description}");
  BOOST_TEST(cfg.agent_defaults.command == (strings{"claude", "-p", "{prompt}"}),
             boost::test_tools::per_element());
  BOOST_TEST(cfg.agent_defaults.timeout_s == 3600.0);
  BOOST_TEST(cfg.agent_defaults.env.empty());
  BOOST_TEST((cfg.agent_defaults.stdin_mode == maestro::core::stdin_source::null_device));
  BOOST_TEST(cfg.agents.empty());
  BOOST_TEST(!cfg.refresh.has_value());
  BOOST_TEST((cfg.test.kind == maestro::core::test_command_kind::auto_detect));
  BOOST_TEST(cfg.test.command.empty());
  BOOST_TEST(cfg.test.timeout_s == 1800.0);
  BOOST_TEST(!cfg.test.required);
  BOOST_TEST(cfg.group_timeout_s == 0.0);
  BOOST_TEST(cfg.blocked_wait_s == 0.0);
  BOOST_TEST(cfg.retries == 0);
  BOOST_TEST(cfg.retry_backoff_s == 5.0);
  BOOST_TEST(cfg.tempfail_cooldown_s == 30.0);
  BOOST_TEST(cfg.tempfail_max == 10);
  BOOST_TEST(cfg.kill_grace_s == 10.0);
  BOOST_TEST(cfg.close_tasks);
  BOOST_TEST((cfg.launcher.kind == maestro::core::launcher_kind::local));
  BOOST_TEST((cfg.launcher.allocation == maestro::core::allocation_mode::task));
  BOOST_TEST(cfg.launcher.allocation_timeout_s == 300.0);
  BOOST_TEST((cfg.group_by == maestro::core::grouping::marker));
  BOOST_TEST((cfg.schedule == maestro::core::schedule_mode::stages));
}

BOOST_AUTO_TEST_CASE(spec_defaults_document_parses_to_the_defaults) {
  // SPEC section 3's block, verbatim: writing the defaults out changes nothing.
  const auto cfg = parse_config(R"({
    "state_dir": ".flow/maestro",
    "max_concurrent": 4,
    "group_limits": {},
    "default_agent": "backend-architect",
    "auto_detect": null,
    "prompt_template": "Use the {agent} subagent. Skills: {skills}. Task {id}: {title}\n{description}",
    "agent_defaults": {"command": ["claude", "-p", "{prompt}"], "timeout_s": 3600, "env": {}, "stdin": "null"},
    "agents": {},
    "refresh": null,
    "test": {"command": "auto", "timeout_s": 1800, "required": false},
    "group_timeout_s": 0,
    "blocked_wait_s": 0,
    "retries": 0,
    "retry_backoff_s": 5,
    "tempfail_cooldown_s": 30,
    "tempfail_max": 10,
    "kill_grace_s": 10,
    "close_tasks": true,
    "launcher": {"kind": "local", "srun": "srun", "srun_args": [], "allocation": "task",
                 "allocation_timeout_s": 300},
    "group_by": "marker",
    "schedule": "stages"
  })",
                                "maestro.json");
  const maestro::core::config defaults;
  BOOST_TEST(cfg.state_dir == defaults.state_dir);
  BOOST_TEST(cfg.max_concurrent == defaults.max_concurrent);
  BOOST_TEST(cfg.default_agent == defaults.default_agent);
  BOOST_TEST(!cfg.auto_detect.has_value());
  BOOST_TEST(cfg.prompt_template == defaults.prompt_template);
  BOOST_TEST(cfg.agent_defaults.command == defaults.agent_defaults.command,
             boost::test_tools::per_element());
  BOOST_TEST(cfg.agent_defaults.timeout_s == defaults.agent_defaults.timeout_s);
  BOOST_TEST(!cfg.refresh.has_value());
  BOOST_TEST((cfg.test.kind == defaults.test.kind));
  BOOST_TEST(cfg.test.timeout_s == defaults.test.timeout_s);
  BOOST_TEST(cfg.retry_backoff_s == defaults.retry_backoff_s);
  BOOST_TEST(cfg.tempfail_cooldown_s == defaults.tempfail_cooldown_s);
  BOOST_TEST(cfg.tempfail_max == defaults.tempfail_max);
  BOOST_TEST(cfg.kill_grace_s == defaults.kill_grace_s);
  BOOST_TEST(cfg.close_tasks == defaults.close_tasks);
}

BOOST_AUTO_TEST_CASE(spec_filled_in_examples) {
  const auto cfg = parse_config(R"({
    "agents": {"backend-architect": {"command": ["./agents/backend.sh", "{id}"], "max_concurrent": 2,
                                     "timeout_s": 600, "env": {"K": "V"}, "stdin": "prompt"}},
    "group_limits": {"infra": 2},
    "auto_detect": {"frontend-developer": ["ui", "component", "react"]},
    "refresh": {"command": ["claude", "-p", "/flow:summary"], "timeout_s": 300, "required": false}
  })",
                                "maestro.json");

  BOOST_TEST_REQUIRE(cfg.agents.size() == 1U);
  const auto& agent = cfg.agents.at("backend-architect");
  BOOST_TEST_REQUIRE(agent.command.has_value());
  BOOST_TEST(*agent.command == (strings{"./agents/backend.sh", "{id}"}),
             boost::test_tools::per_element());
  BOOST_TEST(agent.max_concurrent.value_or(0) == 2);
  BOOST_TEST(agent.timeout_s.value_or(0) == 600.0);
  BOOST_TEST(agent.env.size() == 1U);
  BOOST_TEST(agent.env.at("K") == "V");
  BOOST_TEST((agent.stdin_mode == maestro::core::stdin_source::prompt));

  BOOST_TEST(cfg.group_limits.size() == 1U);
  BOOST_TEST(cfg.group_limits.at("infra") == 2);

  BOOST_TEST_REQUIRE(cfg.auto_detect.has_value());
  BOOST_TEST_REQUIRE(cfg.auto_detect->size() == 1U);
  BOOST_TEST(cfg.auto_detect->front().first == "frontend-developer");
  BOOST_TEST(cfg.auto_detect->front().second == (strings{"ui", "component", "react"}),
             boost::test_tools::per_element());
  BOOST_TEST(&cfg.keywords() == &*cfg.auto_detect);

  BOOST_TEST_REQUIRE(cfg.refresh.has_value());
  BOOST_TEST(cfg.refresh->command == (strings{"claude", "-p", "/flow:summary"}),
             boost::test_tools::per_element());
  BOOST_TEST(cfg.refresh->timeout_s == 300.0);
  BOOST_TEST(!cfg.refresh->required);
}

BOOST_AUTO_TEST_CASE(agent_fields_left_out_stay_unset) {
  const auto cfg = parse_config(R"({"agents": {"web": {"max_concurrent": 1}}})", "maestro.json");
  const auto& web = cfg.agents.at("web");
  BOOST_TEST(!web.command.has_value());
  BOOST_TEST(!web.timeout_s.has_value());
  BOOST_TEST(!web.stdin_mode.has_value());
  BOOST_TEST(web.env.empty());
  BOOST_TEST(web.max_concurrent.value_or(0) == 1);
}

BOOST_AUTO_TEST_CASE(other_keys_are_read) {
  const auto cfg = parse_config(R"({
    "state_dir": "/var/lib/maestro", "max_concurrent": 16, "default_agent": "generalist",
    "prompt_template": "", "retries": 3, "tempfail_max": 0, "close_tasks": false,
    "agent_defaults": {"command": ["codex", "exec", "{prompt}"], "env": {"A": "1", "B": ""},
                       "stdin": "prompt", "timeout_s": 60},
    "test": {"command": ["ctest", "--output-on-failure"], "timeout_s": 120, "required": true},
    "launcher": {"kind": "slurm", "srun": "/opt/slurm/bin/srun", "srun_args": ["-N1", "--exclusive"],
                 "allocation": "group", "allocation_timeout_s": 2.5},
    "group_by": "parent"
  })",
                                "maestro.json");
  BOOST_TEST(cfg.state_dir == "/var/lib/maestro");
  BOOST_TEST(cfg.max_concurrent == 16);
  BOOST_TEST(cfg.default_agent == "generalist");
  BOOST_TEST(cfg.prompt_template.empty());
  BOOST_TEST(cfg.retries == 3);
  BOOST_TEST(cfg.tempfail_max == 0);
  BOOST_TEST(!cfg.close_tasks);
  BOOST_TEST(cfg.agent_defaults.command == (strings{"codex", "exec", "{prompt}"}),
             boost::test_tools::per_element());
  BOOST_TEST(cfg.agent_defaults.env.size() == 2U);
  BOOST_TEST(cfg.agent_defaults.env.at("B").empty());
  BOOST_TEST((cfg.agent_defaults.stdin_mode == maestro::core::stdin_source::prompt));
  BOOST_TEST(cfg.agent_defaults.timeout_s == 60.0);
  BOOST_TEST((cfg.test.kind == maestro::core::test_command_kind::argv));
  BOOST_TEST(cfg.test.command == (strings{"ctest", "--output-on-failure"}),
             boost::test_tools::per_element());
  BOOST_TEST(cfg.test.timeout_s == 120.0);
  BOOST_TEST(cfg.test.required);
  BOOST_TEST((cfg.launcher.kind == maestro::core::launcher_kind::slurm));
  BOOST_TEST(cfg.launcher.srun == "/opt/slurm/bin/srun");
  BOOST_TEST(cfg.launcher.srun_args == (strings{"-N1", "--exclusive"}),
             boost::test_tools::per_element());
  BOOST_TEST((cfg.launcher.allocation == maestro::core::allocation_mode::group));
  BOOST_TEST(cfg.launcher.allocation_timeout_s == 2.5);
  BOOST_TEST((cfg.group_by == maestro::core::grouping::parent));
  BOOST_TEST(
      (parse_config(R"({"group_by": "epic"})", "m").group_by == maestro::core::grouping::epic));
  BOOST_TEST((parse_config(R"({"schedule": "graph"})", "m").schedule ==
              maestro::core::schedule_mode::graph));
}

BOOST_AUTO_TEST_CASE(beads_keys) {
  const auto defaults = parse_config("{}", "maestro.json");
  BOOST_TEST(!defaults.beads.actor.has_value());
  BOOST_TEST(defaults.beads.timeout_s == 30.0);
  BOOST_TEST(defaults.beads.recheck_s == 120.0);
  BOOST_TEST(defaults.beads.release_claims);
  const auto cfg = parse_config(
      R"({"beads": {"actor": "ci-bot", "timeout_s": 2.5, "recheck_s": 0, "release_claims": false}})",
      "maestro.json");
  BOOST_TEST(cfg.beads.actor.value_or("") == "ci-bot");
  BOOST_TEST(cfg.beads.timeout_s == 2.5);
  BOOST_TEST(cfg.beads.recheck_s == 0.0);
  BOOST_TEST(!cfg.beads.release_claims);
  BOOST_TEST(!parse_config(R"({"beads": {"actor": null}})", "m").beads.actor.has_value());
  // Every bd call has a time limit (SPEC section 10).
  check_rejected(R"({"beads": {"timeout_s": 0}})", {"beads.timeout_s", "> 0"});
  check_rejected(R"({"beads": {"actor": ""}})", {"beads.actor", "non-empty string"});
  check_rejected(R"({"beads": {"claim": true}})", {"unknown key: beads.claim"});
}

BOOST_AUTO_TEST_CASE(workspace_keys) {
  const auto defaults = parse_config("{}", "maestro.json");
  BOOST_TEST((defaults.workspace.kind == maestro::core::workspace_kind::shared));
  BOOST_TEST(defaults.workspace.base == "HEAD");
  BOOST_TEST(defaults.workspace.branch == "maestro/integration");
  BOOST_TEST(defaults.workspace.keep_failed);
  const auto cfg = parse_config(
      R"({"workspace": {"kind": "worktree", "base": "v1.2", "branch": "ci/merged",
                        "keep_failed": false}})",
      "maestro.json");
  BOOST_TEST((cfg.workspace.kind == maestro::core::workspace_kind::worktree));
  BOOST_TEST(cfg.workspace.base == "v1.2");
  BOOST_TEST(cfg.workspace.branch == "ci/merged");
  BOOST_TEST(!cfg.workspace.keep_failed);
  check_rejected(R"({"workspace": {"kind": "copy"}})",
                 {"workspace.kind", "\"shared\" or \"worktree\""});
  for (const auto* bad : {"a..b", "x~1", "sp ace", "-x", "x.lock", "a/", "a//b", "x@{1}", ".a"}) {
    check_rejected(std::string(R"({"workspace": {"branch": ")") + bad + "\"}}",
                   {"workspace.branch", "not a valid branch name"});
  }
  check_rejected(R"({"workspace": {"base": ""}})", {"workspace.base", "non-empty string"});
  check_rejected(R"({"workspace": {"keep": true}})", {"unknown key: workspace.keep"});
}

BOOST_AUTO_TEST_CASE(test_command_none_and_auto) {
  const auto none = parse_config(R"({"test": {"command": "none"}})", "maestro.json");
  BOOST_TEST((none.test.kind == maestro::core::test_command_kind::none));
  BOOST_TEST(none.test.command.empty());
  const auto automatic = parse_config(R"({"test": {"command": "auto"}})", "maestro.json");
  BOOST_TEST((automatic.test.kind == maestro::core::test_command_kind::auto_detect));
}

BOOST_AUTO_TEST_CASE(fractional_durations) {
  const auto cfg = parse_config(R"({
    "group_timeout_s": 0.5, "blocked_wait_s": 2.25, "retry_backoff_s": 0.1,
    "tempfail_cooldown_s": 1.5, "kill_grace_s": 0.25,
    "agent_defaults": {"timeout_s": 0.75}, "agents": {"a": {"timeout_s": 1e-3}},
    "test": {"timeout_s": 90.5}, "refresh": {"command": ["true"], "timeout_s": 3.5}
  })",
                                "maestro.json");
  BOOST_TEST(cfg.group_timeout_s == 0.5);
  BOOST_TEST(cfg.blocked_wait_s == 2.25);
  BOOST_TEST(cfg.retry_backoff_s == 0.1);
  BOOST_TEST(cfg.tempfail_cooldown_s == 1.5);
  BOOST_TEST(cfg.kill_grace_s == 0.25);
  BOOST_TEST(cfg.agent_defaults.timeout_s == 0.75);
  BOOST_TEST(*cfg.agents.at("a").timeout_s == 0.001);
  BOOST_TEST(cfg.test.timeout_s == 90.5);
  BOOST_TEST(cfg.refresh->timeout_s == 3.5);
}

BOOST_AUTO_TEST_CASE(integer_keys_accept_integral_numbers_only) {
  BOOST_TEST(parse_config(R"({"max_concurrent": 4.0})", "maestro.json").max_concurrent == 4);
  BOOST_TEST(parse_config(R"({"retries": 2e0})", "maestro.json").retries == 2);
  check_rejected(R"({"max_concurrent": 4.5})", {"max_concurrent: expected a positive integer"});
  check_rejected(R"({"max_concurrent": 0})",
                 {"max_concurrent: expected a positive integer, got 0"});
  check_rejected(R"({"max_concurrent": -1})", {"max_concurrent", "got -1"});
  check_rejected(R"({"max_concurrent": 18446744073709551615})",
                 {"max_concurrent: expected a positive integer no greater than 2147483647"});
  check_rejected(R"({"max_concurrent": 3000000000})", {"max_concurrent", "no greater than"});
  check_rejected(R"({"retries": -1})", {"retries: expected an integer >= 0, got -1"});
  check_rejected(R"({"tempfail_max": 1.5})", {"tempfail_max: expected an integer >= 0, got 1.5"});
  check_rejected(R"({"agents": {"a": {"max_concurrent": 0}}})", {"agents.a.max_concurrent"});
  check_rejected(R"({"group_limits": {"infra": 0}})", {"group_limits.infra"});
}

BOOST_AUTO_TEST_CASE(durations_must_be_finite_and_not_negative) {
  check_rejected(R"({"kill_grace_s": -0.5})", {"kill_grace_s: expected a number >= 0, got -0.5"});
  check_rejected(R"({"group_timeout_s": 1e999})", {"group_timeout_s: expected a number >= 0"});
  check_rejected(R"({"blocked_wait_s": 1e12})", {"blocked_wait_s", "no greater than 1e9"});
  check_rejected(R"({"retry_backoff_s": "5"})",
                 {R"(retry_backoff_s: expected a number >= 0, got "5")"});
  check_rejected(R"({"test": {"timeout_s": null}})", {"test.timeout_s", "got null"});
}

BOOST_AUTO_TEST_CASE(unknown_top_level_key) {
  BOOST_TEST(error_of(R"({"max_concurrent": 2, "max_concurent": 2})") ==
             "maestro.json: unknown key: max_concurent");
}

BOOST_AUTO_TEST_CASE(unknown_nested_keys_name_the_full_path) {
  BOOST_TEST(error_of(R"({"agents": {"web": {"comand": ["x"]}}})") ==
             "maestro.json: unknown key: agents.web.comand");
  check_rejected(R"({"agent_defaults": {"stdn": "null"}})", {"unknown key: agent_defaults.stdn"});
  check_rejected(R"({"refresh": {"command": ["x"], "required ": true}})",
                 {"unknown key: refresh.required "});
  check_rejected(R"({"test": {"cmd": "auto"}})", {"unknown key: test.cmd"});
  check_rejected(R"({"launcher": {"kind": "slurm", "partition": "gpu"}})",
                 {"unknown key: launcher.partition"});
}

BOOST_AUTO_TEST_CASE(odd_keys_stay_on_one_line) {
  BOOST_TEST(error_of(R"({"a\nb": 1})") == R"(maestro.json: unknown key: a\nb)");
  BOOST_TEST(error_of(R"({"": 1})") == R"(maestro.json: unknown key: "")");
}

BOOST_AUTO_TEST_CASE(first_problem_in_document_order_is_reported) {
  BOOST_TEST(error_of(R"({"retries": -1, "bogus": 1})") ==
             "maestro.json: retries: expected an integer >= 0, got -1");
  BOOST_TEST(error_of(R"({"bogus": 1, "retries": -1})") == "maestro.json: unknown key: bogus");
}

BOOST_AUTO_TEST_CASE(wrong_types_name_the_key_and_the_value) {
  BOOST_TEST(error_of(R"({"max_concurrent": "four"})") ==
             R"(maestro.json: max_concurrent: expected a positive integer, got "four")");
  check_rejected(R"({"state_dir": ""})", {"state_dir: expected a non-empty string"});
  check_rejected(R"({"state_dir": 7})", {"state_dir", "got 7"});
  check_rejected(R"({"default_agent": null})", {"default_agent", "got null"});
  check_rejected(R"({"prompt_template": ["a"]})",
                 {"prompt_template: expected a string, got an array"});
  check_rejected(R"({"close_tasks": "yes"})",
                 {R"(close_tasks: expected true or false, got "yes")"});
  check_rejected(R"({"close_tasks": 1})", {"close_tasks"});
  check_rejected(R"({"group_limits": []})", {"group_limits: expected an object, got []"});
  check_rejected(R"({"group_limits": {"auth flow": 2}})", {"group_limits.auth flow", "group name"});
  check_rejected(R"({"auto_detect": []})", {"auto_detect: expected null or an object"});
  check_rejected(R"({"auto_detect": {"ui-dev": "ui"}})", {"auto_detect.ui-dev: expected an array"});
  check_rejected(R"({"auto_detect": {"ui-dev": ["ui", 3]}})", {"auto_detect.ui-dev[1]"});
  check_rejected(R"({"auto_detect": {"ui-dev": ["ui", ""]}})", {"auto_detect.ui-dev[1]"});
  check_rejected(R"({"agent_defaults": {"command": "claude -p"}})", {"agent_defaults.command"});
  check_rejected(R"({"agent_defaults": {"env": {"A": 1}}})", {"agent_defaults.env.A"});
  check_rejected(R"({"agent_defaults": {"env": {"A=B": "1"}}})", {"agent_defaults.env.A=B"});
  check_rejected(R"({"agent_defaults": {"stdin": "pipe"}})",
                 {R"(agent_defaults.stdin: expected "null" or "prompt", got "pipe")"});
  check_rejected(R"({"agent_defaults": {"stdin": null}})", {"agent_defaults.stdin", "got null"});
  check_rejected(R"({"agents": []})", {"agents: expected an object"});
  check_rejected(R"({"agents": {"web": null}})", {"agents.web: expected an object, got null"});
  check_rejected(R"({"agents": {"web": {"command": ["x", 1]}}})", {"agents.web.command[1]"});
  check_rejected(R"({"agents": {"web": {"command": ["", "x"]}}})", {"agents.web.command[0]"});
  check_rejected(R"({"agents": {"web": {"command": ["a\u0000b"]}}})",
                 {"agents.web.command[0]", "NUL"});
  check_rejected(R"({"agents": {"a\u0000b": {"command": ["x"]}}})", {"agents.a\\x00b", "NUL"});
  check_rejected(R"({"agents": {"": {"command": ["x"]}}})", {R"(agents."": )", "empty"});
  check_rejected(R"({"refresh": true})", {"refresh: expected null or an object, got true"});
  check_rejected(R"({"refresh": {"timeout_s": 5}})", {"refresh.command", "missing"});
  check_rejected(R"({"refresh": {"comand": ["x"]}})", {"unknown key: refresh.comand"});
  check_rejected(R"({"refresh": {"command": []}})",
                 {"refresh.command: expected a non-empty array"});
  check_rejected(R"({"test": {"command": []}})", {"test.command"});
  check_rejected(R"({"test": {"required": "no"}})", {"test.required"});
  check_rejected(R"({"launcher": {"kind": "k8s"}})",
                 {R"(launcher.kind: expected "local" or "slurm")"});
  check_rejected(R"({"launcher": {"srun": ""}})", {"launcher.srun"});
  check_rejected(R"({"group_by": "label"})",
                 {R"(group_by: expected "marker", "epic" or "parent")"});
  check_rejected(R"({"group_by": null})", {"group_by"});
  check_rejected(R"({"schedule": "dag"})", {R"(schedule: expected "stages" or "graph")"});
  check_rejected(R"({"launcher": {"srun_args": "-N1"}})", {"launcher.srun_args"});
  check_rejected(R"({"launcher": {"allocation": "node"}})",
                 {R"(launcher.allocation: expected "task" or "group")"});
  check_rejected(R"({"launcher": {"allocation_timeout_s": 0}})",
                 {"launcher.allocation_timeout_s", "> 0"});
}

BOOST_AUTO_TEST_CASE(test_command_bogus_string) {
  BOOST_TEST(
      error_of(R"({"test": {"command": "bogus"}})") ==
      R"(maestro.json: test.command: expected a non-empty array of strings, "auto" or "none", got "bogus")");
  check_rejected(R"({"test": {"command": "AUTO"}})", {"test.command", R"(got "AUTO")"});
}

BOOST_AUTO_TEST_CASE(agent_with_no_command) {
  BOOST_TEST(error_of(R"({"agent_defaults": {"command": null},
                   "agents": {"backend-architect": {"command": ["b"]}, "web": {"timeout_s": 5}}})") ==
             "maestro.json: agents.web.command: agent web resolves to no command "
             "(agent_defaults.command is empty)");
  check_rejected(R"({"agent_defaults": {"command": []}, "agents": {"web": {}}})",
                 {"agents.web.command", "agent web resolves to no command"});
  // An agent's own empty command is an error whatever the default.
  check_rejected(R"({"agents": {"web": {"command": []}}})",
                 {"agents.web.command: expected a non-empty array of strings, got []"});
}

BOOST_AUTO_TEST_CASE(default_agent_with_no_command) {
  BOOST_TEST(error_of(R"({"agent_defaults": {"command": null}})") ==
             "maestro.json: agent_defaults.command: default agent backend-architect resolves to "
             "no command");
  check_rejected(R"({"agent_defaults": {"command": null}, "default_agent": "web",
                     "agents": {"backend-architect": {"command": ["b"]}}})",
                 {"agent_defaults.command", "default agent web"});
  check_rejected(R"({"agent_defaults": {"command": null}, "agents": {"backend-architect":
                     {"command": ["b"]}}, "auto_detect": {"ui": ["ui"]}})",
                 {"auto_detect.ui", "agent ui resolves to no command"});
}

BOOST_AUTO_TEST_CASE(no_default_command_is_fine_when_every_agent_has_one) {
  const auto cfg = parse_config(R"({
    "agent_defaults": {"command": null},
    "default_agent": "web",
    "agents": {"web": {"command": ["./web.sh"]}, "db": {"command": ["./db.sh", "{id}"]}},
    "auto_detect": {"db": ["schema"]}
  })",
                                "maestro.json");
  BOOST_TEST(cfg.agent_defaults.command.empty());
  BOOST_TEST(cfg.agents.size() == 2U);
}

BOOST_AUTO_TEST_CASE(malformed_json_gives_line_and_column) {
  BOOST_TEST(error_of("{\n  \"max_concurrent\": 4,\n  \"retries\": x\n}") ==
             "maestro.json:3:14: malformed JSON: syntax error");
  // Columns count characters: the two-byte "é" is one column.
  BOOST_TEST(error_of("{\"prompt_template\": \"é\" ?}").starts_with("maestro.json:1:25: "));
  BOOST_TEST(error_of("{\"retries\": 1,\n").starts_with("maestro.json:2:1: malformed JSON: "));
  // Trailing text is located where it starts, not where the document ended.
  BOOST_TEST(error_of("{}\n\n  {}").starts_with("maestro.json:3:3: malformed JSON: "));
  BOOST_TEST(error_of("").starts_with("maestro.json:1:1: malformed JSON: "));
  check_rejected("{\"a\": 1,}", {"maestro.json:1:9: malformed JSON"});
}

BOOST_AUTO_TEST_CASE(top_level_must_be_an_object) {
  BOOST_TEST(error_of("[]") == "maestro.json: expected a JSON object at the top level, got []");
  check_rejected("null", {"top level", "got null"});
  check_rejected("\"x\"", {"top level"});
}

BOOST_AUTO_TEST_CASE(auto_detect_keeps_document_order) {
  const auto cfg = parse_config(R"({"auto_detect": {
    "zeta": ["z"], "alpha": ["a"], "mid": [], "beta": ["b", "bb"]}})",
                                "maestro.json");
  BOOST_TEST_REQUIRE(cfg.auto_detect.has_value());
  strings names;
  for (const auto& [agent, keywords] : *cfg.auto_detect) {
    names.push_back(agent);
  }
  BOOST_TEST(names == (strings{"zeta", "alpha", "mid", "beta"}), boost::test_tools::per_element());
  BOOST_TEST(cfg.auto_detect->at(2).second.empty());
  BOOST_TEST(cfg.auto_detect->at(3).second == (strings{"b", "bb"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(origin_prefixes_every_message) {
  try {
    static_cast<void>(parse_config(R"({"retries": true})", "/etc/maestro/ci.json"));
    BOOST_FAIL("accepted a boolean retries");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "/etc/maestro/ci.json: retries: expected an integer >= 0, "
               "got true");
  }
}

BOOST_AUTO_TEST_CASE(load_config_with_a_missing_explicit_path) {
  const temp_dir dir;
  const auto missing = dir.path / "nope.json";
  try {
    static_cast<void>(load_config(missing, dir.path));
    BOOST_FAIL("a missing --config file was accepted");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()) ==
               missing.string() + ": cannot read config: No such file or directory");
  }
}

BOOST_AUTO_TEST_CASE(load_config_with_a_directory_as_explicit_path) {
  const temp_dir dir;
  try {
    static_cast<void>(load_config(dir.path, dir.path));
    BOOST_FAIL("a directory was read as a config file");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()).starts_with(dir.path.string() + ": cannot read config: "));
  }
}

BOOST_AUTO_TEST_CASE(load_config_reads_an_explicit_path) {
  const temp_dir dir;
  dir.write("ci.json", R"({"max_concurrent": 9})");
  // The explicit file wins over maestro.json in the working directory.
  dir.write("maestro.json", R"({"max_concurrent": 2})");
  BOOST_TEST(load_config(dir.path / "ci.json", dir.path).max_concurrent == 9);
}

BOOST_AUTO_TEST_CASE(load_config_picks_up_maestro_json) {
  const temp_dir dir;
  dir.write("maestro.json", R"({"max_concurrent": 7, "group_limits": {"infra": 2}})");
  const auto cfg = load_config(std::nullopt, dir.path);
  BOOST_TEST(cfg.max_concurrent == 7);
  BOOST_TEST(cfg.group_limits.at("infra") == 2);
}

BOOST_AUTO_TEST_CASE(load_config_names_the_implicit_file_maestro_json) {
  const temp_dir dir;
  dir.write("maestro.json", "{\"retries\": \"many\"}");
  try {
    static_cast<void>(load_config(std::nullopt, dir.path));
    BOOST_FAIL("a bad maestro.json was accepted");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()) ==
               R"(maestro.json: retries: expected an integer >= 0, got "many")");
  }
}

BOOST_AUTO_TEST_CASE(load_config_without_a_file_gives_the_defaults) {
  const temp_dir dir;
  const auto cfg = load_config(std::nullopt, dir.path);
  BOOST_TEST(cfg.max_concurrent == 4);
  BOOST_TEST(cfg.state_dir == ".flow/maestro");
}

BOOST_AUTO_TEST_CASE(load_config_reports_a_dangling_maestro_json_link) {
  const temp_dir dir;
  std::filesystem::create_symlink(dir.path / "gone.json", dir.path / "maestro.json");
  try {
    static_cast<void>(load_config(std::nullopt, dir.path));
    BOOST_FAIL("a dangling maestro.json link was ignored");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()).starts_with("maestro.json: cannot read config: "));
  }
}

BOOST_AUTO_TEST_CASE(duplicate_keys_name_the_key_path) {
  BOOST_TEST(error_of(R"({"retries": 1, "retries": 2})") ==
             "maestro.json:1:16: duplicate key: retries");
  BOOST_TEST(error_of("{\"agents\": {\"web\": {\"command\": [\"x\"],\n \"timeout_s\": 1, "
                      "\"timeout_s\": 2}}}") ==
             "maestro.json:2:18: duplicate key: agents.web.timeout_s");
  BOOST_TEST(error_of(R"({"auto_detect": {"a": ["x"]}, "agents": {}, "auto_detect": null})") ==
             "maestro.json:1:45: duplicate key: auto_detect");
  BOOST_TEST(error_of(R"({"agents": {"a": {"env": {"K\n": "1", "K\n": "2"}}}})") ==
             R"(maestro.json:1:39: duplicate key: agents.a.env.K\n)");
  // The same key in two objects is no duplicate.
  BOOST_TEST(error_of(R"({"agents": {"a": {"timeout_s": 1}, "b": {"timeout_s": 2}}})").empty());
}

BOOST_AUTO_TEST_CASE(durations_share_the_engine_cap) {
  BOOST_TEST(maestro::core::max_duration_s == 1e9);
  BOOST_TEST(parse_config(R"({"group_timeout_s": 1e9})", "m").group_timeout_s == 1e9);
  check_rejected(R"({"agents": {"a": {"timeout_s": 1000000001}}})",
                 {"agents.a.timeout_s", "no greater than 1e9"});
  BOOST_TEST(maestro::core::capped_duration(1e10) == 1e9);
  BOOST_TEST(maestro::core::capped_duration(-3) == 0.0);
  BOOST_TEST(maestro::core::capped_duration(std::numeric_limits<double>::quiet_NaN()) == 1e9);
  BOOST_TEST(maestro::core::capped_duration(2.5) == 2.5);
}

BOOST_AUTO_TEST_CASE(devices_and_huge_files_are_refused_before_reading) {
  const auto error_loading = [](const std::filesystem::path& path) -> std::string {
    try {
      static_cast<void>(load_config(path, "."));
    } catch (const config_error& e) {
      return e.what();
    }
    return "no error";
  };
  BOOST_TEST(error_loading("/dev/zero") ==
             "/dev/zero: cannot read config: it is a character device, not a regular file or a "
             "FIFO");
  const temp_dir dir;
  dir.write("huge.json", "");
  const auto huge = dir.path / "huge.json";
  BOOST_TEST_REQUIRE(::truncate(huge.c_str(), (off_t{1} << 30) + 1) == 0);
  BOOST_TEST(error_loading(huge) == huge.string() + ": cannot read config: larger than 1 GiB");
}

BOOST_AUTO_TEST_SUITE_END()
