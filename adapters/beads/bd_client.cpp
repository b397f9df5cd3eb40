#include <iterator>
#include <memory>
#include <signal.h>
#include <stdexcept>
#include <utility>

#include <maestro/adapters/bd_client.hpp>

#include "../process/captured_child.hpp"

namespace maestro {
namespace asio = boost::asio;
using boost::system::error_code;

bd_client::bd_client(asio::any_io_executor executor, std::string program,
                     std::filesystem::path workdir, std::vector<std::string> environment,
                     std::chrono::milliseconds timeout)
    : executor_(std::move(executor)),
      program_(std::move(program)),
      workdir_(std::move(workdir)),
      environment_(std::move(environment)),
      timeout_(timeout) {}

bd_client::~bd_client() {
  for (const int pgid : *running_) {
    ::kill(-pgid, SIGKILL);
  }
}

void bd_client::async_run(std::vector<std::string> args, handler done) {
  if (!executor_) {
    throw std::invalid_argument("bd_client: no executor");
  }
  std::vector<std::string> argv{program_};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  detail::run_captured(
      executor_, argv, workdir_, environment_, timeout_, running_,
      [done = std::move(done)](error_code ec, detail::captured_output r) {
        done(ec, bd_result{r.exit_code, std::move(r.out), std::move(r.err), r.timed_out});
      });
}

}  // namespace maestro
