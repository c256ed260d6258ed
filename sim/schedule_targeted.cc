#include "sim/schedule_targeted.h"

#include <algorithm>

#include "engine/assert.h"

namespace walsim::sim {

TargetedPolicy::TargetedPolicy(uint64_t stream_seed, const SchedulerParams& params)
    : prng_(stream_seed), params_(params) {
  WALSIM_ASSERT(params.hold_picks_max >= 1 && params.hold_commits_max >= 1,
                "every hold ends by itself");
}

void TargetedPolicy::on_add(TaskId id, TaskRole role) {
  WALSIM_ASSERT(id == roles_.size(), "slots are added in order");
  roles_.push_back(role);
}

TaskId TargetedPolicy::choose(const std::vector<uint32_t>& weights) {
  unheld_ = weights;
  bool any = false;
  for (auto it = holds_.begin(); it != holds_.end();) {
    if (--it->second.picks_left <= 0) {
      it = holds_.erase(it);
      continue;
    }
    if (it->first < unheld_.size()) unheld_[it->first] = 0;
    ++it;
  }
  for (uint32_t weight : unheld_) any |= weight > 0;
  if (!any) {
    // Only held tasks can run: holding on would stop the world.
    for (TaskId id = 0; id < weights.size(); id++) {
      if (weights[id] > 0) holds_.erase(id);
    }
    return prng_.weighted(weights);
  }
  return prng_.weighted(unheld_);
}

void TargetedPolicy::on_chunk_read(TaskId reader, size_t table,
                                   const std::vector<std::string>& ids) {
  WALSIM_ASSERT(reader < roles_.size() && roles_[reader] == TaskRole::kSnapshotWorker,
                "chunks are read by snapshot workers");
  if (healed_ || ids.empty() || !prng_.percent(params_.hold_percent)) return;
  Hold hold;
  hold.table = table;
  hold.ids = ids;
  std::sort(hold.ids.begin(), hold.ids.end());
  hold.picks_left = params_.hold_picks_max;
  hold.commits_left = static_cast<int>(prng_.range(1, params_.hold_commits_max));
  holds_[reader] = std::move(hold);
}

void TargetedPolicy::on_source_commit(const CommittedKeys& committed) {
  for (auto it = holds_.begin(); it != holds_.end();) {
    Hold& hold = it->second;
    if (hold.waiting_for) {
      ++it;
      continue;
    }
    const bool touches = std::any_of(
        committed.rows.begin(), committed.rows.end(), [&hold](const auto& row) {
          return row.first == hold.table &&
                 std::binary_search(hold.ids.begin(), hold.ids.end(), row.second);
        });
    if (touches) {
      hold.waiting_for = committed.commit_lsn;
    } else if (--hold.commits_left <= 0) {
      it = holds_.erase(it);
      continue;
    }
    ++it;
  }
}

void TargetedPolicy::on_stream_applied(Lsn commit_lsn) {
  for (auto it = holds_.begin(); it != holds_.end();) {
    if (it->second.waiting_for && *it->second.waiting_for <= commit_lsn) {
      windows_reached_++;
      it = holds_.erase(it);
    } else {
      ++it;
    }
  }
}

void TargetedPolicy::on_heal() {
  healed_ = true;
  holds_.clear();
}

}  // namespace walsim::sim
