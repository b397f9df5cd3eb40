#include <ostream>

#include <maestro/core/group_events.hpp>
#include <maestro/core/overloaded.hpp>

namespace maestro::core {
namespace {

double seconds(clock_time t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(task_status s) noexcept {
  return name_of(s);
}

std::string_view to_string(group_phase p) noexcept {
  return name_of(p);
}

std::string_view to_string(group_status s) noexcept {
  return name_of(s);
}

std::string_view to_string(test_status s) noexcept {
  return name_of(s);
}

bool is_terminal(task_status s) noexcept {
  return s == task_status::completed || s == task_status::failed || s == task_status::timed_out ||
         s == task_status::skipped || s == task_status::cancelled;
}

bool is_terminal(group_status s) noexcept {
  return s == group_status::completed || s == group_status::failed ||
         s == group_status::incomplete || s == group_status::cancelled;
}

std::ostream& operator<<(std::ostream& out, const timer_id& id) {
  return out << name_of(id.kind) << " t" << id.task << '#' << id.generation;
}

std::ostream& operator<<(std::ostream& out, const action& a) {
  std::visit(overloaded{
                 [&](const run_refresh_action&) { out << "run_refresh"; },
                 [&](const launch_action& l) {
                   out << "launch(t" << l.task << '#' << l.attempt << ", " << l.agent << ')';
                 },
                 [&](const signal_action& s) {
                   out << "signal(t" << s.task << '#' << s.attempt << ", " << name_of(s.signal)
                       << ')';
                 },
                 [&](const signal_command_action& s) {
                   out << "signal_command(" << name_of(s.signal) << ')';
                 },
                 [&](const set_timer_action& t) {
                   out << "set_timer(" << t.id << " at " << seconds(t.deadline) << "s)";
                 },
                 [&](const cancel_timer_action& t) { out << "cancel_timer(" << t.id << ')'; },
                 [&](const run_tests_action&) { out << "run_tests"; },
                 [&](const integrate_action& i) {
                   out << "integrate(t" << i.task << '#' << i.attempt << ')';
                 },
                 [&](const discard_workspace_action& d) {
                   out << "discard_workspace(t" << d.task << '#' << d.attempt << ')';
                 },
                 [&](const integrate_group_action&) { out << "integrate_group"; },
                 [&](const close_tasks_action& c) {
                   out << "close_tasks(";
                   for (std::size_t i = 0; i < c.tasks.size(); ++i) {
                     out << (i == 0 ? "t" : ", t") << c.tasks[i];
                   }
                   for (std::size_t k = 0; k < c.epics.size(); ++k) {
                     out << ", epic " << c.epics[k];
                     if (k < c.epic_slots.size()) {
                       out << " after " << c.epic_slots[k];
                     }
                   }
                   out << ')';
                 },
                 [&](const release_claims_action& r) {
                   out << "release_claims(";
                   for (std::size_t i = 0; i < r.tasks.size(); ++i) {
                     out << (i == 0 ? "t" : ", t") << r.tasks[i];
                   }
                   out << ')';
                 },
                 [&](const task_changed_action& t) { out << "task_changed(t" << t.task << ')'; },
                 [&](const group_changed_action&) { out << "group_changed"; },
                 [&](const finished_action& f) { out << "finished(" << name_of(f.status) << ')'; },
             },
             a);
  return out;
}

}  // namespace maestro::core
