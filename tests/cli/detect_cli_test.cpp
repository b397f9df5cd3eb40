#include <filesystem>
#include <string>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cli/cli_fixture.hpp"
#include "support/process.hpp"

using maestro::test::cli_fixture;
namespace json = boost::json;

namespace {

const std::string data_dir = MAESTRO_TEST_DATA_DIR;

// Exactly one line on stderr, starting with the program's name.
bool one_line_error(const std::string& err) {
  return err.rfind("maestro-async: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(detect_cli, cli_fixture)

BOOST_AUTO_TEST_CASE(json_has_the_python_shape) {
  const auto r = run({"detect", "--json", "--tasks-file", data_dir + "/tasks_array.json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto j = json::parse(r.out).as_object();
  BOOST_TEST(j.size() == 3U);
  BOOST_TEST(json::serialize(j.at("core-api")) == R"(["t-1","t-2"])");
  BOOST_TEST(json::serialize(j.at("_sequential")) == R"(["t-3"])");
  BOOST_TEST(json::serialize(j.at("_skipped")) == R"(["t-4"])");
  // Keys come in order of first appearance.
  BOOST_TEST(j.begin()->key() == "core-api");
}

BOOST_AUTO_TEST_CASE(json_details_on_a_beads_export) {
  const auto r =
      run({"detect", "--json", "--details", "--tasks-file", data_dir + "/sqlite_era.jsonl"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto j = json::parse(r.out).as_object();
  // proj-3 (auth-flow) depends on proj-1 (infra); proj-4 on proj-3.
  BOOST_TEST(json::serialize(j.at("stages").as_array()[0].at("id")) == R"("infra")");
  BOOST_TEST(json::serialize(j.at("stages").as_array()[1].at("id")) == R"("auth-flow")");
  BOOST_TEST(json::serialize(j.at("stages").as_array()[2].at("id")) == R"("_sequential.proj-4")");
  BOOST_TEST(json::serialize(j.at("blocked")) == R"(["proj-6"])");
  BOOST_TEST(j.at("counts").at("skipped").as_int64() == 2);
  for (const auto& t : j.at("tasks").as_array()) {
    if (t.at("id") == "proj-1") {
      BOOST_TEST(t.at("agent") == "database-architect");  // database, schema
      BOOST_TEST(t.at("agent_source") == "keywords");
    }
    if (t.at("id") == "proj-3") {
      BOOST_TEST(t.at("agent") == "frontend-developer");
      BOOST_TEST(t.at("agent_source") == "metadata.subagent_type");
      BOOST_TEST(json::serialize(t.at("fallback_agents")) == R"(["backend-architect","general"])");
    }
  }
}

BOOST_AUTO_TEST_CASE(text_output_names_stages_agents_skipped_and_blocked) {
  const auto r = run({"detect", "--tasks-file", data_dir + "/sqlite_era.jsonl"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("1. infra") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("agent frontend-developer -> backend-architect -> general "
                        "(metadata.subagent_type)") != std::string::npos);
  BOOST_TEST(r.out.find("proj-5  status tombstone") != std::string::npos);
  BOOST_TEST(r.out.find("proj-6  waits on ext-9 (absent from the source)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dolt_export_skips_other_records) {
  const auto r = run({"detect", "--json", "--tasks-file", data_dir + "/dolt_era.jsonl"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto j = json::parse(r.out).as_object();
  BOOST_TEST(json::serialize(j.at("backend")) == R"(["bd-a1","bd-a2"])");
  BOOST_TEST(json::serialize(j.at("_sequential")) == R"(["bd-a6"])");
  BOOST_TEST(json::serialize(j.at("_skipped")) == R"(["bd-a3","bd-a4","bd-a5"])");
}

BOOST_AUTO_TEST_CASE(custom_keywords_and_default_agent_from_config) {
  dir.write("maestro.json",
            R"({"default_agent": "generalist", "auto_detect": {"docs-writer": ["notes"]}})");
  dir.write("t.json", R"([{"id":"a","title":"release notes"},{"id":"b","title":"API work"}])");
  const auto r = run({"detect", "--json", "--details", "--tasks-file", "t.json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto tasks = json::parse(r.out).at("tasks").as_array();
  BOOST_TEST(tasks[0].at("agent") == "docs-writer");
  BOOST_TEST(tasks[1].at("agent") == "generalist");
}

BOOST_AUTO_TEST_CASE(real_beads_exports) {
  const std::filesystem::path shared = MAESTRO_BEADS_EXPORTS_DIR;
  BOOST_TEST_REQUIRE(std::filesystem::is_directory(shared), shared);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared)) {
    if (entry.path().extension() != ".jsonl") {
      continue;
    }
    ++files;
    const auto r = run({"detect", "--json", "--tasks-file", entry.path().string()});
    BOOST_TEST(r.exit_code == 0, entry.path() << ": " << r.err);
    BOOST_TEST(json::parse(r.out).as_object().contains("_skipped"));
  }
  BOOST_TEST(files == 2);
}

BOOST_AUTO_TEST_CASE(epics_and_inherited_blockers_are_explained) {
  // Epic e (children e.1, e.2) is blocked by x, which is deferred: both
  // children are blocked through their parent. lonely is an epic with no
  // children; w depends on it.
  dir.write(
      "b.jsonl",
      R"({"id":"e","title":"Epic","issue_type":"epic","dependencies":[{"issue_id":"e","depends_on_id":"x","type":"blocks"}]}
{"id":"e.1","title":"one","dependencies":[{"issue_id":"e.1","depends_on_id":"e","type":"parent-child"}]}
{"id":"e.2","title":"two","dependencies":[{"issue_id":"e.2","depends_on_id":"e","type":"parent-child"}]}
{"id":"x","title":"parked","status":"deferred"}
{"id":"lonely","title":"Epic","issue_type":"epic"}
{"id":"w","title":"waits","dependencies":["lonely"]}
)");
  const auto plain = run({"detect", "--json", "--tasks-file", "b.jsonl"});
  BOOST_TEST_REQUIRE(plain.exit_code == 0, plain.err);
  BOOST_TEST(plain.out == R"({"_sequential":["e.1","e.2","w"],"_skipped":["e","x","lonely"]})"
                          "\n");

  const auto details = run({"detect", "--json", "--details", "--tasks-file", "b.jsonl"});
  BOOST_TEST_REQUIRE(details.exit_code == 0, details.err);
  const auto d = json::parse(details.out).as_object();
  const auto& epics = d.at("epics").as_array();
  BOOST_TEST_REQUIRE(epics.size() == 2U);
  BOOST_TEST(json::serialize(epics[0].at("children")) == R"(["e.1","e.2"])");
  BOOST_TEST(epics[1].at("note") == "no children: left alone");
  const auto& child = d.at("tasks").as_array()[0].as_object();
  BOOST_TEST(json::serialize(child.at("blocked_by")) ==
             R"([{"id":"x","status":"deferred","via":"e","epic":null}])");
  BOOST_TEST(json::serialize(child.at("parents")) == R"(["e"])");
  BOOST_TEST(d.at("skipped").as_array()[0].at("reason") == "epic");

  const auto text = run({"detect", "--tasks-file", "b.jsonl"});
  BOOST_TEST_REQUIRE(text.exit_code == 0, text.err);
  BOOST_TEST(text.out.find("children: e.1 (open), e.2 (open)") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("e.1  waits on x (deferred; through parent e)") != std::string::npos,
             text.out);
  BOOST_TEST(text.out.find("w  waits on lonely (open epic with no children: it never completes)") !=
                 std::string::npos,
             text.out);

  // A parent-child cycle is bad input.
  dir.write(
      "c.jsonl",
      R"({"id":"a","dependencies":[{"issue_id":"a","depends_on_id":"b","type":"parent-child"}]}
{"id":"b","dependencies":[{"issue_id":"b","depends_on_id":"a","type":"parent-child"}]}
)");
  const auto cycle = run({"detect", "--tasks-file", "c.jsonl"});
  BOOST_TEST(cycle.exit_code == 2);
  BOOST_TEST(cycle.err ==
             "maestro-async: c.jsonl:1: task a: parent-child cycle: a -> b -> a (each a child of "
             "the next)\n");
}

BOOST_AUTO_TEST_CASE(detect_beads_prints_the_plan_of_the_same_issues_exported) {
  // The bd double (tests/support/fake_bd) holds the dotfiles backlog; bd
  // lists it by priority, the engine takes it in id order, as exports are.
  const std::string bd = MAESTRO_FAKE_BD;
  const std::string exported = std::string(MAESTRO_BEADS_EXPORTS_DIR) + "/dotfiles.jsonl";
  BOOST_TEST_REQUIRE(maestro::test::run_process({bd, "init"}, dir.path()).exit_code == 0);
  BOOST_TEST_REQUIRE(
      maestro::test::run_process({bd, "import", "-i", exported}, dir.path()).exit_code == 0);
  // Two issues are in progress with no assignee: another actor's work, so
  // the live source skips them (SPEC section 1; a file has no claims).
  const auto claimed = run({"detect", "--beads", "--bd", bd});
  BOOST_TEST_REQUIRE(claimed.exit_code == 0, claimed.err);
  BOOST_TEST(claimed.out.find("df-iwy.1  in progress, unassigned") != std::string::npos,
             claimed.out);
  BOOST_TEST(claimed.out.find("df-s2f.4  in progress, unassigned") != std::string::npos,
             claimed.out);
  const auto claimed_json = run({"detect", "--json", "--details", "--beads", "--bd", bd});
  BOOST_TEST(claimed_json.out.find(R"("reason":"claimed","claimed_by":"")") != std::string::npos,
             claimed_json.out);
  // Made the engine's own, the plan is the export's.
  dir.write("maestro.json", R"({"beads": {"actor": "maestro-test"}})");
  for (const std::string id : {"df-iwy.1", "df-s2f.4"}) {
    BOOST_TEST_REQUIRE(
        maestro::test::run_process({bd, "update", id, "--assignee", "maestro-test"}, dir.path())
            .exit_code == 0);
  }
  const auto live = run({"detect", "--json", "--beads", "--bd", bd});
  BOOST_TEST_REQUIRE(live.exit_code == 0, live.err);
  const auto file = run({"detect", "--json", "--tasks-file", exported});
  BOOST_TEST(live.out == file.out);
  const auto live_text = run({"detect", "--beads", "--bd", bd});
  const auto file_text = run({"detect", "--tasks-file", exported});
  BOOST_TEST(live_text.out.substr(live_text.out.find('\n')) ==
             file_text.out.substr(file_text.out.find('\n')));

  // A missing bd, or one that refuses the store: exit 2, one line, bd's
  // own message.
  const auto missing = run({"detect", "--beads", "--bd", "/nonexistent/bd"});
  BOOST_TEST(missing.exit_code == 2);
  BOOST_TEST(one_line_error(missing.err), missing.err);
  BOOST_TEST(missing.err.find("cannot start /nonexistent/bd") != std::string::npos);
  dir.write("bd-newer", "#!/bin/sh\nFAKE_BD_SCHEMA_NEWER=1 exec " + bd + " \"$@\"\n");
  std::filesystem::permissions(dir.path() / "bd-newer", std::filesystem::perms::owner_all);
  const auto newer = run({"detect", "--beads", "--bd", "./bd-newer"});
  BOOST_TEST(newer.exit_code == 2);
  BOOST_TEST(one_line_error(newer.err), newer.err);
  BOOST_TEST(newer.err.find("newer than this bd") != std::string::npos, newer.err);
  // Both sources at once is a usage error.
  const auto both = run({"detect", "--beads", "--bd", bd, "--tasks-file", exported});
  BOOST_TEST(both.exit_code == 2);
  BOOST_TEST(both.err.find("not both") != std::string::npos, both.err);
}

// Each bad input: exit 2, one line on stderr naming the file and the
// problem, nothing on stdout.
BOOST_AUTO_TEST_CASE(bad_inputs_exit_2_with_one_line) {
  struct bad_case {
    const char* content;
    const char* expected;
  };
  const bad_case cases[] = {
      {"{\"id\":\"a\"}\n{\"id\":\"b\" \"title\":1}\n", "bad.jsonl:2:11: malformed JSON"},
      {"{\"id\":\"a\"}\n{\"title\":\"x\"}\n", "bad.jsonl:2: missing id"},
      {"{\"id\":\"a\"}\n{\"id\":\"a\"}\n",
       "bad.jsonl:2: task a: duplicate id (first seen on line 1)"},
      {"{\"id\":\"a\",\"priority\":\"urgent\"}\n",
       "bad.jsonl:1: task a: priority: expected an integer"},
      {"{\"id\":\"a\",\"dependencies\":[\"b\"]}\n{\"id\":\"b\",\"dependencies\":[\"a\"]}\n",
       "task a: dependency cycle: a -> b -> a"},
      {"{\"id\":\"a\",\"title\":\"[P:Group-x] [P:Group-y]\"}\n",
       "bad.jsonl:1: task a: two different group markers: [P:Group-x] and [P:Group-y]"},
      {"{\"id\":\"a\",\"title\":\"[P:Group-p]\",\"dependencies\":[\"d\"]}\n"
       "{\"id\":\"b\",\"title\":\"[P:Group-q]\",\"dependencies\":[\"a\"]}\n"
       "{\"id\":\"c\",\"title\":\"[P:Group-q]\"}\n"
       "{\"id\":\"d\",\"title\":\"[P:Group-p]\",\"dependencies\":[\"c\"]}\n",
       "cycle between stages: p -> q -> p"},
  };
  for (const auto& c : cases) {
    dir.write("bad.jsonl", c.content);
    const auto r = run({"detect", "--tasks-file", "bad.jsonl"});
    BOOST_TEST(r.exit_code == 2, c.expected);
    BOOST_TEST(r.err.find(c.expected) != std::string::npos, r.err);
    BOOST_TEST(one_line_error(r.err), r.err);
    BOOST_TEST(r.out.empty(), r.out);
  }
}

BOOST_AUTO_TEST_CASE(missing_source_and_bad_config) {
  auto r = run({"detect"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(one_line_error(r.err), r.err);
  r = run({"detect", "--tasks-file", "does-not-exist.json"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("does-not-exist.json: cannot read tasks file") != std::string::npos, r.err);
  dir.write("t.json", "[]");
  dir.write("cfg.json", R"({"no_such_key": 1})");
  r = run({"detect", "--tasks-file", "t.json", "--config", "cfg.json"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("no_such_key") != std::string::npos, r.err);
  BOOST_TEST(one_line_error(r.err), r.err);
  r = run({"detect", "--tasks-file", "t.json", "--config", "missing.json"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("missing.json") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(input_text_is_escaped_in_the_plan) {
  dir.write("t.json", R"([{"id":"a\u001b[31m\nx","title":"bell\u0007 [P:Group-g]"},
                          {"id":"b","title":"b","dependencies":["\u001b]0;owned\u0007"]}])");
  const auto r = run({"detect", "--tasks-file", "t.json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  for (const char c : r.out) {
    const auto u = static_cast<unsigned char>(c);
    BOOST_TEST((u >= 0x20 || c == '\n'), "a raw control character " << static_cast<int>(u));
  }
  BOOST_TEST(r.out.find("a\\x1B[31m\\nx") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("bell\\x07") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_SUITE_END()
