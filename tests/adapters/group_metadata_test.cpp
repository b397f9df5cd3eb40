// The schema of metadata.json and events.jsonl (group_metadata.hpp): the
// typed reader's validation and messages, and the writer's pieces.

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/group_metadata.hpp>
#include <maestro/adapters/state_dir.hpp>

#include "support/temp_dir.hpp"

using namespace maestro;
namespace json = boost::json;

namespace {

// A valid metadata.json with one result; `edit` changes it first.
template <class Edit>
std::string metadata_text(Edit edit) {
  json::object md{{"group_id", "g"},
                  {"status", "running"},
                  {"phase", "concurrent_execution"},
                  {"tasks", json::array{"a"}},
                  {"errors", json::array{}},
                  {"warnings", json::array{}},
                  {"created_at", "2024-01-01T00:00:00.000Z"},
                  {"started_at", nullptr},
                  {"completed_at", nullptr},
                  {"engine_pid", 12},
                  {"results", json::array{json::object{{"task_id", "a"},
                                                       {"status", "running"},
                                                       {"log", "/l/a.log"},
                                                       {"attempts", 1},
                                                       {"agent_history", json::array{"x"}},
                                                       {"exit_code", nullptr},
                                                       {"pid", 5},
                                                       {"pgid", 5}}}}};
  edit(md);
  return json::serialize(md);
}

// The reason read_group_metadata gives for `text`; "" when it reads.
std::string reason_for(const test::temp_dir& dir, const std::string& text) {
  dir.write("metadata.json", text);
  try {
    static_cast<void>(read_group_metadata(dir.path()));
  } catch (const state_damaged& e) {
    BOOST_TEST(e.file() == dir.path() / "metadata.json");
    BOOST_TEST(std::string(e.what()) ==
               (dir.path() / "metadata.json").string() + ": damaged: " + e.reason());
    return e.reason();
  }
  return "";
}

json::object& first_result(json::object& md) {
  return md["results"].as_array()[0].as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(group_metadata_suite)

BOOST_AUTO_TEST_CASE(a_valid_file_reads_typed) {
  const test::temp_dir dir;
  dir.write("metadata.json", metadata_text([](json::object&) {}));
  const auto md = read_group_metadata(dir.path());
  BOOST_TEST_REQUIRE(md.has_value());
  BOOST_TEST(md->group_id == "g");
  BOOST_TEST((md->status == core::group_status::running));
  BOOST_TEST((md->phase == core::group_phase::concurrent_execution));
  BOOST_TEST((md->engine_pid == std::optional<int>(12)));
  BOOST_TEST(!md->started_at.has_value());
  BOOST_TEST_REQUIRE(md->results.size() == 1U);
  BOOST_TEST((md->results[0].status == core::task_status::running));
  BOOST_TEST((md->results[0].pgid == std::optional<int>(5)));
  BOOST_TEST(md->results[0].agent_history == std::vector<std::string>{"x"});
  // Keys the readers do not rely on are optional.
  BOOST_TEST((!md->group_name.has_value()));
  BOOST_TEST(!md->results[0].subagent.has_value());
}

BOOST_AUTO_TEST_CASE(the_run_nonce_and_a_job_id_are_read_and_shown) {
  const test::temp_dir dir;
  dir.write("metadata.json", metadata_text([](json::object& md) {
              md["run_nonce"] = "0123456789ab";
              first_result(md)["job_id"] = "42";
            }));
  const auto md = read_group_metadata(dir.path());
  BOOST_TEST_REQUIRE(md.has_value());
  BOOST_TEST((md->run_nonce == std::optional<std::string>("0123456789ab")));
  BOOST_TEST((md->results[0].job_id == std::optional<std::string>("42")));
  const auto shown = to_json(*md);
  BOOST_TEST(shown.at("run_nonce") == "0123456789ab");
  BOOST_TEST(shown.at("results").as_array()[0].at("job_id") == "42");
  // Absent in a file an older engine wrote: null, and no job_id.
  dir.write("metadata.json", metadata_text([](json::object&) {}));
  const auto old = read_group_metadata(dir.path());
  BOOST_TEST_REQUIRE(old.has_value());
  const auto old_shown = to_json(*old);
  BOOST_TEST(old_shown.at("run_nonce").is_null());
  BOOST_TEST(!old_shown.at("results").as_array()[0].as_object().contains("job_id"));
}

// A real metadata.json (200 tasks, 84 KB) that Boost.JSON 1.81's
// stream_parser, fed in 64 KiB reads, rejected as "syntax error" in a
// Debug build (boostorg/json#828): `status` called the group damaged.
BOOST_AUTO_TEST_CASE(a_file_larger_than_one_read_is_read_whole) {
  const test::temp_dir dir;
  const auto text = test::read_file(MAESTRO_TEST_DATA_DIR "/state/split-metadata.json");
  BOOST_TEST_REQUIRE(text.size() > 65536U);
  dir.write("metadata.json", text);
  const auto md = read_group_metadata(dir.path());
  BOOST_TEST_REQUIRE(md.has_value());
  BOOST_TEST(md->results.size() == 200U);
  BOOST_TEST(reason_for(dir, "") == "not valid JSON: empty file");
  BOOST_TEST(reason_for(dir, text + "x") == "not valid JSON: extra data");
}

BOOST_AUTO_TEST_CASE(no_file_is_no_group) {
  const test::temp_dir dir;
  BOOST_TEST(!read_group_metadata(dir.path()).has_value());
  BOOST_TEST(!read_group_metadata(dir.path() / "absent").has_value());
}

BOOST_AUTO_TEST_CASE(damaged_shapes_name_their_reason) {
  const test::temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[]", "not a JSON object"},
      {"{", "not valid JSON: incomplete JSON"},
      {metadata_text([](json::object& md) { md.erase("group_id"); }),
       "\"group_id\" is missing or not a string"},
      {metadata_text([](json::object& md) { md["phase"] = 1; }),
       "\"phase\" is missing or not a string"},
      {metadata_text([](json::object& md) { md["status"] = "odd\n"; }),
       "unknown status \"odd\\n\""},
      {metadata_text([](json::object& md) { md["phase"] = "later"; }), "unknown phase \"later\""},
      {metadata_text([](json::object& md) { md["tasks"] = json::array{1}; }),
       "\"tasks\" is not an array of strings"},
      {metadata_text([](json::object& md) { md["warnings"] = "w"; }),
       "\"warnings\" is not an array of strings"},
      {metadata_text([](json::object& md) { md["started_at"] = 3; }),
       "\"started_at\" is not a string"},
      {metadata_text([](json::object& md) { md["engine_pid"] = -1; }),
       "\"engine_pid\" is not a process id"},
      {metadata_text([](json::object& md) { md.erase("results"); }),
       "\"results\" is missing or not an array"},
      {metadata_text([](json::object& md) { md["results"] = json::array{1}; }),
       "an entry is not an object"},
      {metadata_text([](json::object& md) { first_result(md).erase("log"); }),
       "an entry's \"log\" is not a string"},
      {metadata_text([](json::object& md) { first_result(md)["status"] = "gone"; }),
       "task a: unknown status \"gone\""},
      {metadata_text([](json::object& md) { first_result(md)["attempts"] = -1; }),
       "task a: \"attempts\" is not a non-negative integer"},
      {metadata_text([](json::object& md) { first_result(md)["agent_history"] = json::array{2}; }),
       "task a: \"agent_history\" is not an array of strings"},
      {metadata_text([](json::object& md) { first_result(md)["exit_code"] = 1.5; }),
       "task a: \"exit_code\" is not an integer"},
      {metadata_text([](json::object& md) { first_result(md)["pgid"] = 1LL << 40; }),
       "task a: \"pgid\" is out of range"},
  };
  for (const auto& [text, reason] : cases) {
    BOOST_TEST(reason_for(dir, text) == reason, text);
  }
  // Keys no reader relies on may be of any kind: the file still reads.
  BOOST_TEST(reason_for(dir, metadata_text([](json::object& md) {
                          md["kind"] = 1;
                          md["limits"] = "x";
                          first_result(md)["subagent"] = json::array{};
                          first_result(md)["duration_s"] = "x";
                        })) == "");
}

BOOST_AUTO_TEST_CASE(a_symlink_or_a_directory_is_damaged) {
  const test::temp_dir dir;
  const auto real = dir.write("real.json", metadata_text([](json::object&) {}));
  std::filesystem::create_directories(dir.path() / "g");
  std::filesystem::create_symlink(real, dir.path() / "g" / "metadata.json");
  try {
    static_cast<void>(read_group_metadata(dir.path() / "g"));
    BOOST_FAIL("a symlink was followed");
  } catch (const state_damaged& e) {
    BOOST_TEST(e.reason() == "is a symlink, not followed");
  }
  std::filesystem::create_directories(dir.path() / "h" / "metadata.json");
  try {
    static_cast<void>(read_group_metadata(dir.path() / "h"));
    BOOST_FAIL("a directory was read");
  } catch (const state_damaged& e) {
    BOOST_TEST(e.reason() == "not a regular file");
  }
}

BOOST_AUTO_TEST_CASE(event_lines_are_spelled_once) {
  std::string out;
  task_event e;
  e.ts = "T";
  e.task_id = "a\"b";
  e.status = core::task_status::running;
  e.attempt = 2;
  e.agent = "x";
  e.pid = 7;
  e.pgid = 8;
  append_task_event(out, e);
  BOOST_TEST(out ==
             "{\"ts\":\"T\",\"type\":\"task\",\"task_id\":\"a\\\"b\",\"status\":\"running\","
             "\"attempt\":2,\"agent\":\"x\",\"pid\":7,\"pgid\":8}\n");
  out.clear();
  const auto body = group_event_body(core::group_phase::coordination, core::group_status::running,
                                     core::test_status::not_run, 1);
  append_group_event(out, body, "T");
  BOOST_TEST(out ==
             "{\"type\":\"group\",\"phase\":\"coordination\",\"status\":\"running\","
             "\"test_status\":\"not_run\",\"errors\":1,\"ts\":\"T\"}\n");
  out.clear();
  append_run_marker(out, "T", 9);
  BOOST_TEST(out == "{\"ts\":\"T\",\"type\":\"run\",\"engine_pid\":9}\n");
}

BOOST_AUTO_TEST_CASE(replay_keeps_the_latest_run_and_skips_a_cut_line) {
  const test::temp_dir dir;
  std::string text;
  task_event old;
  old.ts = "T";
  old.task_id = "a";
  old.status = core::task_status::completed;
  append_task_event(text, old);
  append_run_marker(text, "T", 1);
  task_event now = old;
  now.status = core::task_status::running;
  now.attempt = 1;
  now.agent = "x";
  now.pid = 5;
  now.pgid = 6;
  append_task_event(text, now);
  text += "{\"ts\":\"T\",\"type\":\"task\",\"task_id\":\"b\"";  // cut by a crash
  dir.write("events.jsonl", text);
  const auto replayed = replay_events(dir.path());
  BOOST_TEST_REQUIRE(replayed.size() == 1U);
  BOOST_TEST(replayed.at("a").status == "running");
  BOOST_TEST(replayed.at("a").attempt == 1U);
  BOOST_TEST(replayed.at("a").agent == "x");
  BOOST_TEST(replayed.at("a").pgid == 6);
}

BOOST_AUTO_TEST_CASE(utc_times_have_milliseconds) {
  const auto t =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'042));
  BOOST_TEST(format_utc(t) == "2023-11-14T22:13:20.042Z");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_writer_suite)

BOOST_AUTO_TEST_CASE(strings_are_escaped_and_numbers_spelled_shortest) {
  std::string out;
  json_out::append_string(out, std::string("q\"b\\c\n\x01\xc3\xa9", 9));
  BOOST_TEST(out == "\"q\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"");
  BOOST_TEST(json::parse(out).as_string() == std::string("q\"b\\c\n\x01\xc3\xa9", 9));
  out.clear();
  json_out::append_number(out, 1.5);
  out += ' ';
  json_out::append_number(out, -42);
  out += ' ';
  json_out::append_number(out, 0.1);
  BOOST_TEST(out == "1.5 -42 0.1");
  out = "{";
  json_out::append_field(out, "a", "x");
  json_out::append_field(out, "b", 3);
  json_out::append_bool_field(out, "c", false);
  out += '}';
  BOOST_TEST(out == "{\"a\":\"x\",\"b\":3,\"c\":false}");
}

BOOST_AUTO_TEST_CASE(the_chunked_writer_writes_more_than_its_buffer) {
  const test::temp_dir dir;
  const auto path = dir.path() / "big.json";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BOOST_TEST_REQUIRE(fd >= 0);
  std::size_t written = 0;
  {
    json_out::chunked_writer out(fd);
    out.append("[");
    for (int i = 0; i < 20'000; ++i) {
      out.append(i == 0 ? "" : ",");
      out.append_string("item \"" + std::to_string(i) + "\"");
    }
    out.append("]");
    BOOST_TEST(out.finish());
    written = out.written();
  }
  ::close(fd);
  const auto text = test::read_file(path);
  BOOST_TEST(written == text.size());
  const auto items = json::parse(text).as_array();
  BOOST_TEST_REQUIRE(items.size() == 20'000U);
  BOOST_TEST(items[19'999].as_string() == "item \"19999\"");
}

BOOST_AUTO_TEST_SUITE_END()
