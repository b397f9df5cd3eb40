// serve's state_view on files written by the test: the lines of
// events.jsonl over metadata.json (never backwards, a retry's `queued`
// after `running`), deltas only for what changed, a damaged file that
// recovers, and the Prometheus text's escaping and cumulative buckets.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/serve/state_view.hpp>

#include "support/temp_dir.hpp"

using namespace maestro;
namespace json = boost::json;

namespace {

// A group `g` with tasks `a` and `b` in `metadata.json`.
std::string metadata(const std::string& a_status, int a_attempts, const std::string& agent = "x") {
  json::object md{{"group_id", "g"},
                  {"status", "running"},
                  {"phase", "coordination"},
                  {"tasks", json::array{"a", "b"}},
                  {"errors", json::array{}},
                  {"warnings", json::array{}},
                  {"created_at", "2026-01-01T00:00:00.000Z"},
                  {"started_at", "2026-01-01T00:00:00.000Z"},
                  {"completed_at", nullptr},
                  {"engine_pid", 1},
                  {"results", json::array{json::object{{"task_id", "a"},
                                                       {"subagent", agent},
                                                       {"status", a_status},
                                                       {"log", "/nowhere/logs/a.log"},
                                                       {"attempts", a_attempts},
                                                       {"agent_history", json::array{agent}},
                                                       {"exit_code", nullptr}},
                                          json::object{{"task_id", "b"},
                                                       {"subagent", agent},
                                                       {"status", "pending"},
                                                       {"log", "/nowhere/logs/b.log"},
                                                       {"attempts", 0},
                                                       {"agent_history", json::array{}},
                                                       {"exit_code", nullptr}}}}};
  return json::serialize(md);
}

std::string task_line(const std::string& ts, const std::string& status, int attempt,
                      const std::string& agent = "x") {
  return R"({"ts":")" + ts + R"(","type":"task","task_id":"a","status":")" + status +
         R"(","attempt":)" + std::to_string(attempt) + R"(,"agent":")" + agent + "\"}\n";
}

struct group_files {
  test::temp_dir state;
  std::filesystem::path dir = state.path() / "parallel_groups" / "g";

  group_files() { std::filesystem::create_directories(dir / "logs"); }

  void write_metadata(const std::string& text) const {
    std::ofstream(dir / "metadata.json.tmp") << text;
    std::filesystem::rename(dir / "metadata.json.tmp", dir / "metadata.json");
  }
  void append(const std::string& line) const {
    std::ofstream(dir / "events.jsonl", std::ios::app) << line;
  }
};

