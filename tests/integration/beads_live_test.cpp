// `--beads` on the real binary against the `bd` double (tests/support/fake_bd,
// documented in tests/support/README-fake-bd.md): tasks are claimed before
// they launch, closed after the group, handed back when they fail; a
// blocker closed through another `bd` wakes what waits for it through the
// watch; and each row of SPEC section 10's table, with `bd` made to refuse
// or to hang by a wrapper script around the double.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/engine_fixture.hpp"

using namespace maestro::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Two tasks of group A, one task after t-1, and one that alice holds.
const char* const backlog =
    R"({"id":"t-1","title":"one [P:Group-A]","status":"open","priority":1}
{"id":"t-2","title":"two [P:Group-A]","status":"open","priority":1}
{"id":"t-3","title":"alice's","status":"in_progress","assignee":"alice","priority":1}
{"id":"t-4","title":"after one","status":"open","dependencies":[{"issue_id":"t-4","depends_on_id":"t-1","type":"blocks"}]}
)";

struct beads_fixture : engine_fixture {
  std::string bd_path = MAESTRO_FAKE_BD;

  beads_fixture() { BOOST_TEST_REQUIRE(bd({"init", "--prefix", "t"}).exit_code == 0); }

  [[nodiscard]] process_result bd(std::vector<std::string> args) const {
    args.insert(args.begin(), bd_path);
    return run_process(args, dir.path());
  }

