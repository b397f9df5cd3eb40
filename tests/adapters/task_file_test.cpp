#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <maestro/adapters/json_position.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/core/input_error.hpp>

#include "support/temp_dir.hpp"

using namespace maestro;

namespace {

const std::filesystem::path data_dir = MAESTRO_TEST_DATA_DIR;

std::string error_of(std::string_view content, std::string_view origin = "f.json") {
  try {
    (void)parse_task_document(content, origin);
  } catch (const core::input_error& e) {
    return e.what();
  }
  return "no error";
}

const core::task& find(const task_document& doc, std::string_view id) {
  const auto it = std::find_if(doc.tasks.begin(), doc.tasks.end(),
                               [id](const core::task& t) { return t.id == id; });
  BOOST_TEST_REQUIRE((it != doc.tasks.end()), "no task " << id);
  return *it;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(task_file)

BOOST_AUTO_TEST_CASE(array_form_with_lines) {
  const auto doc = load_task_file(data_dir / "tasks_array.json");
  BOOST_TEST((doc.format == task_file_format::json_array));
  BOOST_TEST_REQUIRE(doc.tasks.size() == 4U);
  BOOST_TEST(doc.tasks[0].line == 2U);
  BOOST_TEST(doc.tasks[1].line == 3U);
  BOOST_TEST(doc.tasks[2].line == 11U);
  const auto& t2 = doc.tasks[1];
  BOOST_TEST(t2.priority == 1);  // "1" is numeric
  BOOST_TEST_REQUIRE(t2.dependencies.size() == 1U);
  BOOST_TEST(t2.dependencies[0].id == "t-3");
  BOOST_TEST(t2.dependencies[0].type == "blocks");
  BOOST_TEST(t2.applicable_skills == (std::vector<std::string>{"skill-a", "skill-b"}));
  BOOST_TEST(doc.tasks[3].status == "closed");
  BOOST_TEST(doc.tasks[0].status == "open");  // no status means open
  BOOST_TEST(doc.tasks[0].priority == 2);     // default priority
}

BOOST_AUTO_TEST_CASE(object_form) {
  const auto doc = load_task_file(data_dir / "tasks_object.json");
  BOOST_TEST((doc.format == task_file_format::tasks_object));
  BOOST_TEST_REQUIRE(doc.tasks.size() == 2U);
  // metadata given as a JSON string is read too
  BOOST_TEST(doc.tasks[1].subagent_type == "frontend-developer");
}

BOOST_AUTO_TEST_CASE(sqlite_era_export) {
  const auto doc = load_task_file(data_dir / "sqlite_era.jsonl");
  BOOST_TEST((doc.format == task_file_format::json_lines));
  BOOST_TEST_REQUIRE(doc.tasks.size() == 7U);
  const auto& login = find(doc, "proj-3");
  BOOST_TEST(login.line == 3U);
  BOOST_TEST(login.subagent_type == "frontend-developer");
  BOOST_TEST(login.fallback_agents == (std::vector<std::string>{"backend-architect", "general"}));
  BOOST_TEST(login.applicable_skills == (std::vector<std::string>{"react", "a11y"}));
  BOOST_TEST(login.priority == 0);
  BOOST_TEST_REQUIRE(login.dependencies.size() == 1U);
  BOOST_TEST(login.dependencies[0].id == "proj-1");
  const auto& cache = find(doc, "proj-2");
  BOOST_TEST_REQUIRE(cache.dependencies.size() == 1U);
  BOOST_TEST(cache.dependencies[0].type == "parent-child");
  BOOST_TEST(!cache.dependencies[0].gates());
  BOOST_TEST(find(doc, "proj-5").status == "tombstone");
  BOOST_TEST(find(doc, "proj-6").dependencies[0].type == "waits-for");
}

BOOST_AUTO_TEST_CASE(dolt_era_export) {
  const auto doc = load_task_file(data_dir / "dolt_era.jsonl");
  BOOST_TEST_REQUIRE(doc.tasks.size() == 7U);
  BOOST_TEST(doc.tasks[2].record_type == "memory");
  BOOST_TEST(doc.tasks[2].id.empty());
  const auto& api = find(doc, "bd-a1");
  BOOST_TEST(api.record_type == "issue");
  BOOST_TEST(api.timeout_s.value() == 120.0);
  BOOST_TEST(find(doc, "bd-a2").dependencies[0].id == "bd-a1");
}

BOOST_AUTO_TEST_CASE(bd_show_dependency_shape) {
  // `bd show --json` lists each dependency as the blocker's issue plus
  // dependency_type.
  const auto doc = parse_task_document(
      R"({"id":"x","title":"t","dependencies":[{"id":"y","status":"open","dependency_type":"blocks"},)"
      R"({"id":"z","status":"open","dependency_type":"parent-child"}]})",
      "show");
  BOOST_TEST_REQUIRE(doc.tasks[0].dependencies.size() == 2U);
  BOOST_TEST(doc.tasks[0].dependencies[0].id == "y");
  BOOST_TEST(doc.tasks[0].dependencies[0].gates());
  BOOST_TEST(!doc.tasks[0].dependencies[1].gates());
}

BOOST_AUTO_TEST_CASE(single_object_without_tasks_key_is_one_line) {
  const auto doc = parse_task_document(R"({"id":"solo","title":"x"})", "f");
  BOOST_TEST((doc.format == task_file_format::json_lines));
  BOOST_TEST(doc.tasks.size() == 1U);
}

BOOST_AUTO_TEST_CASE(blank_lines_bom_and_empty_documents) {
  const auto doc = parse_task_document("\xEF\xBB\xBF{\"id\":\"a\"}\n\n  \n{\"id\":\"b\"}\n", "f");
  BOOST_TEST_REQUIRE(doc.tasks.size() == 2U);
  BOOST_TEST(doc.tasks[1].line == 4U);
  BOOST_TEST(parse_task_document("", "f").tasks.empty());
  BOOST_TEST(parse_task_document("  \n", "f").tasks.empty());
  BOOST_TEST(parse_task_document("[]", "f").tasks.empty());
}

BOOST_AUTO_TEST_CASE(malformed_json_names_line_and_column) {
  const auto message = error_of("{\"id\":\"a\"}\n{\"id\": \"b\",, }\n", "tasks.jsonl");
  BOOST_TEST(message.find("tasks.jsonl:2:12: malformed JSON") == 0U, message);
  const auto in_array = error_of("[\n  {\"id\": \"a\"},\n  {\"id\": b}\n]", "tasks.json");
  BOOST_TEST(in_array.find("tasks.json:3:10: malformed JSON") == 0U, in_array);
  const auto trailing = error_of("[{\"id\": \"a\"}] x", "t.json");
  BOOST_TEST(trailing.find("t.json:1:15: malformed JSON") == 0U, trailing);
}

BOOST_AUTO_TEST_CASE(bad_records) {
  BOOST_TEST(error_of("{\"title\":\"x\"}", "t.jsonl") == "t.jsonl:1: missing id");
  BOOST_TEST(error_of("[1]", "t.json") == "t.json:1: expected a task object, got a number");
  BOOST_TEST(error_of("{\"id\":7}", "t").find("t:1: id: expected a non-empty string") == 0U);
  BOOST_TEST(error_of("{\"id\":\"a\",\"priority\":\"high\"}", "t") ==
             "t:1: task a: priority: expected an integer from 0 (highest) to 4 (lowest), got "
             "\"high\"");
  BOOST_TEST(error_of("{\"id\":\"a\",\"priority\":1.5}", "t").find("task a: priority") !=
             std::string::npos);
  BOOST_TEST(error_of("{\"id\":\"a\",\"title\":3}", "t") ==
             "t:1: task a: title: expected a string, got a number");
  BOOST_TEST(error_of("{\"id\":\"a\",\"dependencies\":[3]}", "t") ==
             "t:1: task a: dependencies[0]: expected an id or a dependency record, got a number");
  BOOST_TEST(error_of("{\"id\":\"a\",\"metadata\":{\"timeout_s\":\"soon\"}}", "t")
                 .find("task a: metadata.timeout_s") != std::string::npos);
  BOOST_TEST(error_of("{\"tasks\": 3}", "t") == "t: tasks: expected an array, got a number");
}

BOOST_AUTO_TEST_CASE(unreadable_files) {
  const maestro::test::temp_dir dir;
  const auto missing = dir.path() / "nope.json";
  try {
    (void)load_task_file(missing);
    BOOST_FAIL("no error");
  } catch (const core::input_error& e) {
    BOOST_TEST(std::string(e.what()).find("nope.json: cannot read tasks file") !=
               std::string::npos);
  }
  BOOST_CHECK_THROW((void)load_task_file(dir.path()), core::input_error);
}

// Every anonymized real export shipped in tests/data/beads (see its README.md)
// loads, with as many records and dependency records as a plain text count
// finds.
BOOST_AUTO_TEST_CASE(real_beads_exports) {
  const std::filesystem::path shared = MAESTRO_BEADS_EXPORTS_DIR;
  BOOST_TEST_REQUIRE(std::filesystem::is_directory(shared), shared);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared)) {
    if (entry.path().extension() != ".jsonl") {
      continue;
    }
    ++files;
    std::ifstream in(entry.path());
    std::size_t lines = 0;
    std::size_t edges = 0;
    std::size_t closed = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;
      }
      ++lines;
      for (auto at = line.find("\"depends_on_id\""); at != std::string::npos;
           at = line.find("\"depends_on_id\"", at + 1)) {
        ++edges;
      }
      closed += line.find("\"status\":\"closed\"") != std::string::npos ? 1 : 0;
    }
    const auto doc = load_task_file(entry.path());
    std::size_t loaded_edges = 0;
    std::size_t loaded_closed = 0;
    for (const auto& t : doc.tasks) {
      loaded_edges += t.dependencies.size();
      loaded_closed += t.status == "closed" ? 1 : 0;
    }
    BOOST_TEST(doc.tasks.size() == lines, entry.path().filename());
    BOOST_TEST(loaded_edges == edges, entry.path().filename());
    BOOST_TEST(loaded_closed == closed, entry.path().filename());
  }
  BOOST_TEST(files > 0);
}

