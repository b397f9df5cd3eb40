#include <boost/test/unit_test.hpp>

#include <maestro/core/agent_selection.hpp>

using namespace maestro::core;

namespace {

task make(std::string title, std::string description = {}) {
  task t;
  t.id = "t";
  t.title = std::move(title);
  t.description = std::move(description);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_selection)

BOOST_AUTO_TEST_CASE(metadata_wins_over_keywords) {
  auto t = make("Build the React component");
  t.subagent_type = "custom-agent";
  const auto choice = choose_agent(t, default_keyword_table(), "backend-architect");
  BOOST_TEST(choice.agent == "custom-agent");
  BOOST_TEST((choice.source == agent_source::metadata));
}

BOOST_AUTO_TEST_CASE(highest_score_wins) {
  // database-architect matches database, migration and schema (3);
  // backend-architect matches database only (1).
  const auto choice =
      choose_agent(make("Database migration", "Update the schema"), default_keyword_table(), "x");
  BOOST_TEST(choice.agent == "database-architect");
  BOOST_TEST((choice.source == agent_source::keywords));
  BOOST_TEST(choice.matched == (std::vector<std::string>{"database", "migration", "schema"}));
}

BOOST_AUTO_TEST_CASE(tie_goes_to_first_listed) {
  // "database" scores 1 for backend-architect (listed first) and 1 for
  // database-architect.
  const auto choice = choose_agent(make("Tune the database"), default_keyword_table(), "x");
  BOOST_TEST(choice.agent == "backend-architect");
}

BOOST_AUTO_TEST_CASE(keywords_match_whole_words_ignoring_case) {
  BOOST_TEST(contains_word("Fix the UI layout", "ui"));
  BOOST_TEST(contains_word("ui", "UI"));
  BOOST_TEST(contains_word("(api)", "api"));
  BOOST_TEST(!contains_word("build the guide", "ui"));
  BOOST_TEST(!contains_word("rapid apis", "api"));
  BOOST_TEST(!contains_word("test_runner", "test"));
  BOOST_TEST(contains_word("end-to-end test-suite", "test"));
  BOOST_TEST(!contains_word("", "test"));
}

BOOST_AUTO_TEST_CASE(no_match_gives_default_agent) {
  const auto choice = choose_agent(make("Write release notes"), default_keyword_table(), "writer");
  BOOST_TEST(choice.agent == "writer");
  BOOST_TEST((choice.source == agent_source::default_agent));
}

BOOST_AUTO_TEST_CASE(custom_table_replaces_builtin) {
  const keyword_table table{{"docs-writer", {"readme", "docs"}}, {"frontend-developer", {"ui"}}};
  BOOST_TEST(choose_agent(make("Update README"), table, "d").agent == "docs-writer");
  // "api" is in the built-in table only.
  BOOST_TEST(choose_agent(make("New API"), table, "d").agent == "d");
}

BOOST_AUTO_TEST_SUITE_END()
