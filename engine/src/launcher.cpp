#include <maestro/ports/launcher.hpp>

extern char** environ;

namespace maestro {

std::vector<std::string> launcher::inherited_environment() const {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    out.emplace_back(*e);
  }
  return out;
}

}  // namespace maestro
