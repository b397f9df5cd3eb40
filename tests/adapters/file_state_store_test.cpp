#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/file_state_store.hpp>
#include <maestro/adapters/group_metadata.hpp>
#include <maestro/core/group_machine.hpp>

#include "support/temp_dir.hpp"

using namespace maestro;
namespace json = boost::json;

namespace {

// Ids that need escaping in JSON, and one in UTF-8.
const std::vector<std::string>& awkward_ids() {
  static const std::vector<std::string> ids{"plain",     "quote\"d", "back\\slash",
                                            "tab\there", "bell\x07", "caf\xc3\xa9"};
  return ids;
}

struct fixture {
  test::temp_dir dir;
  boost::asio::io_context io;
  core::group_machine machine;
  group_record record;

  fixture() : machine(make_tasks(), settings(), true) {
    record.group_id = "g";
    record.group_name = "Parallel Group g";
    record.dir = dir.path() / "parallel_groups" / "g";
    std::filesystem::create_directories(record.dir / "logs");
    for (std::size_t i = 0; i < awkward_ids().size(); ++i) {
      record.skills.push_back(i == 0 ? std::vector<std::string>{"sk\"ill"}
                                     : std::vector<std::string>{});
      record.log_names.push_back("t" + std::to_string(i) + ".log");
    }
    record.max_concurrent = 2;
  }

  static std::vector<core::group_task> make_tasks() {
    std::vector<core::group_task> tasks;
    for (const auto& id : awkward_ids()) {
      core::group_task t;
      t.id = id;
      t.chain = {"agent\"x"};
      tasks.push_back(std::move(t));
    }
    return tasks;
  }
  static core::group_settings settings() {
    core::group_settings s;
    s.max_concurrent = 2;
    return s;
  }

  // Hands `e` to the machine and the store as the runtime does.
  void apply(const core::event_body& body, core::clock_time now, file_state_store& store) {
    for (const auto& a : machine.handle({now, body})) {
      if (const auto* c = std::get_if<core::task_changed_action>(&a)) {
        store.task_changed(machine, c->task, now);
      } else if (std::holds_alternative<core::group_changed_action>(a)) {
        store.group_changed(machine, now);
      }
    }
  }

  [[nodiscard]] json::object metadata() const {
    return json::parse(test::read_file(record.dir / "metadata.json")).as_object();
  }

