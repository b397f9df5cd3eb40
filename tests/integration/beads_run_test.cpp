// `run` on the structure of a real beads backlog (tests/data/beads,
// anonymized), with fast fake agents that stamp their start and end: no
// epic is launched, no task starts before every blocker it has, directly or
// through its ancestors, has ended, and every task that can run does.

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"
#include "support/beads_reference.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;

namespace {

fs::path beads_dir() {
  return MAESTRO_BEADS_EXPORTS_DIR;
}

struct span {
  long long start = -1;
  long long end = -1;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(beads_run, engine_fixture)

BOOST_AUTO_TEST_CASE(dotfiles_runs_as_beads_means_it) {
  fs::copy_file(beads_dir() / "dotfiles.jsonl", dir.path() / "tasks.json");
  config("\"max_concurrent\": 8, \"agent_defaults\": {\"command\": " +
         agent({"stamp", "stamps", "sleep", "5"}) + "}");
  const auto r = run({"run"});
  // Tasks held by an epic without children stay blocked: the run is
  // incomplete.
  BOOST_TEST(r.exit_code == 4, r.err);

  std::map<std::string, span> spans;
  std::istringstream in(read_file(dir.path() / "stamps"));
  for (std::string id, what; in >> id >> what;) {
    long long ns = 0;
    in >> ns;
    auto& s = spans[id];
    BOOST_TEST((what == "start" ? s.start : s.end) == -1, id << " " << what << " twice");
    (what == "start" ? s.start : s.end) = ns;
  }

  const beads_reference ref(beads_dir() / "dotfiles.jsonl", false);
  std::size_t ran = 0;
  std::size_t stuck = 0;
  for (const auto& [id, issue] : ref.issues()) {
    const auto it = spans.find(id);
    if (ref.is_epic(id) || !ref.runs(id)) {
      BOOST_TEST((it == spans.end()), "launched: " << id);
      continue;
    }
    if (ref.stuck(id)) {
      ++stuck;
      BOOST_TEST((it == spans.end()), "ran although it waits on what never completes: " << id);
      continue;
    }
    BOOST_TEST_REQUIRE((it != spans.end()), "never ran: " << id);
    BOOST_TEST(it->second.end > it->second.start, id);
    ++ran;
    // Every blocker, its own or an ancestor's, ended before it started.
    for (const auto& blocker : ref.blockers(id)) {
      for (const auto& work : ref.work_of(blocker)) {
        if (work == id || ref.below(work, id)) {
          continue;
        }
        const auto w = spans.find(work);
        BOOST_TEST_REQUIRE((w != spans.end()), id << " started though " << work << " never ran");
        BOOST_TEST(w->second.end < it->second.start,
                   id << " started before " << work << " (for " << blocker << ") ended");
      }
    }
  }
  BOOST_TEST(ran > 40U);
  BOOST_TEST(stuck > 0U);
}

BOOST_AUTO_TEST_CASE(an_epic_is_closed_after_the_group_of_its_last_child) {
  // With group_by epic, e's children form group e; f's children are two
  // sequential stages, and f is closed after the second. `after` depends
  // on e: it waits for e's children. Nothing launches the epics.
  tasks(R"([
    {"id": "e", "title": "Epic", "issue_type": "epic"},
    {"id": "e.1", "dependencies": [{"issue_id": "e.1", "depends_on_id": "e", "type": "parent-child"}]},
    {"id": "e.2", "dependencies": [{"issue_id": "e.2", "depends_on_id": "e", "type": "parent-child"}]},
    {"id": "after", "dependencies": ["e"]},
    {"id": "f", "title": "Epic", "issue_type": "epic"},
    {"id": "f.1", "title": "[P:Group-one] first",
     "dependencies": [{"issue_id": "f.1", "depends_on_id": "f", "type": "parent-child"}]},
    {"id": "f.2", "title": "[P:Group-two] second",
     "dependencies": [{"issue_id": "f.2", "depends_on_id": "f", "type": "parent-child"}, "f.1"]},
    {"id": "lonely", "title": "Epic", "issue_type": "epic"}
  ])");
  config("\"group_by\": \"epic\", \"agent_defaults\": {\"command\": " +
         agent({"stamp", "stamps", "sleep", "20"}) + "}");
  const auto r = run({"run"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  const auto e = metadata("e").at("epics").as_array();
  BOOST_TEST_REQUIRE(e.size() == 1U);
  BOOST_TEST(e[0].at("id") == "e");
  BOOST_TEST(e[0].at("closed") == true);
  BOOST_TEST(metadata("one").at("epics").as_array().empty());
  const auto f = metadata("two").at("epics").as_array();
  BOOST_TEST_REQUIRE(f.size() == 1U);
  BOOST_TEST(f[0].at("id") == "f");
  BOOST_TEST(f[0].at("closed") == true);
  BOOST_TEST(!fs::exists(group_path("lonely")));
  BOOST_TEST(!fs::exists(group_path("_sequential.lonely")));

  std::map<std::string, span> spans;
  std::istringstream in(read_file(dir.path() / "stamps"));
  for (std::string id, what; in >> id >> what;) {
    long long ns = 0;
    in >> ns;
    (what == "start" ? spans[id].start : spans[id].end) = ns;
  }
  BOOST_TEST(spans.size() == 5U);  // e.1 e.2 after f.1 f.2: no epic
  BOOST_TEST(spans.at("after").start > spans.at("e.1").end);
  BOOST_TEST(spans.at("after").start > spans.at("e.2").end);

  const auto status = run({"status", "e"});
  BOOST_TEST(status.out.find("epics closed after this group's tasks:") != std::string::npos,
             status.out);
}

BOOST_AUTO_TEST_CASE(an_epic_stays_open_when_a_child_fails) {
  tasks(R"([
    {"id": "e", "issue_type": "epic"},
    {"id": "ok", "dependencies": [{"issue_id": "ok", "depends_on_id": "e", "type": "parent-child"}]},
    {"id": "bad", "title": "bad", "dependencies": [{"issue_id": "bad", "depends_on_id": "e", "type": "parent-child"}]}
  ])");
  config("\"group_by\": \"epic\", \"agent_defaults\": {\"command\": " + agent({"exit", "0"}) +
         "}, \"agents\": {\"failing\": {\"command\": " + agent({"exit", "3"}) +
         "}}, \"auto_detect\": {\"failing\": [\"bad\"]}");
  const auto r = run({"run"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto e = metadata("e").at("epics").as_array();
  BOOST_TEST_REQUIRE(e.size() == 1U);
  BOOST_TEST(e[0].at("closed") == false);
}

BOOST_AUTO_TEST_SUITE_END()