BOOST_AUTO_TEST_CASE(a_pipe_is_read_whole) {
  // A FIFO has no size to reserve: the reader must still take it all, in
  // more than one chunk.
  test::temp_dir dir;
  const auto fifo = dir.path() / "tasks.fifo";
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string content;
  for (int i = 0; i < 3000; ++i) {
    content += R"({"id":"t)" + std::to_string(i) + R"(","title":"[P:Group-p] task"})" + "\n";
  }
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << content; });
  const auto doc = load_task_file(fifo);
  writer.join();
  BOOST_TEST(doc.tasks.size() == 3000U);
  BOOST_TEST(doc.tasks.back().id == "t2999");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors_in_every_form) {
  // JSON Lines: the line, the column after the key, and the task id.
  BOOST_TEST(error_of("{\"id\":\"a\"}\n{\"id\":\"b\",\"status\":\"open\",\"status\":\"closed\"}\n",
                      "t.jsonl") == "t.jsonl:2:27: task b: duplicate key \"status\"");
  // The array form, with the key nested below the record.
  BOOST_TEST(error_of("[\n{\"id\":\"a\",\"metadata\":{\"timeout_s\":1,\"timeout_s\":2}}\n]",
                      "t.json") == "t.json:2:37: task a: duplicate key \"timeout_s\" in metadata");
  // The object form, and a duplicate before the id is known.
  BOOST_TEST(error_of("{\"tasks\": [{\"title\":\"x\",\"title\":\"y\",\"id\":\"a\"}]}", "t.json") ==
             "t.json:1:25: duplicate key \"title\"");
  // A duplicate `tasks` key itself.
  BOOST_TEST(error_of("{\"tasks\": [], \"tasks\": [{\"id\":\"a\"}]}", "t.json") ==
             "t.json:1:15: duplicate key \"tasks\"");
  // Inside a dependency record.
  BOOST_TEST(
      error_of(
          R"({"id":"a","dependencies":[{"depends_on_id":"b","type":"blocks","type":"related"}]})",
          "t") == "t:1:64: task a: duplicate key \"type\" in dependencies[0]");
  // In metadata given as a JSON string.
  BOOST_TEST(error_of(R"({"id":"a","metadata":"{\"x\":{\"k\":1,\"k\":2}}"})", "t") ==
             "t:1: task a: metadata: duplicate key \"k\" in x");
  // The same key in different objects is fine, and so are many keys.
  std::string wide = R"({"id":"w","metadata":{)";
  for (int i = 0; i < 100; ++i) {
    wide += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":1";
  }
  const auto doc = parse_task_document(wide + "}}\n{\"id\":\"v\",\"metadata\":{\"k1\":2}}", "t");
  BOOST_TEST(doc.tasks.size() == 2U);
  BOOST_TEST(error_of(wide + ",\"k77\":2}}", "t").find("t:1:") == 0U);
  BOOST_TEST(
      error_of(wide + ",\"k77\":2}}", "t").ends_with("task w: duplicate key \"k77\" in metadata"));
}