  void import(const std::string& jsonl) const {
    dir.write("issues.jsonl", jsonl);
    const auto r = bd({"import", "-i", "issues.jsonl"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  }

  /// `config` with the given members, and the actor set and the re-check
  /// off unless `extra` has a `beads` member of its own.
  void beads_config(const std::string& extra) const {
    if (extra.find("\"beads\"") != std::string::npos) {
      config(extra);
      return;
    }
    config("\"beads\": {\"actor\": \"maestro-test\", \"recheck_s\": 0}" +
           (extra.empty() ? std::string() : ", " + extra));
  }

  /// `maestro-async ARGS... --beads --bd PROGRAM --no-progress`.
  [[nodiscard]] process_result beads(std::vector<std::string> args,
                                     const std::string& program = {}) const {
    return run_process(beads_line(std::move(args), program), dir.path());
  }
  [[nodiscard]] std::vector<std::string> beads_line(std::vector<std::string> args,
                                                    const std::string& program) const {
    args.insert(args.begin(), MAESTRO_ASYNC_BIN);
    args.insert(args.end(), {"--beads", "--bd", program.empty() ? bd_path : program});
    if (args[1] != "detect") {
      args.emplace_back("--no-progress");
    }
    return args;
  }

  /// The issue as `bd show` prints it.
  [[nodiscard]] json::object issue(const std::string& id) const {
    const auto r = bd({"show", id, "--json"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    return json::parse(r.out).as_array().at(0).as_object();
  }
  [[nodiscard]] std::string field(const std::string& id, const std::string& name) const {
    const auto i = issue(id);
    const auto* v = i.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  }

  /// A `bd` that runs `shell` (a `case "$*" in ...` arm list) first, then
  /// the double: to make one kind of call refuse or hang.
  [[nodiscard]] std::string wrapper(const std::string& name, const std::string& arms) const {
    dir.write(name,
              "#!/bin/sh\ncase \" $* \" in\n" + arms + "\nesac\nexec " + bd_path + " \"$@\"\n");
    fs::permissions(dir.path() / name, fs::perms::owner_all);
    return "./" + name;
  }

  /// Group B's t-5 waits for alice's t-3 (`blocked_wait_s`): starts
  /// `execute B` with `program` as bd and returns once t-5 is blocked.
  [[nodiscard]] running_process wait_for_alice(const std::string& program,
                                               int blocked_wait_s = 60) const {
    import(
        std::string(backlog) +
        R"({"id":"t-5","title":"after alice [P:Group-B]","status":"open","dependencies":[{"issue_id":"t-5","depends_on_id":"t-3","type":"blocks"}]}
)");
    beads_config("\"blocked_wait_s\": " + std::to_string(blocked_wait_s) +
                 ", \"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"echo {id} >> ran\"]}");
    auto engine = start_process(beads_line({"execute", "B"}, program), dir.path());
    BOOST_TEST_REQUIRE(eventually([&] {
      return fs::exists(group_path("B") / "metadata.json") &&
             result("B", "t-5").at("status") == "blocked";
    }));
    return engine;
  }

  /// A `bd` that appends each call's arguments to `bd.log`.
  [[nodiscard]] std::string logged() const {
    return wrapper("bd-logged", R"( *) echo "$*" >> bd.log;;)");
  }

  [[nodiscard]] std::vector<std::string> errors(const std::string& group) const {
    std::vector<std::string> out;
    const auto md = metadata(group);
    for (const auto& e : md.at("errors").as_array()) {
      out.emplace_back(e.as_string());
    }
    return out;
  }
};

bool has(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines) {
    if (l.find(part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += l + "\n";
  }
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(beads_live, beads_fixture)

BOOST_AUTO_TEST_CASE(a_backlog_is_claimed_run_and_closed) {
  import(backlog);
  // Each agent asks bd about its own task while it runs: it must be the
  // engine's already.
  beads_config("\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"" + bd_path +
               " show {id} --json > seen-{id}.json\"]}");
  const auto detect = beads({"detect"});
  BOOST_TEST_REQUIRE(detect.exit_code == 0, detect.err);
  BOOST_TEST(detect.out.find("t-3  claimed by alice") != std::string::npos, detect.out);

  const auto r = beads({"run"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  for (const std::string id : {"t-1", "t-2", "t-4"}) {
    const auto seen = json::parse(read_file(dir.path() / ("seen-" + id + ".json")));
    BOOST_TEST(seen.as_array().at(0).at("status") == "in_progress", id);
    BOOST_TEST(seen.as_array().at(0).at("assignee") == "maestro-test", id);
    BOOST_TEST(field(id, "status") == "closed", id);
    BOOST_TEST(field(id, "close_reason") == "maestro-async: completed", id);
  }
  // alice's task is left to her.
  BOOST_TEST(!fs::exists(dir.path() / "seen-t-3.json"));
  BOOST_TEST(field("t-3", "status") == "in_progress");
  BOOST_TEST(field("t-3", "assignee") == "alice");
  // The actor is in the state; the engine never read bd's store.
  BOOST_TEST(metadata("A").at("actor") == "maestro-test");
  BOOST_TEST(metadata("A").at("source") == "bd list");
  BOOST_TEST(metadata("A").at("errors").as_array().empty());
  // Every change went through bd: the interactions log has the claims and
  // the closes.
  const auto log = lines(".beads/interactions.jsonl");
  BOOST_TEST(has(log, R"("issue_id": "t-1", "ts")"), joined(log));
  BOOST_TEST(has(log, R"("new_value": "maestro-test")"), joined(log));
}

BOOST_AUTO_TEST_CASE(a_task_claimed_by_another_actor_meanwhile_is_skipped_not_run) {
  import(backlog);
  // Bob claims t-2 after the engine read the backlog, before it launches
  // (the group's refresh command does it).
  beads_config(
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"echo {id} >> ran\"]}, "
      "\"refresh\": {\"command\": [\"" +
      bd_path + "\", \"update\", \"t-2\", \"--claim\", \"--actor\", \"bob\", \"--json\"]}");
  const auto r = beads({"execute", "A"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(read_file(dir.path() / "ran") == "t-1\n");
  BOOST_TEST(result("A", "t-2").at("status") == "skipped");
  BOOST_TEST(result("A", "t-2").at("error") == "claimed by bob");
  BOOST_TEST(metadata("A").at("status") == "completed");
  // Bob keeps it; nothing was released or closed of it.
  BOOST_TEST(field("t-2", "assignee") == "bob");
  BOOST_TEST(field("t-2", "status") == "in_progress");
  BOOST_TEST(field("t-1", "status") == "closed");
}

BOOST_AUTO_TEST_CASE(a_blocker_closed_through_bd_wakes_the_waiting_task) {
  // t-5 waits for alice's t-3; she closes it through her own bd while the
  // group waits. The re-check is off: only the watch of .beads/ can tell.
  auto engine = wait_for_alice({});
  const auto closing = bd({"close", "t-3", "--reason", "done", "--actor", "alice", "--json"});
  BOOST_TEST_REQUIRE(closing.exit_code == 0, closing.err);
  // Had nothing woken it, blocked_wait_s would end the group incomplete
  // (exit 4) with t-5 still blocked.
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(read_file(dir.path() / "ran") == "t-5\n");
  BOOST_TEST(field("t-5", "status") == "closed");
}

BOOST_AUTO_TEST_CASE(a_refused_close_is_an_error_of_a_group_that_stays_completed) {
  import(std::string(backlog) +
         R"({"id":"t-9","title":"new work","status":"open"}
)");
  // While t-1 runs, someone makes it depend on t-9: bd refuses to close it.
  beads_config("\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"[ {id} != t-1 ] || " +
               bd_path + " dep add t-1 t-9\"]}");
  const auto r = beads({"execute", "A"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(metadata("A").at("status") == "completed");
  const auto errs = errors("A");
  BOOST_TEST_REQUIRE(errs.size() == 1U, joined(errs));
  BOOST_TEST(errs[0].starts_with("closing: t-1: "), errs[0]);
  BOOST_TEST(errs[0].find("blocked by open issues t-9") != std::string::npos, errs[0]);
  BOOST_TEST(field("t-1", "status") == "in_progress");
  BOOST_TEST(field("t-2", "status") == "closed");
  // detect shows it still open: to do again once t-9 is done.
  const auto detect = beads({"detect"});
  BOOST_TEST(detect.out.find("t-1  P1") != std::string::npos, detect.out);
  BOOST_TEST(detect.out.find("waits for t-9") != std::string::npos, detect.out);
}

BOOST_AUTO_TEST_CASE(an_epic_is_closed_between_its_children_and_what_depends_on_it) {
  // t-7 depends on epic t-e, whose children run in the same group: bd
  // refuses to close t-7 while t-e is open, and t-e while a child is.
  import(R"({"id":"t-e","title":"the epic","status":"open","issue_type":"epic"}
{"id":"t-c1","title":"child one [P:Group-A]","status":"open","dependencies":[{"issue_id":"t-c1","depends_on_id":"t-e","type":"parent-child"}]}
{"id":"t-c2","title":"child two [P:Group-A]","status":"open","dependencies":[{"issue_id":"t-c2","depends_on_id":"t-e","type":"parent-child"}]}
{"id":"t-7","title":"after the epic [P:Group-A]","status":"open","dependencies":[{"issue_id":"t-7","depends_on_id":"t-e","type":"blocks"}]}
)");
  beads_config("\"agent_defaults\": {\"command\": [\"true\"]}");
  const auto r = beads({"execute", "A"}, logged());
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(metadata("A").at("errors").as_array().empty(), joined(errors("A")));
  for (const std::string id : {"t-e", "t-c1", "t-c2", "t-7"}) {
    BOOST_TEST(field(id, "status") == "closed", id);
  }
  BOOST_TEST(has(lines("bd.log"), "close t-c1 t-c2 t-e t-7 --reason"), joined(lines("bd.log")));
}

BOOST_AUTO_TEST_CASE(a_failed_task_is_handed_back_with_the_reason) {
  import(backlog);
  beads_config(
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"[ {id} != t-2 ] || exit 3\"]}");
  const auto r = beads({"execute", "A"});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(field("t-2", "status") == "open");
  BOOST_TEST(field("t-2", "assignee") == "");
  const auto notes = field("t-2", "notes");
  BOOST_TEST(notes.starts_with("maestro-async: failed in group A"), notes);
  BOOST_TEST(notes.find("exit") != std::string::npos, notes);
  // The group failed: nothing is closed, and t-1 (completed) keeps its claim
  // until a run that passes closes it.
  BOOST_TEST(field("t-1", "status") == "in_progress");
  BOOST_TEST(field("t-1", "assignee") == "maestro-test");

  // With beads.release_claims false the claim is kept.
  beads_config(
      "\"beads\": {\"actor\": \"maestro-test\", \"release_claims\": false}, "
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"exit 3\"]}");
  BOOST_TEST(beads({"execute", "A"}).exit_code == 1);
  BOOST_TEST(field("t-2", "status") == "in_progress");
  BOOST_TEST(field("t-2", "assignee") == "maestro-test");
}

// SPEC section 10's table, row by row: `list` at start.
BOOST_AUTO_TEST_CASE(list_refused_or_timed_out_is_exit_2_and_nothing_launches) {
  import(backlog);
  beads_config("\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"echo {id} >> ran\"]}");
  const auto refusing = wrapper("bd-refuse",
                                " *\\ list\\ *) echo 'Error: store is locked' >&2; "
                                "exit 1;;");
  const auto r = beads({"run"}, refusing);
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err == "maestro-async: bd: bd list failed (exit 1): Error: store is locked\n",
             r.err);
  BOOST_TEST(!fs::exists(dir.path() / "ran"));
  BOOST_TEST(!fs::exists(dir.path() / "state" / "parallel_groups"));

  beads_config(
      "\"beads\": {\"timeout_s\": 3}, "
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"echo {id} >> ran\"]}");
  const auto hanging = wrapper("bd-hang", " *\\ list\\ *) sleep 60;;");
  const auto h = beads({"run"}, hanging);
  BOOST_TEST(h.exit_code == 2);
  BOOST_TEST(h.err == "maestro-async: bd: bd list did not answer within 3 s\n", h.err);
  BOOST_TEST(!fs::exists(dir.path() / "ran"));

  const auto not_json = wrapper("bd-garbage", " *\\ list\\ *) echo 'Showing 3 issues'; exit 0;;");
  const auto g = beads({"run"}, not_json);
  BOOST_TEST(g.exit_code == 2);
  BOOST_TEST(g.err.find("output is not JSON") != std::string::npos, g.err);
}

// `update --claim`: refused for another reason, or timed out, is a failed
// attempt (the attempt rules apply: here one retry).
BOOST_AUTO_TEST_CASE(a_claim_refused_or_timed_out_is_a_failed_attempt) {
  import(backlog);
  beads_config(
      "\"retries\": 1, \"retry_backoff_s\": 0, "
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"echo {id} >> ran\"]}");
  const auto refusing =
      wrapper("bd-refuse",
              " *\\ update\\ t-2\\ *--claim*) echo 'Error: database is read-only' >&2; exit 1;;");
  const auto r = beads({"execute", "A"}, refusing);
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto t2 = result("A", "t-2");
  BOOST_TEST(t2.at("status") == "failed");
  BOOST_TEST(t2.at("attempts") == 2);
  BOOST_TEST(t2.at("error").as_string().find("cannot claim t-2: Error: database is read-only") !=
                 json::string::npos,
             t2);
  BOOST_TEST(read_file(dir.path() / "ran") == "t-1\n");
  // Never claimed, so not handed back: still open and unassigned.
  BOOST_TEST(field("t-2", "status") == "open");
  fs::remove(dir.path() / "ran");

  beads_config(
      "\"retries\": 0, \"beads\": {\"actor\": \"maestro-test\", \"timeout_s\": 3}, "
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"echo {id} >> ran\"]}");
  const auto hanging = wrapper("bd-hang", " *\\ update\\ t-2\\ *--claim*) sleep 60;;");
  const auto h = beads({"execute", "A", "--force"}, hanging);
  BOOST_TEST(h.exit_code == 1, h.err);
  BOOST_TEST(result("A", "t-2").at("error") ==
             "attempt 1 (backend-architect): could not start: cannot claim t-2: bd update --claim "
             "did not answer within 3 s");
}

// Release: refused or timed out is a warning in the group's errors.
BOOST_AUTO_TEST_CASE(a_release_refused_or_timed_out_is_recorded_in_errors) {
  import(backlog);
  beads_config("\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"exit 3\"]}");
  const auto refusing =
      wrapper("bd-refuse", " *--append-notes*) echo 'Error: notes are locked' >&2; exit 1;;");
  BOOST_TEST(beads({"execute", "A"}, refusing).exit_code == 1);
  const auto errs = errors("A");
  BOOST_TEST(has(errs, "releasing: t-1: Error: notes are locked"), joined(errs));
  BOOST_TEST(has(errs, "releasing: t-2: Error: notes are locked"), joined(errs));

  beads_config(
      "\"beads\": {\"actor\": \"maestro-test\", \"timeout_s\": 3}, "
      "\"agent_defaults\": {\"command\": [\"sh\", \"-c\", \"exit 3\"]}");
  const auto hanging = wrapper("bd-hang", " *--append-notes*) sleep 60;;");
  BOOST_TEST(beads({"execute", "A", "--force"}, hanging).exit_code == 1);
  BOOST_TEST(has(errors("A"), "releasing: t-1: bd update did not answer within 3 s"),
             joined(errors("A")));
}

// Close: refused or timed out is recorded in errors; the group stays
// completed and the run exits 0.
BOOST_AUTO_TEST_CASE(a_close_refused_or_timed_out_keeps_the_group_completed) {
  import(backlog);
  beads_config("\"agent_defaults\": {\"command\": [\"true\"]}");
  const auto refusing =
      wrapper("bd-refuse", " *\\ close\\ *) echo 'Error: database is read-only' >&2; exit 1;;");
  const auto r = beads({"execute", "A"}, refusing);
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(metadata("A").at("status") == "completed");
  BOOST_TEST(has(errors("A"), "closing: t-1: Error: database is read-only"), joined(errors("A")));
  BOOST_TEST(has(errors("A"), "closing: t-2: Error: database is read-only"), joined(errors("A")));

  beads_config(
      "\"beads\": {\"actor\": \"maestro-test\", \"timeout_s\": 3}, "
      "\"agent_defaults\": {\"command\": [\"true\"]}");
  const auto hanging = wrapper("bd-hang", " *\\ close\\ *) sleep 60;;");
  const auto h = beads({"execute", "A", "--force"}, hanging);
  BOOST_TEST(h.exit_code == 0, h.err);
  BOOST_TEST(has(errors("A"), "closing: t-1: bd close did not answer within 3 s"),
             joined(errors("A")));
}

// `show` to confirm a hint: refused or timed out, the hint is dropped with
// a warning, and the next hint tries again.
BOOST_AUTO_TEST_CASE(a_show_refused_drops_the_hint_with_a_warning) {
  // bd show refuses while the file `refuse-show` exists.
  const auto flaky = wrapper("bd-flaky",
                             " *\\ show\\ *) if [ -e refuse-show ]; then touch refused; echo "
                             "'Error: busy' >&2; exit 1; fi;;");
  dir.write("refuse-show", "");
  auto engine = wait_for_alice(flaky);
  BOOST_TEST_REQUIRE(bd({"close", "t-3", "--actor", "alice"}).exit_code == 0);
  // The hint was dropped: t-5 still waits. Then bd answers again, and the
  // next change under .beads/ is a new hint.
  BOOST_TEST_REQUIRE(eventually([&] { return fs::exists(dir.path() / "refused"); }));
  BOOST_TEST(result("B", "t-5").at("status") == "blocked");
  fs::remove(dir.path() / "refuse-show");
  BOOST_TEST_REQUIRE(bd({"dep", "add", "t-4", "t-2"}).exit_code == 0);  // any write is a hint
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.find("bd show failed: Error: busy; the hint is dropped") != std::string::npos,
             r.err);
  BOOST_TEST(read_file(dir.path() / "ran") == "t-5\n");
}

// bd's reads open files for writing too (the double's lock file, Dolt's):
// the engine's own `bd show` must not count as a change, or each would
// call for the next.
BOOST_AUTO_TEST_CASE(the_engines_own_reads_are_not_hints) {
  auto engine = wait_for_alice(logged(), 3);
  // One change by someone else: one hint, one `bd show`.
  BOOST_TEST_REQUIRE(bd({"update", "t-2", "--append-notes", "a note"}).exit_code == 0);
  const auto r = engine.wait();
  BOOST_TEST(r.exit_code == 4, r.err);  // t-5 still waits for alice when blocked_wait_s ends
  std::size_t shows = 0;
  for (const auto& line : lines("bd.log")) {
    shows += line.starts_with("show ") ? 1 : 0;
  }
  BOOST_TEST(shows >= 1U);
  BOOST_TEST(shows <= 2U, joined(lines("bd.log")));
}

BOOST_AUTO_TEST_SUITE_END()
