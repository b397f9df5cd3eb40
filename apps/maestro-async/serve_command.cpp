// `maestro-async serve`, and the server `execute --serve` and `run --serve`
// run beside the engine.

#include <csignal>
#include <stdexcept>

#include <boost/asio/signal_set.hpp>
#include <fmt/core.h>

#include <maestro/core/names.hpp>
#include <maestro/serve/http_server.hpp>
#include <maestro/serve/state_feed.hpp>

#include "cli_options.hpp"
#include "inputs.hpp"
#include "serving.hpp"

namespace maestro::app {
namespace asio = boost::asio;

struct serving::impl {
  impl(asio::io_context& io, const std::filesystem::path& state_dir)
      : feed(io.get_executor(), state_dir), server(io.get_executor(), feed) {}
  serve::state_feed feed;
  serve::http_server server;
};

serving::serving(asio::io_context& io, const std::filesystem::path& state_dir,
                 const std::string& listen, const std::string& origin) {
  asio::ip::tcp::endpoint at;
  try {
    at = serve::parse_listen(listen);
  } catch (const std::invalid_argument& e) {
    throw usage_error(origin + ": " + e.what());
  }
  impl_ = std::make_unique<impl>(io, state_dir);
  if (const auto ec = impl_->server.listen(at)) {
    throw usage_error("cannot listen on " + core::printable(listen) + " (" + origin +
                      "): " + ec.message());
  }
  impl_->server.start();
  // The address, with the port a `:0` was given: what tests and scripts
  // read.
  fmt::print(stderr, "maestro-async: serving {} on {}\n", core::printable(state_dir.string()),
             url());
  (void)std::fflush(stderr);
}

serving::~serving() = default;

std::string serving::url() const {
  const auto at = impl_->server.local_endpoint();
  const auto address =
      at.address().is_v6() ? "[" + at.address().to_string() + "]" : at.address().to_string();
  return "http://" + address + ":" + std::to_string(at.port()) + "/";
}

void serving::stop() {
  impl_->server.stop();
}

int run_serve(const common_options& common, const std::optional<std::string>& listen) {
  raise_open_file_limit();
  const auto config = load_state_config(common);
  const auto state_dir = state_dir_of(config);
  asio::io_context io(1);
  serving server(io, state_dir, listen.value_or(config.serve.listen),
                 listen ? "--listen" : "serve.listen");
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) {
      server.stop();  // io.run() returns once the clients have the last state
    }
  });
  io.run();
  return 0;
}

}  // namespace maestro::app
