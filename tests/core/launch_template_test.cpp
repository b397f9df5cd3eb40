#include <boost/test/unit_test.hpp>

#include <maestro/core/launch_template.hpp>

using namespace maestro::core;
using strings = std::vector<std::string>;

namespace {

placeholder_values sample() {
  placeholder_values v;
  v.id = "t-1";
  v.title = "Fix login";
  v.description = "Edit src/login.cpp";
  v.agent = "backend-architect";
  v.group = "auth";
  v.skills = {"react", "a11y"};
  v.files = {"src/login.cpp", "README.md"};
  v.prompt = "Do it";
  v.workdir = "/work";
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(launch_template)

BOOST_AUTO_TEST_CASE(scalars_and_lists) {
  const strings argv{"agent",
                     "{id}",
                     "--title={title}",
                     "{skills}",
                     "--skills={skills}",
                     "{files}",
                     "files: {files}",
                     "{prompt}",
                     "{workdir}/{group}/{agent}"};
  BOOST_TEST(expand_argv(argv, sample()) ==
             (strings{"agent", "t-1", "--title=Fix login", "react", "a11y", "--skills=react,a11y",
                      "src/login.cpp", "README.md", "files: src/login.cpp README.md", "Do it",
                      "/work/auth/backend-architect"}));
}

BOOST_AUTO_TEST_CASE(empty_lists_vanish_and_unknown_names_stay) {
  auto v = sample();
  v.skills.clear();
  BOOST_TEST(expand_argv({"a", "{skills}", "{nope}", "{", "x}{"}, v) ==
             (strings{"a", "{nope}", "{", "x}{"}));
}

BOOST_AUTO_TEST_CASE(prompt_template_cannot_contain_itself) {
  BOOST_TEST(expand_text("Task {id}: {title} {prompt} Skills: {skills}", sample()) ==
             "Task t-1: Fix login {prompt} Skills: react,a11y");
}

BOOST_AUTO_TEST_CASE(file_paths_in_descriptions) {
  BOOST_TEST(file_paths_in("Edit src/a.cpp and `README.md`, then (docs/guide.txt). "
                           "See https://x.org/a.html, v1.5 and main.cpp. Also src/a.cpp again") ==
             (strings{"src/a.cpp", "README.md", "docs/guide.txt", "main.cpp"}));
  BOOST_TEST(file_paths_in("no files here, e.g. nothing, i.e. none").empty());
  BOOST_TEST(file_paths_in("see a.py and b.txt") == (strings{"a.py", "b.txt"}));
  BOOST_TEST(file_paths_in("\x1b[1mschema.sql\x1b[0m") == (strings{"schema.sql"}));
}

BOOST_AUTO_TEST_SUITE_END()
