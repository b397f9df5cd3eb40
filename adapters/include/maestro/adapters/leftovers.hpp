#pragma once

#include <string_view>
#include <vector>

namespace maestro {

/// The processes of process group `pgid` that were started for task
/// `task_id` of group `group_id`: those whose environment holds
/// `MAESTRO_TASK_ID=<task_id>` and `MAESTRO_GROUP_ID=<group_id>`. The check
/// keeps `resume` from signalling an unrelated process group that reused a
/// recorded pgid. Read from /proc; processes it may not read are left out.
[[nodiscard]] std::vector<int> leftover_processes(int pgid, std::string_view task_id,
                                                  std::string_view group_id);

}  // namespace maestro
