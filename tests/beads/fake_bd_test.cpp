// The `bd` test double (tests/support/fake_bd) against the facts of
// reference/beads-cli.md that the engine will rely on: a double that drifts
// from real `bd` would make the beads adapter's tests prove nothing.

#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace maestro::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string data_file(const char* name) {
  return std::string(MAESTRO_BEADS_EXPORTS_DIR) + "/" + name;
}

// A directory with a beads store holding the dotfiles backlog.
struct bd_fixture {
  temp_dir dir;

  bd_fixture() {
    BOOST_TEST_REQUIRE(bd({"init", "--prefix", "df"}).exit_code == 0);
    BOOST_TEST_REQUIRE(bd({"import", "-i", data_file("dotfiles.jsonl")}).exit_code == 0);
  }

  // `bd ARGS...` with `env` settings first (NAME=VALUE).
  process_result bd(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    std::vector<std::string> argv{"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.emplace_back(MAESTRO_FAKE_BD);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, dir.path());
  }

  json::array array_of(const process_result& r) const {
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    return json::parse(r.out).as_array();
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fake_bd, bd_fixture)

BOOST_AUTO_TEST_CASE(its_store_is_not_issues_jsonl) {
  BOOST_TEST(!fs::exists(dir.path() / ".beads" / "issues.jsonl"));
  BOOST_TEST(fs::is_directory(dir.path() / ".beads" / "embeddeddolt"));
  const auto before = fs::file_size(dir.path() / ".beads" / "interactions.jsonl");
  BOOST_TEST_REQUIRE(bd({"update", "df-31t", "--claim", "--json"}).exit_code == 0);
  BOOST_TEST(fs::file_size(dir.path() / ".beads" / "interactions.jsonl") > before);
}

BOOST_AUTO_TEST_CASE(list_limits_and_the_truncation_hint) {
  const auto plain = bd({"list", "--json"});
  BOOST_TEST(array_of(plain).size() == 50U);
  BOOST_TEST(plain.err.find("Showing 50 of 56") != std::string::npos, plain.err);
  BOOST_TEST(array_of(bd({"list", "--json"}, {"BD_AGENT_MODE=1"})).size() == 20U);
  BOOST_TEST(array_of(bd({"list", "--json"}, {"CLAUDE_CODE_ENTRYPOINT=cli"})).size() == 20U);
  const auto open = bd({"list", "--json", "--limit", "0"});
  BOOST_TEST(array_of(open).size() == 56U);  // closed ones hidden
  BOOST_TEST(open.err.empty());
  const auto all = array_of(bd({"list", "--json", "--all", "--limit", "0"}));
  BOOST_TEST(all.size() == 140U);
  BOOST_TEST(all[0].at("schema_version") == 1);
  BOOST_TEST(all[0].as_object().contains("dependencies"));
}

BOOST_AUTO_TEST_CASE(claim_is_a_compare_and_swap) {
  const auto mine = array_of(bd({"update", "df-31t", "--claim", "--json"}, {"BEADS_ACTOR=me"}));
  BOOST_TEST(mine[0].at("status") == "in_progress");
  BOOST_TEST(mine[0].at("assignee") == "me");
  const auto theirs = bd({"update", "df-31t", "--claim", "--actor", "other", "--json"});
  BOOST_TEST(theirs.exit_code == 1);
  BOOST_TEST(theirs.err.find("already claimed by me") != std::string::npos, theirs.err);
  // The same actor again: fine.
  BOOST_TEST(bd({"update", "df-31t", "--claim", "--actor", "me", "--json"}).exit_code == 0);
  // --status is an unconditional write.
  BOOST_TEST(bd({"update", "df-31t", "--status", "open", "--assignee", "", "--json"}).exit_code ==
             0);
  BOOST_TEST(bd({"update", "nope", "--claim", "--json"}).exit_code == 1);
}

BOOST_AUTO_TEST_CASE(show_prints_an_array_and_both_unknown_id_behaviours) {
  const auto one = array_of(bd({"show", "df-2fv", "--json"}));
  BOOST_TEST_REQUIRE(one.size() == 1U);
  const auto& deps = one[0].at("dependencies").as_array();
  BOOST_TEST_REQUIRE(!deps.empty());
  BOOST_TEST(deps[0].as_object().contains("dependency_type"));
  BOOST_TEST(deps[0].as_object().contains("status"));
  for (const char* key : {"labels", "dependents", "comments", "parent"}) {
    BOOST_TEST(one[0].as_object().contains(key), key);
  }
  const auto none = bd({"show", "nope", "--json"});
  BOOST_TEST(none.exit_code == 1);
  BOOST_TEST(json::parse(none.out).at("error") == "no issues found matching the provided IDs");
  const auto some = bd({"show", "df-2fv", "nope", "--json"});
  BOOST_TEST(array_of(some).size() == 1U);
  BOOST_TEST(some.err.find("nope") != std::string::npos);
  const auto old = bd({"show", "nope", "--json"}, {"FAKE_BD_VERSION=0.47"});
  BOOST_TEST(old.exit_code == 0);
  BOOST_TEST(old.out.empty());
}

BOOST_AUTO_TEST_CASE(close_refuses_open_blockers_and_open_children_and_aborts_on_unknown_ids) {
  // df-2fv waits for df-8ji, df-tad and df-y63.
  const auto refused = bd({"close", "df-2fv", "--reason", "done", "--json"});
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(refused.err.find("--force") != std::string::npos, refused.err);
  // One unknown id aborts the whole close.
  const auto aborted = bd({"close", "df-31t", "nope", "--json"});
  BOOST_TEST(aborted.exit_code == 1);
  BOOST_TEST(array_of(bd({"show", "df-31t", "--json"}))[0].at("status") == "open");
  // Closing, then closing again, succeeds; the reason is kept.
  const auto closed = array_of(bd({"close", "df-31t", "--reason", "done", "--json"}));
  BOOST_TEST(closed[0].at("status") == "closed");
  BOOST_TEST(closed[0].at("close_reason") == "done");
  BOOST_TEST(bd({"close", "df-31t", "--json"}).exit_code == 0);
  // An epic with open children: make one from an import.
  dir.write("epic.jsonl",
            R"({"id":"ep","title":"Epic","issue_type":"epic","status":"open"}
{"id":"ep.1","status":"open","dependencies":[{"issue_id":"ep.1","depends_on_id":"ep","type":"parent-child"}]}
)");
  BOOST_TEST_REQUIRE(bd({"import", "-i", "epic.jsonl"}).exit_code == 0);
  BOOST_TEST(bd({"close", "ep", "--json"}).exit_code == 1);
  BOOST_TEST(bd({"close", "ep.1", "ep", "--json"}).exit_code == 0);  // children first
}

BOOST_AUTO_TEST_CASE(the_envelope_and_the_version_refusal) {
  const auto wrapped = bd({"list", "--json", "--limit", "1"}, {"BD_JSON_ENVELOPE=1"});
  BOOST_TEST_REQUIRE(wrapped.exit_code == 0, wrapped.err);
  const auto o = json::parse(wrapped.out).as_object();
  BOOST_TEST(o.at("schema_version") == 1);
  BOOST_TEST(o.at("data").as_array().size() == 1U);
  const auto newer = bd({"list", "--json"}, {"FAKE_BD_SCHEMA_NEWER=1"});
  BOOST_TEST(newer.exit_code == 1);
  BOOST_TEST(newer.err.find("newer than this bd") != std::string::npos, newer.err);
}

BOOST_AUTO_TEST_CASE(ready_claims_the_first_and_prints_an_empty_array_when_none) {
  const auto claimed = array_of(bd({"ready", "--claim", "--json"}, {"BEADS_ACTOR=me"}));
  BOOST_TEST_REQUIRE(claimed.size() == 1U);
  BOOST_TEST(claimed[0].at("assignee") == "me");
  const temp_dir empty;
  BOOST_TEST_REQUIRE(run_process({MAESTRO_FAKE_BD, "init"}, empty.path()).exit_code == 0);
  const auto none = run_process({MAESTRO_FAKE_BD, "ready", "--claim", "--json"}, empty.path());
  BOOST_TEST(none.exit_code == 0);
  BOOST_TEST(none.out == "[]\n");
}

BOOST_AUTO_TEST_SUITE_END()
