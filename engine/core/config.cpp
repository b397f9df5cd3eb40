#include <maestro/core/config.hpp>

namespace maestro::core {

const keyword_table& default_keyword_table() {
  // The Python coordinator's table, in its order.
  static const keyword_table table{
      {"backend-architect", {"api", "backend", "server", "database"}},
      {"frontend-developer", {"ui", "component", "frontend", "react"}},
      {"test-automator", {"test", "pytest", "coverage"}},
      {"security-auditor", {"security", "auth", "audit"}},
      {"database-architect", {"database", "migration", "schema"}},
  };
  return table;
}

}  // namespace maestro::core