// The `task` deltas for task `a`.
std::vector<json::object> rows_of_a(const std::vector<serve::delta>& deltas) {
  std::vector<json::object> out;
  for (const auto& d : deltas) {
    if (d.event == "task") {
      auto row = json::parse(d.data).as_object();
      if (row.at("task_id") == "a") {
        out.push_back(std::move(row));
      }
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_view_suite)

BOOST_AUTO_TEST_CASE(lines_win_when_further_along_and_a_retry_shows_queued) {
  group_files f;
  f.write_metadata(metadata("running", 1));
  serve::state_view view(f.state.path());
  std::vector<serve::delta> out;
  view.rescan(out);
  BOOST_TEST_REQUIRE(rows_of_a(out).size() == 1U);
  BOOST_TEST(rows_of_a(out)[0].at("status") == "running");
  // Attempt 1 failed: the engine waits to retry (`queued`, still attempt 1).
  out.clear();
  f.append(task_line("2026-01-01T00:00:01.000Z", "running", 1));
  f.append(task_line("2026-01-01T00:00:03.000Z", "queued", 1));
  view.group_changed("g", false, out);
  auto rows = rows_of_a(out);
  BOOST_TEST_REQUIRE(!rows.empty());
  BOOST_TEST(rows.back().at("status") == "queued");
  BOOST_TEST(rows.back().at("pid").is_null());
  // The file, rewritten before the lines were read, does not take it back.
  out.clear();
  view.group_changed("g", true, out);
  BOOST_TEST(rows_of_a(out).empty());
  // Nor does a file behind by an attempt.
  f.append(task_line("2026-01-01T00:00:04.000Z", "running", 2, "y"));
  out.clear();
  view.group_changed("g", false, out);
  rows = rows_of_a(out);
  BOOST_TEST_REQUIRE(rows.size() == 1U);
  BOOST_TEST(rows[0].at("attempt") == 2);
  BOOST_TEST(rows[0].at("agent") == "y");
  BOOST_TEST(rows[0].at("started_at") == "2026-01-01T00:00:04.000Z");
  out.clear();
  view.group_changed("g", true, out);
  BOOST_TEST(rows_of_a(out).empty());
  // Each delta's seq is one more than the last.
  f.append(task_line("2026-01-01T00:00:06.000Z", "completed", 2, "y"));
  out.clear();
  view.group_changed("g", false, out);
  BOOST_TEST_REQUIRE(out.size() == 2U);  // the group's row (its counts), then the task's
  BOOST_TEST(out[0].event == "group");
  BOOST_TEST(out[1].seq == out[0].seq + 1);
  BOOST_TEST(view.seq() == out[1].seq);
  // The metrics: attempt 1 of x failed after 2 s, attempt 2 of y
  // completed after 2 s.
  const auto text = view.metrics(std::chrono::system_clock::now());
  BOOST_TEST(text.find(R"(maestro_attempts_total{group="g",agent="x",outcome="failed"} 1)") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find(R"(maestro_attempts_total{group="g",agent="y",outcome="completed"} 1)") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find(R"(maestro_attempt_duration_seconds_bucket{agent="y",le="1"} 0)") !=
             std::string::npos);
  BOOST_TEST(text.find(R"(maestro_attempt_duration_seconds_bucket{agent="y",le="2.5"} 1)") !=
             std::string::npos);
  BOOST_TEST(text.find(R"(maestro_attempt_duration_seconds_bucket{agent="y",le="3600"} 1)") !=
             std::string::npos);
  BOOST_TEST(text.find(R"(maestro_attempt_duration_seconds_sum{agent="y"} 2)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_damaged_file_that_recovers_is_counted_again) {
  group_files f;
  f.write_metadata(metadata("running", 1));
  serve::state_view view(f.state.path());
  std::vector<serve::delta> out;
  view.rescan(out);
  f.write_metadata("{ cut");
  view.group_changed("g", true, out);
  BOOST_TEST(view.groups_json().at(0).at("status") == "damaged");
  out.clear();
  f.write_metadata(metadata("running", 1));
  view.group_changed("g", true, out);
  const auto groups = view.groups_json();
  BOOST_TEST(groups.at(0).at("counts").at("running") == 1);
  BOOST_TEST(groups.at(0).at("counts").at("pending") == 1);
  BOOST_TEST(rows_of_a(out).size() == 1U);  // sent again
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped_and_paths_come_from_the_state) {
  group_files f;
  const std::string agent = "we\"ird\\agent\nx";
  f.write_metadata(metadata("running", 1, agent));
  serve::state_view view(f.state.path());
  std::vector<serve::delta> out;
  view.rescan(out);
  const auto text = view.metrics(std::chrono::system_clock::now());
  BOOST_TEST(
      text.find(R"(maestro_tasks_running{agent="we\"ird\\agent\nx"} 1)") != std::string::npos,
      text);
  // Only ids the state knows; the log is the file the state names, in the
  // group's own logs directory.
  BOOST_TEST(!view.log_path("g", "../g").has_value());
  BOOST_TEST(!view.log_path("..", "a").has_value());
  BOOST_TEST(view.log_path("g", "a").value() == f.dir / "logs" / "a.log");
  // JSON for the page: no raw markup characters.
  BOOST_TEST(serve::safe_json(json::value("<script>&</script>")) ==
             R"("\u003cscript\u003e\u0026\u003c/script\u003e")");
}

BOOST_AUTO_TEST_SUITE_END()
