// The coordinator as an embedder uses it (SPEC section 7): on a host's
// io_context run by several threads, with futures, plain callbacks and
// coroutines as completion tokens, cancelled through an Asio cancellation
// slot or stopped from a thread that does not run the io_context. Agents are
// real child processes (fake_agent).

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <maestro/adapters/beads_live.hpp>
#include <maestro/adapters/config_file.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/coordinator.hpp>
#include <maestro/ports/status_sink.hpp>

#include "support/temp_dir.hpp"

namespace {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using maestro::test::read_file;
using maestro::test::temp_dir;

/// The group every test runs: tasks titled `[P:Group-emb] ...`.
constexpr const char* group_id = "emb";

/// How long a test waits for anything before it gives up.
constexpr auto patience = 120s;

/// Runs an io_context on `count` threads until destroyed. A work guard keeps
/// the threads in `run()` until then, whatever the engine has in flight.
class io_threads {
 public:
  io_threads(asio::io_context& io, int count) : guard_(asio::make_work_guard(io)) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([&io] { io.run(); });
    }
  }
  io_threads(const io_threads&) = delete;
  io_threads& operator=(const io_threads&) = delete;
  ~io_threads() {
    guard_.reset();
    for (auto& t : threads_) {
      t.join();
    }
  }

 private:
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

/// Calls a function on scope exit, however the scope is left.
class scope_exit {
 public:
  explicit scope_exit(std::function<void()> f) : f_(std::move(f)) {}
  scope_exit(const scope_exit&) = delete;
  scope_exit& operator=(const scope_exit&) = delete;
  ~scope_exit() { f_(); }

 private:
  std::function<void()> f_;
};

/// A working directory, the inputs of one coordinator, and what its agents
/// leave behind: `stamps` (fake_agent `stamp` lines) and `pids` (fake_agent
/// `pgid` lines).
struct embedding_fixture {
  temp_dir dir;

  [[nodiscard]] std::filesystem::path stamps() const { return dir.path() / "stamps"; }
  [[nodiscard]] std::filesystem::path pids() const { return dir.path() / "pids"; }
  [[nodiscard]] std::filesystem::path state() const { return dir.path() / "state"; }

  /// A configuration whose agent is fake_agent running `steps`.
  [[nodiscard]] static maestro::core::config config(const std::vector<std::string>& steps,
                                                    int max_concurrent) {
    json::array argv{MAESTRO_FAKE_AGENT};
    for (const auto& s : steps) {
      argv.emplace_back(s);
    }
    const std::string text = "{\"max_concurrent\": " + std::to_string(max_concurrent) +
                             ", \"kill_grace_s\": 0.5, \"test\": {\"command\": \"none\"}" +
                             ", \"agent_defaults\": {\"command\": " + json::serialize(argv) + "}}";
    return maestro::parse_config(text, "test");
  }

  /// `count` tasks of the group `emb`, ids `emb-1` ... `emb-<count>`.
  [[nodiscard]] static std::vector<maestro::core::task> tasks(int count) {
    json::array records;
    for (int i = 1; i <= count; ++i) {
      const auto n = std::to_string(i);
      records.push_back(json::object{{"id", "emb-" + n}, {"title", "[P:Group-emb] Task " + n}});
    }
    return maestro::parse_task_document(json::serialize(records), "test").tasks;
  }

  /// Coordinator options for this directory.
  [[nodiscard]] maestro::coordinator_options options() const {
    maestro::coordinator_options o;
    o.workdir = dir.path();
    o.state_dir = state();
    o.source = "test";
    return o;
  }

  /// The group's metadata.json.
  [[nodiscard]] json::object metadata() const {
    const auto path = state() / "parallel_groups" / group_id / "metadata.json";
    return json::parse(read_file(path)).as_object();
  }

  /// The status of every task in metadata.json, in task order.
  [[nodiscard]] std::vector<std::string> task_statuses() const {
    std::vector<std::string> out;
    const auto group = metadata();  // a range-for would not extend a temporary's life
    for (const auto& r : group.at("results").as_array()) {
      out.emplace_back(r.at("status").as_string());
    }
    return out;
  }
};

/// The lines of a file; none when it does not exist.
std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

