#include "engine/replicator.h"

#include "engine/snapshotter.h"
#include "engine/streamer.h"

namespace walsim {

Replicator::Replicator(BucketStorage& storage, SourceConnector& source, ReplicatorOptions options)
    : options_(options) {
  snapshotter_ = std::make_unique<Snapshotter>(storage, source, options_, progress_, fatal_error_);
  streamer_ = std::make_unique<Streamer>(storage, source, *snapshotter_, options_, progress_,
                                         fatal_error_);
}

Replicator::~Replicator() = default;

std::vector<Task*> Replicator::tasks() {
  std::vector<Task*> result = {streamer_.get()};
  for (Task* worker : snapshotter_->tasks()) result.push_back(worker);
  WALSIM_ASSERT(result.size() == 1 + static_cast<size_t>(options_.snapshot_workers),
                "one streamer and the configured snapshot workers");
  return result;
}

const Status& Replicator::fatal_error() const { return fatal_error_; }

const ReplicatorProgress& Replicator::progress() const { return progress_; }

}  // namespace walsim