  [[nodiscard]] std::vector<json::object> events() const {
    std::vector<json::object> out;
    std::istringstream in(test::read_file(record.dir / "events.jsonl"));
    for (std::string line; std::getline(in, line);) {
      out.push_back(json::parse(line).as_object());
    }
    return out;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(file_state_store_suite, fixture)

BOOST_AUTO_TEST_CASE(results_round_trip_awkward_text_and_report_the_size) {
  std::size_t reported = 0;
  file_state_store store(boost::asio::make_strand(io), record, {});
  store.on_written([&](std::size_t bytes, std::chrono::nanoseconds) { reported = bytes; });
  const auto t0 = std::chrono::steady_clock::now();
  apply(core::start_event{}, t0, store);
  apply(core::launched_event{0, 1, 4242, 4242}, t0, store);
  store.flush(machine);

  const auto md = metadata();
  BOOST_TEST(reported == std::filesystem::file_size(record.dir / "metadata.json"));
  BOOST_TEST(md.at("group_id").as_string() == "g");
  const auto& ids = md.at("tasks").as_array();
  const auto& results = md.at("results").as_array();
  BOOST_TEST_REQUIRE(ids.size() == awkward_ids().size());
  BOOST_TEST_REQUIRE(results.size() == awkward_ids().size());
  for (std::size_t i = 0; i < awkward_ids().size(); ++i) {
    BOOST_TEST(ids[i].as_string() == awkward_ids()[i]);
    const auto& r = results[i].as_object();
    BOOST_TEST(r.at("task_id").as_string() == awkward_ids()[i]);
    BOOST_TEST(r.at("subagent").as_string() == "agent\"x");
    BOOST_TEST(r.at("log").as_string() == (record.dir / "logs" / record.log_names[i]).string());
  }
  BOOST_TEST(results[0].at("skills_applied").as_array().at(0).as_string() == "sk\"ill");
  // Task 0 runs: its pid and process group are recorded.
  const auto& running = results[0].as_object();
  BOOST_TEST(running.at("status").as_string() == "running");
  BOOST_TEST(running.at("pid").as_int64() == 4242);
  BOOST_TEST(running.at("pgid").as_int64() == 4242);
  BOOST_TEST(running.at("completed_at").is_null());
  BOOST_TEST(running.at("duration_s").is_null());
  // Every event line is whole JSON.
  const auto lines = events();
  BOOST_TEST(!lines.empty());
  for (const auto& line : lines) {
    BOOST_TEST(line.contains("ts"));
  }
}

BOOST_AUTO_TEST_CASE(a_completed_attempt_records_its_times_and_exit_code) {
  file_state_store store(boost::asio::make_strand(io), record, {});
  const auto t0 = std::chrono::steady_clock::now();
  apply(core::start_event{}, t0, store);
  apply(core::launched_event{0, 1, 100, 100}, t0, store);
  apply(core::exited_event{0, 1, 0, 0}, t0 + std::chrono::milliseconds(1500), store);
  store.flush(machine);
  const auto r = metadata().at("results").as_array().at(0).as_object();
  BOOST_TEST(r.at("status").as_string() == "completed");
  BOOST_TEST(r.at("exit_code").as_int64() == 0);
  BOOST_TEST(r.at("attempts").as_int64() == 1);
  BOOST_TEST(r.at("agent_history").as_array().at(0).as_string() == "agent\"x");
  BOOST_TEST(r.at("duration_s").to_number<double>() == 1.5, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(r.at("started_at").as_string().size() == 24U);  // 2026-11-24T01:02:03.456Z
  BOOST_TEST(r.at("completed_at").as_string().ends_with("Z"));
  BOOST_TEST(!r.contains("pid"));
  BOOST_TEST(r.at("error").is_null());
  BOOST_TEST(r.at("closed").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(a_change_reaches_both_files_without_a_flush) {
  file_state_store store(boost::asio::make_strand(io), record, {}, std::chrono::milliseconds(20));
  store.flush(machine);  // the first state
  const auto before = events().size();
  const auto t0 = std::chrono::steady_clock::now();
  apply(core::start_event{}, t0, store);
  // The coalescing timer writes both files; run until it has.
  for (int i = 0; i < 200 && events().size() == before; ++i) {
    io.run_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(events().size() > before);
  for (int i = 0; i < 200 && metadata().at("results").as_array().at(0).at("status") == "pending";
       ++i) {
    io.run_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(metadata().at("results").as_array().at(0).at("status").as_string() != "pending");
}

BOOST_AUTO_TEST_CASE(events_keep_flowing_while_a_large_metadata_json_waits) {
  // 50,000 tasks: a rewrite of metadata.json takes long enough that the
  // next one is put off (20 times its duration). The queued events must
  // still reach events.jsonl after the coalescing delay, not with the next
  // rewrite.
  constexpr std::size_t count = 50000;
  std::vector<core::group_task> tasks(count);
  group_record big;
  big.group_id = "big";
  big.dir = dir.path() / "parallel_groups" / "big";
  std::filesystem::create_directories(big.dir / "logs");
  for (std::size_t i = 0; i < count; ++i) {
    tasks[i].id = "task-" + std::to_string(i);
    tasks[i].chain = {"agent"};
    big.skills.emplace_back();
    big.log_names.push_back(tasks[i].id + ".log");
  }
  core::group_settings limits;
  limits.max_concurrent = 1;
  core::group_machine many(std::move(tasks), limits, true);
  file_state_store store(boost::asio::make_strand(io), big, {}, std::chrono::milliseconds(10));
  store.flush(many);  // the first rewrite: it sets when the next may come
  const auto now = std::chrono::steady_clock::now();
  for (const auto& a : many.handle({now, core::start_event{}})) {
    if (const auto* c = std::get_if<core::task_changed_action>(&a)) {
      store.task_changed(many, c->task, now);
    } else if (std::holds_alternative<core::group_changed_action>(a)) {
      store.group_changed(many, now);
    }
  }
  const auto lines = [&] {
    const auto text = test::read_file(big.dir / "events.jsonl");
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  const auto metadata_status = [&] {
    return std::string(json::parse(test::read_file(big.dir / "metadata.json"))
                           .at("results")
                           .at(count - 1)
                           .at("status")
                           .as_string());
  };
  for (int i = 0; i < 2000 && lines() < count; ++i) {
    io.run_for(std::chrono::milliseconds(5));
  }
  BOOST_TEST(lines() >= count);
  BOOST_TEST(metadata_status() == "pending");  // not rewritten yet
  // A change while the rewrite is put off: its line arrives on its own.
  const auto before = lines();
  const auto later = std::chrono::steady_clock::now();
  for (const auto& a : many.handle({later, core::launched_event{0, 1, 4242, 4242}})) {
    if (const auto* c = std::get_if<core::task_changed_action>(&a)) {
      store.task_changed(many, c->task, later);
    }
  }
  for (int i = 0; i < 2000 && lines() == before; ++i) {
    io.run_for(std::chrono::milliseconds(5));
  }
  BOOST_TEST(lines() > before);
  BOOST_TEST(metadata_status() == "pending");  // still not rewritten
  for (int i = 0; i < 2000 && metadata_status() == "pending"; ++i) {
    io.run_for(std::chrono::milliseconds(5));
  }
  BOOST_TEST(metadata_status() == "queued");  // and then it is
}

// What the store writes, the schema's reader gives back field by field.
BOOST_AUTO_TEST_CASE(what_the_store_writes_the_typed_reader_reads_back) {
  record.group_limit = 3;
  record.agent_limits = {{"agent\"x", 1}};
  record.engine_pid = 77;
  record.source = "tasks\n.json";
  file_state_store store(boost::asio::make_strand(io), record, {});
  const auto t0 = std::chrono::steady_clock::now();
  apply(core::start_event{}, t0, store);
  apply(core::launched_event{0, 1, 4242, 4243}, t0, store);
  apply(core::launched_event{1, 1, 100, 100}, t0, store);
  apply(core::exited_event{1, 1, 3, 0}, t0 + std::chrono::milliseconds(1500), store);
  store.flush(machine);

  const auto md = read_group_metadata(record.dir);
  BOOST_TEST_REQUIRE(md.has_value());
  BOOST_TEST(md->group_id == "g");
  BOOST_TEST((md->group_name == std::optional<std::string>("Parallel Group g")));
  BOOST_TEST((md->parallel == std::optional<bool>(true)));
  BOOST_TEST((md->status == machine.status()));
  BOOST_TEST((md->phase == machine.phase()));
  BOOST_TEST(md->tasks == awkward_ids());
  BOOST_TEST(md->errors == machine.errors());
  BOOST_TEST(md->warnings == machine.warnings());
  BOOST_TEST((md->created_at == std::optional<std::string>(store.record().created_at)));
  BOOST_TEST(md->started_at.has_value());
  BOOST_TEST((md->engine_pid == std::optional<int>(77)));
  BOOST_TEST((md->max_concurrent == std::optional<int>(2)));
  BOOST_TEST((md->group_limit == std::optional<int>(3)));
  BOOST_TEST((md->agent_limits == std::map<std::string, int>{{"agent\"x", 1}}));
  BOOST_TEST((md->source == std::optional<std::string>("tasks\n.json")));
  BOOST_TEST((md->refresh_completed == std::optional<bool>(machine.refresh_completed())));
  BOOST_TEST(!md->tests.has_value());  // not run: null
  BOOST_TEST_REQUIRE(md->results.size() == awkward_ids().size());
  for (std::size_t i = 0; i < awkward_ids().size(); ++i) {
    const auto& r = md->results[i];
    BOOST_TEST(r.task_id == awkward_ids()[i]);
    BOOST_TEST((r.status == machine.state(i).status));
    BOOST_TEST(r.attempts == machine.state(i).attempts);
    BOOST_TEST((r.subagent == std::optional<std::string>("agent\"x")));
    BOOST_TEST(r.log == (record.dir / "logs" / record.log_names[i]).string());
    BOOST_TEST(r.closed == false);
  }
  BOOST_TEST(md->results[0].skills == std::vector<std::string>{"sk\"ill"});
  BOOST_TEST((md->results[0].status == core::task_status::running));
  BOOST_TEST((md->results[0].pid == std::optional<int>(4242)));
  BOOST_TEST((md->results[0].pgid == std::optional<int>(4243)));
  BOOST_TEST(!md->results[0].completed_at.has_value());
  BOOST_TEST(md->results[1].agent_history == std::vector<std::string>{"agent\"x"});
  BOOST_TEST((md->results[1].exit_code == machine.state(1).exit_code));
  BOOST_TEST(!md->results[1].pid.has_value());
  if (core::is_terminal(md->results[1].status)) {
    BOOST_TEST((md->results[1].duration_s == std::optional<double>(1.5)));
    BOOST_TEST(md->results[1].completed_at.has_value());
  }

  // `to_json` gives the file back as it is, key for key.
  BOOST_TEST(json::serialize(to_json(*md)) ==
             json::serialize(json::parse(test::read_file(record.dir / "metadata.json"))));

  // The lines written after the run's marker replay to the same states.
  apply(core::launched_event{2, 1, 300, 301}, t0, store);
  store.flush(machine);
  const auto replayed = replay_events(record.dir);
  BOOST_TEST_REQUIRE(replayed.size() == 1U);
  const auto& task = replayed.at(awkward_ids()[2]);
  BOOST_TEST(task.status == "running");
  BOOST_TEST(task.pgid == 301);
  BOOST_TEST(task.attempt == 1U);
  BOOST_TEST(task.agent == "agent\"x");
}

BOOST_AUTO_TEST_SUITE_END()