BOOST_AUTO_TEST_CASE(priority_must_be_zero_to_four) {
  for (const auto* bad : {"5", "-1", "\"7\"", "100"}) {
    BOOST_TEST(error_of(std::string("{\"id\":\"a\",\"priority\":") + bad + "}", "t") ==
                   std::string("t:1: task a: priority: expected an integer from 0 (highest) to 4 "
                               "(lowest), got ") +
                       bad,
               bad);
  }
  const auto doc = parse_task_document(
      "{\"id\":\"a\",\"priority\":0}\n{\"id\":\"b\",\"priority\":\"4\"}\n{\"id\":\"c\","
      "\"priority\":4.0}",
      "t");
  BOOST_TEST(doc.tasks[0].priority == 0);
  BOOST_TEST(doc.tasks[1].priority == 4);
  BOOST_TEST(doc.tasks[2].priority == 4);
}

BOOST_AUTO_TEST_CASE(timeouts_are_bounded_like_the_configuration) {
  for (const auto* bad : {"1e10", "1000000001", "\"1e10\"", "-1", "0", "\"inf\"", "\"nan\""}) {
    const auto message =
        error_of(std::string(R"({"id":"a","metadata":{"timeout_s":)") + bad + "}}", "t");
    BOOST_TEST(message.starts_with("t:1: task a: metadata.timeout_s: expected a number of seconds"),
               bad << ": " << message);
  }
  // A number too large for a double is refused too, whoever refuses it.
  BOOST_TEST(error_of(R"({"id":"a","metadata":{"timeout_s":1e400}})", "t").starts_with("t:1"));
  const auto doc = parse_task_document(R"({"id":"a","metadata":{"timeout_s":1e9}})", "t");
  BOOST_TEST(doc.tasks[0].timeout_s.value() == 1e9);
}

