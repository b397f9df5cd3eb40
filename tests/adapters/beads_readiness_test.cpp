// The readiness comparison (SPEC section 1): on the structure of two real
// beads backlogs (tests/data/beads, anonymized), the tasks the engine's
// plan can start now must be exactly those whose blocking dependencies are
// all satisfied, directly and through their parents.
//
// The expected sets come from outside the engine: for the dotfiles backlog,
// `bd ready`'s set derived by hand from the data (plus the `in_progress`
// task a task file still runs), mapped through the anonymization
// (tests/data/beads/README.md); for the atari backlog reopened, from
// the reference, the rule written again in this test's own terms
// over the raw JSON (tests/support/beads_reference.hpp), sharing no code
// with the planner.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/adapters/task_file.hpp>
#include <maestro/core/plan.hpp>

#include "support/beads_reference.hpp"

using namespace maestro;

namespace {

std::filesystem::path beads_dir() {
  return MAESTRO_BEADS_EXPORTS_DIR;
}

// The tasks the engine's plan can start at once: planned, and waiting for
// nothing, inside the run or outside it.
std::set<std::string> engine_ready(const std::vector<core::task>& tasks) {
  const auto plan = core::make_plan(tasks, {});
  std::set<std::string> ready;
  for (const auto& p : plan.tasks) {
    if (p.ready()) {
      ready.insert(tasks[p.index].id);
    }
  }
  return ready;
}

std::vector<core::task> reopened(std::vector<core::task> tasks) {
  for (auto& t : tasks) {
    if (t.status == "closed") {
      t.status = "open";
    }
  }
  return tasks;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(beads_readiness)

BOOST_AUTO_TEST_CASE(dotfiles_matches_bd_ready_by_hand) {
  const auto doc = load_task_file(beads_dir() / "dotfiles.jsonl");
  // bd ready, by hand, on the original: dotfiles-1dc 5pl 66r 66r.1 66r.2
  // 66r.3 66r.4 66r.5 cwj d6g p6s; plus p6s.4, in progress. Mapped:
  const std::set<std::string> expected{"df-31t",   "df-7xk",   "df-8ji",   "df-8ji.1",
                                       "df-8ji.2", "df-8ji.3", "df-8ji.4", "df-8ji.5",
                                       "df-iaz",   "df-iwy",   "df-s2f",   "df-s2f.4"};
  BOOST_TEST(engine_ready(doc.tasks) == expected);
  // The reference agrees with the hand-made set.
  BOOST_TEST(test::beads_reference(beads_dir() / "dotfiles.jsonl", false).ready() == expected);
}

BOOST_AUTO_TEST_CASE(atari_reopened_matches_the_reference) {
  const auto doc = load_task_file(beads_dir() / "atari.jsonl");
  const auto expected = test::beads_reference(beads_dir() / "atari.jsonl", true).ready();
  BOOST_TEST(expected.size() == 55U);
  BOOST_TEST(engine_ready(reopened(doc.tasks)) == expected);
}

BOOST_AUTO_TEST_CASE(no_epic_is_planned_on_either_backlog) {
  for (const char* name : {"dotfiles.jsonl", "atari.jsonl"}) {
    const auto tasks = reopened(load_task_file(beads_dir() / name).tasks);
    const auto plan = core::make_plan(tasks, {});
    for (const auto& p : plan.tasks) {
      BOOST_TEST(tasks[p.index].issue_type != "epic", name << ": " << tasks[p.index].id);
    }
    std::size_t epics = 0;
    for (const auto& t : tasks) {
      epics += t.issue_type == "epic" && t.status != "tombstone" ? 1 : 0;
    }
    BOOST_TEST(plan.epics.size() == epics, name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
