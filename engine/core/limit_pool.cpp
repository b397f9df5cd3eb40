#include <maestro/core/limit_pool.hpp>

namespace maestro::core {

limit_pool& limit_pools::get(pool_map& pools, std::string_view name) {
  if (const auto it = pools.find(name); it != pools.end()) {
    return it->second;
  }
  return pools.emplace(std::string(name), limit_pool{}).first->second;
}

}  // namespace maestro::core
