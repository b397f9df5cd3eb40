// The downstream program of tests/consumer: it parses a one-task document,
// builds a coordinator on an io_context (which plans the tasks; nothing is
// run) and prints the number of stages of the plan.

#include <iostream>
#include <utility>

#include <boost/asio/io_context.hpp>

#include <maestro/adapters/config_file.hpp>
#include <maestro/adapters/task_file.hpp>
#include <maestro/coordinator.hpp>

int main() {
  auto document = maestro::parse_task_document(
      R"([{"id": "c-1", "title": "[P:Group-consumer] The only task"}])", "consumer tasks");
  auto config = maestro::parse_config(R"({"test": {"command": "none"}})", "consumer config");
  boost::asio::io_context io;
  const maestro::coordinator coordinator(io.get_executor(), std::move(config),
                                         std::move(document.tasks));
  std::cout << "maestro consumer: " << coordinator.plan().stages.size() << " stage(s)\n";
  return 0;
}
