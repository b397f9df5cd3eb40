#include <utility>

#include <boost/asio/post.hpp>

#include <maestro/adapters/workspace_adapters.hpp>

namespace maestro {
namespace asio = boost::asio;

shared_workspace::shared_workspace(asio::any_io_executor executor, std::filesystem::path workdir)
    : executor_(std::move(executor)), workdir_(std::move(workdir)) {}

void shared_workspace::post_done(done_handler done) const {
  asio::post(executor_, [done = std::move(done)] { done({}); });
}

void shared_workspace::async_check(done_handler done) {
  post_done(std::move(done));
}

void shared_workspace::async_open_group(const std::string& /*group_id*/, bool /*fresh*/,
                                        done_handler done) {
  post_done(std::move(done));
}

void shared_workspace::async_prepare(const attempt_ref& /*a*/, dir_handler done) {
  asio::post(executor_, [done = std::move(done), dir = workdir_] { done({dir, {}}, {}); });
}

void shared_workspace::async_integrate(const attempt_ref& /*a*/, done_handler done) {
  post_done(std::move(done));
}

void shared_workspace::async_discard(const attempt_ref& /*a*/, done_handler done) {
  post_done(std::move(done));
}

void shared_workspace::async_prepare_tests(const std::string& /*group_id*/, dir_handler done) {
  asio::post(executor_, [done = std::move(done), dir = workdir_] { done({dir, {}}, {}); });
}

void shared_workspace::async_integrate_group(const std::string& /*group_id*/, done_handler done) {
  post_done(std::move(done));
}

void shared_workspace::async_close_group(const std::string& /*group_id*/, bool /*completed*/,
                                         done_handler done) {
  post_done(std::move(done));
}

void shared_workspace::async_drain(done_handler done) {
  post_done(std::move(done));
}

}  // namespace maestro
