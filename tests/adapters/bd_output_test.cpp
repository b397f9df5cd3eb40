// `bd --json` output in every documented shape (reference/beads-cli.md),
// and the double's real output read back as the export it came from.

#include <algorithm>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/adapters/bd_output.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/input_error.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace maestro;

namespace {

std::vector<std::string> ids_of(const std::vector<core::task>& tasks) {
  std::vector<std::string> ids;
  ids.reserve(tasks.size());
  for (const auto& t : tasks) {
    ids.push_back(t.id);
  }
  return ids;
}

std::string error_of(std::string_view output) {
  try {
    (void)parse_bd_issues(output, "show");
  } catch (const bd_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bd_output)

BOOST_AUTO_TEST_CASE(every_documented_shape) {
  const std::string issue =
      R"({"id":"a","title":"t","status":"open","priority":1,"schema_version":1,)"
      R"("dependencies":[{"issue_id":"a","depends_on_id":"b","type":"blocks","metadata":"{}"}]})";
  using ids = std::vector<std::string>;
  BOOST_TEST(ids_of(parse_bd_issues("[" + issue + "]\n", "list")) == ids{"a"});
  BOOST_TEST(ids_of(parse_bd_issues(issue, "show")) == ids{"a"});
  BOOST_TEST(ids_of(parse_bd_issues(R"({"schema_version":1,"data":[)" + issue + "]}", "list")) ==
             ids{"a"});
  BOOST_TEST(ids_of(parse_bd_issues(R"({"schema_version":1,"data":)" + issue + "}", "show")) ==
             ids{"a"});
  BOOST_TEST(parse_bd_issues("[]\n", "ready").empty());
  BOOST_TEST(parse_bd_issues("", "show").empty());  // v0.47's unknown id
  const auto read = parse_bd_issues("[" + issue + "]", "list");
  BOOST_TEST(read[0].priority == 1);
  BOOST_TEST(read[0].dependencies[0].id == "b");
  // bd show: dependencies are whole issues with dependency_type.
  const auto shown = parse_bd_issues(
      R"([{"id":"c","title":"x","dependencies":[{"id":"p","title":"parent","status":"open",)"
      R"("dependency_type":"parent-child"}],"dependents":[],"parent":"p"}])",
      "show");
  BOOST_TEST(shown[0].dependencies[0].id == "p");
  BOOST_TEST(shown[0].dependencies[0].is_parent_link());
}

BOOST_AUTO_TEST_CASE(errors_are_one_line_naming_the_command) {
  BOOST_TEST(
      error_of(R"({"error":"no issues found matching the provided IDs","schema_version":1})") ==
      "bd show: no issues found matching the provided IDs");
  BOOST_TEST(error_of(R"({"schema_version":1,"data":{"error":"boom"}})") == "bd show: boom");
  BOOST_TEST(error_of("Error: database locked").find("bd show: output is not JSON") == 0U);
  BOOST_TEST(error_of("42").find("bd show: expected an array of issues") == 0U);
  BOOST_TEST(error_of(R"([{"id":"a","id":"b"}])").find("duplicate key") != std::string::npos);
  BOOST_CHECK_THROW((void)parse_bd_issues(R"([{"title":"no id"}])", "list"), core::input_error);
}

BOOST_AUTO_TEST_CASE(the_doubles_list_is_the_export_it_imported) {
  const test::temp_dir dir;
  const std::string bd = MAESTRO_FAKE_BD;
  const std::string exported = std::string(MAESTRO_BEADS_EXPORTS_DIR) + "/atari.jsonl";
  BOOST_TEST_REQUIRE(test::run_process({bd, "init"}, dir.path()).exit_code == 0);
  BOOST_TEST_REQUIRE(test::run_process({bd, "import", "-i", exported}, dir.path()).exit_code == 0);
  for (const char* envelope : {"BD_JSON_ENVELOPE=0", "BD_JSON_ENVELOPE=1"}) {
    const auto r = test::run_process(
        {"/usr/bin/env", envelope, bd, "list", "--json", "--all", "--limit", "0"}, dir.path());
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    auto listed = parse_bd_issues(r.out, "list");
    // bd lists by priority; in id order it is the export, field for field.
    std::sort(listed.begin(), listed.end(),
              [](const core::task& a, const core::task& b) { return a.id < b.id; });
    const auto doc = load_task_file(exported);
    BOOST_TEST_REQUIRE(listed.size() == doc.tasks.size());
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const auto& a = listed[i];
      const auto& b = doc.tasks[i];
      BOOST_TEST(a.id == b.id);
      BOOST_TEST(a.status == b.status, a.id);
      BOOST_TEST(a.issue_type == b.issue_type, a.id);
      BOOST_TEST(a.priority == b.priority, a.id);
      BOOST_TEST(a.dependencies.size() == b.dependencies.size(), a.id);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