/// Waits until `path` has at least `count` lines; false after `patience`.
bool wait_for_lines(const std::filesystem::path& path, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (lines_of(path).size() < count) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// The largest number of agents running at once, from `<id> start <ns>` and
/// `<id> end <ns>` lines. At equal times an end counts before a start.
std::size_t max_overlap(const std::vector<std::string>& stamp_lines) {
  std::vector<std::pair<std::int64_t, int>> events;
  for (const auto& line : stamp_lines) {
    std::istringstream in(line);
    std::string id;
    std::string what;
    std::int64_t ns = 0;
    in >> id >> what >> ns;
    events.emplace_back(ns, what == "start" ? 1 : -1);
  }
  std::sort(events.begin(), events.end());
  std::size_t running = 0;
  std::size_t most = 0;
  for (const auto& [ns, delta] : events) {
    running = delta > 0 ? running + 1 : running - 1;
    most = std::max(most, running);
  }
  return most;
}

/// The pids recorded by fake_agent `pgid` steps (`<pid> <pgid>` lines).
std::vector<int> recorded_pids(const std::filesystem::path& path) {
  std::vector<int> out;
  for (const auto& line : lines_of(path)) {
    out.push_back(std::stoi(line.substr(0, line.find(' '))));
  }
  return out;
}

/// True when `pid` no longer runs: no /proc entry, or a zombie (state Z).
bool process_gone(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) {
    return true;
  }
  // `pid (comm) S ...`: comm may hold spaces, so look after the last `)`.
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

/// Kills the agents a failed test may have left hanging: each recorded
/// process group whose leader still runs fake_agent.
void kill_leftovers(const std::filesystem::path& pids) {
  for (const int pid : recorded_pids(pids)) {
    const auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (!process_gone(pid) && cmdline.find("fake_agent") != std::string::npos) {
      ::kill(-pid, SIGKILL);
    }
  }
}

/// Waits for a future; on a timeout, stops the coordinator at once so that
/// the test ends, and fails.
template <class T>
T get_or_stop(std::future<T>& f, maestro::coordinator& c) {
  if (f.wait_for(patience) != std::future_status::ready) {
    c.stop(maestro::core::stop_mode::immediate, "test timed out");
    f.wait_for(30s);
    BOOST_FAIL("the operation did not complete in time");
  }
  return f.get();
}

/// Executes the group with a future while four threads run `io`.
maestro::run_outcome execute_on_four_threads(asio::io_context& io, maestro::coordinator& c) {
  io_threads threads(io, 4);
  auto done = c.async_execute(group_id, maestro::completed_group::refuse, asio::use_future);
  return get_or_stop(done, c);
}

/// A completion handler that hands the outcome (or the exception) to a
/// future. It has no associated executor, so it runs on the coordinator's
/// strand; it may be bound to a cancellation slot.
struct promise_callback {
  std::shared_ptr<std::promise<maestro::run_outcome>> promise;
  std::shared_ptr<int> calls;

  void operator()(const std::exception_ptr& e, maestro::run_outcome outcome) const {
    ++*calls;
    if (e) {
      promise->set_exception(e);
    } else {
      promise->set_value(std::move(outcome));
    }
  }
};

/// Cancels a group of hanging agents through a cancellation slot, emitting
/// `type` from the test thread while four threads run the io_context.
void check_cancellation_through_slot(asio::cancellation_type type) {
  embedding_fixture fx;
  constexpr int task_count = 3;
  asio::io_context io;
  maestro::coordinator coordinator(
      io.get_executor(),
      embedding_fixture::config({"stamp", fx.stamps().string(), "pgid", fx.pids().string(), "hang"},
                                4),
      embedding_fixture::tasks(task_count), fx.options());

  asio::cancellation_signal signal;
  auto promise = std::make_shared<std::promise<maestro::run_outcome>>();
  auto calls = std::make_shared<int>(0);
  auto done = promise->get_future();
  // Initiated before the threads start: the slot's handler is installed
  // here, on the thread that later emits. Emitting from a thread that does
  // not run the io_context is safe because co_spawn's slot handler only
  // dispatches the cancellation to the coordinator's strand (Boost 1.81 does
  // so for a handler wrapped by bind_cancellation_slot).
  coordinator.async_execute(
      group_id, maestro::completed_group::refuse,
      asio::bind_cancellation_slot(signal.slot(), promise_callback{promise, calls}));
  {
    io_threads threads(io, 4);
    // A failed check must not leave the threads joining a hanging group.
    const scope_exit stop_anyway(
        [&] { coordinator.stop(maestro::core::stop_mode::immediate, "the test ends"); });
    BOOST_REQUIRE_MESSAGE(wait_for_lines(fx.pids(), task_count), "the agents did not start");
    BOOST_CHECK(done.wait_for(0s) == std::future_status::timeout);
    signal.emit(type);
    const auto outcome = get_or_stop(done, coordinator);

    BOOST_CHECK_EQUAL(*calls, 1);
    BOOST_REQUIRE_EQUAL(outcome.groups.size(), 1U);
    BOOST_CHECK_EQUAL(outcome.groups[0].group_id, group_id);
    BOOST_CHECK(outcome.groups[0].status == maestro::core::group_status::cancelled);
    BOOST_CHECK_EQUAL(outcome.exit_code(), 1);
    BOOST_CHECK(outcome.stopped);  // a cancellation ends the run: no further stage starts
  }
  BOOST_CHECK_EQUAL(fx.metadata().at("status").as_string(), "cancelled");
  for (const auto& status : fx.task_statuses()) {
    BOOST_CHECK_EQUAL(status, "cancelled");
  }
  const auto pids = recorded_pids(fx.pids());
  BOOST_CHECK_EQUAL(pids.size(), static_cast<std::size_t>(task_count));
  for (const int pid : pids) {
    BOOST_CHECK_MESSAGE(process_gone(pid), "agent " << pid << " is still running");
  }
  kill_leftovers(fx.pids());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(embedding)

BOOST_AUTO_TEST_CASE(group_on_four_threads_with_a_future) {
  embedding_fixture fx;
  constexpr int task_count = 30;
  constexpr std::size_t limit = 4;
  asio::io_context io;
  maestro::coordinator coordinator(
      io.get_executor(),
      embedding_fixture::config({"stamp", fx.stamps().string(), "sleep", "20"}, limit),
      embedding_fixture::tasks(task_count), fx.options());

  const auto outcome = execute_on_four_threads(io, coordinator);

  BOOST_CHECK_EQUAL(outcome.exit_code(), 0);
  BOOST_CHECK(!outcome.stopped);
  BOOST_REQUIRE_EQUAL(outcome.groups.size(), 1U);
  BOOST_CHECK(outcome.groups[0].status == maestro::core::group_status::completed);

  const auto metadata = fx.metadata();
  BOOST_CHECK_EQUAL(metadata.at("status").as_string(), "completed");
  const auto statuses = fx.task_statuses();
  BOOST_CHECK_EQUAL(statuses.size(), static_cast<std::size_t>(task_count));
  BOOST_CHECK(std::all_of(statuses.begin(), statuses.end(),
                          [](const std::string& s) { return s == "completed"; }));

  const auto stamps = lines_of(fx.stamps());
  BOOST_CHECK_EQUAL(stamps.size(), static_cast<std::size_t>(2 * task_count));
  const auto overlap = max_overlap(stamps);
  BOOST_TEST_MESSAGE("max overlap " << overlap);
  BOOST_CHECK_LE(overlap, limit);
  BOOST_CHECK_GE(overlap, 2U);  // the group did run in parallel
}

BOOST_AUTO_TEST_CASE(total_cancellation_through_a_slot) {
  check_cancellation_through_slot(asio::cancellation_type::total);
}

BOOST_AUTO_TEST_CASE(terminal_cancellation_through_a_slot) {
  check_cancellation_through_slot(asio::cancellation_type::terminal);
}

BOOST_AUTO_TEST_CASE(immediate_stop_from_a_thread_outside_the_io_context) {
  embedding_fixture fx;
  constexpr int task_count = 3;
  asio::io_context io;
  maestro::coordinator coordinator(
      io.get_executor(),
      embedding_fixture::config({"stamp", fx.stamps().string(), "pgid", fx.pids().string(), "hang"},
                                4),
      embedding_fixture::tasks(task_count), fx.options());

  std::optional<maestro::run_outcome> outcome;
  {
    io_threads threads(io, 2);
    const scope_exit stop_anyway(
        [&] { coordinator.stop(maestro::core::stop_mode::immediate, "the test ends"); });
    auto done =
        coordinator.async_execute(group_id, maestro::completed_group::refuse, asio::use_future);
    BOOST_REQUIRE_MESSAGE(wait_for_lines(fx.pids(), task_count), "the agents did not start");
    // This thread does not run the io_context: `stop` is thread-safe.
    coordinator.stop(maestro::core::stop_mode::immediate, "stopped by the test");
    outcome = get_or_stop(done, coordinator);
  }

  BOOST_CHECK(outcome->stopped);
  BOOST_CHECK_EQUAL(outcome->exit_code(), 1);
  BOOST_REQUIRE_EQUAL(outcome->groups.size(), 1U);
  BOOST_CHECK(outcome->groups[0].status == maestro::core::group_status::cancelled);
  BOOST_CHECK_EQUAL(fx.metadata().at("status").as_string(), "cancelled");
  for (const auto& status : fx.task_statuses()) {
    BOOST_CHECK_EQUAL(status, "cancelled");
  }
  for (const int pid : recorded_pids(fx.pids())) {
    BOOST_CHECK_MESSAGE(process_gone(pid), "agent " << pid << " is still running");
  }
  kill_leftovers(fx.pids());
}

BOOST_AUTO_TEST_CASE(the_live_beads_ports_on_four_threads) {
  // The beads source as docs/embedding.md shows it: the ports are built on
  // the strand the coordinator is given, and report there, while four
  // threads run the io_context. The tracker is the bd double.
  embedding_fixture fx;
  const std::string bd = MAESTRO_FAKE_BD;
  const auto bd_in_dir = [&](std::vector<std::string> args) {
    std::string line = "cd '" + fx.dir.path().string() + "' && " + bd;
    for (const auto& a : args) {
      line += " '" + a + "'";
    }
    return std::system((line + " > /dev/null").c_str());  // NOLINT(cert-env33-c): a test's setup
  };
  std::ofstream(fx.dir.path() / "issues.jsonl")
      << R"({"id":"emb-1","title":"[P:Group-emb] one","status":"open"})" << '\n'
      << R"({"id":"emb-2","title":"[P:Group-emb] two","status":"open"})" << '\n'
      << R"({"id":"emb-3","title":"[P:Group-emb] three","status":"open",)"
      << R"("dependencies":[{"issue_id":"emb-3","depends_on_id":"emb-1","type":"blocks"}]})"
      << '\n';
  BOOST_REQUIRE_EQUAL(bd_in_dir({"init", "--prefix", "emb"}), 0);
  BOOST_REQUIRE_EQUAL(bd_in_dir({"import", "-i", "issues.jsonl"}), 0);

  auto config = embedding_fixture::config({"stamp", fx.stamps().string(), "sleep", "20"}, 4);
  config.beads.actor = "host";
  auto settings = maestro::make_bd_settings(config.beads, bd, fx.dir.path());
  asio::io_context io;
  const auto strand = asio::make_strand(io.get_executor());
  maestro::bd_tracker tracker(strand, settings);
  maestro::bd_task_source source(strand, settings);
  auto options = fx.options();
  options.task_tracker = &tracker;
  options.watched_port = &source;
  maestro::coordinator coordinator(maestro::coordinator::executor_type(strand), config,
                                   maestro::load_beads(settings), options);
  const auto outcome = execute_on_four_threads(io, coordinator);
  BOOST_CHECK_EQUAL(outcome.exit_code(), 0);
  const auto metadata = fx.metadata();  // the checks below hold references into it
  BOOST_CHECK_EQUAL(metadata.at("actor").as_string(), "host");
  BOOST_CHECK(metadata.at("errors").as_array().empty());
  BOOST_CHECK_EQUAL(lines_of(fx.stamps()).size(), 6U);
  // Closed in the tracker, through bd, as the host's actor.
  std::string shown;
  {
    const auto out = fx.dir.path() / "shown.json";
    std::system(("cd '" + fx.dir.path().string() + "' && " + bd +  // NOLINT(cert-env33-c)
                 " list --json --all --limit 0 > '" + out.string() + "'")
                    .c_str());
    shown = read_file(out);
  }
  const auto listed = json::parse(shown);
  BOOST_CHECK_EQUAL(listed.as_array().size(), 3U);
  for (const auto& issue : listed.as_array()) {
    BOOST_CHECK_EQUAL(issue.at("status").as_string(), "closed");
    BOOST_CHECK_EQUAL(issue.at("assignee").as_string(), "host");
  }
}

namespace {

/// Three groups for `schedule: graph`: `ga` and `gb` of `count` tasks each,
/// and `gc`, one task that depends on `ga-1`.
std::vector<maestro::core::task> graph_tasks(int count) {
  json::array records;
  for (const auto* group : {"ga", "gb"}) {
    for (int i = 1; i <= count; ++i) {
      const auto id = std::string(group) + "-" + std::to_string(i);
      records.push_back(
          json::object{{"id", id}, {"title", "[P:Group-" + std::string(group) + "] " + id}});
    }
  }
  records.push_back(json::object{
      {"id", "gc-1"}, {"title", "[P:Group-gc] gc-1"}, {"dependencies", json::array{"ga-1"}}});
  return maestro::parse_task_document(json::serialize(records), "test").tasks;
}

json::object group_metadata(const embedding_fixture& fx, const std::string& group) {
  return json::parse(read_file(fx.state() / "parallel_groups" / group / "metadata.json"))
      .as_object();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_graph_run_on_four_threads) {
  embedding_fixture fx;
  constexpr std::size_t limit = 4;
  auto config = embedding_fixture::config({"stamp", fx.stamps().string(), "sleep", "20"}, limit);
  config.schedule = maestro::core::schedule_mode::graph;
  asio::io_context io;
  maestro::coordinator coordinator(io.get_executor(), config, graph_tasks(12), fx.options());
  maestro::run_outcome outcome;
  {
    io_threads threads(io, 4);
    auto done = coordinator.async_run(maestro::after_failure::stop, asio::use_future);
    outcome = get_or_stop(done, coordinator);
  }
  BOOST_CHECK_EQUAL(outcome.exit_code(), 0);
  BOOST_REQUIRE_EQUAL(outcome.groups.size(), 3U);
  for (const auto& g : outcome.groups) {
    BOOST_CHECK_MESSAGE(g.status == maestro::core::group_status::completed, g.group_id);
    BOOST_CHECK_EQUAL(group_metadata(fx, g.group_id).at("status").as_string(), "completed");
  }
  const auto stamps = lines_of(fx.stamps());
  BOOST_CHECK_EQUAL(stamps.size(), 2U * 25U);
  BOOST_CHECK_LE(max_overlap(stamps), limit);
}

BOOST_AUTO_TEST_CASE(a_graph_run_cancelled_through_a_slot) {
  embedding_fixture fx;
  auto config = embedding_fixture::config(
      {"stamp", fx.stamps().string(), "pgid", fx.pids().string(), "hang"}, 8);
  config.schedule = maestro::core::schedule_mode::graph;
  asio::io_context io;
  maestro::coordinator coordinator(io.get_executor(), config, graph_tasks(2), fx.options());
  asio::cancellation_signal signal;
  auto promise = std::make_shared<std::promise<maestro::run_outcome>>();
  auto calls = std::make_shared<int>(0);
  auto done = promise->get_future();
  coordinator.async_run(
      maestro::after_failure::stop,
      asio::bind_cancellation_slot(signal.slot(), promise_callback{promise, calls}));
  {
    io_threads threads(io, 4);
    const scope_exit stop_anyway(
        [&] { coordinator.stop(maestro::core::stop_mode::immediate, "the test ends"); });
    BOOST_REQUIRE_MESSAGE(wait_for_lines(fx.pids(), 4), "the agents did not start");
    signal.emit(asio::cancellation_type::total);
    const auto outcome = get_or_stop(done, coordinator);
    BOOST_CHECK_EQUAL(*calls, 1);
    BOOST_CHECK(outcome.stopped);
    BOOST_REQUIRE_EQUAL(outcome.groups.size(), 3U);
    BOOST_CHECK(outcome.groups[0].status == maestro::core::group_status::cancelled);
    BOOST_CHECK(outcome.groups[1].status == maestro::core::group_status::cancelled);
    BOOST_CHECK_EQUAL(outcome.groups[2].skipped, "stopped");  // gc waited for ga
  }
  for (const auto* group : {"ga", "gb"}) {
    BOOST_CHECK_EQUAL(group_metadata(fx, group).at("status").as_string(), "cancelled");
  }
  for (const int pid : recorded_pids(fx.pids())) {
    BOOST_CHECK_MESSAGE(process_gone(pid), "agent " << pid << " is still running");
  }
  kill_leftovers(fx.pids());
}

BOOST_AUTO_TEST_CASE(plain_callback_token) {
  embedding_fixture fx;
  constexpr int task_count = 3;
  asio::io_context io;
  maestro::coordinator coordinator(
      io.get_executor(),
      embedding_fixture::config({"stamp", fx.stamps().string(), "sleep", "20"}, 4),
      embedding_fixture::tasks(task_count), fx.options());

  int calls = 0;
  std::exception_ptr error;
  std::optional<maestro::run_outcome> outcome;
  coordinator.async_execute(group_id, maestro::completed_group::refuse,
                            [&](std::exception_ptr e, maestro::run_outcome o) {
                              ++calls;
                              error = std::move(e);
                              outcome = std::move(o);
                            });
  // The host's own thread runs the io_context; it returns once the group is
  // done, as the engine holds no work of its own beyond the operation.
  io.run_for(patience);

  BOOST_CHECK_EQUAL(calls, 1);
  BOOST_CHECK(!error);
  BOOST_REQUIRE(outcome.has_value());
  BOOST_CHECK_EQUAL(outcome->exit_code(), 0);
  BOOST_REQUIRE_EQUAL(outcome->groups.size(), 1U);
  BOOST_CHECK(outcome->groups[0].status == maestro::core::group_status::completed);
  BOOST_CHECK_EQUAL(lines_of(fx.stamps()).size(), static_cast<std::size_t>(2 * task_count));
}

BOOST_AUTO_TEST_CASE(the_sink_hears_exits_launches_and_state_writes) {
  // The measurement hooks: each attempt is reported launched, then exited,
  // on the engine's clock; each state write reports its size, the last one
  // being the metadata.json left on disk.
  struct recording_sink final : maestro::status_sink {
    std::vector<std::pair<char, std::size_t>> order;  // 'L'aunched / 'E'xited, task
    std::vector<maestro::core::clock_time> times;
    std::size_t writes = 0;
    std::size_t last_bytes = 0;
    std::chrono::nanoseconds spent{0};
    void attempt_launched(const maestro::core::group_machine& /*machine*/, std::size_t task,
                          maestro::core::clock_time at) override {
      order.emplace_back('L', task);
      times.push_back(at);
    }
    void attempt_exited(const maestro::core::group_machine& /*machine*/, std::size_t task,
                        maestro::core::clock_time at) override {
      order.emplace_back('E', task);
      times.push_back(at);
    }
    void state_written(std::string_view /*group_id*/, std::size_t bytes,
                       std::chrono::nanoseconds took) override {
      ++writes;
      last_bytes = bytes;
      spent += took;
    }
  };
  embedding_fixture fx;
  constexpr int task_count = 4;
  recording_sink sink;
  auto options = fx.options();
  options.sink = &sink;
  asio::io_context io;
  maestro::coordinator coordinator(
      io.get_executor(),
      embedding_fixture::config({"stamp", fx.stamps().string(), "sleep", "20"}, 2),
      embedding_fixture::tasks(task_count), std::move(options));
  std::optional<maestro::run_outcome> outcome;
  coordinator.async_execute(
      group_id, maestro::completed_group::refuse,
      [&](const std::exception_ptr&, maestro::run_outcome o) { outcome = std::move(o); });
  io.run_for(patience);

  BOOST_REQUIRE(outcome.has_value());
  BOOST_CHECK_EQUAL(outcome->exit_code(), 0);
  BOOST_REQUIRE_EQUAL(sink.order.size(), static_cast<std::size_t>(2 * task_count));
  for (std::size_t task = 0; task < task_count; ++task) {
    const auto launched = std::find(sink.order.begin(), sink.order.end(), std::pair{'L', task});
    const auto exited = std::find(sink.order.begin(), sink.order.end(), std::pair{'E', task});
    BOOST_CHECK(launched < exited);
  }
  BOOST_CHECK(std::is_sorted(sink.times.begin(), sink.times.end()));
  // With -j2, the third launch follows an exit.
  BOOST_CHECK_EQUAL(sink.order[2].first, 'E');
  BOOST_CHECK_GE(sink.writes, 2U);  // the first state and the terminal one at least
  BOOST_CHECK_GT(sink.spent.count(), 0);
  const auto path = fx.state() / "parallel_groups" / group_id / "metadata.json";
  BOOST_CHECK_EQUAL(sink.last_bytes, std::filesystem::file_size(path));
}

BOOST_AUTO_TEST_CASE(refusal_reaches_the_token_as_an_exception) {
  embedding_fixture fx;
  asio::io_context io;
  maestro::coordinator coordinator(io.get_executor(), embedding_fixture::config({"exit", "0"}, 4),
                                   embedding_fixture::tasks(1), fx.options());
  auto done = coordinator.async_execute("no-such-group", maestro::completed_group::refuse,
                                        asio::use_future);
  io.run_for(patience);
  BOOST_REQUIRE(done.wait_for(0s) == std::future_status::ready);
  BOOST_CHECK_THROW(static_cast<void>(done.get()), maestro::refused);
}

BOOST_AUTO_TEST_SUITE_END()