BOOST_AUTO_TEST_CASE(control_characters_in_ids_are_escaped) {
  const auto message = error_of(
      "{\"id\":\"x\\u001b[31m\\ny\",\"priority\":9}\n{\"id\":\"x\\u001b[31m\\ny\"}", "t.jsonl");
  BOOST_TEST(message ==
                 "t.jsonl:1: task x\\x1B[31m\\ny: priority: expected an integer from 0 "
                 "(highest) to 4 (lowest), got 9",
             message);
  BOOST_TEST(message.find('\x1b') == std::string::npos);
  BOOST_TEST(message.find('\n') == std::string::npos);
  // A duplicate key in a record whose id has control characters.
  const auto duplicate = error_of("{\"id\":\"\\u001b]0;x\\u0007\",\"a\":1,\"a\":2}", "t.jsonl");
  BOOST_TEST(duplicate == "t.jsonl:1:32: task \\x1B]0;x\\x07: duplicate key \"a\"", duplicate);
  // The key itself.
  const auto key = error_of("{\"id\":\"k\",\"a\\r\\n\":1,\"a\\r\\n\":2}", "t.jsonl");
  BOOST_TEST(key == "t.jsonl:1:21: task k: duplicate key \"a\\r\\n\"", key);
}

BOOST_AUTO_TEST_CASE(devices_and_huge_files_are_refused_before_reading) {
  const auto error_loading = [](const std::filesystem::path& path) -> std::string {
    try {
      (void)load_task_file(path);
    } catch (const core::input_error& e) {
      return e.what();
    }
    return "no error";
  };
  // /dev/zero never ends: reading it would exhaust memory.
  BOOST_TEST(error_loading("/dev/zero") ==
             "/dev/zero: cannot read tasks file: it is a character device, not a regular file or "
             "a FIFO");
  const test::temp_dir dir;
  BOOST_TEST(error_loading(dir.path()) ==
             dir.path().string() + ": cannot read tasks file: it is a directory");
  // A sparse file of 1 GiB + 1 byte uses no disk.
  const auto huge = dir.path() / "huge.jsonl";
  BOOST_TEST_REQUIRE(::truncate(dir.write("huge.jsonl", "").c_str(), (off_t{1} << 30) + 1) == 0);
  BOOST_TEST(error_loading(huge) == huge.string() + ": cannot read tasks file: larger than 1 GiB");
}

BOOST_AUTO_TEST_CASE(a_pipe_is_read_up_to_the_bound) {
  // The bound, made small: a FIFO has no size to check first, so the reader
  // stops once it has read more than the bound.
  test::temp_dir dir;
  const auto fifo = dir.path() / "tasks.fifo";
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // One write of at most PIPE_BUF bytes is atomic: the writer is done before
  // the reader stops, so it cannot get SIGPIPE.
  const std::string content(3000, ' ');
  std::thread writer([&] {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      static_cast<void>(::write(fd, content.data(), content.size()));
      ::close(fd);
    }
  });
  std::string error;
  const auto text = adapters::read_input_file(fifo, error, 1000);
  writer.join();
  BOOST_TEST(!text.has_value());
  BOOST_TEST(error == "larger than 1000 bytes");
  // Within the bound, the same reader takes it all.
  const auto small = dir.write("small.json", std::string(1000, ' '));
  BOOST_TEST(adapters::read_input_file(small, error, 1000).value().size() == 1000U);
}

BOOST_AUTO_TEST_SUITE_END()
